"""What the convolution blocks share (like PyTorch's `_ConvNd`): their arguments parsed once into a
`ConvGeometry`, PyTorch's default initialisation, the kernel chosen for that geometry, and the bookkeeping
of the gradients the kernel returns."""

import math

from torch import empty

from .kernels import ConvGeometry, select
from .module import Module


def pair(value, name: str) -> tuple:
    """int -> (int, int); a 2-sequence of ints -> tuple; anything else is a ValueError naming `name`."""
    if isinstance(value, int):
        return (value, value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(value)


class ConvBase(Module):
    """Shared state of `Conv2d`, `TransposeConv2d` and `Upsampling`.

    After construction every geometric argument is a pair (height, width) and `pads` is the explicit
    (top, bottom, left, right) zero padding of the *input* ('same' with an even total puts the extra
    row/column at the bottom/right, as PyTorch does) or the crop of the output (transposed). `kernel` is
    the computation `kernels.select` picked for the geometry, chosen once.

    Initialisation (PyTorch's default): weight and bias ~ U(−1/√fan_in, 1/√fan_in) with
    fan_in = weight.shape[1]·kh·kw; the weight is (C_out, C_in/G, kh, kw), or (C_in, C_out/G, kh, kw)
    when transposed.
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
        device=None,
        dtype=None,
        transposed: bool = False,
        output_padding=0,
        nearest_scale: tuple | None = None,
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
        self.output_padding = pair(output_padding, "output_padding")
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if not 0 <= op < max(s, d):
                raise ValueError("output_padding must be smaller than either stride or dilation")
        self.geometry = ConvGeometry(
            in_channels,
            out_channels,
            self.kernel_size,
            self.stride,
            self.dilation,
            groups,
            self.pads,
            transposed,
            self.output_padding,
            nearest_scale,
        )
        self.kernel = select(self.geometry)
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

    def output_size(self, height: int, width: int) -> tuple:
        """(Ho, Wo) of an (height, width) input (after the upsampling, for `Upsampling`)."""
        return self.geometry.output_size(height, width)

    def _kernel_forward(self, x):
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects {self.in_channels} input channels, got {x.shape[1]}"
            )
        return self.kernel.forward(x, self.weight, self.bias)

    def _kernel_backward(self, grad_output, input_gradient: bool):
        """Adds the kernel's dL/dW and dL/db into the gradient buffers; returns its dL/dx (or None)."""
        grad_input, grad_weight, grad_bias = self.kernel.backward(grad_output, input_gradient)
        self._accumulate("weight", grad_weight)
        if grad_bias is not None:
            self._accumulate("bias", grad_bias)
        return grad_input

    def backward_parameters(self, grad_output) -> None:
        self._kernel_backward(grad_output, input_gradient=False)

    def extra_repr(self) -> str:
        """PyTorch's: channels, kernel and stride always; padding, dilation, output padding, groups and
        bias when not the default."""
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
