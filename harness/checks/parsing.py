"""Parsing a child's plain data into the parent's typed records (frozen dataclasses).

A child returns plain data (dicts, lists, str, numbers, tensors): it runs next to submission code and
must not depend on the parent's types, and what it sends can be forged. `parse_as(cls, value)` turns
such a value into the record dataclass `cls`, or raises `MalformedRecord` naming the path of the first
problem (`cases[0].output is a list, expected Tensor`). The dataclass is the shape: a field without a
default is a key the value must have, one with a default a key it may leave out, the field's type is
what its value must be (see `_parser` for the types understood), and keys no field names are dropped.
A record's own rule (`__post_init__` raising `MalformedRecord`) is reported at the record's path.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NewType, TypeVar, Union, get_args, get_origin, get_type_hints

from torch import Tensor

from harness.probes.capture import special_tensor

Seconds = NewType("Seconds", float)
"""A finite, non-negative number of seconds (an int is taken as a float)."""

R = TypeVar("R")


class MalformedRecord(ValueError):
    """A child's value that is not the record it should be; the message names the path (`init.ok is a
    str, expected bool`)."""


def parse_as(cls: type[R], value: Any) -> R:
    """`value` as a `cls` (a record dataclass); raises `MalformedRecord` saying why it is not one."""
    return _parser(cls)(value, "")


Parser = Callable[[Any, str], Any]
"""Turns a value found at a path (`cases[0].output`) into its field's type, or raises `MalformedRecord`."""


def _described(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _expect(value: Any, path: str, *kinds: type) -> None:
    """Raise unless `value` is one of `kinds` (a bool is no int unless `bool` is asked)."""
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(kind.__name__ for kind in kinds)
        raise MalformedRecord(f"{path or 'the value'} is {_described(value)}, expected {names}")


def _at(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


@cache
def _parser(hint: Any) -> Parser:
    """The parser of a field typed `hint`: a record dataclass, `X | None`, `tuple[X, ...]` (from a
    list), `Mapping[str, X]`, `Seconds`, `float` (an int too), `Any`, `Tensor` (a plain one only, see
    `_tensor`), or a plain type (`bool`, `str`, `int`). Another hint raises `TypeError` (at import,
    see `check_record_types`)."""
    origin, args = get_origin(hint), get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _record_parser(hint)
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _parser(next(arg for arg in args if arg is not type(None)))
        return lambda value, path: None if value is None else inner(value, path)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _parser(args[0])
        return lambda value, path: _sequence(value, path, item)
    if origin is Mapping and args[0] is str:
        item = _parser(args[1])
        return lambda value, path: _mapping(value, path, item)
    if hint is Seconds:
        return _seconds
    if hint is float:
        return _number
    if hint is Any:
        return lambda value, path: value
    if hint is Tensor:
        return _tensor
    if isinstance(hint, type):
        return lambda value, path: _instance(value, path, hint)
    raise TypeError(f"parsing: no parser for a field typed {hint!r}")


def _instance(value: Any, path: str, kind: type) -> Any:
    _expect(value, path, kind)
    return value


def _tensor(value: Any, path: str) -> Tensor:
    """`value` when it is a plain tensor (`special_tensor`: an exact, dense `Tensor` of a real or bool
    dtype): a judge's arithmetic on a quantized, complex or meta tensor raises, in the parent."""
    _expect(value, path, Tensor)
    special = special_tensor(value)
    if special is not None:
        raise MalformedRecord(f"{path or 'the value'} is a {special}, expected a plain Tensor")
    return value


def _number(value: Any, path: str) -> float:
    _expect(value, path, int, float)
    return float(value)


def _sequence(value: Any, path: str, item: Parser) -> tuple[Any, ...]:
    _expect(value, path, list)
    return tuple(item(entry, f"{path}[{index}]") for index, entry in enumerate(value))


def _mapping(value: Any, path: str, item: Parser) -> Mapping[str, Any]:
    _expect(value, path, dict)
    for key in value:
        _expect(key, f"{path} key", str)
    return types.MappingProxyType({key: item(entry, _at(path, key)) for key, entry in value.items()})


def _seconds(value: Any, path: str) -> float:
    seconds = _number(value, path)
    if not 0 <= seconds < math.inf:
        raise MalformedRecord(f"{path} is {value}, expected a finite number of seconds")
    return seconds


def _required(field: dataclasses.Field) -> bool:
    """Whether a record's `field` is a key every value must have: it has no default."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _record_parser(cls: type) -> Parser:
    """A dict with a key for each field of `cls` without a default, any of the others, each of its
    field's type, as a `cls`; the `cls`'s own rule (`__post_init__`) names the path it broke at."""
    hints = get_type_hints(cls)
    fields = [(field.name, _parser(hints[field.name]), _required(field)) for field in dataclasses.fields(cls)]

    def parse(value: Any, path: str) -> Any:
        _expect(value, path, dict)
        parsed = {}
        for name, field_parser, required in fields:
            if name in value:
                parsed[name] = field_parser(value[name], _at(path, name))
            elif required:
                raise MalformedRecord(f"{_at(path, name)} is missing")
        try:
            return cls(**parsed)
        except MalformedRecord as problem:
            raise MalformedRecord(f"{path}: {problem}" if path else str(problem)) from None

    return parse


def check_record_types(*classes: type) -> None:
    """Build the parsers of `classes` now: a field of a type `_parser` does not understand fails the
    import of the module that declares them (and calls this), not a grading."""
    for cls in classes:
        _parser(cls)
