"""The float32 rule of `harness.checks.blocks.tolerance`: correct float32 blocks pass, wrong formulas do not.

The correct implementations here are written the way students write them (unfold + matmul, fold for
the input gradient, a sigmoid from exp), in float32; the reference is torch in float64 on the same data.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from harness.checks.blocks import grids, reference
from harness.checks.blocks.tolerance import K, compare

CONV_TRIALS = grids.trials("conv2d", seed=3)


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _weights(case: grids.LayerCase) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(11)
    shapes = case.parameter_shapes()
    bound = 1 / math.sqrt(math.prod(shapes[0][1:]))
    return [torch.empty(s).uniform_(-bound, bound, generator=generator) for s in shapes]


def _unfold_conv(x, weight, bias, values):
    """Forward as im2col + one matmul, the usual student implementation."""
    kh, kw = weight.shape[2:]
    cols = F.unfold(
        x, (kh, kw), dilation=values["dilation"], padding=values["padding"], stride=values["stride"]
    )
    out = weight.reshape(weight.shape[0], -1) @ cols
    if bias is not None:
        out = out + bias.reshape(1, -1, 1)
    (sh, sw), (ph, pw), (dh, dw) = (_pair(values[k]) for k in ("stride", "padding", "dilation"))
    height = (x.shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    width = (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return out.reshape(x.shape[0], weight.shape[0], height, width)


def _unfold_grads(x, weight, grad_output, values):
    """Weight gradient as a matmul with the columns, input gradient through fold."""
    kh, kw = weight.shape[2:]
    settings = dict(dilation=values["dilation"], padding=values["padding"], stride=values["stride"])
    cols = F.unfold(x, (kh, kw), **settings)
    grad_flat = grad_output.reshape(grad_output.shape[0], grad_output.shape[1], -1)
    grad_weight = torch.einsum("nol,nkl->ok", grad_flat, cols).reshape(weight.shape)
    grad_cols = weight.reshape(weight.shape[0], -1).t() @ grad_flat
    grad_input = F.fold(grad_cols, x.shape[2:], (kh, kw), **settings)
    return grad_input, grad_weight


def _evaluations(trial):
    case, tensors = trial.case, trial.tensors
    params = _weights(case)
    function = reference.conv2d(case.call.values)
    exact = reference.evaluate(function, tensors["x"], params, tensors["g1"], torch.float64)
    rounded = reference.evaluate(function, tensors["x"], params, tensors["g1"], torch.float32)
    return params, exact, rounded


@pytest.mark.parametrize("trial", CONV_TRIALS, ids=[t.case.label for t in CONV_TRIALS])
def test_an_unfold_convolution_in_float32_passes(trial):
    params, exact, rounded = _evaluations(trial)
    values, x, g = trial.case.call.values, trial.tensors["x"], trial.tensors["g1"]
    bias = params[1] if len(params) > 1 else None
    grad_input, grad_weight = _unfold_grads(x, params[0], g, values)
    for student, want, have in (
        (_unfold_conv(x, params[0], bias, values), exact.output, rounded.output),
        (grad_input, exact.grad_input, rounded.grad_input),
        (grad_weight, exact.grad_params[0], rounded.grad_params[0]),
    ):
        result = compare(student, want, have)
        assert result.passed, result
        assert result.abs_error < result.allowed / 2  # margin: the measured worst case is ~4x torch's error


def _flipped(x, weight, bias, values):
    return _unfold_conv(x, weight.flip(2, 3), bias, values)


def _without_bias(x, weight, bias, values):
    return _unfold_conv(x, weight, None, values)


def _swapped_channels(x, weight, bias, values):
    return _unfold_conv(x, weight.transpose(0, 1).reshape(weight.shape), bias, values)


def _half_precision_sum(x, weight, bias, values):
    return _unfold_conv(x.half().float(), weight, bias, values)


@pytest.mark.parametrize(
    "wrong",
    [_flipped, _without_bias, _swapped_channels, _half_precision_sum],
    ids=["flipped-kernel", "no-bias", "swapped-channels", "float16-inputs"],
)
def test_a_wrong_convolution_fails(wrong):
    trial = CONV_TRIALS[0]
    params, exact, rounded = _evaluations(trial)
    student = wrong(trial.tensors["x"], params[0], params[1], trial.case.call.values)
    assert not compare(student, exact.output, rounded.output).passed


@pytest.mark.parametrize(
    ("name", "student", "passes"),
    [
        ("relu-exact", lambda x: x * (x > 0), True),
        ("sigmoid-from-exp", lambda x: 1 / (1 + (-x).exp()), True),
        ("sigmoid-via-tanh", lambda x: 0.5 * (1 + (x / 2).tanh()), True),
        ("relu-leaky", lambda x: torch.where(x > 0, x, 0.01 * x), False),
        ("sigmoid-cut-at-6", lambda x: 1 / (1 + (-x.clamp(-6, 6)).exp()), False),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_activations_in_float32(name, student, passes):
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 4
    function = torch.sigmoid if "sigmoid" in name else F.relu
    exact, rounded = function(x.double()), function(x)
    assert compare(student(x), exact, rounded).passed is passes


def test_the_allowance_is_k_times_torch_error_plus_a_floor():
    exact = torch.tensor([1.0, -2.0], dtype=torch.float64)
    rounded = torch.tensor([1.0 + 2**-20, -2.0])
    result = compare(exact.float(), exact, rounded)
    assert result.allowed == pytest.approx(K * 2**-20 + 4 * torch.finfo(torch.float32).eps * 2.0)
    assert result.abs_error == 0.0 and result.passed


def test_nan_is_an_infinite_error():
    result = compare(torch.tensor([float("nan"), 1.0]), torch.ones(2, dtype=torch.float64), torch.ones(2))
    assert not result.passed and not result.finite
    assert result.as_data()["abs"] is None
