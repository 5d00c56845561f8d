"""Judging one configuration: what the child recorded against the float64 reference, in the parent.

Every function here takes a `Trial` (the case and the tensors the parent sent) and the child's record
for it, and returns a `Verdict`: pass, fail (wrong numbers, a shape, an in-place change, a `param()`
that does not work), crashed (the submission raised) or skipped (an optional setting the block has no
argument for). The child only reports tensors and strings; the weights it reports are the student's
own initial ones, and the reference is recomputed here with them, so nothing the child says is taken
as a verdict. The cause is the first problem met in the order a student would debug: parameters, then
forward, backward, parameter gradients, accumulation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

import torch

import harness.checks.blocks.reference as reference
from harness.checks.blocks.grids import ChainCase, LayerCase, LossCase, OptimizerCase, Trial, UpsamplingCase
from harness.checks.blocks.tolerance import Comparison, compare

PASS, FAIL, CRASHED, SKIPPED, UNJUDGED = "pass", "fail", "crashed", "skipped", "unjudged"

Layout = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Verdict:
    """One configuration's result: `status`, the first `cause` (a sentence a student understands),
    the error of each compared quantity, and why the adapter was needed (None when it was not)."""

    label: str
    status: str
    cause: str | None = None
    errors: Mapping[str, Comparison] = field(default_factory=dict)
    adapter: str | None = None
    forms: tuple[str, ...] = ()
    """Forms the statement allows that the block uses instead of the usual one (a tuple from backward,
    `(None, None)` parameters, `params()`): named in the report, never a reason to withhold points."""

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: the row of this configuration in the check's `details["configs"]`."""
        finite = [c for c in self.errors.values() if c.finite]
        return {
            "config": self.label,
            "status": self.status,
            "cause": self.cause,
            "max_abs_error": max((c.abs_error for c in finite), default=None),
            "max_rel_error": max((c.rel_error for c in finite), default=None),
            "errors": {quantity: c.as_data() for quantity, c in self.errors.items()},
            "adapter": self.adapter,
            "forms": list(self.forms),
        }


class _Judgement:
    """Collects the problems of one configuration in the order they are found."""

    def __init__(self, label: str, class_name: str, torch_name: str) -> None:
        self.label, self.class_name, self.torch_name = label, class_name, torch_name
        self.problems: list[tuple[str, str]] = []
        self.errors: dict[str, Comparison] = {}
        self.adapters: list[str] = []
        self.forms: list[str] = []

    def fail(self, cause: str) -> None:
        self.problems.append((FAIL, cause))

    def crash(self, stage: str, error: str) -> None:
        self.problems.append((CRASHED, f"crashed in {stage}: {error}"))

    def adapter(self, reason: Any) -> None:
        if isinstance(reason, str) and reason:
            self.adapters.append(reason)

    def compare(self, quantity: str, student: Any, exact: torch.Tensor, torch32: torch.Tensor) -> bool:
        """Shape, finiteness and size of the error of one quantity; False (and a cause) if wrong."""
        if not isinstance(student, torch.Tensor):
            self.fail(f"no {quantity} to compare")
            return False
        if tuple(student.shape) != tuple(exact.shape):
            self.fail(f"{quantity} has shape {tuple(student.shape)}, expected {tuple(exact.shape)}")
            return False
        result = compare(student, exact, torch32)
        self.errors[quantity] = result
        if not result.finite:
            self.fail(f"{quantity} contains NaN or infinity")
        elif not result.passed:
            self.fail(
                f"{quantity} differs from {self.torch_name} (max abs error {result.abs_error:.3g}, "
                f"allowed {result.allowed:.3g})"
            )
        return result.passed

    def form(self, reason: str) -> None:
        self.forms.append(reason)

    def verdict(self) -> Verdict:
        adapter = "; ".join(dict.fromkeys(self.adapters)) or None
        forms = tuple(dict.fromkeys(self.forms))
        status, cause = self.problems[0] if self.problems else (PASS, None)
        return Verdict(self.label, status, cause, dict(self.errors), adapter, forms)


def judge_safely(
    judge: Callable[..., Verdict], trial: Trial, record: Any, *args: Any, **kwargs: Any
) -> Verdict:
    """`judge(trial, record, ...)`, or an UNJUDGED verdict when the record cannot be read (a record
    the submission tampered with, or a harness problem): the configuration does not pass, and the
    cause names the error so that a bug of ours still shows (the submission's process wrote the
    record, so its failing to be judged is never a reason to withhold the points for a re-run)."""
    try:
        if not isinstance(record, Mapping):
            raise TypeError(f"the record is a {type(record).__name__}, not a dict")
        return judge(trial, record, *args, **kwargs)
    except Exception as exc:  # any failure here is ours to report, never the student's
        return Verdict(
            trial.case.label, UNJUDGED, f"the harness could not judge it: {type(exc).__name__}: {exc}"
        )


def judge_layer(
    trial: Trial,
    record: Mapping[str, Any],
    class_name: str,
    torch_name: str,
    upsampling_mode: str | None = None,
) -> Verdict:
    """A tensor-to-tensor block (Conv2d, TransposeConv2d, NearestUpsampling, Upsampling, ReLU, Sigmoid)."""
    case = trial.case
    if isinstance(case, UpsamplingCase):
        case = case.transposed if upsampling_mode == "transposed" else case.scale
    assert isinstance(case, LayerCase)
    judgement = _Judgement(case.label, class_name, torch_name)
    stage, error, early = _opening(judgement, record)
    if early is not None:
        return early
    reading0 = _reading(record.get("params0"))
    _judge_param_call(judgement, reading0, has_parameters=bool(case.parameter_shapes()))
    parameters = _locate_parameters(judgement, case, reading0)
    if parameters is None:
        return judgement.verdict()
    tensors = trial.tensors
    function = reference.LAYER_FUNCTIONS[case.reference](case.call.values)
    layouts = _choose_layout(case, parameters, reading0["values"], function, tensors, record.get("output"))
    values = [layout(reading0["values"][index]) for index, layout in zip(parameters, layouts, strict=True)]
    exact, rounded = _evaluations(function, tensors, values)
    _judge_pass(judgement, record, exact, rounded, stage, error)
    if stage is None or stage.startswith("second"):
        names = _parameter_names(len(parameters))
        _judge_gradients(judgement, record, parameters, layouts, names, exact, rounded, stage, error)
    return judgement.verdict()


def judge_loss(trial: Trial, record: Mapping[str, Any], class_name: str, torch_name: str) -> Verdict:
    """`MSE`: the loss, the gradient `backward()` returns, and inputs left untouched."""
    case, tensors = trial.case, trial.tensors
    assert isinstance(case, LossCase)
    judgement = _Judgement(case.label, class_name, torch_name)
    stage, error, early = _opening(judgement, record)
    if early is not None:
        return early
    function = reference.mse(tensors["target"])
    one = torch.tensor(1.0)
    exact = reference.evaluate(function, tensors["x"], (), one, torch.float64)
    rounded = reference.evaluate(function, tensors["x"], (), one, torch.float32)
    if stage == "forward":  # no loss came back: the crash is the cause, not a missing loss
        judgement.crash(stage, error)
        return judgement.verdict()
    output = record.get("output")
    if isinstance(output, torch.Tensor) and output.numel() == 1:
        output = output.reshape(())
    judgement.compare("loss", output, exact.output, rounded.output)
    judgement.compare("gradient", record.get("grad_input"), exact.grad_input, rounded.grad_input)
    if record.get("input_changed_by_forward"):
        judgement.fail(f"{class_name} changed its prediction argument in place")
    if record.get("target_changed"):
        judgement.fail(f"{class_name} changed its target argument in place")
    if stage is not None:
        judgement.crash(stage, error)
    return judgement.verdict()


def judge_optimizer(trial: Trial, record: Mapping[str, Any], class_name: str, torch_name: str) -> Verdict:
    """`SGD`: the parameters after each step against `torch.optim.SGD` with the same gradients."""
    case, tensors = trial.case, trial.tensors
    assert isinstance(case, OptimizerCase)
    judgement = _Judgement(case.label, class_name, torch_name)
    stage, error, early = _opening(judgement, record)
    if early is not None:
        return early
    exact = reference.sgd_trajectory(tensors["initial"], tensors["grads"], case.settings(), torch.float64)
    rounded = reference.sgd_trajectory(tensors["initial"], tensors["grads"], case.settings(), torch.float32)
    steps = record.get("steps") or []
    if steps and all(torch.equal(p, q) for p, q in zip(steps[0], tensors["initial"], strict=False)):
        judgement.fail("step() did not change the parameters (update them in place, or in the pairs given)")
    for index, (student, want, have) in enumerate(zip(steps, exact, rounded, strict=False), start=1):
        if len(student) != len(want):
            judgement.fail(f"step {index} left {len(student)} parameters, expected {len(want)}")
            break
        for number, (s, w, h) in enumerate(zip(student, want, have, strict=True), start=1):
            judgement.compare(f"parameter {number} after step {index}", s, w, h)
    if stage is not None:
        judgement.crash(stage, error)
    return judgement.verdict()


def judge_chain(trial: Trial, record: Mapping[str, Any], class_name: str, torch_name: str) -> Verdict:
    """`Sequential`: the chain's output and input gradient against `nn.Sequential`, and `param()`
    listing every layer's (parameter, gradient) pairs in order, gradients accumulated."""
    case, tensors = trial.case, trial.tensors
    assert isinstance(case, ChainCase)
    judgement = _Judgement(case.label, class_name, torch_name)
    stage, error, early = _opening(judgement, record)
    if early is not None:
        return early
    layers0 = [_reading(r) for r in record.get("layers0") or []]
    layer_functions, values, layer_entries = [], [], []
    for layer, reading in zip(case.layers, layers0, strict=True):
        shapes = layer.parameter_shapes()
        indices = _locate_parameters(judgement, layer, reading) if shapes else []
        if indices is None:
            return judgement.verdict()
        layer_functions.append((reference.LAYER_FUNCTIONS[layer.reference](layer.call.values), len(indices)))
        values += [reading["values"][i].reshape(s) for i, s in zip(indices, shapes, strict=True)]
        layer_entries += [reading["values"][i] for i in indices]
    function = reference.chain(layer_functions)
    exact, rounded = _evaluations(function, tensors, values)
    reading0 = _reading(record.get("params0"))
    _judge_param_call(judgement, reading0, has_parameters=bool(values))
    listed = reading0["error"] is None
    if listed and len(reading0["values"]) != len(values):
        judgement.fail(
            f"{class_name}.param() returned {len(reading0['values'])} pairs, expected {len(values)} "
            "(every layer's pairs, in order)"
        )
        listed = False
    if listed and not all(torch.equal(s, w) for s, w in zip(reading0["values"], layer_entries, strict=True)):
        judgement.fail(f"{class_name}.param() does not list the layers' parameters in order")
        listed = False
    _judge_pass(judgement, record, exact, rounded, stage, error)
    if (stage is None or stage.startswith("second")) and listed:
        indices = list(range(len(values)))
        layouts = [_reshaper(v.shape) for v in values]
        names = [f"parameter {i + 1}" for i in indices]
        _judge_gradients(judgement, record, indices, layouts, names, exact, rounded, stage, error)
    return judgement.verdict()


def _opening(judgement: _Judgement, record: Mapping[str, Any]) -> tuple[str | None, str, Verdict | None]:
    """What every judge does first: the failed stage and its error, and the verdict already, for a
    configuration the block cannot take (skipped) or a block that could not be built."""
    if record.get("status") == "unsupported":
        return None, "", Verdict(judgement.label, SKIPPED, str(record.get("error")))
    judgement.adapter(record.get("adapter"))
    for form in record.get("forms") or []:
        judgement.form(str(form))
    stage, error = _failed_stage(record)
    if record.get("reads_uninitialised"):
        judgement.fail(
            "reads memory torch.empty() leaves uninitialised (its results change from run to run: NaN "
            "when that memory holds NaN); fill it first (zero_(), fill_())"
        )
    if stage == "constructor":
        judgement.problems.append((CRASHED, f"could not be built: {error}"))
    elif stage in ("setup", "time"):
        judgement.problems.append((CRASHED, error))
    return stage, error, judgement.verdict() if stage in ("constructor", "setup", "time") else None


def _evaluations(
    function: reference.Function, tensors: Mapping[str, Any], values: Sequence[torch.Tensor]
) -> tuple[list[reference.Evaluation], list[reference.Evaluation]]:
    """The reference for the first and second backward (`g1`, `g2`): exact (float64) and torch's float32."""
    exact, rounded = [], []
    for grad_output in (tensors["g1"], tensors["g2"]):
        exact.append(reference.evaluate(function, tensors["x"], values, grad_output, torch.float64))
        rounded.append(reference.evaluate(function, tensors["x"], values, grad_output, torch.float32))
    return exact, rounded


def _judge_pass(
    judgement: _Judgement,
    record: Mapping[str, Any],
    exact: Sequence[reference.Evaluation],
    rounded: Sequence[reference.Evaluation],
    stage: str | None,
    error: str,
) -> None:
    """Output, input gradient and in-place changes of the first forward/backward."""
    name = judgement.class_name
    if "output" in record or stage != "forward":
        judgement.compare("output", record.get("output"), exact[0].output, rounded[0].output)
    if record.get("input_changed_by_forward"):
        judgement.fail(f"{name}.forward changed its input in place")
    if stage in ("forward", "backward"):  # the crash is the cause, not the gradient it did not return
        judgement.crash(stage, error)
        return
    judgement.compare("input gradient", record.get("grad_input"), exact[0].grad_input, rounded[0].grad_input)
    if record.get("input_changed_by_backward"):
        judgement.fail(f"{name}.backward changed the input of forward in place")
    if record.get("grad_output_changed"):
        judgement.fail(f"{name}.backward changed grad_output in place")


def _judge_gradients(
    judgement: _Judgement,
    record: Mapping[str, Any],
    indices: Sequence[int],
    layouts: Sequence[Layout],
    names: Sequence[str],
    exact: Sequence[reference.Evaluation],
    rounded: Sequence[reference.Evaluation],
    stage: str | None,
    error: str,
) -> None:
    """Parameter gradients after one backward, then after a second one (they must add up)."""
    readings = [_reading(record.get(key)) for key in ("params0", "params1", "params2")]
    for number, reading in ((1, readings[1]), (2, readings[2])):
        if number == 2 and stage is not None:
            judgement.crash(stage, error)
            return
        if reading["error"] is not None:
            if readings[0]["error"] is None:  # a param() that broke only after a backward
                judgement.fail(f"{judgement.class_name}.param() {reading['error']} after a backward")
            return
        for position, (index, layout, name) in enumerate(zip(indices, layouts, names, strict=True)):
            quantity = f"{name} gradient" if number == 1 else f"{name} gradient after a second backward"
            student = _gradient_change(readings[0], reading, index, layout)
            if student is None:
                judgement.fail(f"param() gives no gradient for the {name}")
                continue
            want = exact[0].grad_params[position] + (exact[1].grad_params[position] if number == 2 else 0)
            have = rounded[0].grad_params[position] + (rounded[1].grad_params[position] if number == 2 else 0)
            if isinstance(student, str):
                judgement.fail(f"{quantity}: {student}")
            elif not judgement.compare(quantity, student, want, have) and number == 2:
                replaced = compare(student, exact[1].grad_params[position], rounded[1].grad_params[position])
                if replaced.passed:
                    judgement.problems[-1] = (
                        FAIL,
                        f"the {name} gradient is replaced, not accumulated, by a second backward",
                    )


def _gradient_change(
    before: Mapping[str, Any], after: Mapping[str, Any], index: int, layout: Layout
) -> torch.Tensor | str | None:
    """The gradient accumulated since `before`, in PyTorch's layout (a reason string if it cannot be).

    A gradient of another shape before (a `(1,)` placeholder, replaced by the first backward) counts
    as zero, so a right first gradient is judged right, and a replacing second one named as such."""
    if index >= len(after["grads"]) or after["grads"][index] is None:
        return None
    grad = after["grads"][index].to(torch.float64)
    start = before["grads"][index] if index < len(before["grads"]) else None
    if start is not None and start.shape == grad.shape:
        grad = grad - start.to(torch.float64)
    try:
        return layout(grad)
    except RuntimeError:
        return f"has shape {tuple(grad.shape)}, which does not fit the parameter"


ADAPTED_LAYOUTS = {
    "objects": "returns parameter objects, not (tensor, gradient) pairs",
    "nested": "returns one list of pairs per layer, not one list of pairs",
    "flat": "returns a flat list, not (tensor, gradient) pairs",
}
"""What `param()` returned when it was read through the adapter (see `harness.checks.blocks.adapters`)."""


def _judge_param_call(judgement: _Judgement, reading: Mapping[str, Any], has_parameters: bool) -> None:
    """`param()` must return (parameter, gradient) pairs; other layouts are read through the adapter."""
    name = judgement.class_name
    if reading["method"] != "param":
        judgement.form(f"{name} has {reading['method']}() instead of param()")
    if reading["placeholders"]:
        judgement.form(f"{name}.param() lists (None, None) for a block without parameters")
    if reading["error"] is not None:
        judgement.fail(f"{name}.param() {reading['error']}")
        if has_parameters and reading["values"]:
            judgement.adapter(f"{name}.param() {reading['error']}; weights read from attributes")
    elif reading["layout"] in ADAPTED_LAYOUTS:
        judgement.adapter(f"{name}.param() {ADAPTED_LAYOUTS[reading['layout']]}")


def _locate_parameters(
    judgement: _Judgement, case: LayerCase, reading: Mapping[str, Any]
) -> list[int] | None:
    """Indices of the weight (and bias) among the block's parameters, found by their element counts."""
    shapes = case.parameter_shapes()
    if not shapes:
        return []
    values = reading["values"]
    found: list[int] = []
    for name, shape in zip(("weight", "bias"), shapes, strict=False):
        index = next((i for i, v in enumerate(values) if v.numel() == prod(shape) and i not in found), None)
        if index is None:
            listed = ", ".join(str(tuple(v.shape)) for v in values) or "none"
            judgement.fail(
                f"{case.call.torch_call(case.class_name)} has no {name} of {prod(shape)} elements "
                f"{shape} among its parameters (found: {listed})"
            )
            return None
        found.append(index)
    return found


def _choose_layout(
    case: LayerCase,
    indices: Sequence[int],
    values: Sequence[torch.Tensor],
    function: reference.Function,
    tensors: Mapping[str, Any],
    output: Any,
) -> list[Layout]:
    """How to read each parameter in PyTorch's layout: the first of `_weight_layouts` that the
    block's own output agrees with (PyTorch's when none does, so the mismatch is reported)."""
    shapes = case.parameter_shapes()
    layouts = [_reshaper(shape) for shape in shapes]
    if not shapes or not isinstance(output, torch.Tensor):
        return layouts
    for weight_layout in _weight_layouts(case.reference, shapes[0], values[indices[0]]):
        candidate = [weight_layout, *layouts[1:]]
        params = [layout(values[i]) for i, layout in zip(indices, candidate, strict=True)]
        exact = reference.evaluate(function, tensors["x"], params, tensors["g1"], torch.float64)
        rounded = reference.evaluate(function, tensors["x"], params, tensors["g1"], torch.float32)
        if output.shape == exact.output.shape and compare(output, exact.output, rounded.output).passed:
            return candidate
    return layouts


def _weight_layouts(reference_name: str, shape: Sequence[int], stored: torch.Tensor) -> list[Layout]:
    """Readings of a stored weight as PyTorch's (c0, c1, kh, kw), most likely first.

    Any storage with the right element count in PyTorch's order (4-D, or the (c0, c1·kh·kw) matrix an
    unfold implementation multiplies with); a matrix stored the other way round, (c1·kh·kw, c0); and
    for a transposed convolution, whose PyTorch layout is (in, out, kh, kw), the (out, in, kh, kw)
    order of a convolution.
    """
    c0, c1, kh, kw = shape
    layouts = [_reshaper(shape)]
    if stored.dim() == 2 and stored.shape[1] == c0:
        layouts.append(lambda t: t.transpose(0, 1).reshape(c0, c1, kh, kw))
    if reference_name == "transpose_conv2d":
        layouts.append(lambda t: t.reshape(c1, c0, kh, kw).transpose(0, 1))
    return layouts


def _reshaper(shape: Sequence[int]) -> Layout:
    return lambda t: t.reshape(tuple(shape))


def _parameter_names(count: int) -> list[str]:
    return ["weight", "bias"][:count]


def _failed_stage(record: Mapping[str, Any]) -> tuple[str | None, str]:
    if record.get("status") == "error":
        return str(record.get("stage")), str(record.get("error"))
    return None, ""


def _reading(value: Any) -> dict[str, Any]:
    """A parameter reading from the child, with every field present (an absent one reads as empty)."""
    value = value if isinstance(value, Mapping) else {}
    grads = [g if isinstance(g, torch.Tensor) else None for g in value.get("grads") or []]
    return {
        "values": [v for v in value.get("values") or [] if isinstance(v, torch.Tensor)],
        "grads": grads,
        "layout": value.get("layout", "pairs"),
        "error": value.get("error"),
        "method": str(value.get("method", "param")),
        "placeholders": value.get("placeholders") if isinstance(value.get("placeholders"), int) else 0,
    }
