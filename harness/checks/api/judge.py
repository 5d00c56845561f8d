"""API checks: can a grader's script import, construct, load, predict with and train the submission?

- `api.import-names`: model.py exports `Model`, `Conv2d`, `ReLU`, `Sigmoid`, `MSE`, `SGD`, `Sequential`
  and `TransposeConv2d` or `NearestUpsampling` under the statement's names, up to case or a near miss
  (`ReLu`, `NearestUpSampling`: counted, and named); a variant a student used instead (`MSELoss`,
  `ConvTranspose2d`, ...) is named in the message, but does not count.
- `api.model-init`: `Model()` without arguments.
- `api.load-pretrained`: `load_pretrained_model()` on a fresh `Model()`, from a working directory that is
  not the package (as on a grader's machine); an empty file, CUDA-saved weights and cwd-relative paths
  are named as such.
- `api.predict` (required): on the course's own calls, a 1x3x512x512 image and a 100x3x32x32 batch of
  uint8 inputs, the output is a tensor of the input's shape, finite, within [0, 255], and not a [0, 1]
  image (max <= 1 on inputs reaching 255 means the model forgot to scale back). The statement asks no
  dtype: a uint8 output passes.
- `api.predict-odd-sizes`: the same on a 3x3x33x47 batch (sizes not divisible by 2 or 4; stride-2
  networks that crop them lose this check's points, not the required one).
- `api.predict-float`: the course calls' outputs are float tensors (what the PSNR formula expects).
- `api.train`: `train(input, target, num_epochs=1)` on a tiny uint8 set returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torch import Tensor

from harness.checks.blocks.adapters import CLASS_NAMES, near_class_name
from harness.checks.model_steps.probe import probe_predict, probe_surface, probe_train
from harness.checks.model_steps.records import PredictCase, PredictRecord, SurfaceRecord, TrainRecord
from harness.checks.model_steps.runner import (
    Step,
    child_failure,
    is_refused_result,
    judging,
    load_error_message,
    malformed,
    run_steps,
    step_failure,
)
from harness.results import Category, CheckResult, Fault, Outcome
from harness.workloads import (
    BATCH_FRIENDLY_PAIRS,
    COURSE_PREDICT_SHAPES,
    EPOCH_PAIRS,
    RETRY_PAIRS,
    batch_divisors,
    predict_inputs,
    train_pairs,
)

if TYPE_CHECKING:
    from harness.context import CheckContext

REQUIRED_NAMES: Mapping[str, tuple[str, ...]] = {
    "Model": (),
    **{
        CLASS_NAMES[kind][0]: CLASS_NAMES[kind][1:]
        for kind in ("conv2d", "relu", "sigmoid", "mse", "sgd", "sequential")
    },
}
"""Names a grader imports from model.py, with the variants the blocks adapter knows (named, not counted)."""

UPSAMPLING_NAMES: Mapping[str, tuple[str, ...]] = {
    CLASS_NAMES[kind][0]: CLASS_NAMES[kind][1:] for kind in ("transpose_conv2d", "nearest_upsampling")
}
"""The statement asks for one of these two."""

TRAIN_PAIRS = BATCH_FRIENDLY_PAIRS
"""`api.train`'s set: a multiple of every batch size that divides the course's 50,000 pairs (up to 100)."""

SURFACE_CHECKS = ("api.import-names", "api.model-init", "api.load-pretrained")
PREDICT_CHECKS = ("api.predict", "api.predict-odd-sizes", "api.predict-float")


def run(ctx: CheckContext) -> list[CheckResult]:
    """The five API checks, from the steps surface (names, init, load), predict and train of one child."""
    inputs = predict_inputs(ctx.seed)
    train_input, train_target = train_pairs(ctx.train_path, RETRY_PAIRS, ctx.seed)
    pairs = min(TRAIN_PAIRS, len(train_input))
    steps = [
        Step(probe_surface, {}, ctx.limits("api.model-init")),
        Step(probe_predict, {"inputs": inputs}, ctx.limits("api.predict")),
        Step(
            probe_train,
            {
                "input": train_input,
                "target": train_target,
                "pairs": pairs,
                "num_epochs": 1,
                "divisors": batch_divisors(),
            },
            ctx.limits("api.train"),
        ),
    ]
    surface, predict, train = run_steps(ctx.submission.package_dir, steps, ctx.seed, record=True)
    ctx.note_recordings("api", (surface, predict, train))
    if surface.status == "error" and surface.released and not is_refused_result(surface):
        failed = child_failure(
            "api.import-names", Category.API, surface, "importing model.py", steps[0].limits
        )
        return [
            failed,
            *(
                _skipped(i, "model.py could not be imported")
                for i in (*SURFACE_CHECKS[1:], *PREDICT_CHECKS, "api.train")
            ),
        ]
    if surface.status != "ok":
        doing = "importing model.py, Model() and load_pretrained_model()"
        results = [child_failure(i, Category.API, surface, doing, steps[0].limits) for i in SURFACE_CHECKS]
    else:
        results = judging(
            [surface], SURFACE_CHECKS, Category.API, judge_surface, surface.value, surface.duration_s
        )
        if not surface.value.init.ok:
            return [
                *results,
                *(_skipped(i, _no_model(surface.value)) for i in (*PREDICT_CHECKS, "api.train")),
            ]
    if predict.status == "ok" and predict.value.init.ok and len(predict.value.cases) != len(inputs):
        predict = malformed(predict, f"{len(predict.value.cases)} predict cases for {len(inputs)} inputs")
    if predict.status == "ok":
        results += judging(
            [predict],
            PREDICT_CHECKS,
            Category.API,
            judge_predict_checks,
            inputs,
            predict.value,
            predict.duration_s,
        )
    else:
        sizes = " and ".join(_shape(noisy.shape) for noisy in inputs)
        doing = f"predict on {sizes}"
        results += [child_failure(i, Category.API, predict, doing, steps[1].limits) for i in PREDICT_CHECKS]
    if train.status == "ok":
        results += judging(
            [train],
            ["api.train"],
            Category.API,
            judge_train,
            train.value,
            pairs,
            len(train_input),
            train.duration_s,
        )
    else:
        doing = f"train on {pairs} pairs"
        results.append(child_failure("api.train", Category.API, train, doing, steps[2].limits))
    return results


def _no_model(surface: SurfaceRecord) -> str:
    return "Model() failed" if "Model" in surface.names else "model.py has no Model class"


def _skipped(check_id: str, why: str) -> CheckResult:
    return CheckResult(check_id, Category.API, Outcome.SKIPPED, f"not run: {why}", fault=Fault.SUBMISSION)


def judge_surface(surface: SurfaceRecord, duration_s: float = 0.0) -> list[CheckResult]:
    """The three checks of `probe_surface`'s record (`SURFACE_CHECKS`), in that order."""
    return [
        judge_import_names(surface.names, duration_s, surface.stand_ins),
        judge_model_init(surface),
        judge_load_pretrained(surface),
    ]


def judge_import_names(
    names: Mapping[str, str], duration_s: float = 0.0, stand_ins: Sequence[str] = ()
) -> CheckResult:
    """`names` maps model.py's public names to "class"/"function"/"other" (as `probe_surface` records);
    `stand_ins` are the missing modules model.py imported, graded with stand-ins (named first)."""
    wanted = {**REQUIRED_NAMES, "TransposeConv2d or NearestUpsampling": ()}
    statement_names = [*REQUIRED_NAMES, *UPSAMPLING_NAMES]
    others = [name for name in names if name not in statement_names]
    misspelt = {
        name: near
        for name in statement_names
        if name not in names and (near := near_class_name(name, others)) is not None
    }
    found = {name: name in names or name in misspelt for name in REQUIRED_NAMES}
    found["TransposeConv2d or NearestUpsampling"] = any(
        name in names or name in misspelt for name in UPSAMPLING_NAMES
    )
    variants = {name: [v for v in REQUIRED_NAMES.get(name, ()) if v in names] for name in wanted}
    for name, alternatives in UPSAMPLING_NAMES.items():
        variants["TransposeConv2d or NearestUpsampling"] += [
            f"{v} (for {name})" for v in alternatives if v in names
        ]
    missing = [name for name, ok in found.items() if not ok]
    details = {
        "found": found,
        "variants": {name: used for name, used in variants.items() if used},
        "kinds": {name: names[name] for name in statement_names if name in names},
        "misspelt": misspelt,
        "stand_ins": list(stand_ins),
    }
    spelt = "; ".join(f"{near} for {name}" for name, near in misspelt.items())
    stood_in = (
        f"model.py imports {', '.join(stand_ins)}, not installed here: graded with a stand-in module "
        "(rules.static fails the import); "
        if stand_ins
        else ""
    )
    if not missing:
        return CheckResult(
            "api.import-names",
            Category.API,
            Outcome.PASS,
            stood_in
            + "model.py exports every required name"
            + (f" (spelt differently: {spelt})" if spelt else ""),
            details,
            duration_s,
            score=1.0,
            fault=Fault.NONE,
        )
    described = [
        name + (f" (found {', '.join(variants[name])} instead)" if variants[name] else "") for name in missing
    ]
    return CheckResult(
        "api.import-names",
        Category.API,
        Outcome.FAIL,
        f"{stood_in}model.py does not export {'; '.join(described)}",
        details,
        duration_s,
        score=1 - len(missing) / len(found),
    )


def judge_model_init(surface: SurfaceRecord) -> CheckResult:
    """`Model()` without arguments, from `probe_surface`'s record."""
    init = surface.init
    if "Model" not in surface.names:
        return CheckResult("api.model-init", Category.API, Outcome.MISSING, "model.py has no Model class")
    if not init.ok:
        return step_failure("api.model-init", Category.API, "Model()", init.error, {}, init.seconds)
    return CheckResult(
        "api.model-init",
        Category.API,
        Outcome.PASS,
        "Model() constructs without arguments",
        {"seconds": init.seconds},
        init.seconds,
        score=1.0,
        fault=Fault.NONE,
    )


def judge_load_pretrained(surface: SurfaceRecord) -> CheckResult:
    """`load_pretrained_model()` on a fresh `Model()`, from `probe_surface`'s record."""
    load, size = surface.load, surface.bestmodel_size
    details = {"bestmodel_size": size}
    if load is None:
        return _skipped("api.load-pretrained", _no_model(surface))
    if load.ok:
        return CheckResult(
            "api.load-pretrained",
            Category.API,
            Outcome.PASS,
            "load_pretrained_model() runs from another working directory"
            + (" (there is no bestmodel.pth next to model.py)" if size is None else ""),
            details,
            load.seconds,
            score=1.0,
            fault=Fault.NONE,
        )
    outcome = Outcome.MISSING if size is None else Outcome.ERROR
    return CheckResult(
        "api.load-pretrained",
        Category.API,
        outcome,
        load_error_message(load.error, size),
        {**details, "error": load.error},
    )


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(n) for n in shape)


def _article(word: str) -> str:
    """`an int32`, `a uint8` ("you-int"), `a list`: the article by how the type name is spoken."""
    return f"an {word}" if word[:1].lower() in ("a", "e", "i", "o") else f"a {word}"


def predict_problem(
    noisy: Tensor, case: PredictCase, require_float: bool = False, passed_through: bool = False
) -> str | None:
    """What is wrong with one `predict` call's record (`probe_predict`'s case), or None when it is right.

    With `require_float` only the dtype is judged (the statement asks for none, so the other checks
    leave it alone). With `passed_through`, an output equal to the input is wrong too: where no PSNR
    is measured (the odd sizes), handing the input back would earn the point without denoising."""
    call = f"predict({_shape(noisy.shape)} uint8)"
    if not case.ok:
        used = f" after using {case.peak_mb:.0f} MB" if "allocate" in case.error and case.peak_mb else ""
        return f"{call} raised {case.error}{used}"
    output = case.output
    if output is None:
        return f"{call} returned {_article(case.returned)}, not a plain tensor"
    if require_float:
        dtype = str(output.dtype).removeprefix("torch.")
        return (
            None
            if output.is_floating_point()
            else f"{call} returned {_article(dtype)} tensor, not a float tensor"
        )
    if output.shape != noisy.shape:
        return f"{call} returned shape {_shape(output.shape)}, not the input's shape"
    values = output.double()
    bad = int((~values.isfinite()).sum())
    if bad:
        return f"{call} returned {bad} NaN or infinite values"
    low, high = float(values.min()), float(values.max())
    if 0 < high <= 1.0 and float(noisy.max()) > 1:
        return f"{call} returned values in [0, 1] (max {high:.3g}) for 0-255 inputs: scale outputs to 0-255"
    if low < 0 or high > 255:
        return f"{call} returned values outside [0, 255] (min {low:.4g}, max {high:.4g}): clamp them"
    if passed_through and values.equal(noisy.double()):
        return f"{call} returned its input unchanged: odd sizes must be denoised, not passed through"
    return None


PREDICT_PASSES = {
    "api.predict": "predict returns 0-255 outputs of the input's shape on {sizes}",
    "api.predict-odd-sizes": "predict keeps the input's shape on {sizes}",
    "api.predict-float": "predict returns float tensors on {sizes}",
}


def judge_predict_checks(
    inputs: Sequence[Tensor], record: PredictRecord, duration_s: float = 0.0
) -> list[CheckResult]:
    """The three predict checks from one `probe_predict` record on `inputs` (the course's calls first,
    then the odd sizes, as `predict_inputs` orders them)."""
    course = len(COURSE_PREDICT_SHAPES)
    courses, odd = replace(record, cases=record.cases[:course]), replace(record, cases=record.cases[course:])
    return [
        judge_predict(inputs[:course], courses, duration_s),
        judge_predict(inputs[course:], odd, 0.0, "api.predict-odd-sizes"),
        judge_predict(inputs[:course], courses, 0.0, "api.predict-float"),
    ]


def judge_predict(
    inputs: Sequence[Tensor],
    record: PredictRecord,
    duration_s: float = 0.0,
    check_id: str = "api.predict",
) -> CheckResult:
    """Every case of `probe_predict`'s `record` against its input; score = fraction of cases right.

    `check_id` says what is judged: `api.predict` and `api.predict-odd-sizes` the shape and values,
    `api.predict-float` the dtype too."""
    if not record.init.ok:
        return step_failure(check_id, Category.API, "Model()", record.init.error, {}, duration_s)
    require_float = check_id == "api.predict-float"
    passed_through = check_id == "api.predict-odd-sizes"
    problems = [
        predict_problem(noisy, case, require_float, passed_through)
        for noisy, case in zip(inputs, record.cases, strict=True)
    ]
    load = record.load
    details: dict[str, Any] = {
        "cases": [
            {"input": _shape(noisy.shape), "problem": problem}
            for noisy, problem in zip(inputs, problems, strict=True)
        ],
        "pretrained_loaded": bool(load and load.ok),
    }
    failed = [problem for problem in problems if problem]
    if not failed:
        sizes = " and ".join(_shape(noisy.shape) for noisy in inputs)
        return CheckResult(
            check_id,
            Category.API,
            Outcome.PASS,
            PREDICT_PASSES[check_id].format(sizes=sizes),
            details,
            duration_s,
            score=1.0,
            fault=Fault.NONE,
        )
    crashed = any(not case.ok for case in record.cases)
    more = f" ({len(failed)} of {len(problems)} inputs failed)" if len(problems) > 1 else ""
    return CheckResult(
        check_id,
        Category.API,
        Outcome.ERROR if crashed else Outcome.FAIL,
        failed[0] + more,
        details,
        duration_s,
        score=1 - len(failed) / len(problems),
    )


def judge_train(
    record: TrainRecord, pairs: int, retry_pairs: int | None = None, duration_s: float = 0.0
) -> CheckResult:
    """`probe_train`'s record: did `train(input, target, num_epochs=1)` return on `pairs` pairs?

    A train that crashes on `pairs` but runs on `retry_pairs` only needs a count its batch size divides:
    it passes when the course's 50,000 pairs are such a count, and the message says which multiple."""
    call = f"train(input, target, num_epochs=1) on {pairs} uint8 pairs"
    if not record.init.ok:
        return step_failure("api.train", Category.API, "Model()", record.init.error, {}, duration_s)
    train, retry, multiple = record.train, record.retry, record.multiple
    assert train is not None  # the record's rule: a successful Model() is followed by train
    details: dict[str, Any] = {"pairs": pairs, "seconds": train.seconds, "needs_multiple_of": multiple}
    if train.ok:
        return CheckResult(
            "api.train", Category.API, Outcome.PASS, f"{call} returns", details, duration_s, 1.0, Fault.NONE
        )
    if multiple is None or pairs % multiple == 0:
        return step_failure("api.train", Category.API, call, train.error, details, duration_s)
    course_ok = EPOCH_PAIRS % multiple == 0
    needs = f"train crashes unless the number of pairs is a multiple of {multiple}"
    course = f"the course's {EPOCH_PAIRS:,} pairs {'are' if course_ok else 'are not'}"
    retried = f"; on {retry_pairs} pairs it returns" if retry and retry.ok else ""
    message = f"{needs} ({course}): {call} raised {train.error}{retried}"
    outcome = Outcome.PASS if course_ok else Outcome.ERROR
    return CheckResult(
        "api.train", Category.API, outcome, message, details, duration_s, float(course_ok), Fault.SUBMISSION
    )
