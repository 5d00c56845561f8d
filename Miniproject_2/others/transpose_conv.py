"""Transposed 2-D convolution, PyTorch's `nn.ConvTranspose2d`: the adjoint of `Conv2d` in its input."""

from .conv_base import ConvBase


class TransposeConv2d(ConvBase):
    """`TransposeConv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1)`, weight (C_in, C_out/G, kh, kw) as in PyTorch.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1.
    Computed (`kernels.select`) by four 2×2 sub-pixel convolutions for kernel 4, stride 2, padding 1
    (`SubPixelConv`); by one matmul and a depth-to-space copy when the kernel equals the stride
    (`DepthToSpace`); by col2im otherwise (`Col2imTransposed`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            device,
            dtype,
            transposed=True,
            output_padding=output_padding,
        )

    def forward(self, x):
        """y = crop_p(col2im(Xg · Wg)) + b: every input pixel of group g, Xg (N·H·W, C_in/G), times the
        group's weight (C_in/G, kh·kw·C_out/G) gives the kh×kw taps it adds into the output."""
        return self._kernel_forward(x)

    def backward(self, grad_output):
        """With cols = im2col(uncrop_p(dY)) (N·H·W, kh·kw·C_out/G) per group: dL/dx = cols · Wgᵀ,
        dL/dWg = Xgᵀ · cols, dL/db = Σ_{n,y,x} dY."""
        return self._kernel_backward(grad_output, input_gradient=True)
