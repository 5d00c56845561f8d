"""What each block should compute: torch.nn.functional + autograd, in the parent process.

Every block is a function `f(x, *params) -> y`. `evaluate` runs it in a given dtype with autograd on
and returns the output and the gradients of `<y, grad_output>` with respect to `x` and each parameter,
i.e. exactly what a block's `backward(grad_output)` must return and accumulate. The checks call it
twice per configuration: in float64 (the exact answer) and in float32 (torch's own rounding error,
which calibrates the tolerance, see `harness.checks.blocks.tolerance`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.optim.sgd import sgd

Function = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class Evaluation:
    """A block's output and the gradients a backward with `grad_output` must produce."""

    output: torch.Tensor
    grad_input: torch.Tensor
    grad_params: tuple[torch.Tensor, ...]


def evaluate(
    function: Function,
    x: torch.Tensor,
    params: Sequence[torch.Tensor],
    grad_output: torch.Tensor,
    dtype: torch.dtype,
) -> Evaluation:
    """`function(x, *params)` and the vector-Jacobian products with `grad_output`, all in `dtype`."""
    with torch.enable_grad():
        leaves = [t.detach().to(dtype).requires_grad_(True) for t in (x, *params)]
        output = function(*leaves)
        grads = torch.autograd.grad(output, leaves, grad_output.to(dtype), allow_unused=True)
    grads = tuple(torch.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, grads, strict=True))
    return Evaluation(output.detach(), grads[0].detach(), tuple(g.detach() for g in grads[1:]))


def conv2d(values: Mapping[str, Any]) -> Function:
    """`Conv2d(in, out, kernel_size, stride, padding, dilation, bias)` as `y = conv2d(x, w, b)`."""

    def function(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv2d(x, weight, bias, values["stride"], values["padding"], values["dilation"])

    return function


def transpose_conv2d(values: Mapping[str, Any]) -> Function:
    """`ConvTranspose2d(in, out, kernel_size, stride, padding, output_padding, bias, dilation)`."""

    def function(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv_transpose2d(
            x,
            weight,
            bias,
            values["stride"],
            values["padding"],
            values["output_padding"],
            1,
            values["dilation"],
        )

    return function


def nearest_upsampling(values: Mapping[str, Any]) -> Function:
    """`Upsample(scale_factor, mode="nearest")`: every pixel copied into a factor x factor block."""

    def function(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=values["scale_factor"], mode="nearest")

    return function


def upsample_conv(values: Mapping[str, Any]) -> Function:
    """Nearest upsampling by `scale_factor`, then `conv2d` with the block's weight and bias."""
    upsample, convolve = nearest_upsampling(values), conv2d(values)

    def function(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return convolve(upsample(x), weight, bias)

    return function


def relu(values: Mapping[str, Any]) -> Function:
    return F.relu


def sigmoid(values: Mapping[str, Any]) -> Function:
    return torch.sigmoid


def mse(target: torch.Tensor) -> Function:
    """`MSELoss()` (mean reduction) against a fixed target: `L = mean((x - target)^2)`."""

    def function(x: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(x, target.to(x.dtype))

    return function


def chain(layers: Sequence[tuple[Function, int]]) -> Function:
    """`nn.Sequential` of layers given as (function, number of parameters it takes), parameters in
    order: `chain([(conv, 2), (relu, 0)])(x, w, b) = relu(conv(x, w, b))`."""

    def function(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        remaining = list(params)
        for layer, count in layers:
            x = layer(x, *remaining[:count])
            del remaining[:count]
        return x

    return function


def sgd_trajectory(
    initial: Sequence[torch.Tensor],
    grads_per_step: Sequence[Sequence[torch.Tensor]],
    settings: Mapping[str, Any],
    dtype: torch.dtype,
) -> list[list[torch.Tensor]]:
    """The parameters after each step of `torch.optim.SGD(params, **settings)` given these gradients.

    Calls `torch.optim.sgd.sgd`, the update `torch.optim.SGD.step` applies (same momentum buffers,
    dampening, weight decay and Nesterov rule), without building an optimizer: the first
    `torch.optim.SGD` of a process imports torch._dynamo, seconds of the check's time budget.
    """
    params = [p.detach().to(dtype).clone() for p in initial]
    buffers: list[torch.Tensor | None] = [None] * len(params)
    options = {
        "lr": settings["lr"],
        "momentum": settings.get("momentum", 0.0),
        "dampening": settings.get("dampening", 0.0),
        "weight_decay": settings.get("weight_decay", 0.0),
        "nesterov": settings.get("nesterov", False),
    }
    trajectory = []
    for grads in grads_per_step:
        sgd(params, [g.to(dtype) for g in grads], buffers, maximize=False, foreach=False, **options)
        trajectory.append([p.clone() for p in params])
    return trajectory


def parameter_shapes(reference: str, values: Mapping[str, Any]) -> tuple[tuple[int, ...], ...]:
    """The shapes of (weight, bias) in PyTorch's layout for a layer kind, () without parameters.

    Conv2d's weight is (out, in, kh, kw), ConvTranspose2d's (in, out, kh, kw); bias is (out,) when
    `bias` is true.
    """
    if reference not in ("conv2d", "upsample_conv", "transpose_conv2d"):
        return ()
    kernel = values["kernel_size"]
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    channels = (values["in_channels"], values["out_channels"])
    weight = (*(channels[::-1] if reference != "transpose_conv2d" else channels), kh, kw)
    return (weight, (values["out_channels"],)) if values["bias"] else (weight,)


LAYER_FUNCTIONS: Mapping[str, Callable[[Mapping[str, Any]], Function]] = {
    "conv2d": conv2d,
    "transpose_conv2d": transpose_conv2d,
    "nearest_upsampling": nearest_upsampling,
    "upsample_conv": upsample_conv,
    "relu": relu,
    "sigmoid": sigmoid,
}
"""Per reference kind: the function of a block built with these constructor values."""
