"""Model-step records parsed at the boundary: a forged value is the submission's recorded ERROR."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest
import torch

from harness.checks.model_steps import probe
from harness.checks.model_steps.records import (
    MALFORMED,
    RECORDS,
    Attempt,
    MalformedRecord,
    PredictCase,
    PredictRecord,
    parse_record,
    parse_steps,
)
from harness.checks.model_steps.runner import Step, checked_step, child_failure
from harness.results import Category, Fault, Outcome
from harness.sandbox import ChildRun, Limits


def step(ok: bool = True, error: str = "", seconds: float = 0.5) -> dict:
    return {"ok": ok, "error": error, "seconds": seconds}


PREDICT = {
    "init": step(),
    "load": None,
    "cases": [{**step(), "output": torch.zeros(1), "returned": "Tensor"}],
}


def test_every_probe_of_the_module_has_a_record_type():
    probes = {name for name, _ in inspect.getmembers(probe, inspect.isfunction) if name.startswith("probe_")}
    assert set(RECORDS) == probes - {"probe_steps"}


def test_what_the_probe_builds_parses_to_its_typed_record():
    output = PREDICT["cases"][0]["output"]
    assert parse_record("probe_predict", PREDICT) == PredictRecord(
        init=Attempt(True, "", 0.5),
        load=None,
        cases=(PredictCase(True, "", 0.5, output=output, returned="Tensor"),),
    )


def problem(probe_name: str, value: object) -> str:
    with pytest.raises(MalformedRecord) as raised:
        parse_record(probe_name, value)
    return str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({**PREDICT, "init": {**step(), "ok": "yes"}}, "init.ok is a str, expected bool"),
        ({**PREDICT, "cases": [{"ok": True, "error": ""}]}, "cases[0].seconds is missing"),
        ({**PREDICT, "cases": [{**step(), "output": [1, 2]}]}, "cases[0].output is a list, expected Tensor"),
        ({**PREDICT, "init": step(seconds=float("nan"))}, "init.seconds is nan, expected a finite number"),
        ({"init": step(), "load": None}, "cases is missing"),
        ("all good", "the value is a str, expected dict"),
        ({**PREDICT, "load": {**step(), "seconds": True}}, "load.seconds is a bool, expected int or float"),
        ({**PREDICT, "cases": [step()]}, "cases[0]: returned is missing though the call returned"),
    ],
    ids=[
        "str-for-bool",
        "missing-key",
        "list-for-tensor",
        "nan-seconds",
        "missing-field",
        "not-a-dict",
        "bool",
        "returned-without-its-type",
    ],
)
def test_a_forged_record_is_named(value, expected):
    assert problem("probe_predict", value).startswith(expected)


@pytest.mark.parametrize(
    ("probe_name", "value", "expected"),
    [
        ("probe_train", {"init": step(), "train": None}, "train is missing though init succeeded"),
        (
            "probe_training_gain",
            {**dict.fromkeys(("init", "before", "train", "after"), step()), "before_output": torch.zeros(1)},
            "after_output is missing though after succeeded",
        ),
        (
            "probe_pretrained_psnr",
            {"init": step(), "load": step(), "predict": None, "bestmodel_size": 3},
            "predict is missing though the weights loaded",
        ),
    ],
    ids=["train-after-init", "output-after-predict", "predict-after-load"],
)
def test_a_record_missing_what_the_probe_always_writes_next_is_named(probe_name, value, expected):
    assert problem(probe_name, value) == expected


def test_extra_keys_are_let_through():
    extended = {**PREDICT, "new_field": 3}
    assert parse_record("probe_predict", extended) == parse_record("probe_predict", PREDICT)


def test_the_steps_envelope_is_parsed_and_counted():
    good = {"steps": [{"value": {}, "seconds": 1.0, "failure": None}]}
    assert parse_steps(good, 1).steps[0].seconds == 1.0
    with pytest.raises(MalformedRecord, match=r"^steps has 1 entries for 2 steps$"):
        parse_steps(good, 2)
    with pytest.raises(MalformedRecord, match=r"^steps\[0\]\.seconds is a str, expected int or float$"):
        parse_steps({"steps": [{"seconds": "1"}]}, 1)


def test_a_step_names_a_probe_of_the_module_with_a_record_type():
    assert Step(probe.probe_train, {}, Limits()).name == "probe_train"
    with pytest.raises(ValueError, match="probe_steps is not a probe of"):
        Step(probe.probe_steps, {}, Limits())
    with pytest.raises(ValueError, match=r"inspect\.getmembers is not a probe of"):
        Step(inspect.getmembers, {}, Limits())


def test_a_malformed_step_is_the_submissions_error_not_a_harness_crash():
    run = ChildRun("ok", {**PREDICT, "init": None}, "", "", "", "", 1.0, True)
    checked = checked_step(run, "probe_predict")
    assert checked.status == MALFORMED and checked.value is None
    result = child_failure("api.predict", Category.API, checked, "predict", Limits())
    assert (result.outcome, result.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert result.message == "predict: probe returned malformed data: init is None, expected dict"
    parsed = checked_step(replace(run, value=PREDICT), "probe_predict")
    assert (parsed.status, parsed.value) == ("ok", parse_record("probe_predict", PREDICT))
