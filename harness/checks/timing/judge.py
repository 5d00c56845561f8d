"""Timing checks: is one training epoch within the statement's limit, and how fast is `predict`?

What is measured, and by whom. The submission runs inside the child it is timed in, so it controls
every clock and every record there: it can slow `time.perf_counter`, patch the probe, or write a
result of its own. So no second of the verdict comes from the child. The kernel counts the CPU time
of each child's processes (`ChildRun.cpu_s`: the usage in the child's cgroup's `cpu.stat`, every
process it started included, else the rusage of the reaped child) and the parent reads it; a time is
the difference between two children that run identical steps but for the timed one:

- `timing.train-epoch`: the *base* child imports model.py, builds `Model()` and trains one warm-up
  epoch on `WARMUP_PAIRS` pairs; the *full* child does the same, then trains the timed epoch on `N`
  pairs. full CPU - base CPU is the timed epoch's CPU time, per-call overhead included (so it errs on
  the slow side); / N x 50,000 pairs is the estimated epoch, compared with the rubric's limit. `N` is a
  multiple of `BATCH_FRIENDLY_PAIRS`, sized from the first base child's CPU time so that the timed
  epoch costs about `TIMED_CPU_S` (`MIN_TIMED_PAIRS` to `MAX_TIMED_PAIRS`): enough pairs that a
  call's overhead does not dominate, few enough that a slow submission does not time out.
- `timing.predict`: a third child runs the base child's steps, then `Model()`,
  `load_pretrained_model()` and `predict` on `PREDICT_IMAGES` validation images in the grading
  script's batches of 100; its CPU time less the same round's base child's is the predict's (the
  second `Model()` and the load included). There is no course limit: it passes when predict runs;
  images per second and the ratio to the reference are for the grader.

Interleaving and the ratio. The submission's pair of children and the reference's alternate (S, R,
S, R: `ROUNDS` rounds; `OWN_ROUNDS` when the submission is the reference), so both see the same
machine; the ratio of the medians of their per-pair CPU times says how much slower than the reference
the submission is, and the reference's median, measured in the same run, calibrates it: estimate =
ratio x the reference's per-pair CPU time x 50,000. CPU time leaves out the wait for a core, but on a
virtual CPU it still grows with the host's load (37 % under two spinners in one clean-clone run here;
`tests/test_timing.py`'s load test, marked slow), so the ratio is the load-proof figure and the
calibration is not yet; the report also states the machine load when timing began. Children run
with 1 thread (`TIMING_THREADS`): the estimate is one core's work, the statement's "on a CPU". The
group runs alone, after every other check group (`alone` in `harness.checks.registry`). When the
submission is the reference itself (`is_reference`), it is its own reference. On a GPU, where the
device's time is not the CPU's, the parent's wall times of the two children are compared instead.

Consistency. The child still records its own seconds for the timed step; a child whose clock says the
timed step took less wall time than the kernel's CPU time for it allows (CPU time cannot exceed wall
time x cores), or more than the parent saw the child live, is named *inconsistent* and gets no timing
points (FAIL, the submission's fault): a slowed clock or a forged record shows as such, and a forged
record's numbers never enter the estimate.

What a submission could still do. Until the timed call begins, the base and the full child are the
same to it but by reflective access (reading the probe's frames or arguments:
`rules.judge.reflective_access` flags it, rules.static); once it begins, the kernel counts what the
call really costs, so a child that does less than it is asked costs less only by really doing less. A
`train` that is cheap on the counts it is timed on and slow on 50,000 pairs is not told apart (no
estimate short of a whole epoch can). Time spent sleeping or blocked is not CPU time and is not counted.
Open: the timed call is the child's second `train` and the graded ones are first calls, so a `train`
that works only on its first call is timed at almost nothing (README, "Timing method").

The tests check the arithmetic and the verdicts on hand-made child runs, the slowed clock end to end,
and the load test, which compares two estimates of the same run.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from harness.checks.model_steps.records import MALFORMED
from harness.checks.model_steps.runner import Step, child_failure, first_step_failure, run_steps
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import Thresholds
from harness.sandbox import ChildRun, Limits
from harness.workloads import BATCH_FRIENDLY_PAIRS, EPOCH_PAIRS, train_pairs, val_pairs

if TYPE_CHECKING:
    from harness.context import CheckContext

WARMUP_PAIRS = BATCH_FRIENDLY_PAIRS
MIN_TIMED_PAIRS = BATCH_FRIENDLY_PAIRS
MAX_TIMED_PAIRS = 5 * BATCH_FRIENDLY_PAIRS
TIMED_CPU_S = 1.0
"""The CPU seconds a timed epoch aims at, judged from the first base child (an upper bound per pair)."""
ROUNDS = 2
"""Rounds of interleaved pairs (submission, reference): what `harness check`'s 30 s allow."""
OWN_ROUNDS = 1
"""Rounds when the submission is its own reference: nothing to interleave with, and the reference's
`harness check` stays within its 30 s."""
PREDICT_IMAGES = 200
"""Validation images of the timed predict (two of the grading script's batches); fewer when the data
has fewer."""
TIMING_THREADS = 1
RESOLUTION_S = 0.05
"""A timed predict under this many CPU seconds is not told apart from the variation of the two children's
fixed parts (tens of milliseconds): it gets no rate."""
CONSISTENT_FRACTION = 0.8
CONSISTENT_SLACK_S = 0.1
"""A child's own seconds x cores may fall short of the kernel's CPU seconds by this fraction and slack
(the two children's fixed parts differ by a few tens of milliseconds) before it is inconsistent."""


@dataclass(frozen=True)
class Plan:
    """How much timing one run does: rounds, pair counts and images (tests use smaller ones)."""

    rounds: int = ROUNDS
    own_rounds: int = OWN_ROUNDS
    warmup_pairs: int = WARMUP_PAIRS
    min_timed_pairs: int = MIN_TIMED_PAIRS
    max_timed_pairs: int = MAX_TIMED_PAIRS
    timed_cpu_s: float = TIMED_CPU_S
    predict_images: int = PREDICT_IMAGES
    multiple: int = BATCH_FRIENDLY_PAIRS


PLAN = Plan()


@dataclass(frozen=True)
class TimedPair:
    """Two children of one package that ran the same steps but for the timed one (`size` pairs or images)."""

    base: ChildRun
    full: ChildRun
    size: int
    reported_steps: tuple[str, ...] = ("timed",)
    """The steps of the full child's record that the base child did not run."""

    @property
    def cpu_s(self) -> float:
        """The timed step's CPU seconds, by the kernel: the full child's less the base child's."""
        return self.full.cpu_s - self.base.cpu_s

    @property
    def wall_s(self) -> float:
        """The timed step's wall seconds, by the parent's clock (the machine's load is in it)."""
        return self.full.duration_s - self.base.duration_s

    def cost_s(self, on_gpu: bool) -> float:
        """Seconds per pair (or image) of the timed step, never negative: CPU time, or on a GPU wall time."""
        return max(self.wall_s if on_gpu else self.cpu_s, 0.0) / self.size

    @property
    def reported_s(self) -> float:
        """The seconds the full child's own clock gave the steps the base child did not run (the
        submission's word)."""
        return sum(self.full.value[key]["seconds"] for key in self.reported_steps if self.full.value.get(key))


def inconsistency(pair: TimedPair, cores: float) -> str | None:
    """Why the child's own seconds for the timed step contradict the kernel and the parent, or None.

    The step cannot have used more CPU than its wall time x `cores`, nor taken longer than the child
    lived by the parent's clock."""
    reported = pair.reported_s
    if reported * cores < CONSISTENT_FRACTION * pair.cpu_s - CONSISTENT_SLACK_S:
        return (
            f"the child's clock says {format_duration(reported)}, the kernel counted "
            f"{format_duration(pair.cpu_s)} of CPU time"
        )
    if reported > pair.full.duration_s + CONSISTENT_SLACK_S:
        return (
            f"the child's clock says {format_duration(reported)}, longer than the "
            f"{format_duration(pair.full.duration_s)} the child ran"
        )
    return None


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


def is_reference(source: Path, reference_dir: Path) -> bool:
    """Whether the submission given as `source` is the reference folder itself (or its Proj_ parent)."""
    source, reference_dir = source.resolve(), reference_dir.resolve()
    return reference_dir in (source, source / "Miniproject_2")


def machine_load() -> dict[str, float]:
    """The 1-minute load average and the number of cores: what a timing was measured under."""
    return {"load_1min": os.getloadavg()[0], "cores": float(os.cpu_count() or 1)}


def load_note(load: Mapping[str, float]) -> str:
    return f"machine load {load['load_1min']:.1f} on {load['cores']:.0f} cores"


@dataclass(frozen=True)
class Timings:
    """One package's timed pairs, or the child run that stopped its timing (`failed`)."""

    pairs: tuple[TimedPair, ...] = ()
    failed: ChildRun | None = None

    def median_cost_s(self, on_gpu: bool) -> float | None:
        """The median seconds per pair (or image) over the rounds; None when nothing was timed."""
        return statistics.median(pair.cost_s(on_gpu) for pair in self.pairs) if self.pairs else None


def _reference_note(reference: Timings | None) -> str:
    """Why the reference gave no calibration, "" when it did."""
    if reference is None:
        return "reference timing disabled"
    if reference.failed is not None:
        return f"reference run {reference.failed.status}: {reference.failed.error}"
    return "" if reference.pairs else "the reference raised while timed"


def _verdict(
    check_id: str,
    timings: Timings,
    reference: Timings | None,
    steps: Mapping[str, str],
    doing: str,
    limits: Limits,
) -> tuple[CheckResult | None, float, float | None, float | None]:
    """What the two checks share: the submission's failure or inconsistency as a result (else None),
    its estimated seconds per pair or image (ratio x the reference's calibration), the ratio, and
    the reference's seconds per pair or image."""
    if timings.failed is not None:
        run = timings.failed
        if run.status == MALFORMED:
            message = f"timing inconsistent (the child's record is forged: {run.error}): no points"
            failed = CheckResult(
                check_id, Category.TIMING, Outcome.FAIL, message, {"inconsistent": run.error},
                run.duration_s, score=0.0, fault=Fault.SUBMISSION,
            )  # fmt: skip
            return failed, 0.0, None, None
        if run.status != "ok":
            return child_failure(check_id, Category.TIMING, run, doing, limits), 0.0, None, None
        failure = first_step_failure(check_id, Category.TIMING, run.value, steps, run.duration_s)
        return failure, 0.0, None, None
    on_gpu = torch.cuda.is_available()
    cores = float(os.cpu_count() or 1)
    for pair in timings.pairs:
        why = inconsistency(pair, cores)
        if why is not None:
            message = f"timing inconsistent ({why}): a slowed or patched clock or a forged record, no points"
            result = CheckResult(
                check_id,
                Category.TIMING,
                Outcome.FAIL,
                message,
                {"inconsistent": why, **_pair_details(timings, on_gpu)},
                pair.full.duration_s,
                score=0.0,
                fault=Fault.SUBMISSION,
            )
            return result, 0.0, None, None
    cost = timings.median_cost_s(on_gpu) or 0.0
    calibration = reference.median_cost_s(on_gpu) if reference is not None else None
    ratio = 1.0 if reference is timings else cost / calibration if calibration else None
    return None, ratio * calibration if ratio is not None else cost, ratio, calibration


def _pair_details(timings: Timings, on_gpu: bool) -> dict[str, Any]:
    """The figures behind an estimate: per round, the kernel's CPU seconds, the parent's wall seconds
    and the child's own seconds of the timed step, and where the CPU time came from."""
    return {
        "rounds": len(timings.pairs),
        "measure": "wall time (GPU)" if on_gpu else "kernel CPU time",
        "cpu_source": sorted({run.cpu_source for pair in timings.pairs for run in (pair.base, pair.full)}),
        "cpu_s": [pair.cpu_s for pair in timings.pairs],
        "wall_s": [pair.wall_s for pair in timings.pairs],
        "child_reported_s": [pair.reported_s for pair in timings.pairs],
    }


TRAIN_STEPS = {"init": "Model()", "warmup": f"train on {WARMUP_PAIRS} pairs", "timed": "train (timed epoch)"}
PREDICT_STEPS = {"init": "Model()", "timed": "predict"}
PREDICT_RECORD = {**PREDICT_STEPS, "load": "load_pretrained_model()"}
"""Every step of the predict record (a failed load does not stop the timing: predict runs without it)."""


def judge_train_epoch(
    timings: Timings,
    reference: Timings | None,
    thresholds: Thresholds,
    limits: Limits,
    load: Mapping[str, float] | None = None,
) -> CheckResult:
    """`timing.train-epoch` from the submission's and the reference's timed pairs (`run`)."""
    failure, per_pair_s, ratio, calibration = _verdict(
        "timing.train-epoch", timings, reference, TRAIN_STEPS, "timing train", limits
    )
    if failure is not None:
        return failure
    on_gpu = torch.cuda.is_available()
    epoch_s = per_pair_s * EPOCH_PAIRS
    reference_epoch_s = calibration * EPOCH_PAIRS if calibration is not None else None
    limit_s = thresholds.epoch_limit_gpu_s if on_gpu else thresholds.epoch_limit_cpu_s
    outcome, message = judge_epoch(epoch_s, limit_s, reference_epoch_s)
    timed_pairs = timings.pairs[0].size
    measure = "wall" if on_gpu else "CPU"
    message += f"; {measure} time of {timed_pairs} timed pairs, median of {len(timings.pairs)}"
    if load is not None:
        message += f"; {load_note(load)}"
    details = {
        "machine_load": dict(load or {}),
        "epoch_s": epoch_s,
        "limit_s": limit_s,
        "device": "gpu" if on_gpu else "cpu",
        "threads": limits.threads,
        "timed_pairs": timed_pairs,
        **_pair_details(timings, on_gpu),
        "reference_epoch_s": reference_epoch_s,
        "reference_ratio": ratio,
        "reference_note": _reference_note(reference),
    }
    passed = outcome is Outcome.PASS
    return CheckResult(
        "timing.train-epoch",
        Category.TIMING,
        outcome,
        message,
        details,
        sum(pair.full.duration_s for pair in timings.pairs),
        score=1.0 if passed else 0.0,
        fault=Fault.NONE if passed else Fault.SUBMISSION,
    )


def _loaded(record: Mapping[str, Any]) -> bool:
    """Whether a predict record says `load_pretrained_model()` ran (the child's word: a detail only)."""
    load = record.get("load")
    return isinstance(load, dict) and load.get("ok") is True


def judge_predict_speed(timings: Timings, reference: Timings | None, limits: Limits) -> CheckResult:
    """`timing.predict` from the submission's and the reference's timed predict pairs."""
    failure, per_image_s, ratio, _ = _verdict(
        "timing.predict", timings, reference, PREDICT_STEPS, "timing predict", limits
    )
    if failure is not None:
        return failure
    pair = timings.pairs[0]
    seconds = per_image_s * pair.size
    if seconds < RESOLUTION_S:  # the reference as its own reference keeps its ratio of 1
        seconds, rate = 0.0, None
        ratio = ratio if reference is timings else None
        message = (
            f"predict: {pair.size} images in under {format_duration(RESOLUTION_S)} of CPU time "
            "(too fast to tell from the children's own variation)"
        )
    else:
        rate = 1 / per_image_s
        versus = f"; {ratio:.2g}x the reference's time" if ratio else ""
        message = f"predict: {pair.size} images in {format_duration(seconds)} ({rate:.0f} images/s{versus})"
    return CheckResult(
        "timing.predict",
        Category.TIMING,
        Outcome.PASS,
        message,
        {
            "images": pair.size,
            "seconds": seconds,
            "images_per_s": rate,
            "pretrained_loaded": _loaded(pair.full.value),
            **_pair_details(timings, torch.cuda.is_available()),
            "reference_ratio": ratio,
            "reference_note": _reference_note(reference),
        },
        pair.full.duration_s,
        score=1.0,
        fault=Fault.NONE,
    )


def _record_problem(value: Any, steps: Mapping[str, str], timed: bool) -> str | None:
    """Why a timing probe's record, already of its probe's shape (`runner.checked_step`), is not what
    the probe writes: no "timed" step in the full child's (`timed`) though no step before it failed (a
    failed load stops nothing). None when it is."""
    failed = any(value.get(key) is not None and not value[key]["ok"] for key in steps if key != "load")
    return "no timed step" if timed and value.get("timed") is None and not failed else None


def checked_record(run: ChildRun, steps: Mapping[str, str], timed: bool) -> ChildRun:
    """`run`, or when its record is malformed (`_record_problem`), a `MALFORMED` run saying why."""
    problem = _record_problem(run.value, steps, timed) if run.status == "ok" else None
    return run if problem is None else replace(run, status=MALFORMED, value=None, error=problem)


def _stopped(run: ChildRun, steps: Mapping[str, str]) -> bool:
    """Whether `run` ended without a value or with one of `steps` raised: timing stops there."""
    if run.status != "ok":
        return True
    return any(run.value.get(key) is not None and not run.value[key]["ok"] for key in steps)


def timed_pairs(base: ChildRun, plan: Plan, available: int) -> int:
    """The timed epoch's pair count: `plan.timed_cpu_s` over the base child's CPU seconds per warm-up
    pair (its whole CPU time, so an upper bound), within the plan's bounds and the pairs `available`,
    a multiple of `plan.multiple` where the data allow one."""
    per_pair = max(base.cpu_s, 1e-6) / plan.warmup_pairs
    pairs = min(available, plan.max_timed_pairs, max(plan.min_timed_pairs, int(plan.timed_cpu_s / per_pair)))
    return max(pairs // plan.multiple * plan.multiple, min(plan.multiple, available))


class _Subject:
    """One package's timing children, one round at a time (`time_round`).

    A round is the base child (`train_step(0)`: Model() and the warm-up epoch) and the full child
    (`train_step(N)`: the same and the timed epoch); the first round adds the predict child (the base's
    step, then `predict_step`), timed against that round's base child. The timed size N is picked from
    the first base child (`size_of`). A failure stops the timing it belongs to."""

    def __init__(
        self,
        package_dir: Path,
        train_step: Callable[[int], Step],
        predict_step: Step,
        size_of: Callable[[ChildRun], int],
        seed: int,
    ) -> None:
        self._package_dir, self._train_step, self._predict_step = package_dir, train_step, predict_step
        self._images = len(predict_step.args["input"])
        self._size_of, self._seed = size_of, seed
        self._size = 0
        self.train = Timings()
        self.predict = Timings()

    def _child(self, steps: Sequence[Step]) -> list[ChildRun]:
        return run_steps(self._package_dir, steps, self._seed)

    def time_round(self) -> None:
        """One more base and full child, and in the first round the predict child."""
        if self.train.failed is not None:
            return
        (base,) = self._child([self._train_step(0)])
        base = checked_record(base, TRAIN_STEPS, timed=False)
        if _stopped(base, TRAIN_STEPS):
            self.train = self.predict = Timings(failed=base)
            return
        self._size = self._size or self._size_of(base)
        (full,) = self._child([self._train_step(self._size)])
        full = checked_record(full, TRAIN_STEPS, timed=True)
        if _stopped(full, TRAIN_STEPS):
            self.train = replace(self.train, failed=full)
        else:
            self.train = replace(self.train, pairs=(*self.train.pairs, TimedPair(base, full, self._size)))
        if not self.predict.pairs and self.predict.failed is None:
            warmed, predicted = self._child([self._train_step(0), self._predict_step])
            warmed = checked_record(warmed, TRAIN_STEPS, timed=False)
            predicted = checked_record(predicted, PREDICT_RECORD, timed=True)
            whole = replace(predicted, duration_s=warmed.duration_s + predicted.duration_s)
            if _stopped(warmed, TRAIN_STEPS) or _stopped(predicted, PREDICT_STEPS):
                self.predict = Timings(failed=warmed if _stopped(warmed, TRAIN_STEPS) else predicted)
            else:
                self.predict = Timings((TimedPair(base, whole, self._images, tuple(PREDICT_RECORD)),))


def run(ctx: CheckContext, plan: Plan = PLAN) -> list[CheckResult]:
    """Both timing checks: the submission's and the reference's rounds of children, interleaved
    (S, R, S, R, ...), one child at a time: timings taken concurrently would disturb each other.
    When the submission is the reference itself, it is its own reference.
    """
    count = max(plan.warmup_pairs, plan.max_timed_pairs)
    train_input, train_target = train_pairs(ctx.train_path, count, ctx.seed)
    noisy, _ = val_pairs(ctx.val_path, plan.predict_images)
    train_limits = replace(ctx.limits("timing.train-epoch"), threads=TIMING_THREADS)
    predict_limits = replace(ctx.limits("timing.predict"), threads=TIMING_THREADS)
    warmup = min(plan.warmup_pairs, len(train_input))
    train_plan = replace(plan, warmup_pairs=warmup)

    def train_step(pairs: int) -> Step:
        args = {"input": train_input, "target": train_target, "warmup_pairs": warmup, "timed_pairs": pairs}
        return Step("probe_train_timing", args, train_limits)

    packages = [ctx.submission.package_dir]
    reference_dir = None if ctx.reference_dir is None else Path(ctx.reference_dir)
    if reference_dir is not None and not is_reference(ctx.submission.source, reference_dir):
        packages.append(reference_dir)
    subjects = [
        _Subject(
            package,
            train_step,
            Step("probe_predict_timing", {"input": noisy}, predict_limits),
            lambda base: timed_pairs(base, train_plan, len(train_input)),
            ctx.seed,
        )
        for package in packages
    ]
    load = machine_load()
    for _ in range(plan.rounds if len(subjects) > 1 else plan.own_rounds):
        for subject in subjects:
            subject.time_round()
    reference = None if reference_dir is None else subjects[-1]
    return [
        judge_train_epoch(
            subjects[0].train, reference and reference.train, ctx.rubric.thresholds, train_limits, load
        ),
        judge_predict_speed(subjects[0].predict, reference and reference.predict, predict_limits),
    ]
