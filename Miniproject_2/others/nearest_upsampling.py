"""Nearest-neighbour upsampling, PyTorch's `nn.Upsample(mode='nearest')` / `nn.UpsamplingNearest2d`."""

import math
import struct

from .im2col import nchw, nhwc
from .module import Module


def _float32(value: float) -> float:
    """`value` rounded to single precision, as PyTorch's kernel computes the source index."""
    return struct.unpack("f", struct.pack("f", value))[0]


def source_indices(in_size: int, out_size: int, scale_factor) -> list:
    """PyTorch's nearest source index of each output row: ⌊dst · scale⌋ in float32, clamped, with
    scale = 1/scale_factor when a factor was given and in_size/out_size otherwise."""
    if out_size == in_size:
        return list(range(out_size))
    if out_size == 2 * in_size:
        return [dst // 2 for dst in range(out_size)]
    scale = _float32(1 / scale_factor if scale_factor else in_size / out_size)
    return [min(math.floor(_float32(_float32(dst) * scale)), in_size - 1) for dst in range(out_size)]


class NearestUpsampling(Module):
    """`NearestUpsampling(size=None, scale_factor=None)`: exactly one of an output size (int or pair) or a
    scale factor (number or pair; output = ⌊input · factor⌋).

    Forward: y[n, c, i, j] = x[n, c, src_h(i), src_w(j)].  Backward: dL/dx sums dL/dy over every output
    pixel that copied it: a reshape-sum for integer factors, `index_add_` otherwise.
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("give exactly one of size and scale_factor")
        self.size = None if size is None else ((size, size) if isinstance(size, int) else tuple(size))
        self.scale_factor = None
        if scale_factor is not None:
            pair = scale_factor if isinstance(scale_factor, tuple | list) else (scale_factor, scale_factor)
            self.scale_factor = tuple(float(f) for f in pair)
            if min(self.scale_factor) <= 0:
                raise ValueError("scale_factor must be positive")

    def output_size(self, height: int, width: int) -> tuple:
        if self.size is not None:
            return self.size
        return tuple(math.floor(s * f) for s, f in zip((height, width), self.scale_factor, strict=True))

    def forward(self, x):
        n, c, h, w = x.shape
        ho, wo = self.output_size(h, w)
        factors = self.scale_factor or (None, None)
        self._rows = source_indices(h, ho, factors[0])
        self._columns = source_indices(w, wo, factors[1])
        self._input_hw = (h, w)
        self._repeats = None
        if ho % h == 0 and wo % w == 0:
            fh, fw = ho // h, wo // w
            if self._rows == [i // fh for i in range(ho)] and self._columns == [j // fw for j in range(wo)]:
                self._repeats = (fh, fw)
                expanded = nhwc(x)[:, :, None, :, None, :].expand(n, h, fh, w, fw, c)
                return nchw(expanded.reshape(n, ho, wo, c))
        rows = x.new_tensor(self._rows).long()
        columns = x.new_tensor(self._columns).long()
        return x.index_select(2, rows).index_select(3, columns)

    def backward(self, grad_output):
        n, c, ho, _ = grad_output.shape
        h, w = self._input_hw
        if self._repeats is not None:
            fh, fw = self._repeats
            return nchw(nhwc(grad_output).reshape(n, h, fh, w, fw, c).sum((2, 4)))
        rows = grad_output.new_tensor(self._rows).long()
        columns = grad_output.new_tensor(self._columns).long()
        grad_columns = grad_output.new_zeros((n, c, ho, w)).index_add_(3, columns, grad_output)
        return grad_output.new_zeros((n, c, h, w)).index_add_(2, rows, grad_columns)
