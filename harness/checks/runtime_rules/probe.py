"""Child-side probe of `rules.runtime`: run a small workload under `harness.tracing.TorchCallRecorder`.

The submission is imported again with the recorder active, so that what its modules do at import time
(`torch.set_grad_enabled(True)`, a weight built with `torch.zeros`) is seen too. The workload is
deliberately small: one forward and backward per block the submission has (built the way graders build
them, through `harness.checks.blocks.adapters`), an SGD step on a short `Sequential`, then `Model()`,
`load_pretrained_model()`, one epoch of `train` on a few images and a `predict`. Every step runs on its
own, so a failing block costs one step; after each, grad mode is checked and switched back off if the
step left it on. A step that raises is run once more with the recorder suspended: `passes_unrecorded`
says whether it then ran through (code that fails only while watched). The probe returns what it saw
and judges nothing (`harness.checks.runtime_rules.judge` does).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from harness.checks.blocks.adapters import ConstructorCall, ParameterList, build, find_class
from harness.probes.capture import describe_exception
from harness.probes.deadline import OverBudget, deadline
from harness.tracing import TorchCallRecorder

TRAIN_IMAGES = 100
"""One epoch of `train` on this many pairs: one batch of the usual batch sizes (<= 100). At the statement's
limit (30 min per 50,000 pairs on a CPU) that is 3.6 s, within `TRAIN_BUDGET_S`."""
PREDICT_IMAGES = 4
IMAGE_SIZE = 32
STEP_BUDGET_S = 5.0
TRAIN_BUDGET_S = 10.0
"""Seconds one step may run before it is stopped, so that a `train` that never returns costs only its
step and the calls recorded so far still come back."""
NO_ARGUMENTS = ConstructorCall({}, positional=0, keywords=())

BLOCK_CALLS: dict[str, ConstructorCall] = {
    "conv2d": ConstructorCall(
        {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
        positional=2,
        keywords=("kernel_size", "stride", "padding"),
    ),
    "transpose_conv2d": ConstructorCall(
        {"in_channels": 4, "out_channels": 3, "kernel_size": 2, "stride": 2},
        positional=2,
        keywords=("kernel_size", "stride"),
    ),
    "nearest_upsampling": ConstructorCall({"scale_factor": 2}, positional=0, keywords=("scale_factor",)),
    "upsampling": ConstructorCall(
        {"in_channels": 4, "out_channels": 3, "kernel_size": 3, "stride": 1, "padding": 1, "scale_factor": 2},
        positional=2,
        keywords=("kernel_size", "padding", "scale_factor"),
    ),
    "relu": NO_ARGUMENTS,
    "sigmoid": NO_ARGUMENTS,
}
"""Constructor calls in PyTorch's terms for the blocks exercised on their own (2 x C x 8 x 8 inputs)."""


def record_torch_calls(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Run the workload under the recorder; return {"calls": [TorchCall data], "steps", "grad_left_on",
    "recorder_intact"} (whether the recorder still recorded at the end: `TorchCallRecorder.canary`).

    `args["train_images"]` overrides `TRAIN_IMAGES` (tests use fewer).
    """
    package_dir = Path(model.__file__).resolve().parent
    run = _Workload(package_dir, int(args.get("train_images", TRAIN_IMAGES)))
    with run.recorder:
        fresh = run.attempt("import", lambda: _reimport(model))
        run.exercise(fresh or model)
        intact = run.recorder.canary()
    torch.set_grad_enabled(False)
    return {
        "calls": [call.as_data() for call in run.recorder.calls()],
        "steps": run.steps,
        "grad_left_on": run.grad_left_on,
        "recorder_intact": intact,
    }


def _reimport(model: ModuleType) -> ModuleType:
    """A fresh import of the submission's package and model module (the recorder is active)."""
    package = model.__name__.partition(".")[0]
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    fresh = importlib.import_module(model.__name__)
    if Path(fresh.__file__).resolve() != Path(model.__file__).resolve():
        raise ImportError(f"re-import found {fresh.__file__}, not {model.__file__}")
    return fresh


class _Workload:
    """The recorder, the steps run so far and which steps left grad mode on."""

    def __init__(self, package_dir: Path, train_images: int) -> None:
        self.package_dir = package_dir
        self.train_images = train_images
        self.recorder = TorchCallRecorder(package_dir)
        self.steps: list[dict[str, Any]] = []
        self.grad_left_on: list[str] = []

    def attempt(self, step: str, action: Callable[[], Any], budget_s: float = STEP_BUDGET_S) -> Any:
        """Run one step of submission code; record {"step", "ok", "error"}; return its value or None."""
        value, error, unrecorded = None, "", None
        with self.recorder.stepping(step):
            try:
                with deadline(budget_s):
                    value = action()
            except OverBudget as exc:
                error = f"{exc} (stopped so that the other steps still run)"
            except Exception as exc:  # the submission's failure costs only this step
                error = describe_exception(exc, self.package_dir)
                unrecorded = self._unrecorded(action, budget_s)
        if torch.is_grad_enabled():
            self.grad_left_on.append(step)
            torch.set_grad_enabled(False)
        record = {"step": step, "ok": not error, "error": error, "passes_unrecorded": unrecorded}
        self.steps.append(record)
        return value

    def _unrecorded(self, action: Callable[[], Any], budget_s: float) -> bool:
        """Whether `action`, which raised under the recorder, runs through with the recorder suspended:
        code that fails only while watched hides what it does (the verdict forbids it)."""
        with self.recorder.suspended():
            try:
                with deadline(budget_s):
                    action()
            except (OverBudget, Exception):
                return False
            finally:
                torch.set_grad_enabled(False)
        return True

    def exercise(self, model: ModuleType) -> None:
        generator = torch.Generator().manual_seed(0)
        blocks = {kind: self._block(model, kind, call) for kind, call in BLOCK_CALLS.items()}
        for kind, block in blocks.items():
            if block is not None:
                x = torch.rand(2, _input_channels(kind), 8, 8, generator=generator)
                self.attempt(f"{kind}.forward", lambda b=block, x=x: b.forward(x))
                self.attempt(
                    f"{kind}.backward", lambda b=block, x=x: b.backward(b.forward(x).clone().fill_(1))
                )
                self.attempt(f"{kind}.param", lambda b=block: b.param())
        self._loss_and_optimizer(model, blocks, generator)
        self._model(model, generator)

    def _block(self, model: ModuleType, kind: str, call: ConstructorCall) -> Any:
        cls, name = find_class(model, kind)
        if cls is None:
            return None
        built = self.attempt(f"{kind}.init", lambda: build(cls, name, call, (), self.package_dir))
        return None if built is None else built.block

    def _loss_and_optimizer(
        self, model: ModuleType, blocks: dict[str, Any], generator: torch.Generator
    ) -> None:
        mse_cls, mse_name = find_class(model, "mse")
        if mse_cls is not None:
            built = self.attempt(
                "mse.init", lambda: build(mse_cls, mse_name, NO_ARGUMENTS, (), self.package_dir)
            )
            if built is not None:
                pred, target = torch.rand(2, 3, 4, 4, generator=generator), torch.rand(2, 3, 4, 4)
                self.attempt("mse.forward", lambda: built.block.forward(pred, target))
                self.attempt("mse.backward", lambda: built.block.backward())
        chain = [blocks[kind] for kind in ("conv2d", "relu") if blocks.get(kind) is not None]
        seq_cls, _ = find_class(model, "sequential")
        if seq_cls is None or not chain:
            return
        sequential = self.attempt("sequential.init", lambda: seq_cls(*chain))
        if sequential is None:
            return
        x = torch.rand(2, 3, 8, 8, generator=generator)
        self.attempt(
            "sequential.backward", lambda: sequential.backward(sequential.forward(x).clone().fill_(1))
        )
        sgd_cls, sgd_name = find_class(model, "sgd")
        params = self.attempt("sequential.param", lambda: ParameterList(sequential.param()))
        if sgd_cls is None or params is None:
            return
        call = ConstructorCall(
            {"params": params, "lr": 0.01}, positional=1, keywords=("lr",), droppable=frozenset({"params"})
        )
        built = self.attempt(
            "sgd.init",
            lambda: build(sgd_cls, sgd_name, call, (), self.package_dir, {"params": lambda: params}),
        )
        if built is not None:
            self.attempt("sgd.step", lambda: built.block.step())
            self.attempt("sgd.zero_grad", lambda: built.block.zero_grad())

    def _model(self, model: ModuleType, generator: torch.Generator) -> None:
        model_cls = getattr(model, "Model", None)
        if not isinstance(model_cls, type):
            return
        shape = (self.train_images, 3, IMAGE_SIZE, IMAGE_SIZE)
        noisy_a = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
        noisy_b = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
        instance = self.attempt("Model()", model_cls)
        if instance is None:
            return
        self.attempt("Model.load_pretrained_model", lambda: instance.load_pretrained_model())
        self.attempt("Model.train", lambda: instance.train(noisy_a, noisy_b, 1), TRAIN_BUDGET_S)
        self.attempt("Model.predict", lambda: instance.predict(noisy_a[:PREDICT_IMAGES]))


def _input_channels(kind: str) -> int:
    """Channels of the input a block of `kind` built from `BLOCK_CALLS` takes."""
    return BLOCK_CALLS[kind].values.get("in_channels", 3)
