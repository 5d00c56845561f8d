"""Child side of the `blocks.*` checks: run the submission's blocks on the parent's inputs, record all.

One probe per block kind, called by `harness.sandbox.run_probe` with the grid the parent built
(`harness.checks.blocks.grids`): seeded inputs and output gradients, and each block's constructor call in
PyTorch's terms. Nothing is judged here; every configuration runs in its own try/except so one crash
costs one row. Per configuration the record holds, as plain tensors and strings:

- the call that built the block and, if PyTorch's call failed, the adapter's reason (`block_adapters`);
- the parameters and their gradients read before any backward (`params0`), after `backward(g1)`
  (`params1`) and after a second `forward(x)`, `backward(g2)` (`params2`), so the parent checks both the
  gradients and their accumulation;
- the output and the input gradient of the first pass;
- whether forward or backward changed the input, or backward changed `grad_output`, in place;
- on failure, the stage (`"forward"`, `"backward"`, ...) and the exception as one line.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from harness.checks.blocks.adapters import (
    AdapterFailure,
    Built,
    ConstructorCall,
    ParameterList,
    Unsupported,
    argument_names,
    build,
    find_class,
    read_parameters,
    signature_text,
)
from harness.probes.capture import describe_exception, plain
from harness.probes.deadline import OverBudget, deadline
from harness.probes.rebinding import rebound

CONFIG_SHARE = 0.25
"""The largest share of the child's wall-time limit one configuration may take."""

RESERVE_SHARE = 0.1
"""The share of the wall-time limit kept for writing the result after the last configuration."""

Record = dict[str, Any]
Exercise = Callable[[type, str, Mapping[str, Any], ModuleType], Record]


class StageFailure(Exception):
    """A configuration stopped at `stage`: `message` is the one-line reason, `record` what came before."""

    def __init__(self, stage: str, message: str, record: Record | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.record = record or {}


def probe_conv2d(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "conv2d", _layer_exercise("call"))


def probe_transpose_conv2d(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "transpose_conv2d", _layer_exercise("call"))


def probe_nearest_upsampling(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "nearest_upsampling", _layer_exercise("call"))


def probe_relu(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "relu", _layer_exercise("call"))


def probe_sigmoid(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "sigmoid", _layer_exercise("call"))


def probe_upsampling(model: ModuleType, args: Mapping[str, Any]) -> Record:
    """`Upsampling` is nearest-up + conv when it takes a scale factor, else a transposed convolution
    (always when it subclasses the submission's own): `mode` says which one was exercised, and each
    configuration carries a call for both (`scale_call`, `transposed_call`). When `Upsampling` is
    merely another name for one of the two other classes, only `alias_of` is reported."""
    cls, name = find_class(model, "upsampling")
    transposed, transposed_name = find_class(model, "transpose_conv2d")
    nearest_cls, nearest_name = find_class(model, "nearest_upsampling")
    if cls is not None and cls in (transposed, nearest_cls):
        return {
            "class": name,
            "alias_of": transposed_name if cls is transposed else nearest_name,
            "configs": [],
        }
    subclass = cls is not None and transposed is not None and issubclass(cls, transposed)
    nearest = cls is not None and not subclass and "scale_factor" in argument_names(cls)
    result = _probe_each(
        model, args, "upsampling", _layer_exercise("scale_call" if nearest else "transposed_call")
    )
    return {**result, "mode": "nearest+conv" if nearest else "transposed"}


def probe_mse(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "mse", _exercise_loss)


def probe_sgd(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "sgd", _exercise_optimizer)


def probe_sequential(model: ModuleType, args: Mapping[str, Any]) -> Record:
    return _probe_each(model, args, "sequential", _exercise_chain)


def _probe_each(model: ModuleType, args: Mapping[str, Any], kind: str, exercise: Exercise) -> Record:
    """Find the class for `kind` and run `exercise` on every configuration, one failure per row.

    With `args["deadline"]` (a `time.time()` the parent's wall-time limit ends at) each configuration
    gets at most `CONFIG_SHARE` of `args["wall_s"]`, and the configurations left when the time is
    nearly spent are reported as not run, so a slow block still returns every row it finished.
    """
    cls, name = find_class(model, kind)
    if cls is None:
        public = sorted(n for n, v in vars(model).items() if isinstance(v, type) and not n.startswith("_"))
        return {"class": None, "classes": public, "configs": []}
    records = []
    for config in args["configs"]:
        budget = _budget(args)
        if budget is not None and budget <= 0:
            records.append(
                {"status": "error", "stage": "time", "error": "not run: the block's time was spent"}
            )
            continue
        try:
            with deadline(budget or 0):
                records.append(_exercise_one(exercise, cls, name, config, model))
        except OverBudget as exc:
            records.append({"status": "error", "stage": "time", "error": str(exc)})
    return {"class": name, "signature": signature_text(cls), "configs": records}


def _exercise_one(
    exercise: Exercise, cls: type, name: str, config: Mapping[str, Any], model: ModuleType
) -> Record:
    """`exercise` on one configuration with `torch.empty` filling its memory with NaN, then, when that
    gave a NaN or infinity, once more with it filling zeros: a block whose result is finite only then
    reads memory `empty()` leaves uninitialised (`reads_uninitialised`), and its score would change
    from run to run with whatever that memory held. (The second run fills zeros rather than leaving
    the memory as it is: freed memory of the first run still holds its NaN.) The first (poisoned)
    record is kept."""
    with _uninitialised_as(model, float("nan")):
        record = _exercise_once(exercise, cls, name, config, model)
    if _has_non_finite(record):
        with _uninitialised_as(model, 0.0):
            if not _has_non_finite(_exercise_once(exercise, cls, name, config, model)):
                record["reads_uninitialised"] = True
    return record


@contextmanager
def _uninitialised_as(model: ModuleType, value: float) -> Iterator[None]:
    """`torch.empty` (and every name of the submission's modules bound to it) returning floating
    tensors filled with `value` (NaN: what uninitialised memory may hold), inside the block."""
    original = torch.empty

    def empty_filled(*args: Any, **kwargs: Any) -> torch.Tensor:
        tensor = original(*args, **kwargs)
        return tensor.fill_(value) if tensor.is_floating_point() else tensor

    with rebound(model, "empty", empty_filled):
        yield


def _has_non_finite(value: Any) -> bool:
    """Whether any floating tensor in a record (nested lists and dicts) holds a NaN or an infinity."""
    if isinstance(value, torch.Tensor):
        return value.is_floating_point() and not bool(value.isfinite().all())
    if isinstance(value, Mapping):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False


def _exercise_once(
    exercise: Exercise, cls: type, name: str, config: Mapping[str, Any], model: ModuleType
) -> Record:
    """`exercise` on one configuration, its failure as a record."""
    try:
        return {"status": "ok", **exercise(cls, name, config, model)}
    except Unsupported as exc:
        return {"status": "unsupported", "stage": "constructor", "error": str(exc)}
    except StageFailure as failure:
        return {**failure.record, "status": "error", "stage": failure.stage, "error": failure.message}
    except Exception as exc:  # the submission raised outside any stage (e.g. while reading a result)
        return {"status": "error", "stage": "setup", "error": describe_exception(exc, _package_dir(model))}


def _budget(args: Mapping[str, Any]) -> float | None:
    """Seconds the next configuration may take (None: no limit given; <= 0: none left)."""
    if not isinstance(args.get("deadline"), float | int) or not isinstance(args.get("wall_s"), float | int):
        return None
    left = args["deadline"] - time.time() - RESERVE_SHARE * args["wall_s"]
    return min(left, CONFIG_SHARE * args["wall_s"])


def _layer_exercise(call_key: str) -> Exercise:
    """Build the block from `config[call_key]`, then run it as `_exercise_block` does."""

    def exercise(cls: type, name: str, config: Mapping[str, Any], model: ModuleType) -> Record:
        package_dir = _package_dir(model)
        built = _build(cls, name, config[call_key], config.get("optional", ()), package_dir)
        record = _built_data(built)
        record.update(_exercise_block(built.block, config, package_dir, record))
        return record

    return exercise


def _exercise_block(block: Any, config: Mapping[str, Any], package_dir: Path, record: Record) -> Record:
    """forward(x), backward(g1), forward(x), backward(g2), reading the parameters in between."""
    x, g1, g2 = config["x"], config["g1"], config["g2"]
    record["params0"] = _reading(block, package_dir)
    x_in, g_in = x.clone(), g1.clone()
    with _stage("forward", record, package_dir):
        record["output"] = _tensor_result(block.forward(x_in), "forward")
    record["input_changed_by_forward"] = not torch.equal(x_in, x)
    x_after_forward = x_in.clone()
    with _stage("backward", record, package_dir):
        record["grad_input"] = _gradient_result(block.backward(g_in), record)
    record["input_changed_by_backward"] = not torch.equal(x_in, x_after_forward)
    record["grad_output_changed"] = not torch.equal(g_in, g1)
    record["params1"] = _reading(block, package_dir)
    with _stage("second forward", record, package_dir):
        block.forward(x.clone())
    with _stage("second backward", record, package_dir):
        block.backward(g2.clone())
    record["params2"] = _reading(block, package_dir)
    return record


def _exercise_loss(cls: type, name: str, config: Mapping[str, Any], model: ModuleType) -> Record:
    """`forward(prediction, target)` then `backward()`; a backward that requires an argument is given
    `tensor(1.)`, the gradient of the loss with respect to itself."""
    package_dir = _package_dir(model)
    built = _build(cls, name, config["call"], (), package_dir)
    record = _built_data(built)
    prediction, target = config["x"], config["target"]
    p_in, t_in = prediction.clone(), target.clone()
    with _stage("forward", record, package_dir):
        loss = built.block.forward(p_in, t_in)
        number = isinstance(loss, int | float) and not isinstance(loss, bool)
        record["output"] = torch.tensor(float(loss)) if number else _tensor_result(loss, "forward")
    with _stage("backward", record, package_dir):
        if _requires_argument(built.block.backward):
            record["backward_call"] = "backward(tensor(1.))"
            grad = built.block.backward(torch.tensor(1.0))
        else:
            record["backward_call"] = "backward()"
            grad = built.block.backward()
        record["grad_input"] = _gradient_result(grad, record)
    record["input_changed_by_forward"] = not torch.equal(p_in, prediction)
    record["target_changed"] = not torch.equal(t_in, target)
    record["params0"] = _reading(built.block, package_dir)
    return record


def _exercise_optimizer(cls: type, name: str, config: Mapping[str, Any], model: ModuleType) -> Record:
    """Steps of the submission's SGD on [parameter, gradient] lists, as a `param()` would give them.

    Each step writes that step's gradients into the gradient tensors in place, calls `step()` and
    records the parameters (read back from the lists, so an SGD that replaces `pair[0]` works too).
    The lists come as a `ParameterList`, which also answers `param()`, so `SGD(model, lr)` works; an
    SGD that takes no parameters in its constructor gets them as `step(params)`.
    """
    package_dir = _package_dir(model)
    pairs = ParameterList([[p.clone(), torch.zeros_like(p)] for p in config["initial"]])
    call_args = dict(config["call"])
    call_args["values"] = [
        pairs if n == "params" else v for n, v in zip(call_args["names"], call_args["values"], strict=True)
    ]
    built = _build(cls, name, call_args, config.get("optional", ()), package_dir, {"params": lambda: pairs})
    record = _built_data(built)
    record["steps"] = []
    for index, grads in enumerate(config["grads"], start=1):
        for pair, grad in zip(pairs, grads, strict=True):
            pair[1].copy_(grad)
        with _stage(f"step {index}", record, package_dir):
            if "params" in built.dropped:
                built.block.step(pairs)
            else:
                built.block.step()
            record["steps"].append([_tensor_result(pair[0], f"step {index}") for pair in pairs])
    return record


def _exercise_chain(cls: type, name: str, config: Mapping[str, Any], model: ModuleType) -> Record:
    """A `Sequential` of the submission's own blocks, run like one block.

    Besides `Sequential.param()` the record holds each layer's own parameters before and after
    (`layers0`, `layers2`), so the parent can judge the chain's math even when `Sequential.param()`
    raises.
    """
    package_dir = _package_dir(model)
    layers = []
    for layer in config["layers"]:
        layer_cls, layer_name = find_class(model, layer["kind"])
        if layer_cls is None:
            raise StageFailure("constructor", f"the chain needs a {layer['kind']} block and there is none")
        built = _build(layer_cls, layer_name, layer["call"], (), package_dir)
        layers.append(built.block)
    record: Record = {}
    try:
        block = cls(*layers)
        record.update(call=f"{name}(*layers)", adapter=None)
    except Exception as exc:  # the student's constructor: try the list convention next
        first = describe_exception(exc, package_dir)
        try:
            block = cls(layers)
        except Exception:  # neither convention: report the PyTorch-style failure
            raise StageFailure("constructor", f"{name}(*layers) raised {first}") from None
        record.update(
            call=f"{name}([layers])", adapter=f"{name}(*layers) raised {first}; called {name}([layers])"
        )
    record["layers0"] = [_reading(layer, package_dir) for layer in layers]
    _exercise_block(block, config, package_dir, record)
    record["layers2"] = [_reading(layer, package_dir) for layer in layers]
    return record


def _build(
    cls: type,
    name: str,
    call_args: Mapping[str, Any],
    optional: Any,
    package_dir: Path,
    substitutes: Mapping[str, Callable[[], Any]] | None = None,
) -> Built:
    try:
        return build(cls, name, ConstructorCall.from_args(call_args), set(optional), package_dir, substitutes)
    except AdapterFailure as exc:
        raise StageFailure("constructor", str(exc)) from None


def _built_data(built: Built) -> Record:
    return {"call": built.call, "adapter": built.adapter}


def _reading(block: Any, package_dir: Path) -> Record:
    """The block's parameters as plain data (see `ParameterReading`)."""
    try:
        return read_parameters(block, package_dir).as_data()
    except Exception as exc:  # the submission raised while its parameters were copied (a tensor subclass)
        return {
            "values": [],
            "grads": [],
            "layout": "attributes",
            "error": f"raised {describe_exception(exc, package_dir)}",
        }


def _tensor_result(value: Any, stage: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise StageFailure(stage, f"{stage} returned {type(value).__name__}, not a tensor")
    return plain(value)


def _gradient_result(value: Any, record: Record) -> torch.Tensor:
    """What `backward` returned as the input gradient. The statement allows "a tensor or a tuple of
    tensors": from a tuple (or list) the first element is taken, and the form is noted in `forms`."""
    if isinstance(value, tuple | list) and value and isinstance(value[0], torch.Tensor):
        record.setdefault("forms", []).append(
            f"backward returns a {type(value).__name__}: its first element is the input gradient"
        )
        value = value[0]
    return _tensor_result(value, "backward")


@contextmanager
def _stage(stage: str, record: Record, package_dir: Path) -> Iterator[None]:
    """Turn an exception of the submission inside into a StageFailure carrying the record so far."""
    try:
        yield
    except StageFailure as failure:
        raise StageFailure(failure.stage, failure.message, record) from None
    except Exception as exc:
        raise StageFailure(stage, describe_exception(exc, package_dir), record) from None


def _requires_argument(method: Callable[..., Any]) -> bool:
    """Whether `method` cannot be called without a positional argument."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.default is p.empty and p.kind in kinds for p in parameters)


def _package_dir(model: ModuleType) -> Path:
    return Path(model.__file__).resolve().parent if getattr(model, "__file__", None) else Path(".")
