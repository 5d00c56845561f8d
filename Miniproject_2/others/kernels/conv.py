"""A convolution as im2col and one matmul per group, its backward as matmuls and col2im."""

from .chunking import GEMM_CHUNK_NUMBERS, chunk_images, image_chunks
from .im2col import col2im, im2col
from .kernel import Kernel
from .layout import nchw, nhwc
from .matmul import transposed_matmul


class Im2colConv(Kernel):
    """Y = cols · Wg + b per group g, cols = im2col(pad(x)) (G, N·Ho·Wo, kh·kw·C_in/G);
    dL/dWg = colsᵀ · dY, dL/db = Σ dY, dL/dx = col2im(dY · Wgᵀ), a few images at a time
    (`chunking`), and so is Y with one group.

    Inputs of at most `pytorch_order_max_numel` numbers (PyTorch's own threshold for its reference
    kernel) order the columns as PyTorch does and multiply in its orientation (`_pytorch_order_output`),
    so small float32 results agree with `F.conv2d` to rounding; larger ones use the faster channels-last
    order.
    """

    pytorch_order_max_numel = 20480

    def forward(self, x, weight, bias):
        geometry = self.geometry
        n, c, h, w = x.shape
        ho, wo = geometry.checked_output_size(h, w)
        g, (kh, kw) = geometry.groups, geometry.kernel_size
        self._channel_major = x.numel() <= self.pytorch_order_max_numel
        self._cols = self.workspace.get("cols", (g, n * ho * wo, kh * kw * c // g), x)
        self._weights = self._weight_matrix(weight)
        self._weight_shape, self._has_bias = weight.shape, bias is not None
        self._input_hw, self._output_hw = (h, w), (ho, wo)
        padded = self._padded_input(x)
        if g == 1 and not self._channel_major:
            return nchw(self._chunked_output(padded, bias).view(n, ho, wo, geometry.out_channels))
        self._im2col(padded, self._cols)
        if g == 1:
            return self._pytorch_order_output(bias, n, ho, wo)
        out = self._cols.bmm(self._weights).permute(1, 0, 2).reshape(n * ho * wo, geometry.out_channels)
        if bias is not None:
            out += bias
        return nchw(out.view(n, ho, wo, geometry.out_channels))

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        g = self.geometry.groups
        grad = nhwc(grad_output).reshape(-1, g, self.geometry.out_channels // g).permute(1, 0, 2)
        grad_weight = self._weight_gradient(transposed_matmul(self._cols, grad))
        grad_bias = grad.sum(1).reshape(-1) if self._has_bias else None
        return (self._input_gradient(grad) if input_gradient else None), grad_weight, grad_bias

    def _input_gradient(self, grad):
        """dL/dx = col2im(dY · Wgᵀ), each chunk's columns added in while they are still in cache."""
        geometry = self.geometry
        (h, w), (ho, wo), g = self._input_hw, self._output_hw, geometry.groups
        n, width = grad.shape[1] // (ho * wo), self._weights.shape[1]
        grad_input = grad.new_empty((n, h, w, geometry.in_channels))
        size = chunk_images(n, ho * wo * g * width)
        buffer = self.workspace.get("grad_cols", (g, size * ho * wo, width), grad)
        for start, stop in image_chunks(n, size):
            cols = buffer[:, : (stop - start) * ho * wo].baddbmm_(
                grad[:, start * ho * wo : stop * ho * wo], self._weights.transpose(1, 2), beta=0
            )
            col2im(
                cols,
                grad_input[start:stop],
                geometry.kernel_size,
                geometry.stride,
                geometry.dilation,
                (geometry.pads[0], geometry.pads[2]),
                self._output_hw,
                self._channel_major,
                self.plans,
                overwrite=True,
            )
        return nchw(grad_input)

    def _im2col(self, padded, cols) -> None:
        """The column matrix of the padded NHWC images `padded` into `cols`, in this forward's order."""
        geometry = self.geometry
        im2col(
            padded,
            geometry.groups,
            geometry.kernel_size,
            geometry.stride,
            geometry.dilation,
            self._output_hw,
            self._channel_major,
            cols,
        )

    def _chunked_output(self, padded, bias):
        """Y = cols · W + b (one group), gathered and multiplied a few images at a time, so that each
        chunk of the column matrix is still in the core's cache when the matmul reads it (`chunking`)."""
        n, pixels = padded.shape[0], self._output_hw[0] * self._output_hw[1]
        weights, cols = self._weights[0], self._cols[0]
        out = cols.new_empty((n * pixels, weights.shape[1]))
        for start, stop in image_chunks(n, chunk_images(n, pixels * weights.shape[0], GEMM_CHUNK_NUMBERS)):
            rows = slice(start * pixels, stop * pixels)
            self._im2col(padded[start:stop], self._cols[:, rows])
            if bias is None:
                out[rows].addmm_(cols[rows], weights, beta=0)
            else:
                out[rows].copy_(bias.expand(out[rows].shape)).addmm_(cols[rows], weights)
        return out

    def _padded_input(self, x):
        """NHWC input inside its zero border (a kept workspace: only the interior is rewritten)."""
        n, c, h, w = x.shape
        pt, pb, pl, pr = self.geometry.pads
        if pt == pb == pl == pr == 0 and nhwc(x).is_contiguous():
            return nhwc(x)
        buffer = self.workspace.get("padded_input", (n, h + pt + pb, w + pl + pr, c), x)
        buffer[:, pt : pt + h, pl : pl + w].copy_(nhwc(x))
        return buffer

    def _pytorch_order_output(self, bias, n: int, ho: int, wo: int):
        """Y[n] = b + W (C_out, K) · cols[n] (K, Ho·Wo), image by image: the operands, their orientation
        and their layout of PyTorch's reference kernel, so that BLAS sums each output exactly as it does for
        `F.conv2d` on any CPU (the transposed product Y[n]ᵀ = colsᵀ·Wᵀ rounds differently on some)."""
        weights, out_channels = self._weights[0].t(), self.geometry.out_channels
        out = self._cols.new_empty((n, out_channels, ho * wo))
        for image, cols in zip(out, self._cols[0].view(n, ho * wo, -1), strict=True):
            if bias is None:
                image.copy_(weights.matmul(cols.t().contiguous()))
            else:
                image.copy_(bias[:, None].addmm(weights, cols.t().contiguous()))
        return out.view(n, out_channels, ho, wo)

    def _weight_matrix(self, weight):
        """weight (C_out, C_in/G, kh, kw) -> (G, kh·kw·C_in/G, C_out/G), rows ordered like the columns."""
        g, (kh, kw) = self.geometry.groups, self.geometry.kernel_size
        out_g = self.geometry.out_channels // g
        per_group = weight.view(g, out_g, -1, kh, kw)
        if self._channel_major:
            return per_group.reshape(g, out_g, -1).transpose(1, 2)
        return per_group.permute(0, 3, 4, 2, 1).reshape(g, -1, out_g)

    def _weight_gradient(self, grad_weights):
        """(G, kh·kw·C_in/G, C_out/G) column-space gradient -> the weight's shape (C_out, C_in/G, kh, kw)."""
        g, (kh, kw) = self.geometry.groups, self.geometry.kernel_size
        out_g = self.geometry.out_channels // g
        if self._channel_major:
            return grad_weights.transpose(1, 2).reshape(self._weight_shape)
        return grad_weights.view(g, kh, kw, -1, out_g).permute(0, 4, 3, 1, 2).reshape(self._weight_shape)
