"""Nearest upsampling followed by a convolution (the statement's `Upsampling`), with the common case
(×2, 3×3 kernel, padding 1, stride 1) fused into four 2×2 sub-pixel convolutions at low resolution."""

from .conv import Conv2d
from .im2col import col2im, nchw, nhwc, padded
from .module import Module
from .nearest_upsampling import NearestUpsampling

# Row (r, i) of a sub-pixel tap in terms of the 3 rows of the 3×3 kernel: output row 2a + r of the
# upsampled-then-convolved image reads input rows (a − 1 + r + i) for i ∈ {0, 1} with these weights.
_SUB_PIXEL_TAPS = ((1, 0, 0), (0, 1, 1), (1, 1, 0), (0, 0, 1))


class Upsampling(Module):
    """`Upsampling(in_channels, out_channels, kernel_size=3, scale_factor=2, stride=1, padding='same',
    dilation=1, groups=1, bias=True)` = `NearestUpsampling(scale_factor=scale_factor)` then
    `Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)`.

    `weight` and `bias` are the convolution's. For ×2 with a 3×3 kernel, padding 1, stride 1, dilation 1
    and one group the composition is computed without materialising the upsampled image: output pixel
    (2a + r, 2b + c) is a 2×2 convolution of the padded input at offset (r, c) with the kernel
    W_rc = R_r · W · R_cᵀ (R folds the three kernel rows onto two input rows, `_SUB_PIXEL_TAPS`), so
    Y_rc = cols_rc · W_rc + b (4·C_in instead of 9·C_in products per output, ¼ of the pixels) and
    dL/dW = Σ_rc R_rᵀ · (cols_rcᵀ · dY_rc) · R_c.
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

    def _sub_pixel_weights(self):
        """W (O, C, 3, 3) -> (4 sub-pixels (r, c), 2·2·C taps (i, j, ch), O)."""
        weight = self.conv.weight
        taps = weight.new_tensor(_SUB_PIXEL_TAPS)
        folded = taps.matmul(weight).matmul(taps.t())
        o, c = weight.shape[:2]
        return folded.view(o, c, 2, 2, 2, 2).permute(2, 4, 3, 5, 1, 0).reshape(4, 4 * c, o)

    def forward(self, x):
        if not self.fused:
            return self.conv.forward(self.upsample.forward(x))
        n, c, h, w = x.shape
        buffer = padded(nhwc(x), 1, 1, 1, 1)
        wb = w + 2
        # (r, c, n, y, x, i, j, ch): window of sub-pixel (r, c) at (y, x) starts at padded (y + r, x + c).
        self._cols = buffer.as_strided(
            (2, 2, n, h, w, 2, 2, c),
            (wb * c, c, (h + 2) * wb * c, wb * c, c, wb * c, c, 1),
            buffer.storage_offset(),
        ).reshape(4, n * h * w, 4 * c)
        self._weights = self._sub_pixel_weights()
        out = self._cols.bmm(self._weights)
        if self.conv.bias is not None:
            out += self.conv.bias
        o = out.shape[-1]
        return nchw(out.view(2, 2, n, h, w, o).permute(2, 3, 0, 4, 1, 5).reshape(n, 2 * h, 2 * w, o))

    def backward(self, grad_output):
        if not self.fused:
            return self.upsample.backward(self.conv.backward(grad_output))
        n, o, ho, wo = grad_output.shape
        h, w = ho // 2, wo // 2
        c = self.conv.in_channels
        grad = nhwc(grad_output).reshape(n, h, 2, w, 2, o).permute(2, 4, 0, 1, 3, 5).reshape(4, n * h * w, o)
        grad_folded = self._cols.transpose(1, 2).bmm(grad)
        taps = grad.new_tensor(_SUB_PIXEL_TAPS)
        grad_folded = grad_folded.view(2, 2, 2, 2, c, o).permute(5, 4, 0, 2, 1, 3).reshape(o, c, 4, 4)
        self.conv._accumulate("weight", taps.t().matmul(grad_folded).matmul(taps))
        if self.conv.bias is not None:
            self.conv._accumulate("bias", grad.sum((0, 1)))
        grad_cols = grad.bmm(self._weights.transpose(1, 2)).view(2, 2, n, h, w, 2, 2, c)
        grad_input = grad.new_zeros((n, h + 2, w + 2, c))
        for r in range(2):
            for s in range(2):
                col2im(
                    grad_cols[r, s].reshape(1, n * h * w, 4 * c),
                    grad_input[:, r : r + h + 1, s : s + w + 1],
                    (2, 2),
                    (1, 1),
                    (1, 1),
                    (h, w),
                )
        return nchw(grad_input[:, 1 : h + 1, 1 : w + 1])
