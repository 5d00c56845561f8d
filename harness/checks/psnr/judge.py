"""PSNR checks: does the pretrained model denoise, and does training make a fresh model better?

- `psnr.pretrained`: the grading script's evaluation. `load_pretrained_model()`, then `predict` on the
  validation set in batches of 100; PSNR of the outputs against the clean images in both metrics of
  `harness.psnr` (the rubric's metric decides), on the 0-255 scale the outputs are meant to have, with no
  clamping (the grading script does not clamp either). When the weights load only with a workaround
  (CUDA-saved weights: `map_location="cpu"`; a path relative to the working folder: run from the package
  folder), the PSNR is measured with it and the message says so; `api.load-pretrained` still fails.
  It passes at `Thresholds.psnr_required_db(noisy)`:
  the noisy input's PSNR on the same data plus a margin, never below an absolute floor. Its points
  scale (`PsnrScale`) with where the PSNR lands, on the same images, between the noisy input (0), the
  best Gaussian blur (half, when it lies below the top) and the reference submission's PSNR (all),
  so a blur does not earn a denoiser's points; the message shows all three beside the submission.
- `psnr.training-improves`: a fresh `Model()` (not pretrained) predicts the validation set, trains one
  epoch on `TRAINING_PAIRS` training pairs, and predicts again; same images, same metric, same scale
  before and after. The 2022 script compared the uint8 *input* with [0, 1] targets, so its "before" was
  meaningless and the check always passed. It passes when `after - before >= training_min_gain_db`
  and the trained model is judged against the noisy input too: it must end at most
  `training_max_below_noisy_db` below it, and not predict the input itself (which a model predicting
  zeros before training would "improve" to). It does not ask the briefly trained model to beat the
  noisy input: a correct model gets 4% of an epoch here from random weights (the reference ends 1.5 dB
  below on test_data); the final quality is what `psnr.pretrained` judges. 2,000 pairs bound its time
  (the reference trains them in about 2 s on an idle core).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import Tensor

from harness.blur import best_blur_psnr
from harness.checks.model_steps.probe import probe_pretrained_psnr, probe_training_gain
from harness.checks.model_steps.records import PretrainedPsnrRecord, TrainingGainRecord
from harness.checks.model_steps.runner import (
    Step,
    child_failure,
    first_failed_step,
    judging,
    load_error_message,
    run_steps,
    step_failure,
)
from harness.checks.timing.judge import is_reference
from harness.dataset import PUBLIC_VAL_NOTE, is_public_val
from harness.psnr import METRICS
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import Thresholds
from harness.sample_grid import grid_samples
from harness.sandbox import ChildRun, Limits
from harness.workloads import BATCH_FRIENDLY_PAIRS, train_pairs, val_pairs

if TYPE_CHECKING:
    from harness.context import CheckContext

TRAINING_PAIRS = 5 * BATCH_FRIENDLY_PAIRS
SAMPLE_IMAGES = 8
"""Validation images shown in the report's PNG grid (noisy | output | clean)."""


def psnr_by_metric(output: Tensor, clean: Tensor) -> dict[str, float]:
    """PSNR in dB of `output` against `clean` (both 0-255) in every metric of `harness.psnr.METRICS`."""
    return {name: metric(output, clean) for name, metric in METRICS.items()}


def output_problem(output: Tensor, noisy: Tensor, what: str) -> str | None:
    """Why `output` cannot be scored against `noisy`'s clean images (shape, NaN), or None."""
    if output.shape != noisy.shape:
        return f"{what} returned shape {tuple(output.shape)} for inputs of shape {tuple(noisy.shape)}"
    bad = int((~output.double().isfinite()).sum())
    return f"{what} returned {bad} NaN or infinite values" if bad else None


BLUR_ANCHOR_DB = 0.5
"""How much the best blur must beat the noisy input by to mark half the points."""


@dataclass(frozen=True)
class PsnrScale:
    """Where a pretrained PSNR lands on one validation set, between what needs no learning and what the
    course's reference reaches: 0 at the noisy input, 0.5 at the best Gaussian blur (when it lies below
    the top), 1 at the top, linear in between. The top is the reference's PSNR on the same images, or
    the rubric's required PSNR when there is no reference (or it does not beat the noisy input)."""

    noisy_db: float
    blur_db: float
    blur_sigma: float
    reference_db: float | None
    required_db: float

    @property
    def top_db(self) -> float:
        usable = self.reference_db is not None and self.reference_db > self.noisy_db
        return self.reference_db if usable else self.required_db

    def anchors(self) -> list[tuple[float, float]]:
        """(PSNR, score) points of the piecewise-linear scale, in increasing PSNR. The blur is one only
        when it beats the noisy input by `BLUR_ANCHOR_DB` (a blur that barely helps marks nothing)."""
        middle = [(self.blur_db, 0.5)] if self.noisy_db + BLUR_ANCHOR_DB <= self.blur_db < self.top_db else []
        return [(self.noisy_db, 0.0), *middle, (self.top_db, 1.0)]

    def score(self, psnr_db: float) -> float:
        """The scale's value at `psnr_db`, in [0, 1]."""
        anchors = self.anchors()
        for (low, low_score), (high, high_score) in pairwise(anchors):
            if psnr_db < high:
                fraction = (psnr_db - low) / (high - low) if high > low else 1.0
                return min(max(low_score + (high_score - low_score) * fraction, 0.0), 1.0)
        return 1.0

    def as_data(self) -> dict[str, Any]:
        return {
            "noisy_db": self.noisy_db,
            "blur_db": self.blur_db,
            "blur_sigma": self.blur_sigma,
            "reference_db": self.reference_db,
            "required_db": self.required_db,
            "anchors": self.anchors(),
        }

    def describe(self) -> str:
        """The scale's points in words, as the report shows them beside the submission."""
        reference = f", reference {self.reference_db:.2f} dB" if self.reference_db is not None else ""
        return (
            f"on these images: noisy input {self.noisy_db:.2f} dB, best blur {self.blur_db:.2f} dB "
            f"(sigma {self.blur_sigma:g}){reference}"
        )


def _percent(fraction: float) -> str:
    """`fraction` as a percentage rounded down to 0.1, so that 100% means all the points."""
    return f"{math.floor(fraction * 1000) / 10:g}%"


def judge_pretrained(
    output: Tensor,
    noisy: Tensor,
    clean: Tensor,
    metric: str,
    required_of_noisy: Callable[[float], float],
    reference_db: float | None = None,
) -> tuple[Outcome, float, str, dict[str, Any]]:
    """Verdict on pretrained predictions: (outcome, score, message, details).

    `required_of_noisy(noisy_db) -> required_db` is the rubric's rule (`Thresholds.psnr_required_db`):
    the check passes at it. The score is the `PsnrScale` value, whose top is `reference_db` (the
    reference's PSNR on the same images) when given.
    """
    noisy_by_metric = psnr_by_metric(noisy.double(), clean)
    problem = output_problem(output, noisy, "predict on the validation set")
    details: dict[str, Any] = {
        "metric": metric,
        "images": len(noisy),
        "noisy_psnr_db": noisy_by_metric[metric],
    }
    if problem:
        return Outcome.FAIL, 0.0, problem, details
    by_metric = psnr_by_metric(output, clean)
    psnr_db, noisy_db = by_metric[metric], noisy_by_metric[metric]
    required_db = required_of_noisy(noisy_db)
    sigma, blur_db = best_blur_psnr(noisy, clean, metric)
    scale = PsnrScale(noisy_db, blur_db, sigma, reference_db, required_db)
    score = scale.score(psnr_db)
    details.update(
        psnr_db=psnr_db,
        required_db=required_db,
        psnr_db_by_metric=by_metric,
        noisy_psnr_db_by_metric=noisy_by_metric,
        metric_description=METRICS[metric].description,
        blur_psnr_db=blur_db,
        reference_psnr_db=reference_db,
        scale=scale.as_data(),
        scaled=True,
    )
    head = f"pretrained PSNR {psnr_db:.2f} dB ({metric} metric)"
    beside = f"; {scale.describe()}: {_percent(score)} of the points"
    if psnr_db >= required_db:
        message = f"{head} reaches the required {required_db:.2f} dB{beside}"
        return Outcome.PASS, score, message, details
    if psnr_db < noisy_db:
        message = (
            f"{head} is below the noisy input's {noisy_db:.2f} dB (required {required_db:.2f} dB){beside}"
        )
    else:
        message = f"{head} is below the required {required_db:.2f} dB{beside}"
    if 0 < float(output.max()) <= 1.0:
        message += "; outputs are in [0, 1]: predict must return 0-255"
    return Outcome.FAIL, score, message, details


def judge_pretrained_run(
    run: ChildRun,
    noisy: Tensor,
    clean: Tensor,
    thresholds: Thresholds,
    limits: Limits,
    reference_db: float | None = None,
) -> CheckResult:
    """`psnr.pretrained` from a `probe_pretrained_psnr` run on the validation set (`noisy`, `clean`)."""
    if run.status != "ok":
        return child_failure("psnr.pretrained", Category.PSNR, run, f"predict on {len(noisy)} images", limits)
    record: PretrainedPsnrRecord = run.value
    init, load, predict, output = record.init, record.load, record.predict, record.output
    if not init.ok:
        return step_failure("psnr.pretrained", Category.PSNR, "Model()", init.error, {}, run.duration_s)
    assert load is not None  # the record's rules: a successful Model() is followed by the load, ...
    load_failure, workaround = load_error_message(load.error, record.bestmodel_size), record.workaround
    if not load.ok and not workaround:
        return CheckResult("psnr.pretrained", Category.PSNR, Outcome.ERROR, load_failure, {}, run.duration_s)
    assert predict is not None  # ... a load that worked by the predict, a successful predict by its output
    if not predict.ok:
        step = f"predict on {len(noisy)} validation images"
        return step_failure("psnr.pretrained", Category.PSNR, step, predict.error, {}, run.duration_s)
    assert output is not None
    outcome, score, message, details = judge_pretrained(
        output, noisy, clean, thresholds.psnr_metric, thresholds.psnr_required_db, reference_db
    )
    if workaround:
        details["workaround"] = workaround
        message = f"measured with a workaround ({workaround}): {message}; as submitted, {load_failure}"
    shown = "psnr_db" in details
    artifacts = {"samples": grid_samples(noisy, output, clean, SAMPLE_IMAGES)} if shown else {}
    return CheckResult(
        "psnr.pretrained",
        Category.PSNR,
        outcome,
        message,
        details,
        run.duration_s,
        score=score,
        fault=Fault.NONE if outcome is Outcome.PASS else Fault.SUBMISSION,
        artifacts=artifacts,
    )


IDENTITY_TOLERANCE = 0.5
"""Outputs within half a grey level of the noisy input are the input itself: no denoiser was learnt."""


def judge_training_gain(
    before: Tensor,
    after: Tensor,
    noisy: Tensor,
    clean: Tensor,
    metric: str,
    min_gain_db: float,
    pairs: int,
    max_below_noisy_db: float = 3.0,
) -> tuple[Outcome, str, dict[str, Any]]:
    """Verdict on a fresh model's predictions before and after training: (outcome, message, details).

    Judged against the noisy input too, so that a bad start cannot be gamed: the trained model must end
    no more than `max_below_noisy_db` below the noisy input's PSNR, and not predict the input itself
    (a model that predicts zeros before training and its input after "gains" 15 dB)."""
    details: dict[str, Any] = {
        "metric": metric,
        "train_pairs": pairs,
        "images": len(noisy),
        "min_gain_db": min_gain_db,
        "max_below_noisy_db": max_below_noisy_db,
    }
    for when, output in (("before training", before), ("after training", after)):
        problem = output_problem(output, noisy, f"predict {when}")
        if problem:
            return Outcome.FAIL, problem, details
    before_db, after_db = METRICS[metric](before, clean), METRICS[metric](after, clean)
    noisy_db = METRICS[metric](noisy.double(), clean)
    gain = after_db - before_db
    details.update(before_db=before_db, after_db=after_db, gain_db=gain, noisy_psnr_db=noisy_db)
    figures = (
        f"{before_db:.2f} dB before, {after_db:.2f} dB after ({metric} metric; noisy input {noisy_db:.2f} dB)"
    )
    trained = f"training on {pairs} pairs"
    if float((after.double() - noisy.double()).abs().max()) <= IDENTITY_TOLERANCE:
        return Outcome.FAIL, f"after {trained} predict returns its noisy input unchanged: {figures}", details
    if gain < min_gain_db:
        message = f"{trained} changed PSNR by {gain:+.2f} dB, less than +{min_gain_db:g} dB: {figures}"
        return Outcome.FAIL, message, details
    if after_db < noisy_db - max_below_noisy_db:
        below = noisy_db - after_db
        message = (
            f"after {trained} the model is {below:.2f} dB below the noisy input "
            f"(at most {max_below_noisy_db:g} dB allowed): {figures}"
        )
        return Outcome.FAIL, message, details
    return Outcome.PASS, f"{trained} improves PSNR by {gain:.2f} dB: {figures}", details


PRETRAINED_ECHO_LEVELS = 1e-3
"""A trained model whose every output lies this close (0-255 levels) to the pretrained model's did not
train: it loaded the shipped weights (one epoch on 2,000 pairs from scratch cannot land there)."""


def loaded_not_trained(after: Tensor, pretrained: Tensor | None) -> bool:
    """Whether the outputs after `train` are the pretrained model's, to `PRETRAINED_ECHO_LEVELS`."""
    return (
        isinstance(pretrained, Tensor)
        and pretrained.shape == after.shape
        and bool((after.double() - pretrained.double()).abs().max() <= PRETRAINED_ECHO_LEVELS)
    )


def judge_training_run(
    run: ChildRun,
    noisy: Tensor,
    clean: Tensor,
    pairs: int,
    thresholds: Thresholds,
    limits: Limits,
    pretrained_output: Tensor | None = None,
) -> CheckResult:
    """`psnr.training-improves` from a `probe_training_gain` run (trained on `pairs` pairs); with the
    pretrained model's outputs on the same images, a `train` that only loads the shipped weights fails
    (it would gain the pretrained model's PSNR without training)."""
    if run.status != "ok":
        doing = f"predicting, training on {pairs} pairs and predicting again"
        return child_failure("psnr.training-improves", Category.PSNR, run, doing, limits)
    record: TrainingGainRecord = run.value
    steps = [
        (record.init, "Model()"),
        (record.before, "predict before training"),
        (record.train, f"train on {pairs} pairs"),
        (record.after, "predict after training"),
    ]
    failure = first_failed_step("psnr.training-improves", Category.PSNR, steps, run.duration_s)
    if failure:
        return failure
    before, after = record.before_output, record.after_output
    assert before is not None and after is not None  # the record's rules: every step ran and returned
    outcome, message, details = judge_training_gain(
        before,
        after,
        noisy,
        clean,
        thresholds.psnr_metric,
        thresholds.training_min_gain_db,
        pairs,
        thresholds.training_max_below_noisy_db,
    )
    if outcome is Outcome.PASS and loaded_not_trained(after, pretrained_output):
        outcome = Outcome.FAIL
        message = (
            f"after train on {pairs} pairs, predict gives the pretrained model's outputs: train loads the "
            "shipped weights instead of training"
        )
    passed = outcome is Outcome.PASS
    return CheckResult(
        "psnr.training-improves",
        Category.PSNR,
        outcome,
        message,
        details,
        run.duration_s,
        score=1.0 if passed else 0.0,
        fault=Fault.NONE if passed else Fault.SUBMISSION,
    )


def run(ctx: CheckContext) -> list[CheckResult]:
    """Both PSNR checks, as two steps of one child."""
    noisy, clean = val_pairs(ctx.val_path)
    train_input, train_target = train_pairs(ctx.train_path, TRAINING_PAIRS, ctx.seed)
    steps = [
        Step(probe_pretrained_psnr, {"input": noisy}, ctx.limits("psnr.pretrained")),
        Step(
            probe_training_gain,
            {"val_input": noisy, "train_input": train_input, "train_target": train_target},
            ctx.limits("psnr.training-improves"),
        ),
    ]
    pretrained, training = run_steps(ctx.submission.package_dir, steps, ctx.seed, record=True)
    ctx.note_recordings("psnr", (pretrained, training))
    thresholds = ctx.rubric.thresholds
    reference_db, why_none = _reference_psnr(ctx, pretrained, steps[0], clean, thresholds.psnr_metric)
    (judged,) = judging(
        [pretrained],
        ["psnr.pretrained"],
        Category.PSNR,
        judge_pretrained_run,
        *(pretrained, noisy, clean, thresholds, steps[0].limits, reference_db),
    )
    if why_none and judged.details.get("scaled"):
        judged = replace(
            judged,
            outcome=Outcome.ERROR,
            message=f"not scored, re-run: {why_none}, and it tops the PSNR scale; {judged.message}",
            details={**judged.details, "reference_problem": why_none},
            fault=Fault.SETUP,
        )
    if is_public_val(ctx.val_path):
        judged = replace(
            judged,
            message=f"{judged.message}; {PUBLIC_VAL_NOTE}",
            details={**judged.details, "public_val_set": True},
        )
    return [
        judged,
        *judging(
            [training],
            ["psnr.training-improves"],
            Category.PSNR,
            judge_training_run,
            *(training, noisy, clean, len(train_input), thresholds, steps[1].limits, _output(pretrained)),
        ),
    ]


def _output(run: ChildRun) -> Tensor | None:
    """The pretrained model's outputs of a `probe_pretrained_psnr` run, None when it gave none."""
    return run.value.output if run.status == "ok" and run.value.predict else None


def _reference_psnr(
    ctx: CheckContext, own: ChildRun, step: Step, clean: Tensor, metric: str
) -> tuple[float | None, str]:
    """The reference's pretrained PSNR on the same images (its own run when it is the submission), and
    why there is none when a reference was given but its run gave no usable output ("" otherwise)."""
    if ctx.reference_dir is None:
        return None, ""
    same = is_reference(ctx.submission.source, Path(ctx.reference_dir))
    (run,) = (own,) if same else run_steps(Path(ctx.reference_dir), [step], ctx.seed)
    output = _output(run)
    if output is None or output.shape != clean.shape:
        return None, "" if same else f"the reference's own run gave no PSNR ({run.status}: {run.error})"
    return METRICS[metric](output, clean), ""
