"""The PSNR checks: verdicts on outputs with known PSNRs, and fixture submissions end to end.

An output that is `clean + 255 · 10^(-d/20)` everywhere has PSNR exactly `d` dB in both metrics (every
image has the same MSE), which gives hand-computed references for the verdicts.
"""

from __future__ import annotations

import pytest
import torch

from harness.checks.psnr import judge as quality
from harness.results import Fault, Outcome
from harness.rubric import Thresholds
from harness.sample_grid import grid_samples
from tests.model_fixtures import SUBMISSIONS, context_for, write_course_data

CLEAN = torch.full((4, 3, 8, 8), 100, dtype=torch.uint8)


def at_psnr(db: float) -> torch.Tensor:
    """`CLEAN` shifted by a constant that makes its PSNR exactly `db` dB (on the 0-255 scale)."""
    return CLEAN.double() + 255 * 10 ** (-db / 20)


NOISY = CLEAN + 26
"""20·log10(255 / 26) = 19.83 dB: below the rubric's 21 dB floor, so the floor is what is required."""
REQUIRED = Thresholds().psnr_required_db


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_course_data(tmp_path_factory.mktemp("data"), train=quality.TRAINING_PAIRS, val=32)


def test_psnr_by_metric_matches_the_hand_computed_value():
    assert quality.psnr_by_metric(at_psnr(23.0), CLEAN) == pytest.approx({"grading": 23.0, "statement": 23.0})


@pytest.mark.parametrize(
    ("psnr", "reference", "score"),
    [(19.0, 24.0, 0.0), (20.0, 24.0, 0.0), (21.0, 24.0, 0.25), (22.0, 24.0, 0.5), (23.0, 24.0, 0.75),
     (24.0, 24.0, 1.0), (26.0, 24.0, 1.0), (21.0, None, 1.0), (20.5, None, 0.5), (23.0, 21.5, 1.0),
     (20.75, 21.5, 0.5)],
    ids=["below-noisy", "noisy", "half-way-to-blur", "blur", "half-way-to-reference", "reference",
         "above-reference", "no-reference-required", "no-reference-half", "reference-below-blur",
         "reference-below-blur-half"],
)  # fmt: skip
def test_psnr_scale_runs_from_the_noisy_input_through_the_blur_to_the_reference(psnr, reference, score):
    """Noisy 20 dB, best blur 22 dB, required 21 dB: 0 at the noisy input, 0.5 at the blur when it lies
    below the reference, 1 at the reference (or, without one, at the required PSNR)."""
    scale = quality.PsnrScale(
        noisy_db=20.0, blur_db=22.0, blur_sigma=1.0, reference_db=reference, required_db=21.0
    )
    assert scale.score(psnr) == pytest.approx(score)


@pytest.mark.parametrize(
    ("output", "outcome", "score", "message"),
    [
        (at_psnr(24.0), Outcome.PASS, 1.0,
         "pretrained PSNR 24.00 dB (grading metric) reaches the required 21.00 dB; on these images: "
         "noisy input 19.83 dB"),
        (at_psnr(20.415), Outcome.FAIL, 0.5,
         "pretrained PSNR 20.41 dB (grading metric) is below the required 21.00 dB; on these images: "
         "noisy input 19.83 dB"),
        (at_psnr(19.5), Outcome.FAIL, 0.0,
         "pretrained PSNR 19.50 dB (grading metric) is below the noisy input's 19.83 dB (required 21.00 dB)"),
        (at_psnr(24.0) / 255, Outcome.FAIL, 0.0, "outputs are in [0, 1]: predict must return 0-255"),
        (at_psnr(24.0)[:, :, :4], Outcome.FAIL, 0.0,
         "returned shape (4, 3, 4, 8) for inputs of shape (4, 3, 8, 8)"),
        (at_psnr(24.0).index_fill(0, torch.tensor([1]), float("nan")), Outcome.FAIL, 0.0,
         "192 NaN or infinite"),
    ],
    ids=["good", "between-noisy-and-required", "below-noisy", "unit-range", "wrong-shape", "nan"],
)  # fmt: skip
def test_pretrained_verdict(output, outcome, score, message):
    """Without a reference, half the way from the noisy 19.83 dB to the required 21 dB (20.415 dB) is
    worth half the points (the best blur of these images barely beats the noisy input: no anchor)."""
    got, got_score, got_message, details = quality.judge_pretrained(output, NOISY, CLEAN, "grading", REQUIRED)
    assert (got, round(got_score, 2)) == (outcome, score)
    assert message in got_message
    assert details.get("blur_psnr_db", 19.83) < 19.83 + quality.BLUR_ANCHOR_DB


def test_pretrained_points_scale_up_to_the_reference():
    """With the reference at 26 dB, a model passing at 24 dB gets part of the points, named beside it."""
    got, score, message, details = quality.judge_pretrained(
        at_psnr(24.0), NOISY, CLEAN, "grading", REQUIRED, 26.0
    )
    blur, noisy = details["blur_psnr_db"], details["noisy_psnr_db"]
    assert got is Outcome.PASS and details["scaled"] is True
    assert score == pytest.approx((24.0 - noisy) / (26.0 - noisy))  # this blur is no anchor
    assert f"best blur {blur:.2f} dB" in message and "reference 26.00 dB" in message


def test_pretrained_message_says_all_the_points_only_when_given_all():
    """A model just short of the reference reads 99.9%, not a rounded-up 100%."""
    _, score, message, _ = quality.judge_pretrained(at_psnr(25.998), NOISY, CLEAN, "grading", REQUIRED, 26.0)
    assert 0.999 < score < 1 and "99.9% of the points" in message
    _, score, message, _ = quality.judge_pretrained(at_psnr(26.5), NOISY, CLEAN, "grading", REQUIRED, 26.0)
    assert score == 1 and "100% of the points" in message


def test_pretrained_details_feed_the_report_summary():
    _, _, _, details = quality.judge_pretrained(at_psnr(24.0), NOISY, CLEAN, "statement", REQUIRED)
    assert details["metric"] == "statement"
    assert details["psnr_db"] == pytest.approx(24.0)
    assert details["noisy_psnr_db"] == pytest.approx(
        quality.psnr_by_metric(NOISY.double(), CLEAN)["statement"]
    )
    assert set(details["psnr_db_by_metric"]) == {"grading", "statement"}


@pytest.mark.parametrize(
    ("before", "after", "outcome", "message"),
    [
        (12.0, 18.0, Outcome.PASS, "on 512 pairs improves PSNR by 6.00 dB: 12.00 dB before, 18.00 dB after"),
        (12.0, 17.0, Outcome.PASS, "on 512 pairs improves PSNR by 5.00 dB"),
        (17.0, 17.3, Outcome.FAIL, "changed PSNR by +0.30 dB, less than +0.5 dB"),
        (17.0, 16.9, Outcome.FAIL, "changed PSNR by -0.10 dB, less than +0.5 dB"),
        (8.0, 13.0, Outcome.FAIL, "the model is 6.83 dB below the noisy input (at most 3 dB allowed)"),
    ],
    ids=["improves", "improves-ending-below-noisy", "too-little", "worse", "far-below-noisy"],
)  # fmt: skip
def test_training_gain_verdict(before, after, outcome, message):
    got, got_message, details = quality.judge_training_gain(
        at_psnr(before), at_psnr(after), NOISY, CLEAN, "grading", 0.5, 512
    )
    assert got is outcome and message in got_message
    assert details["gain_db"] == pytest.approx(after - before)


def test_training_gain_fails_a_model_that_predicts_its_input_after_training():
    """The attack: zeros before training, the noisy input after: a 15 dB "gain" that learnt nothing."""
    got, message, _ = quality.judge_training_gain(
        torch.zeros_like(CLEAN), NOISY.double(), NOISY, CLEAN, "grading", 0.5, 512
    )
    assert got is Outcome.FAIL and "predict returns its noisy input unchanged" in message


def test_training_gain_compares_outputs_on_the_same_scale():
    """The 2022 script's mistake (uint8 input vs [0, 1] target) is not possible: [0, 1] outputs score low."""
    got, _, details = quality.judge_training_gain(
        at_psnr(12.0) / 255, at_psnr(18.0), NOISY, CLEAN, "grading", 0.5, 512
    )
    assert got is Outcome.PASS and details["before_db"] < 10


def test_samples_are_uint8_clamped_and_spread_over_the_set():
    output = torch.tensor([-5.0, 0.4, 254.6, 300.0, float("nan")]).view(1, 1, 1, 5).expand(5, 3, 4, 5)
    noisy = torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 3, 4, 5)
    grid = grid_samples(noisy, output, noisy, count=3)
    images = ("noisy", "output", "clean")
    assert {key: (grid[key].dtype, tuple(grid[key].shape)) for key in images} == {
        key: (torch.uint8, (3, 3, 4, 5)) for key in images
    }
    assert grid["noisy"][:, 0, 0, 0].tolist() == [0, 4, 2]
    assert grid["output"][0, 0, 0].tolist() == [0, 0, 255, 255, 0]


EXPECTED = {
    "model_torch_backed": ("pass", "pass"),
    "model_train_noop": ("pass", "fail"),
    "model_predict_unit_range": ("fail", "fail"),
    "model_cuda_weights": ("fail", "pass"),  # measured with map_location="cpu": random weights
    "attack_train_loads_weights": ("pass", "fail"),
}
CAUSES = {
    "model_train_noop": "changed PSNR by +0.00 dB",
    "model_predict_unit_range": "outputs are in [0, 1]: predict must return 0-255",
    "model_cuda_weights": "bestmodel.pth holds tensors saved on CUDA",
    "attack_train_loads_weights": "gives the pretrained model's outputs: train loads the shipped weights",
}


@pytest.mark.parametrize("fixture", list(EXPECTED))
def test_fixture_submissions_get_their_psnr_outcomes(fixture, data, tmp_path):
    results = quality.run(context_for(fixture, tmp_path, data))
    assert [r.id for r in results] == ["psnr.pretrained", "psnr.training-improves"]
    assert tuple(r.outcome.value for r in results) == EXPECTED[fixture], [r.message for r in results]
    if fixture in CAUSES:
        assert any(CAUSES[fixture] in r.message for r in results)
    if results[0].outcome is Outcome.PASS:
        assert set(results[0].artifacts["samples"]) == {"noisy", "output", "clean", "noisy_db", "output_db"}


def test_a_reference_that_gives_no_psnr_withholds_the_score_for_a_re_run(data, tmp_path):
    """Without the reference's PSNR the scale would top out at the required PSNR (more points for most):
    the check is the set-up's fault, re-run, instead of a score on another scale."""
    broken = SUBMISSIONS / "sandbox_syntax_error" / "Miniproject_2"
    pretrained, _ = quality.run(context_for("model_torch_backed", tmp_path, data, reference_dir=broken))
    assert (pretrained.outcome, pretrained.fault) == (Outcome.ERROR, Fault.SETUP)
    assert pretrained.message.startswith("not scored, re-run: the reference's own run gave no PSNR (error: ")
    assert pretrained.details["psnr_db"] > pretrained.details["noisy_psnr_db"]
