"""Specification of `rules.runtime`: which torch entry points a submission reaches, and which are forbidden.

The probe runs in-process here (the recorder and the judging are what is specified); one test per
outcome kind goes through the real sandbox, as `harness check` does.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import torch

from harness.checks.parsing import MalformedRecord, parse_as
from harness.checks.runtime_rules import judge as runtime_rules
from harness.checks.runtime_rules import probe
from harness.checks.runtime_rules.judge import TorchRecording, forbidden_reason, judge_recording
from harness.results import Fault, Outcome
from harness.sandbox import ChildRun, Limits

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
FEW_IMAGES = {"train_images": 4}


def _forget_package() -> None:
    for name in [n for n in sys.modules if n == "Miniproject_2" or n.startswith("Miniproject_2.")]:
        del sys.modules[name]


@pytest.fixture
def import_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Import `tests/submissions/<name>/Miniproject_2/model.py` in this process, as the child would."""

    def load(name: str) -> ModuleType:
        _forget_package()
        monkeypatch.syspath_prepend(str(SUBMISSIONS / name))
        return importlib.import_module("Miniproject_2.model")

    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    yield load
    _forget_package()
    torch.set_grad_enabled(previous)


def findings(fixture: str, profile: str, load) -> set[tuple[str, str, str]]:
    recording = probe.record_torch_calls(load(fixture), FEW_IMAGES)
    result = judge_recording(parse_as(TorchRecording, recording), profile)
    return {(f["rule"], f["entry"], f"{f['file']}:{f['line']}") for f in result.details["findings"]}


@pytest.mark.parametrize(
    ("fixture", "profile", "expected"),
    [
        ("rules_hidden_conv2d", "strict", {("torch-function", "torch.nn.functional.conv2d", "model.py:14")}),
        (
            "rules_import_torch_nn",
            "lenient",
            {
                ("torch-nn", "torch.nn.Module.__init__", "model.py:5"),
                ("torch-nn", "torch.nn.Module.__init__", "model.py:19"),
                ("torch-nn", "torch.nn.Module.__call__", "model.py:28"),
            },
        ),
        (
            "rules_autograd",
            "lenient",
            {
                ("autograd", "torch.enable_grad", "model.py:11"),
                ("autograd", "torch.Tensor.requires_grad_", "model.py:12"),
                ("autograd", "torch.Tensor.backward", "model.py:13"),
                ("autograd", "torch.set_grad_enabled", "model.py:25"),
                ("autograd", "torch.is_grad_enabled", ":0"),
            },
        ),
        (
            "rules_lenient_torch",
            "strict",
            {
                ("torch-function", "torch.device", "model.py:12"),
                ("torch-function", "torch.load", "model.py:16"),
            },
        ),
        ("rules_lenient_torch", "lenient", set()),
        ("rules_test_script", "strict", set()),
        (
            "attack_torchscript_packed",  # TorchScript runs unseen: its loading is the finding
            "lenient",
            {("torch-function", "torch.jit.load", "model.py:19")},
        ),
        (
            "attack_dispatch_hook",  # what the hooks run is never seen: the hooks are the findings
            "lenient",
            {
                ("torch-function", "Miniproject_2.model.Routed.__torch_function__", "model.py:42"),
                ("torch-function", "torch._tensor.Tensor.__torch_function__", "model.py:43"),
            },
        ),
    ],
    ids=[
        "hidden-conv2d", "nn-module", "autograd", "torch-load-strict", "torch-load-lenient", "clean",
        "torchscript", "dispatch-hooks",
    ],
)  # fmt: skip
def test_fixture_findings(import_fixture, fixture: str, profile: str, expected: set) -> None:
    assert findings(fixture, profile, import_fixture) == expected


def test_grad_left_on_is_reported_and_switched_off(import_fixture) -> None:
    recording = probe.record_torch_calls(import_fixture("rules_autograd"), FEW_IMAGES)
    assert recording["grad_left_on"] == ["Model.train"]
    assert not torch.is_grad_enabled()


def test_recording_names_function_code_and_step(import_fixture) -> None:
    recording = probe.record_torch_calls(import_fixture("rules_hidden_conv2d"), FEW_IMAGES)
    [conv] = [c for c in recording["calls"] if c["entry"] == "torch.nn.functional.conv2d"]
    assert conv["function"] == "Conv2d.forward"
    assert conv["code"].startswith("return conv(x, self.weight")
    assert conv["step"] == "conv2d.forward"
    assert conv["count"] >= 2  # forward, and again inside backward's forward, and in predict
    steps = {s["step"]: s["ok"] for s in recording["steps"]}
    assert steps["conv2d.forward"] and steps["Model.predict"]


def test_allowed_calls_are_recorded_but_not_findings(import_fixture) -> None:
    recording = probe.record_torch_calls(import_fixture("rules_test_script"), FEW_IMAGES)
    entries = {c["entry"] for c in recording["calls"]}
    assert {"torch.Tensor.gt", "torch.Tensor.mul"} <= entries
    assert not any(e.startswith("torch.nn.functional") for e in entries)  # others/test_relu.py never ran


def test_calls_made_by_the_harness_are_not_recorded(tmp_path: Path) -> None:
    from harness.tracing import TorchCallRecorder

    with TorchCallRecorder(tmp_path) as recorder:
        torch.sigmoid(torch.ones(2))
        torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2))
    assert recorder.calls() == []


def test_a_compiled_module_from_outside_the_installation_is_recorded(tmp_path: Path) -> None:
    """A `.so` unpacked at run time and imported under a standard-library name (`import this` after a
    `sys.path.insert`) passed both rule checks: its C++ calls ATen directly. Its loading is the record."""
    from harness.tracing import COMPILED_ENTRY, TorchCallRecorder

    library = tmp_path / "this.so"
    library.write_bytes(b"not a library")
    source = (
        "import _imp\ndef load(spec):\n    try:\n        _imp.create_dynamic(spec)\n"
        "    except ImportError:\n        pass\n"
    )
    namespace: dict = {}
    exec(compile(source, str(tmp_path / "model.py"), "exec"), namespace)
    with TorchCallRecorder(tmp_path) as recorder:
        namespace["load"](SimpleNamespace(name="this", origin=str(library)))
        namespace["load"](SimpleNamespace(name="_json", origin=importlib.import_module("_ctypes").__file__))
    assert [(c.entry, c.target, c.line) for c in recorder.calls()] == [(COMPILED_ENTRY, "this.so", 4)]
    rule, why = forbidden_reason(COMPILED_ENTRY, None, "lenient")
    assert rule == "compiled-code" and "neither rule check" in why


def test_train_that_never_returns_costs_only_its_step(import_fixture, monkeypatch) -> None:
    monkeypatch.setattr(probe, "TRAIN_BUDGET_S", 0.3)
    recording = probe.record_torch_calls(import_fixture("sandbox_sleep"), FEW_IMAGES)
    steps = {s["step"]: s for s in recording["steps"]}
    assert not steps["Model.train"]["ok"]
    assert "did not finish within 0.3 s" in steps["Model.train"]["error"]
    assert steps["Model.predict"]["ok"]


@pytest.mark.parametrize(
    ("entry", "flag", "profile", "rule"),
    [
        ("torch.Tensor.matmul", None, "strict", None),
        ("torch.Tensor.__getitem__", None, "strict", None),
        ("torch.Tensor.sigmoid", None, "strict", None),
        ("torch._tensor.Tensor.__reduce_ex__", None, "strict", None),
        ("torch._tensor.Tensor.__torch_function__", None, "lenient", "torch-function"),
        ("torch.Tensor.__torch_dispatch__", None, "lenient", "torch-function"),
        ("torch.empty", None, "strict", None),
        ("torch.nn.functional.unfold", None, "strict", None),
        ("torch._utils._rebuild_tensor_v2", None, "strict", None),
        ("torch.set_grad_enabled", "grad_disabled", "strict", None),
        ("torch.no_grad", "grad_disabled", "strict", None),
        (
            "torch.utils._contextlib.context_decorator.<locals>.decorate_context",
            "grad_disabled",
            "strict",
            None,
        ),
        (
            "torch.optim.optimizer.Optimizer.profile_hook_step.<locals>.wrapper",
            "grad_disabled",
            "lenient",
            "torch-optim",
        ),
        ("torch.matmul", None, "strict", "torch-function"),
        ("torch.sigmoid", None, "lenient", "torch-function"),
        ("torch.nn.functional.conv2d", None, "lenient", "torch-function"),
        ("torch.load", None, "strict", "torch-function"),
        ("torch.load", None, "lenient", None),
        ("torch.nn.Module.__call__", None, "lenient", "torch-nn"),
        ("torch.nn.modules.conv.Conv2d.__init__", None, "lenient", "torch-nn"),
        ("torch.optim.sgd.SGD.__init__", None, "lenient", "torch-optim"),
        ("torch.empty", "requires_grad", "strict", "autograd"),
        ("torch.Tensor.requires_grad.__set__", "requires_grad", "strict", "autograd"),
        ("torch.set_grad_enabled", "grad_enabled", "lenient", "autograd"),
        ("torch.Tensor.backward", None, "lenient", "autograd"),
        ("torch.autograd.grad", None, "lenient", "autograd"),
    ],
)
def test_forbidden_reason(entry: str, flag: str | None, profile: str, rule: str | None) -> None:
    reason = forbidden_reason(entry, flag, profile)
    assert (reason[0] if reason else None) == rule


def _call(entry: str, **overrides) -> dict:
    return {"entry": entry, "flag": None, "target": None, "file": "model.py", "line": 7, "function": "f",
            "code": "y = g(x)", "count": 1, "step": "Model.train", **overrides}  # fmt: skip


def recorded(calls: list[dict], steps: list[dict]) -> TorchRecording:
    """A recording as the probe writes it, parsed as the parent parses it."""
    value = {"calls": calls, "steps": steps, "grad_left_on": [], "recorder_intact": True}
    return parse_as(TorchRecording, value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"steps": [], "grad_left_on": [], "recorder_intact": True}, "calls is missing"),
        (
            {
                "calls": [_call("torch.cat", line="7")],
                "steps": [],
                "grad_left_on": [],
                "recorder_intact": True,
            },
            "calls[0].line is a str, expected int",
        ),
        ({"calls": [], "steps": [{"step": "x", "ok": 1}], "grad_left_on": []}, "steps[0].ok is a int"),
    ],
    ids=["missing-calls", "str-line", "int-ok"],
)
def test_a_forged_recording_is_named(value, problem):
    with pytest.raises(MalformedRecord, match=re.escape(problem)):
        parse_as(TorchRecording, value)


def test_judging_a_clean_recording() -> None:
    recording = recorded(
        [_call("torch.Tensor.add", count=3), _call("torch.cat")],
        [{"step": "Model()", "ok": True, "error": ""}, {"step": "Model.train", "ok": False, "error": "E"}],
    )
    result = judge_recording(recording, "strict")
    assert result.outcome is Outcome.PASS and result.score == 1.0
    assert result.details["entries"] == {"torch.Tensor.add": 3, "torch.cat": 1}
    assert "not fully traced (they failed): Model.train" in result.message


def test_many_failed_steps_are_listed_briefly() -> None:
    steps = [{"step": f"s{i}", "ok": False, "error": "E"} for i in range(5)]
    result = judge_recording(recorded([], steps), "strict")
    assert result.message.endswith("not fully traced (they failed): s0, s1, s2 and 2 more")


def test_judging_a_forbidden_recording() -> None:
    recording = recorded(
        [_call("torch.sigmoid", line=9, function="Sigmoid.forward"), _call("torch.relu")],
        [{"step": "Model.train", "ok": True, "error": ""}],
    )
    result = judge_recording(recording, "lenient")
    assert result.outcome is Outcome.FORBIDDEN and result.score == 0.0 and result.fault is Fault.SUBMISSION
    assert result.message == (
        "model.py:9 in Sigmoid.forward reaches torch.sigmoid, which is a torch function outside the lenient "
        "allow-list (and 1 more)"
    )


def test_findings_on_one_line_are_merged() -> None:
    entry = "torch.nn.modules.conv.Conv2d.__init__"
    recording = recorded([_call(entry, count=12), _call(entry, target="Conv2d"), _call(entry, line=8)], [])
    findings = judge_recording(recording, "strict").details["findings"]
    assert [(f["line"], f["target"], f["count"]) for f in findings] == [(7, "Conv2d", 13), (8, None, 1)]


def _context(fixture_dir: Path, profile: str = "strict") -> SimpleNamespace:
    return SimpleNamespace(
        submission=SimpleNamespace(package_dir=fixture_dir),
        rubric=SimpleNamespace(rule_profile=profile),
        seed=0,
        limits=lambda check_id: Limits(wall_s=60, memory_mb=2048),
    )


@pytest.mark.parametrize(
    ("package", "outcome", "in_message"),
    [
        (REPO / "Miniproject_2", Outcome.PASS, "no forbidden torch call"),
        (
            SUBMISSIONS / "rules_hidden_conv2d" / "Miniproject_2",
            Outcome.FORBIDDEN,
            "torch.nn.functional.conv2d",
        ),
    ],
    ids=["reference-clean", "hidden-conv2d"],
)
def test_check_through_the_sandbox(package: Path, outcome: Outcome, in_message: str) -> None:
    [result] = runtime_rules.run(_context(package))
    assert result.id == "rules.runtime"
    assert result.outcome is outcome, result.message
    assert in_message in result.message
    assert result.duration_s > 0


def test_a_recording_forged_to_break_the_judge_is_the_submissions_error(monkeypatch) -> None:
    """The child's process writes its value: one with no "calls" is an ERROR of the submission, not a
    group failure that would be withheld for a re-run (and skip the graded children's findings)."""
    forged = ChildRun("ok", {"steps": []}, "", "", "", "", 0.1, True)
    monkeypatch.setattr(runtime_rules, "run_probe", lambda *args, **kwargs: forged)
    [result] = runtime_rules.run(_context(REPO / "Miniproject_2"))
    assert (result.outcome, result.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert (
        result.message
        == "running the code under the recorder: probe returned malformed data: calls is missing"
    )


def test_the_canary_tells_a_working_recorder_from_a_popped_one(tmp_path: Path) -> None:
    from harness.tracing import TorchCallRecorder

    handed: list[dict] = []
    with TorchCallRecorder(tmp_path, sink=handed.append) as recorder:
        assert recorder.canary()
        assert [call["entry"] for call in handed] == ["torch.empty"]  # handed out, as the child streams it
        assert recorder.calls() == []  # the canary's own record is not kept
        popped = torch._C._pop_torch_function_stack()
        try:
            assert not recorder.canary()
        finally:
            torch._C._push_on_torch_function_stack(popped)
