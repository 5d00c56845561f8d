"""What each Model-step probe must return, checked in the parent before any judge reads it.

The child runs submission code in its own process, so what it sends back can be forged (a submission
can write the result pipe) or broken (a value that is not what the probe builds). `check_record` holds a
step's value against its probe's shape, `RECORD_SHAPES`: every key a judge reads, with its type. A
value that does not fit becomes a failed step with status `MALFORMED` (the submission's fault: the
harness's own probes always build the shape), so a judge never meets a KeyError or a string where it
reads a bool. Keys a probe adds that no judge reads yet are let through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

MALFORMED = "malformed"
"""The status of a step whose value does not have its probe's shape."""

Shape = Callable[[Any, str], None]
"""Raises `ValueError` naming the path (`init.ok`) when a value does not have the shape."""


def _described(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _of(*types: type) -> Shape:
    def check(value: Any, path: str) -> None:
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise ValueError(f"{path} is {_described(value)}, expected {names}")

    return check


def _optional(shape: Shape) -> Shape:
    def check(value: Any, path: str) -> None:
        if value is not None:
            shape(value, path)

    return check


def _list_of(shape: Shape) -> Shape:
    def check(value: Any, path: str) -> None:
        _of(list)(value, path)
        for index, item in enumerate(value):
            shape(item, f"{path}[{index}]")

    return check


def _dict_of(shape: Shape) -> Shape:
    def check(value: Any, path: str) -> None:
        _of(dict)(value, path)
        for key, item in value.items():
            _of(str)(key, f"{path} key")
            shape(item, f"{path}.{key}")

    return check


def _record(required: Mapping[str, Shape], optional: Mapping[str, Shape] | None = None) -> Shape:
    """A dict with every key of `required` and any of `optional`, each value of its shape."""

    def check(value: Any, path: str) -> None:
        _of(dict)(value, path or "the value")
        for key, shape in required.items():
            if key not in value:
                raise ValueError(f"{path + '.' if path else ''}{key} is missing")
            shape(value[key], f"{path + '.' if path else ''}{key}")
        for key, shape in (optional or {}).items():
            if key in value:
                shape(value[key], f"{path + '.' if path else ''}{key}")

    return check


_COUNT = _of(int)
_TENSOR = _optional(_of(torch.Tensor))


def _seconds(value: Any, path: str) -> None:
    _of(int, float)(value, path)
    if not 0 <= value < math.inf:
        raise ValueError(f"{path} is {value}, expected a finite number of seconds")


_CALL = {"ok": _of(bool), "error": _of(str), "seconds": _seconds}
STEP = _record(_CALL, {"peak_mb": _of(int, float)})
"""One call of submission code (`probe._attempt`): did it return, its one-line error, its seconds."""
_MAYBE_STEP = _optional(STEP)
_CASE = _record(_CALL, {"peak_mb": _of(int, float), "output": _TENSOR, "returned": _of(str)})

RECORD_SHAPES: Mapping[str, Shape] = {
    "probe_surface": _record(
        {
            "names": _dict_of(_of(str)),
            "init": STEP,
            "load": _MAYBE_STEP,
            "bestmodel_size": _optional(_COUNT),
        },
        {"stand_ins": _list_of(_of(str))},
    ),
    "probe_predict": _record({"init": STEP, "load": _MAYBE_STEP, "cases": _list_of(_CASE)}),
    "probe_train": _record(
        {"init": STEP, "train": _MAYBE_STEP}, {"retry": _MAYBE_STEP, "multiple": _optional(_COUNT)}
    ),
    "probe_train_timing": _record({"init": STEP, "train": _MAYBE_STEP}),
    "probe_predict_timing": _record({"init": STEP, "load": _MAYBE_STEP, "predict": _MAYBE_STEP}),
    "probe_pretrained_psnr": _record(
        {"init": STEP, "load": _MAYBE_STEP, "predict": _MAYBE_STEP, "bestmodel_size": _optional(_COUNT)},
        {"workaround": _optional(_of(str)), "output": _TENSOR},
    ),
    "probe_training_gain": _record(
        {"init": STEP, "before": _MAYBE_STEP, "train": _MAYBE_STEP, "after": _MAYBE_STEP},
        {"before_output": _TENSOR, "after_output": _TENSOR},
    ),
}
"""Per probe of `harness.checks.model_steps.probe`, the shape of the value it returns: the keys the
judges read (a key they read with `.get` is optional)."""

STEPS = _record(
    {
        "steps": _list_of(
            _record(
                {"seconds": _seconds, "failure": _optional(_record({"error": _of(str)}))},
                {"value": lambda value, path: None},
            )
        )
    }
)
"""The envelope `probe_steps` returns around the steps' values."""


def check_record(probe: str, value: Any) -> str | None:
    """Why `value` is not what `probe` returns ("init.ok is a str, expected bool"), None when it is."""
    return _problem(RECORD_SHAPES[probe], value)


def check_steps(value: Any, count: int) -> str | None:
    """Why `value` is not `probe_steps`'s envelope around `count` steps, None when it is."""
    problem = _problem(STEPS, value)
    if problem is None and len(value["steps"]) != count:
        problem = f"steps has {len(value['steps'])} entries for {count} steps"
    return problem


def _problem(shape: Shape, value: Any) -> str | None:
    try:
        shape(value, "")
    except ValueError as error:
        return str(error)
    return None
