"""A transposed convolution whose kernel equals its stride: the taps of different pixels never overlap."""

from .kernel import Kernel
from .layout import nchw, nhwc
from .matmul import transposed_matmul
from .transposed import transposed_weight_gradient, transposed_weight_matrix


class DepthToSpace(Kernel):
    """Y = depth_to_space(X · W) + b, X the (N·H·W, C_in) pixels and W the (C_in, kh·kw·C_out) weight
    matrix: every pixel's products are the kh×kw output block above it, copied into place. With
    dY_g = space_to_depth(dY) (N·H·W, kh·kw·C_out): dL/dx = dY_g · Wᵀ, dL/dW = Xᵀ · dY_g, dL/db = Σ dY.
    One matmul and one copy each way, no col2im adds. x (N, C_in, H, W) -> y (N, C_out, kh·H, kw·W)."""

    def forward(self, x, weight, bias):
        n, c, h, w = x.shape
        (kh, kw), o = self.geometry.kernel_size, self.geometry.out_channels
        self._pixels = nhwc(x).reshape(n * h * w, c)
        self._weights = transposed_weight_matrix(weight, 1)[0]
        self._has_bias = bias is not None
        products = self.workspace.get("products", (n * h * w, kh * kw * o), x)
        products.addmm_(self._pixels, self._weights, beta=0)
        out = x.new_empty((n, h, kh, w, kw, o))
        out.copy_(products.view(n, h, w, kh, kw, o).permute(0, 1, 3, 2, 4, 5))
        if bias is not None:
            out += bias
        return nchw(out.view(n, h * kh, w * kw, o))

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        n, o, ho, wo = grad_output.shape
        (kh, kw), c = self.geometry.kernel_size, self.geometry.in_channels
        h, w = ho // kh, wo // kw
        grad = nhwc(grad_output).reshape(n, h, kh, w, kw, o)
        gathered = self.workspace.get("gathered_grad", (n, h, w, kh, kw, o), grad_output)
        gathered.copy_(grad.permute(0, 1, 3, 2, 4, 5))
        gathered = gathered.view(n * h * w, kh * kw * o)
        grad_weight = transposed_weight_gradient(
            transposed_matmul(self._pixels, gathered)[None], 1, self.geometry.kernel_size
        )
        grad_bias = gathered.view(-1, o).sum(0) if self._has_bias else None
        if not input_gradient:
            return None, grad_weight, grad_bias
        return nchw(gathered.matmul(self._weights.t()).view(n, h, w, c)), grad_weight, grad_bias
