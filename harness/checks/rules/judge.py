"""Check `rules.static`: the course's rules on imports and autograd, read from the source with `ast`.

The statement allows `from torch import empty, cat, arange`, `from torch.nn.functional import fold,
unfold`, tensor methods and the standard library; autograd must stay off. Every `.py` file of the
package is parsed (never imported) and each construct that breaks a rule becomes a `Finding` with its
file, line, source line and rule:

- `torch-import`: importing from torch anything but the allowed names (`import torch`, `torch.nn`,
  `from torch import zeros`, `from torch.nn.functional import conv2d`, `from torch import *`);
- `torch-use`: a torch attribute outside the profile's allow-list, read through an imported torch name
  (`torch.sigmoid`, `F.conv2d`, `nn.Module`, `torch.optim.SGD`, `getattr(torch, "relu")`);
- `third-party-import`: a module that is neither the standard library (`sys.stdlib_module_names`) nor
  part of the package (`numpy`, `scipy`, `PIL`); a package file imported by its bare name after its
  folder went on `sys.path` (`from helpers import f` for `others/helpers.py`) is part of the package,
  unless an installed module has that name;
- `autograd`: `requires_grad=<not False>` given to a torch function or a tensor's `new_*` factory,
  `x.requires_grad = <not False>` on anything but `self`, `.requires_grad_()`, `torch.autograd`,
  `torch.enable_grad`, `torch.set_grad_enabled(<not False>)`;
- `dynamic-import`: `__import__` / `importlib.import_module` / `pkgutil.resolve_name` / `pydoc.locate`
  (`IMPORT_FUNCTIONS`) of torch or of a name computed at run time, one of them taken as a value
  (`f = importlib.import_module; f("torch.nn")`), and `getattr` on a torch module with a computed
  name; `dynamic-code`: `exec`, `eval`, `compile`, code loaded from a file or bytes the scan does not
  read (`runpy.run_path`, `importlib.machinery`/`importlib.util` loaders, `zipimport`, `marshal`,
  `types.FunctionType`), another program started (`subprocess`, `multiprocessing`, `pty`,
  `os.system`/`exec*`/`spawn*`/`fork`), and a compiled extension module (`.so`, `.pyd`) in the package;
- `reflection` (`reflective_access`): reaching code, modules or frames by reflection instead of by
  name, the ways around both this scan and the run-time recorder: a function's `__globals__`,
  `__code__`, `__closure__`, `__builtins__`, class graphs (`__subclasses__`, `__mro__`, `__bases__`),
  frame and code attributes (`f_globals`, `f_back`, `co_filename`, ...), `sys.modules`,
  `sys._getframe`, `globals()`/`locals()`, `vars(x)`, `x.__dict__` and `getattr`/`setattr`/`delattr`/
  `hasattr` with a computed name on an imported name (`getattr(F, name)`; on any other object they are
  allowed), `getattr`/`setattr`/`delattr`/`hasattr` with a constant reflective name, and the `ctypes`,
  `gc` and `inspect` modules; `operator.attrgetter` / `methodcaller` (a name given as data), a
  reflective builtin taken as a value (`g = getattr`), and a module taken as a value (passed, assigned,
  returned, stored: `member(torch, name)`), from where what is read from it cannot be followed;
- `pickled-reference`: a pickle in the package (`bestmodel.pth`, any file that pickle or `torch.save`
  wrote, in any protocol and format: plain, zip, legacy, tar, and nested in a pickle's bytes) whose
  GLOBAL opcodes name a torch object that is not data (torch names are an allow-list: what torch's
  weights-only unpickler accepts, less `torch.nn.Parameter`), an attribute path, a reflective
  callable (`builtins.getattr`, `importlib.import_module`, ...) or code made from data
  (`marshal.loads`, `os.system`); and a TorchScript archive, which `torch.load` hands to `torch.jit`.
  Unpickling builds or calls them, whatever the source says. Reported at the opcode's byte offset.

Deliberately not flagged: `.backward()` and `.grad`. Every block of the framework has its own
`backward(...)` method and many keep their gradients in a `.grad` attribute, so the source cannot tell
them from autograd's; nor a `requires_grad` argument or attribute of the student's own classes (a
home-made `Parameter(value, requires_grad=True)`). `rules.runtime` sees the real `Tensor.backward` and
`requires_grad=True` when the code runs.

Profiles (the rubric's `rule_profile`): `strict` is the statement's words, an opt-in. `lenient`, the
shipped rubric's default, is what a careful TA enforces: it also allows `import torch` (and `import
torch.nn.functional`) when only the names of `LENIENT_EXTRA_NAMES` are used through it (load/save,
device choice, grad mode, dtypes), as the course's own test script does, and any torch name used only
in a type annotation (`-> torch.Tensor`, as the course's `model.py` template writes), since an
annotation computes nothing.

Code that importing `Miniproject_2.model` never runs is still checked, but its findings do not count
(`counted: false`): files that `model.py` and `__init__.py` do not import (directly or through other
files of the package), and `if __name__ == "__main__":` blocks of a file that never stores to `__name__`
(a store is itself a `reflection` finding: it makes a module pass for `__main__`). A student's
`others/test_conv.py` comparing against `torch.nn` is not part of the submitted framework. When counted
code imports something by a computed name, which files it reaches is unknown, and every finding in a file
counts.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import io
import pickletools
import re
import sys
import tarfile
import time
import types
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from harness.probes.capture import printable
from harness.results import Category, CheckResult, Fault, Outcome

if TYPE_CHECKING:
    from harness.context import CheckContext

CHECK_ID = "rules.static"
PACKAGE_NAME = "Miniproject_2"
ENTRY_FILES = ("model.py", "__init__.py")
SKIPPED_FOLDERS = frozenset({"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git"})
CODE_CHARS = 160
SHOWN_IN_MESSAGE = 1

ALLOWED_TORCH_NAMES = frozenset(
    {"torch.empty", "torch.cat", "torch.arange", "torch.nn.functional.fold", "torch.nn.functional.unfold"}
)
"""The statement's list: the only torch names a submission may use, in both profiles."""

LENIENT_EXTRA_NAMES = frozenset(
    {
        "torch.load",
        "torch.save",
        "torch.device",
        "torch.set_grad_enabled",
        "torch.no_grad",
        "torch.is_grad_enabled",
        "torch.cuda.is_available",
        "torch.manual_seed",
        "torch.Tensor",
        "torch.float",
        "torch.float32",
        "torch.float64",
        "torch.double",
        "torch.uint8",
        "torch.long",
        "torch.int64",
        "torch.bool",
    }
)
"""What `lenient` also allows through `import torch`: no computation, only I/O, devices, grad mode, types."""

PROFILES = ("strict", "lenient")
AUTOGRAD_PREFIXES = ("torch.autograd", "torch.enable_grad")
DYNAMIC_CODE_BUILTINS = frozenset({"exec", "eval", "compile"})
CODE_LOADERS = ("importlib.machinery.", "importlib.util.", "zipimport.", "runpy.", "imp.", "marshal.")
"""Call prefixes that load code from a file or bytes the scan does not read (`runpy.run_path("x.txt")`,
`SourceFileLoader(...).load_module()`, `marshal.loads(data)`)."""
CODE_MAKERS = frozenset({"types.FunctionType", "types.LambdaType", "types.CodeType"})
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty", "_posixsubprocess"})
PROCESS_FUNCTIONS = ("system", "popen", "fork", "forkpty", "exec", "spawn", "posix_spawn")
"""`os.system`, `os.execv`, `os.spawnl`, ... (name prefixes): another program runs what it likes, where
neither rule check follows (`python -c "...conv2d..."` fed the images)."""
PROCESS_METHODS = frozenset(
    {
        "create_subprocess_exec",
        "create_subprocess_shell",
        "subprocess_exec",
        "subprocess_shell",
        "ProcessPoolExecutor",
    }
)
"""The same through asyncio (`asyncio.create_subprocess_exec`, `loop.subprocess_exec`) and
`concurrent.futures`, matched by the called attribute's or name's last part."""
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
"""Compiled extension modules a package could import: their C++ calls ATen (`at::conv2d`) directly,
which neither the scan nor the run-time recorder sees."""
IMPORT_FUNCTIONS = frozenset(
    {
        "__import__",
        "builtins.__import__",
        "importlib.import_module",
        "importlib.__import__",
        "pkgutil.resolve_name",
        "pydoc.locate",
        "runpy.run_module",
    }
)
ATTRIBUTE_GETTERS = frozenset({"operator.attrgetter", "operator.methodcaller"})
VALUE_BUILTINS = frozenset({"__import__", "getattr", "setattr", "delattr", "globals", "locals", "vars"})
"""Builtins that are reflection when taken as a value (`g = getattr`): their calls are judged where
they are written, an alias would hide them."""
PICKLED_REFLECTION = frozenset(
    {
        f"{builtins}.{name}"
        for builtins in ("builtins", "__builtin__")  # pickle protocol 2 (torch.save) writes __builtin__
        for name in ("getattr", "setattr", "delattr", "eval", "exec", "compile", "__import__", "globals",
                     "locals", "vars", "breakpoint")
    }
    | IMPORT_FUNCTIONS
    | ATTRIBUTE_GETTERS
    | {"runpy.run_path", "types.FunctionType", "types.LambdaType", "types.CodeType", "marshal.loads"}
)  # fmt: skip
"""Callables a pickle may name that reach any name or make code: `builtins.getattr(torch, "relu")`,
`types.FunctionType(marshal.loads(b"..."), {})`."""
PICKLED_DATA_GLOBALS = frozenset(
    {
        f"{builtins}.{name}"
        for builtins in ("builtins", "__builtin__")
        for name in ("list", "dict", "tuple", "set", "frozenset", "bytearray", "bytes", "str", "int", "float",
                     "complex", "bool", "slice", "range", "object")
    }
    | {"collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
       "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
       "decimal.Decimal", "fractions.Fraction", "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath",
       "pathlib.PurePath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "copyreg._reconstructor",
       "copy_reg._reconstructor", "_codecs.encode"}
    | {f"{numpy}.{name}"
       for numpy in ("numpy.core.multiarray", "numpy._core.multiarray")
       for name in ("_reconstruct", "scalar")}
    | {f"numpy.{core}.numeric._frombuffer" for core in ("core", "_core")}  # protocol 5's arrays
    | {"numpy.dtype", "numpy.ndarray"}
)  # fmt: skip
"""Names outside torch a pickle may hold (an allow-list): containers, scalars, dates, paths, numpy arrays
and what torch.save and protocol 2 write for them (`copyreg._reconstructor`, `_codecs.encode`). Anything
else may be a callable that reaches names (`logging.config._resolve("torch.nn.functional.conv2d")`,
`pkgutil.resolve_name`) or runs code given as data."""
PICKLED_LOADERS = frozenset({"torch.storage._load_from_bytes"})
"""torch's way of pickling a tensor with the standard `pickle` (`torch.load` of a bytes constant): allowed,
and the bytes are read like any other file (`MAX_NESTING`)."""
ZIP_MAGIC = b"PK\x03\x04"
"""How torch.load tells its zip format from a pickle: by the file's first bytes."""
TORCHSCRIPT_ENTRY = "constants.pkl"
"""The entry that makes `torch.load` hand a zip to `torch.jit.load` (torch's `_is_torchscript_zip`): code
the scan cannot read, run by torch.jit."""
MAX_PICKLES = 8
"""Pickles read one after the other from one file (torch's legacy format writes five)."""
MAX_NESTING = 2
"""How deep bytes constants inside pickles are read as files themselves."""
PICKLE_BYTES = 64 << 20
"""How much of a file (a zip or tar entry, a bytes constant) is read for pickles: its first 64 MB."""
REFLECTIVE_ATTRIBUTES = frozenset(
    {
        "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__mro__", "__bases__",
        "__base__", "__getattribute__", "__dict__", "__func__", "__wrapped__", "__loader__", "__spec__",
        "__defaults__", "__kwdefaults__", "__import__", "__reduce__", "__reduce_ex__", "__setstate__",
        "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "co_filename", "co_code", "co_consts",
        "co_names", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "__torch_function__",
        "__torch_dispatch__",
    }
)  # fmt: skip
"""Attributes that reach code, modules or frames by reflection (`fold.__globals__["torch"]`), and torch's
dispatch hooks, through which any torch function can be called on a tensor
(`x.__torch_function__(conv2d, (), args)`)."""
DISPATCH_HOOKS = frozenset({"__torch_function__", "__torch_dispatch__"})
"""torch's dispatch hooks: defining one (`class T(Tensor): def __torch_function__(cls, func, ...)`) makes
a tensor whose every torch call runs the submission's choice, out of the run-time recorder's sight."""
UNPICKLING_FUNCTIONS = frozenset({"loads", "load"})
"""`pickle.loads(b"ctorch\nconv2d\n.")`: a constant pickle in the source names what no import shows."""
REFLECTIVE_SYS_NAMES = frozenset(
    {"modules", "_getframe", "_current_frames", "settrace", "setprofile", "meta_path"}
)
REFLECTIVE_MODULES = frozenset({"ctypes", "_ctypes", "gc", "inspect"})
REFLECTIVE_BUILTINS = frozenset({"globals", "locals", "vars"})
NAME_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
TYPE_TESTS = frozenset({"isinstance", "issubclass"})
"""Calls that may take a module name as an argument without reading from it (`isinstance(m, types)`
is nonsense, but harmless)."""


def allowed_torch_names(profile: str) -> frozenset[str]:
    """The torch names `profile` allows (see the module docstring); ValueError for an unknown profile."""
    if profile not in PROFILES:
        raise ValueError(f"unknown rule profile {profile!r} (known: {', '.join(PROFILES)})")
    return ALLOWED_TORCH_NAMES | (LENIENT_EXTRA_NAMES if profile == "lenient" else frozenset())


def is_allowed_torch_name(name: str, profile: str) -> bool:
    """Whether the dotted torch name `name` (or an attribute of it, `torch.Tensor.add`) is allowed."""
    return any(name == a or name.startswith(a + ".") for a in allowed_torch_names(profile))


@dataclass(frozen=True)
class Finding:
    """One construct that breaks a rule: where (`file` relative to the package, `line`), the source
    line, the rule id and a one-line explanation. `counted` is False in code model.py never runs."""

    file: str
    line: int
    code: str
    rule: str
    message: str
    counted: bool = True

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    def one_line(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class _FileScan:
    """What one file holds: its findings, the package modules it imports, whether some import is computed."""

    findings: list[Finding] = field(default_factory=list)
    local_imports: set[str] = field(default_factory=set)
    absolute_imports: set[str] = field(default_factory=set)
    """Top-level names imported absolutely (`import antigravity`): a package file of that name runs if
    the code put its folder on `sys.path`."""
    dynamic_imports: bool = False
    syntax_error: str | None = None


@dataclass(frozen=True)
class StaticScan:
    """The result of scanning a package: every finding, the files read, files that did not parse."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    unparsable: Mapping[str, str]
    reachable: frozenset[str]

    @property
    def counted(self) -> list[Finding]:
        return [f for f in self.findings if f.counted]


def run(ctx: CheckContext) -> list[CheckResult]:
    """The `rules.static` check of one submission, under the rubric's rule profile."""
    return [check_static_rules(ctx.submission.package_dir, ctx.rubric.rule_profile)]


def check_static_rules(package_dir: Path, profile: str = "strict") -> CheckResult:
    """Scan `package_dir` and judge it: PASS, FORBIDDEN (counted findings), ERROR (model.py unparsable)
    or MISSING (no model.py)."""
    started = time.perf_counter()
    if not (package_dir / "model.py").is_file():
        return CheckResult(
            CHECK_ID,
            Category.RULES,
            Outcome.MISSING,
            "no model.py to check the rules in",
            duration_s=time.perf_counter() - started,
        )
    scan = scan_package(package_dir, profile)
    details: dict[str, Any] = {
        "profile": profile,
        "files": list(scan.files),
        "findings": [f.as_data() for f in scan.findings],
        "unparsable": dict(scan.unparsable),
    }
    counted = scan.counted
    broken = sorted(f for f in scan.unparsable if f in scan.reachable)
    if counted:
        shown = "; ".join(f.one_line() for f in counted[:SHOWN_IN_MESSAGE])
        more = f" (and {len(counted) - SHOWN_IN_MESSAGE} more)" if len(counted) > SHOWN_IN_MESSAGE else ""
        outcome, score, message = Outcome.FORBIDDEN, 0.0, f"{shown}{more}"
    elif broken:
        outcome, score = Outcome.ERROR, 0.0
        message = f"{broken[0]}: {scan.unparsable[broken[0]]}; the rules cannot be checked"
    else:
        ignored = sorted({f.file for f in scan.findings if not f.counted})
        note = f"; findings ignored in code model.py never runs: {', '.join(ignored)}" if ignored else ""
        outcome, score = Outcome.PASS, 1.0
        message = f"{len(scan.files)} .py files follow the {profile} import and autograd rules{note}"
    return CheckResult(
        CHECK_ID,
        Category.RULES,
        outcome,
        message,
        details,
        duration_s=time.perf_counter() - started,
        score=score,
        fault=Fault.NONE if outcome is Outcome.PASS else Fault.SUBMISSION,
    )


def scan_package(package_dir: Path, profile: str = "strict") -> StaticScan:
    """Every finding in every `.py` file under `package_dir`, `counted` set by reachability."""
    allowed_torch_names(profile)
    sources = dict(_python_files(package_dir))
    local_tops = _local_top_names(package_dir)
    path_tops = _path_top_names(sources)
    scans = {rel: _scan_file(rel, text, profile, local_tops, path_tops) for rel, text in sources.items()}
    reachable = _reachable(scans, set(sources))
    everything_counts = any(scans[rel].dynamic_imports or scans[rel].syntax_error for rel in reachable)
    findings = (
        tuple(
            replace(f, counted=f.counted and (everything_counts or rel in reachable))
            for rel, scan in scans.items()
            for f in scan.findings
        )
        + tuple(pickled_references(package_dir, profile))
        + tuple(compiled_modules(package_dir))
    )
    unparsable = {rel: scan.syntax_error for rel, scan in scans.items() if scan.syntax_error}
    return StaticScan(findings, tuple(sources), unparsable, frozenset(reachable))


def compiled_modules(package_dir: Path) -> Iterator[Finding]:
    """A `dynamic-code` finding for each compiled extension module (`COMPILED_SUFFIXES`) in the package."""
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if path.name.endswith(COMPILED_SUFFIXES) and SKIPPED_FOLDERS.isdisjoint(relative.parts):
            message = "a compiled extension module: code the rule checks cannot read"
            yield Finding(relative.as_posix(), 0, "compiled module", "dynamic-code", message)


def pickled_references(package_dir: Path, profile: str = "strict") -> Iterator[Finding]:
    """The `pickled-reference` findings of every file of `package_dir` but its `.py` files: each pickle
    the file holds, in any protocol, at its start or in a zip or tar entry (torch.save's formats), and in
    the bytes constants of those pickles; and a TorchScript archive, which `torch.load` runs."""
    own = _own_pickled_modules(package_dir)
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if path.suffix == ".py" or not path.is_file() or not SKIPPED_FOLDERS.isdisjoint(relative.parts):
            continue
        with path.open("rb") as file:
            for code, what, module, name in _pickled_globals(file, depth=0):
                reason = _pickled_reason(module, name, profile, own)
                if reason is not None:
                    message = f"{what}: unpickling it {reason}"
                    yield Finding(
                        relative.as_posix(), 0, printable(code), "pickled-reference", printable(message)
                    )


def _pickled_globals(file: BinaryIO, depth: int) -> Iterator[tuple[str, str, str, str]]:
    """(code, what, module, name) of each global that unpickling `file` may reach, `what` saying where
    it is: each GLOBAL opcode of the pickles from its first byte on and in each entry when it is a zip or
    a tar, and, up to `MAX_NESTING` deep, of their bytes constants; `torch.jit.load` for a TorchScript
    archive."""
    for entry, content in _archive_entries(file):
        if entry.rpartition("/")[2] == TORCHSCRIPT_ENTRY:
            what = f"torch.load hands the TorchScript archive ({entry}) to torch.jit"
            yield f"TorchScript {entry}", what, "torch.jit", "load"
            continue
        within = f" of {entry}" if entry else ""
        for offset, module, name, constant in _pickle_globals(content):
            if module is not None:
                what = f"`{module}.{name}` is pickled (byte {offset}{within})"
                yield f"GLOBAL {module} {name}", what, module, name
            elif depth < MAX_NESTING:
                for code, what, inner_module, inner_name in _pickled_globals(io.BytesIO(constant), depth + 1):
                    yield code, f"{what} in the bytes at byte {offset}{within}", inner_module, inner_name


def _archive_entries(file: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """(name, first `PICKLE_BYTES`) of what `file` may hand to an unpickler: ("", the file) unless it
    starts as a zip (torch.load's test: a pickle followed by a zip is read as a pickle, while `zipfile`
    finds the zip at the end), then each entry of a zip or a tar. A TorchScript zip is its
    `TORCHSCRIPT_ENTRY` alone: torch.jit reads all of it."""
    head = file.read(PICKLE_BYTES)
    if not head.startswith(ZIP_MAGIC):
        yield "", head
    if zipfile.is_zipfile(file):
        with contextlib.suppress(zipfile.BadZipFile, OSError, EOFError), zipfile.ZipFile(file) as bundle:
            names = bundle.namelist()
            script = next((n for n in names if n.rpartition("/")[2] == TORCHSCRIPT_ENTRY), None)
            if script is not None:
                yield script, b""
                return
            for info in bundle.infolist():
                with bundle.open(info) as member:
                    yield info.filename, member.read(PICKLE_BYTES)
        return
    file.seek(0)
    with (
        contextlib.suppress(tarfile.TarError, OSError, EOFError),
        tarfile.open(fileobj=file, mode="r:") as bundle,
    ):
        for info in bundle.getmembers():
            member = bundle.extractfile(info) if info.isfile() else None
            if member is not None:
                yield info.name, member.read(PICKLE_BYTES)


STRING_OPCODES = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"})


def _pickle_globals(data: bytes) -> Iterator[tuple[int, str | None, str, bytes]]:
    """(offset, module, name, b"") of each GLOBAL / STACK_GLOBAL opcode in the pickles one after the other
    in `data`, of any protocol (a STACK_GLOBAL's strings are followed through the memo), and (offset,
    None, "", constant) of each bytes or string constant (latin-1, as protocol 0 writes bytes). Stops at
    the first thing that is not a pickle: raw data ends the scan at its first byte that is no opcode."""
    stream = io.BytesIO(data)
    for _ in range(MAX_PICKLES):
        if not stream.read(1):
            return
        stream.seek(-1, io.SEEK_CUR)
        pushed: list[str | None] = [None, None]
        """What the opcodes before pushed, a string or None for anything else: STACK_GLOBAL's operands."""
        memo: dict[int, str | None] = {}
        try:
            for opcode, argument, offset in pickletools.genops(stream):
                if opcode.name == "GLOBAL":
                    module, _, name = str(argument).partition(" ")
                    yield offset or 0, module, name, b""
                elif opcode.name == "STACK_GLOBAL":
                    module, name = pushed[-2:]
                    yield offset or 0, module or "?", name or "?", b""  # "?": not resolved, not data
                if opcode.name in ("BINPUT", "LONG_BINPUT", "PUT"):
                    memo[int(argument)] = pushed[-1]
                elif opcode.name == "MEMOIZE":
                    memo[len(memo)] = pushed[-1]
                elif opcode.name in ("BINGET", "LONG_BINGET", "GET"):
                    pushed.append(memo.get(int(argument)))
                elif opcode.name not in ("FRAME", "PROTO"):
                    pushed.append(argument if opcode.name in STRING_OPCODES else None)
                if isinstance(argument, bytes | bytearray) and len(argument) > 1:
                    yield offset or 0, None, "", bytes(argument)
                elif isinstance(argument, str) and len(argument) > 1:
                    with contextlib.suppress(UnicodeEncodeError):
                        yield offset or 0, None, "", argument.encode("latin-1")
        except (ValueError, EOFError):  # not (or no longer) a pickle: the rest is raw data
            return


def _pickled_reason(module: str, name: str, profile: str, own: frozenset[str] = frozenset()) -> str | None:
    """Why unpickling a GLOBAL of `module` and `name` breaks a rule, or None.

    torch names are an allow-list: what torch's own weights-only unpickler accepts (storages, dtypes,
    devices, `_rebuild_*`: data, no computation) but `torch.nn.Parameter` (autograd), the loader of
    `PICKLED_LOADERS`, and what the profile allows in source. Other names are an allow-list too:
    `PICKLED_DATA_GLOBALS` and the package's own modules (`own`: top names such as `Miniproject_2`,
    `others`), whose code the scan reads as source; `PICKLED_REFLECTION` is named as such. A dotted name
    is an attribute path
    (`Miniproject_2.model` `torch.nn.functional.conv2d`), which protocol 4 follows and the scan cannot.
    """
    dotted = f"{module}.{name}"
    if "." in name:
        return f"reaches {dotted} attribute by attribute, a path the rule check cannot follow"
    if module.partition(".")[0] == "torch":
        if (
            dotted in _torch_data_globals()
            or dotted in PICKLED_LOADERS
            or is_allowed_torch_name(dotted, profile)
        ):
            return None
        return f"builds or calls {dotted}, which the rules forbid"
    if dotted in PICKLED_REFLECTION:
        return f"calls {dotted}, reflection that reaches any name or makes code"
    if dotted in PICKLED_DATA_GLOBALS or module.partition(".")[0] in own:
        return None
    return f"builds or calls {dotted}, which is not data a submission's pickle may hold"


def _own_pickled_modules(package_dir: Path) -> frozenset[str]:
    """Top names under which a pickle's globals are the package's own code: `Miniproject_2`, and its
    top-level files and folders that no installed or standard module shadows (`others`, not `logging`)."""
    return frozenset(
        name
        for name in _local_top_names(package_dir)
        if name == PACKAGE_NAME or (name not in sys.stdlib_module_names and _finds_no_module(name))
    )


def _finds_no_module(top: str) -> bool:
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):  # a module loaded without a spec: installed, in effect
        return False


@functools.cache
def _torch_data_globals() -> frozenset[str]:
    """The torch names of torch's weights-only unpickler (what `torch.load(weights_only=True)` accepts),
    less `torch.nn` and its `_rebuild_parameter*` (a `Parameter` asks autograd to track a tensor)."""
    from torch._weights_only_unpickler import _get_allowed_globals

    return frozenset(
        name
        for name in _get_allowed_globals()
        if name.startswith("torch.") and not name.startswith(("torch.nn.", "torch._utils._rebuild_parameter"))
    )


def _python_files(package_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if SKIPPED_FOLDERS.isdisjoint(relative.parts[:-1]) and path.is_file():
            yield relative.as_posix(), path.read_text(encoding="utf-8", errors="replace")


def _local_top_names(package_dir: Path) -> frozenset[str]:
    """Names an absolute import may use for the package's own modules (`others`, `Miniproject_2`)."""
    names = {PACKAGE_NAME}
    for child in package_dir.iterdir():
        if child.suffix == ".py":
            names.add(child.stem)
        elif child.is_dir() and child.name not in SKIPPED_FOLDERS:
            names.add(child.name)
    return frozenset(names)


def _path_top_names(files: Iterable[str]) -> frozenset[str]:
    """Names an absolute import reaches a package file by once the code puts its folder on `sys.path`
    (`from helpers import f` for `others/helpers.py`, as 2022 submissions do): the package's own code,
    scanned where it is reached (`_reachable`), not a third-party module."""
    names = set()
    for relative in files:
        folder, _, name = relative.rpartition("/")
        names.add(folder.rpartition("/")[2] if name == "__init__.py" else name.removesuffix(".py"))
    return frozenset(names - {""})


def _reachable(scans: Mapping[str, _FileScan], files: set[str]) -> set[str]:
    """Files run by importing `Miniproject_2.model`: the entry files and what they import, transitively."""
    seen: set[str] = set()
    todo = [f for f in ENTRY_FILES if f in files]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for module in scans[current].local_imports:
            todo.extend(_module_files(module, files))
        for top in scans[current].absolute_imports:
            todo.extend(
                f for f in files if f.rpartition("/")[2] == f"{top}.py" or f.endswith(f"{top}/__init__.py")
            )
    return seen


def _module_files(module: str, files: set[str]) -> list[str]:
    """The files a dotted module path of the package executes: each package's `__init__.py` on the way."""
    parts = [p for p in module.split(".") if p]
    found = []
    for depth in range(1, len(parts) + 1):
        stem = "/".join(parts[:depth])
        found += [c for c in (f"{stem}.py", f"{stem}/__init__.py") if c in files]
    return found


def _scan_file(
    relative: str, text: str, profile: str, local_tops: frozenset[str], path_tops: frozenset[str]
) -> _FileScan:
    scan = _FileScan()
    try:
        tree = ast.parse(text, filename=relative)
    except SyntaxError as error:
        scan.syntax_error = f"SyntaxError: {error.msg} (line {error.lineno})"
        return scan
    package = relative.split("/")[:-1]
    _Scanner(relative, text.splitlines(), profile, local_tops, path_tops, package, scan).visit(tree)
    return scan


def _attribute_chain(node: ast.expr) -> list[str] | None:
    """`["F", "conv2d"]` for `F.conv2d`: a name and the attributes read from it, None when the chain is
    not rooted at a plain name (`f().x`)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


@dataclass(frozen=True)
class _Scope:
    """The names a function binds: by import, otherwise (parameters, assignments, loops, `with ... as`),
    less those it declares global; and the ids of the nodes its definition evaluates outside it."""

    imported: frozenset[str]
    assigned: frozenset[str]
    outside: frozenset[int]

    @classmethod
    def of(cls, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> _Scope:
        arguments = function.args
        parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        parameters += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        evaluated_outside: list[ast.AST] = [*arguments.defaults, *(d for d in arguments.kw_defaults if d)]
        if not isinstance(function, ast.Lambda):
            evaluated_outside += function.decorator_list
        imported: set[str] = set()
        assigned = {a.arg for a in parameters}
        declared: set[str] = set()
        todo = list(function.body) if isinstance(function.body, list) else [function.body]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Import | ast.ImportFrom):
                imported.update((a.asname or a.name).partition(".")[0] for a in node.names)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                assigned.add(node.id)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                declared.update(node.names)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                assigned.add(node.name)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                todo.extend(ast.iter_child_nodes(node))
        outside = {id(n) for tree in evaluated_outside for n in ast.walk(tree)}
        return cls(frozenset(imported - declared), frozenset(assigned - declared), frozenset(outside))


class _Scanner(ast.NodeVisitor):
    """Collects one file's findings. Names bound by import statements are tracked per file, not per scope."""

    def __init__(
        self,
        relative: str,
        lines: list[str],
        profile: str,
        local_tops: frozenset[str],
        path_tops: frozenset[str],
        package: list[str],
        scan: _FileScan,
    ) -> None:
        self.relative = relative
        self.lines = lines
        self.profile = profile
        self.local_tops = local_tops
        self.path_tops = path_tops
        self.package = package
        self.scan = scan
        self.bound: dict[str, str] = {}
        self.imported_modules: set[str] = set()
        """Local name -> the dotted module or object it was imported as (`F` -> `torch.nn.functional`)."""
        self.modules: set[str] = set()
        """Names an import binds to a module (`torch`, `F`, `os`, `from torch import nn`)."""
        self.scopes: list[_Scope] = []
        """The functions around the node visited, innermost last."""
        self.callees: set[int] = set()
        self.read_from: set[int] = set()
        """Names an attribute is read from or that a type test is given: uses of a module, not values."""
        self.in_main_block = False
        self.binds_name = False
        """Whether the file stores to `__name__`: then an `if __name__ == "__main__":` block may run on
        import, and its findings count."""

    def visit(self, node: ast.AST) -> Any:
        scope = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if scope:
            self.scopes.append(_Scope.of(node))
        try:
            visited = super().visit(node)
        finally:
            if scope:
                self.scopes.pop()
        reason = reflective_access(node, self.bound.keys())
        if reason is not None:
            self.add(node, "reflection", reason)
        return visited

    def visit_If(self, node: ast.If) -> None:
        if not _is_main_test(node.test) or self.in_main_block or self.binds_name:
            self.generic_visit(node)
            return
        self.visit(node.test)
        self.in_main_block = True
        for statement in node.body:
            self.visit(statement)
        self.in_main_block = False
        for statement in node.orelse:
            self.visit(statement)

    def visit_Module(self, node: ast.Module) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                self._bind(child)
        self.modules = {name for name, dotted in self.bound.items() if self._is_module(dotted)}
        for child in ast.walk(node):
            if self._stores_name(child):
                self.binds_name = True
                self.add(child, "reflection", "stores to `__name__`, which makes the module pass for another")
        self.generic_visit(node)

    def _stores_name(self, node: ast.AST) -> bool:
        """Whether `node` binds `__name__`: as a name (assigned, a tuple or loop target, augmented,
        imported as, defined, caught as), through `globals()[...]`, `setattr(..., "__name__", ...)`,
        `vars(...)["__name__"]`, or as an attribute of a module (`conv.__name__ = ...`)."""
        name = "__name__"
        if isinstance(node, ast.Name):
            return node.id == name and not isinstance(node.ctx, ast.Load)
        if isinstance(node, ast.Import | ast.ImportFrom):
            return any((a.asname or a.name) == name for a in node.names)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler):
            return node.name == name
        if isinstance(node, ast.MatchAs | ast.MatchStar):
            return node.name == name
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            return _is_constant_text(node.slice, name)
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            return node.attr == name and _root_name(node.value) in self.modules
        if isinstance(node, ast.Call) and self._callee(node.func) in ("setattr", "delattr"):
            return len(node.args) > 1 and _is_constant_text(node.args[1], name)
        return False

    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bound[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    self.bound[top] = top
        elif node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    self.bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        if isinstance(node, ast.Import):
            self.imported_modules.update(self.bound[a.asname or a.name.partition(".")[0]] for a in node.names)

    def _is_module(self, dotted: str) -> bool:
        """Whether an imported `dotted` name is a module: what `import` binds, a package file, or a
        module attribute of torch or of an already imported standard module (`from os import path`);
        nothing is imported to find out but torch."""
        top, _, _ = dotted.partition(".")
        if dotted in self.imported_modules:
            return True
        if top in self.local_tops or top in self.path_tops:
            return dotted.rpartition(".")[2] in self.path_tops
        return _is_library_module(dotted)

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        line = getattr(node, "lineno", 0)
        code = printable(self.lines[line - 1].strip()[:CODE_CHARS]) if 0 < line <= len(self.lines) else ""
        finding = Finding(self.relative, line, code, rule, printable(message), not self.in_main_block)
        self.scan.findings.append(finding)

    def imports_locally(self, *modules: str) -> None:
        """Record package modules this file runs on import (not those a `__main__` block imports)."""
        if not self.in_main_block:
            self.scan.local_imports.update(modules)

    # annotations: the course's own template writes `-> torch.Tensor`; `lenient` reads no torch name
    # in an annotation as a use, since annotations compute nothing

    def visit_arg(self, node: ast.arg) -> None:
        if self.profile == "strict":
            self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        for child in (node.target, node.value) if self.profile != "strict" else (node,):
            if child is node:
                self.generic_visit(node)
            elif child is not None:
                self.visit(child)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self.profile == "strict" or node.returns is None:
            self.generic_visit(node)
            return
        for child in (*node.decorator_list, node.args, *node.body):
            self.visit(child)

    visit_AsyncFunctionDef = visit_FunctionDef

    # imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = (
                self.package[: len(self.package) - node.level + 1]
                if node.level <= len(self.package) + 1
                else []
            )
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            self.imports_locally(module, *(f"{module}.{a.name}".strip(".") for a in node.names))
            return
        module = node.module or ""
        if module.partition(".")[0] != "torch":
            self._check_module(node, module, f"from {module} import ...")
            if module.partition(".")[0] in self.local_tops:
                self.imports_locally(*(f"{module}.{a.name}" for a in node.names))
            return
        for alias in node.names:
            name = f"{module}.{alias.name}"
            if alias.name == "*":
                self.add(
                    node,
                    "torch-import",
                    f"`from {module} import *` imports every torch name; {_ALLOWED_TEXTS[self.profile]}",
                )
            elif not is_allowed_torch_name(name, self.profile):
                self.add(
                    node,
                    "torch-import",
                    f"`from {module} import {alias.name}`: {_ALLOWED_TEXTS[self.profile]}",
                )

    def _check_module(self, node: ast.AST, module: str, shown: str) -> None:
        top = module.partition(".")[0]
        if top == "torch":
            if not (self.profile == "lenient" and _lenient_module(module)):
                self.add(node, "torch-import", f"`{shown}`: {_ALLOWED_TEXTS[self.profile]}")
        elif top in PROCESS_MODULES:
            self.add(
                node,
                "dynamic-code",
                f"`{shown}`: {top} runs other programs, where the rule checks cannot follow",
            )
        elif top in self.local_tops:
            self.imports_locally(module.removeprefix(PACKAGE_NAME).lstrip("."))
        elif top:
            if not self.in_main_block:
                self.scan.absolute_imports.add(top)
            if top not in sys.stdlib_module_names and not self._own_module_on_path(top):
                self.add(node, "third-party-import", f"`{shown}`: {top} is not in the standard library")

    def _own_module_on_path(self, top: str) -> bool:
        """Whether `import top` can only be a package file put on `sys.path`: one of that name exists
        and no installed module has it (appended folders come last, so an installed `numpy` would win
        over a package's `others/numpy.py`)."""
        return top in self.path_tops and _finds_no_module(top)

    # uses of torch names

    def generic_visit(self, node: ast.AST) -> None:
        """Visit the children, noting which expression is a call's callee (its own use is judged in
        `visit_Call`; anywhere else, an import function or reflective builtin is taken as a value)."""
        if isinstance(node, ast.Call):
            self.callees.add(id(node.func))
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._check_taken_as_value(node, self.bound.get(node.id, node.id))
        if (
            self._is_module_name(node)
            and isinstance(node.ctx, ast.Load)
            and id(node) not in self.callees
            and id(node) not in self.read_from
        ):
            self.add(
                node,
                "reflection",
                f"`{node.id}` is passed as a value: the rule checks cannot follow what is read from it",
            )

    def _check_taken_as_value(self, node: ast.expr, dotted: str | None) -> None:
        if id(node) in self.callees or not isinstance(node.ctx, ast.Load) or dotted is None:
            return
        if dotted in IMPORT_FUNCTIONS:
            message = f"`{dotted}` taken as a value imports names the rule check cannot see"
            self.add(node, "dynamic-import", message)
        elif dotted in VALUE_BUILTINS:
            self.add(node, "reflection", f"`{dotted}` taken as a value hides its calls from the rule check")

    def _is_module_name(self, node: ast.Name) -> bool:
        """Whether `node` reads a module an import bound: the innermost function that binds the name
        decides (`loss = step()` is a local, not `import loss` elsewhere in the file); a name a function
        binds other than by import holds a value that came from somewhere the scan sees, so a module
        there was flagged where it was taken as a value. Defaults and decorators are read outside."""
        if node.id not in self.modules:
            return False
        scopes = self.scopes[:-1] if self.scopes and id(node) in self.scopes[-1].outside else self.scopes
        for scope in reversed(scopes):
            if node.id in scope.imported:
                return True
            if node.id in scope.assigned:
                return False
        return True

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.read_from.add(id(node.value))
        if isinstance(node.value, ast.Name):
            self._check_taken_as_value(node, f"{self.bound.get(node.value.id, node.value.id)}.{node.attr}")
        dotted = self._torch_path(node)
        if dotted is None:
            self.generic_visit(node)
            return
        if isinstance(node.ctx, ast.Load):
            self._check_torch_use(node, dotted)

    def _torch_path(self, node: ast.expr) -> str | None:
        """`torch.nn.functional.conv2d` for an attribute chain rooted at an imported torch name."""
        chain = _attribute_chain(node)
        root = None if chain is None else self.bound.get(chain[0])
        if chain is None or root is None or root.partition(".")[0] != "torch":
            return None
        return ".".join([root, *chain[1:]])

    def _check_torch_use(self, node: ast.AST, dotted: str) -> None:
        if dotted.startswith(AUTOGRAD_PREFIXES):
            self.add(node, "autograd", f"`{dotted}`: autograd must stay off")
        elif not is_allowed_torch_name(dotted, self.profile):
            self.add(node, "torch-use", f"`{dotted}` is used; {_ALLOWED_TEXTS[self.profile]}")

    def visit_Call(self, node: ast.Call) -> None:
        callee = self._callee(node.func)
        first = node.args[0] if node.args else None
        if callee in TYPE_TESTS:
            self.read_from.update(id(argument) for argument in node.args)
        elif callee in NAME_FUNCTIONS or callee == "vars":  # judged by reflective_access and _check_getattr
            self.read_from.update(id(argument) for argument in node.args[:1])
        if callee in IMPORT_FUNCTIONS:
            self._check_dynamic_import(node, callee, first)
        elif callee in ATTRIBUTE_GETTERS:
            self.add(node, "reflection", f"`{callee}(...)` reads attributes by names given as data")
        elif callee in DYNAMIC_CODE_BUILTINS or callee in CODE_MAKERS:
            self.add(node, "dynamic-code", f"`{callee}(...)` runs code the rule check cannot read")
        elif (callee or "").startswith(CODE_LOADERS):
            self.add(
                node, "dynamic-code", f"`{callee}(...)` loads code from data the rule check does not read"
            )
        elif _runs_a_program(callee):
            self.add(
                node,
                "dynamic-code",
                f"`{callee}(...)` runs another program, where the rule checks cannot follow",
            )
        elif callee == "getattr" and first is not None and self._torch_path(first) is not None:
            self._check_getattr(node)
        elif callee == "torch.set_grad_enabled" and not _is_constant(first, False):
            self.add(
                node, "autograd", "`torch.set_grad_enabled(...)` with anything but False re-enables autograd"
            )
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "requires_grad_"
            and not _is_constant(first, False)
        ):
            self.add(node, "autograd", "`.requires_grad_()` asks autograd to track a tensor")
        tensor_factory = (callee or "").startswith("torch.") or (
            isinstance(node.func, ast.Attribute) and node.func.attr.startswith("new_")
        )
        for keyword in node.keywords if tensor_factory else ():
            if keyword.arg == "requires_grad" and not _is_constant(keyword.value, False):
                self.add(keyword.value, "autograd", "`requires_grad=...` asks autograd to track a tensor")
        self.generic_visit(node)

    def _callee(self, func: ast.expr) -> str | None:
        """The dotted name a call's callee is bound to (`importlib.util.spec_from_file_location`), or None."""
        chain = _attribute_chain(func)
        return None if chain is None else ".".join([self.bound.get(chain[0], chain[0]), *chain[1:]])

    def _check_dynamic_import(self, node: ast.Call, callee: str, first: ast.expr | None) -> None:
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            top = re.split(r"[.:]", first.value)[0]
            if top in self.local_tops:
                self.imports_locally(first.value.removeprefix(PACKAGE_NAME).lstrip("."))
            elif top == "torch" or top not in sys.stdlib_module_names:
                self.add(node, "dynamic-import", f"`{callee}({first.value!r})` imports {first.value} by name")
        else:
            self.scan.dynamic_imports = self.scan.dynamic_imports or not self.in_main_block
            self.add(
                node, "dynamic-import", f"`{callee}(...)` imports a module whose name is computed at run time"
            )

    def _check_getattr(self, node: ast.Call) -> None:
        owner = self._torch_path(node.args[0])
        name = node.args[1] if len(node.args) > 1 else None
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            self._check_torch_use(node, f"{owner}.{name.value}")
        else:
            self.add(
                node, "dynamic-import", f"`getattr({owner}, ...)` reads a torch name computed at run time"
            )

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            requires = (
                isinstance(target, ast.Attribute)
                and target.attr == "requires_grad"
                and not (isinstance(target.value, ast.Name) and target.value.id == "self")
            )
            if requires and not _is_constant(node.value, False):
                self.add(node, "autograd", "`.requires_grad = ...` asks autograd to track a tensor")
        self.generic_visit(node)


def reflective_access(node: ast.AST, imported: Collection[str] = ()) -> str | None:
    """Why `node` reaches code, modules or frames by reflection (see `REFLECTIVE_ATTRIBUTES`), or None.

    Judged on the node and on which names are `imported` (bound by an import statement): a computed
    `getattr`/`setattr`/`delattr`/`hasattr`, `vars(x)` and `x.__dict__` are reflection on an imported
    name or a chain rooted at one (`getattr(F, name)`, `vars(torch)`, `os.__dict__`) and allowed on
    anything else (`getattr(layer, name, None)` over "weight" and "bias", `dict(vars(block))`,
    `block.__dict__.update(state)`, as 2022 code does): a module cannot reach such a variable, since the
    scanner flags a module name taken as a value (`_Scanner.visit_Name`).
    """
    if isinstance(node, ast.Attribute):
        on_import = _root_name(node.value) in imported
        if node.attr in REFLECTIVE_ATTRIBUTES and (on_import or node.attr != "__dict__"):
            return f"`.{node.attr}` reaches code, modules or frames by reflection"
        if isinstance(node.value, ast.Name) and node.value.id == "sys" and node.attr in REFLECTIVE_SYS_NAMES:
            return f"`sys.{node.attr}` reaches modules or frames by reflection"
        return None
    if isinstance(node, ast.Name) and node.id in ("__builtins__", "__loader__", "__spec__"):
        return f"`{node.id}` reaches the interpreter's internals by reflection"
    defined = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        defined = node.id
    if defined in DISPATCH_HOOKS:
        return f"defines `{defined}`, a hook that runs any torch function in place of the one called"
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        found = [module for module in modules if module.partition(".")[0] in REFLECTIVE_MODULES]
        return f"`import {found[0]}`: a module for reflection on the running program" if found else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in UNPICKLING_FUNCTIONS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, bytes)
    ):
        return f"`.{node.func.attr}(b'...')` unpickles an object written into the source, unseen by the scan"
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    first = node.args[0] if node.args else None
    on_import = first is None or _root_name(first) in imported
    if node.func.id in REFLECTIVE_BUILTINS and (node.func.id != "vars" or on_import):
        return f"`{node.func.id}()` reads a namespace by reflection"
    if node.func.id in NAME_FUNCTIONS and len(node.args) > 1:
        name = node.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            attribute = name.value
            return (
                f"`{node.func.id}(..., {attribute!r})` is reflection"
                if attribute in REFLECTIVE_ATTRIBUTES
                else None
            )
        if on_import:
            return f"`{node.func.id}(...)` with a name computed at run time, on an imported name"
    return None


def _root_name(node: ast.expr) -> str | None:
    """The plain name an attribute chain starts at (`os` for `os.path.sep`), None for any other root."""
    chain = _attribute_chain(node)
    return None if chain is None else chain[0]


_ALLOWED_TEXTS = {
    "strict": "only torch.empty/cat/arange and torch.nn.functional.fold/unfold are allowed",
    "lenient": "only torch.empty/cat/arange, torch.nn.functional.fold/unfold, torch.load/save, devices, grad "
    "mode and dtypes are allowed (lenient)",
}


def _runs_a_program(callee: str | None) -> bool:
    """`os.system(...)`, `os.execv(...)`, `posix.spawnv(...)` (`PROCESS_FUNCTIONS`), `PROCESS_METHODS`."""
    module, _, name = (callee or "").rpartition(".")
    return (module in ("os", "posix") and name.startswith(PROCESS_FUNCTIONS)) or name in PROCESS_METHODS


def _lenient_module(module: str) -> bool:
    """`lenient` allows `import torch` and `import torch.nn.functional` (their uses are checked)."""
    return module in ("torch", "torch.nn", "torch.nn.functional", "torch.cuda")


@functools.cache
def _is_library_module(dotted: str) -> bool:
    """Whether `dotted` (`torch.nn`, `os.path`) names a module, read from its parent when that is torch
    or already imported (importing anything else to find out could run it: `antigravity`)."""
    parent, _, name = dotted.rpartition(".")
    if not parent or not (parent.partition(".")[0] == "torch" or parent in sys.modules):
        return False
    try:
        return isinstance(getattr(importlib.import_module(parent), name, None), types.ModuleType)
    except Exception:  # a module that fails to import binds nothing a scan can use
        return False


def _is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def _is_constant_text(node: ast.expr, text: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == text


def _is_constant(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value
