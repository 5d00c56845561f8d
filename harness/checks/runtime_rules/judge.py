"""Check `rules.runtime`: the torch functions a submission's code actually reaches while it runs.

Static analysis cannot see `getattr(torch.nn.functional, "con" + "v2d")` or a module imported by a
computed name. This check runs `harness.checks.runtime_rules.probe:record_torch_calls` in a child (grad
globally off, as the statement requires): the submission is imported again under
`harness.tracing.TorchCallRecorder`, its blocks run one forward/backward each, an SGD step, then
`Model()`, `load_pretrained_model()`, one short `train` epoch and a `predict`. The parent then classifies
each recorded entry point under the rubric's rule profile.

Allowed at run time (both profiles):
- tensor methods, operators and properties (`torch.Tensor.*`: `x.matmul(w)`, `x @ w`, `x[i]`, `x.shape`,
  `x.sigmoid()`, `x.clamp(min=0)`): the statement allows tensor methods, whatever they compute;
- `torch.empty/cat/arange` and `torch.nn.functional.fold/unfold`, and anything torch runs inside them;
- turning grad off (`torch.set_grad_enabled(False)`, `torch.no_grad()`): the statement asks for it;
- unpickling tensors with the standard library's `pickle` (torch's `_rebuild_*` helpers run then).
`lenient` also allows `harness.checks.rules.judge.LENIENT_EXTRA_NAMES` (`torch.load`, `torch.save`,
`torch.device`, ...).

Forbidden: every other torch function (`torch.nn.functional.conv2d`, `torch.sigmoid`, `torch.matmul`,
`torch.zeros`), `torch.nn` modules (`nn.Module.__init__/__call__`, `nn.Conv2d`), `torch.optim`, and
autograd: `Tensor.backward`, `torch.autograd.*`, `requires_grad=True`, grad mode switched on (and found
still on after a step); and a step that fails under the recorder but runs through without it (the
code detects the recorder and hides what it runs): a step that fails only while recorded never passes.

A submission could tell this check's child from the graded ones and behave there. So the children
whose results are graded (`api`, `psnr`, `blocks.*`) run under the recorder too, and `judge_graded`
(called once every group has run) adds what they reached: the rule is judged on the very runs that
earned the points. A graded child whose probe returned but whose recording is incomplete (the
recorder was popped, silenced or its channel closed: `harness.sandbox.Recording`) is a finding too.
The recorder runs in the submission's own process: it is defence in depth behind `rules.static`, which
flags the reflection any tampering needs (see the README's threat model).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.checks.model_steps.runner import (
    child_details,
    child_failure,
    error_line,
    fault_of,
    malformed,
)
from harness.checks.parsing import MalformedRecord, check_record_types, parse_as
from harness.checks.registry import probe_spec
from harness.checks.rules.judge import DISPATCH_HOOKS, is_allowed_torch_name
from harness.checks.runtime_rules.probe import record_torch_calls
from harness.results import Category, CheckResult, Fault, Outcome
from harness.sandbox import run_probe
from harness.tracing import COMPILED_ENTRY, TorchCall

if TYPE_CHECKING:
    from harness.context import CheckContext, GradedRecording

CHECK_ID = "rules.runtime"
PROBE = probe_spec(record_torch_calls)
SHOWN_IN_MESSAGE = 1
SHOWN_FAILED_STEPS = 3

TENSOR_METHOD_PREFIXES = ("torch.Tensor.", "torch._tensor.Tensor.")
UNPICKLING_PREFIXES = ("torch._utils._rebuild", "torch.storage._load_from_bytes")
GRAD_OFF_PREFIXES = (
    "torch.set_grad_enabled",
    "torch.no_grad",
    "torch.autograd.grad_mode.",
    "torch.utils._contextlib.",
)
"""Entry points that switch grad off (`torch.set_grad_enabled(False)`, `torch.no_grad()` as a context or a
decorator): allowed when their flag says off."""
AUTOGRAD_ENTRIES = frozenset(
    {
        "torch.Tensor.backward",
        "torch._tensor.Tensor.backward",
        "torch.Tensor.retain_grad",
        "torch.Tensor.register_hook",
        "torch.enable_grad",
    }
)


@dataclass(frozen=True)
class WorkloadStep:
    """One step of the recorded workload (`probe._Workload.attempt`): its name, whether it ran through,
    its one-line error, and for a step that raised, whether it ran through with the recorder suspended."""

    step: str
    ok: bool
    error: str
    passes_unrecorded: bool | None = None


@dataclass(frozen=True)
class TorchRecording:
    """What `record_torch_calls` returns, parsed in the parent (`harness.checks.parsing`): the calls the
    recorder saw, every workload step, the steps that left autograd on, and whether the recorder still
    recorded when the workload ended."""

    calls: tuple[TorchCall, ...]
    steps: tuple[WorkloadStep, ...]
    grad_left_on: tuple[str, ...]
    recorder_intact: bool


check_record_types(TorchRecording)


def forbidden_reason(entry: str, flag: str | None, profile: str) -> tuple[str, str] | None:
    """(rule, reason) when reaching `entry` (with `flag`, see `harness.tracing`) breaks a rule, else None."""
    if flag == "requires_grad":
        return "autograd", "asks autograd to track a tensor (requires_grad=True)"
    if flag == "grad_enabled":
        return "autograd", "switches autograd on"
    if flag == "grad_disabled" and entry.startswith(GRAD_OFF_PREFIXES):
        return None
    if entry == COMPILED_ENTRY:
        return "compiled-code", "loads a compiled module: its calls into torch reach neither rule check"
    if entry in AUTOGRAD_ENTRIES or entry.startswith("torch.autograd."):
        return "autograd", "is autograd (it must stay off)"
    if entry.rpartition(".")[2] in DISPATCH_HOOKS:  # `x.__torch_function__(F.conv2d, (), args)`: no method
        return "torch-function", "calls torch's dispatch hook, which runs any torch function on a tensor"
    if entry.startswith(TENSOR_METHOD_PREFIXES + UNPICKLING_PREFIXES) or is_allowed_torch_name(
        entry, profile
    ):
        return None
    if entry.startswith(("torch.nn.Module", "torch.nn.modules.")):
        return "torch-nn", "uses a torch.nn module"
    if entry.startswith("torch.optim."):
        return "torch-optim", "uses torch.optim"
    return "torch-function", f"is a torch function outside the {profile} allow-list"


def run(ctx: CheckContext) -> list[CheckResult]:
    """The `rules.runtime` check of one submission, under the rubric's rule profile."""
    started = time.perf_counter()
    limits = ctx.limits(CHECK_ID)
    child = run_probe(PROBE, ctx.submission.package_dir, {"seed": ctx.seed}, limits)
    try:
        recording = parse_as(TorchRecording, child.value) if child.status == "ok" else None
    except MalformedRecord as problem:
        child, recording = malformed(child, str(problem)), None
    if recording is None:
        failed = child_failure(
            CHECK_ID, Category.RUNTIME_RULES, child, "running the code under the recorder", limits
        )
        return [replace(failed, duration_s=time.perf_counter() - started)]
    try:
        result = judge_recording(recording, ctx.rubric.rule_profile, child_details(child))
    except Exception as exc:  # a record of the right shape still broke the judge (the child's to write)
        message = f"the recorder's child sent a record that cannot be judged: {error_line(exc)}"
        details = child_details(child)
        result = CheckResult(
            CHECK_ID, Category.RUNTIME_RULES, Outcome.ERROR, message, details, fault=fault_of(child)
        )
    return [replace(result, duration_s=time.perf_counter() - started)]


def judge_recording(
    recording: TorchRecording, profile: str, extra_details: Mapping[str, Any] | None = None
) -> CheckResult:
    """The verdict on what `record_torch_calls` returned: FORBIDDEN with each finding, or PASS."""
    calls, steps = recording.calls, recording.steps
    findings = _merged([_finding(call, reason) for call in calls if (reason := _reason(call, profile))])
    findings += [
        _step_finding(
            step, "torch.is_grad_enabled", "autograd", f"autograd was still on after {step}; it must stay off"
        )
        for step in recording.grad_left_on
    ]
    findings += [
        _step_finding(
            step.step,
            "harness.tracing.TorchCallRecorder",
            "hidden-from-recorder",
            f"{step.step} fails only while the recorder watches it ({step.error}): "
            "code that behaves differently when traced hides what it runs",
        )
        for step in steps
        if step.passes_unrecorded
    ]
    if not recording.recorder_intact:
        findings.append(
            _step_finding(
                "end",
                "harness.tracing.TorchCallRecorder",
                "recorder-tampered",
                "the torch call recorder no longer recorded when the workload ended: "
                "the submission's code broke it",
            )
        )
    ran = [s.step for s in steps if s.ok]
    failed = [s.step for s in steps if not s.ok]
    entries = Counter()
    for call in calls:
        entries[call.entry] += call.count
    details = {
        "profile": profile,
        "findings": findings,
        "steps": [asdict(step) for step in steps],
        "entries": dict(sorted(entries.items())),
        **(extra_details or {}),
    }
    if findings:
        shown = "; ".join(f["message"] for f in findings[:SHOWN_IN_MESSAGE])
        more = f" (and {len(findings) - SHOWN_IN_MESSAGE} more)" if len(findings) > SHOWN_IN_MESSAGE else ""
        return CheckResult(
            CHECK_ID,
            Category.RUNTIME_RULES,
            Outcome.FORBIDDEN,
            f"{shown}{more}",
            details,
            fault=Fault.SUBMISSION,
        )
    listed = ", ".join(failed[:SHOWN_FAILED_STEPS]) + (
        f" and {len(failed) - SHOWN_FAILED_STEPS} more" if len(failed) > SHOWN_FAILED_STEPS else ""
    )
    note = f"; not fully traced (they failed): {listed}" if failed else ""
    message = f"no forbidden torch call in {len(ran)} traced steps ({profile} profile){note}"
    return CheckResult(CHECK_ID, Category.RUNTIME_RULES, Outcome.PASS, message, details, score=1.0)


def judge_graded(result: CheckResult, recordings: Sequence[GradedRecording], profile: str) -> CheckResult:
    """`result` (this check's own run) with the findings of the graded children's recordings added:
    FORBIDDEN when any of them has one, whatever this check's own child found or failed to find."""
    findings = _merged(
        [
            {**_finding(call, reason), "source": graded.source}
            for graded in recordings
            for call in map(_as_call, graded.recording.calls)
            if (reason := _reason(call, profile))
        ]
    )
    findings += [
        {
            **_step_finding(
                graded.source,
                "harness.tracing.TorchCallRecorder",
                "recorder-tampered",
                f"the recording is incomplete ({graded.recording.problem}): "
                "the submission's code broke the torch call recorder",
            ),
            "source": graded.source,
        }
        for graded in recordings
        if graded.finished and not graded.recording.complete
    ]
    graded_details = {
        "graded_children": [
            {
                "source": graded.source,
                "calls": len(graded.recording.calls),
                "complete": graded.recording.complete,
            }
            for graded in recordings
        ]
    }
    if not findings:
        return replace(result, details={**result.details, **graded_details})
    own = result.details.get("findings", []) if result.outcome is Outcome.FORBIDDEN else []
    every = [*own, *({**f, "message": f"{f['message']} (in the graded {f['source']} run)"} for f in findings)]
    shown = "; ".join(f["message"] for f in every[:SHOWN_IN_MESSAGE])
    more = f" (and {len(every) - SHOWN_IN_MESSAGE} more)" if len(every) > SHOWN_IN_MESSAGE else ""
    return replace(
        result,
        outcome=Outcome.FORBIDDEN,
        message=f"{shown}{more}",
        details={**result.details, **graded_details, "findings": every},
        score=0.0,
        fault=Fault.SUBMISSION,
    )


def _step_finding(step: str, entry: str, rule: str, message: str) -> dict[str, Any]:
    """A finding about a whole workload step rather than one line of the submission."""
    return {
        "file": "",
        "line": 0,
        "function": "",
        "code": "",
        "entry": entry,
        "flag": None,
        "target": None,
        "count": 1,
        "step": step,
        "rule": rule,
        "message": message,
    }


def _merged(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding per (file, line, entry, rule): the recorder keeps `nn.Module` targets apart."""
    merged: dict[tuple, dict[str, Any]] = {}
    for finding in findings:
        key = (finding["file"], finding["line"], finding["entry"], finding["rule"])
        if key in merged:
            kept = merged[key]
            merged[key] = {**kept, "count": kept["count"] + finding["count"]}
            if kept["target"] is None and finding["target"] is not None:
                merged[key] = {**finding, "count": merged[key]["count"]}
        else:
            merged[key] = finding
    return list(merged.values())


def _as_call(call: Mapping[str, Any]) -> TorchCall:
    """A graded child's recorded call (its fields checked by `harness.sandbox` as it read the file)."""
    return TorchCall(**call)


def _reason(call: TorchCall, profile: str) -> tuple[str, str] | None:
    return forbidden_reason(call.entry, call.flag, profile)


def _finding(call: TorchCall, reason: tuple[str, str]) -> dict[str, Any]:
    rule, why = reason
    target = f" ({call.target})" if call.target else ""
    where = f"{call.file}:{call.line} in {call.function}"
    return {**call.as_data(), "rule": rule, "message": f"{where} reaches {call.entry}{target}, which {why}"}
