"""The timing checks: extrapolation arithmetic and verdicts on hand-made numbers; a slow fixture end to end.

No test here asserts on a measured time: the end-to-end fixture sleeps 40 ms per pair, so its estimate
is at least 50,000 x 0.04 s = 33 min whatever the machine, above the 30 min limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.timing import judge as timing
from harness.results import Outcome
from harness.rubric import Thresholds
from harness.sandbox import ChildRun, Limits
from tests.model_fixtures import context_for, tight_rubric, write_course_data


def child_run(value: dict | None, status: str = "ok", error: str = "") -> ChildRun:
    return ChildRun(status, value, error, "", "", "", 1.5, True)


def ok(seconds: float) -> dict:
    return {"ok": True, "error": "", "seconds": seconds}


def train_record(pairs: int, seconds: float, cuda: bool = False) -> dict:
    return {
        "init": ok(0),
        "warmup": ok(0.1),
        "timed": ok(seconds),
        "warmup_pairs": 32,
        "timed_pairs": pairs,
        "cuda": cuda,
    }


@pytest.mark.parametrize(
    ("pairs", "seconds", "epoch_s"),
    [(100, 2.0, 1000.0), (1024, 4.0, 195.3125), (64, 4.4, 3437.5)],
    ids=["100-pairs-2s", "1024-pairs-4s", "64-pairs-57min"],
)
def test_epoch_estimate_scales_to_50000_pairs(pairs, seconds, epoch_s):
    assert timing.EpochEstimate(pairs, seconds).epoch_s == pytest.approx(epoch_s)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0076, "0.0076 s"), (4.2, "4.2 s"), (45, "45 s"), (138, "2.3 min"), (3420, "57 min"), (4320, "1.2 h")],
)
def test_format_duration(seconds, text):
    assert timing.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("epoch_s", "reference_s", "outcome", "message"),
    [
        (3420, 186, Outcome.FAIL,
         "estimated epoch 57 min > limit 30 min (1.9x the limit; 18x the reference's 3.1 min)"),
        (138, 138, Outcome.PASS,
         "estimated epoch 2.3 min within limit 30 min (0.077x the limit; 1x the reference's 2.3 min)"),
        (1800, None, Outcome.PASS, "estimated epoch 30 min within limit 30 min (1x the limit)"),
    ],
    ids=["57-min-fails", "reference-passes", "at-the-limit-without-reference"],
)  # fmt: skip
def test_epoch_verdict_and_message(epoch_s, reference_s, outcome, message):
    assert timing.judge_epoch(epoch_s, 1800, reference_s) == (outcome, message)


@pytest.mark.parametrize(
    ("cuda", "limit_s", "outcome"),
    [(False, 1800, Outcome.PASS), (True, 600, Outcome.FAIL)],
    ids=["cpu-limit", "gpu-limit"],
)
def test_train_epoch_limit_follows_the_device(cuda, limit_s, outcome):
    """1000 s per epoch is within the CPU limit (30 min) and over the GPU one (10 min)."""
    result = timing.judge_train_epoch(child_run(train_record(100, 2.0, cuda)), None, Thresholds(), Limits())
    assert (result.outcome, result.details["limit_s"], result.details["epoch_s"]) == (
        outcome,
        limit_s,
        1000.0,
    )
    assert result.details["reference_note"] == "reference timing disabled"


def test_train_epoch_reports_the_ratio_to_the_reference():
    result = timing.judge_train_epoch(
        child_run(train_record(100, 2.0)), child_run(train_record(1000, 5.0)), Thresholds(), Limits()
    )
    assert result.details["reference_epoch_s"] == 250.0
    assert result.details["reference_ratio"] == 4.0
    assert "4x the reference's 4.2 min" in result.message


def test_a_failed_reference_run_is_a_note_not_a_verdict():
    reference = child_run(None, "timeout", "still running after 180.0 s: killed")
    result = timing.judge_train_epoch(child_run(train_record(100, 2.0)), reference, Thresholds(), Limits())
    assert result.outcome is Outcome.PASS
    assert result.details["reference_note"] == "reference run timeout: still running after 180.0 s: killed"


@pytest.mark.parametrize(
    ("record", "outcome", "message"),
    [
        ({"init": {"ok": False, "error": "TypeError: x (at model.py:4)"}, "warmup": None, "timed": None},
         Outcome.ERROR, "Model() raised TypeError: x (at model.py:4)"),
        ({"init": ok(0), "warmup": {"ok": False, "error": "ValueError: y"}, "timed": None},
         Outcome.ERROR, "train on 400 pairs raised ValueError: y"),
    ],
    ids=["init-raises", "warmup-raises"],
)  # fmt: skip
def test_train_epoch_names_the_step_that_raised(record, outcome, message):
    result = timing.judge_train_epoch(child_run(record), None, Thresholds(), Limits())
    assert (result.outcome, result.message) == (outcome, message)


def test_a_train_that_never_returns_is_a_timeout():
    result = timing.judge_train_epoch(child_run(None, "timeout"), None, Thresholds(), Limits(wall_s=180))
    assert (result.outcome, result.message) == (Outcome.TIMEOUT, "timing train did not finish within 180 s")


def test_predict_speed_and_ratio():
    record = {"init": ok(0), "load": ok(0), "warmup": ok(0.1), "timed": ok(0.5), "images": 1000}
    reference = {**record, "timed": ok(0.25)}
    result = timing.judge_predict_speed(child_run(record), child_run(reference), Limits())
    assert (result.outcome, result.details["images_per_s"], result.details["reference_ratio"]) == (
        Outcome.PASS, 2000.0, 2.0
    )  # fmt: skip
    assert result.message == "predict: 1000 images in 0.5 s (2000 images/s; 2x the reference's time)"


@pytest.mark.parametrize(
    ("source", "reference", "same"),
    [("Miniproject_2", "Miniproject_2", True), ("Proj_1", "Proj_1/Miniproject_2", True), ("a", "b", False)],
    ids=["package", "proj-folder", "other"],
)
def test_is_reference(tmp_path, source, reference, same):
    assert timing.is_reference(tmp_path / source, tmp_path / reference) is same


def test_slow_train_fixture_fails_the_epoch_limit(tmp_path):
    data = write_course_data(tmp_path / "data", train=timing.TIMED_PAIRS + timing.WARMUP_PAIRS, val=16)
    rubric = tight_rubric(wall_s=60)  # 40 ms per pair: the warm-up and the timed epoch take 16 s each
    ctx = context_for("model_slow_train", tmp_path / "work", data, rubric, reference_dir=None)
    train, predict = timing.run(ctx)
    assert train.outcome is Outcome.FAIL and train.details["epoch_s"] >= 50_000 * 0.04
    assert train.message.startswith("estimated epoch ") and "> limit 30 min" in train.message
    assert predict.outcome is Outcome.PASS and predict.details["images"] == 16


def test_timing_reuses_the_submissions_own_runs_when_it_is_the_reference(tmp_path):
    data = write_course_data(tmp_path / "data", train=64, val=16)
    fixture = Path(__file__).parent / "submissions" / "model_torch_backed"
    ctx = context_for("model_torch_backed", tmp_path / "work", data, reference_dir=fixture / "Miniproject_2")
    train, predict = timing.run(ctx)
    assert train.outcome is Outcome.PASS and train.details["reference_ratio"] == 1.0
    assert predict.details["reference_ratio"] == 1.0


def test_train_epoch_states_the_machine_load_it_was_timed_under():
    load = {"load_1min": 3.04, "cores": 2.0}
    result = timing.judge_train_epoch(child_run(train_record(100, 2.0)), None, Thresholds(), Limits(), load)
    assert result.message.endswith("; machine load 3.0 on 2 cores")
    assert result.details["machine_load"] == load
