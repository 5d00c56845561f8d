"""A ×2 upsampling layer computed at low resolution, as four 2×2 sub-pixel convolutions.

Both upsampling layers of the course's topology have this form when their geometry allows it:

- `Upsampling` ×2 then a 3×3 convolution, padding 1: output row 2a + r reads input rows a − 1 + r + i
  (i ∈ {0, 1}) through combinations of the three kernel rows (`NEAREST_3X3_ROWS`);
- `TransposeConv2d` with kernel 4, stride 2, padding 1: output row 2a + r reads input rows a − 1 + r + i
  through one kernel row each (`TRANSPOSED_4X4_ROWS`).

With R the (4 (r, i), k) row matrix of either case, the sixteen sub-pixel kernels are
W_rs,ij = Σ_kl R[(r, i), k] · R[(s, j), l] · W_kl: one (R ⊗ R)·W matmul, whose transpose maps their
gradients back to dL/dW. Every output pixel then costs 4·C_in products.
"""

from .chunking import chunk_images, image_chunks
from .geometry import ConvGeometry
from .im2col import col2im
from .kernel import Kernel
from .layout import nchw, nhwc
from .matmul import transposed_matmul, unaliased_row_length

NEAREST_3X3_ROWS = ((1, 0, 0), (0, 1, 1), (1, 1, 0), (0, 0, 1))
"""R for nearest ×2 then a 3×3 convolution, padding 1: (r, i) rows, kernel rows k."""

TRANSPOSED_4X4_ROWS = ((0, 0, 0, 1), (0, 1, 0, 0), (0, 0, 1, 0), (1, 0, 0, 0))
"""R for a transposed convolution, kernel 4, stride 2, padding 1: output row 2a + r receives input row
a − 1 + r + i through kernel row k = 3 − r − 2i (2a + r = 2·(a − 1 + r + i) − 1 + k)."""


def _shifted(size: int, shift: int) -> tuple:
    """(target, source) slices pairing low-resolution position y with y + shift, both inside [0, size)."""
    return slice(max(0, -shift), size - max(0, shift)), slice(max(0, shift), size + min(0, shift))


class SubPixelConv(Kernel):
    """A ×2 upsampling layer of `geometry` computed from its sub-pixel kernels W_rs (`rows` is R;
    `weight_is_out_in`: the weight is (C_out, C_in, k, k) as `Upsampling`'s, else (C_in, C_out, k, k) as
    `TransposeConv2d`'s).

    With X the (N·H·W, C_in) input pixels and dY_rs the gradient of sub-pixel (r, s):

    - C_out ≥ C_in, gather form: Y_rs = cols_rs · W_rs + b, cols_rs the 2×2 im2col (4·C_in wide);
      dL/dW_rs = cols_rsᵀ · dY_rs, dL/dx = col2im(dY_rs · W_rsᵀ).
    - C_out < C_in, scatter form (the narrower matrix is the one materialised): P = X · [W_rs,ij], then
      Y_rs = Σ_ij shift_ij(P_rs,ij) + b;  with G = shift⁻¹(dY) (16·C_out wide),
      dL/dx = G · [W_rs,ij]ᵀ, dL/d[W_rs,ij] = Xᵀ · G.

    Either way dL/dW = (R ⊗ R)ᵀ · dL/d[W_rs,ij]. Shapes: x (N, C_in, H, W) -> y (N, C_out, 2H, 2W).
    """

    def __init__(self, geometry: ConvGeometry, rows: tuple, weight_is_out_in: bool) -> None:
        super().__init__(geometry)
        self.kernel_length = len(rows[0])
        self.fold = tuple(
            tuple(row[k] * column[m] for k in range(self.kernel_length) for m in range(self.kernel_length))
            for row in rows
            for column in rows
        )
        # The weight's axes into (k, l, C_in, C_out), and back.
        self._to_taps = (2, 3, 1, 0) if weight_is_out_in else (2, 3, 0, 1)
        self._from_taps = (3, 2, 0, 1) if weight_is_out_in else (2, 3, 0, 1)
        self.scatter = geometry.out_channels < geometry.in_channels
        self._fold_matrices: dict = {}

    def _fold_matrix(self, like):
        """R ⊗ R (16 (r, i, s, j), k·k) in `like`'s dtype and device, built once per dtype and device."""
        key = (like.dtype, like.device)
        if key not in self._fold_matrices:
            self._fold_matrices[key] = like.new_tensor(self.fold)
        return self._fold_matrices[key]

    def _folded_taps(self, weight):
        """W -> every W_rs,ij as (16 (r, i, s, j), C_in, C_out): one k·k-deep matmul."""
        c, o = self.geometry.in_channels, self.geometry.out_channels
        flat = weight.permute(self._to_taps).reshape(self.kernel_length**2, c * o)
        return self._fold_matrix(flat).matmul(flat).view(16, c, o)

    def _weight_gradient(self, grad_folded):
        """dL/dW_rs,ij as (16 (r, i, s, j), C_in·C_out) -> dL/dW = (R ⊗ R)ᵀ · that, in the weight's shape."""
        c, o = self.geometry.in_channels, self.geometry.out_channels
        grad = self._fold_matrix(grad_folded).t().matmul(grad_folded)
        return grad.view(self.kernel_length, self.kernel_length, c, o).permute(self._from_taps)

    def forward(self, x, weight, bias):
        self._folded = self._folded_taps(weight)
        self._bias = bias
        n, _, h, w = x.shape
        o = self.geometry.out_channels
        if self.scatter:
            return nchw(self._scatter_forward(x).reshape(n, 2 * h, 2 * w, o))
        out = x.new_empty((n, h, 2, w, 2, o))
        if bias is None:
            out.zero_()
        else:
            out.copy_(bias.expand(out.shape))
        self._gather_forward(x, out)
        return nchw(out.view(n, 2 * h, 2 * w, o))

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        n, o, ho, wo = grad_output.shape
        grad = nhwc(grad_output).reshape(n, ho // 2, 2, wo // 2, 2, o)
        grad_bias = None if self._bias is None else grad.sum((0, 1, 2, 3, 4))
        grad_input, grad_weight = (
            self._scatter_backward(grad) if self.scatter else self._gather_backward(grad)
        )
        return (nchw(grad_input) if input_gradient else None), grad_weight, grad_bias

    def _gather_forward(self, x, out) -> None:
        n, c, h, w = x.shape
        padded = self.workspace.get("padded_input", (n, h + 2, w + 2, c), x)
        padded[:, 1 : h + 1, 1 : w + 1].copy_(nhwc(x))
        self._cols = self.workspace.get("cols", (2, 2, n, h, w, 2, 2, c), x)
        for r in range(2):
            for s in range(2):
                window = padded[:, r : r + h + 1, s : s + w + 1]
                self._cols[r, s].copy_(
                    window.as_strided((n, h, w, 2, 2, c), (*window.stride()[:3], *window.stride()[1:]))
                )
        self._cols = self._cols.view(4, n * h * w, 4 * c)
        # W_rs as (4 sub-pixels (r, s), 4·C taps (i, j, c), O), rows ordered like the columns.
        self._kernels = self._folded.view(2, 2, 2, 2, c, -1).permute(0, 2, 1, 3, 4, 5).reshape(4, 4 * c, -1)
        sub_pixel_outputs = self._cols.bmm(self._kernels).view(2, 2, n, h, w, -1)
        out += sub_pixel_outputs.permute(2, 3, 0, 4, 1, 5)

    def _gather_backward(self, grad):
        n, h, _, w, _, o = grad.shape
        c = self.geometry.in_channels
        grad_sub_pixel = self.workspace.get("grad_output", (2, 2, n, h, w, o), grad)
        grad_sub_pixel.copy_(grad.permute(2, 4, 0, 1, 3, 5))
        grad_sub_pixel = grad_sub_pixel.view(4, n * h * w, o)
        grad_weights = transposed_matmul(self._cols, grad_sub_pixel).view(2, 2, 2, 2, c, o)
        grad_weight = self._weight_gradient(grad_weights.permute(0, 2, 1, 3, 4, 5).reshape(16, c * o))
        grad_cols = grad_sub_pixel.bmm(self._kernels.transpose(1, 2))
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
                    self.plans,
                )
        return grad_input, grad_weight

    def _scatter_forward(self, x):
        """Products P = X · [W_rs,ij] at every input pixel, then sub-pixel (r, s) of output (y, x) sums
        tap (i, j) of input pixel (y + r + i − 1, x + s + j − 1) where it exists: one strided copy (the
        unshifted taps) and eight strided adds (`_scatter_views`). P and the output are stored
        channel-major when C_out is shorter than an image row, pixel-major otherwise, so the adds run
        along the longer contiguous axis. P is computed and summed a few images
        at a time (`chunking`), so that it is still in cache when the adds read it.
        Returns the output (N, H, 2, W, 2, O)."""
        n, c, h, w = x.shape
        o = self.geometry.out_channels
        self._channel_major = o < w
        self._pixels = nhwc(x).reshape(n * h * w, c)
        self._taps = taps = self._folded.permute(1, 0, 2).reshape(c, 16 * o)
        if self._channel_major:
            out = x.new_empty((o, n, h, 2, w, 2)).permute(1, 2, 3, 4, 5, 0)
        else:
            out = x.new_empty((n, h, 2, w, 2, o))
        self._chunk_images = chunk_images(n, h * w * 16 * o)
        for start, stop in image_chunks(n, self._chunk_images):
            pixels = self._pixels[start * h * w : stop * h * w]
            matrix, products = self._tap_matrix("products", stop - start, h, w, x)
            if self._channel_major:
                matrix.addmm_(taps.t(), pixels.t(), beta=0)
            else:
                matrix.addmm_(pixels, taps, beta=0)
            chunk = out[start:stop]
            (whole, centre), *shifted = self.plans.pairs("scatter", chunk, products, self._scatter_views)
            whole.copy_(centre)
            if self._bias is not None:
                chunk += self._bias
            for target, source in shifted:
                target.add_(source)
        return out

    def _tap_matrix(self, name: str, n: int, h: int, w: int, like) -> tuple:
        """A (16·O, n·h·w) channel-major or (n·h·w, 16·O) pixel-major workspace for n images, and its
        view indexed [r, s, i, j, image, y, x, o]. A shorter last chunk uses a prefix of the full one; the
        channel-major rows are `unaliased_row_length` apart."""
        o = self.geometry.out_channels
        if self._channel_major:
            full = self.workspace.get(name, (16 * o, unaliased_row_length(self._chunk_images * h * w)), like)
            matrix = full[:, : n * h * w]
            view = matrix.view(2, 2, 2, 2, o, n, h, w).permute(0, 2, 1, 3, 5, 6, 7, 4)
        else:
            full = self.workspace.get(name, (self._chunk_images * h * w, 16 * o), like)
            matrix = full[: n * h * w]
            view = matrix.view(n, h, w, 2, 2, 2, 2, o).permute(3, 5, 4, 6, 0, 1, 2, 7)
        return matrix, view

    @staticmethod
    def _scatter_views(out, products) -> list:
        """(target, source) views pairing low-resolution output (y, x) with the input pixel (y + dy, x + dx)
        it reads, one pair per shift (dy, dx), the shift (0, 0) first. The taps of one shift are those
        with r + i − 1 = dy and s + j − 1 = dx: i = dy + 1 − r moves against r, so the taps of the two
        sub-pixels r (when dy = 0) lie along one strided axis of P (the same for s and j). The nine pairs
        are the sixteen taps: (0, 0) holds one tap of every sub-pixel and covers the whole output."""
        h, w = out.shape[1], out.shape[3]
        stride = products.stride()  # [r, s, i, j, image, y, x, o]
        pairs = []
        for dy, dx in sorted(((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)), key=lambda d: d != (0, 0)):
            (rows, source_rows), (columns, source_columns) = _shifted(h, dy), _shifted(w, dx)
            r, s = max(0, dy), max(0, dx)
            target = out[:, rows, r : r + 2 - abs(dy), columns, s : s + 2 - abs(dx)]
            offset = (
                r * stride[0]
                + s * stride[1]
                + (dy + 1 - r) * stride[2]
                + (dx + 1 - s) * stride[3]
                + source_rows.start * stride[5]
                + source_columns.start * stride[6]
            )
            source = products.as_strided(
                target.shape,
                (stride[4], stride[5], stride[0] - stride[2], stride[6], stride[1] - stride[3], stride[7]),
                products.storage_offset() + offset,
            )
            pairs.append((target, source))
        return pairs

    def _gather_views(self, gathered, grad) -> list:
        return [(source, target) for target, source in self._scatter_views(grad, gathered)]

    def _scatter_backward(self, grad):
        """The adjoint: G holds, at input pixel p and tap (r, s, i, j), the gradient of the output that
        read p through that tap (zero where none did); dL/dx = G · [W_rs,ij]ᵀ, dL/d[W_rs,ij] = Xᵀ · G,
        both a few images at a time as in the forward."""
        n, h, _, w, _, o = grad.shape
        c = self.geometry.in_channels
        grad_input = grad.new_empty((n * h * w, c))
        grad_taps = grad.new_empty((c, 16 * o))
        for start, stop in image_chunks(n, self._chunk_images):
            matrix, gathered = self._tap_matrix("gathered_grad", stop - start, h, w, grad)
            for target, source in self.plans.pairs(
                "gather grad", gathered, grad[start:stop], self._gather_views
            ):
                target.copy_(source)
            if self._channel_major:
                matrix = matrix.t()
            pixels = self._pixels[start * h * w : stop * h * w]
            grad_taps.addmm_(pixels.t(), matrix, beta=0 if start == 0 else 1)
            grad_input[start * h * w : stop * h * w].addmm_(matrix, self._taps.t(), beta=0)
        grad_weight = self._weight_gradient(grad_taps.view(c, 16, o).permute(1, 0, 2).reshape(16, c * o))
        return grad_input.view(n, h, w, c), grad_weight
