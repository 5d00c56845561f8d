"""Nearest upsampling followed by a convolution (the statement's `Upsampling`), with the common case
(×2, 3×3 kernel, padding 1, stride 1) fused into four 2×2 sub-pixel convolutions at low resolution."""

from .conv import Conv2d
from .module import Module
from .nearest_upsampling import NearestUpsampling
from .sub_pixel import NEAREST_3X3_ROWS, SubPixelConv


class Upsampling(Module):
    """`Upsampling(in_channels, out_channels, kernel_size=3, scale_factor=2, stride=1, padding='same',
    dilation=1, groups=1, bias=True)` = `NearestUpsampling(scale_factor=scale_factor)` then
    `Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)`.

    `weight` and `bias` are the convolution's. For ×2 with a 3×3 kernel, padding 1, stride 1, dilation 1
    and one group (`fused`), the upsampled image is never built: output pixel (2a + r, 2b + s) is a 2×2
    convolution of the input around (a, b) with the folded kernel W_rs = R_r · W · R_sᵀ
    (`SubPixelConv` with `NEAREST_3X3_ROWS`), so every output costs 4·C_in instead of 9·C_in products.
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
        super().__init__()
        self.upsample = NearestUpsampling(scale_factor=scale_factor)
        self.conv = Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            device=device,
            dtype=dtype,
        )
        self.fused = (
            self.upsample.scale_factor == (2.0, 2.0)
            and self.conv.kernel_size == (3, 3)
            and self.conv.pads == (1, 1, 1, 1)
            and self.conv.stride == (1, 1)
            and self.conv.dilation == (1, 1)
            and groups == 1
        )
        self._sub_pixel = SubPixelConv(self.conv, NEAREST_3X3_ROWS, True) if self.fused else None

    def _children(self) -> list:
        return [("conv", self.conv)]

    @property
    def weight(self):
        return self.conv.weight

    @weight.setter
    def weight(self, value) -> None:
        self.conv.weight = value

    @property
    def bias(self):
        return self.conv.bias

    @bias.setter
    def bias(self, value) -> None:
        self.conv.bias = value

    def forward(self, x):
        if self._sub_pixel is not None:
            return self._sub_pixel.forward(x)
        return self.conv.forward(self.upsample.forward(x))

    def backward(self, grad_output):
        if self._sub_pixel is not None:
            return self._sub_pixel.backward(grad_output)
        return self.upsample.backward(self.conv.backward(grad_output))
