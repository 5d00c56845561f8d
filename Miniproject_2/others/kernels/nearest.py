"""Nearest-neighbour upsampling with PyTorch's source indices, and a convolution of its output."""

import math
import struct

from .geometry import ConvGeometry
from .kernel import Kernel
from .layout import nchw, nhwc


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


class Nearest:
    """y[n, c, i, j] = x[n, c, src_h(i), src_w(j)] for an output `size` or a `scale_factor` pair (the
    other None); dL/dx sums dL/dy over every output pixel that copied it: a reshape-sum for integer
    factors, `index_add_` otherwise."""

    def __init__(self, size: tuple | None, scale_factor: tuple | None) -> None:
        self.size, self.scale_factor = size, scale_factor

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


class UpsampledConv(Kernel):
    """y = conv(nearest(x)): the nearest upsampling of `geometry.nearest_scale`, then the convolution's
    own kernel `conv`; backward runs them in reverse."""

    def __init__(self, geometry: ConvGeometry, conv: Kernel) -> None:
        super().__init__(geometry)
        self.nearest = Nearest(None, geometry.nearest_scale)
        self.conv = conv

    def forward(self, x, weight, bias):
        return self.conv.forward(self.nearest.forward(x), weight, bias)

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        grad_upsampled, grad_weight, grad_bias = self.conv.backward(grad_output, input_gradient)
        grad_input = None if grad_upsampled is None else self.nearest.backward(grad_upsampled)
        return grad_input, grad_weight, grad_bias
