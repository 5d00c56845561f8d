"""Model-step records checked at the boundary: a forged value is the submission's recorded ERROR."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest
import torch

from harness.checks.model_steps import probe
from harness.checks.model_steps.records import MALFORMED, RECORD_SHAPES, check_record, check_steps
from harness.checks.model_steps.runner import checked_step, child_failure
from harness.results import Category, Fault, Outcome
from harness.sandbox import ChildRun, Limits


def step(ok: bool = True, error: str = "", seconds: float = 0.5) -> dict:
    return {"ok": ok, "error": error, "seconds": seconds}


PREDICT = {
    "init": step(),
    "load": None,
    "cases": [{**step(), "output": torch.zeros(1), "returned": "Tensor"}],
}


def test_every_probe_of_the_module_has_a_shape():
    probes = {name for name, _ in inspect.getmembers(probe, inspect.isfunction) if name.startswith("probe_")}
    assert set(RECORD_SHAPES) == probes - {"probe_steps"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({**PREDICT, "init": {**step(), "ok": "yes"}}, "init.ok is a str, expected bool"),
        ({**PREDICT, "cases": [{"ok": True, "error": ""}]}, "cases[0].seconds is missing"),
        ({**PREDICT, "cases": [{**step(), "output": [1, 2]}]}, "cases[0].output is a list, expected Tensor"),
        ({**PREDICT, "init": step(seconds=float("nan"))}, "init.seconds is nan, expected a finite number"),
        ({"init": step(), "load": None}, "cases is missing"),
        ("all good", "the value is a str, expected dict"),
        ({**PREDICT, "load": {**step(), "seconds": True}}, "load.seconds is a bool, expected int or float"),
    ],
    ids=[
        "str-for-bool",
        "missing-key",
        "list-for-tensor",
        "nan-seconds",
        "missing-field",
        "not-a-dict",
        "bool",
    ],
)
def test_a_forged_record_is_named(value, problem):
    assert check_record("probe_predict", value).startswith(problem)


def test_what_the_probe_builds_passes_and_extra_keys_are_let_through():
    assert check_record("probe_predict", {**PREDICT, "new_field": 3}) is None


def test_the_steps_envelope_is_checked_and_counted():
    good = {"steps": [{"value": {}, "seconds": 1.0, "failure": None}]}
    assert check_steps(good, 1) is None
    assert check_steps(good, 2) == "steps has 1 entries for 2 steps"
    assert check_steps({"steps": [{"seconds": "1"}]}, 1) == "steps[0].seconds is a str, expected int or float"


def test_a_malformed_step_is_the_submissions_error_not_a_harness_crash():
    run = ChildRun("ok", {**PREDICT, "init": None}, "", "", "", "", 1.0, True)
    checked = checked_step(run, "probe_predict")
    assert checked.status == MALFORMED and checked.value is None
    result = child_failure("api.predict", Category.API, checked, "predict", Limits())
    assert (result.outcome, result.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert result.message == "predict: probe returned malformed data: init is None, expected dict"
    assert checked_step(replace(run, value=PREDICT), "probe_predict").status == "ok"
