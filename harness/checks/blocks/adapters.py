"""Building a submission's blocks the way graders do, and the documented adapter for when that fails.

Graders instantiate a block with PyTorch's constructor arguments (`Conv2d(3, 8, kernel_size=5)`) and
read its parameters through `param()`, a list of (parameter, gradient) pairs. Real 2022 submissions
deviate in ways that say nothing about whether their math is right, so after saying exactly why the
PyTorch-style use failed, the adapter tries, in this order, and reports the rule it used:

1. Class names: the statement's name first, then the variants in `CLASS_NAMES`.
2. Constructor: PyTorch's call; then the same values bound by name through the signature, each
   argument under any of its `ARGUMENT_SYNONYMS` (`in_ch`, `c_in`, `kernel`, `k_sz`, `use_bias`, `eta`,
   and `model`/`net` for SGD's parameters), extras with defaults (init options) left alone and required
   ones from `EXTRA_VALUES` (`device="cpu"`, `is_cuda=False`); then every value by position, in
   PyTorch's order.
3. Parameters: `param()` as pairs (tuples or lists, as the statement asks); then, flagged as adapter
   use, parameter objects with a value and a gradient attribute, one list of pairs per layer (a
   Sequential), a flat list `[p1, g1, p2, g2, ...]`,
   and, when `param()` raises, attributes named like `weight|w|W` and `bias|b` with gradients named
   like `grad_weight|dw|weight_grad` (or the `.grad` of a parameter object).

A block whose signature has no way at all to take an optional setting (no argument by any known name,
no `**kwargs`) is reported as not supporting it rather than as wrong.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from harness.probes.capture import describe_exception, plain

CLASS_NAMES: Mapping[str, tuple[str, ...]] = {
    "conv2d": ("Conv2d", "Conv2D"),
    "transpose_conv2d": ("TransposeConv2d", "ConvTranspose2d", "TransposedConv2d", "TransposeConv2D"),
    "nearest_upsampling": ("NearestUpsampling", "NNUpsampling", "Upsample", "NearestUpsample"),
    "upsampling": ("Upsampling",),
    "relu": ("ReLU", "Relu"),
    "sigmoid": ("Sigmoid",),
    "mse": ("MSE", "MSELoss"),
    "sgd": ("SGD",),
    "sequential": ("Sequential",),
}
"""Per block kind: the statement's class name first, then variants seen in real submissions."""

ARGUMENT_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "in_channels": (
        "in_channels",
        "in_ch",
        "c_in",
        "in_c",
        "cin",
        "ch_in",
        "n_in",
        "in_chan",
        "in_channel",
        "input_channels",
        "channels_in",
        "in_planes",
        "n_channels_in",
    ),
    "out_channels": (
        "out_channels",
        "out_ch",
        "c_out",
        "out_c",
        "cout",
        "ch_out",
        "n_out",
        "out_chan",
        "out_channel",
        "output_channels",
        "channels_out",
        "out_planes",
        "n_filters",
        "filters",
    ),
    "kernel_size": (
        "kernel_size",
        "kernel",
        "k_sz",
        "k_size",
        "ksize",
        "ks",
        "k",
        "kernel_shape",
        "filter_size",
        "kernel_dim",
    ),
    "stride": ("stride", "strides", "s"),
    "padding": ("padding", "pad", "p", "paddings", "pad_size", "padding_size"),
    "dilation": ("dilation", "dilations", "dil", "d", "dilation_rate"),
    "output_padding": ("output_padding", "out_padding", "out_pad", "output_pad"),
    "bias": ("bias", "use_bias", "with_bias", "has_bias", "add_bias", "b"),
    "scale_factor": (
        "scale_factor",
        "scale",
        "factor",
        "upscale",
        "upscale_factor",
        "up_factor",
        "upsampling_factor",
        "size_factor",
    ),
    "params": (
        "params",
        "parameters",
        "param",
        "param_list",
        "parameter_list",
        "model",
        "module",
        "net",
        "network",
        "model_params",
    ),
    "lr": ("lr", "eta", "learning_rate", "step_size", "alpha", "learn_rate", "rate"),
    "momentum": ("momentum", "mu", "beta", "m"),
    "dampening": ("dampening", "damp"),
    "weight_decay": ("weight_decay", "wd", "decay", "l2", "lambda_", "lmbda", "weight_decay_rate"),
    "nesterov": ("nesterov", "use_nesterov"),
}
"""Per PyTorch argument name: the names submissions gave it (compared ignoring case and underscores)."""

EXTRA_VALUES: Mapping[str, Any] = {
    "device": "cpu",
    "iscuda": False,
    "cuda": False,
    "usecuda": False,
    "gpu": False,
    "dtype": torch.float32,
}
"""Values for extra constructor arguments a submission requires but PyTorch's call does not have."""

VALUE_ATTRIBUTES = ("value", "data", "param", "tensor", "weight", "w", "p")
GRADIENT_ATTRIBUTES = ("grad", "gradient", "g", "dvalue", "d")
WEIGHT_ATTRIBUTES = ("weight", "w", "weights", "kernel", "filters")
BIAS_ATTRIBUTES = ("bias", "b", "biases")
WEIGHT_GRADIENT_ATTRIBUTES = (
    "grad_weight",
    "weight_grad",
    "dweight",
    "dw",
    "grad_w",
    "w_grad",
    "weight_gradient",
    "gradient_weight",
    "dl_dw",
)
BIAS_GRADIENT_ATTRIBUTES = (
    "grad_bias",
    "bias_grad",
    "dbias",
    "db",
    "grad_b",
    "b_grad",
    "bias_gradient",
    "gradient_bias",
    "dl_db",
)


def normalised(name: str) -> str:
    """`name` compared the way the adapter compares argument names: lower case, no underscores."""
    return name.lower().replace("_", "")


class AdapterFailure(Exception):
    """Neither PyTorch's call nor any adapter rule produced a working block; the message says why."""


class Unsupported(Exception):
    """The block has no way to take an optional setting the configuration uses (no argument for it)."""


@dataclass(frozen=True)
class ConstructorCall:
    """A constructor call in PyTorch's terms.

    `values` holds every argument under its PyTorch name, in PyTorch's order, defaults included (the
    positional fallback needs them); the first `positional` are passed by position and `keywords` by
    name in PyTorch's call. `droppable` names values a probe can supply elsewhere (SGD's parameters,
    passed to `step` instead) so an adapter may leave them out.
    """

    values: Mapping[str, Any]
    positional: int
    keywords: tuple[str, ...]
    droppable: frozenset[str] = frozenset()

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ConstructorCall:
        """The call described by a probe's arguments (plain data sent by the parent)."""
        return cls(
            values=dict(zip(args["names"], args["values"], strict=True)),
            positional=args["positional"],
            keywords=tuple(args["keywords"]),
            droppable=frozenset(args.get("droppable", ())),
        )

    def as_args(self) -> dict[str, Any]:
        """Plain data for a probe's arguments (the inverse of `from_args`)."""
        return {
            "names": list(self.values),
            "values": list(self.values.values()),
            "positional": self.positional,
            "keywords": list(self.keywords),
            "droppable": sorted(self.droppable),
        }

    def torch_style(self) -> tuple[list[Any], dict[str, Any]]:
        """The positional and keyword arguments of PyTorch's call."""
        names = list(self.values)
        return [self.values[n] for n in names[: self.positional]], {k: self.values[k] for k in self.keywords}

    def torch_call(self, class_name: str) -> str:
        """PyTorch's call as a student would write it: `Conv2d(3, 8, kernel_size=5)`; a value a probe
        supplies later (SGD's parameters) shows as its name, `SGD(params, lr=0.1)`, not `SGD(None, ...)`."""
        args, kwargs = self.torch_style()
        names = list(self.values)[: self.positional]
        shown = [
            _Named(n) if v is None and n in self.droppable else v for n, v in zip(names, args, strict=True)
        ]
        return self.render(class_name, shown, kwargs)

    def render(
        self, class_name: str, args: Iterable[Any] = (), kwargs: Mapping[str, Any] | None = None
    ) -> str:
        """`Conv2d(3, 8, kernel_size=5)`: a call as a student would write it."""
        parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in (kwargs or {}).items()]
        return f"{class_name}({', '.join(parts)})"


@dataclass
class Built:
    """A block instance, the call that made it, and why the adapter was needed (None: it was not)."""

    block: Any
    call: str
    adapter: str | None = None
    dropped: frozenset[str] = frozenset()


NEAR_NAME_CUTOFF = 0.85
"""How close (difflib ratio of the lower-case names without underscores) a class name must be to count
as the statement's name misspelt (`NearestUpSampling`, `Sigmoide`)."""

CHANNEL_ARGUMENTS = frozenset({"in_channels", "out_channels", "kernel_size"})
"""Constructor arguments that make a block a convolution, whatever its name (an `Upsample` taking them
is a transposed convolution)."""


def near_class_name(wanted: str, names: Iterable[str]) -> str | None:
    """The one of `names` that is `wanted` up to case and underscores, or else a near miss, or None."""
    names = list(names)
    key = normalised(wanted)
    same = [name for name in names if normalised(name) == key]
    if same:
        return same[0]
    close = difflib.get_close_matches(key, [normalised(n) for n in names], n=1, cutoff=NEAR_NAME_CUTOFF)
    return next((name for name in names if close and normalised(name) == close[0]), None)


def find_class(model: ModuleType, kind: str) -> tuple[type | None, str | None]:
    """The submission's class for a block kind and the name it was found under (None, None if absent).

    Names in `CLASS_NAMES` order first, then the statement's name up to case or a near miss
    (`ReLu`, `NearestUpSampling`). A nearest-upsampling name whose constructor takes channels and a
    kernel size is a transposed convolution: it is routed to `transpose_conv2d`, not to its name's kind.
    """
    classes = {name: value for name, value in vars(model).items() if isinstance(value, type)}
    convolution_like = {name for name, cls in classes.items() if argument_names(cls) >= CHANNEL_ARGUMENTS}
    candidates = [name for name in CLASS_NAMES[kind] if name in classes]
    near = near_class_name(CLASS_NAMES[kind][0], [n for n in classes if n not in _claimed_names(kind)])
    candidates += [near] if near is not None else []
    if kind == "nearest_upsampling":
        candidates = [name for name in candidates if name not in convolution_like]
    if kind == "transpose_conv2d":
        routed = [n for n in CLASS_NAMES["nearest_upsampling"] if n in classes and n in convolution_like]
        candidates += routed
    return (classes[candidates[0]], candidates[0]) if candidates else (None, None)


def _claimed_names(kind: str) -> set[str]:
    """Every name `CLASS_NAMES` gives another kind: a near miss is never one of those."""
    return {name for other, names in CLASS_NAMES.items() if other != kind for name in names}


def name_form(kind: str, found: str) -> str | None:
    """How the class name `found` differs from the statement's for `kind`: None when it is the same,
    "misspelt" for a case difference or near miss (the statement's block, named as such in a report),
    "routed" for a nearest-upsampling name routed by its constructor, else "variant" (adapter use)."""
    statement = CLASS_NAMES[kind][0]
    if found == statement:
        return None
    if kind == "transpose_conv2d" and found in CLASS_NAMES["nearest_upsampling"]:
        return "routed"
    return "misspelt" if near_class_name(statement, [found]) else "variant"


def argument_names(cls: type) -> set[str]:
    """The PyTorch names the constructor's arguments stand for (through `ARGUMENT_SYNONYMS`)."""
    try:
        names = {normalised(p) for p in inspect.signature(cls).parameters}
    except (TypeError, ValueError):
        return set()
    return {
        canonical
        for canonical, synonyms in ARGUMENT_SYNONYMS.items()
        if names & {normalised(s) for s in synonyms}
    }


def signature_text(cls: type) -> str:
    """The constructor's signature as `inspect` shows it, or a note that it could not be read."""
    found = _signature(cls)
    return str(found) if found is not None else "(signature unavailable)"


def build(
    cls: type,
    class_name: str,
    call: ConstructorCall,
    optional: Collection[str],
    package_dir: Path | str,
    substitutes: Mapping[str, Callable[[], Any]] | None = None,
) -> Built:
    """Instantiate `cls` as graders do; on failure through the adapter (see the module docstring).

    `optional` names settings a submission may lack: when the signature cannot take one the call uses,
    `Unsupported` is raised instead of trying. `substitutes` gives, per PyTorch name, a factory for the
    value to pass when the signature names the argument differently enough to need it (SGD's `model`).
    Raises `AdapterFailure` with the signature found and every call tried.
    """
    signature = _signature(cls)
    if signature is not None:
        for option in (o for o in call.keywords if o in optional):
            if _parameter_for(signature, option) is None and not _takes_var_keyword(signature):
                raise Unsupported(f"{class_name} has no {option} argument")
    args, kwargs = call.torch_style()
    torch_call = call.render(class_name, args, kwargs)
    try:
        return Built(cls(*args, **kwargs), torch_call)
    except Exception as exc:  # the student's constructor: any exception is a finding
        first_error = describe_exception(exc, package_dir)
    shown = f"{class_name}{signature}" if signature is not None else f"{class_name} (signature unavailable)"
    tried = []
    for rendered, make, dropped in _adapted_calls(cls, class_name, call, signature, substitutes or {}):
        if rendered == torch_call or rendered in tried:
            continue
        tried.append(rendered)
        try:
            block = make()
        except Exception:  # an adapter rule that does not fit: try the next one
            continue
        reason = f"{torch_call} raised {first_error}; signature {shown}; called {rendered} instead"
        return Built(block, rendered, reason, dropped)
    also = f"; also tried {', '.join(tried)}" if tried else ""
    raise AdapterFailure(f"{torch_call} raised {first_error}; signature {shown}{also}")


def _adapted_calls(
    cls: type,
    class_name: str,
    call: ConstructorCall,
    signature: inspect.Signature | None,
    substitutes: Mapping[str, Callable[[], Any]],
):
    """(rendered call, thunk, dropped names) for each adapter rule that can express `call`: by name
    through the synonyms (unless that is PyTorch's call again), then by position."""
    if signature is not None:
        bound = _bind_by_name(signature, call, substitutes)
        if bound is not None and (bound[1] or any(name not in call.values for name in bound[0])):
            kwargs, dropped = bound
            yield call.render(class_name, (), kwargs), lambda: cls(**kwargs), dropped
    values = _positional_values(signature, call)
    if values is not None:
        yield call.render(class_name, values), lambda: cls(*values), frozenset()


def _positional_values(signature: inspect.Signature | None, call: ConstructorCall) -> list[Any] | None:
    """`call`'s values in PyTorch's order, cut to what the signature takes by position (None if a
    value PyTorch's call sets explicitly would be cut off)."""
    values = list(call.values.values())
    if signature is None or any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()):
        return values
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    count = sum(p.kind in kinds for p in signature.parameters.values())
    names = list(call.values)
    explicit = set(call.keywords) | set(names[: call.positional])
    if any(name in explicit for name in names[count:]):
        return None
    return values[:count]


def _bind_by_name(
    signature: inspect.Signature, call: ConstructorCall, substitutes: Mapping[str, Callable[[], Any]]
) -> tuple[dict[str, Any], frozenset[str]] | None:
    """Keyword arguments naming `call`'s values by the signature's own names, or None if impossible."""
    kwargs: dict[str, Any] = {}
    unbound = dict(call.values)
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        canonical = _canonical_name(parameter.name, unbound)
        if canonical is not None:
            value = unbound.pop(canonical)
            if canonical in substitutes and normalised(parameter.name) != normalised(canonical):
                value = substitutes[canonical]()
            if parameter.kind is parameter.POSITIONAL_ONLY:
                return None
            kwargs[parameter.name] = value
        elif normalised(parameter.name) in EXTRA_VALUES:
            kwargs[parameter.name] = EXTRA_VALUES[normalised(parameter.name)]
        elif parameter.default is parameter.empty:
            return None
    explicit = set(call.keywords) | set(list(call.values)[: call.positional])
    dropped = frozenset(name for name in unbound if name in call.droppable)
    missing = [name for name in unbound if name in explicit and name not in dropped]
    if missing and not _takes_var_keyword(signature):
        return None
    kwargs.update({name: unbound[name] for name in missing})
    return kwargs, dropped


def _canonical_name(parameter_name: str, candidates: Mapping[str, Any]) -> str | None:
    """The PyTorch name among `candidates` that `parameter_name` is a synonym of."""
    key = normalised(parameter_name)
    for canonical in candidates:
        synonyms = ARGUMENT_SYNONYMS.get(canonical, (canonical,))
        if key in {normalised(s) for s in synonyms}:
            return canonical
    return None


def _parameter_for(signature: inspect.Signature, canonical: str) -> inspect.Parameter | None:
    synonyms = {normalised(s) for s in ARGUMENT_SYNONYMS.get(canonical, (canonical,))}
    return next((p for p in signature.parameters.values() if normalised(p.name) in synonyms), None)


def _takes_var_keyword(signature: inspect.Signature) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


def _signature(cls: type) -> inspect.Signature | None:
    try:
        return inspect.signature(cls)
    except (TypeError, ValueError):
        return None


class _Named:
    """A placeholder shown by its name in a rendered call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _short(value: Any) -> str:
    if isinstance(value, ParameterList):
        return "params"
    return repr(value)


class ParameterList(list):
    """The (parameter, gradient) pairs handed to an optimizer: a list, that also answers `param()`.

    Passes for both conventions seen in submissions: `SGD(model.param(), lr)` iterates it, and
    `SGD(model, lr)` calls `model.param()` (or `parameters()`) on it at every step.
    """

    def param(self) -> list:
        return self

    def parameters(self) -> list:
        return self


@dataclass
class ParameterReading:
    """A block's parameters and gradients at one moment, as plain copies, and how they were read.

    `layout`: "pairs" (what the statement asks); "nested" (one list of pairs per layer), "objects" or
    "flat" (adapter use); "attributes" when
    `param()` failed and the values were found by attribute name (possibly none); `error` says how
    `param()` failed ("raised TypeError: ... (at model.py:12)", "returned None, expected ...").
    `method` is the method read (`params` when the block has no `param`, a form the statement's
    graders accept); `placeholders` counts `(None, None)` entries a parameterless block listed, left out.
    """

    values: list[torch.Tensor] = field(default_factory=list)
    grads: list[torch.Tensor | None] = field(default_factory=list)
    layout: str = "pairs"
    error: str | None = None
    method: str = "param"
    placeholders: int = 0

    def as_data(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "grads": self.grads,
            "layout": self.layout,
            "error": self.error,
            "method": self.method,
            "placeholders": self.placeholders,
        }


class ParameterFormatError(TypeError):
    """`param()` returned something that is not a list of (parameter, gradient) pairs."""


def read_parameters(block: Any, package_dir: Path | str) -> ParameterReading:
    """Call `block.param()` (or `params()` when there is no `param`) and copy what it returns; fall back
    on named attributes when it fails."""
    method = "params" if not hasattr(block, "param") and callable(getattr(block, "params", None)) else "param"
    try:
        entries = list(_entries(getattr(block, method)()))
        kept = [e for e in entries if not _is_placeholder(e)]
        pairs, layout = _normalise_entries(kept) if kept or not entries else ([], "pairs")
        return ParameterReading(
            [plain(v) for v, _ in pairs],
            [_plain_or_none(g) for _, g in pairs],
            layout,
            method=method,
            placeholders=len(entries) - len(kept),
        )
    except ParameterFormatError as exc:
        error = str(exc)
    except Exception as exc:  # the student's param(): any exception is a finding
        error = f"raised {describe_exception(exc, package_dir)}"
    pairs = _pairs_from_attributes(block)
    return ParameterReading(
        [plain(v) for v, _ in pairs], [_plain_or_none(g) for _, g in pairs], "attributes", error, method
    )


def _entries(returned: Any) -> Iterable[Any]:
    """The entries of what `param()` returned (a mapping's values), or ParameterFormatError for None."""
    if returned is None:
        raise ParameterFormatError("returned None, expected a list of (parameter, gradient) pairs")
    return returned.values() if isinstance(returned, Mapping) else returned


def _is_placeholder(entry: Any) -> bool:
    """`(None, None)`: what some parameterless blocks list so that every `param()` has an entry."""
    return isinstance(entry, tuple | list) and len(entry) == 2 and entry[0] is None and entry[1] is None


def _normalise_entries(entries: list[Any]) -> tuple[list[tuple[Any, Any]], str]:
    """The (value, gradient) pairs in the entries `param()` returned, and which layout it was."""
    if all(isinstance(e, tuple | list) and len(e) == 2 and isinstance(e[0], torch.Tensor) for e in entries):
        return [(e[0], e[1]) for e in entries], "pairs"
    if entries and all(isinstance(e, tuple | list) and all(_is_pair(p) for p in e) for e in entries):
        return [(p[0], p[1]) for e in entries for p in e], "nested"
    if entries and all(isinstance(e, torch.Tensor) for e in entries) and len(entries) % 2 == 0:
        flat = [(entries[i], entries[i + 1]) for i in range(0, len(entries), 2)]
        if all(v.shape == g.shape for v, g in flat):
            return flat, "flat"
    objects = [(_attribute(e, VALUE_ATTRIBUTES), _attribute(e, GRADIENT_ATTRIBUTES)) for e in entries]
    if entries and all(v is not None for v, _ in objects):
        return objects, "objects"
    kinds = ", ".join(sorted({type(e).__name__ for e in entries}))
    raise ParameterFormatError(f"returned a list of {kinds}, expected (parameter, gradient) pairs")


def _is_pair(entry: Any) -> bool:
    return isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[0], torch.Tensor)


def _attribute(holder: Any, names: Iterable[str]) -> torch.Tensor | None:
    """The first attribute of `holder` under one of `names` (ignoring case/underscores) that is a tensor."""
    try:
        found = {normalised(k): v for k, v in vars(holder).items()}
    except TypeError:
        found = {}
    for name in names:
        value = found.get(normalised(name))
        if value is None:
            value = getattr(holder, name, None) if not isinstance(holder, torch.Tensor) else None
        if isinstance(value, torch.Tensor):
            return value
    return None


def _pairs_from_attributes(block: Any) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """(weight, gradient) and (bias, gradient) found by attribute name, in that order."""
    pairs = []
    for value_names, grad_names in (
        (WEIGHT_ATTRIBUTES, WEIGHT_GRADIENT_ATTRIBUTES),
        (BIAS_ATTRIBUTES, BIAS_GRADIENT_ATTRIBUTES),
    ):
        holder = _raw_attribute(block, value_names)
        if holder is None:
            continue
        if isinstance(holder, torch.Tensor):
            value, grad = holder, _attribute(block, grad_names)
            if grad is None and isinstance(holder.grad, torch.Tensor):
                grad = holder.grad
        else:
            value, grad = _attribute(holder, VALUE_ATTRIBUTES), _attribute(holder, GRADIENT_ATTRIBUTES)
        if value is not None:
            pairs.append((value, grad))
    return pairs


def _raw_attribute(block: Any, names: Iterable[str]) -> Any:
    try:
        found = {normalised(k): v for k, v in vars(block).items()}
    except TypeError:
        return None
    for name in names:
        value = found.get(normalised(name))
        if value is not None and (
            isinstance(value, torch.Tensor) or _attribute(value, VALUE_ATTRIBUTES) is not None
        ):
            return value
    return None


def _plain_or_none(value: Any) -> torch.Tensor | None:
    return plain(value) if isinstance(value, torch.Tensor) else None
