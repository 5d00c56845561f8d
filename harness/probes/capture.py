"""What a probe hands back to the parent: plain data only, and exceptions as one line.

A submission runs in the same process as the probe, so anything it builds (a tensor subclass, an object
whose `__eq__` always says True) could fool a verdict if it reached the parent. Probes therefore copy
tensors with `plain`, and both sides of the sandbox check a value with `unsupported_data` before trusting
it. Exceptions are reported as `describe_exception` lines that name the submission's own file and line.
"""

from __future__ import annotations

import re
import traceback
import unicodedata
from pathlib import Path
from typing import Any

import torch

PLAIN_SCALARS = (str, int, float, bool, type(None))
MAX_NESTING = 64
MAX_ITEMS = 1_000_000
"""At most this many items are visited when checking a value: a few KB of shared lists (each level
holding the one below twice) would otherwise take 2^levels steps."""
MAX_RESULT_BYTES = 64 << 20
"""A child's pickled result beyond this size is refused unread, as the submission's fault: the largest
the reference submission's probes produce is about 7 MB (7,375,265 bytes), and unpickling is paid before
`MAX_ITEMS` applies (100 MB of small items took minutes and a GB in the parent)."""
MESSAGE_CHARS = 300
UNSUPPORTED_DATA = "probe returned unsupported data"
"""How every refusal of a child's result starts (`harness.checks.model_steps.runner.child_failure`
words it for a report): "<UNSUPPORTED_DATA>: <the first part that is not plain data, or the size>"."""
ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""The C0 controls (ESC of ANSI sequences, carriage return, backspace, ...) but tab and newline, and DEL."""
ESCAPE_SEQUENCES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
"""Whole ANSI escape sequences (CSI `ESC[1m`; the strings up to BEL or ST: OSC `ESC]52;c;...BEL`, which
writes the clipboard, DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _`; two-character ones), removed
before the control characters so no `[1m` or payload is left behind (torch's own messages carry them)."""
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})
"""Unicode categories never shown: controls (C1 included), format characters (zero-width and
bidirectional marks U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+061C, U+2060-U+2064, U+FEFF, tag
characters), private use, lone surrogates, and the line and paragraph separators."""
HIDDEN_RANGES = ((0xE0000, 0xE007F),)
"""Code points hidden whatever their category (the tag block, unassigned ones included)."""
KEPT = frozenset("\t\n")
PLAIN_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
    }
)
"""The dtypes a plain tensor may have: real numbers and bools whose arithmetic (`.double()`, `.min()`,
comparisons) every judge relies on; quantized, complex, bit and float8 tensors are refused."""


def plain(x: Any) -> torch.Tensor:
    """A detached, contiguous CPU copy of `x` as an exact `torch.Tensor` (subclasses are stripped).

    Raises TypeError when `x` is not a tensor, so a probe reports "returned a list" instead of
    silently converting it; raises `SpecialTensor` when it is a tensor of a kind no judge reads.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
    with torch._C.DisableTorchFunctionSubclass():
        kind = _special_data(x)
        if kind is not None:
            raise SpecialTensor(kind)
        data = torch.Tensor.as_subclass(x, torch.Tensor).detach().to("cpu")
        return data.clone(memory_format=torch.contiguous_format)


class SpecialTensor(TypeError):
    """A tensor `plain` does not copy; `kind` says what it is (`special_tensor`)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"expected a plain tensor, got a {kind}")
        self.kind = kind


def special_tensor(x: torch.Tensor) -> str | None:
    """What kind of tensor `x` is when it is not a plain one, in words without an article ("quantized
    tensor (torch.quint8)"), or None when it is: an exact `torch.Tensor`, dense and strided, not meta, not
    quantized, not complex, of a dtype of `PLAIN_DTYPES`. Anything else would raise, or mean something
    else, in a judge's arithmetic on it in the parent."""
    if type(x) is not torch.Tensor:
        return f"tensor subclass ({type(x).__module__}.{type(x).__qualname__})"
    return _special_data(x)


def _special_data(x: torch.Tensor) -> str | None:
    """`special_tensor`'s answer for what `x` holds, whatever its class: the child's `plain` strips a
    subclass, never a kind of data."""
    if x.is_meta:
        return "meta tensor"
    if x.layout is not torch.strided:
        return f"non-dense tensor ({x.layout})"
    if x.is_quantized:
        return f"quantized tensor ({x.dtype})"
    if x.is_complex():
        return f"complex tensor ({x.dtype})"
    if x.dtype not in PLAIN_DTYPES:
        return f"tensor of dtype {x.dtype}"
    return None


def unsupported_data(value: Any, where: str = "value") -> str | None:
    """The first part of `value` that is not plain data, as a readable path, or None when all of it is.

    Plain data: dict (str or int keys), list, tuple, str, int, float, bool, None and plain tensors
    (`special_tensor` says which are not), at most `MAX_NESTING` levels deep and `MAX_ITEMS` items in
    all. Types are compared exactly (`type(v) is int`), never with `isinstance` or `==`, so a subclass
    with overridden methods is refused.
    """
    budget = [MAX_ITEMS]
    return _unsupported(value, where, 0, budget)


def _unsupported(value: Any, where: str, depth: int, budget: list[int]) -> str | None:
    budget[0] -= 1
    if budget[0] < 0:
        return f"{where} (more than {MAX_ITEMS} items in all)"
    if depth > MAX_NESTING:
        return f"{where} (nested deeper than {MAX_NESTING} levels)"
    kind = type(value)
    if kind in PLAIN_SCALARS:
        return None
    if kind is torch.Tensor:
        special = special_tensor(value)
        return None if special is None else f"{where} (a {special})"
    if kind in (list, tuple):
        for index, item in enumerate(value):
            found = _unsupported(item, f"{where}[{index}]", depth + 1, budget)
            if found:
                return found
        return None
    if kind is dict:
        for key, item in value.items():
            if type(key) not in (str, int):
                return f"{where} (key of type {type(key).__name__})"
            found = _unsupported(item, f"{where}[{key!r}]", depth + 1, budget)
            if found:
                return found
        return None
    return f"{where} (a {kind.__module__}.{kind.__qualname__})"


def printable(text: str) -> str:
    """`text` without the characters that do not show as themselves (`HIDDEN_CATEGORIES`, `HIDDEN_RANGES`;
    tab and newline are kept): what a submission wrote reaches a terminal or a Markdown report only as
    the characters it shows, never as an escape sequence or text that reads in another order."""
    text = ESCAPE_SEQUENCES.sub("", text)
    if text.isascii():
        return ASCII_CONTROLS.sub("", text)
    return "".join(character for character in text if character in KEPT or not _hidden(character))


def _hidden(character: str) -> bool:
    point = ord(character)
    return unicodedata.category(character) in HIDDEN_CATEGORIES or any(
        low <= point <= high for low, high in HIDDEN_RANGES
    )


def printable_data(value: Any) -> Any:
    """`value` (plain data, checked by `unsupported_data`) with every string, dict keys included, made
    `printable`."""
    kind = type(value)
    if kind is str:
        return printable(value)
    if kind in (list, tuple):
        return kind(printable_data(item) for item in value)
    if kind is dict:
        return {printable_data(key): printable_data(item) for key, item in value.items()}
    return value


def submission_frame(exc: BaseException, package_dir: Path | str) -> str | None:
    """`relative/path.py:LINE` of the innermost frame of `exc` inside `package_dir`, if there is one."""
    root = Path(package_dir).resolve()
    if isinstance(exc, SyntaxError) and exc.filename:
        relative = _relative_to(exc.filename, root)
        if relative is not None:
            return f"{relative}:{exc.lineno}"
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        relative = _relative_to(frame.filename, root)
        if relative is not None:
            found = f"{relative}:{frame.lineno}"
    return found


def describe_exception(exc: BaseException, package_dir: Path | str) -> str:
    """One line: `"<ExcType>: <first line of message> (at model.py:LINE)"`.

    The location is the innermost frame in the submission's own files (relative to `package_dir`), so
    a student sees where their code failed even when torch raised the error deeper down. Paths inside
    `package_dir` in the message (a `FileNotFoundError` of a missing `bestmodel.pth`) are written from
    the package's own folder name, `Miniproject_2/bestmodel.pth`: the child's temporary copy means
    nothing to a student and would make two runs' reports differ.
    """
    text_of_exc = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    lines = _submission_paths(text_of_exc, package_dir).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 3] + "..."
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    location = submission_frame(exc, package_dir)
    return f"{text} (at {location})" if location else text


def _submission_paths(text: str, package_dir: Path | str) -> str:
    """`text` with the absolute path of `package_dir` (as given and resolved) replaced by its name."""
    given = Path(package_dir)
    for spelling in dict.fromkeys((str(given.resolve()), str(given))):
        if spelling not in (".", "/"):
            text = text.replace(spelling, given.name)
    return text


def _relative_to(filename: str, root: Path) -> str | None:
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None
