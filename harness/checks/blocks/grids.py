"""The configurations each block is tried on, and the seeded tensors that go with them.

The grids cover what the statement's blocks must handle, kept small enough that every block's child
finishes in about a second: kernel sizes 1 to 5, rectangular kernels, strides 1 to 3, paddings, tuple
arguments, dilations, no bias, batch sizes 1 to 8, odd and non-square inputs, the network's own layer
shapes. A Sequential chains only 3x3 convolutions (the network's), so that it does not inherit a
Conv2d's trouble with other kernels. Constructor calls are PyTorch's (`Conv2d(3, 8, kernel_size=5,
stride=2)`), as the statement says graders instantiate blocks. Settings a block may lack without
being wrong (dilation, `bias=False`, `output_padding`, SGD's momentum/weight decay/Nesterov, scale
factors other than 2) are `optional`: a submission whose constructor has no argument for one skips
those configurations instead of failing.

`trials(kind, seed)` attaches inputs and output gradients drawn from a generator seeded with `seed`
and the configuration's position, so a run is reproducible and the parent keeps what it sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

import harness.checks.blocks.reference as reference
from harness.checks.blocks.adapters import ConstructorCall

Shape = tuple[int, ...]
IntPair = int | tuple[int, int]


@dataclass(frozen=True)
class LayerCase:
    """A block mapping a tensor to a tensor: its constructor call, input shape and reference.

    `reference` names the function in `harness.checks.blocks.reference.LAYER_FUNCTIONS`; `input_scale`
    widens the inputs (standard normal times it) to reach an activation's saturated range.
    """

    reference: str
    class_name: str
    call: ConstructorCall
    input_shape: Shape
    optional: frozenset[str] = frozenset()
    input_scale: float = 1.0

    @property
    def label(self) -> str:
        """`Conv2d(3, 8, kernel_size=5) on (2, 3, 12, 12)`: names the row in every message."""
        return f"{self.call.torch_call(self.class_name)} on {self.input_shape}"

    def parameter_shapes(self) -> tuple[Shape, ...]:
        return reference.parameter_shapes(self.reference, self.call.values)

    def output_shape(self) -> Shape:
        """The output shape torch gives (computed once, on zeros)."""
        function = reference.LAYER_FUNCTIONS[self.reference](self.call.values)
        zeros = [torch.zeros(s, dtype=torch.float64) for s in (self.input_shape, *self.parameter_shapes())]
        return tuple(function(*zeros).shape)


@dataclass(frozen=True)
class UpsamplingCase:
    """`Upsampling` tried as nearest-up + conv (`scale`) or as a transposed conv (`transposed`), with
    the same input and output shapes so one set of gradients serves both readings."""

    scale: LayerCase
    transposed: LayerCase

    @property
    def label(self) -> str:
        return self.scale.label


@dataclass(frozen=True)
class LossCase:
    """`MSE()` on a prediction and a target of `shape`."""

    shape: Shape
    call: ConstructorCall = field(default_factory=lambda: _call({}, 0, ()))

    @property
    def label(self) -> str:
        return f"MSE() on {self.shape}"


@dataclass(frozen=True)
class OptimizerCase:
    """`SGD(params, lr=..., ...)` stepped `steps` times on parameters of the given shapes."""

    call: ConstructorCall
    shapes: tuple[Shape, ...]
    steps: int = 3
    optional: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.call.torch_call('SGD')} on {len(self.shapes)} parameters, {self.steps} steps"

    def settings(self) -> dict[str, Any]:
        """The keyword arguments of `torch.optim.SGD` for this case."""
        return {k: v for k, v in self.call.values.items() if k != "params"}


@dataclass(frozen=True)
class ChainCase:
    """`Sequential(*layers)` of the submission's own blocks on an input of `input_shape`."""

    layers: tuple[LayerCase, ...]
    input_shape: Shape

    @property
    def label(self) -> str:
        inner = ", ".join(layer.call.torch_call(layer.class_name) for layer in self.layers)
        return f"Sequential({inner}) on {self.input_shape}"

    def output_shape(self) -> Shape:
        shape = self.input_shape
        for layer in self.layers:
            shape = LayerCase(layer.reference, layer.class_name, layer.call, shape).output_shape()
        return shape


Case = LayerCase | UpsamplingCase | LossCase | OptimizerCase | ChainCase


@dataclass(frozen=True)
class Trial:
    """A case with the tensors sent to the child: the parent judges against exactly these.

    Layers and chains: `x`, `g1`, `g2` (input and two output gradients). MSE: `x` and `target`.
    SGD: `initial` parameters and `grads[step][param]`.
    """

    case: Case
    tensors: Mapping[str, Any]


def _call(
    values: Mapping[str, Any], positional: int, keywords: Sequence[str], droppable: Sequence[str] = ()
) -> ConstructorCall:
    return ConstructorCall(dict(values), positional, tuple(keywords), frozenset(droppable))


def _non_default(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    return [name for name, default in defaults.items() if values[name] != default]


def conv2d(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    input_shape: Shape,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    bias: bool = True,
) -> LayerCase:
    """`Conv2d(in, out, kernel_size=k, ...)` with PyTorch's argument order and defaults."""
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "bias": True}
    values = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "bias": bias,
    }
    keywords = ["kernel_size", *_non_default(values, defaults)]
    optional = frozenset(k for k in ("dilation", "bias") if k in keywords)
    return LayerCase("conv2d", "Conv2d", _call(values, 2, keywords), input_shape, optional)


def transpose_conv2d(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    input_shape: Shape,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    bias: bool = True,
    class_name: str = "TransposeConv2d",
) -> LayerCase:
    """`ConvTranspose2d(in, out, kernel_size=k, ...)` with PyTorch's argument order and defaults."""
    defaults = {"stride": 1, "padding": 0, "output_padding": 0, "bias": True, "dilation": 1}
    values = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "bias": bias,
        "dilation": dilation,
    }
    keywords = ["kernel_size", *_non_default(values, defaults)]
    optional = frozenset(k for k in ("output_padding", "dilation", "bias") if k in keywords)
    return LayerCase("transpose_conv2d", class_name, _call(values, 2, keywords), input_shape, optional)


def nearest_upsampling(scale_factor: int, input_shape: Shape) -> LayerCase:
    """`NearestUpsampling(scale_factor=s)`; a block with a fixed factor of 2 may take no argument."""
    call = _call(
        {"scale_factor": scale_factor}, 0, ["scale_factor"], ["scale_factor"] if scale_factor == 2 else []
    )
    optional = frozenset() if scale_factor == 2 else frozenset({"scale_factor"})
    return LayerCase("nearest_upsampling", "NearestUpsampling", call, input_shape, optional)


def upsampling(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    padding: int,
    scale_factor: int,
    input_shape: Shape,
    transposed_kernel: int,
    transposed_padding: int = 0,
) -> UpsamplingCase:
    """`Upsampling(in, out, kernel_size=k, padding=p, scale_factor=s)` (nearest-up then conv) and the
    transposed-convolution reading `Upsampling(in, out, kernel_size=k', stride=s, padding=p')`.

    The padding keeps the size (p = (k - 1) / 2), so a block without a padding argument, which pads
    that way by itself, is built without it (through the adapter).
    """
    values = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": kernel_size,
        "stride": 1,
        "padding": padding,
        "dilation": 1,
        "bias": True,
        "scale_factor": scale_factor,
    }
    call = _call(values, 2, ["kernel_size", "padding", "scale_factor"], droppable=["padding"])
    scale = LayerCase("upsample_conv", "Upsampling", call, input_shape)
    transposed = transpose_conv2d(
        in_channels,
        out_channels,
        transposed_kernel,
        input_shape,
        stride=scale_factor,
        padding=transposed_padding,
        class_name="Upsampling",
    )
    return UpsamplingCase(scale, transposed)


def activation(
    reference_name: str, class_name: str, input_shape: Shape, input_scale: float = 1.0
) -> LayerCase:
    return LayerCase(reference_name, class_name, _call({}, 0, ()), input_shape, input_scale=input_scale)


def sgd(
    lr: float,
    shapes: Sequence[Shape],
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> OptimizerCase:
    """`SGD(params, lr=..., ...)` with `torch.optim.SGD`'s argument order and defaults."""
    defaults = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    values = {
        "params": None,
        "lr": lr,
        "momentum": momentum,
        "dampening": dampening,
        "weight_decay": weight_decay,
        "nesterov": nesterov,
    }
    options = _non_default(values, defaults)
    return OptimizerCase(
        _call(values, 1, ["lr", *options], ["params"]), tuple(shapes), optional=frozenset(options)
    )


GRIDS: Mapping[str, tuple[Case, ...]] = {
    "conv2d": (
        conv2d(3, 8, 5, (2, 3, 12, 12)),
        conv2d(3, 4, 1, (2, 3, 7, 9)),
        conv2d(3, 4, 2, (1, 3, 8, 8), stride=2),
        conv2d(3, 8, 3, (4, 3, 10, 10), padding=1),
        conv2d(4, 6, 3, (2, 4, 11, 11), stride=2, padding=1),
        conv2d(2, 3, 4, (2, 2, 13, 10), stride=3, padding=2),
        conv2d(3, 5, (3, 5), (2, 3, 9, 12), stride=(1, 2), padding=(1, 2)),
        conv2d(3, 4, (1, 3), (1, 3, 6, 7)),
        conv2d(3, 2, 3, (2, 3, 9, 9), stride=(2, 1), padding=(0, 1)),
        conv2d(1, 1, 3, (5, 1, 6, 6)),
        conv2d(3, 3, 5, (3, 3, 16, 16), stride=2, padding=2),
        conv2d(8, 16, 3, (2, 8, 8, 8), padding=1),
        conv2d(3, 16, 3, (8, 3, 32, 32), stride=2, padding=1),
        conv2d(3, 4, 3, (2, 3, 11, 11), dilation=2),
        conv2d(2, 3, 3, (1, 2, 9, 10), padding=2, dilation=(2, 1)),
        conv2d(3, 4, 3, (2, 3, 8, 8), bias=False),
    ),
    "transpose_conv2d": (
        transpose_conv2d(3, 4, 2, (2, 3, 5, 5), stride=2),
        transpose_conv2d(4, 3, 3, (2, 4, 6, 6), stride=2, padding=1),
        transpose_conv2d(3, 5, 3, (1, 3, 5, 7)),
        transpose_conv2d(2, 5, 4, (2, 2, 7, 7), stride=2, padding=1),
        transpose_conv2d(3, 2, 5, (2, 3, 4, 5), stride=3, padding=2),
        transpose_conv2d(3, 4, (2, 3), (2, 3, 5, 6), stride=(2, 1), padding=(0, 1)),
        transpose_conv2d(3, 4, 1, (3, 3, 6, 6)),
        transpose_conv2d(16, 3, 4, (4, 16, 8, 8), stride=2, padding=1),
        transpose_conv2d(4, 3, 3, (2, 4, 5, 5), stride=2, padding=1, output_padding=1),
        transpose_conv2d(3, 2, 3, (2, 3, 5, 5), dilation=2),
        transpose_conv2d(3, 4, 3, (2, 3, 6, 6), stride=2, bias=False),
    ),
    "nearest_upsampling": (
        nearest_upsampling(2, (2, 3, 5, 5)),
        nearest_upsampling(2, (4, 8, 16, 16)),
        nearest_upsampling(2, (1, 1, 3, 7)),
        nearest_upsampling(3, (1, 2, 4, 7)),
        nearest_upsampling(4, (2, 3, 3, 3)),
    ),
    "upsampling": (
        upsampling(3, 4, 3, 1, 2, (2, 3, 5, 5), transposed_kernel=2),
        upsampling(16, 3, 3, 1, 2, (4, 16, 8, 8), transposed_kernel=4, transposed_padding=1),
        upsampling(4, 2, 1, 0, 2, (1, 4, 6, 7), transposed_kernel=2),
        upsampling(3, 3, 5, 2, 2, (2, 3, 4, 6), transposed_kernel=2),
        upsampling(2, 3, 3, 1, 3, (1, 2, 4, 4), transposed_kernel=3),
    ),
    "relu": (
        activation("relu", "ReLU", (2, 3, 8, 8)),
        activation("relu", "ReLU", (1, 5, 7, 3), input_scale=3.0),
        activation("relu", "ReLU", (8, 3, 32, 32)),
        activation("relu", "ReLU", (3, 10)),
    ),
    "sigmoid": (
        activation("sigmoid", "Sigmoid", (2, 3, 8, 8)),
        activation("sigmoid", "Sigmoid", (1, 5, 7, 3), input_scale=3.0),
        activation("sigmoid", "Sigmoid", (8, 3, 32, 32)),
        activation("sigmoid", "Sigmoid", (2, 3, 6, 6), input_scale=10.0),
        activation("sigmoid", "Sigmoid", (3, 10)),
    ),
    "mse": (
        LossCase((2, 3, 8, 8)),
        LossCase((1, 1, 5, 7)),
        LossCase((8, 3, 32, 32)),
        LossCase((3, 10)),
    ),
    "sgd": (
        sgd(0.1, [(4, 3, 3, 3), (4,)]),
        sgd(0.01, [(2, 5), (5,), (3, 3, 1, 1)]),
        sgd(0.05, [(4, 3, 3, 3), (4,)], momentum=0.9),
        sgd(0.1, [(4, 3, 3, 3), (4,)], weight_decay=0.01),
        sgd(0.1, [(4, 3, 3, 3), (4,)], momentum=0.9, nesterov=True),
        sgd(0.1, [(6,)], momentum=0.5, dampening=0.5),
    ),
    "sequential": (
        ChainCase(
            (
                conv2d(3, 4, 3, (), padding=1),
                activation("relu", "ReLU", ()),
                conv2d(4, 2, 3, (), stride=2),
                activation("sigmoid", "Sigmoid", ()),
            ),
            (2, 3, 9, 9),
        ),
        ChainCase(
            (
                conv2d(3, 8, 3, (), stride=2, padding=1),
                activation("relu", "ReLU", ()),
                conv2d(8, 3, 3, (), padding=1),
                activation("sigmoid", "Sigmoid", ()),
            ),
            (1, 3, 8, 8),
        ),
        ChainCase((activation("relu", "ReLU", ()), activation("sigmoid", "Sigmoid", ())), (2, 3, 5, 5)),
    ),
}
"""Per block kind (the keys of `harness.checks.blocks.adapters.CLASS_NAMES`): its configurations."""


def trials(kind: str, seed: int) -> list[Trial]:
    """Every case of `kind` with its seeded tensors (float32, standard normal unless said otherwise)."""
    return [
        _trial(case, torch.Generator().manual_seed(seed * 100_003 + index))
        for index, case in enumerate(GRIDS[kind])
    ]


def probe_args(trials_: Sequence[Trial], seed: int, wall_s: float | None = None) -> dict[str, Any]:
    """The arguments the child's `probe_<kind>` gets: plain data and tensors only.

    With `wall_s` (the child's wall-time limit) the child also learns when that limit ends, to share
    its time between configurations (see `harness.checks.blocks.probe`).
    """
    timing = {"wall_s": float(wall_s), "deadline": time.time() + wall_s} if wall_s else {}
    return {"seed": seed, "configs": [_config(t) for t in trials_], **timing}


def _trial(case: Case, generator: torch.Generator) -> Trial:
    def normal(shape: Shape, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=torch.float32) * scale

    if isinstance(case, LayerCase | UpsamplingCase | ChainCase):
        layer = case.scale if isinstance(case, UpsamplingCase) else case
        scale = layer.input_scale if isinstance(layer, LayerCase) else 1.0
        output_shape = layer.output_shape()
        if isinstance(case, UpsamplingCase) and case.transposed.output_shape() != output_shape:
            raise ValueError(f"{case.scale.label}: the two readings of Upsampling give different shapes")
        x = normal(layer.input_shape, scale)
        return Trial(case, {"x": x, "g1": normal(output_shape), "g2": normal(output_shape)})
    if isinstance(case, LossCase):
        return Trial(case, {"x": normal(case.shape), "target": normal(case.shape)})
    initial = [normal(shape) for shape in case.shapes]
    grads = [[normal(shape) for shape in case.shapes] for _ in range(case.steps)]
    return Trial(case, {"initial": initial, "grads": grads})


def _config(trial: Trial) -> dict[str, Any]:
    case, tensors = trial.case, dict(trial.tensors)
    if isinstance(case, UpsamplingCase):
        return {
            "scale_call": case.scale.call.as_args(),
            "transposed_call": case.transposed.call.as_args(),
            "optional": sorted(case.transposed.optional),
            **tensors,
        }
    if isinstance(case, ChainCase):
        layers = [{"kind": layer.reference, "call": layer.call.as_args()} for layer in case.layers]
        return {"layers": layers, **tensors}
    return {"call": case.call.as_args(), "optional": sorted(getattr(case, "optional", ())), **tensors}
