"""Nearest-neighbour upsampling, PyTorch's `nn.Upsample(mode='nearest')` / `nn.UpsamplingNearest2d`."""

from .kernels.nearest import Nearest
from .module import Module


def scale_pair(scale_factor) -> tuple:
    """A number or a pair -> (float, float), both positive."""
    pair = scale_factor if isinstance(scale_factor, tuple | list) else (scale_factor, scale_factor)
    scale = tuple(float(f) for f in pair)
    if min(scale) <= 0:
        raise ValueError("scale_factor must be positive")
    return scale


class NearestUpsampling(Module):
    """`NearestUpsampling(size=None, scale_factor=None)`: exactly one of an output size (int or pair) or a
    scale factor (number or pair; output = ⌊input · factor⌋), PyTorch's float32 source index.

    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo). Computed by `kernels.nearest.Nearest`.
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("give exactly one of size and scale_factor")
        self.size = None if size is None else ((size, size) if isinstance(size, int) else tuple(size))
        self.scale_factor = None if scale_factor is None else scale_pair(scale_factor)
        self.kernel = Nearest(self.size, self.scale_factor)

    def output_size(self, height: int, width: int) -> tuple:
        return self.kernel.output_size(height, width)

    def forward(self, x):
        """y[n, c, i, j] = x[n, c, src_h(i), src_w(j)]."""
        return self.kernel.forward(x)

    def backward(self, grad_output):
        """dL/dx[n, c, a, b] = Σ dL/dy[n, c, i, j] over the outputs (i, j) with src = (a, b)."""
        return self.kernel.backward(grad_output)

    def extra_repr(self) -> str:
        return f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
