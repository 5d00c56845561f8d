"""The API checks: names, Model(), load_pretrained_model(), predict and train, judged and run end to end."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from harness.checks.api import judge as api
from harness.checks.model_steps import probe as probes
from harness.checks.model_steps.records import Attempt, PredictCase, PredictRecord, SurfaceRecord
from harness.checks.model_steps.runner import load_error_message
from harness.probes.capture import describe_exception
from harness.results import Fault, Outcome
from tests.model_fixtures import SUBMISSIONS, context_for, write_course_data

BLOCKS = ["Conv2d", "ReLU", "Sigmoid", "MSE", "SGD", "Sequential"]
ALL_NAMES = {name: "class" for name in ["Model", *BLOCKS, "TransposeConv2d"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_course_data(tmp_path_factory.mktemp("data"), train=64, val=16)


@pytest.mark.parametrize(
    ("names", "outcome", "message"),
    [
        (ALL_NAMES, Outcome.PASS, "model.py exports every required name"),
        ({**ALL_NAMES, "NearestUpsampling": "class"}, Outcome.PASS, "every required name"),
        ({n: k for n, k in ALL_NAMES.items() if n != "TransposeConv2d"} | {"NearestUpsampling": "class"},
         Outcome.PASS, "every required name"),
        ({n: k for n, k in ALL_NAMES.items() if n != "MSE"} | {"MSELoss": "class"},
         Outcome.FAIL, "model.py does not export MSE (found MSELoss instead)"),
        ({n: k for n, k in ALL_NAMES.items() if n != "TransposeConv2d"} | {"ConvTranspose2d": "class"},
         Outcome.FAIL, "NearestUpsampling (found ConvTranspose2d (for TransposeConv2d) instead)"),
        ({n: k for n, k in ALL_NAMES.items() if n != "Model"},
         Outcome.FAIL, "model.py does not export Model"),
    ],
    ids=["all", "both-upsamplings", "nearest-only", "mseloss-variant", "convtranspose-variant", "no-model"],
)  # fmt: skip
def test_import_names_verdict(names, outcome, message):
    result = api.judge_import_names(names)
    assert result.outcome is outcome
    assert message in result.message


def test_import_names_score_is_the_fraction_found():
    names = {n: k for n, k in ALL_NAMES.items() if n not in ("Model", "SGD")}
    assert api.judge_import_names(names).score == pytest.approx(6 / 8)


RIGHT = torch.full((2, 3, 5, 7), 128.0)
NOISY = torch.full((2, 3, 5, 7), 200, dtype=torch.uint8)
RAN = Attempt(ok=True, error="", seconds=0.1)


def returned(output: torch.Tensor | None, kind: str = "Tensor") -> PredictCase:
    """A `predict` call that returned `output` (None: something of type `kind`, not a tensor)."""
    return PredictCase(ok=True, error="", seconds=0.1, output=output, returned=kind)


def raised(error: str) -> PredictCase:
    return PredictCase(ok=False, error=error, seconds=0.0)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        (returned(RIGHT), None),
        (returned(torch.zeros(2, 3, 5, 7)), None),
        (returned(RIGHT[..., :4, :4]), "returned shape 2x3x4x4, not the input's shape"),
        (returned(RIGHT.to(torch.uint8)), None),
        (returned(RIGHT.index_fill(3, torch.tensor([0]), float("nan"))), "returned 30 NaN"),
        (returned(RIGHT / 255), "returned values in [0, 1] (max 0.502) for 0-255 inputs"),
        (returned(RIGHT * 2.5), "outside [0, 255] (min 320, max 320): clamp them"),
        (raised("RuntimeError: boom (at model.py:3)"),
         "predict(2x3x5x7 uint8) raised RuntimeError: boom (at model.py:3)"),
        (returned(None, "list"),
         "predict(2x3x5x7 uint8) returned a list, not a plain tensor"),
    ],
    ids=["right", "all-black-is-0-255", "wrong-shape", "uint8", "nan", "unit-range", "over-255", "raised",
         "not-a-tensor"],
)  # fmt: skip
def test_predict_problem(case, problem):
    found = api.predict_problem(NOISY, case)
    assert found == problem if problem is None else problem in found


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        (RIGHT.to(torch.uint8), "predict(2x3x5x7 uint8) returned a uint8 tensor, not a float tensor"),
        (RIGHT.to(torch.int32), "predict(2x3x5x7 uint8) returned an int32 tensor, not a float tensor"),
        (RIGHT.double(), None),
        (RIGHT[..., :4, :4], None),
    ],
    ids=["uint8", "int32", "float64", "cropped-but-float"],
)
def test_predict_float_judges_the_dtype_alone(output, problem):
    assert api.predict_problem(NOISY, returned(output), require_float=True) == problem


def test_predict_odd_sizes_refuses_the_input_handed_back():
    """The odd sizes are judged on shape alone, so returning the input would earn the point unearned
    (hostile review A4); the course's sizes are judged by PSNR, where an identity scores the noisy input."""
    echoed = returned(NOISY.float())
    assert api.predict_problem(NOISY, echoed) is None
    problem = api.predict_problem(NOISY, echoed, passed_through=True)
    assert problem == (
        "predict(2x3x5x7 uint8) returned its input unchanged: odd sizes must be denoised, not passed through"
    )
    assert api.predict_problem(NOISY, returned(NOISY.float() + 1), passed_through=True) is None


def test_predict_verdict_scores_the_fraction_of_inputs_right():
    record = PredictRecord(init=RAN, load=RAN, cases=(returned(RIGHT), returned(RIGHT / 255)))
    result = api.judge_predict([NOISY, NOISY], record)
    assert (result.outcome, result.score) == (Outcome.FAIL, 0.5)
    assert result.message.endswith("(1 of 2 inputs failed)")
    crashed = replace(record, cases=(raised("ValueError: x"), returned(RIGHT)))
    assert api.judge_predict([NOISY, NOISY], crashed).outcome is Outcome.ERROR


@pytest.mark.parametrize(
    ("error", "size", "expected"),
    [
        ("EOFError (at model.py:19)", 0, "bestmodel.pth is empty (0 bytes)"),
        ("RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is",
         2229, "holds tensors saved on CUDA, which do not load on a CPU-only machine"),
        ("FileNotFoundError: [Errno 2] No such file or directory: 'bestmodel.pth'", 2229,
         "opens a path that does not exist on the grader's machine"),
        ("FileNotFoundError: [Errno 2] No such file or directory: '/x/bestmodel.pth'", None,
         "there is no bestmodel.pth next to model.py"),
        ("KeyError: 'conv1.weight' (at model.py:30)", 2229,
         "failed: KeyError: 'conv1.weight' (at model.py:30)"),
    ],
    ids=["empty", "cuda", "cwd-relative", "missing", "other"],
)  # fmt: skip
def test_load_error_names_the_cause(error, size, expected):
    assert expected in load_error_message(error, size)


def test_a_missing_file_is_named_inside_the_submission_not_the_childs_copy(tmp_path):
    package = tmp_path / "harness-child-x" / "pkg" / "Miniproject_2"
    package.mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as caught:
        open(package / "bestmodel.pth", "rb")  # noqa: SIM115
    described = describe_exception(caught.value, package)
    assert (
        described == "FileNotFoundError: [Errno 2] No such file or directory: 'Miniproject_2/bestmodel.pth'"
    )
    assert load_error_message(described, None) == (
        f"load_pretrained_model() failed: there is no bestmodel.pth next to model.py ({described})"
    )


@pytest.mark.parametrize(
    ("size", "message"),
    [(2229, "load_pretrained_model() runs from another working directory"),
     (None, "load_pretrained_model() runs from another working directory (there is no bestmodel.pth")],
    ids=["with-bestmodel", "without-bestmodel"],
)  # fmt: skip
def test_a_load_that_runs_passes_and_says_what_it_loaded(size, message):
    surface = SurfaceRecord(names=ALL_NAMES, init=RAN, load=RAN, bestmodel_size=size)
    result = api.judge_load_pretrained(surface)
    assert result.outcome is Outcome.PASS and result.message.startswith(message)


def _import_fixture(name: str):
    """Import a fixture submission's model.py in this process (probes are plain functions)."""
    path = SUBMISSIONS / name / "Miniproject_2" / "model.py"
    spec = importlib.util.spec_from_file_location(f"fixture_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_predict_probe_in_process_returns_plain_outputs():
    module = _import_fixture("model_torch_backed")
    inputs = [torch.randint(0, 256, (2, 3, 9, 11), dtype=torch.uint8)]
    record = probes.probe_predict(module, {"inputs": inputs})
    assert record["load"]["ok"] and record["cases"][0]["ok"]
    output = record["cases"][0]["output"]
    assert type(output) is torch.Tensor and output.shape == (2, 3, 9, 11)
    with torch.no_grad():
        expected = module.Model().net.__class__(3, 3, 3, padding=1)
        expected.load_state_dict(torch.load(Path(module.__file__).parent / "bestmodel.pth"))
        torch.testing.assert_close(output, (expected(inputs[0].float() / 255) * 255).clamp(0, 255))


EXPECTED = {
    # fixture: outcomes of import-names, model-init, load-pretrained, predict, predict-odd-sizes,
    # predict-float, train
    "model_torch_backed": ("pass", "pass", "pass", "pass", "pass", "pass", "pass"),
    "model_predict_unit_range": ("pass", "pass", "pass", "fail", "fail", "pass", "pass"),
    "model_wrong_shape": ("pass", "pass", "pass", "fail", "fail", "pass", "pass"),
    "model_nan": ("pass", "pass", "pass", "fail", "fail", "pass", "pass"),
    "model_no_model_class": ("fail", "missing", "skipped", "skipped", "skipped", "skipped", "skipped"),
    "model_hardcoded_path": ("pass", "pass", "error", "pass", "pass", "pass", "pass"),
    "model_absolute_path": ("pass", "pass", "error", "pass", "pass", "pass", "pass"),
    "model_empty_bestmodel": ("pass", "pass", "error", "pass", "pass", "pass", "pass"),
    "model_cuda_weights": ("pass", "pass", "error", "pass", "pass", "pass", "pass"),
    "sandbox_syntax_error": ("error", "skipped", "skipped", "skipped", "skipped", "skipped", "skipped"),
}
CAUSES = {
    "model_predict_unit_range": "returned values in [0, 1]",
    "model_wrong_shape": "returned shape 1x3x32x32, not the input's shape",
    "model_nan": "NaN or infinite values",
    "model_no_model_class": "model.py does not export Model",
    "model_hardcoded_path": "opens a path that does not exist on the grader's machine",
    "model_absolute_path": "No such file or directory: '/home/student/EE559/Miniproject_2/bestmodel.pth'",
    "model_empty_bestmodel": "bestmodel.pth is empty",
    "model_cuda_weights": "saved on CUDA",
    "sandbox_syntax_error": "model.py could not be imported: SyntaxError",
}


@pytest.mark.parametrize("fixture", list(EXPECTED))
def test_fixture_submissions_get_their_api_outcomes(fixture, data, tmp_path):
    results = api.run(context_for(fixture, tmp_path, data))
    assert [r.id for r in results] == [
        "api.import-names", "api.model-init", "api.load-pretrained", "api.predict", "api.predict-odd-sizes",
        "api.predict-float", "api.train",
    ]  # fmt: skip
    assert tuple(r.outcome.value for r in results) == EXPECTED[fixture]
    if fixture in CAUSES:
        assert any(CAUSES[fixture] in r.message for r in results), [r.message for r in results]


def test_a_predict_record_short_of_cases_is_the_submissions_malformed_result(data, tmp_path, monkeypatch):
    """A child can write its own record: one with fewer predict cases than inputs is refused as
    malformed (the submission's error), not a crash of the judge that would read as the harness's."""
    real = api.run_steps

    def forged(*args, **kwargs):
        surface, predict, train = real(*args, **kwargs)
        return surface, replace(predict, value=replace(predict.value, cases=predict.value.cases[:1])), train

    monkeypatch.setattr(api, "run_steps", forged)
    results = {r.id: r for r in api.run(context_for("model_torch_backed", tmp_path, data))}
    for check_id in ("api.predict", "api.predict-odd-sizes", "api.predict-float"):
        assert (results[check_id].outcome, results[check_id].fault) == (Outcome.ERROR, Fault.SUBMISSION)
        assert "malformed data: 1 predict cases for " in results[check_id].message
    assert results["api.train"].outcome is Outcome.PASS
