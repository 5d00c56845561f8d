"""Timing checks: is one training epoch within the statement's limit, and how fast is `predict`?

- `timing.train-epoch`: a fresh `Model()` trains one warm-up epoch on `WARMUP_PAIRS` pairs, then one
  timed epoch on as many pairs as fit `TIME_BUDGET_S` (at least `MIN_TIMED_PAIRS`, at most
  `TIMED_PAIRS`), see `model_steps.probe.probe_train_timing`. The time per pair, times 50,000, is the
  estimated epoch, compared with the rubric's limit (CPU, or GPU when the child saw one). The estimate
  includes the per-call overhead of `train` once per timed call, so it errs on the slow side. The
  reference submission is timed the same way right after, in the same conditions (threads, machine
  load), and the report gives the ratio and the machine's load average when timing began: a grader
  can tell a slow submission from a slow machine. The group runs alone, after every other check
  group (`alone` in `harness.checks.registry`).
- `timing.predict`: `predict` on the validation images in the grading script's batches of 100, after a
  one-batch warm-up; images per second and the ratio to the reference. There is no course limit: it
  passes when predict runs.

Timings are measurements: the tests check the arithmetic and the verdicts on hand-made numbers, never
a measured time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.model_steps.runner import Step, child_failure, first_step_failure, run_steps
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import Thresholds
from harness.sandbox import ChildRun, Limits
from harness.workloads import BATCH_FRIENDLY_PAIRS, EPOCH_PAIRS, train_pairs, val_pairs

if TYPE_CHECKING:
    from harness.context import CheckContext

TIMED_PAIRS = 5 * BATCH_FRIENDLY_PAIRS
WARMUP_PAIRS = BATCH_FRIENDLY_PAIRS
MIN_TIMED_PAIRS = BATCH_FRIENDLY_PAIRS
TIME_BUDGET_S = 4.0
PREDICT_IMAGES = 1000
"""The course's validation set size; fewer when the data has fewer."""


@dataclass(frozen=True)
class EpochEstimate:
    """One timed training epoch on `pairs` pairs that took `seconds`, scaled to the statement's epoch."""

    pairs: int
    seconds: float

    @property
    def epoch_s(self) -> float:
        """Estimated seconds for one epoch of 50,000 pairs: `seconds / pairs x 50,000`."""
        return self.seconds / self.pairs * EPOCH_PAIRS


def format_duration(seconds: float) -> str:
    """`45 s`, `2.9 min`, `57 min`, `1.2 h`: what a student reads at a glance."""
    if seconds < 60:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        minutes = seconds / 60
        return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
    return f"{seconds / 3600:.1f} h"


def judge_epoch(epoch_s: float, limit_s: float, reference_epoch_s: float | None) -> tuple[Outcome, str]:
    """PASS when the estimated epoch is within the limit; the message gives both ratios."""
    ratios = [f"{epoch_s / limit_s:.2g}x the limit"]
    if reference_epoch_s:
        ratios.append(
            f"{epoch_s / reference_epoch_s:.2g}x the reference's {format_duration(reference_epoch_s)}"
        )
    within = epoch_s <= limit_s
    relation = "within" if within else ">"
    estimate, limit = format_duration(epoch_s), format_duration(limit_s)
    message = f"estimated epoch {estimate} {relation} limit {limit} ({'; '.join(ratios)})"
    return (Outcome.PASS if within else Outcome.FAIL), message


def _timed(record: Mapping[str, Any], size_key: str) -> tuple[int, float] | None:
    """(size, seconds) of a timing probe's timed step, None when it did not run or raised."""
    timed = record.get("timed")
    return (record[size_key], timed["seconds"]) if timed and timed["ok"] else None


def is_reference(source: Path, reference_dir: Path) -> bool:
    """Whether the submission given as `source` is the reference folder itself (or its Proj_ parent)."""
    source, reference_dir = source.resolve(), reference_dir.resolve()
    return reference_dir in (source, source / "Miniproject_2")


def _reference_timing(run: ChildRun | None, size_key: str) -> tuple[tuple[int, float] | None, str]:
    """The reference's (size, seconds) from its run of the same step, or None and why not."""
    if run is None:
        return None, "reference timing disabled"
    if run.status != "ok":
        return None, f"reference run {run.status}: {run.error}"
    timed = _timed(run.value, size_key)
    return timed, "" if timed else "the reference raised while timed"


def machine_load() -> dict[str, float]:
    """The 1-minute load average and the number of cores: what a timing was measured under."""
    return {"load_1min": os.getloadavg()[0], "cores": float(os.cpu_count() or 1)}


def load_note(load: Mapping[str, float]) -> str:
    return f"machine load {load['load_1min']:.1f} on {load['cores']:.0f} cores"


def judge_train_epoch(
    run: ChildRun,
    reference_run: ChildRun | None,
    thresholds: Thresholds,
    limits: Limits,
    load: Mapping[str, float] | None = None,
) -> CheckResult:
    """`timing.train-epoch` from `probe_train_timing` runs of the submission and of the reference."""
    if run.status != "ok":
        return child_failure("timing.train-epoch", Category.TIMING, run, "timing train", limits)
    steps = {"init": "Model()", "warmup": f"train on {WARMUP_PAIRS} pairs", "timed": "train (timed epoch)"}
    failure = first_step_failure("timing.train-epoch", Category.TIMING, run.value, steps, run.duration_s)
    if failure:
        return failure
    estimate = EpochEstimate(*_timed(run.value, "timed_pairs"))
    reference, reference_note = _reference_timing(reference_run, "timed_pairs")
    reference_epoch_s = EpochEstimate(*reference).epoch_s if reference else None
    on_gpu = bool(run.value["cuda"])
    limit_s = thresholds.epoch_limit_gpu_s if on_gpu else thresholds.epoch_limit_cpu_s
    outcome, message = judge_epoch(estimate.epoch_s, limit_s, reference_epoch_s)
    if load is not None:
        message += f"; {load_note(load)}"
    details = {
        "machine_load": dict(load or {}),
        "epoch_s": estimate.epoch_s,
        "limit_s": limit_s,
        "device": "gpu" if on_gpu else "cpu",
        "threads": limits.threads,
        "timed_pairs": estimate.pairs,
        "timed_s": estimate.seconds,
        "warmup_pairs": run.value["warmup_pairs"],
        "warmup_s": run.value["warmup"]["seconds"],
        "reference_epoch_s": reference_epoch_s,
        "reference_ratio": estimate.epoch_s / reference_epoch_s if reference_epoch_s else None,
        "reference_note": reference_note,
    }
    passed = outcome is Outcome.PASS
    return CheckResult(
        "timing.train-epoch",
        Category.TIMING,
        outcome,
        message,
        details,
        run.duration_s,
        score=1.0 if passed else 0.0,
        fault=Fault.NONE if passed else Fault.SUBMISSION,
    )


def judge_predict_speed(run: ChildRun, reference_run: ChildRun | None, limits: Limits) -> CheckResult:
    """`timing.predict` from `probe_predict_timing` runs of the submission and of the reference."""
    if run.status != "ok":
        return child_failure("timing.predict", Category.TIMING, run, "timing predict", limits)
    steps = {"init": "Model()", "warmup": "predict (warm-up batch)", "timed": "predict (timed)"}
    failure = first_step_failure("timing.predict", Category.TIMING, run.value, steps, run.duration_s)
    if failure:
        return failure
    images, seconds = _timed(run.value, "images")
    reference, reference_note = _reference_timing(reference_run, "images")
    ratio = seconds / reference[1] if reference else None
    versus = f"; {ratio:.2g}x the reference's time" if ratio else ""
    rate = images / max(seconds, 1e-9)
    return CheckResult(
        "timing.predict",
        Category.TIMING,
        Outcome.PASS,
        f"predict: {images} images in {format_duration(seconds)} ({rate:.0f} images/s{versus})",
        {
            "images": images,
            "seconds": seconds,
            "images_per_s": rate,
            "pretrained_loaded": bool(run.value["load"] and run.value["load"]["ok"]),
            "reference_s": reference[1] if reference else None,
            "reference_ratio": ratio,
            "reference_note": reference_note,
        },
        run.duration_s,
        score=1.0,
        fault=Fault.NONE,
    )


def run(ctx: CheckContext) -> list[CheckResult]:
    """Both timing checks: the submission's steps in one child, then the reference's in another.

    Timings taken concurrently would disturb each other, so everything here runs one after the other.
    When the submission is the reference itself, its own runs serve as the reference's.
    """
    train_input, train_target = train_pairs(ctx.train_path, TIMED_PAIRS + WARMUP_PAIRS, ctx.seed)
    noisy, _ = val_pairs(ctx.val_path, PREDICT_IMAGES)
    train_args = {
        "input": train_input,
        "target": train_target,
        "warmup_pairs": WARMUP_PAIRS,
        "min_pairs": MIN_TIMED_PAIRS,
        "budget_s": TIME_BUDGET_S,
        "multiple": BATCH_FRIENDLY_PAIRS,
    }
    steps = [
        Step("probe_train_timing", train_args, ctx.limits("timing.train-epoch")),
        Step("probe_predict_timing", {"input": noisy}, ctx.limits("timing.predict")),
    ]
    load = machine_load()
    train, predict = run_steps(ctx.submission.package_dir, steps, ctx.seed)
    if ctx.reference_dir is None:
        reference_train = reference_predict = None
    elif is_reference(ctx.submission.source, Path(ctx.reference_dir)):
        reference_train, reference_predict = train, predict
    else:
        reference_train, reference_predict = run_steps(Path(ctx.reference_dir), steps, ctx.seed)
    return [
        judge_train_epoch(train, reference_train, ctx.rubric.thresholds, steps[0].limits, load),
        judge_predict_speed(predict, reference_predict, steps[1].limits),
    ]
