"""Timing checks: is one training epoch within the statement's limit, and how fast is `predict`?

What is measured, and by whom. The submission runs inside the child it is timed in, so it controls
every clock and every record there: it can slow `time.perf_counter`, patch the probe, or write a
result of its own. So no second of the verdict comes from the child. The kernel counts the CPU time
of each child's processes (`ChildRun.cpu_s`: the usage in the child's cgroup's `cpu.stat`, every
process it started included, else the rusage of the reaped child) and the parent reads it; a time is
the difference between two children that differ only in the count of pairs or images of their one
timed call:

- `timing.train-epoch`: each child imports model.py, builds `Model()` and makes one `train` call, a
  first call on a fresh model as every graded `train` is, then one `predict` of one validation image
  (`AFTER_TRAIN_IMAGES`, the same in both children), so training a `train` defers to the model's next
  use is counted: the *base* child on `W` pairs (`BASE_PAIRS`), the *full* child on `W + N`. The
  full child's CPU less the base child's is the CPU time of `N` pairs (the import, `Model()`, the
  predict and a call's overhead cancel); / N x 50,000 pairs is the estimated epoch, compared with the
  rubric's limit. `N` is a multiple of `BATCH_FRIENDLY_PAIRS`, sized from the first base
  child's CPU time so that it costs about `TIMED_CPU_S` (`MIN_TIMED_PAIRS` to `MAX_TIMED_PAIRS`):
  enough pairs that the two children's fixed parts do not dominate, few enough that a slow submission
  does not time out.
- `timing.predict`: the same with `Model()`, `load_pretrained_model()` and one `predict` call on
  `PREDICT_BASE_IMAGES` and on `PREDICT_IMAGES` validation images (the grading script's batches of
  100); the difference is the time of predict on the images between. There is no course limit: it
  passes when predict runs; images per second and the ratio to the reference are for the grader.

Interleaving, the ratio and the calibration. The submission's pairs of children and the reference's
alternate (S, R, S, R: `ROUNDS` rounds; `OWN_ROUNDS` when the submission is the reference, its own
reference at ratio 1), so a round's two pairs run seconds apart on the same machine; the base child
trains on `W` pairs in the first round and every other one, on `2W` in the rounds between (the full
child on the base's count + `N`), where the data allow. The ratio is the median over rounds of the
submission's cost per pair over the reference's in the same round, or the largest round when two
rounds differ by more than `DISAGREEING_ROUNDS` x (beyond the noise seen here): a cost that depends on
which base count a round used is taken at its most. On a
CPU, the estimate is that ratio x the rubric's `reference_epoch_cpu_s` (the reference's epoch measured
once on a stated machine; the report says "2x the reference's time; reference = 1.2 min (rubric)"),
so the grading machine's load reaches the estimate only through the ratio. The reference's cost in this
run is a detail (`reference_measured_epoch_s`); it calibrates instead when the rubric sets 0, and on a
GPU, where the parent's wall times are compared. Without a timed reference (none given, or it failed)
the estimate is the submission's own CPU time, which grows with the load: on a virtual CPU, CPU time
still counts what a busy host or sibling takes from the core (the reference's own grew up to 26 % under
two spinners here, 37 % once when the idle run was really idle). The ratio cancels that for code that
meets the load as the reference's does (`tests/test_timing.py`'s load test: the reference's code run
twice per call, within 7 % in seven runs at load 4-6), not for all code: a pure-Python loop's ratio to
the reference moved between -26 % and +41 % in four such runs (its CPU time varies more under load
than torch code's), so the 20 % bound holds for code like the reference's. The report states the
machine load when timing began. Children run with 1 thread (`TIMING_THREADS`): the estimate is one
core's work, the statement's "on a CPU". The group runs alone, after every other check group (`alone`
in `harness.checks.registry`).

Consistency. The children still record their own seconds for their timed calls (a train child's
`train` and the predict after it, `TIMED_STEPS`); when the full child's less the base child's is less
wall time than the kernel's CPU time for the timed pairs allows (CPU time cannot exceed wall time x
cores), or more than the parent saw the full child live, the timing is
named *inconsistent* and gets no timing points (FAIL, the submission's fault): a slowed clock or a
forged record shows as such, and a forged record's numbers never enter the estimate.

What a submission could still do. The children differ only in the count they are given, which a
`train` reads from its own arguments: the counts are not secret (`W` = 400 or 800, `W + N` with `N` a
multiple of 400 up to 2,000) and cannot be, since a submission that crashes on counts its batch size
does not divide must not be timed on them. Training a `train` leaves for later is timed, since each
train child predicts once after it. A call that costs much less CPU on more pairs than on fewer is
named inconsistent (it does less work when given more), and a cost paid on one base count only (400,
say) makes the rounds disagree and is taken at its most. But a `train` that pays the same extra cost on
both base counts and on no full count, or pads every count up to 2,800 pairs to the same cost, is
timed at less than it costs: that is not told apart from a `train` whose cost does not grow with the
count, nor is a `train` that is cheap on the counts it is timed on and slow on 50,000 pairs (no
estimate short of a whole epoch can tell them apart). The same holds for `predict` and its image
counts. Once a call begins, the kernel counts what it really costs; time spent sleeping or blocked is
not CPU time and is not counted.

The tests check the arithmetic and the verdicts on hand-made child runs, the slowed clock, the lazy
`train` and the cost on the base count end to end (`tests/test_attacks.py`), and the load test, which
compares two estimates of the same test.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from harness.checks.model_steps.probe import probe_predict_timing, probe_train_timing
from harness.checks.model_steps.records import MALFORMED, Attempt, PredictTimingRecord, TrainTimingRecord
from harness.checks.model_steps.runner import (
    Step,
    child_failure,
    first_failed_step,
    judging,
    malformed,
    run_steps,
)
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import Thresholds
from harness.sandbox import ChildRun, Limits
from harness.workloads import BATCH_FRIENDLY_PAIRS, EPOCH_PAIRS, train_pairs, val_pairs

if TYPE_CHECKING:
    from harness.context import CheckContext

BASE_PAIRS = BATCH_FRIENDLY_PAIRS
"""The base child's pairs: the full child trains on these and `N` more."""
MIN_TIMED_PAIRS = BATCH_FRIENDLY_PAIRS
MAX_TIMED_PAIRS = 5 * BATCH_FRIENDLY_PAIRS
TIMED_CPU_S = 1.0
"""The CPU seconds the `N` timed pairs aim at, judged from the first base child (an upper bound per pair)."""
ROUNDS = 2
"""Rounds of interleaved pairs (submission, reference): what `harness check`'s 30 s allow."""
OWN_ROUNDS = 1
"""Rounds when the submission is its own reference: nothing to interleave with, and the reference's
`harness check` stays within its 30 s."""
PREDICT_IMAGES = 200
"""Validation images the full predict child predicts (two of the grading script's batches); fewer when
the data has fewer."""
PREDICT_BASE_IMAGES = 100
"""Validation images the base predict child predicts (one batch; at most half of the full child's): the
timed images are the difference."""
DISAGREEING_ROUNDS = 2.0
"""Two rounds whose per-pair costs (or ratios to the reference) differ by more than this factor disagree
beyond what noise explains here (the reference-like load test's per-round ratios stay within 7 %; a
pure-Python loop's ratio moved 1.9x between the extremes of four loaded runs, not two rounds of one):
the estimate then takes the largest round, not the median. The rounds' base counts differ (`W`, `2W`),
so a cost paid only on one public count shows as such a disagreement."""
TIMING_THREADS = 1
RESOLUTION_S = 0.05
"""A timed predict under this many CPU seconds is not told apart from the variation of the two children's
fixed parts (tens of milliseconds): it gets no rate."""
CONSISTENT_FRACTION = 0.8
CONSISTENT_SLACK_S = 0.1
"""The children's own seconds x cores may fall short of the kernel's CPU seconds by this fraction and
slack (the two children's fixed parts differ by a few tens of milliseconds), and the full child's CPU
seconds those of the base child, before a pair is inconsistent."""


@dataclass(frozen=True)
class Plan:
    """How much timing one run does: rounds, pair counts and images (tests use smaller ones)."""

    rounds: int = ROUNDS
    own_rounds: int = OWN_ROUNDS
    base_pairs: int = BASE_PAIRS
    min_timed_pairs: int = MIN_TIMED_PAIRS
    max_timed_pairs: int = MAX_TIMED_PAIRS
    timed_cpu_s: float = TIMED_CPU_S
    predict_images: int = PREDICT_IMAGES
    predict_base_images: int = PREDICT_BASE_IMAGES
    multiple: int = BATCH_FRIENDLY_PAIRS


PLAN = Plan()


AFTER_TRAIN_IMAGES = 1
"""Validation images each train timing child predicts after its `train` (both children the same)."""


def train_steps(pairs: int) -> dict[str, str]:
    """A train timing child's steps (record key -> words); each stops the timing when it raises."""
    after = f"predict on {AFTER_TRAIN_IMAGES} image after train"
    return {"init": "Model()", "train": f"train on {pairs} pairs", "predict": after}


def predict_steps(images: int) -> dict[str, str]:
    """The steps of a predict timing child that stop its timing (a failed load does not: predict runs
    without it)."""
    return {"init": "Model()", "predict": f"predict on {images} images"}


TimingRecord = TrainTimingRecord | PredictTimingRecord


def _attempts(record: TimingRecord, steps: Mapping[str, str]) -> list[tuple[Attempt | None, str]]:
    """The record's attempts of `steps` (field name -> words), with their words."""
    return [(getattr(record, key), words) for key, words in steps.items()]


TIMED_STEPS = {"train": ("train", "predict"), "predict": ("predict",)}
"""Per timed step, the calls of its child whose CPU time the kernel counts as the timed work: a train
child's `train` and the predict after it (which runs what `train` deferred)."""


def _own_seconds(record: TimingRecord, step: str) -> float:
    """The child's own seconds for its timed `step` calls (`TIMED_STEPS`), 0 for a call it did not make."""
    calls = (getattr(record, name) for name in TIMED_STEPS[step])
    return sum(call.seconds for call in calls if call is not None)


@dataclass(frozen=True)
class TimedPair:
    """Two children of one package that differ only in the count of their one `step` call (`train` or
    `predict`): `base` on `counts[0]` pairs or images, `full` on `counts[1]`."""

    base: ChildRun
    full: ChildRun
    counts: tuple[int, int]
    step: str = "train"

    @property
    def size(self) -> int:
        """The timed pairs or images: the full child's count less the base child's."""
        return self.counts[1] - self.counts[0]

    def words(self, count: int) -> str:
        """`train on 400 pairs`, `predict on 100 images`: the call on `count`, as the messages name it."""
        return (train_steps if self.step == "train" else predict_steps)(count)[self.step]

    @property
    def cpu_s(self) -> float:
        """The timed pairs' CPU seconds, by the kernel: the full child's less the base child's."""
        return self.full.cpu_s - self.base.cpu_s

    @property
    def wall_s(self) -> float:
        """The timed pairs' wall seconds, by the parent's clock (the machine's load is in it)."""
        return self.full.duration_s - self.base.duration_s

    def cost_s(self, on_gpu: bool) -> float:
        """Seconds per pair (or image) of the timed step, never negative: CPU time, or on a GPU wall time."""
        return max(self.wall_s if on_gpu else self.cpu_s, 0.0) / self.size

    @property
    def reported_s(self) -> float:
        """The seconds the children's own clocks gave the timed pairs: the full child's call less the
        base child's (the submission's word)."""
        return _own_seconds(self.full.value, self.step) - _own_seconds(self.base.value, self.step)


def inconsistency(pair: TimedPair, cores: float) -> tuple[str, str] | None:
    """What in a pair contradicts the kernel and the parent, and its likely cause; None when nothing does.

    A call on more pairs cannot cost much less CPU than the same call on fewer (a call that skips its
    work on the timed count); the timed pairs cannot have used more CPU than the children's own clocks
    give them x `cores`, nor taken longer than the full child lived by the parent's clock (a slowed or
    patched clock, or a forged record)."""
    if pair.full.cpu_s < CONSISTENT_FRACTION * pair.base.cpu_s - CONSISTENT_SLACK_S:
        what = (
            f"{pair.words(pair.counts[1])} cost {format_duration(pair.full.cpu_s)} of CPU time, "
            f"{pair.words(pair.counts[0])} {format_duration(pair.base.cpu_s)}"
        )
        return what, "it does less work when given more"
    reported = pair.reported_s
    clock = "a slowed or patched clock or a forged record"
    if max(reported, 0.0) * cores < CONSISTENT_FRACTION * pair.cpu_s - CONSISTENT_SLACK_S:
        what = (
            f"the child's clock says {format_duration(reported)}, the kernel counted "
            f"{format_duration(pair.cpu_s)} of CPU time"
        )
        return what, clock
    if reported > pair.full.duration_s + CONSISTENT_SLACK_S:
        what = (
            f"the child's clock says {format_duration(reported)}, longer than the "
            f"{format_duration(pair.full.duration_s)} the child ran"
        )
        return what, clock
    return None


def format_duration(seconds: float) -> str:
    """`45 s`, `2.9 min`, `57 min`, `1.2 h`: what a student reads at a glance."""
    if seconds < 60:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        minutes = seconds / 60
        return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
    return f"{seconds / 3600:.1f} h"


def judge_epoch(
    epoch_s: float, limit_s: float, ratio: float | None, reference: tuple[float, str] | None
) -> tuple[Outcome, str]:
    """PASS when the estimated epoch is within the limit; the message gives its ratio to the limit and,
    with a `reference` (its epoch in seconds, where that figure comes from), the submission's `ratio`
    to the reference's time."""
    ratios = [f"{epoch_s / limit_s:.2g}x the limit"]
    if ratio is not None and reference is not None:
        seconds, source = reference
        ratios.append(f"{ratio:.2g}x the reference's time; reference = {format_duration(seconds)} ({source})")
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


def disagree(values: list[float]) -> bool:
    """Whether two of the rounds' `values` differ by more than `DISAGREEING_ROUNDS` x (a round of 0
    disagrees with any round above 0)."""
    return bool(values) and max(values) > DISAGREEING_ROUNDS * min(values)


def combined(values: list[float]) -> float:
    """The rounds' `values` as one: their median, or their largest when the rounds `disagree` (the
    conservative reading of a cost that depends on which public count a round used)."""
    return max(values) if disagree(values) else statistics.median(values)


@dataclass(frozen=True)
class Timings:
    """One package's timed pairs, or the child run that stopped its timing (`failed`) and the words
    of that child's steps (`failed_steps`: `train_steps` or `predict_steps`)."""

    pairs: tuple[TimedPair, ...] = ()
    failed: ChildRun | None = None
    failed_steps: Mapping[str, str] = field(default_factory=dict)

    @property
    def runs(self) -> list[ChildRun]:
        """Every child of these timings, the timed pairs' and the one that stopped them."""
        return [
            *(run for pair in self.pairs for run in (pair.base, pair.full)),
            *([self.failed] if self.failed else []),
        ]

    def median_cost_s(self, on_gpu: bool) -> float | None:
        """The seconds per pair (or image) over the rounds (`combined`); None when nothing was timed."""
        return combined(costs(self, on_gpu)) if self.pairs else None

    def ratios(self, reference: Timings | None, on_gpu: bool) -> list[float]:
        """Per round, this package's cost per pair (or image) over the reference's in the same round
        (timed seconds apart, so both saw the same machine); rounds where the reference cost nothing
        are left out."""
        if reference is None:
            return []
        if reference is self:
            return [1.0] * len(self.pairs)
        rounds = zip(self.pairs, reference.pairs, strict=False)
        return [
            own.cost_s(on_gpu) / other.cost_s(on_gpu) for own, other in rounds if other.cost_s(on_gpu) > 0
        ]

    def ratio(self, reference: Timings | None, on_gpu: bool) -> float | None:
        """The per-round `ratios`, `combined`: how many times the reference's time this package takes;
        None without a timed reference."""
        ratios = self.ratios(reference, on_gpu)
        return combined(ratios) if ratios else None


def costs(timings: Timings, on_gpu: bool) -> list[float]:
    """Per round, the package's seconds per pair (or image)."""
    return [pair.cost_s(on_gpu) for pair in timings.pairs]


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
    doing: str,
    limits: Limits,
) -> CheckResult | None:
    """What the two checks share: the submission's failure or inconsistency as a result, else None."""
    if timings.failed is not None:
        run = timings.failed
        if run.status == MALFORMED:
            message = f"timing inconsistent (the child's record is forged: {run.error}): no points"
            failed = CheckResult(
                check_id, Category.TIMING, Outcome.FAIL, message, {"inconsistent": run.error},
                run.duration_s, score=0.0, fault=Fault.SUBMISSION,
            )  # fmt: skip
            return failed
        if run.status != "ok":
            return child_failure(check_id, Category.TIMING, run, doing, limits)
        attempts = _attempts(run.value, timings.failed_steps)
        return first_failed_step(check_id, Category.TIMING, attempts, run.duration_s)
    on_gpu = torch.cuda.is_available()
    cores = float(os.cpu_count() or 1)
    for pair in timings.pairs:
        found = inconsistency(pair, cores)
        if found is not None:
            why, cause = found
            message = f"timing inconsistent ({why}): {cause}, no points"
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
            return result
    return None


def _pair_details(timings: Timings, on_gpu: bool) -> dict[str, Any]:
    """The figures behind an estimate: per round, the kernel's CPU seconds, the parent's wall seconds
    and the children's own seconds of the timed pairs, and where the CPU time came from."""
    return {
        "rounds": len(timings.pairs),
        "counts": list(timings.pairs[0].counts) if timings.pairs else [],
        "round_counts": [list(pair.counts) for pair in timings.pairs],
        "measure": "wall time (GPU)" if on_gpu else "kernel CPU time",
        "cpu_source": sorted({run.cpu_source for pair in timings.pairs for run in (pair.base, pair.full)}),
        "cpu_s": [pair.cpu_s for pair in timings.pairs],
        "wall_s": [pair.wall_s for pair in timings.pairs],
        "child_reported_s": [pair.reported_s for pair in timings.pairs],
    }


def judge_train_epoch(
    timings: Timings,
    reference: Timings | None,
    thresholds: Thresholds,
    limits: Limits,
    load: Mapping[str, float] | None = None,
) -> CheckResult:
    """`timing.train-epoch` from the submission's and the reference's timed pairs (`run`).

    On a CPU with the rubric's `reference_epoch_cpu_s`, the estimate is the submission's `ratio` to the
    reference times that pinned epoch; else the ratio times the reference's cost in this run; without
    a timed reference, the submission's own cost."""
    failure = _verdict("timing.train-epoch", timings, reference, "timing train", limits)
    if failure is not None:
        return failure
    on_gpu = torch.cuda.is_available()
    ratio = timings.ratio(reference, on_gpu)
    measured = reference.median_cost_s(on_gpu) if reference is not None else None
    measured_epoch_s = measured * EPOCH_PAIRS if measured is not None else None
    pinned_s = 0.0 if on_gpu else thresholds.reference_epoch_cpu_s
    calibration = None
    if ratio is not None:
        calibration = (pinned_s, "rubric") if pinned_s else (measured_epoch_s or 0.0, "this run")
    if ratio is not None and calibration is not None:
        epoch_s = ratio * calibration[0]
    else:
        epoch_s = (timings.median_cost_s(on_gpu) or 0.0) * EPOCH_PAIRS
    limit_s = thresholds.epoch_limit_gpu_s if on_gpu else thresholds.epoch_limit_cpu_s
    outcome, message = judge_epoch(epoch_s, limit_s, ratio, calibration)
    fewer, more = timings.pairs[0].counts
    measure = "wall" if on_gpu else "CPU"
    rounds = timings.ratios(reference, on_gpu) if ratio is not None else costs(timings, on_gpu)
    taken = (
        f"largest of {len(rounds)} (the rounds disagree)" if disagree(rounds) else f"median of {len(rounds)}"
    )
    message += f"; {measure} time of train on {more} pairs less on {fewer}, {taken}"
    if load is not None:
        message += f"; {load_note(load)}"
    details = {
        "machine_load": dict(load or {}),
        "epoch_s": epoch_s,
        "limit_s": limit_s,
        "device": "gpu" if on_gpu else "cpu",
        "threads": limits.threads,
        "timed_pairs": more - fewer,
        "rounds_disagree": disagree(rounds),
        **_pair_details(timings, on_gpu),
        "reference_epoch_s": calibration[0] if calibration else None,
        "reference_calibration": calibration[1] if calibration else None,
        "reference_measured_epoch_s": measured_epoch_s,
        "reference_ratio": ratio,
        "reference_ratios": timings.ratios(reference, on_gpu),
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


def _loaded(record: PredictTimingRecord) -> bool:
    """Whether a predict record says `load_pretrained_model()` ran (the child's word: a detail only)."""
    return record.load is not None and record.load.ok


def judge_predict_speed(timings: Timings, reference: Timings | None, limits: Limits) -> CheckResult:
    """`timing.predict` from the submission's and the reference's timed predict pairs."""
    failure = _verdict("timing.predict", timings, reference, "timing predict", limits)
    if failure is not None:
        return failure
    on_gpu = torch.cuda.is_available()
    per_image_s, ratio = timings.median_cost_s(on_gpu) or 0.0, timings.ratio(reference, on_gpu)
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
            **_pair_details(timings, on_gpu),
            "reference_ratio": ratio,
            "reference_note": _reference_note(reference),
        },
        pair.full.duration_s,
        score=1.0,
        fault=Fault.NONE,
    )


def checked_record(run: ChildRun, step: str, count: int) -> ChildRun:
    """`run`, or a `MALFORMED` run when its record, already of its probe's shape
    (`runner.checked_step`), lacks the `step` call it was asked for (`count` is not 0) though `Model()`
    returned: not what the probe writes."""
    missing = run.status == "ok" and count and run.value.init.ok and getattr(run.value, step) is None
    return malformed(run, f"no {step} step") if missing else run


def _stopped(run: ChildRun, steps: Mapping[str, str]) -> bool:
    """Whether `run` ended without a value or with one of `steps` raised: timing stops there."""
    if run.status != "ok":
        return True
    return any(attempt is not None and not attempt.ok for attempt, _ in _attempts(run.value, steps))


def timed_pairs(base: ChildRun, plan: Plan, available: int) -> int:
    """How many more pairs the full child trains on than the base child: `plan.timed_cpu_s` over the
    base child's CPU seconds per pair (its whole CPU time, so an upper bound), within the plan's
    bounds and the pairs `available` beyond the base child's, a multiple of `plan.multiple` where the
    data allow one."""
    per_pair = max(base.cpu_s, 1e-6) / max(plan.base_pairs, 1)
    pairs = min(available, plan.max_timed_pairs, max(plan.min_timed_pairs, int(plan.timed_cpu_s / per_pair)))
    return max(pairs // plan.multiple * plan.multiple, min(plan.multiple, available))


class _Subject:
    """One package's timing children, one round at a time (`time_round`).

    Each child makes one timed call after `Model()` (and, for predict, `load_pretrained_model()`): a
    round is a base child training on `W` pairs (`2W` in every other round, `_train_base`) and a full
    child training on `N` more; the first round adds two predict children, on fewer and on more
    validation images. `N` is picked from the first base child (`timed_count`). A failure stops the
    timing it belongs to."""

    def __init__(
        self,
        package_dir: Path,
        train_step: Callable[[int], Step],
        predict_step: Callable[[int], Step],
        base_pairs: int,
        timed_count: Callable[[ChildRun], int],
        available: int,
        predict_counts: tuple[int, int],
        seed: int,
    ) -> None:
        self._package_dir, self._train_step, self._predict_step = package_dir, train_step, predict_step
        self._base_pairs, self._timed_count, self._predict_counts = base_pairs, timed_count, predict_counts
        self._available, self._seed = available, seed
        self._pairs = 0
        self.train = Timings()
        self.predict = Timings()

    def _child(self, make: Callable[[int], Step], step: str, count: int) -> ChildRun:
        (run,) = run_steps(self._package_dir, [make(count)], self._seed)
        return checked_record(run, step, count)

    def _timed(
        self,
        timings: Timings,
        make: Callable[[int], Step],
        step: str,
        words: Callable[[int], dict[str, str]],
        base_count: int,
        full_count: Callable[[ChildRun], int],
    ) -> Timings:
        """`timings` and one more pair: a child of `make(base_count)`, then one of `make(full_count(base))`;
        or `timings` stopped by the first of the two that failed."""
        base = self._child(make, step, base_count)
        if _stopped(base, words(base_count)):
            return replace(timings, failed=base, failed_steps=words(base_count))
        count = full_count(base)
        full = self._child(make, step, count)
        if _stopped(full, words(count)):
            return replace(timings, failed=full, failed_steps=words(count))
        return replace(timings, pairs=(*timings.pairs, TimedPair(base, full, (base_count, count), step)))

    def _timed_train_pairs(self, base: ChildRun) -> int:
        """`N`, the full train child's pairs beyond its base child's: picked from the first base child and
        kept for every round."""
        self._pairs = self._pairs or self._timed_count(base)
        return self._pairs

    def _train_base(self) -> int:
        """This round's base pairs: `W` in the first round and every other one, `2W` in the rounds between
        when the data hold `2W + N` pairs, so a cost paid only on one public count is not in every
        round's difference (`DISAGREEING_ROUNDS`)."""
        doubled = 2 * self._base_pairs
        if len(self.train.pairs) % 2 and doubled + self._pairs <= self._available:
            return doubled
        return self._base_pairs

    def time_round(self) -> None:
        """One more pair of train children, and in the first round the pair of predict children."""
        if self.train.failed is None:
            base = self._train_base()
            self.train = self._timed(
                self.train,
                self._train_step,
                "train",
                train_steps,
                base,
                lambda first: base + self._timed_train_pairs(first),
            )
        if not self.predict.pairs and self.predict.failed is None:
            fewer, more = self._predict_counts
            self.predict = self._timed(
                self.predict, self._predict_step, "predict", predict_steps, fewer, lambda _: more
            )


def run(ctx: CheckContext, plan: Plan = PLAN) -> list[CheckResult]:
    """Both timing checks: the submission's and the reference's rounds of children, interleaved
    (S, R, S, R, ...), one child at a time: timings taken concurrently would disturb each other.
    When the submission is the reference itself, it is its own reference.
    """
    pairs = 2 * plan.base_pairs + plan.max_timed_pairs  # a doubled base in every other round
    train_input, train_target = train_pairs(ctx.train_path, pairs, ctx.seed)
    noisy, _ = val_pairs(ctx.val_path, plan.predict_images)
    after = noisy[:AFTER_TRAIN_IMAGES].clone()
    train_limits = replace(ctx.limits("timing.train-epoch"), threads=TIMING_THREADS)
    predict_limits = replace(ctx.limits("timing.predict"), threads=TIMING_THREADS)
    base_pairs = min(plan.base_pairs, len(train_input) // 2)
    train_plan = replace(plan, base_pairs=base_pairs)

    def train_step(pairs: int) -> Step:
        args = {"input": train_input, "target": train_target, "pairs": pairs, "after": after}
        return Step(probe_train_timing, args, train_limits)

    def predict_step(images: int) -> Step:
        return Step(probe_predict_timing, {"input": noisy, "images": images}, predict_limits)

    def timed_count(base: ChildRun) -> int:
        return timed_pairs(base, train_plan, len(train_input) - base_pairs)

    packages = [ctx.submission.package_dir]
    reference_dir = None if ctx.reference_dir is None else Path(ctx.reference_dir)
    if reference_dir is not None and not is_reference(ctx.submission.source, reference_dir):
        packages.append(reference_dir)
    predict_counts = (min(plan.predict_base_images, len(noisy) // 2), len(noisy))
    subjects = [
        _Subject(
            package,
            train_step,
            predict_step,
            base_pairs,
            timed_count,
            len(train_input),
            predict_counts,
            ctx.seed,
        )
        for package in packages
    ]
    load = machine_load()
    for _ in range(plan.rounds if len(subjects) > 1 else plan.own_rounds):
        for subject in subjects:
            subject.time_round()
    reference = None if reference_dir is None else subjects[-1]
    own = subjects[0]
    return [
        *judging(
            own.train.runs,
            ["timing.train-epoch"],
            Category.TIMING,
            judge_train_epoch,
            *(own.train, reference and reference.train, ctx.rubric.thresholds, train_limits, load),
        ),
        *judging(
            own.predict.runs,
            ["timing.predict"],
            Category.TIMING,
            judge_predict_speed,
            *(own.predict, reference and reference.predict, predict_limits),
        ),
    ]
