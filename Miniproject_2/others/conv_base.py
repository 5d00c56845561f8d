"""Constructor arguments of the convolutions, parsed once (like PyTorch's `_ConvNd`), and their
PyTorch-default initialisation."""

import math

from torch import empty

from .module import Module


def pair(value, name: str) -> tuple:
    """int -> (int, int); a 2-sequence of ints -> tuple; anything else is a ValueError naming `name`."""
    if isinstance(value, int):
        return (value, value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(value)


class ConvBase(Module):
    """Shared state of `Conv2d` and `TransposeConv2d`.

    After construction every geometric argument is a pair (height, width) and `pads` is the explicit
    (top, bottom, left, right) zero padding of the *input* (`Conv2d`; 'same' with an even total puts the
    extra row/column at the bottom/right, as PyTorch does) or the crop of the output (`TransposeConv2d`).

    Initialisation (PyTorch's default): weight and bias ~ U(-1/√fan_in, 1/√fan_in) with
    fan_in = weight.shape[1]·kh·kw.
    """

    _parameter_names = ("weight", "bias")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride,
        padding,
        dilation,
        groups: int,
        bias: bool,
        transposed: bool,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by "
                f"groups ({groups})"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError("kernel_size, stride and dilation must be positive")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.pads = self._explicit_pads(transposed)
        kh, kw = self.kernel_size
        if transposed:
            shape = (in_channels, out_channels // groups, kh, kw)
        else:
            shape = (out_channels, in_channels // groups, kh, kw)
        bound = 1 / math.sqrt(shape[1] * kh * kw)
        self.weight = empty(shape, dtype=dtype, device=device).uniform_(-bound, bound)
        self.bias = empty(out_channels, dtype=dtype, device=device).uniform_(-bound, bound) if bias else None

    def _explicit_pads(self, transposed: bool) -> tuple:
        if isinstance(self.padding, str):
            if transposed or self.padding not in ("same", "valid"):
                raise ValueError(f"padding={self.padding!r} is not supported here")
            if self.padding == "valid":
                return (0, 0, 0, 0)
            if self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(self.kernel_size, self.dilation, strict=True):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        if min(self.padding) < 0:
            raise ValueError("padding must be non-negative")
        ph, pw = self.padding
        return (ph, ph, pw, pw)
