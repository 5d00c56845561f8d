"""Transposed 2-D convolution, PyTorch's `nn.ConvTranspose2d`: the adjoint of `Conv2d` in its input."""

from .conv_base import ConvBase, pair
from .im2col import col2im, im2col, nchw, nhwc
from .matmul import transposed_matmul
from .sub_pixel import TRANSPOSED_4X4_ROWS, SubPixelConv


class TransposeConv2d(ConvBase):
    """`TransposeConv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1)`, weight (C_in, C_out/G, kh, kw) as in PyTorch.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1.
    Forward:  y = col2im_p(Xg · Wg) + b, Xg the (N·H·W, C_in/G) pixels of group g, the padding cropped.
    Backward: cols = im2col(uncrop_p(dY));  dL/dx = cols · Wgᵀ;  dL/dWg = Xgᵀ · cols;  dL/db = Σ dY.

    Kernel 4, stride 2, padding 1, one group (`fused`, Ho = 2H) runs as four 2×2 sub-pixel convolutions
    at the input's resolution (`SubPixelConv` with `TRANSPOSED_4X4_ROWS`): 4·C_in products per output,
    no column matrix of the 16 taps.

    Kernel equal to the stride, no padding, dilation or output padding, one group (`depth_to_space`, the
    taps of different input pixels never overlap): Y = depth_to_space(X · W) + b, W the (C_in, kh·kw·C_out)
    weight matrix; with dY_g = space_to_depth(dY) (N·H·W, kh·kw·C_out), dL/dx = dY_g · Wᵀ and
    dL/dW = Xᵀ · dY_g. One matmul and one copy each way, no col2im adds.
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
            True,
            device,
            dtype,
        )
        self.output_padding = pair(output_padding, "output_padding")
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if not 0 <= op < max(s, d):
                raise ValueError("output_padding must be smaller than either stride or dilation")
        plain = self.dilation == (1, 1) and self.output_padding == (0, 0) and groups == 1
        self.fused = plain and self.kernel_size == (4, 4) and self.stride == (2, 2) and self.padding == (1, 1)
        self._sub_pixel = SubPixelConv(self, TRANSPOSED_4X4_ROWS, False) if self.fused else None
        self.depth_to_space = plain and self.kernel_size == self.stride and self.padding == (0, 0)

    def output_size(self, height: int, width: int) -> tuple:
        sizes = []
        for size, s, p, d, k, op in zip(
            (height, width),
            self.stride,
            self.padding,
            self.dilation,
            self.kernel_size,
            self.output_padding,
            strict=True,
        ):
            sizes.append((size - 1) * s - 2 * p + d * (k - 1) + op + 1)
        return tuple(sizes)

    def _uncropped_size(self, height: int, width: int) -> tuple:
        """Rows and columns of dY before the padding crop, as backward's im2col reads them (output_padding
        may reach past the last tap when it exceeds the padding)."""
        sizes = []
        for size, s, p, d, k, op in zip(
            (height, width),
            self.stride,
            self.padding,
            self.dilation,
            self.kernel_size,
            self.output_padding,
            strict=True,
        ):
            sizes.append((size - 1) * s + d * (k - 1) + 1 + max(0, op - p))
        return tuple(sizes)

    def _weight_matrix(self):
        """weight (C_in, C_out/G, kh, kw) -> (G, C_in/G, kh·kw·C_out/G), columns ordered like im2col."""
        g, (kh, kw) = self.groups, self.kernel_size
        per_group = self.weight.view(g, self.in_channels // g, -1, kh, kw)
        return per_group.permute(0, 1, 3, 4, 2).reshape(g, self.in_channels // g, -1)

    def forward(self, x):
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"TransposeConv2d expects {self.in_channels} input channels, got {c}")
        if self._sub_pixel is not None:
            return self._sub_pixel.forward(x)
        if self.depth_to_space:
            return self._depth_to_space_forward(x)
        ho, wo = self.output_size(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"output size {ho}x{wo} is not positive")
        g = self.groups
        self._pixels = nhwc(x).reshape(n * h * w, g, c // g).permute(1, 0, 2)
        self._weights = self._weight_matrix()
        self._input_hw, self._output_hw = (h, w), (ho, wo)
        out = x.new_zeros((n, ho, wo, self.out_channels))
        col2im(
            self._pixels.bmm(self._weights),
            out,
            self.kernel_size,
            self.stride,
            self.dilation,
            self.padding,
            (h, w),
            False,
            self._plans,
        )
        if self.bias is not None:
            out += self.bias
        return nchw(out)

    def backward(self, grad_output):
        if self._sub_pixel is not None:
            return self._sub_pixel.backward(grad_output)
        if self.depth_to_space:
            return nchw(self._depth_to_space_backward(grad_output))
        cols = self._grad_columns(grad_output)
        self._accumulate_parameter_gradients(cols, grad_output)
        n, (h, w) = grad_output.shape[0], self._input_hw
        grad_input = (
            cols.bmm(self._weights.transpose(1, 2)).permute(1, 0, 2).reshape(n, h, w, self.in_channels)
        )
        return nchw(grad_input)

    def backward_parameters(self, grad_output) -> None:
        if self._sub_pixel is not None:
            self._sub_pixel.backward(grad_output)
            return
        if self.depth_to_space:
            self._depth_to_space_backward(grad_output, input_gradient=False)
            return
        self._accumulate_parameter_gradients(self._grad_columns(grad_output), grad_output)

    def _depth_to_space_forward(self, x):
        """Y = depth_to_space(X · W) + b: the products (N·H·W, kh·kw·C_out) of every input pixel are the
        output's kh×kw block above it, copied into place. x (N, C_in, H, W) -> y (N, C_out, kh·H, kw·W)."""
        n, c, h, w = x.shape
        (kh, kw), o = self.kernel_size, self.out_channels
        self._pixels = nhwc(x).reshape(n * h * w, c)
        self._weights = self._weight_matrix()[0]
        products = self._workspace("products", (n * h * w, kh * kw * o), x)
        products.addmm_(self._pixels, self._weights, beta=0)
        out = x.new_empty((n, h, kh, w, kw, o))
        out.copy_(products.view(n, h, w, kh, kw, o).permute(0, 1, 3, 2, 4, 5))
        if self.bias is not None:
            out += self.bias
        return nchw(out.view(n, h * kh, w * kw, o))

    def _depth_to_space_backward(self, grad_output, input_gradient: bool = True):
        """dY_g = space_to_depth(dY) (one copy); dL/dW = Xᵀ · dY_g, dL/db = Σ dY and, with
        `input_gradient`, returns dL/dx = dY_g · Wᵀ as (N, H, W, C_in)."""
        n, o, ho, wo = grad_output.shape
        (kh, kw), c = self.kernel_size, self.in_channels
        h, w = ho // kh, wo // kw
        grad = nhwc(grad_output).reshape(n, h, kh, w, kw, o)
        gathered = self._workspace("gathered_grad", (n, h, w, kh, kw, o), grad_output)
        gathered.copy_(grad.permute(0, 1, 3, 2, 4, 5))
        gathered = gathered.view(n * h * w, kh * kw * o)
        grad_weights = transposed_matmul(self._pixels, gathered)
        self._accumulate("weight", grad_weights.view(c, kh, kw, o).permute(0, 3, 1, 2))
        if self.bias is not None:
            self._accumulate("bias", gathered.view(-1, o).sum(0))
        if input_gradient:
            return gathered.matmul(self._weights.t()).view(n, h, w, c)
        return None

    def _grad_columns(self, grad_output):
        """im2col of dY put back at offset (p_h, p_w) of its uncropped extent: (G, N·H·W, kh·kw·C_out/G)."""
        (h, w), (ho, wo) = self._input_hw, self._output_hw
        ph, pw = self.padding
        n, (kh, kw), g = grad_output.shape[0], self.kernel_size, self.groups
        uncropped = self._workspace(
            "uncropped_grad", (n, *self._uncropped_size(h, w), self.out_channels), grad_output
        )
        uncropped[:, ph : ph + ho, pw : pw + wo].copy_(nhwc(grad_output))
        cols = self._workspace("cols", (g, n * h * w, kh * kw * self.out_channels // g), grad_output)
        return im2col(uncropped, g, self.kernel_size, self.stride, self.dilation, (h, w), False, cols)

    def _accumulate_parameter_gradients(self, cols, grad_output) -> None:
        g, (kh, kw) = self.groups, self.kernel_size
        grad_weights = transposed_matmul(self._pixels, cols)
        self._accumulate(
            "weight", grad_weights.view(g, -1, kh, kw, self.out_channels // g).permute(0, 1, 4, 2, 3)
        )
        if self.bias is not None:
            self._accumulate("bias", nhwc(grad_output).sum((0, 1, 2)))
