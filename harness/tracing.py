"""Recording which torch functions a submission's own code reaches while it runs.

`TorchCallRecorder` is a `torch.overrides.TorchFunctionMode`: every torch function, tensor method,
tensor property and operator dispatched while it is active reaches `__torch_function__` first. For each,
the recorder walks the Python stack outwards to the innermost frame inside the submission's package
folder (`site`) and names the *entry*: the torch API that the submission's code called to get there.

- Direct call: between the site and the dispatch there is only torch's own dispatch machinery
  (`torch/overrides.py`, and the Python body of the dispatched function itself, e.g. `F.relu`).
  The entry is the dispatched function, named by `torch.overrides.resolve_name`
  ("torch.nn.functional.conv2d", "torch.Tensor.add", "torch.Tensor.shape.__get__").
- Indirect call: torch code that is not itself dispatched lies in between (`torch.load`, an
  `nn.Conv2d` constructor, `with torch.enable_grad()`). The entry is the outermost such torch frame,
  i.e. the torch API the site called ("torch.serialization.load", "torch.nn.modules.conv.Conv2d.__init__"),
  so what torch does internally is attributed to the public call, never reported on its own.
- Calls whose stack holds no submission frame (the harness building inputs) are not recorded.

A frame is the submission's when its code's file lies in the package folder, or, whatever file its
code claims (`co_filename` can be rewritten with `code.replace`), when it runs with the globals of one
of the package's modules: the recorder keeps those module dictionaries by identity (`adopt`, after
each step), and a function keeps the dictionary of the module that defined it.

While a dispatched function runs, torch disables the mode, so what it calls internally is never seen:
`F.unfold` is recorded once, not the `im2col` kernel behind it.

Some things need more than the mode, and are patched while the recorder is active:
- `nn.Module.__init__` and `nn.Module.__call__`: a submission's own `nn.Module` subclass runs only its
  own code inside them, so the mode alone would see nothing torch-side. When the harness builds such a
  subclass itself (no submission frame on the stack), the use is reported at the class statement.
- `torch.jit.load`, recorded under that name even when `torch.load` calls it (a TorchScript archive,
  however it was packed): the code it loads runs in TorchScript, where no call reaches the mode.
- `_imp.create_dynamic`, through which every compiled module is loaded: one from outside the Python
  installation is recorded as `COMPILED_ENTRY`, since its C++ calls into torch never reach the mode.

Each record carries a `flag` for autograd use that only the arguments show: "requires_grad" (a tensor
made or marked with `requires_grad=True`) and "grad_enabled" / "grad_disabled" (grad mode switched on or
off, e.g. by `torch.set_grad_enabled(True)`, `torch.enable_grad()`, `torch.no_grad()`).

Every thread is traced: torch keeps modes per thread, so while the recorder is active each thread
started through `threading` or `_thread` enters it first. `suspended()` runs code without it (the
probe re-runs a step that failed while recorded: one that passes only unrecorded hides something).

In the very children whose results are graded, the recorder runs around the whole probe (see
`harness.probes.child`), and hands each record out the moment it is first seen (`sink`): what the
submission's code reached before it tampered with the recorder (emptied it, popped the mode) has left
its process already. `canary()` then checks, from a frame the recorder takes for the submission's,
that the recorder still records and hands out at the end.

Limits: a thread started through a `start_new_thread` saved before the recorder was entered, and C
threads, are not traced; torch entry points that dispatch nothing (`torch.manual_seed`) are invisible
here and left to `rules.static`; code that deliberately turns torch function handling off
(`torch._C.DisableTorchFunction`) escapes it (and `rules.static` flags the reflection that reaches it).

The recorder judges nothing: `harness.checks.runtime_rules.judge` classifies entries in the parent process.
"""

from __future__ import annotations

import _imp
import _thread
import inspect
import linecache
import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import torch
import torch.overrides
from torch.overrides import TorchFunctionMode, _pop_mode_temporarily

TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
OVERRIDES_FILE = torch.overrides.__file__
TRACING_FILE = __file__
CODE_CHARS = 160
RELABELLED = "<re-labelled code>"
VARIABLE_FUNCTIONS = "torch._VariableFunctionsClass."
FLAGGED_BY_ARGUMENTS = frozenset(
    {"torch.Tensor.requires_grad_", "torch.Tensor.requires_grad.__set__", "torch._C._set_grad_enabled"}
)
"""Entry points whose record depends on their positional arguments (see `_flag`): never fast-pathed."""
OWN_HOOKS = ("__torch_function__", "__torch_dispatch__")
"""Dispatch hooks a tensor subclass may define: the submission's own are recorded where they are reached."""
COMPILED_ENTRY = "_imp.create_dynamic"
"""The entry recorded when a compiled module from outside the Python installation is loaded (target: its
file name): its C++ calls into torch (`at::conv2d`) never reach the mode."""
INSTALLED = tuple(
    {
        os.path.realpath(p) + os.sep
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values())
    }
)
"""Where the interpreter's and its packages' own compiled modules live (torch's included)."""
CANARY_FILE = "<harness-canary>"
"""The file name of the canary's code: inside the package folder as far as the recorder can tell."""
CANARY_SOURCE = "def canary(empty):\n    return empty(0)\n"
ENTRY_ALIASES = {
    "torch.nn.modules.module.Module._wrapped_call_impl": "torch.nn.Module.__call__",
    "torch.nn.modules.module.Module._call_impl": "torch.nn.Module.__call__",
    "torch.serialization.load": "torch.load",
    "torch.serialization.save": "torch.save",
    "torch._C._set_grad_enabled": "torch.set_grad_enabled",
    "torch.autograd.grad_mode.set_grad_enabled.__init__": "torch.set_grad_enabled",
    "torch.autograd.grad_mode.enable_grad.__enter__": "torch.enable_grad",
    "torch.autograd.grad_mode.enable_grad.__exit__": "torch.enable_grad",
    "torch.autograd.grad_mode.no_grad.__enter__": "torch.no_grad",
    "torch.autograd.grad_mode.no_grad.__exit__": "torch.no_grad",
}
"""Internal names of public entry points, shown under the name a student wrote."""


@dataclass(frozen=True)
class TorchCall:
    """One torch entry point reached from one line of the submission, with how often and where first.

    `file` is relative to the package folder (POSIX), `function` the qualified name of the submission's
    function at that line, `code` the source line, `step` the probe step in which it was first seen,
    `target` the class of the module for `nn.Module` entries.
    """

    entry: str
    flag: str | None
    target: str | None
    file: str
    line: int
    function: str
    code: str
    count: int
    step: str

    def as_data(self) -> dict[str, Any]:
        return asdict(self)


class TorchCallRecorder(TorchFunctionMode):
    """Record torch entry points reached from the code under `package_dir` (see the module docstring).

    Use as a context manager; name the current workload step with `stepping(name)`. Recording never
    raises into the submission's code: a call is always passed on to torch unchanged.
    """

    def __init__(self, package_dir: Path | str, sink: Callable[[dict[str, Any]], None] | None = None) -> None:
        super().__init__()
        root = os.path.realpath(package_dir)
        self._prefixes = tuple({root + os.sep, os.path.abspath(package_dir) + os.sep})
        self._root = root
        self._calls: dict[tuple[str, str | None, str | None, str, int], list[Any]] = {}
        self._names: dict[Any, str] = {}
        self._relative: dict[str, str] = {}
        self._direct: dict[tuple[Any, Any, int], list[Any]] = {}
        """(func, site code, line) -> its record: the fast path of a direct call seen before."""
        self._own_codes: dict[Any, frozenset] = {}
        self._hooks: dict[type, str | None] = {}
        self._package = Path(package_dir).name
        self._globals: dict[int, dict] = {}
        self._patches: list[tuple[Any, str, Any]] = []
        self._sink = sink
        self.step = "import"
        self.adopt()

    @contextmanager
    def stepping(self, name: str) -> Iterator[None]:
        """Attribute what runs inside to step `name`."""
        previous, self.step = self.step, name
        try:
            yield
        finally:
            self.step = previous
            self.adopt()

    def adopt(self) -> None:
        """Remember, by identity, the globals of every module of the package imported so far."""
        for name, module in list(sys.modules.items()):
            if name == self._package or name.startswith(self._package + "."):
                namespace = getattr(module, "__dict__", None)
                if type(namespace) is dict:
                    self._globals[id(namespace)] = namespace

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Run the code inside with no recorder (mode popped, nothing patched), then resume."""
        self._unpatch()
        try:
            with _pop_mode_temporarily():
                yield
        finally:
            self._patch()

    def canary(self) -> bool:
        """Whether a dispatch from a frame the recorder takes for the submission's (a code object of
        `CANARY_FILE` in the package folder) is still recorded and handed to the sink; the canary's
        own record is then dropped. False once the submission popped the mode or broke the recorder."""
        namespace: dict[str, Any] = {}
        exec(compile(CANARY_SOURCE, os.path.join(self._root, CANARY_FILE), "exec"), namespace)
        handed: list[dict[str, Any]] = []
        sink, self._sink = self._sink, handed.append
        try:
            namespace["canary"](torch.empty)
        finally:
            self._sink = sink
        canaries = [key for key in self._calls if key[3] == CANARY_FILE]
        for key in canaries:
            del self._calls[key]
        alive = len(canaries) == 1 and len(handed) == 1
        if alive and sink is not None:
            sink(handed[0])
        return alive

    def calls(self) -> list[TorchCall]:
        """Everything recorded so far, in the order first seen."""
        return [
            TorchCall(entry, flag, target, file, line, function, code, count, step)
            for (entry, flag, target, file, line), (function, code, count, step) in self._calls.items()
        ]

    def __enter__(self) -> TorchCallRecorder:
        self._patch()
        try:
            super().__enter__()
        except BaseException:
            self._unpatch()
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._unpatch()

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        self._record_dispatch(func, args, kwargs)
        for hook in {self._own_hook(cls) for cls in (*types, *map(type, args))} - {None}:
            self._record_hook(hook)
        return func(*args, **kwargs)

    def _own_hook(self, cls: type) -> str | None:
        """The name of the submission's dispatch hook (`OWN_HOOKS`) that `cls` carries, or None. torch
        runs it for every call on such a tensor while this mode is off: what it calls is never seen."""
        if cls not in self._hooks:
            self._hooks[cls] = None
            for name in OWN_HOOKS:
                owner = next((k for k in getattr(cls, "__mro__", ()) if name in vars(k)), None)
                function = getattr(vars(owner)[name], "__func__", vars(owner)[name]) if owner else None
                code = getattr(function, "__code__", None)
                if code is not None and (
                    code.co_filename.startswith(self._prefixes)
                    or id(getattr(function, "__globals__", None)) in self._globals
                ):
                    self._hooks[cls] = f"{owner.__module__}.{owner.__qualname__}.{name}"
        return self._hooks[cls]

    def _record_hook(self, hook: str) -> None:
        found = self._locate(sys._getframe(2), frozenset())
        if found is not None:
            self._add(hook, None, None, found[0])

    def _record_dispatch(self, func: Any, args: tuple, kwargs: dict) -> None:
        found = self._locate(sys._getframe(2), self._own_code(func))
        if found is None:
            return
        site, inner = found
        direct = inner is None and not kwargs  # then the record depends on func and site alone
        if direct:
            record = self._direct.get((func, site.f_code, site.f_lineno))
            if record is not None:
                record[2] += 1
                return
        name = self._name(func)
        entry = self._entry_of_frame(inner) if inner is not None else name
        key = self._add(entry, _flag(name, args, kwargs), None, site)
        if direct and name not in FLAGGED_BY_ARGUMENTS:
            self._direct[(func, site.f_code, site.f_lineno)] = self._calls[key]

    def _locate(self, frame: FrameType | None, own: frozenset) -> tuple[FrameType, FrameType | None] | None:
        """(innermost submission frame, outermost torch frame below it that is not dispatch machinery)."""
        inner = None
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(self._prefixes) or id(frame.f_globals) in self._globals:
                return frame, inner
            if filename.startswith(TORCH_DIR) and filename != OVERRIDES_FILE and frame.f_code not in own:
                inner = frame
            frame = frame.f_back
        return None

    def _add(self, entry: str, flag: str | None, target: str | None, site: FrameType) -> tuple:
        filename = site.f_code.co_filename
        if not filename.startswith(self._prefixes):  # re-labelled code, found by its module's globals
            module_file = site.f_globals.get("__file__")
            in_package = type(module_file) is str and module_file.startswith(self._prefixes)
            filename = module_file if in_package else os.path.join(self._root, RELABELLED)
        return self._add_at(entry, flag, target, filename, site.f_lineno, site.f_code.co_qualname)

    def _add_at(
        self, entry: str, flag: str | None, target: str | None, filename: str, line: int, function: str
    ) -> tuple:
        """Count one call of `entry` at `filename:line`; returns its key in the records."""
        relative = self._relative.get(filename)
        if relative is None:
            relative = Path(os.path.relpath(os.path.realpath(filename), self._root)).as_posix()
            self._relative[filename] = relative
        key = (ENTRY_ALIASES.get(entry, entry), flag, target, relative, line)
        record = self._calls.get(key)
        if record is None:
            code = linecache.getline(filename, line).strip()[:CODE_CHARS]
            self._calls[key] = [function, code, 1, self.step]
            if self._sink is not None:
                self._hand_out(TorchCall(*key, function, code, 1, self.step))
        else:
            record[2] += 1
        return key

    def _hand_out(self, call: TorchCall) -> None:
        """Give `call` to the sink; a sink that fails (its channel closed by the submission) is dropped,
        which the canary then reports."""
        try:
            self._sink(call.as_data())
        except Exception:
            self._sink = None

    def _name(self, func: Any) -> str:
        name = self._names.get(func)
        if name is None:
            name = torch.overrides.resolve_name(func) or (
                f"{getattr(func, '__module__', None) or '?'}.{getattr(func, '__qualname__', repr(func))}"
            )
            if name.startswith(VARIABLE_FUNCTIONS):  # torch's name table was built while `torch.empty`
                name = "torch." + name.removeprefix(VARIABLE_FUNCTIONS)  # was rebound: the public name
            self._names[func] = name
        return name

    def _own_code(self, func: Any) -> frozenset:
        """Code objects of `func`'s own Python body and of the wrappers around it (dispatch frames)."""
        codes = self._own_codes.get(func)
        if codes is None:
            found, current = set(), func
            while current is not None and len(found) < 8:
                code = getattr(current, "__code__", None)
                if code is not None:
                    found.add(code)
                current = getattr(current, "__wrapped__", None)
            codes = self._own_codes[func] = frozenset(found)
        return codes

    @staticmethod
    def _entry_of_frame(frame: FrameType) -> str:
        module = frame.f_globals.get("__name__", "?")
        return f"{module}.{frame.f_code.co_qualname}"

    def _patch(self) -> None:
        """Patch `nn.Module.__init__/__call__` to record, and thread starts to enter this mode."""
        recorder = self
        original_init = torch.nn.Module.__init__
        original_call = torch.nn.Module.__call__
        original_start = _thread.start_new_thread
        original_jit_load = torch.jit.load
        original_create_dynamic = _imp.create_dynamic

        def traced_start(function: Any, args: tuple, kwargs: dict | None = None) -> int:
            def traced(*inner_args: Any, **inner_kwargs: Any) -> Any:
                with _entered_in_this_thread(recorder):
                    return function(*inner_args, **inner_kwargs)

            return original_start(traced, args, kwargs or {})

        def recording_init(module: torch.nn.Module, *args: Any, **kwargs: Any) -> None:
            recorder._record_module("torch.nn.Module.__init__", module)
            original_init(module, *args, **kwargs)

        def recording_call(module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
            recorder._record_module("torch.nn.Module.__call__", module)
            return original_call(module, *args, **kwargs)

        def recording_jit_load(*args: Any, **kwargs: Any) -> Any:
            found = recorder._locate(sys._getframe(1), frozenset())
            if found is not None:
                recorder._add("torch.jit.load", None, None, found[0])
            return original_jit_load(*args, **kwargs)

        def recording_create_dynamic(spec: Any, *args: Any) -> Any:
            origin = getattr(spec, "origin", None)
            if isinstance(origin, str) and not os.path.realpath(origin).startswith(INSTALLED):
                found = recorder._locate(sys._getframe(1), frozenset())
                if found is not None:
                    recorder._add(COMPILED_ENTRY, None, os.path.basename(origin), found[0])
            return original_create_dynamic(spec, *args)

        for owner, name, replacement, original in (
            (torch.nn.Module, "__init__", recording_init, original_init),
            (torch.nn.Module, "__call__", recording_call, original_call),
            (torch.jit, "load", recording_jit_load, original_jit_load),
            (_imp, "create_dynamic", recording_create_dynamic, original_create_dynamic),
            (_thread, "start_new_thread", traced_start, original_start),
            (threading, "_start_new_thread", traced_start, threading._start_new_thread),
        ):
            self._patches.append((owner, name, original))
            setattr(owner, name, replacement)

    def _record_module(self, entry: str, module: torch.nn.Module) -> None:
        found = self._locate(sys._getframe(2), frozenset())
        target = type(module).__qualname__
        if found is not None:
            site, inner = found
            self._add(self._entry_of_frame(inner) if inner is not None else entry, None, target, site)
            return
        defined = self._class_site(type(module))
        if defined is not None:
            self._add_at(entry, None, target, *defined)

    def _class_site(self, cls: type) -> tuple[str, int, str] | None:
        """(file, line, name) of the first class in `cls`'s MRO defined in the submission, if any.

        A submission's `nn.Module` subclass may be built and run by the harness directly (no submission
        frame on the stack); it is then reported at its class statement.
        """
        for klass in cls.__mro__:
            try:
                filename = inspect.getsourcefile(klass)
                if filename and os.path.realpath(filename).startswith(self._prefixes):
                    return filename, inspect.getsourcelines(klass)[1], klass.__qualname__
            except (OSError, TypeError):
                continue
        return None

    def _unpatch(self) -> None:
        while self._patches:
            owner, name, original = self._patches.pop()
            setattr(owner, name, original)


@contextmanager
def _entered_in_this_thread(recorder: TorchCallRecorder) -> Iterator[None]:
    """`recorder`'s mode pushed in a thread it was not entered in (torch keeps modes per thread)."""
    TorchFunctionMode.__enter__(recorder)
    try:
        yield
    finally:
        TorchFunctionMode.__exit__(recorder, None, None, None)


def _flag(name: str, args: tuple, kwargs: dict) -> str | None:
    """The autograd use that only the arguments of a call show, if any."""
    if kwargs.get("requires_grad"):
        return "requires_grad"
    if name == "torch.Tensor.requires_grad_":
        wanted = kwargs.get("requires_grad", args[1] if len(args) > 1 else True)
        return "requires_grad" if wanted else None
    if name == "torch.Tensor.requires_grad.__set__" and len(args) > 1 and args[1]:
        return "requires_grad"
    if name == "torch._C._set_grad_enabled" and args:
        return "grad_enabled" if args[0] else "grad_disabled"
    return None
