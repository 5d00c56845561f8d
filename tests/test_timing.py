"""The timing checks: the arithmetic and verdicts on hand-made child runs; slow, clock-slowing and
reference fixtures end to end; and the estimate under load against the idle one, in the same run.

Pass/fail assertions rest on the kernel's CPU time of fixtures whose cost is far from the limit, never on
a wall time; the load test compares two estimates measured in the same test.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from harness.checks.model_steps.runner import checked_step
from harness.checks.timing import judge as timing
from harness.context import CheckContext
from harness.results import Fault, Outcome
from harness.rubric import Thresholds
from harness.sandbox import ChildRun, Limits
from harness.submission import resolve_submission
from tests.model_fixtures import REFERENCE, context_for, reference_variant, tight_rubric, write_course_data

SMALL_PLAN = timing.Plan(
    rounds=1,
    base_pairs=4,
    min_timed_pairs=12,
    max_timed_pairs=12,
    multiple=4,
    predict_images=16,
    predict_base_images=4,
)
"""A plan for fixtures that cost about 0.1 s of CPU per pair: train on 4 pairs and on 16, one round."""


def child_run(
    value: dict | None,
    cpu_s: float = 1.0,
    duration_s: float = 60.0,
    status: str = "ok",
    probe: str = "probe_train_timing",
) -> ChildRun:
    """A timing child's run whose probe returned the plain `value`, parsed as the runner parses it."""
    error = "" if status == "ok" else "killed"
    return checked_step(ChildRun(status, value, error, "", "", "", duration_s, True, cpu_s=cpu_s), probe)


def ok(seconds: float) -> dict:
    return {"ok": True, "error": "", "seconds": seconds}


def raised(error: str) -> dict:
    return {"ok": False, "error": error, "seconds": 0.0}


def train_record(train_s: float) -> dict:
    return {"init": ok(0), "train": ok(train_s), "predict": ok(0)}


def pair(
    base_cpu_s: float,
    full_cpu_s: float,
    counts: tuple[int, int] = (400, 1200),
    reported_s: float | None = None,
) -> timing.TimedPair:
    """A child training on 400 pairs and one on 1200 (by default), whose kernel CPU times differ by the
    800 timed pairs'; the children's own clocks agree with the kernel (as far as a clock, which never
    goes below 0 s, can) unless `reported_s` says otherwise."""
    reported = max(full_cpu_s - base_cpu_s, 0.0) if reported_s is None else reported_s
    base, full = child_run(train_record(0.5), base_cpu_s), child_run(train_record(0.5 + reported), full_cpu_s)
    return timing.TimedPair(base, full, counts)


def timings(*pairs: timing.TimedPair) -> timing.Timings:
    return timing.Timings(pairs)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0076, "0.0076 s"), (4.2, "4.2 s"), (45, "45 s"), (138, "2.3 min"), (3420, "57 min"), (4320, "1.2 h")],
)
def test_format_duration(seconds, text):
    assert timing.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("epoch_s", "ratio", "reference", "outcome", "message"),
    [
        (3420, 18.4, (186, "rubric"), Outcome.FAIL,
         "estimated epoch 57 min > limit 30 min (1.9x the limit; 18x the reference's time; "
         "reference = 3.1 min (rubric))"),
        (138, 1.0, (138, "this run"), Outcome.PASS,
         "estimated epoch 2.3 min within limit 30 min (0.077x the limit; 1x the reference's time; "
         "reference = 2.3 min (this run))"),
        (1800, None, None, Outcome.PASS, "estimated epoch 30 min within limit 30 min (1x the limit)"),
    ],
    ids=["57-min-fails", "reference-passes", "at-the-limit-without-reference"],
)  # fmt: skip
def test_epoch_verdict_and_message(epoch_s, ratio, reference, outcome, message):
    assert timing.judge_epoch(epoch_s, 1800, ratio, reference) == (outcome, message)


def test_the_epoch_is_the_kernels_cpu_difference_of_the_two_children_per_pair():
    """Full child 5 s of CPU, base child 1 s: 4 s for 800 pairs, 250 s per 50,000-pair epoch."""
    result = timing.judge_train_epoch(timings(pair(1.0, 5.0)), None, Thresholds(), Limits())
    assert (result.outcome, result.details["epoch_s"], result.details["cpu_s"]) == (
        Outcome.PASS,
        250.0,
        [4.0],
    )
    assert result.details["reference_note"] == "reference timing disabled"


SUBMISSION = timings(pair(1, 4.2), pair(1, 6.6), pair(1, 4.2))
REFERENCE_ROUNDS = timings(pair(1, 2.6), pair(1, 3.4), pair(1, 3.0))
"""Per pair and round: the submission 4, 7 and 4 ms, the reference 2, 3 and 2.5 ms: per-round ratios 2,
2.3 and 1.6 (median 2, within `DISAGREEING_ROUNDS` of each other), where the ratio of the medians
(4 / 2.5) would be 1.6."""


def test_the_estimate_is_the_median_per_round_ratio_times_the_rubrics_reference_epoch():
    """Ratio 2 x the rubric's pinned 75 s: 150 s, whatever the reference cost in this run (125 s)."""
    result = timing.judge_train_epoch(
        SUBMISSION, REFERENCE_ROUNDS, Thresholds(reference_epoch_cpu_s=75), Limits()
    )
    assert result.details["reference_ratios"] == pytest.approx([2.0, 7 / 3, 1.6])
    assert result.details["reference_ratio"] == pytest.approx(2.0)
    assert result.details["epoch_s"] == pytest.approx(150.0)
    assert (result.details["reference_epoch_s"], result.details["reference_calibration"]) == (75, "rubric")
    assert result.details["reference_measured_epoch_s"] == pytest.approx(125.0)
    assert "2x the reference's time; reference = 1.2 min (rubric)" in result.message
    assert "median of 3" in result.message


def test_rounds_that_disagree_beyond_noise_give_the_largest_not_the_median():
    """Per-round ratios 0.1 and 1 (a cost paid on one round's base count only): the estimate takes 1,
    and says so; 1 and 1.8 are within noise: their median."""
    cheap_round, honest_round = pair(1, 1.08), pair(1, 1.8)
    result = timing.judge_train_epoch(
        timings(cheap_round, honest_round), timings(pair(1, 1.8), pair(1, 1.8)), Thresholds(), Limits()
    )
    assert result.details["reference_ratios"] == pytest.approx([0.1, 1.0])
    assert result.details["reference_ratio"] == pytest.approx(1.0) and result.details["rounds_disagree"]
    assert "largest of 2 (the rounds disagree)" in result.message
    assert timing.combined([1.0, 1.8]) == pytest.approx(1.4) and not timing.disagree([1.0, 1.8])
    assert timing.disagree([0.0, 0.1]) and not timing.disagree([0.0, 0.0])


def test_without_a_pinned_epoch_the_references_cost_in_this_run_calibrates():
    result = timing.judge_train_epoch(
        SUBMISSION, REFERENCE_ROUNDS, Thresholds(reference_epoch_cpu_s=0), Limits()
    )
    assert result.details["epoch_s"] == pytest.approx(2 * 125.0)
    assert "reference = 2.1 min (this run)" in result.message


def test_without_a_reference_the_estimate_is_the_submissions_own_cost():
    result = timing.judge_train_epoch(SUBMISSION, None, Thresholds(reference_epoch_cpu_s=75), Limits())
    assert result.details["epoch_s"] == pytest.approx(200.0)  # median 4 ms x 50,000
    assert (result.details["reference_ratio"], result.details["reference_calibration"]) == (None, None)


def test_a_slowed_clock_or_a_forged_record_is_named_inconsistent_and_earns_nothing():
    """The child says its timed epoch took 2 s; the kernel counted 30 s of CPU for it."""
    result = timing.judge_train_epoch(timings(pair(1.0, 31.0, reported_s=2.0)), None, Thresholds(), Limits())
    assert (result.outcome, result.fault, result.score) == (Outcome.FAIL, Fault.SUBMISSION, 0.0)
    assert result.message.startswith(
        "timing inconsistent (the child's clock says 2 s, the kernel counted 30 s"
    )
    assert "\n" not in result.message


def test_a_record_claiming_more_time_than_the_child_lived_is_inconsistent():
    forged = pair(1.0, 2.0, reported_s=3600.0)
    result = timing.judge_train_epoch(timings(forged), None, Thresholds(), Limits())
    assert result.outcome is Outcome.FAIL and "longer than the 1.0 min the child ran" in result.message


def test_the_records_numbers_never_enter_the_estimate():
    """Two consistent records with different seconds of their own: the same estimate, the kernel's."""
    honest = timing.judge_train_epoch(timings(pair(1.0, 5.0)), None, Thresholds(), Limits())
    other = timing.judge_train_epoch(timings(pair(1.0, 5.0, reported_s=9.0)), None, Thresholds(), Limits())
    assert honest.details["epoch_s"] == other.details["epoch_s"] == 250.0


def test_a_train_that_costs_less_on_more_pairs_is_named_inconsistent():
    """Train on 1200 pairs cost 0.3 s of CPU, on 400 pairs 2 s: it skips its work on the timed count."""
    result = timing.judge_train_epoch(timings(pair(2.0, 0.3)), None, Thresholds(), Limits())
    assert (result.outcome, result.fault, result.score) == (Outcome.FAIL, Fault.SUBMISSION, 0.0)
    assert result.message == (
        "timing inconsistent (train on 1200 pairs cost 0.3 s of CPU time, train on 400 pairs 2 s): "
        "it does less work when given more, no points"
    )


def test_a_train_whose_cost_does_not_grow_with_the_pairs_is_not_inconsistent():
    """Both children 1 s, one 0.15 s under the other either way: the variation of two children, epoch ~0."""
    for base_cpu_s, full_cpu_s in ((1.0, 0.85), (0.85, 1.0)):
        result = timing.judge_train_epoch(timings(pair(base_cpu_s, full_cpu_s)), None, Thresholds(), Limits())
        assert result.outcome is Outcome.PASS, result.message


@pytest.mark.parametrize(
    "train",
    [{"ok": True, "error": "", "seconds": "fast"}, {"ok": "yes", "error": "", "seconds": 1.0}, None, [1.0]],
    ids=["seconds-not-a-number", "ok-not-a-bool", "no-train-step", "not-a-dict"],
)
def test_a_record_the_probe_never_writes_is_named_forged_not_a_harness_error(train):
    """Submission code can write the runner's result itself: whatever it writes is its FAIL."""
    forged = timing.checked_record(child_run({"init": ok(0), "train": train, "predict": None}), "train", 1200)
    failed = timing.Timings(failed=forged, failed_steps=timing.train_steps(1200))
    result = timing.judge_train_epoch(failed, None, Thresholds(), Limits())
    assert (result.outcome, result.fault) == (Outcome.FAIL, Fault.SUBMISSION)
    assert result.message.startswith("timing inconsistent (the child's record is forged: ")


def test_a_failed_reference_is_a_note_not_a_verdict():
    reference = timing.Timings(failed=child_run(None, status="timeout"))
    result = timing.judge_train_epoch(timings(pair(1.0, 5.0)), reference, Thresholds(), Limits())
    assert result.outcome is Outcome.PASS and result.details["reference_ratio"] is None
    assert result.details["reference_note"] == "reference run timeout: killed"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"init": raised("TypeError: x (at model.py:4)"), "train": None, "predict": None},
         "Model() raised TypeError: x (at model.py:4)"),
        ({"init": ok(0), "train": raised("ValueError: y"), "predict": None},
         "train on 400 pairs raised ValueError: y"),
        ({"init": ok(0), "train": ok(1.0), "predict": raised("RuntimeError: z")},
         "predict on 1 image after train raised RuntimeError: z"),
    ],
    ids=["init-raises", "train-raises", "predict-after-train-raises"],
)  # fmt: skip
def test_train_epoch_names_the_step_that_raised(record, message):
    failed = timing.Timings(failed=child_run(record), failed_steps=timing.train_steps(400))
    result = timing.judge_train_epoch(failed, None, Thresholds(), Limits())
    assert (result.outcome, result.message) == (Outcome.ERROR, message)


def test_a_train_that_never_returns_is_a_timeout():
    stopped = timing.Timings(failed=child_run(None, status="timeout"))
    result = timing.judge_train_epoch(stopped, None, Thresholds(), Limits(wall_s=180))
    assert (result.outcome, result.message) == (Outcome.TIMEOUT, "timing train did not finish within 180 s")


def predicted(
    base_cpu_s: float, full_cpu_s: float, counts: tuple[int, int] = (100, 1100)
) -> timing.TimedPair:
    """A child predicting 100 images and one predicting 1100 (by default), whose own clocks agree with the
    kernel."""

    def record(seconds: float) -> dict:
        return {"init": ok(0), "load": ok(0), "predict": ok(seconds)}

    base, full = (
        child_run(record(0.2), base_cpu_s, probe="probe_predict_timing"),
        child_run(record(0.2 + full_cpu_s - base_cpu_s), full_cpu_s, probe="probe_predict_timing"),
    )
    return timing.TimedPair(base, full, counts, "predict")


def test_predict_speed_and_ratio():

    result = timing.judge_predict_speed(timings(predicted(1.0, 1.5)), timings(predicted(1.0, 1.25)), Limits())
    assert (result.outcome, result.details["images_per_s"], result.details["reference_ratio"]) == (
        Outcome.PASS, 2000.0, 2.0
    )  # fmt: skip
    assert result.message == "predict: 1000 images in 0.5 s (2000 images/s; 2x the reference's time)"


def test_a_predict_too_fast_to_time_gets_no_rate():
    fast = predicted(1.03, 1.0, (100, 300))
    result = timing.judge_predict_speed(timings(fast), None, Limits())
    assert (result.outcome, result.details["images_per_s"]) == (Outcome.PASS, None)
    assert result.message == (
        "predict: 200 images in under 0.05 s of CPU time (too fast to tell from the children's own variation)"
    )


def test_the_childs_own_seconds_are_its_two_calls_difference():
    """A slow Model() and load are in both predict children: only the two predicts' difference counts."""

    def record(predict_s: float) -> dict:
        return {"init": ok(1.5), "load": ok(0.5), "predict": ok(predict_s)}

    base, full = (
        child_run(record(s), cpu_s, probe="probe_predict_timing") for s, cpu_s in ((0.5, 2.5), (1.0, 3.0))
    )
    timed = timing.TimedPair(base, full, (100, 200), "predict")
    result = timing.judge_predict_speed(timings(timed), None, Limits())
    assert result.outcome is Outcome.PASS and result.details["child_reported_s"] == [0.5]


@pytest.mark.parametrize(
    ("source", "reference", "same"),
    [("Miniproject_2", "Miniproject_2", True), ("Proj_1", "Proj_1/Miniproject_2", True), ("a", "b", False)],
    ids=["package", "proj-folder", "other"],
)
def test_is_reference(tmp_path, source, reference, same):
    assert timing.is_reference(tmp_path / source, tmp_path / reference) is same


def test_train_epoch_states_the_machine_load_it_was_timed_under():
    load = {"load_1min": 3.04, "cores": 2.0}
    result = timing.judge_train_epoch(timings(pair(1.0, 5.0)), None, Thresholds(), Limits(), load)
    assert result.message.endswith("; machine load 3.0 on 2 cores")
    assert result.details["machine_load"] == load


@pytest.fixture
def small_data(tmp_path):
    return write_course_data(tmp_path / "data", train=16, val=16)


def epoch_of(fixture: str, workdir: Path, data: tuple[Path, Path], reference: Path | None = None) -> list:
    ctx = context_for(fixture, workdir, data, tight_rubric(wall_s=60), reference_dir=reference)
    return timing.run(ctx, SMALL_PLAN)


def test_slow_train_fixture_fails_the_epoch_limit(tmp_path, small_data):
    """About 0.1 s of CPU per pair: 12 timed pairs say more than an hour, whatever the machine's load."""
    train, predict = epoch_of("model_slow_train", tmp_path / "work", small_data)
    assert train.outcome is Outcome.FAIL and train.details["epoch_s"] >= 50_000 * 0.036
    assert train.message.startswith("estimated epoch ") and "> limit 30 min" in train.message
    assert train.details["counts"] == [4, 16] and train.details["cpu_source"]
    assert predict.outcome is Outcome.PASS and predict.details["counts"] == [4, 16]


def test_a_slowed_clock_is_caught_by_the_kernels_cpu_time(tmp_path):
    """attack_slow_clock slows every clock 1000x and burns 2.5 ms of CPU per pair: on 400 more pairs its
    own clock says about 1 ms, the kernel about 1 s, so the timing is inconsistent."""
    data = write_course_data(tmp_path / "data", train=404, val=16)
    ctx = context_for("attack_slow_clock", tmp_path / "work", data, tight_rubric(wall_s=60))
    train, _ = timing.run(ctx, replace(SMALL_PLAN, min_timed_pairs=400, max_timed_pairs=400))
    assert (train.outcome, train.fault, train.score) == (Outcome.FAIL, Fault.SUBMISSION, 0.0)
    assert train.message.startswith("timing inconsistent (the child's clock says 0.00")
    assert train.details["cpu_s"][0] >= 0.9


def test_timing_reuses_the_submissions_own_runs_when_it_is_the_reference(tmp_path, small_data):
    fixture = Path(__file__).parent / "submissions" / "model_torch_backed"
    train, predict = epoch_of("model_torch_backed", tmp_path / "work", small_data, fixture / "Miniproject_2")
    assert train.outcome is Outcome.PASS and train.details["reference_ratio"] == 1.0
    assert train.details["epoch_s"] == tight_rubric().thresholds.reference_epoch_cpu_s
    assert predict.details["reference_ratio"] == 1.0


LOAD_PLAN = timing.Plan(
    rounds=3,
    base_pairs=40,
    min_timed_pairs=800,
    max_timed_pairs=800,
    predict_images=8,
    predict_base_images=4,
)
"""The load test's plan: three rounds of train on 40 pairs (80 in the second) and on 800 more, beside
the reference (about 2.5 s of CPU time per timed call of the fixture, 1.2 s of the reference's)."""


def interleaved_estimate(package: Path, workdir: Path, data: tuple[Path, Path]) -> dict:
    """`timing.train-epoch`'s details for `package` timed beside the reference with `LOAD_PLAN`."""
    submission = resolve_submission(package.parent, workdir)
    ctx = CheckContext(submission, data[0], data[1], tight_rubric(wall_s=120), 0, REFERENCE)
    train, _ = timing.run(ctx, LOAD_PLAN)
    assert train.outcome is Outcome.PASS, train.message
    return train.details


def test_the_estimate_under_two_busy_processes_stays_within_20_percent_of_the_idle_one(tmp_path):
    """model_twice_as_slow timed beside the reference, then again with two pure-Python spin loops on
    the machine's cores: the estimate (median per-round ratio x the rubric's pinned reference epoch)
    moves less than 20 %, while each package's own CPU time per pair grows with the load.

    The fixture is the reference's code run twice per call, so both packages meet the load the same
    way; a train whose code meets it differently (a pure-Python loop against the reference's torch
    kernels) moved its ratio by up to 25 % here (README, "Timing method")."""
    package = reference_variant("model_twice_as_slow", tmp_path / "fixture")
    data = write_course_data(tmp_path / "data", train=880, val=8)
    idle = interleaved_estimate(package, tmp_path / "idle", data)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = interleaved_estimate(package, tmp_path / "loaded", data)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    for name, details in (("idle", idle), ("loaded", loaded)):
        own_epoch_s = statistics.median(details["cpu_s"]) / 800 * 50_000
        print(
            f"{name}: load {details['machine_load']['load_1min']:.1f}, epoch {details['epoch_s']:.0f} s, "
            f"per-round ratios {[round(r, 2) for r in details['reference_ratios']]}, ratio of medians "
            f"{own_epoch_s / details['reference_measured_epoch_s']:.2f}, own epoch {own_epoch_s:.0f} s, "
            f"reference's {details['reference_measured_epoch_s']:.0f} s"
        )
    assert loaded["epoch_s"] == pytest.approx(idle["epoch_s"], rel=0.2)
