"""How the model-level checks (api, timing, psnr) run their probes, and report a run that failed.

A child costs seconds to start (Python, torch, a copy of the submission), so each check group runs its
probes of `harness.checks.model_steps.probe` as steps of one child (`run_steps`). A dead child must
still cost only
its own check. Before each step the child writes a marker line with a per-run random token to stderr,
and arms `SIGALRM` for the step's own wall time. When the child times out, runs out of memory or
crashes, the last marker names the step that killed it: that step gets the failed run (a SIGALRM death
becomes a timeout), and the steps before and after it run again in fresh children. An "error" status,
or a death before the first marker, means model.py did not import (probes catch what the submission
raises), which every step shares. Output kept from a print flood could hide the last marker; then an
earlier step may be blamed, while the real culprit still fails on its own in the rerun.

When the child dies or the submission raises before a check's own question is reached, the result says
so in one line that names the step (`Model()`, `load_pretrained_model()`, `train(...)`) and the cause.
Whose fault it is comes from `fault_of`, the parent's own observation alone: a child that was released
to the submission's code made its own failure, however it reports it (its process can write its
result, patch the probes and re-label its code objects); only one that failed before could not.
"""

from __future__ import annotations

import re
import secrets
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import harness.checks.model_steps.probe as model_probe
from harness.checks.model_steps.records import (
    MALFORMED,
    RECORDS,
    Attempt,
    MalformedRecord,
    StepValue,
    parse_record,
    parse_steps,
)
from harness.checks.registry import probe_spec
from harness.probes.capture import UNSUPPORTED_DATA
from harness.results import Category, CheckResult, Fault, Outcome
from harness.sandbox import ChildRun, Limits, run_probe

STEPS_PROBE = probe_spec(model_probe.probe_steps)

ProbeFunction = Callable[[ModuleType, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One probe of `harness.checks.model_steps.probe`, its arguments, its own limits.

    `probe` is the function itself, imported by the judge, so a renamed probe fails the judge's import;
    one that is not a probe of that module with a record type (`records.RECORDS`) raises `ValueError`
    here, before any child starts."""

    probe: ProbeFunction
    args: Mapping[str, Any]
    limits: Limits

    def __post_init__(self) -> None:
        module, name = self.probe.__module__, self.probe.__name__
        if module != model_probe.__name__ or name not in RECORDS or not hasattr(model_probe, name):
            raise ValueError(f"{module}.{name} is not a probe of {model_probe.__name__} with a record type")

    @property
    def name(self) -> str:
        """The probe's function name, what the child looks up and `records.RECORDS` is keyed by."""
        return self.probe.__name__


def combined_limits(steps: Sequence[Step]) -> Limits:
    """Limits of a child running `steps` in turn: the sum of their wall times, the largest of the rest."""
    return Limits(
        wall_s=sum(step.limits.wall_s for step in steps),
        memory_mb=max(step.limits.memory_mb for step in steps),
        output_bytes=max(step.limits.output_bytes for step in steps),
        threads=max(step.limits.threads for step in steps),
    )


def last_marked_step(stderr: str, marker: str) -> int | None:
    """Index of the last step whose marker line is in `stderr`, None when there is none."""
    found = re.findall(rf"^{re.escape(marker)} (\d+)$", stderr, flags=re.MULTILINE)
    return int(found[-1]) if found else None


def without_markers(stderr: str, marker: str) -> str:
    """`stderr` without the marker lines, so a report shows only what the submission printed."""
    pattern = re.compile(rf"{re.escape(marker)} \d+")
    return "\n".join(line for line in stderr.split("\n") if not pattern.fullmatch(line))


def _as_step_failure(run: ChildRun, step: Step) -> ChildRun:
    """The combined child's death, as the run of the step that caused it (SIGALRM is its time limit)."""
    if run.status == "crash" and "SIGALRM" in run.error:
        return replace(run, status="timeout", error=f"still running after {step.limits.wall_s:g} s: killed")
    return run


def run_steps(package_dir: Path, steps: Sequence[Step], seed: int, record: bool = False) -> list[ChildRun]:
    """One `ChildRun` per step, from as few children as possible (see the module docstring).

    A step's run has the step's own value, parsed into its probe's typed record (`checked_step`: a value
    that is not one makes a `MALFORMED` run), and duration; the child's start-up time is added to the first
    step's duration, so the harness's overhead stays visible in the report. With `record`, each child
    runs under the torch call recorder (`ChildRun.recording`, shared by the steps of one child).
    """
    if not steps:
        return []
    marker = f"@harness-step-{secrets.token_hex(8)}"
    args = {
        "seed": seed,
        "marker": marker,
        "steps": [
            {"probe": step.name, "args": dict(step.args), "wall_s": step.limits.wall_s} for step in steps
        ],
    }
    run = run_probe(STEPS_PROBE, package_dir, args, combined_limits(steps), record=record)
    culprit = None if run.status == "error" else last_marked_step(run.stderr_tail, marker)
    run = replace(run, stderr_tail=without_markers(run.stderr_tail, marker))
    if run.status == "ok":
        try:
            values = parse_steps(run.value, len(steps)).steps
        except MalformedRecord as problem:
            return [malformed(run, str(problem))] * len(steps)
        overhead = max(run.duration_s - sum(value.seconds for value in values), 0.0)
        return [
            checked_step(_step_run(run, value, value.seconds + (overhead if i == 0 else 0.0)), step.name)
            for i, (step, value) in enumerate(zip(steps, values, strict=True))
        ]
    if culprit is None or not 0 <= culprit < len(steps):
        return [run] * len(steps)
    return [
        *run_steps(package_dir, steps[:culprit], seed, record),
        _as_step_failure(run, steps[culprit]),
        *run_steps(package_dir, steps[culprit + 1 :], seed, record),
    ]


STEP_ERROR = "step-error"
"""The status of a step whose probe raised past its own guards (`probe.probe_steps`): the error names
the submission's file and line when one is on the stack, else the probe and the harness's line, so a
bug of ours still shows in the report; it is the submission's fault either way (see `fault_of`)."""


def _step_run(run: ChildRun, value: StepValue, duration_s: float) -> ChildRun:
    """One step's share of a finished child: its value, or its escaped failure as `STEP_ERROR`."""
    if value.failure is None:
        return replace(run, value=value.value, duration_s=duration_s)
    return replace(run, status=STEP_ERROR, value=None, error=value.failure.error, duration_s=duration_s)


def checked_step(run: ChildRun, probe: str) -> ChildRun:
    """`run` with its value parsed into `probe`'s record (`records.parse_record`), or when the value is
    not one (forged by the submission, which can write the child's result itself) a `MALFORMED` run
    saying why."""
    if run.status != "ok":
        return run
    try:
        return replace(run, value=parse_record(probe, run.value))
    except MalformedRecord as problem:
        return malformed(run, str(problem))


def malformed(run: ChildRun, problem: str) -> ChildRun:
    """`run` as a `MALFORMED` run: its value is not its probe's record, `problem` says why."""
    return replace(run, status=MALFORMED, value=None, error=f"probe returned malformed data: {problem}")


_CHILD_OUTCOMES = {
    MALFORMED: Outcome.ERROR,
    "error": Outcome.ERROR,
    STEP_ERROR: Outcome.ERROR,
    "timeout": Outcome.TIMEOUT,
    "oom": Outcome.OOM,
    "crash": Outcome.CRASH,
    "killed": Outcome.CRASH,
}

CUDA_LOAD_HINT = "Attempting to deserialize object on a CUDA device"
"""torch's error when a file saved from CUDA tensors is loaded without `map_location` on a CPU machine."""


def fault_of(run: ChildRun) -> Fault:
    """Whose fault a child's failure is, from what the parent observed itself (`ChildRun.released`):
    SETUP when the child failed before the parent let it go on to the submission's code (the sandbox
    could not start or isolate it), else SUBMISSION, whatever its status, value or messages say."""
    return Fault.SUBMISSION if run.released else Fault.SETUP


def error_line(exc: Exception) -> str:
    """`ExcType: first line of its message (at file.py:LINE)` of an exception raised in this process
    while judging a child's value, LINE the innermost that raised: a bug of ours, or a value forged
    to break a judge, is then named in the report (whose fault it is, `fault_of` the child says)."""
    first_line = (str(exc).splitlines() or [""])[0]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {first_line}{where}"


def judging(
    runs: Sequence[ChildRun],
    check_ids: Sequence[str],
    category: Category,
    judge: Callable[..., CheckResult | list[CheckResult]],
    *args: Any,
) -> list[CheckResult]:
    """`judge(*args)`'s results (one result is made a list); when it raises on what `runs` sent, one
    ERROR per check of `check_ids` instead, whose fault is the runs' (`fault_of`; SETUP when any of
    them was never released): a released child's value is the submission's to forge, so a judge it
    breaks costs the submission, not a re-run of the group, and the message names the judge, the
    error and the harness's line, so a bug of ours still shows."""
    try:
        judged = judge(*args)
    except Exception as exc:  # what the child sent broke the judge (forged, or a bug of ours)
        name = getattr(judge, "__name__", type(judge).__name__)
        message = f"{name} could not judge what the child sent: {error_line(exc)}"
        released = runs and all(fault_of(run) is Fault.SUBMISSION for run in runs)
        fault = Fault.SUBMISSION if released else Fault.SETUP
        details = {**(child_details(runs[0]) if runs else {}), "judge": name, "exception": type(exc).__name__}
        return [
            CheckResult(check_id, category, Outcome.ERROR, message, details, fault=fault)
            for check_id in check_ids
        ]
    return [judged] if isinstance(judged, CheckResult) else judged


def child_failure(
    check_id: str, category: Category, run: ChildRun, doing: str, limits: Limits
) -> CheckResult:
    """The result of a check whose child ended without a value (status error/timeout/oom/crash).

    `doing` names the work in words ("train on 512 pairs"), so the message reads
    "train on 512 pairs did not finish within 60 s". Whose fault it is comes from `fault_of`; a child
    that never ran the submission's code says so ("the sandbox did not run it: ...: re-run it").
    After release: `STEP_ERROR` (a probe raised past its guards; the error names the submission's
    line, or the probe's when none is on the stack), "error" (model.py failed to import), `MALFORMED`
    (a value that is not what the probe returns, see `records`), a timeout, memory, a crash, and
    "killed" (a SIGKILL the harness did not send, which the child's processes can send themselves).
    """
    fault = fault_of(run)
    if fault is Fault.SETUP:
        message = f"{doing}: the sandbox did not run it ({run.status}: {run.error}): re-run it"
    elif run.status == "killed":
        message = f"{doing} crashed: {run.error}"
    elif run.status == STEP_ERROR:
        message = f"{doing} raised {run.error}"
    elif is_refused_result(run):
        detail = run.error.removeprefix(f"{UNSUPPORTED_DATA}: ")
        message = f"{doing} returned data the harness does not accept as plain tensors and values ({detail})"
    elif run.status == "error":
        message = f"model.py could not be imported: {run.error}"
    elif run.status == MALFORMED:
        message = f"{doing}: {run.error}"
    else:
        causes = {
            "timeout": f"did not finish within {limits.wall_s:g} s",
            "oom": f"used more than {limits.memory_mb} MB of memory" + _memory_note(run),
            "crash": f"crashed: {run.error}",
        }
        message = f"{doing} {causes.get(run.status, run.error)}"
    return CheckResult(
        id=check_id,
        category=category,
        outcome=_CHILD_OUTCOMES.get(run.status, Outcome.ERROR),
        message=message,
        details=child_details(run),
        duration_s=run.duration_s,
        fault=fault,
    )


def is_refused_result(run: ChildRun) -> bool:
    """Whether the child ran but its result was refused (not plain data, or too large to read)."""
    return run.status == "error" and run.error.startswith(f"{UNSUPPORTED_DATA}: ")


def _memory_note(run: ChildRun) -> str:
    """How much memory the dead child had reached, and the allocation that failed, when known."""
    peak = f"peak {run.peak_memory_mb:.0f} MB measured" if run.peak_memory_mb else ""
    failed = run.error if "allocate" in run.error else ""
    shown = "; ".join(part for part in (peak, failed) if part)
    return f" ({shown})" if shown else ""


def child_details(run: ChildRun) -> dict[str, Any]:
    """What a report keeps of a child run: its status, error and output tails, and isolation."""
    return {
        "child_status": run.status,
        "child_error": run.error,
        "stdout_tail": run.stdout_tail[-2000:],
        "stderr_tail": run.stderr_tail[-2000:],
        "network_isolated": run.network_isolated,
    }


def load_error_message(error: str, bestmodel_size: int | None) -> str:
    """`load_pretrained_model()`'s failure in words a student acts on, from its one-line error."""
    if error.startswith("AttributeError") and "load_pretrained_model" in error:
        return f"Model has no load_pretrained_model() method ({error})"
    if bestmodel_size == 0:
        return f"load_pretrained_model() failed: bestmodel.pth is empty (0 bytes) ({error})"
    if CUDA_LOAD_HINT in error:
        return (
            "load_pretrained_model() failed: bestmodel.pth holds tensors saved on CUDA, which do not load "
            "on a CPU-only machine; save CPU tensors or load with map_location"
        )
    if bestmodel_size is None:
        return f"load_pretrained_model() failed: there is no bestmodel.pth next to model.py ({error})"
    if error.startswith(("FileNotFoundError", "IsADirectoryError")):
        return (
            "load_pretrained_model() failed: it opens a path that does not exist on the grader's machine "
            f"(relative to the working directory or hard-coded); build it from __file__ ({error})"
        )
    return f"load_pretrained_model() failed: {error}"


def step_failure(
    check_id: str,
    category: Category,
    step: str,
    error: str,
    details: Mapping[str, Any],
    duration_s: float,
) -> CheckResult:
    """An ERROR result for a step of submission code that raised `error` (its one-line text):
    "`step` raised <error>"."""
    return CheckResult(
        id=check_id,
        category=category,
        outcome=Outcome.ERROR,
        message=f"{step} raised {error}",
        details=dict(details),
        duration_s=duration_s,
        fault=Fault.SUBMISSION,
    )


def first_failed_step(
    check_id: str, category: Category, steps: Iterable[tuple[Attempt | None, str]], duration_s: float
) -> CheckResult | None:
    """The `step_failure` of the first of `steps` (attempt, in words) that ran and raised, else None."""
    for attempt, step in steps:
        if attempt is not None and not attempt.ok:
            return step_failure(check_id, category, step, attempt.error, {}, duration_s)
    return None
