"""The `blocks.*` checks: every framework block against torch.nn + autograd, forward and backward.

For each block kind the parent builds a grid of configurations with seeded inputs
(`harness.checks.blocks.grids`), sends it to one child (`harness.checks.blocks.probe`) that instantiates the
submission's class with PyTorch's constructor arguments (or, saying why, through the adapter of
`harness.checks.blocks.adapters`) and records outputs, gradients and parameters; the parent recomputes
everything in float64 with the student's own weights (`harness.checks.blocks.reference`) and judges each
configuration (`harness.checks.blocks.verdicts`) with a tolerance calibrated on torch's own float32 error
(`harness.checks.blocks.tolerance`). A check's score is the fraction of its configurations that pass.

`work(ctx)` gives the block kinds' children as units for `harness.check`'s scheduler; `run(ctx)` runs
them in turn. Either way: one `CheckResult` per block.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import harness.checks.blocks.grids as grids
import harness.checks.blocks.probe as blocks_probe
from harness.checks.blocks.adapters import name_form
from harness.checks.blocks.tolerance import FLOOR_ULPS, K
from harness.checks.blocks.verdicts import (
    CRASHED,
    PASS,
    SKIPPED,
    UNJUDGED,
    Verdict,
    judge_chain,
    judge_layer,
    judge_loss,
    judge_optimizer,
    judge_safely,
)
from harness.checks.model_steps.runner import error_line, fault_of, judging
from harness.checks.registry import probe_spec
from harness.context import CheckContext, GroupWork
from harness.results import Category, CheckResult, Fault, Outcome
from harness.sandbox import ChildRun, run_probe

CHILD_OUTCOMES = {
    "error": Outcome.ERROR,
    "timeout": Outcome.TIMEOUT,
    "oom": Outcome.OOM,
    "crash": Outcome.CRASH,
    "killed": Outcome.CRASH,
}

Judge = Callable[..., Verdict]


@dataclass(frozen=True)
class BlockKind:
    """One block of the statement: its check id, grid and probe (`kind`), names and judge."""

    check_id: str
    kind: str
    class_name: str
    torch_name: str
    judge: Judge

    def __post_init__(self) -> None:
        if not callable(getattr(blocks_probe, f"probe_{self.kind}", None)):
            raise ValueError(f"blocks: {blocks_probe.__name__} has no probe_{self.kind}")

    @property
    def probe(self) -> str:
        """`run_probe`'s name of the block's probe, `probe_<kind>` of `harness.checks.blocks.probe` (a
        kind without one fails this module's import)."""
        return probe_spec(getattr(blocks_probe, f"probe_{self.kind}"))


BLOCK_KINDS: tuple[BlockKind, ...] = (
    BlockKind("blocks.conv2d", "conv2d", "Conv2d", "torch.nn.Conv2d", judge_layer),
    BlockKind(
        "blocks.transpose-conv2d",
        "transpose_conv2d",
        "TransposeConv2d",
        "torch.nn.ConvTranspose2d",
        judge_layer,
    ),
    BlockKind(
        "blocks.nearest-upsampling",
        "nearest_upsampling",
        "NearestUpsampling",
        "torch.nn.Upsample",
        judge_layer,
    ),
    BlockKind("blocks.upsampling", "upsampling", "Upsampling", "torch (upsampling + Conv2d)", judge_layer),
    BlockKind("blocks.relu", "relu", "ReLU", "torch.nn.ReLU", judge_layer),
    BlockKind("blocks.sigmoid", "sigmoid", "Sigmoid", "torch.nn.Sigmoid", judge_layer),
    BlockKind("blocks.mse", "mse", "MSE", "torch.nn.MSELoss", judge_loss),
    BlockKind("blocks.sgd", "sgd", "SGD", "torch.optim.SGD", judge_optimizer),
    BlockKind("blocks.sequential", "sequential", "Sequential", "torch.nn.Sequential", judge_chain),
)

ALTERNATIVES = ("blocks.transpose-conv2d", "blocks.nearest-upsampling")
"""The statement asks for one of these two; the other may be absent."""

OPTIONAL = ("blocks.upsampling",)
"""Checked only when the class exists."""


def work(ctx: CheckContext) -> GroupWork:
    """One unit per block of `BLOCK_KINDS`, each its own child process (`harness.check` runs them
    beside the other groups' work); their results are combined by `resolve_absent`."""
    return GroupWork([partial(_unit, kind, ctx) for kind in BLOCK_KINDS], resolve_absent)


def run(ctx: CheckContext) -> list[CheckResult]:
    """One `CheckResult` per block of `BLOCK_KINDS`, the units of `work` one after the other."""
    blocks = work(ctx)
    return blocks.combine([result for unit in blocks.units for result in unit()])


def _unit(kind: BlockKind, ctx: CheckContext) -> list[CheckResult]:
    return [_check_or_report(kind, ctx)]


def _check_or_report(kind: BlockKind, ctx: CheckContext) -> CheckResult:
    """`check_block`, with a bug of the harness in one block reported as that block's error: before
    its child runs, a set-up error (re-run); while judging what a released child sent, the
    submission's (`_judged`)."""
    try:
        return check_block(kind, ctx)
    except Exception as exc:  # ours, not the submission's: the other blocks still get their results
        message = f"{kind.class_name}: the harness failed: {error_line(exc)}"
        return CheckResult(kind.check_id, Category.BLOCKS, Outcome.ERROR, message, fault=Fault.SETUP)


def check_block(kind: BlockKind, ctx: CheckContext) -> CheckResult:
    """Run `kind`'s grid in a child against `ctx`'s submission and judge it."""
    started = time.perf_counter()
    trials = grids.trials(kind.kind, ctx.seed)
    limits = ctx.limits(kind.check_id)
    args = grids.probe_args(trials, ctx.seed, limits.wall_s)
    child = run_probe(kind.probe, ctx.submission.package_dir, args, limits, record=True)
    ctx.note_recordings(kind.check_id, (child,))
    return _judged(kind, trials, child, time.perf_counter() - started)


def _judged(kind: BlockKind, trials: Sequence[grids.Trial], child: ChildRun, elapsed_s: float) -> CheckResult:
    """`judge_block`; when it raises on what the child sent, an ERROR whose fault is `fault_of` the
    child (`runner.judging`, which the model-level judges share)."""
    (result,) = judging(
        [child], [kind.check_id], Category.BLOCKS, judge_block, kind, trials, child, elapsed_s
    )
    return result


def judge_block(
    kind: BlockKind, trials: Sequence[grids.Trial], child: ChildRun, elapsed_s: float
) -> CheckResult:
    """The check's result from the child's run: a verdict per configuration, then a summary."""
    started = time.perf_counter()
    value = child.value or {}
    if child.status != "ok":
        outcome = CHILD_OUTCOMES.get(child.status, Outcome.ERROR)
        details = {"child_status": child.status, "child_error": child.error}
        message = _child_failure(kind, child)
        result = CheckResult(kind.check_id, Category.BLOCKS, outcome, message, details, fault=fault_of(child))
    elif value.get("class") is None:
        classes = [str(name) for name in value.get("classes") or []]
        message = f"no {kind.class_name} class in model.py (classes found: {', '.join(classes) or 'none'})"
        result = CheckResult(kind.check_id, Category.BLOCKS, Outcome.MISSING, message, {"classes": classes})
    elif value.get("alias_of") is not None:
        alias = str(value["alias_of"])
        message = f"{kind.class_name} is another name for {alias}, which is checked as such"
        result = CheckResult(
            kind.check_id, Category.BLOCKS, Outcome.SKIPPED, message, {"alias_of": alias}, fault=Fault.NONE
        )
    elif len(value.get("configs") or []) != len(trials):
        reported = len(value.get("configs") or [])
        message = f"{kind.class_name}: the child reported {reported} of {len(trials)} configurations"
        result = CheckResult(kind.check_id, Category.BLOCKS, Outcome.ERROR, message, fault=fault_of(child))
    else:
        found = str(value["class"])
        options = {"upsampling_mode": str(value.get("mode"))} if kind.kind == "upsampling" else {}
        verdicts = [
            judge_safely(kind.judge, trial, record, found, kind.torch_name, **options)
            for trial, record in zip(trials, value["configs"], strict=True)
        ]
        result = summarise(kind, found, verdicts)
        extra = {
            "class": found,
            "signature": str(value.get("signature")),
            **({"mode": options["upsampling_mode"]} if options else {}),
        }
        result = replace(result, details={**result.details, **extra})
    return replace(result, duration_s=elapsed_s + time.perf_counter() - started)


def summarise(kind: BlockKind, found: str, verdicts: Sequence[Verdict]) -> CheckResult:
    """Outcome, score (the fraction of counted configurations that pass), message and details."""
    counted = [v for v in verdicts if v.status != SKIPPED]
    passed = [v for v in counted if v.status == PASS]
    skipped = [v for v in verdicts if v.status == SKIPPED]
    adapter = next((v.adapter for v in passed if v.adapter), None)
    forms = list(dict.fromkeys(form for v in counted for form in v.forms))
    named = name_form(kind.kind, found)
    if named == "variant":
        adapter = f"class named {found}, not {kind.class_name}" + (f"; {adapter}" if adapter else "")
    elif named == "misspelt":
        forms.insert(0, f"class named {found} (the statement's {kind.class_name})")
    elif named == "routed":
        forms.insert(0, f"{found} takes channels and a kernel size: checked as the {kind.class_name}")
    relative = [r for v in counted if (r := v.as_data()["max_rel_error"]) is not None]
    details: dict[str, Any] = {
        "passed": len(passed),
        "total": len(counted),
        "skipped": len(skipped),
        "adapter": adapter is not None and bool(passed),
        "adapter_reason": adapter,
        "forms": forms,
        "max_rel_error": max(relative, default=None),
        "tolerance": {"k_times_torch_float32_error": K, "floor_eps32_ulps": FLOOR_ULPS},
        "configs": [v.as_data() for v in verdicts],
    }
    skipped_note = f"; {len(skipped)} skipped ({skipped[0].cause})" if skipped else ""
    skipped_note += f"; allowed forms: {', '.join(forms)}" if forms else ""

    def result(outcome: Outcome, message: str, score: float, fault: Fault = Fault.SUBMISSION) -> CheckResult:
        return CheckResult(kind.check_id, Category.BLOCKS, outcome, message, details, 0.0, score, fault)

    if not counted:
        return result(
            Outcome.SKIPPED, f"{found}: every configuration was skipped{skipped_note}", 0.0, Fault.NONE
        )
    if len(passed) == len(counted):
        largest = f", largest relative error {max(relative):.1e}" if relative and max(relative) else ""
        via = f"; only through the adapter: {adapter}" if adapter else ""
        matches = f"{len(passed)} of {len(counted)} configurations match {kind.torch_name}"
        return result(Outcome.PASS, f"{matches}{largest}{skipped_note}{via}", 1.0)
    unjudged = [v for v in counted if v.status == UNJUDGED]
    if unjudged:
        message = f"{unjudged[0].label}: {unjudged[0].cause} ({len(unjudged)} configurations not judged)"
        return result(Outcome.ERROR, message, len(passed) / len(counted))
    first = next(v for v in counted if v.status != PASS)
    outcome = Outcome.ERROR if not passed and all(v.status == CRASHED for v in counted) else Outcome.FAIL
    tally = f"{len(passed)} of {len(counted)} configurations pass{skipped_note}"
    return result(outcome, f"{first.label}: {first.cause} ({tally})", len(passed) / len(counted))


def resolve_absent(results: Sequence[CheckResult]) -> list[CheckResult]:
    """A missing block the statement lets a submission leave out is SKIPPED, not MISSING: Upsampling,
    and one of TransposeConv2d / NearestUpsampling when the other exists."""
    by_id = {r.id: r for r in results}
    resolved = []
    for result in results:
        if result.outcome is Outcome.MISSING and result.id in OPTIONAL:
            result = _skipped(result, "no Upsampling class (optional: checked only when present)")
        elif result.outcome is Outcome.MISSING and result.id in ALTERNATIVES:
            other = by_id.get(next(a for a in ALTERNATIVES if a != result.id))
            if other is not None and other.outcome is not Outcome.MISSING:
                name, alternative = (_class_of(result.id), _class_of(other.id))
                result = _skipped(
                    result,
                    f"no {name}; the statement asks for {name} or {alternative}, "
                    f"and {alternative} is checked",
                )
        resolved.append(result)
    return resolved


def _skipped(result: CheckResult, message: str) -> CheckResult:
    return CheckResult(
        result.id,
        result.category,
        Outcome.SKIPPED,
        message,
        result.details,
        result.duration_s,
        0.0,
        Fault.NONE,
    )


def _class_of(check_id: str) -> str:
    return next(k.class_name for k in BLOCK_KINDS if k.check_id == check_id)


def _child_failure(kind: BlockKind, child: ChildRun) -> str:
    if not child.released:
        cause = f"{child.status}: {child.error}"
        return f"{kind.class_name}: the sandbox did not run the block's checks ({cause}): re-run it"
    if child.status == "timeout":
        return f"{kind.class_name}: the block's checks did not finish in time ({child.error})"
    if child.status == "oom":
        return f"{kind.class_name}: the block's checks ran out of memory ({child.error})"
    if child.status == "crash":
        return f"{kind.class_name}: the process died while running the block ({child.error})"
    if child.status == "killed":
        return f"{kind.class_name}: the process died while running the block ({child.error})"
    return f"{kind.class_name}: {child.error}"
