"""Nearest upsampling followed by a convolution (the statement's `Upsampling`), with the common case
(×2, 3×3 kernel, padding 1, stride 1) fused into four 2×2 sub-pixel convolutions at low resolution."""

from .conv import Conv2d
from .im2col import col2im, nchw, nhwc
from .matmul import transposed_matmul
from .module import Module
from .nearest_upsampling import NearestUpsampling
from .strided_plan import strided_pairs

_SUB_PIXEL_TAPS = ((1, 0, 0), (0, 1, 1), (1, 1, 0), (0, 0, 1))
"""R, rows (r, i): output row 2a + r of the upsampled-then-convolved image reads input row a − 1 + r + i
(i ∈ {0, 1}) through these combinations of the three kernel rows."""

_FOLD = tuple(
    tuple(rows[k] * columns[m] for k in range(3) for m in range(3))
    for rows in _SUB_PIXEL_TAPS
    for columns in _SUB_PIXEL_TAPS
)
"""R ⊗ R (16, 9): the sub-pixel kernels W_rs,ij = Σ_kl R[(r, i), k] · R[(s, j), l] · W_kl, rows ordered
(r, i, s, j), columns (k, l)."""


def _shifted(size: int, shift: int) -> tuple:
    """(target, source) slices pairing low-resolution position y with y + shift, both inside [0, size)."""
    return slice(max(0, -shift), size - max(0, shift)), slice(max(0, shift), size + min(0, shift))


class Upsampling(Module):
    """`Upsampling(in_channels, out_channels, kernel_size=3, scale_factor=2, stride=1, padding='same',
    dilation=1, groups=1, bias=True)` = `NearestUpsampling(scale_factor=scale_factor)` then
    `Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)`.

    `weight` and `bias` are the convolution's. For ×2 with a 3×3 kernel, padding 1, stride 1, dilation 1
    and one group (`fused`), the upsampled image is never built: output pixel (2a + r, 2b + s) is a 2×2
    convolution of the input around (a, b) with the folded kernel W_rs = R_r · W · R_sᵀ (`_FOLD`), so
    every output costs 4·C_in instead of 9·C_in products. With X the (N·H·W, C_in) input pixels and
    dY_rs the gradient of sub-pixel (r, s):

    - C_out ≥ C_in, gather form: Y_rs = cols_rs · W_rs + b, cols_rs the 2×2 im2col (4·C_in wide);
      dL/dW_rs = cols_rsᵀ · dY_rs, dL/dx = col2im(dY_rs · W_rsᵀ).
    - C_out < C_in, scatter form (the narrower matrix is the one materialised): P = X · [W_rs,ij], then
      Y_rs = Σ_ij shift_ij(P_rs,ij) + b;  with G = shift⁻¹(dY) (16·C_out wide),
      dL/dx = G · [W_rs,ij]ᵀ, dL/d[W_rs,ij] = Xᵀ · G.

    Either way dL/dW = Σ R_rᵀ · dL/dW_rs · R_s.
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
        self._fold_matrices: dict = {}
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
        self.scatter = out_channels < in_channels

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

    def _fold_matrix(self, like):
        """`_FOLD` in `like`'s dtype and device, built once per dtype and device."""
        key = (like.dtype, like.device)
        if key not in self._fold_matrices:
            self._fold_matrices[key] = like.new_tensor(_FOLD)
        return self._fold_matrices[key]

    def _folded_taps(self):
        """W (O, C, 3, 3) -> every W_rs,ij as (16 (r, i, s, j), C, O): one 9-deep matmul."""
        o, c = self.conv.weight.shape[:2]
        flat = self.conv.weight.permute(2, 3, 1, 0).reshape(9, c * o)
        return self._fold_matrix(flat).matmul(flat).view(16, c, o)

    def _accumulate_folded_gradient(self, grad_folded) -> None:
        """dL/dW_rs,ij as (16 (r, i, s, j), C·O) -> dL/dW = (R ⊗ R)ᵀ · that, accumulated into the conv."""
        o, c = self.conv.weight.shape[:2]
        grad = self._fold_matrix(grad_folded).t().matmul(grad_folded)
        self.conv._accumulate("weight", grad.view(3, 3, c, o).permute(3, 2, 0, 1))

    def forward(self, x):
        if not self.fused:
            return self.conv.forward(self.upsample.forward(x))
        self._folded = self._folded_taps()
        n, _, h, w = x.shape
        o = self.conv.out_channels
        if self.scatter:
            return nchw(self._scatter_forward(x).reshape(n, 2 * h, 2 * w, o))
        out = x.new_empty((n, h, 2, w, 2, o))
        if self.conv.bias is None:
            out.zero_()
        else:
            out.copy_(self.conv.bias.expand(out.shape))
        self._gather_forward(x, out)
        return nchw(out.view(n, 2 * h, 2 * w, o))

    def backward(self, grad_output):
        if not self.fused:
            return self.upsample.backward(self.conv.backward(grad_output))
        n, o, ho, wo = grad_output.shape
        grad = nhwc(grad_output).reshape(n, ho // 2, 2, wo // 2, 2, o)
        if self.conv.bias is not None:
            self.conv._accumulate("bias", grad.sum((0, 1, 2, 3, 4)))
        return nchw(self._scatter_backward(grad) if self.scatter else self._gather_backward(grad))

    def _gather_forward(self, x, out) -> None:
        n, c, h, w = x.shape
        padded = self._workspace("padded_input", (n, h + 2, w + 2, c), x)
        padded[:, 1 : h + 1, 1 : w + 1].copy_(nhwc(x))
        self._cols = self._workspace("cols", (2, 2, n, h, w, 2, 2, c), x)
        for r in range(2):
            for s in range(2):
                window = padded[:, r : r + h + 1, s : s + w + 1]
                self._cols[r, s].copy_(
                    window.as_strided((n, h, w, 2, 2, c), (*window.stride()[:3], *window.stride()[1:]))
                )
        self._cols = self._cols.view(4, n * h * w, 4 * c)
        # W_rs as (4 sub-pixels (r, s), 4·C taps (i, j, c), O), rows ordered like the columns.
        self._sub_pixel = self._folded.view(2, 2, 2, 2, c, -1).permute(0, 2, 1, 3, 4, 5).reshape(4, 4 * c, -1)
        sub_pixel_outputs = self._cols.bmm(self._sub_pixel).view(2, 2, n, h, w, -1)
        out += sub_pixel_outputs.permute(2, 3, 0, 4, 1, 5)

    def _gather_backward(self, grad):
        n, h, _, w, _, o = grad.shape
        c = self.conv.in_channels
        grad_sub_pixel = self._workspace("grad_output", (2, 2, n, h, w, o), grad)
        grad_sub_pixel.copy_(grad.permute(2, 4, 0, 1, 3, 5))
        grad_sub_pixel = grad_sub_pixel.view(4, n * h * w, o)
        grad_weights = transposed_matmul(self._cols, grad_sub_pixel).view(2, 2, 2, 2, c, o)
        self._accumulate_folded_gradient(grad_weights.permute(0, 2, 1, 3, 4, 5).reshape(16, c * o))
        grad_cols = grad_sub_pixel.bmm(self._sub_pixel.transpose(1, 2))
        grad_input = grad.new_zeros((n, h, w, c))
        for r in range(2):
            for s in range(2):
                col2im(
                    grad_cols[2 * r + s].unsqueeze(0),
                    grad_input,
                    (2, 2),
                    (1, 1),
                    (1, 1),
                    (1 - r, 1 - s),
                    (h, w),
                    False,
                    self._plans,
                )
        return grad_input

    def _scatter_forward(self, x):
        """Products P = X · [W_rs,ij] at every input pixel, then sub-pixel (r, s) of output (y, x) sums
        tap (i, j) of input pixel (y + r + i − 1, x + s + j − 1) where it exists. P and the output are
        stored channel-major when C_out is shorter than an image row, pixel-major otherwise, so each of
        the 16 strided adds runs along the longer contiguous axis. Returns the output (N, H, 2, W, 2, O)."""
        n, c, h, w = x.shape
        o = self.conv.out_channels
        self._channel_major = o < w
        self._pixels = nhwc(x).reshape(n * h * w, c)
        self._taps = taps = self._folded.permute(1, 0, 2).reshape(c, 16 * o)
        if self._channel_major:
            products = self._workspace("products", (16 * o, n * h * w), x).addmm_(
                taps.t(), self._pixels.t(), beta=0
            )
            products = products.view(2, 2, 2, 2, o, n, h, w).permute(0, 2, 1, 3, 5, 6, 7, 4)
            out = x.new_empty((o, n, h, 2, w, 2)).permute(1, 2, 3, 4, 5, 0)
        else:
            products = self._workspace("products", (n * h * w, 16 * o), x).addmm_(self._pixels, taps, beta=0)
            products = products.view(n, h, w, 2, 2, 2, 2, o).permute(3, 5, 4, 6, 0, 1, 2, 7)
            out = x.new_empty((n, h, 2, w, 2, o))
        if self.conv.bias is None:
            out.zero_()
        else:
            out.copy_(self.conv.bias.expand(out.shape))
        for target, source in strided_pairs(self._plans, "scatter", out, products, self._scatter_views):
            target.add_(source)
        return out

    def _scatter_views(self, out, products) -> list:
        h, w = out.shape[1], out.shape[3]
        return [
            (out[:, rows, r, columns, s], products[r, s, i, j, :, source_rows, source_columns])
            for (r, s, i, j), (rows, columns), (source_rows, source_columns) in self._tap_shifts(h, w)
        ]

    @staticmethod
    def _tap_shifts(h: int, w: int) -> list:
        """((r, s, i, j), target slices, source slices) pairing low-resolution output (y, x) with the input
        pixel (y + r + i − 1, x + s + j − 1) it reads, both inside the image."""
        shifts = []
        for r in range(2):
            for s in range(2):
                for i in range(2):
                    for j in range(2):
                        (rows, source_rows), (columns, source_columns) = (
                            _shifted(h, r + i - 1),
                            _shifted(w, s + j - 1),
                        )
                        shifts.append(((r, s, i, j), (rows, columns), (source_rows, source_columns)))
        return shifts

    def _gather_views(self, gathered, grad) -> list:
        return [(source, target) for target, source in self._scatter_views(grad, gathered)]

    def _scatter_backward(self, grad):
        """The adjoint: G holds, at input pixel p and tap (r, s, i, j), the gradient of the output that
        read p through that tap (zero where none did); dL/dx = G · [W_rs,ij]ᵀ, dL/d[W_rs,ij] = Xᵀ · G."""
        n, h, _, w, _, o = grad.shape
        c = self.conv.in_channels
        if self._channel_major:
            matrix = self._workspace("gathered_grad", (16 * o, n * h * w), grad)
            gathered = matrix.view(2, 2, 2, 2, o, n, h, w).permute(0, 2, 1, 3, 5, 6, 7, 4)
            matrix = matrix.t()
        else:
            matrix = self._workspace("gathered_grad", (n * h * w, 16 * o), grad)
            gathered = matrix.view(n, h, w, 2, 2, 2, 2, o).permute(3, 5, 4, 6, 0, 1, 2, 7)
        for target, source in strided_pairs(self._plans, "gather grad", gathered, grad, self._gather_views):
            target.copy_(source)
        grad_taps = transposed_matmul(self._pixels, matrix)
        self._accumulate_folded_gradient(grad_taps.view(c, 16, o).permute(1, 0, 2).reshape(16, c * o))
        return matrix.matmul(self._taps.t()).view(n, h, w, c)
