"""Nearest upsampling followed by a convolution: the statement's `Upsampling`."""

from .conv_base import ConvBase
from .nearest_upsampling import scale_pair


class Upsampling(ConvBase):
    """`Upsampling(in_channels, out_channels, kernel_size=3, scale_factor=2, stride=1, padding='same',
    dilation=1, groups=1, bias=True)` = `NearestUpsampling(scale_factor=scale_factor)` then
    `Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)`, whose
    `weight` (C_out, C_in/G, kh, kw) and `bias` it holds.

    Shapes: x (N, C_in, H, W) -> u (N, C_in, ⌊f·H⌋, ⌊f·W⌋) -> y (N, C_out, Ho, Wo), Ho as `Conv2d`'s of u.
    For ×2 with a 3×3 kernel, padding 1, stride 1, dilation 1 and one group (`fused`), the upsampled image
    is never built: output pixel (2a + r, 2b + s) is a 2×2 convolution of the input around (a, b) with the
    folded kernel W_rs = R_r · W · R_sᵀ (`kernels.sub_pixel`), 4·C_in products per output instead of 9·C_in.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size=3,
        scale_factor=2,
        stride=1,
        padding="same",
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        self.scale_factor = scale_pair(scale_factor)
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
            nearest_scale=self.scale_factor,
        )

    def forward(self, x):
        """u = nearest(x);  Y = cols(u) · W + b as `Conv2d`'s."""
        return self._kernel_forward(x)

    def backward(self, grad_output):
        """dL/du, dL/dW, dL/db as `Conv2d`'s on u; dL/dx[a, b] = Σ dL/du over the f×f pixels copied from
        (a, b)."""
        return self._kernel_backward(grad_output, input_gradient=True)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale_factor={self.scale_factor}"
