"""2-D convolution (cross-correlation), PyTorch's `nn.Conv2d`, as one im2col and one matmul per group."""

from .chunking import chunk_images, image_chunks
from .conv_base import ConvBase
from .im2col import col2im, im2col, nchw, nhwc
from .matmul import transposed_matmul


class Conv2d(ConvBase):
    """`Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True)`; padding is an int, a pair, 'valid' or 'same' (stride 1).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = ⌊(H + p_top + p_bottom − d·(k − 1) − 1)/s⌋ + 1.
    Forward:  Y = cols · Wg + b per group g, cols = im2col(pad(x)) of shape (N·Ho·Wo, kh·kw·C_in/G).
    Backward: dL/dWg = colsᵀ · dY;  dL/db = Σ_{n,y,x} dY;  dL/dx = col2im(dY · Wgᵀ) (padding clipped).

    Inputs of at most `pytorch_order_max_numel` numbers (PyTorch's own threshold for its reference
    kernel) order the columns as PyTorch does, so small float32 results agree with `F.conv2d` to rounding;
    larger ones use the faster channels-last order.
    """

    pytorch_order_max_numel = 20480

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
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            False,
            device,
            dtype,
        )

    def output_size(self, height: int, width: int) -> tuple:
        pt, pb, pl, pr = self.pads
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return (height + pt + pb - dh * (kh - 1) - 1) // sh + 1, (
            width + pl + pr - dw * (kw - 1) - 1
        ) // sw + 1

    def _weight_matrix(self):
        """weight (C_out, C_in/G, kh, kw) -> (G, kh·kw·C_in/G, C_out/G), rows ordered like the columns."""
        g, (kh, kw) = self.groups, self.kernel_size
        out_g = self.out_channels // g
        per_group = self.weight.view(g, out_g, -1, kh, kw)
        if self._channel_major:
            return per_group.reshape(g, out_g, -1).transpose(1, 2)
        return per_group.permute(0, 3, 4, 2, 1).reshape(g, -1, out_g)

    def _weight_gradient(self, grad_weights):
        """(G, kh·kw·C_in/G, C_out/G) column-space gradient -> weight's shape (C_out, C_in/G, kh, kw)."""
        g, (kh, kw) = self.groups, self.kernel_size
        out_g = self.out_channels // g
        if self._channel_major:
            return grad_weights.transpose(1, 2).reshape(self.weight.shape)
        return grad_weights.view(g, kh, kw, -1, out_g).permute(0, 4, 3, 1, 2).reshape(self.weight.shape)

    def _padded_input(self, x):
        """NHWC input inside its zero border (a kept workspace: only the interior is rewritten)."""
        n, c, h, w = x.shape
        pt, pb, pl, pr = self.pads
        if pt == pb == pl == pr == 0 and nhwc(x).is_contiguous():
            return nhwc(x)
        buffer = self._workspace("padded_input", (n, h + pt + pb, w + pl + pr, c), x)
        buffer[:, pt : pt + h, pl : pl + w].copy_(nhwc(x))
        return buffer

    def forward(self, x):
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"Conv2d expects {self.in_channels} input channels, got {c}")
        ho, wo = self.output_size(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"input {h}x{w} is smaller than the (dilated) kernel")
        g, (kh, kw) = self.groups, self.kernel_size
        self._channel_major = x.numel() <= self.pytorch_order_max_numel
        cols = self._workspace("cols", (g, n * ho * wo, kh * kw * c // g), x)
        self._cols = im2col(
            self._padded_input(x),
            g,
            self.kernel_size,
            self.stride,
            self.dilation,
            (ho, wo),
            self._channel_major,
            cols,
        )
        self._weights = self._weight_matrix()
        self._input_hw, self._output_hw = (h, w), (ho, wo)
        if g == 1 and self._channel_major:
            return self._pytorch_order_output(n, ho, wo)
        if g == 1:
            cols, weights = self._cols[0], self._weights[0]
            out = cols.matmul(weights) if self.bias is None else self.bias.addmm(cols, weights)
        else:
            out = self._cols.bmm(self._weights).permute(1, 0, 2).reshape(n * ho * wo, self.out_channels)
            if self.bias is not None:
                out += self.bias
        return nchw(out.view(n, ho, wo, self.out_channels))

    def _pytorch_order_output(self, n: int, ho: int, wo: int):
        """Y[n] = b + W (C_out, K) · cols[n] (K, Ho·Wo), image by image: the operands, their orientation
        and their layout of PyTorch's reference kernel, so that BLAS sums each output exactly as it does for
        `F.conv2d` on any CPU (the transposed product Y[n]ᵀ = colsᵀ·Wᵀ rounds differently on some)."""
        weights = self._weights[0].t()
        out = self._cols.new_empty((n, self.out_channels, ho * wo))
        for image, cols in zip(out, self._cols[0].view(n, ho * wo, -1), strict=True):
            if self.bias is None:
                image.copy_(weights.matmul(cols.t().contiguous()))
            else:
                image.copy_(self.bias[:, None].addmm(weights, cols.t().contiguous()))
        return out.view(n, self.out_channels, ho, wo)

    def backward(self, grad_output):
        """dL/dx a few images at a time (`chunking`): each chunk's dY · Wgᵀ is added into dL/dx by col2im
        while it is still in cache."""
        grad = self._grad_matrix(grad_output)
        self._accumulate_parameter_gradients(grad)
        n, g = grad_output.shape[0], self.groups
        (h, w), (ho, wo), pads = self._input_hw, self._output_hw, self.pads
        width = self._weights.shape[1]
        grad_input = grad.new_empty((n, h, w, self.in_channels))
        size = chunk_images(n, ho * wo * g * width)
        buffer = self._workspace("grad_cols", (g, size * ho * wo, width), grad)
        for start, stop in image_chunks(n, size):
            cols = buffer[:, : (stop - start) * ho * wo].baddbmm_(
                grad[:, start * ho * wo : stop * ho * wo], self._weights.transpose(1, 2), beta=0
            )
            col2im(
                cols,
                grad_input[start:stop],
                self.kernel_size,
                self.stride,
                self.dilation,
                (pads[0], pads[2]),
                self._output_hw,
                self._channel_major,
                self._plans,
                overwrite=True,
            )
        return nchw(grad_input)

    def backward_parameters(self, grad_output) -> None:
        self._accumulate_parameter_gradients(self._grad_matrix(grad_output))

    def _grad_matrix(self, grad_output):
        """dL/dY as (G, N·Ho·Wo, C_out/G)."""
        g = self.groups
        return nhwc(grad_output).reshape(-1, g, self.out_channels // g).permute(1, 0, 2)

    def _accumulate_parameter_gradients(self, grad) -> None:
        self._accumulate("weight", self._weight_gradient(transposed_matmul(self._cols, grad)))
        if self.bias is not None:
            self._accumulate("bias", grad.sum(1))
