"""The faulty-submission gallery: each fault a student can hand in, graded end to end as `harness check` does.

One row per fault of the project's list (issue 4): the fixture under `tests/submissions/`, the check groups
that matter for it (the others are left out to keep the module fast; `group_checks` says which checks they
judge), and for the checks that show the fault, their outcome, whose fault it is and key phrases of the
one-line message a student reads. Every row also asserts that each other check of those groups still ran
(a dead child costs only its own check), that no message leaks a traceback or the child's temporary
folder, and that the report validates against `harness/schema/report.schema.json`. The reference
submission is the last row: it passes every check of the groups it runs (its full points with every
group are `test_check_cli.test_reference_gets_full_points`, marked slow).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.check import check_submission
from harness.checks.registry import group_checks
from harness.checks.rules.judge import check_static_rules
from harness.report import Report, report_to_json, validate_report_json
from harness.results import Fault, Outcome
from harness.workloads import RETRY_PAIRS
from tests.model_fixtures import SUBMISSIONS, tight_rubric, write_course_data

REFERENCE = Path(__file__).resolve().parents[1] / "Miniproject_2"
WALL_S = 15
MEMORY_MB = 1536
RUBRIC = tight_rubric(wall_s=WALL_S, memory_mb=MEMORY_MB)
"""The shipped rubric with every child held to 15 s and 1.5 GB, so a timeout or a memory hog shows fast."""

MISNAMED = SUBMISSIONS / "verdict_folder_name" / "Proj_123456_234567"
"""A well-named Proj_ folder whose package folder is `Miniproject2`."""

LAYOUT, RULES, RUNTIME, API = "layout", "rules", "runtime-rules", "api"
BLOCKS, TIMING, PSNR = "blocks", "timing", "psnr"


@dataclass(frozen=True)
class Expect:
    """One check's expected verdict: its outcome, whose fault, and phrases its message must contain."""

    outcome: Outcome
    phrases: tuple[str, ...] = ()
    fault: Fault = Fault.SUBMISSION


def fails(outcome: Outcome, *phrases: str) -> Expect:
    """A check the submission made fail with `outcome`, its message naming the cause by `phrases`."""
    return Expect(outcome, phrases)


@dataclass(frozen=True)
class Case:
    """A gallery row: grade `fixture` (a folder of `tests/submissions/`, or a path) with `groups` only."""

    fixture: str | Path
    groups: tuple[str, ...]
    expected: Mapping[str, Expect] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.fixture if isinstance(self.fixture, Path) else SUBMISSIONS / self.fixture


CASES: dict[str, Case] = {
    "syntax-error": Case("sandbox_syntax_error", (LAYOUT, RULES, RUNTIME, API), {
        "layout.files": Expect(Outcome.PASS, fault=Fault.NONE),
        "rules.static": fails(Outcome.ERROR, "model.py: SyntaxError", "line 4", "cannot be checked"),
        "rules.runtime": fails(Outcome.ERROR, "could not be imported: SyntaxError", "(at model.py:4)"),
        "api.import-names": fails(Outcome.ERROR, "could not be imported: SyntaxError", "(at model.py:4)"),
        "api.predict": fails(Outcome.SKIPPED, "not run: model.py could not be imported"),
    }),
    "no-model-class": Case("model_no_model_class", (API,), {
        "api.import-names": fails(Outcome.FAIL, "model.py does not export Model"),
        "api.model-init": fails(Outcome.MISSING, "model.py has no Model class"),
        "api.train": fails(Outcome.SKIPPED, "not run: model.py has no Model class"),
    }),
    "predict-in-0-1": Case("model_predict_unit_range", (API,), {
        "api.predict": fails(Outcome.FAIL, "returned values in [0, 1]", "scale outputs to 0-255"),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "wrong-output-shape": Case("model_wrong_shape", (API,), {
        "api.predict": fails(Outcome.FAIL, "returned shape 1x3x32x32, not the input's shape"),
    }),
    "nan-output": Case("model_nan", (API,), {
        "api.predict": fails(Outcome.FAIL, "NaN or infinite values"),
    }),
    "import-torch-nn": Case("rules_import_torch_nn", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:5", "`torch.nn.Module` is used"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:5", "uses a torch.nn module"),
    }),
    "hidden-conv2d": Case("rules_hidden_conv2d", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:4", "imports torch.nn.functional by name"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:14", "reaches torch.nn.functional.conv2d"),
    }),
    "autograd": Case("rules_autograd", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:11", "`torch.enable_grad`: autograd must stay"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:11", "torch.enable_grad", "switches autograd on"),
    }),
    "train-never-returns": Case("sandbox_sleep", (API, TIMING), {
        "api.train": fails(Outcome.TIMEOUT, f"train on 400 pairs did not finish within {WALL_S} s"),
        "timing.train-epoch": fails(Outcome.TIMEOUT, f"did not finish within {WALL_S} s"),
        "api.model-init": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "memory-hog": Case("sandbox_memory_hog", (API,), {
        "api.train": fails(Outcome.OOM, f"used more than {MEMORY_MB} MB of memory"),
        "api.model-init": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "print-flood": Case("sandbox_print_flood", (API,), {
        # About 100 MB printed per call: only head and tail are kept, and predict is judged on what it
        # returned (its input, uint8), like any other predict.
        "api.predict-float": fails(Outcome.FAIL, "returned a uint8 tensor, not a float tensor"),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "os-exit": Case("sandbox_os_exit", (API,), {
        "api.train": fails(Outcome.CRASH, "train on 400 pairs crashed: exited with code 3"),
    }),
    "segmentation-fault": Case("sandbox_segfault", (API,), {
        "api.predict": fails(Outcome.CRASH, "crashed: killed by SIGSEGV (segmentation fault)"),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "no-bestmodel": Case("model_no_bestmodel", (LAYOUT, API, PSNR), {
        "layout.bestmodel": fails(Outcome.MISSING, "bestmodel.pth missing from Miniproject_2/"),
        "api.load-pretrained": fails(
            Outcome.MISSING, "there is no bestmodel.pth next to model.py", "'Miniproject_2/bestmodel.pth'"
        ),
        "psnr.pretrained": fails(Outcome.ERROR, "there is no bestmodel.pth next to model.py"),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "relu-in-place": Case("blocks_2022_flaws", (BLOCKS,), {
        "blocks.relu": fails(Outcome.FAIL, "ReLU.forward changed its input in place"),
    }),
    "sequential-param-raises": Case("blocks_2022_flaws", (BLOCKS,), {
        "blocks.sequential": fails(Outcome.FAIL, "Sequential.param() raised TypeError", "(at model.py:121)"),
    }),
    "eq-cheat-blocks": Case("blocks_eq_cheat", (BLOCKS,), {
        "blocks.mse": fails(Outcome.ERROR, "crashed in forward: forward returned AlwaysEqual, not a tensor"),
        "blocks.sigmoid": fails(Outcome.FAIL, "output differs from torch.nn.Sigmoid"),
    }),
    "eq-cheat-model": Case("sandbox_eq_cheat", (API,), {
        # predict returns a 2-element Tensor subclass: judged as the plain tensor it holds.
        "api.predict": fails(Outcome.FAIL, "returned shape 2, not the input's shape"),
    }),
    "cuda-weights": Case("model_cuda_weights", (API, PSNR), {
        "api.load-pretrained": fails(Outcome.ERROR, "saved on CUDA", "CPU-only machine", "map_location"),
        "psnr.pretrained": fails(Outcome.FAIL, "measured with a workaround (map_location='cpu'): pretrained",
                                 "as submitted, load_pretrained_model() failed: bestmodel.pth holds tensors"),
    }),
    "absolute-path": Case("model_absolute_path", (API,), {
        "api.load-pretrained": fails(
            Outcome.ERROR, "'/home/student/EE559/Miniproject_2/bestmodel.pth'", "build it from __file__"
        ),
    }),
    "working-directory-path": Case("model_hardcoded_path", (API, PSNR), {
        "api.load-pretrained": fails(
            Outcome.ERROR, "relative to the working directory", "'bestmodel.pth' (at model.py:19)"
        ),
        "psnr.pretrained": Expect(Outcome.PASS, (
            "measured with a workaround (the package folder as working folder): pretrained PSNR",
            "as submitted, load_pretrained_model() failed: it opens a path",
        ), Fault.NONE),
    }),
    "empty-bestmodel": Case("model_empty_bestmodel", (LAYOUT, API), {
        "layout.bestmodel": fails(Outcome.FAIL, "bestmodel.pth is empty (0 bytes)"),
        "api.load-pretrained": fails(Outcome.ERROR, "bestmodel.pth is empty (0 bytes)"),
    }),
    "train-batch-of-16": Case("verdict_batch_16", (API, TIMING), {
        "api.train": Expect(Outcome.PASS, ("on 400 uint8 pairs returns",), Fault.NONE),
        "timing.train-epoch": Expect(Outcome.PASS, ("within limit",), Fault.NONE),
    }),
    "slowed-clock": Case("attack_slow_clock", (TIMING,), {
        # Every clock of the child runs 1000x slow: its own timing says about 1 ms, the kernel 1 s.
        "timing.train-epoch": fails(Outcome.FAIL, "timing inconsistent (the child's clock says",
                                    "the kernel counted", "no points"),
        "timing.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "train-batch-of-125": Case("verdict_batch_125", (API,), {
        "api.train": Expect(Outcome.PASS, (
            "train crashes unless the number of pairs is a multiple of 125 (the course's 50,000 pairs are)",
            "exceeds dimension size (400)", "(at model.py:", "on 2000 pairs it returns",
        ), Fault.NONE),
    }),
    "backward-crash": Case("verdict_backward_crash", (BLOCKS,), {
        "blocks.relu": fails(Outcome.FAIL, "crashed in backward: RuntimeError: The size of tensor a",
                             "(at model.py:11)"),
    }),
    "gradient-replaced": Case("verdict_gradient_replaced", (BLOCKS,), {
        "blocks.conv2d": fails(Outcome.FAIL, "the weight gradient is replaced, not accumulated"),
    }),
    "tuple-backward": Case("verdict_tuple_backward", (BLOCKS,), {
        "blocks.sigmoid": Expect(Outcome.PASS, ("allowed forms: backward returns a tuple",), Fault.NONE),
        "blocks.mse": Expect(Outcome.PASS, ("allowed forms: backward returns a tuple",), Fault.NONE),
    }),
    "none-none-param": Case("verdict_none_param", (BLOCKS,), {
        "blocks.relu": Expect(Outcome.PASS, ("ReLU.param() lists (None, None)",), Fault.NONE),
        "blocks.sigmoid": Expect(Outcome.PASS, ("Sigmoid.param() lists (None, None)",), Fault.NONE),
        "blocks.sequential": Expect(Outcome.PASS, ("Sequential.param() lists (None, None)",), Fault.NONE),
        "blocks.conv2d": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "class-name-case": Case("verdict_class_case", (BLOCKS,), {
        "blocks.relu": Expect(Outcome.PASS, ("class named ReLu (the statement's ReLU)",), Fault.NONE),
        "blocks.nearest-upsampling": Expect(
            Outcome.PASS, ("class named NearestUpSampling (the statement's NearestUpsampling)",), Fault.NONE
        ),
    }),
    "params-method": Case("verdict_params_method", (BLOCKS,), {
        "blocks.sigmoid": Expect(Outcome.PASS, ("Sigmoid has params() instead of param()",), Fault.NONE),
    }),
    "upsample-is-transposed": Case("verdict_upsample_transposed", (BLOCKS,), {
        "blocks.transpose-conv2d": Expect(
            Outcome.PASS, ("Upsample takes channels and a kernel size: checked as the TransposeConv2d",),
            Fault.NONE,
        ),
        "blocks.nearest-upsampling": Expect(Outcome.SKIPPED, ("TransposeConv2d is checked",), Fault.NONE),
    }),
    "predict-uint8": Case("verdict_predict_uint8", (API,), {
        "api.predict": Expect(Outcome.PASS, ("on 1x3x512x512 and 100x3x32x32",), Fault.NONE),
        "api.predict-odd-sizes": Expect(Outcome.PASS, fault=Fault.NONE),
        "api.predict-float": fails(Outcome.FAIL, "returned a uint8 tensor, not a float tensor"),
    }),
    "predict-quantized": Case("attack_quantized_predict", (API, PSNR), {
        "api.predict": fails(Outcome.FAIL, "predict(1x3x512x512 uint8) returned a quantized tensor",
                             "(torch.quint8), not a plain tensor"),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
        "psnr.pretrained": fails(Outcome.ERROR, "quantized tensor (torch.quint8)"),
    }),
    "predict-crops-odd-sizes": Case("verdict_predict_crops", (API,), {
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
        "api.predict-odd-sizes": fails(Outcome.FAIL, "predict(3x3x33x47 uint8) returned shape 3x3x32x46"),
        "api.predict-float": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "predict-out-of-memory": Case("verdict_predict_memory", (API,), {
        "api.predict": fails(Outcome.OOM, f"used more than {MEMORY_MB} MB of memory (peak ", "MB measured)"),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "type-hints-and-torch-io": Case("verdict_type_hints", (RULES, RUNTIME, API), {
        "rules.static": Expect(Outcome.PASS, ("follow the lenient import and autograd rules",), Fault.NONE),
        "rules.runtime": Expect(Outcome.PASS, ("lenient profile",), Fault.NONE),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "stray-third-party-import": Case("verdict_stray_import", (RULES, API, BLOCKS), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:5", "matplotlib is not in the standard library"),
        "api.import-names": fails(Outcome.FAIL, "model.py imports seaborn, not installed here: graded with a "
                                  "stand-in module (rules.static fails the import)"),
        "api.model-init": Expect(Outcome.PASS, fault=Fault.NONE),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
        "api.train": Expect(Outcome.PASS, fault=Fault.NONE),
        "blocks.relu": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "package-folder-misnamed": Case(MISNAMED, (LAYOUT, BLOCKS), {
        "layout.files": fails(Outcome.FAIL, "the package folder is named 'Miniproject2'",
                              "the course imports Miniproject_2"),
        "layout.folder-name": Expect(Outcome.PASS, fault=Fault.NONE),
        "blocks.sigmoid": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "training-identity-attack": Case("verdict_training_identity", (PSNR,), {
        "psnr.training-improves": fails(Outcome.FAIL, "predict returns its noisy input unchanged"),
    }),
    "training-ends-below-noisy": Case("verdict_training_below_noisy", (PSNR,), {
        "psnr.training-improves": fails(Outcome.FAIL, "dB below the noisy input (at most 3 dB allowed)"),
    }),
    "no-load-method": Case("verdict_no_load_method", (API, PSNR), {
        "api.load-pretrained": fails(Outcome.MISSING, "Model has no load_pretrained_model() method"),
        "psnr.pretrained": fails(Outcome.ERROR, "Model has no load_pretrained_model() method"),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "fault-named-in-error-text": Case("verdict_fault_text", (API, PSNR), {
        "api.import-names": fails(Outcome.ERROR, "model.py could not be imported: RuntimeError"),
        "psnr.pretrained": fails(Outcome.ERROR, "model.py could not be imported: RuntimeError"),
    }),
    "fault-from-relabelled-code": Case("attack_relabelled_fault", (API,), {
        # The exception escapes the api probe from code whose co_filename is the harness's probe file.
        "api.import-names": fails(Outcome.ERROR, "raised RuntimeError: probe state lost",
                                  "(escaped probe_surface; raised at harness/checks/model_steps/probe.py:"),
        "api.model-init": fails(Outcome.ERROR, "raised RuntimeError: probe state lost"),
        "api.load-pretrained": fails(Outcome.ERROR, "raised RuntimeError: probe state lost"),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "train-kills-itself": Case("attack_self_kill", (API, TIMING), {
        "api.train": fails(Outcome.CRASH, "train on 400 pairs crashed: killed by SIGKILL, not sent by the "
                           "harness for a limit"),
        "timing.train-epoch": fails(Outcome.CRASH, "crashed: killed by SIGKILL, not sent by the harness"),
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "reads-uninitialised-memory": Case("verdict_uninitialised", (BLOCKS,), {
        "blocks.sigmoid": fails(Outcome.FAIL, "reads memory torch.empty() leaves uninitialised"),
    }),
    "dispatch-hook-trampoline": Case("attack_dispatch_hook", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:21: defines `__torch_function__`"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:42 in Model.predict reaches "
                               "Miniproject_2.model.Routed.__torch_function__", "torch's dispatch hook"),
    }),
    "predict-passes-odd-sizes-through": Case("verdict_predict_passes_odd", (API,), {
        "api.predict": Expect(Outcome.PASS, fault=Fault.NONE),
        "api.predict-odd-sizes": fails(Outcome.FAIL, "predict(3x3x33x47 uint8) returned its input unchanged"),
        "api.predict-float": Expect(Outcome.PASS, fault=Fault.NONE),
    }),
    "subprocess": Case("attack_subprocess", (RULES,), {
        # conv2d runs in another program: rules.runtime sees nothing there, rules.static the import
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:10: `import subprocess`: subprocess runs other"),
    }),
    "module-as-value": Case("attack_module_as_value", (RULES,), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:27: `torch` is passed as a value"),
    }),
    "fake-main-block": Case("attack_fake_main", (RULES,), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:10: stores to `__name__`"),
    }),
    "code-from-a-text-file": Case("attack_code_from_data", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "model.py:13: `runpy.run_path(...)` loads code"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "reaches torch.nn.functional.conv2d"),
    }),
    "pickle-protocol-0": Case("attack_pickle_protocol_0", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "bestmodel.pth:0: `torch.nn.functional.relu` is pickled"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "reaches torch.nn.functional.relu"),
    }),
    "pickled-torch-function": Case("attack_pickled_torch_function", (RULES, RUNTIME), {
        "rules.static": fails(Outcome.FORBIDDEN, "bestmodel.pth:0: `torch._C._nn.avg_pool2d` is pickled"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "reaches torch.nn.functional.avg_pool2d"),
    }),
    "torchscript-weights": Case("attack_torchscript_weights", (RULES, RUNTIME), {
        # the conv2d runs inside TorchScript, unseen: both checks name the archive's loading
        "rules.static": fails(Outcome.FORBIDDEN, "TorchScript archive (bestmodel/constants.pkl)"),
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:14 in Model.__init__ reaches torch.jit.load"),
    }),
    "torchscript-packed": Case("attack_torchscript_packed", (RUNTIME,), {
        "rules.runtime": fails(Outcome.FORBIDDEN, "model.py:19 in Model.__init__ reaches torch.jit.load"),
    }),
    "reference": Case(REFERENCE, (LAYOUT, RULES, RUNTIME, API), {
        check_id: Expect(Outcome.PASS, fault=Fault.NONE)
        for check_id in group_checks((LAYOUT, RULES, RUNTIME, API))
        if check_id != "layout.folder-name"  # a bare Miniproject_2 folder has no Proj_ name to check
    }),
}  # fmt: skip


@pytest.fixture(scope="module")
def grade(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], Report]:
    """`check_submission` of a case on tiny course data, once per (submission, groups) in this module."""
    data = tmp_path_factory.mktemp("gallery-data")
    write_course_data(data, train=RETRY_PAIRS, val=16)
    reports: dict[tuple[Path, tuple[str, ...]], Report] = {}

    def run(case: Case) -> Report:
        key = (case.path, case.groups)
        if key not in reports:
            reports[key] = check_submission(case.path, data, RUBRIC, reference_dir=None, groups=case.groups)
        return reports[key]

    return run


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_gallery_submission_gets_its_expected_outcomes(grade: Callable[[Case], Report], case: Case) -> None:
    report = grade(case)
    by_id = {scored.result.id: scored.result for scored in report.checks}
    for check_id, expect in case.expected.items():
        result = by_id[check_id]
        assert (result.outcome, result.fault) == (expect.outcome, expect.fault), (check_id, result.message)
        for phrase in expect.phrases:
            assert phrase in result.message, (check_id, result.message)
    judged = group_checks(case.groups)
    assert set(case.expected) <= set(judged)
    for check_id in judged:
        result = by_id[check_id]
        assert result.fault is not Fault.SETUP, f"{check_id} did not run: {result.message}"
        assert "\n" not in result.message and "Traceback" not in result.message, check_id
        assert "harness-child-" not in result.message, (check_id, result.message)
    validate_report_json(report_to_json(report, validate=False))


def test_gallery_covers_every_fault_of_the_list() -> None:
    """The issue's list, each fault with a row (a reader checks the ids against it)."""
    faults = {
        "syntax-error", "no-model-class", "predict-in-0-1", "wrong-output-shape", "nan-output",
        "import-torch-nn", "hidden-conv2d", "autograd", "train-never-returns", "memory-hog", "print-flood",
        "os-exit", "segmentation-fault", "no-bestmodel", "relu-in-place", "sequential-param-raises",
        "eq-cheat-blocks", "cuda-weights", "absolute-path", "working-directory-path", "empty-bestmodel",
    }  # fmt: skip
    assert faults <= set(CASES)
    assert all(CASES[fault].expected for fault in faults)
    assert all(
        any(expect.outcome is not Outcome.PASS for expect in CASES[fault].expected.values())
        for fault in faults
    )


def test_strict_profile_flags_what_the_default_allows() -> None:
    """`strict` (opt-in) keeps the statement's words: every torch name of verdict_type_hints is a finding."""
    package = SUBMISSIONS / "verdict_type_hints" / "Miniproject_2"
    strict, default = check_static_rules(package, "strict"), check_static_rules(package, RUBRIC.rule_profile)
    assert (strict.outcome, default.outcome) == (Outcome.FORBIDDEN, Outcome.PASS)
    flagged = {finding["code"] for finding in strict.details["findings"]}
    assert {"import torch", "def forward(self, x: torch.Tensor) -> torch.Tensor:"} <= flagged


def test_a_stand_in_is_only_for_a_module_that_is_missing() -> None:
    """The stray-import row relies on seaborn being absent and matplotlib present where the tests run."""
    assert importlib.util.find_spec("seaborn") is None and importlib.util.find_spec("matplotlib") is not None


def test_reference_scores_every_point_of_the_groups_it_runs(grade: Callable[[Case], Report]) -> None:
    report = grade(CASES["reference"])
    judged = [
        scored for scored in report.checks if scored.result.id in group_checks(CASES["reference"].groups)
    ]
    assert sum(s.points for s in judged) == sum(s.max_points for s in judged) > 0


FORGED_FAULTS = ("fault-from-relabelled-code", "train-kills-itself", "fault-named-in-error-text")
"""Rows whose submission makes its own failure look like the harness's (a traceback with no frame of
its own, a SIGKILL the harness did not send, an error naming a harness file)."""


@pytest.mark.parametrize("name", FORGED_FAULTS)
def test_a_failure_made_to_look_like_the_harnesss_costs_its_points(
    grade: Callable[[Case], Report], name: str
) -> None:
    """Whose fault comes from the parent's own observation (the child was released to the submission's
    code), so the failed checks score 0 of their points, and none is withheld for a re-run."""
    case = CASES[name]
    report = grade(case)
    scored = {s.result.id: s for s in report.checks}
    failed = [check_id for check_id, expect in case.expected.items() if expect.outcome is not Outcome.PASS]
    assert failed and all(scored[i].points == 0 < scored[i].max_points for i in failed), failed
    assert all(scored[i].result.fault is Fault.SUBMISSION for i in failed), failed
    assert not set(report.summary.needs_rerun) & set(group_checks(case.groups))


ALLOWED_FORMS = (
    "tuple-backward",
    "none-none-param",
    "class-name-case",
    "params-method",
    "upsample-is-transposed",
)
"""Rows whose blocks use a form the statement allows: named in the report, worth every point."""


@pytest.mark.parametrize("name", ALLOWED_FORMS)
def test_an_allowed_form_costs_no_points(grade: Callable[[Case], Report], name: str) -> None:
    case = CASES[name]
    scored = {s.result.id: s for s in grade(case).checks}
    passing = [check_id for check_id, expect in case.expected.items() if expect.outcome is Outcome.PASS]
    assert passing and all(scored[i].points == scored[i].max_points > 0 for i in passing), passing
    assert all(scored[i].result.details["adapter"] is False for i in passing)
