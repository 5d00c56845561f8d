"""Blocks with known defects, probed in-process and judged: each gets the outcome and the cause it
deserves. The defects are small subclasses of the torch-backed fixture (correct math, forbidden imports),
each breaking one thing a real 2022 submission broke; the sandbox itself is tested in
tests/test_blocks_check.py."""

from __future__ import annotations

import importlib.util
import math
import types
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

import harness.checks.blocks.probe as probes
from harness.checks.blocks import grids, reference
from harness.checks.blocks.judge import BLOCK_KINDS, judge_block, resolve_absent
from harness.results import Fault, Outcome
from harness.sandbox import ChildRun, Limits

FIXTURES = Path(__file__).parent / "submissions"


def load_fixture(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"fixture_{name}", FIXTURES / name / "Miniproject_2" / "model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BASE = load_fixture("blocks_torch_backed")
KINDS = {kind.kind: kind for kind in BLOCK_KINDS}


def variant(remove: tuple[str, ...] = (), **classes: type) -> types.ModuleType:
    """The torch-backed fixture with some classes replaced, added or removed."""
    module = types.ModuleType("variant")
    module.__file__ = __file__
    module.__dict__.update({k: v for k, v in vars(BASE).items() if isinstance(v, type) and k not in remove})
    module.__dict__.update(classes)
    return module


@pytest.fixture(autouse=True)
def one_thread():
    """As in the child processes: one torch thread (the suite shares two cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check(kind: str, model: types.ModuleType, wall_s: float | None = None):
    """The `blocks.<kind>` result as `harness.checks.blocks.judge.run` gives it, with the probe in-process."""
    trials = grids.trials(kind, seed=0)
    with torch.no_grad():
        value = getattr(probes, f"probe_{kind}")(model, grids.probe_args(trials, seed=0, wall_s=wall_s))
    return judge_block(KINDS[kind], trials, ChildRun("ok", value, "", "", "", "", 0.0, False), 0.0)


# ---- the defects -------------------------------------------------------------------------------------


class ReLUInPlace(BASE.ReLU):
    def forward(self, x):
        self._input = x.clone()
        return x.clamp_(min=0)


class SequentialParamRaises(BASE.Sequential):
    def param(self):
        return [module.param() for module in self.modules] + None


class Conv2dKernel3Only(BASE.Conv2d):
    def forward(self, x):
        if self.weight.shape[2:] != (3, 3):
            raise RuntimeError("shape '[-1, 27]' is invalid for input of size 75")
        return super().forward(x)


class Conv2dOverwritesGradients(BASE.Conv2d):
    def backward(self, grad_output):
        self.weight_grad.zero_()
        if self.bias_grad is not None:
            self.bias_grad.zero_()
        return super().backward(grad_output)


class SigmoidScalesGradOutputInPlace(BASE.Sigmoid):
    def backward(self, grad_output):
        s = torch.sigmoid(self._input)
        return grad_output.mul_(s * (1 - s))


class TransposeConv2dOutInLayout(BASE.TransposeConv2d):
    """Stores the weight (out, in, kh, kw), as many unfold-based implementations do."""

    def __init__(self, in_channels, out_channels, kernel_size, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.weight = self.weight.transpose(0, 1).contiguous()
        self.weight_grad = torch.zeros_like(self.weight)

    def _function(self, x, weight, bias=None):
        return super()._function(x, weight.transpose(0, 1), bias)


class MSESum(BASE.MSE):
    def forward(self, prediction, target):
        self._difference = prediction - target
        return (self._difference**2).sum()

    def backward(self):
        return 2 * self._difference


class MSEReturnsAlwaysEqual(BASE.MSE):
    """The `__eq__` cheat: a loss that claims to equal anything a grading script compares it with."""

    def forward(self, prediction, target):
        super().forward(prediction, target)
        return type("AlwaysEqual", (), {"__eq__": lambda self, other: True, "__hash__": None})()


class MSEWithGradArgument(BASE.MSE):
    def backward(self, grad_output):
        return grad_output * super().backward()


class SGDRebindsLocally:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self):
        for param, grad in self.params:
            param = param - self.lr * grad  # the bug: the update never reaches the parameter


class SGDPlain:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self):
        for param, grad in self.params:
            param.sub_(self.lr * grad)


class SGDOfModel:
    def __init__(self, model, eta=0.1):
        self.model, self.eta = model, eta

    def step(self):
        for param, grad in self.model.param():
            param -= self.eta * grad


class ParameterObject:
    def __init__(self, value):
        self.value, self.grad = value, torch.zeros_like(value)


class Conv2dAbbreviated(BASE.Conv2d):
    """`Conv2d(in_ch, out_ch, kernel, stride, padding, dilation, use_bias, device)` with weights `w`, `b`
    and param() returning parameter objects."""

    def __init__(self, in_ch, out_ch, kernel, stride=1, padding=0, dilation=1, use_bias=True, device="cpu"):
        super().__init__(in_ch, out_ch, kernel, stride, padding, dilation, use_bias)
        self.w = ParameterObject(self.weight)
        self.b = ParameterObject(self.bias) if use_bias else None
        self.weight_grad, self.bias_grad = self.w.grad, self.b.grad if use_bias else None

    def _pairs(self):
        return super().param()

    def param(self):
        return [self.w, self.b] if self.b is not None else [self.w]


class Conv2dNoBias(BASE.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=False)


class ReLUParamNone(BASE.ReLU):
    def param(self):
        return None


class ReLUReturnsList(BASE.ReLU):
    def forward(self, x):
        return [super().forward(x)]


class NearestUpsamplingFixedTwo(BASE._Autograd):
    def __init__(self):
        pass

    def _function(self, x):
        return F.interpolate(x, scale_factor=2, mode="nearest")


class UpsamplingAsTransposed(BASE.TransposeConv2d):
    pass


class Conv2dNoDilation(BASE.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 1, bias)


class Conv2dFlatWeight(BASE.Conv2d):
    """Keeps the weight as the (out, in·kh·kw) matrix an unfold implementation multiplies with."""

    def __init__(self, in_channels, out_channels, kernel_size, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.shape = self.weight.shape
        self.weight = self.weight.reshape(self.shape[0], -1)
        self.weight_grad = torch.zeros_like(self.weight)

    def _function(self, x, weight, bias=None):
        return super()._function(x, weight.reshape(self.shape), bias)


class Conv2dColumnsFirstWeight(BASE.Conv2d):
    """Keeps the weight as the (in·kh·kw, out) matrix of `cols.transpose(1, 2) @ W`."""

    def __init__(self, in_channels, out_channels, kernel_size, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.shape = self.weight.shape
        self.weight = self.weight.reshape(self.shape[0], -1).t().contiguous()
        self.weight_grad = torch.zeros_like(self.weight)

    def _function(self, x, weight, bias=None):
        return super()._function(x, weight.t().reshape(self.shape), bias)


class ReLUParamBreaksAfterBackward(BASE.ReLU):
    def backward(self, grad_output):
        self.done = True
        return super().backward(grad_output)

    def _pairs(self):
        return []

    def param(self):
        if getattr(self, "done", False):
            raise AttributeError("'ReLU' object has no attribute 'grads'")
        return []


class UpsamplingSamePadding(BASE.Upsampling):
    """`Upsampling(in_channels, out_channels, kernel_size, scale_factor)`, padding always k // 2."""

    def __init__(self, in_channels, out_channels, kernel_size=3, scale_factor=2):
        super().__init__(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, scale_factor=scale_factor
        )


class ReLUStuckOnBigBatches(BASE.ReLU):
    def forward(self, x):
        while x.shape[0] >= 8:
            pass
        return super().forward(x)


class SequentialNestedParam(BASE.Sequential):
    def param(self):
        return [module.param() for module in self.modules]


# ---- the specification ---------------------------------------------------------------------------------

CASES = [
    pytest.param(
        "conv2d",
        variant(),
        Outcome.PASS,
        "16 of 16 configurations match torch.nn.Conv2d",
        1.0,
        id="conv2d-correct",
    ),
    pytest.param(
        "relu",
        variant(ReLU=ReLUInPlace),
        Outcome.FAIL,
        "ReLU.forward changed its input in place",
        0.0,
        id="relu-in-place",
    ),
    pytest.param(
        "sequential",
        variant(Sequential=SequentialParamRaises),
        Outcome.FAIL,
        "Sequential.param() raised TypeError: can only concatenate list",
        0.0,
        id="sequential-param-raises",
    ),
    pytest.param(
        "sequential",
        variant(Sequential=SequentialNestedParam),
        Outcome.PASS,
        "only through the adapter: Sequential.param() returns one list of pairs per layer",
        1.0,
        id="sequential-param-one-list-per-layer",
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dKernel3Only),
        Outcome.FAIL,
        "Conv2d(3, 8, kernel_size=5) on (2, 3, 12, 12): crashed in forward: RuntimeError: shape",
        9 / 16,
        id="conv2d-kernel-3-only",
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dOverwritesGradients),
        Outcome.FAIL,
        "the weight gradient is replaced, not accumulated, by a second backward",
        0.0,
        id="conv2d-gradients-not-accumulated",
    ),
    pytest.param(
        "sigmoid",
        variant(Sigmoid=SigmoidScalesGradOutputInPlace),
        Outcome.FAIL,
        "Sigmoid.backward changed grad_output in place",
        0.0,
        id="sigmoid-grad-output-in-place",
    ),
    pytest.param(
        "transpose_conv2d",
        variant(TransposeConv2d=TransposeConv2dOutInLayout),
        Outcome.PASS,
        "11 of 11 configurations match",
        1.0,
        id="transpose-weight-out-in-layout",
    ),
    pytest.param(
        "mse",
        variant(MSE=MSESum),
        Outcome.FAIL,
        "loss differs from torch.nn.MSELoss",
        0.0,
        id="mse-sum-not-mean",
    ),
    pytest.param(
        "mse", variant(MSE=MSEWithGradArgument), Outcome.PASS, "4 of 4", 1.0, id="mse-backward-takes-grad"
    ),
    pytest.param(
        "mse",
        variant(MSE=MSEReturnsAlwaysEqual),
        Outcome.ERROR,
        "crashed in forward: forward returned AlwaysEqual, not a tensor",
        0.0,
        id="mse-returns-always-equal",
    ),
    pytest.param(
        "sgd",
        variant(SGD=SGDRebindsLocally),
        Outcome.FAIL,
        "step() did not change the parameters",
        0.0,
        id="sgd-update-lost",
    ),
    pytest.param(
        "sgd",
        variant(SGD=SGDPlain),
        Outcome.PASS,
        "2 of 2 configurations match torch.optim.SGD, largest relative error",
        1.0,
        id="sgd-without-momentum-skips-those",
    ),
    pytest.param(
        "sgd",
        variant(SGD=SGDOfModel),
        Outcome.PASS,
        "only through the adapter: SGD(params, lr=0.1) raised",
        1.0,
        id="sgd-of-model-with-eta",
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dAbbreviated),
        Outcome.PASS,
        "only through the adapter: Conv2d(3, 8, kernel_size=5) raised TypeError",
        1.0,
        id="conv2d-abbreviated-arguments-parameter-objects",
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dNoBias),
        Outcome.FAIL,
        "has no bias of 8 elements",
        0.0,
        id="conv2d-without-bias",
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dNoDilation),
        Outcome.PASS,
        "14 of 14 configurations match torch.nn.Conv2d, largest relative error",
        1.0,
        id="conv2d-without-dilation-skips-those",
    ),
    pytest.param(
        "relu",
        variant(ReLU=ReLUParamNone),
        Outcome.FAIL,
        "ReLU.param() returned None, expected a list of (parameter, gradient) pairs",
        0.0,
        id="relu-param-none",
    ),
    pytest.param(
        "relu",
        variant(ReLU=ReLUParamBreaksAfterBackward),
        Outcome.FAIL,
        "ReLU.param() raised AttributeError: 'ReLU' object has no attribute 'grads'",
        0.0,
        id="relu-param-breaks-after-backward",
    ),
    pytest.param(
        "relu",
        variant(ReLU=ReLUReturnsList),
        Outcome.ERROR,
        "crashed in forward: forward returned list",
        0.0,
        id="relu-returns-list",
    ),
    pytest.param(
        "nearest_upsampling",
        variant(NearestUpsampling=NearestUpsamplingFixedTwo),
        Outcome.PASS,
        "NearestUpsampling(scale_factor=2) raised TypeError",
        1.0,
        id="nearest-fixed-factor-two",
    ),
    pytest.param(
        "upsampling",
        variant(Upsampling=UpsamplingAsTransposed),
        Outcome.PASS,
        "5 of 5",
        1.0,
        id="upsampling-as-transposed-subclass",
    ),
    pytest.param("upsampling", variant(), Outcome.PASS, "5 of 5", 1.0, id="upsampling-nearest-then-conv"),
    pytest.param(
        "upsampling",
        variant(Upsampling=BASE.NearestUpsampling),
        Outcome.SKIPPED,
        "Upsampling is another name for NearestUpsampling, which is checked as such",
        0.0,
        id="upsampling-alias-of-nearest",
    ),
    pytest.param(
        "upsampling",
        variant(Upsampling=UpsamplingSamePadding),
        Outcome.PASS,
        "adapter: Upsampling(3, 4, kernel_size=3, padding=1, scale_factor=2) raised TypeError",
        1.0,
        id="upsampling-without-padding-argument",
    ),
    pytest.param(
        "conv2d", variant(Conv2d=Conv2dFlatWeight), Outcome.PASS, "16 of 16", 1.0, id="conv2d-flat-weight"
    ),
    pytest.param(
        "conv2d",
        variant(Conv2d=Conv2dColumnsFirstWeight),
        Outcome.PASS,
        "16 of 16",
        1.0,
        id="conv2d-weight-as-columns-by-out",
    ),
    pytest.param(
        "transpose_conv2d",
        variant(remove=("TransposeConv2d",), ConvTranspose2d=BASE.TransposeConv2d),
        Outcome.PASS,
        "only through the adapter: class named ConvTranspose2d, not TransposeConv2d",
        1.0,
        id="transpose-renamed",
    ),
    pytest.param(
        "relu",
        variant(remove=("ReLU",)),
        Outcome.MISSING,
        "no ReLU class in model.py (classes found:",
        0.0,
        id="relu-missing",
    ),
]


@pytest.mark.parametrize(("kind", "model", "outcome", "message", "score"), CASES)
def test_block_verdicts(kind, model, outcome, message, score):
    result = check(kind, model)
    assert result.outcome is outcome, result.message
    assert message in result.message
    assert result.score == pytest.approx(score)
    assert "\n" not in result.message


def test_adapter_use_is_in_the_details_for_the_rubric():
    result = check("conv2d", variant(Conv2d=Conv2dAbbreviated))
    assert result.details["adapter"] is True
    assert "signature Conv2d(in_ch, out_ch, kernel" in result.details["adapter_reason"]
    assert check("conv2d", variant()).details["adapter"] is False


def test_every_configuration_reports_its_errors():
    rows = check("conv2d", variant()).details["configs"]
    assert len(rows) == len(grids.GRIDS["conv2d"])
    for row in rows:
        assert row["status"] == "pass" and row["cause"] is None
        assert 0 <= row["max_rel_error"] < 1e-5
        assert set(row["errors"]) >= {
            "output",
            "input gradient",
            "weight gradient",
            "weight gradient after a second backward",
        }


def test_a_skipped_row_is_not_counted():
    result = check("conv2d", variant(Conv2d=Conv2dNoDilation))
    assert (result.details["passed"], result.details["total"], result.details["skipped"]) == (14, 14, 2)
    assert "Conv2d has no dilation argument" in result.message


@pytest.mark.parametrize(
    ("present", "absent", "outcome"),
    [
        pytest.param("nearest_upsampling", "TransposeConv2d", Outcome.SKIPPED, id="nearest-only"),
        pytest.param("transpose_conv2d", "NearestUpsampling", Outcome.SKIPPED, id="transposed-only"),
    ],
)
def test_one_of_the_two_upsampling_blocks_may_be_absent(present, absent, outcome):
    model = variant(remove=(absent,))
    missing = "transpose_conv2d" if absent == "TransposeConv2d" else "nearest_upsampling"
    results = resolve_absent([check(present, model), check(missing, model)])
    assert results[0].outcome is Outcome.PASS
    assert results[1].outcome is outcome and results[1].fault is Fault.NONE
    assert f"no {absent}; the statement asks for" in results[1].message


def test_both_upsampling_blocks_absent_stay_missing():
    model = variant(remove=("TransposeConv2d", "NearestUpsampling"))
    results = resolve_absent([check("transpose_conv2d", model), check("nearest_upsampling", model)])
    assert [r.outcome for r in results] == [Outcome.MISSING, Outcome.MISSING]


def test_a_dead_child_costs_only_its_check():
    kind = KINDS["relu"]
    child = ChildRun("timeout", None, "ran past 60 s", "", "", "", 60.0, False)
    result = judge_block(kind, grids.trials("relu", 0), child, 60.0)
    assert result.outcome is Outcome.TIMEOUT and result.fault is Fault.SUBMISSION
    assert result.message == "ReLU: the block's checks did not finish in time (ran past 60 s)"


def test_the_reference_submission_passes_every_block():
    import importlib
    import sys

    root = str(Path(__file__).parents[1])
    sys.path.insert(0, root)
    try:
        model = importlib.import_module("Miniproject_2.model")
    finally:
        sys.path.remove(root)
    for kind in KINDS:
        result = check(kind, model)
        assert result.outcome is Outcome.PASS, result.message
        assert result.details["adapter"] is False and result.details["skipped"] == 0


def test_grids_cover_the_statement():
    convs = [c.call.values for c in grids.GRIDS["conv2d"]]
    kernels = {k if isinstance(k, int) else max(k) for k in (v["kernel_size"] for v in convs)}
    assert kernels == {1, 2, 3, 4, 5}
    assert any(isinstance(v["kernel_size"], tuple) and len(set(v["kernel_size"])) == 2 for v in convs)
    assert {v["stride"] for v in convs} >= {1, 2, 3}
    assert any(v["dilation"] != 1 for v in convs) and any(not v["bias"] for v in convs)
    assert {c.input_shape[0] for c in grids.GRIDS["conv2d"]} >= {1, 2, 8}
    assert any(math.prod(c.input_shape[2:]) % 2 for c in grids.GRIDS["conv2d"])


def test_a_record_the_harness_cannot_read_is_the_submissions_error():
    """The child's process wrote the record: one that cannot be judged never earns a re-run."""
    trials = grids.trials("relu", 0)
    value = {"class": "ReLU", "configs": ["tampered"] + [{"status": "ok"}] * (len(trials) - 1)}
    result = judge_block(KINDS["relu"], trials, ChildRun("ok", value, "", "", "", "", 0.0, False), 0.0)
    assert (result.outcome, result.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert "the harness could not judge it: TypeError: the record is a str, not a dict" in result.message


@pytest.mark.parametrize(("released", "fault"), [(True, Fault.SUBMISSION), (False, Fault.SETUP)])
def test_a_block_child_killed_by_sigkill_is_the_setups_only_before_release(released, fault):
    """The harness sent no SIGKILL: once released, the child's own processes may have."""
    killed = (
        "killed by SIGKILL, not sent by the harness for a limit (the kernel reports no out-of-memory kill)"
    )
    child = ChildRun("killed", None, killed, "", "", "", 0.0, False, released=released)
    result = judge_block(KINDS["relu"], grids.trials("relu", 0), child, 0.0)
    assert (result.outcome, result.fault) == (Outcome.CRASH, fault)
    died = f"the process died while running the block ({killed})"
    assert result.message == (
        f"ReLU: {died}"
        if released
        else f"ReLU: the sandbox did not run the block's checks (killed: {killed}): re-run it"
    )


@pytest.mark.parametrize(
    ("value", "opening"),
    [
        ({"class": None, "classes": 5}, "judge_block could not judge what the child sent: TypeError"),
        ({"class": "ReLU", "configs": []}, "ReLU: the child reported 0 of"),
    ],
    ids=["judge-raises", "configs-missing"],
)
def test_a_forged_blocks_value_is_the_submissions_error(monkeypatch, value, opening):
    """A released child's value breaks the judge (`classes` not a list) or leaves configurations out:
    the submission's ERROR, named in the message; before release it would be the set-up's."""
    import harness.checks.blocks.judge as blocks

    trials = grids.trials("relu", 0)
    monkeypatch.setattr(blocks.grids, "trials", lambda kind, seed: trials)
    monkeypatch.setattr(
        blocks, "run_probe", lambda *a, **k: ChildRun("ok", value, "", "", "", "", 0.0, False)
    )
    ctx = SimpleNamespace(
        seed=0, limits=lambda check_id: Limits(), submission=SimpleNamespace(package_dir=None),
        note_recordings=lambda *a: None,
    )  # fmt: skip
    result = blocks._check_or_report(KINDS["relu"], ctx)
    assert (result.id, result.outcome, result.fault) == ("blocks.relu", Outcome.ERROR, Fault.SUBMISSION)
    assert result.message.startswith(opening), result.message


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "weight_decay": 0.01},
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        {"lr": 0.1, "momentum": 0.5, "dampening": 0.5},
    ],
    ids=["plain", "momentum", "weight-decay", "nesterov", "dampening"],
)
def test_the_sgd_reference_is_torch_optim_sgd(settings):
    generator = torch.Generator().manual_seed(5)
    initial = [torch.randn(4, 3, generator=generator), torch.randn(5, generator=generator)]
    grads = [[torch.randn(4, 3, generator=generator), torch.randn(5, generator=generator)] for _ in range(4)]
    params = [p.double().clone() for p in initial]
    optimizer = torch.optim.SGD(params, **settings)
    for step, (grad_step, ours) in enumerate(
        zip(grads, reference.sgd_trajectory(initial, grads, settings, torch.float64), strict=True)
    ):
        for param, grad in zip(params, grad_step, strict=True):
            param.grad = grad.double()
        optimizer.step()
        assert all(torch.equal(a, b) for a, b in zip(ours, params, strict=True)), step


def test_a_configuration_that_hangs_costs_only_its_row():
    check("relu", variant())  # first, without a deadline: torch's lazy imports must not be interrupted
    result = check("relu", variant(ReLU=ReLUStuckOnBigBatches), wall_s=8.0)
    assert result.outcome is Outcome.FAIL
    assert (
        result.message == "ReLU() on (8, 3, 32, 32): did not finish within 2 s (3 of 4 configurations pass)"
    )


def test_a_harness_bug_in_one_block_costs_only_that_block(monkeypatch):
    import harness.checks.blocks.judge as blocks

    def broken(kind, ctx):
        if kind.kind == "relu":
            raise KeyError("grid")
        return judge_block(kind, [], ChildRun("ok", {"class": None}, "", "", "", "", 0.0, False), 0.0)

    monkeypatch.setattr(blocks, "check_block", broken)
    results = {r.id: r for r in blocks.run(ctx=None)}
    assert (results["blocks.relu"].outcome, results["blocks.relu"].fault) == (Outcome.ERROR, Fault.SETUP)
    assert results["blocks.relu"].message.startswith("ReLU: the harness failed: KeyError: 'grid' (at test_")
    assert results["blocks.sigmoid"].outcome is Outcome.MISSING
