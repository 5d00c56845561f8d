"""A transposed convolution as the adjoint of im2col: one matmul per group, then col2im."""

from .im2col import col2im, im2col
from .kernel import Kernel
from .layout import nchw, nhwc
from .matmul import transposed_matmul


def transposed_weight_matrix(weight, groups: int):
    """weight (C_in, C_out/G, kh, kw) -> (G, C_in/G, kh·kw·C_out/G), columns ordered (i, j, o) like im2col."""
    c, _, kh, kw = weight.shape
    return (
        weight.view(groups, c // groups, -1, kh, kw).permute(0, 1, 3, 4, 2).reshape(groups, c // groups, -1)
    )


def transposed_weight_gradient(grad_weights, groups: int, kernel_size: tuple):
    """(G, C_in/G, kh·kw·C_out/G) column-space gradient -> the weight's shape (C_in, C_out/G, kh, kw)."""
    (kh, kw), c_in_g = kernel_size, grad_weights.shape[1]
    grouped = grad_weights.view(groups, c_in_g, kh, kw, -1).permute(0, 1, 4, 2, 3)
    return grouped.reshape(groups * c_in_g, -1, kh, kw)


class Col2imTransposed(Kernel):
    """y = crop_p(col2im(Xg · Wg)) + b, Xg the (N·H·W, C_in/G) pixels of group g;
    with cols = im2col(uncrop_p(dY)): dL/dx = cols · Wgᵀ, dL/dWg = Xgᵀ · cols, dL/db = Σ dY."""

    def forward(self, x, weight, bias):
        geometry = self.geometry
        n, c, h, w = x.shape
        ho, wo = geometry.checked_output_size(h, w)
        g = geometry.groups
        self._pixels = nhwc(x).reshape(n * h * w, g, c // g).permute(1, 0, 2)
        self._weights = transposed_weight_matrix(weight, g)
        self._has_bias = bias is not None
        self._input_hw, self._output_hw = (h, w), (ho, wo)
        out = x.new_zeros((n, ho, wo, geometry.out_channels))
        col2im(
            self._pixels.bmm(self._weights),
            out,
            geometry.kernel_size,
            geometry.stride,
            geometry.dilation,
            geometry.padding,
            (h, w),
            False,
            self.plans,
        )
        if bias is not None:
            out += bias
        return nchw(out)

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        geometry = self.geometry
        cols = self._grad_columns(grad_output)
        grad_weight = transposed_weight_gradient(
            transposed_matmul(self._pixels, cols), geometry.groups, geometry.kernel_size
        )
        grad_bias = nhwc(grad_output).sum((0, 1, 2)) if self._has_bias else None
        if not input_gradient:
            return None, grad_weight, grad_bias
        n, (h, w) = grad_output.shape[0], self._input_hw
        grad_input = cols.bmm(self._weights.transpose(1, 2)).permute(1, 0, 2).reshape(n, h, w, -1)
        return nchw(grad_input), grad_weight, grad_bias

    def _grad_columns(self, grad_output):
        """im2col of dY put back at offset (p_h, p_w) of its uncropped extent: (G, N·H·W, kh·kw·C_out/G)."""
        geometry = self.geometry
        (h, w), (ho, wo), (ph, pw) = self._input_hw, self._output_hw, geometry.padding
        n, (kh, kw), g, o = grad_output.shape[0], geometry.kernel_size, geometry.groups, geometry.out_channels
        uncropped = self.workspace.get("uncropped_grad", (n, *self._uncropped_size(h, w), o), grad_output)
        uncropped[:, ph : ph + ho, pw : pw + wo].copy_(nhwc(grad_output))
        cols = self.workspace.get("cols", (g, n * h * w, kh * kw * o // g), grad_output)
        return im2col(
            uncropped, g, geometry.kernel_size, geometry.stride, geometry.dilation, (h, w), False, cols
        )

    def _uncropped_size(self, height: int, width: int) -> tuple:
        """Rows and columns of dY before the padding crop, as backward's im2col reads them (output_padding
        may reach past the last tap when it exceeds the padding)."""
        geometry, sizes = self.geometry, []
        axes = zip(
            (height, width),
            geometry.stride,
            geometry.padding,
            geometry.dilation,
            geometry.kernel_size,
            geometry.output_padding,
            strict=True,
        )
        for size, s, p, d, k, op in axes:
            sizes.append((size - 1) * s + d * (k - 1) + 1 + max(0, op - p))
        return tuple(sizes)
