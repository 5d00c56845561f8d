"""Model-step records parsed at the boundary: a forged value is the submission's recorded ERROR."""

from __future__ import annotations

import inspect
import re
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
from harness.checks.model_steps.runner import Step, checked_step, child_failure, judging
from harness.probes.capture import PLAIN_DTYPES, SpecialTensor, plain, unsupported_data
from harness.results import Category, CheckResult, Fault, Outcome
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


SPECIAL_TENSORS = {
    "quantized": (
        lambda: torch.quantize_per_tensor(torch.zeros(2), 1.0, 0, torch.quint8),
        "quantized tensor (torch.quint8)",
    ),
    "complex": (lambda: torch.zeros(2, dtype=torch.complex64), "complex tensor (torch.complex64)"),
    "meta": (lambda: torch.zeros(2, device="meta"), "meta tensor"),
    "sparse": (lambda: torch.zeros(2).to_sparse(), "non-dense tensor (torch.sparse_coo)"),
    "odd-dtype": (lambda: torch.zeros(2, dtype=torch.uint16), "tensor of dtype torch.uint16"),
    "subclass": (
        lambda: torch.nn.Parameter(torch.zeros(2)),
        "tensor subclass (torch.nn.parameter.Parameter)",
    ),
}


@pytest.mark.parametrize(("make", "kind"), SPECIAL_TENSORS.values(), ids=SPECIAL_TENSORS.keys())
def test_a_tensor_no_judge_can_read_is_refused_by_name_on_both_sides(make, kind):
    """The parse of a Tensor field, the parent's check of a child's result and the child's copy all
    refuse a tensor that is not plain, naming its kind (a quantized one once broke api's judge)."""
    forged = {**PREDICT, "cases": [{**step(), "output": make(), "returned": "Tensor"}]}
    assert problem("probe_predict", forged) == f"cases[0].output is a {kind}, expected a plain Tensor"
    if kind.startswith("tensor subclass"):  # refused by its class; the child's copy strips it
        assert unsupported_data(forged) == "value['cases'][0]['output'] (a torch.nn.parameter.Parameter)"
        assert type(plain(make())) is torch.Tensor
    else:
        assert unsupported_data(forged) == f"value['cases'][0]['output'] (a {kind})"
        with pytest.raises(SpecialTensor, match=re.escape(kind)):
            plain(make())


def test_plain_tensors_of_every_allowed_dtype_parse():
    for dtype in PLAIN_DTYPES:
        value = {
            **PREDICT,
            "cases": [{**step(), "output": torch.zeros(2, dtype=dtype), "returned": "Tensor"}],
        }
        assert parse_record("probe_predict", value).cases[0].output.dtype is dtype
        assert unsupported_data(value) is None


def test_a_judge_that_raises_on_a_released_childs_value_is_the_submissions_error_naming_it():
    """`judging`: the submission's ERROR for each of the checks, naming the judge and the error; SETUP
    only when a child was never released (the sandbox's failure)."""
    run = ChildRun("ok", {}, "", "", "", "", 1.0, True)

    def judge_broken(record: dict) -> list:
        return [record["missing"]]

    results = judging([run], ["api.predict", "api.predict-float"], Category.API, judge_broken, {})
    assert [(r.id, r.outcome, r.fault) for r in results] == [
        ("api.predict", Outcome.ERROR, Fault.SUBMISSION),
        ("api.predict-float", Outcome.ERROR, Fault.SUBMISSION),
    ]
    assert results[0].message.startswith(
        "judge_broken could not judge what the child sent: KeyError: 'missing'"
    )
    unreleased = replace(run, released=False)
    (held,) = judging([run, unreleased], ["api.train"], Category.API, judge_broken, {})
    assert held.fault is Fault.SETUP
    passed = CheckResult("api.train", Category.API, Outcome.PASS, "fine")
    assert judging([run], ["api.train"], Category.API, lambda: passed) == [passed]
