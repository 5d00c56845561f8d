"""What each Model-step probe returns, as typed records, and the parse that makes them in the parent.

The child runs submission code in its own process, so what it sends back can be forged (a submission
can write the result pipe) or broken (a value that is not what the probe builds). The probes write
plain data (the child must not depend on the parent's types); `parse_record` turns a step's value into
its probe's record (`RECORDS`, parsed by `harness.checks.parsing`): frozen dataclasses whose fields are
the keys the judges read, with their types. A field without a default is a key the probe always
writes, one with a default a key it may leave out, and a record's `__post_init__` states what the
probe's flow guarantees (a step that succeeded is followed by the next). A value that does not fit
raises `MalformedRecord`, which `runner` turns into a failed step with status `MALFORMED` (the
submission's fault: the harness's own probes always build the shape), so a judge reads attributes of
checked types and never meets a KeyError or a string where it reads a bool. Keys a probe adds that no
judge reads are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from harness.checks.parsing import MalformedRecord, Seconds, check_record_types, parse_as

MALFORMED = "malformed"
"""The status of a step whose value does not have its probe's shape."""


def _followed(record: Any, steps: Sequence[tuple[str, str]]) -> None:
    """Raise `MalformedRecord` when a field of `steps` (step, then) is None though `step`, an
    `Attempt`, succeeded: the probe always fills `then` after a successful `step`."""
    for step, then in steps:
        attempt = getattr(record, step)
        if attempt is not None and attempt.ok and getattr(record, then) is None:
            raise MalformedRecord(f"{then} is missing though {step} succeeded")


@dataclass(frozen=True)
class Attempt:
    """One call of submission code (`probe._attempt`): did it return, its one-line error ("" when it
    did), its seconds by the child's clock (0 when it raised), and when it raised the child's peak
    memory in MB."""

    ok: bool
    error: str
    seconds: Seconds
    peak_mb: float | None = None


@dataclass(frozen=True)
class PredictCase(Attempt):
    """One `predict` call of `probe_predict`: the attempt, and when it returned, the output when it is
    a tensor and the name of the type it returned."""

    output: Tensor | None = None
    returned: str = ""

    def __post_init__(self) -> None:
        if self.ok and not self.returned:
            raise MalformedRecord("returned is missing though the call returned")


@dataclass(frozen=True)
class SurfaceRecord:
    """`probe_surface`: model.py's public names with their kind ("class", "function", "other"),
    `Model()`, `load_pretrained_model()` (None when `Model()` failed), the size of bestmodel.pth
    (None: there is none) and the missing modules the import needed stand-ins for."""

    names: Mapping[str, str]
    init: Attempt
    load: Attempt | None
    bestmodel_size: int | None
    stand_ins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _followed(self, [("init", "load")])


@dataclass(frozen=True)
class PredictRecord:
    """`probe_predict`: `Model()`, the load tried before predicting, one case per input."""

    init: Attempt
    load: Attempt | None
    cases: tuple[PredictCase, ...]


@dataclass(frozen=True)
class TrainRecord:
    """`probe_train`: `Model()`, `train` on the asked pairs, its retry on all of them and the count
    train needs a multiple of (`probe.probe_train`)."""

    init: Attempt
    train: Attempt | None
    retry: Attempt | None = None
    multiple: int | None = None

    def __post_init__(self) -> None:
        _followed(self, [("init", "train")])


@dataclass(frozen=True)
class TrainTimingRecord:
    """`probe_train_timing`: `Model()`, the one timed `train` call (None when `Model()` failed or
    no pairs were asked) and the small `predict` after it (None unless `train` returned)."""

    init: Attempt
    train: Attempt | None
    predict: Attempt | None

    def __post_init__(self) -> None:
        _followed(self, [("train", "predict")])


@dataclass(frozen=True)
class PredictTimingRecord:
    """`probe_predict_timing`: `Model()`, `load_pretrained_model()` and the one timed `predict` call
    (None when `Model()` failed or no images were asked)."""

    init: Attempt
    load: Attempt | None
    predict: Attempt | None

    def __post_init__(self) -> None:
        _followed(self, [("init", "load")])


@dataclass(frozen=True)
class PretrainedPsnrRecord:
    """`probe_pretrained_psnr`: `Model()`, the load, the workaround that made it load (None: none was
    needed, or none worked), the predict on the validation set and its output."""

    init: Attempt
    load: Attempt | None
    predict: Attempt | None
    bestmodel_size: int | None
    workaround: str | None = None
    output: Tensor | None = None

    def __post_init__(self) -> None:
        _followed(self, [("init", "load"), ("predict", "output")])
        if self.load is not None and (self.load.ok or self.workaround) and self.predict is None:
            raise MalformedRecord("predict is missing though the weights loaded")


@dataclass(frozen=True)
class TrainingGainRecord:
    """`probe_training_gain`: `Model()`, predict before training, one epoch of train, predict after,
    and the two predictions."""

    init: Attempt
    before: Attempt | None
    train: Attempt | None
    after: Attempt | None
    before_output: Tensor | None = None
    after_output: Tensor | None = None

    def __post_init__(self) -> None:
        _followed(
            self,
            [
                ("init", "before"),
                ("before", "before_output"),
                ("before", "train"),
                ("train", "after"),
                ("after", "after_output"),
            ],
        )


RECORDS: Mapping[str, type] = {
    "probe_surface": SurfaceRecord,
    "probe_predict": PredictRecord,
    "probe_train": TrainRecord,
    "probe_train_timing": TrainTimingRecord,
    "probe_predict_timing": PredictTimingRecord,
    "probe_pretrained_psnr": PretrainedPsnrRecord,
    "probe_training_gain": TrainingGainRecord,
}
"""Per probe of `harness.checks.model_steps.probe` (by function name), the record its value parses to."""


@dataclass(frozen=True)
class StepFailure:
    """An exception that escaped a probe, in one line (`probe._escaped`); whose fault it is, the parent
    decides (`runner.fault_of`)."""

    error: str


@dataclass(frozen=True)
class StepValue:
    """One step of `probe_steps`: its seconds by the child's clock, and its probe's value (still the
    child's data, parsed by `parse_record`) or the failure that escaped the probe."""

    seconds: Seconds
    failure: StepFailure | None
    value: Any = None


@dataclass(frozen=True)
class Steps:
    """The envelope `probe_steps` returns around the steps' values."""

    steps: tuple[StepValue, ...]


def parse_record(probe: str, value: Any) -> Any:
    """`value` as `probe`'s record (`RECORDS`); raises `MalformedRecord` saying why it is not one
    ("init.ok is a str, expected bool")."""
    return parse_as(RECORDS[probe], value)


def parse_steps(value: Any, count: int) -> Steps:
    """`value` as `probe_steps`'s envelope around `count` steps; raises `MalformedRecord` when it is not."""
    envelope = parse_as(Steps, value)
    if len(envelope.steps) != count:
        raise MalformedRecord(f"steps has {len(envelope.steps)} entries for {count} steps")
    return envelope


check_record_types(*RECORDS.values(), Steps)
