"""Child-side probes of a submission's `Model`: its API, its speed and what it predicts.

Each probe records what happened (outcomes, one-line errors, output tensors, wall times) and judges
nothing; the judges of the api, timing and psnr groups judge in the parent. Every step that runs
submission code is wrapped on its own, so one failing call costs one entry, not the whole probe.
Inputs are fed as the course's grading script feeds them: uint8 tensors with values 0-255.
"""

from __future__ import annotations

import inspect
import math
import os
import random
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from harness.probes import stand_ins
from harness.probes.capture import SpecialTensor, describe_exception, plain, submission_frame
from harness.probes.rebinding import rebound

PREDICT_BATCH = 100
"""The grading script predicts the validation set 100 images at a time (`val_input.narrow(0, b, 100)`)."""


def _package_dir(model: ModuleType) -> Path:
    return Path(model.__file__).parent


def _attempt(model: ModuleType, step: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run one step of submission code: (its value, {"ok", "error", "seconds"})."""
    start = time.perf_counter()
    try:
        value = step()
    except BaseException as exc:  # the submission's failure (SystemExit included) is the data we report
        error = describe_exception(exc, _package_dir(model))
        return None, {"ok": False, "error": error, "seconds": 0.0, "peak_mb": _peak_memory_mb()}
    return value, {"ok": True, "error": "", "seconds": time.perf_counter() - start}


def _peak_memory_mb() -> float:
    """The most memory this process has held so far (its peak resident set), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bestmodel_size(model: ModuleType) -> int | None:
    """Bytes of the bestmodel.pth next to model.py, None when there is none."""
    bestmodel = _package_dir(model) / "bestmodel.pth"
    return bestmodel.stat().st_size if bestmodel.is_file() else None


def _public_names(model: ModuleType) -> dict[str, str]:
    """Each public top-level name of model.py and what it is: "class", "function" or "other"."""
    kinds = {}
    for name, value in vars(model).items():
        if name.startswith("_"):
            continue
        kinds[name] = "class" if inspect.isclass(value) else "function" if callable(value) else "other"
    return kinds


def _new_model(model: ModuleType, pretrained: bool) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """`Model()`, then `load_pretrained_model()` when asked: (instance, init record, load record)."""
    instance, init = _attempt(model, lambda: model.Model())
    if not init["ok"] or not pretrained:
        return instance, init, None
    _, load = _attempt(model, lambda: instance.load_pretrained_model())
    return instance, init, load


def _predict_batched(instance: Any, noisy: torch.Tensor) -> torch.Tensor:
    """Predict as the grading script does: batches of 100 images, outputs moved to the CPU and joined."""
    outputs = [
        plain(instance.predict(noisy.narrow(0, start, min(PREDICT_BATCH, len(noisy) - start))))
        for start in range(0, len(noisy), PREDICT_BATCH)
    ]
    return torch.cat(outputs)


def probe_surface(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """What model.py exports, whether `Model()` constructs and whether `load_pretrained_model()` runs,
    and the missing modules the import needed stand-ins for (`harness.probes.stand_ins`)."""
    _, init, load = _new_model(model, pretrained=True)
    return {
        "names": _public_names(model),
        "init": init,
        "load": load,
        "bestmodel_size": _bestmodel_size(model),
        "stand_ins": stand_ins.used(),
    }


def probe_predict(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """`predict` on each of `args["inputs"]`, after loading the pretrained weights when that works."""
    instance, init, load = _new_model(model, pretrained=True)
    cases = []
    if init["ok"]:
        for noisy in args["inputs"]:
            output, record = _attempt(model, lambda noisy=noisy: instance.predict(noisy.clone()))
            if record["ok"]:
                record.update(_returned(output))
            cases.append(record)
    return {"init": init, "load": load, "cases": cases}


def _returned(output: Any) -> dict[str, Any]:
    """A `predict` case's `output` (its `plain` copy, when it is a plain tensor) and `returned`, the
    kind it returned: its type's name, or for a tensor no judge reads its kind (`SpecialTensor`), so
    that case alone fails ("returned a quantized tensor (torch.quint8)")."""
    if not isinstance(output, torch.Tensor):
        return {"output": None, "returned": type(output).__name__}
    try:
        return {"output": plain(output), "returned": type(output).__name__}
    except SpecialTensor as special:
        return {"output": None, "returned": special.kind}


def probe_train(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """`Model().train(input, target, num_epochs=args["num_epochs"])` on `args["pairs"]` pairs: does it return?

    When it raises and more pairs were given, it is retried on all of them (`retry`), and then on each
    count of `args["divisors"]` in turn until one trains (`multiple`: the count train needs a multiple
    of, None when none does), so a crash that only comes from the count is told apart from a real one.
    """
    instance, init, _ = _new_model(model, pretrained=False)
    record: dict[str, Any] = {"init": init, "train": None, "retry": None, "multiple": None}
    if not init["ok"]:
        return record
    inputs, targets, pairs, epochs = args["input"], args["target"], args["pairs"], args["num_epochs"]
    _, record["train"] = _attempt(
        model, lambda: instance.train(inputs[:pairs], targets[:pairs], num_epochs=epochs)
    )
    if record["train"]["ok"] or len(inputs) <= pairs:
        return record
    _, record["retry"] = _attempt(model, lambda: instance.train(inputs, targets, num_epochs=epochs))
    for count in args["divisors"]:
        _, trained = _attempt(model, lambda c=count: instance.train(inputs[:c], targets[:c], num_epochs=1))
        if trained["ok"]:
            record["multiple"] = count
            break
    return record


def probe_train_timing(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """`Model()`, one `train` epoch on the first `args["pairs"]` pairs (none when it is 0), then one
    `predict` of `args["after"]` (a small batch of validation images): the work whose CPU time the
    parent takes from the kernel. `harness.checks.timing.judge` times two such children that differ
    only in the count, so the child's one `train` call is a first call, as every graded call of `train`
    is; the predict after it is the same in both children (its cost cancels), so training that `train`
    defers to the model's next use is counted too.

    The seconds recorded are the child's own clock, which submission code can slow or patch: the
    parent only checks them against what the kernel counted, never times with them.
    """
    inputs, targets, pairs = args["input"], args["target"], args["pairs"]
    instance, init, _ = _new_model(model, pretrained=False)
    record: dict[str, Any] = {"init": init, "train": None, "predict": None}
    if init["ok"] and pairs:
        _, record["train"] = _attempt(model, lambda: instance.train(inputs[:pairs], targets[:pairs], 1))
        if record["train"]["ok"]:
            _, record["predict"] = _attempt(model, lambda: plain(instance.predict(args["after"])))
    return record


def probe_predict_timing(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """`Model()`, `load_pretrained_model()`, then `predict` on the first `args["images"]` of
    `args["input"]` (none when it is 0) in the grading script's batches; timed as `probe_train_timing`
    is, by two children that differ only in the count."""
    noisy = args["input"][: args["images"]]
    instance, init, load = _new_model(model, pretrained=True)
    record: dict[str, Any] = {"init": init, "load": load, "predict": None}
    if init["ok"] and len(noisy):
        _, record["predict"] = _attempt(model, lambda: _predict_batched(instance, noisy))
    return record


LOAD_WORKAROUNDS = ("map_location='cpu'", "the package folder as working folder")
"""Fixes for the two load failures a grader can work around by hand: CUDA-saved weights (every
`torch.load` given `map_location="cpu"`) and a path relative to the working folder (run from the
package folder)."""


@contextmanager
def _load_workaround(model: ModuleType, workaround: str) -> Iterator[None]:
    """`workaround` (one of `LOAD_WORKAROUNDS`) in effect inside the block, undone after it."""
    if workaround == LOAD_WORKAROUNDS[1]:
        previous = os.getcwd()
        os.chdir(_package_dir(model))
        try:
            yield
        finally:
            os.chdir(previous)
        return
    original = torch.load

    def load_on_cpu(f: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("map_location", None)
        return original(f, *args[1:], map_location="cpu", **kwargs)

    with rebound(model, "load", load_on_cpu):
        yield


def probe_pretrained_psnr(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """The grading script's evaluation: `load_pretrained_model()`, then predict the validation set.

    When loading fails, each of `LOAD_WORKAROUNDS` is tried on a fresh `Model()`; the first that loads
    is kept (`workaround`) and the validation set is predicted with it, so the PSNR of a model whose
    weights load only by hand is still measured (and labelled as such by the parent)."""
    instance, init, load = _new_model(model, pretrained=True)
    record: dict[str, Any] = {
        "init": init,
        "load": load,
        "predict": None,
        "bestmodel_size": _bestmodel_size(model),
        "workaround": None,
    }
    if init["ok"] and not load["ok"]:
        for workaround in LOAD_WORKAROUNDS:
            retried, _ = _attempt(model, model.Model)
            if retried is None:
                break
            with _load_workaround(model, workaround):
                _, fixed = _attempt(model, lambda r=retried: r.load_pretrained_model())
            if fixed["ok"]:
                instance, record["workaround"] = retried, workaround
                break
    if init["ok"] and (load["ok"] or record["workaround"]):
        record["output"], record["predict"] = _attempt(
            model, lambda: _predict_batched(instance, args["input"])
        )
    return record


def probe_training_gain(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Predictions of a fresh `Model()` on `val_input` before and after one epoch on a train subset."""
    instance, init, _ = _new_model(model, pretrained=False)
    record: dict[str, Any] = {"init": init, "before": None, "train": None, "after": None}
    if not init["ok"]:
        return record
    val = args["val_input"]
    record["before_output"], record["before"] = _attempt(model, lambda: _predict_batched(instance, val))
    if not record["before"]["ok"]:
        return record
    _, record["train"] = _attempt(
        model, lambda: instance.train(args["train_input"], args["train_target"], num_epochs=1)
    )
    if record["train"]["ok"]:
        record["after_output"], record["after"] = _attempt(model, lambda: _predict_batched(instance, val))
    return record


def probe_steps(model: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Several probes of this module in one child (see `harness.checks.model_steps.runner.run_steps`).

    `args["steps"]` lists {"probe": function name, "args": its arguments, "wall_s": its time limit}.
    Before each step: a marker line `<args["marker"]> <index>` on stderr, SIGALRM armed for the step's
    wall time (its default action ends the process), and the seeds reset, so a step's value does not
    depend on the steps run before it. An exception that escapes a probe costs only its step: the step
    has `failure` {"error": `_escaped`'s line} instead of a value. Whose fault that is, this process
    does not say (the submission runs in it): the parent decides (`runner.fault_of`).
    """
    values = []
    for index, step in enumerate(args["steps"]):
        probe = step["probe"]
        if not probe.startswith("probe_") or probe == "probe_steps" or probe not in globals():
            raise ValueError(f"{probe!r} is not a probe of {__name__}")
        os.write(2, f"\n{args['marker']} {index}\n".encode())
        torch.manual_seed(args.get("seed", 0))
        random.seed(args.get("seed", 0))
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(math.ceil(step["wall_s"]))
        start = time.perf_counter()
        try:
            value, failure = globals()[probe](model, step["args"]), None
        except Exception as exc:  # escaped the probe's own try/excepts: costs only this step
            value, failure = None, {"error": _escaped(exc, probe, _package_dir(model))}
        seconds = time.perf_counter() - start
        signal.alarm(0)
        values.append({"value": value, "seconds": seconds, "failure": failure})
    return {"steps": values}


def _escaped(exc: Exception, probe: str, package_dir: Path) -> str:
    """An exception that escaped `probe`, in one line: `describe_exception`'s, which names the
    submission's file and line when one is on the stack, else the probe and the innermost line that
    raised ("escaped probe_train; raised at harness/checks/model_steps/probe.py:120"), so that a bug
    of the harness is told apart in the report by whoever reads it (not by this process, where the
    submission runs)."""
    error = describe_exception(exc, package_dir)
    if submission_frame(exc, package_dir) is not None:
        return error
    innermost = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{error} (escaped {probe}; raised at {_harness_relative(innermost.filename)}:{innermost.lineno})"


def _harness_relative(filename: str) -> str:
    """`filename` from the harness package's folder (`harness/...`), or its base name outside it."""
    path = Path(filename)
    return "/".join(path.parts[path.parts.index("harness") :]) if "harness" in path.parts else path.name
