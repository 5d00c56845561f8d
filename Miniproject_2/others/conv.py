"""2-D convolution (cross-correlation), PyTorch's `nn.Conv2d`."""

from .conv_base import ConvBase


class Conv2d(ConvBase):
    """`Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True)`; padding is an int, a pair, 'valid' or 'same' (stride 1). Weight (C_out, C_in/G, kh, kw).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = ⌊(H + p_top + p_bottom − d·(k − 1) − 1)/s⌋ + 1.
    Computed by `kernels.conv.Im2colConv`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, device, dtype
        )

    def forward(self, x):
        """Y = cols · Wg + b per group g, cols = im2col(pad(x)) of shape (N·Ho·Wo, kh·kw·C_in/G) and Wg
        the group's weight as a (kh·kw·C_in/G, C_out/G) matrix."""
        return self._kernel_forward(x)

    def backward(self, grad_output):
        """dL/dWg = colsᵀ · dY;  dL/db = Σ_{n,y,x} dY;  dL/dx = col2im(dY · Wgᵀ) (the padding clipped),
        dY as (N·Ho·Wo, C_out/G) per group."""
        return self._kernel_backward(grad_output, input_gradient=True)
