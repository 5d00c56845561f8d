"""The child side of `harness.sandbox.run_probe`: isolate, import the submission, run one probe.

Run as `python -m harness.probes.child SPEC.json` (the sandbox starts it through a bootstrap that puts
only the harness on `sys.path`, or forks it from `harness.probes.zygote`). SPEC names the probe, the
package copy, the scratch folder and the files to exchange. The child is two processes (see
`harness.probes.isolation`):

- the *warden* detaches into new namespaces and the view, forks the first process of the new pid
  namespace (which confines itself, forks the runner and only reaps, see `_be_init`), reads the runner's
  isolation from the kernel and writes it to the isolation file (JSON), before any submission code
  runs; it then waits for the parent's go file. When a layer that SPEC requires did not hold, it kills
  the runner and reports that instead (fail closed). Otherwise it releases the runner, receives its
  result over a pipe and writes the result file (`torch.save` of {"status", "value", "error",
  "traceback"}, status "ok", "error" or "oom") in a folder the runner's uid cannot write, and exits as
  the runner did. It never imports the submission.
- the *runner* confines itself, waits for the warden's go, imports the submission and runs the probe.
  When SPEC says `record`, import and probe run under `harness.tracing.TorchCallRecorder`, which hands
  each torch entry point the submission's code reaches out over its own pipe as it is first seen (one
  JSON line each), then a last line {"canary": true|false} (see `TorchCallRecorder.canary`); the warden
  writes them to the recording file, so the rules see what the graded run itself did.
  It leaves with `os._exit`, so atexit handlers and destructors of the submission cannot run after the
  result is sent. Anything the submission prints goes to the parent's pipes, never into the result.

The parent loads the result with `weights_only=True` and checks it again. Code of the submission runs
in the runner's own process, so it could still write that pipe itself: the parent never takes a
result's word for what it can observe (wall time, CPU time, memory are measured outside).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import random
import re
import select
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

import harness
from harness.probes.capture import MAX_RESULT_BYTES, UNSUPPORTED_DATA, describe_exception, unsupported_data
from harness.probes.isolation import (
    child_of,
    confine,
    detach,
    die_with_parent,
    limit_resources,
    verify,
    visible_paths,
)
from harness.probes.stand_ins import import_with_stand_ins
from harness.tracing import TorchCallRecorder

TRACEBACK_CHARS = 4000
GO_WAIT_S = 10.0
READ_CHUNK = 1 << 20
EXIT_NOT_RUN = 111
STATUS_BYTES = struct.calcsize("i")
MAX_RECORDING_BYTES = 4 << 20
"""A recording beyond this is not read (the parent reports it as unreadable): a few hundred distinct
entry points and lines make some 100 KB."""
PROBE_MODULE = re.compile(r"harness\.checks\.\w+\.probe|harness\.probes\.\w+")
"""The modules a child may take a probe function from: a check group's probe, or the sandbox's own."""
ALLOCATION_FAILURES = ("can't allocate memory", "not enough memory", "out of memory")


def main(argv: list[str] | None = None) -> None:
    """Be the warden of the probe SPEC names: isolate, fork and release the runner, relay its result."""
    spec = json.loads(Path((argv or sys.argv)[1]).read_text())
    root = Path(spec["root"])
    harness_dirs = [*harness.__path__, os.path.realpath(harness.__path__[0])]
    layers = detach(root / "view", root, visible_paths(harness_dirs), spec["tmpfs_mb"], spec["uid"])
    view = root / "view" if layers["filesystem"] else None
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    result_read, result_write = os.pipe()
    status_read, status_write = os.pipe()
    record_read, record_write = os.pipe()
    warden = os.getpid()
    init = os.fork()
    if init == 0:
        for fd in (ready_read, go_write, result_read, status_read, record_read):
            os.close(fd)
        confine(view, warden, spec["uid"])
        runner = os.fork()
        if runner != 0:
            for fd in (ready_write, go_read, result_write, record_write):
                os.close(fd)
            _be_init(runner, status_write)
        os.close(status_write)
        die_with_parent()
        os.write(ready_write, b"1")
        os.close(ready_write)
        if os.read(go_read, 1) != b"1":
            os._exit(EXIT_NOT_RUN)
        os.close(go_read)
        _run_runner(spec, result_write, record_write)
    for fd in (ready_write, go_read, result_write, status_write, record_write):
        os.close(fd)
    os.read(ready_read, 1)
    runner = child_of(init)
    layers.update(verify(runner, spec["uid"], view))
    isolation_file = Path(spec["isolation_file"])
    isolation_file.with_suffix(".partial").write_text(json.dumps(layers))
    isolation_file.with_suffix(".partial").replace(isolation_file)  # whole when the parent sees it
    released = _wait_for(Path(spec["go_file"]))
    missing = [layer for layer in spec["require"] if not layers.get(layer)]
    if missing or not released:
        os.kill(init, signal.SIGKILL)
        if runner is not None:
            with contextlib.suppress(OSError):
                os.kill(runner, signal.SIGKILL)
        os.waitpid(init, 0)
        why = f"{', '.join(missing)} did not hold" if missing else "the parent never released it"
        outcome = {"status": "error", "value": None, "traceback": ""}
        error = f"probe not run: the sandbox could not isolate the child ({why})"
        torch.save({**outcome, "error": error}, spec["result_file"])
        os._exit(0)
    os.write(go_write, b"1")
    os.close(go_write)
    result, recording = _read_all({result_read: MAX_RESULT_BYTES, record_read: MAX_RECORDING_BYTES})
    (reported,) = _read_all({status_read: STATUS_BYTES})
    _, status = os.waitpid(init, 0)
    if result is None:
        error = f"{UNSUPPORTED_DATA}: more than {MAX_RESULT_BYTES >> 20} MB pickled, not read"
        torch.save({"status": "error", "value": None, "error": error, "traceback": ""}, spec["result_file"])
    elif result:
        Path(spec["result_file"]).write_bytes(result)
    if spec.get("record"):
        Path(spec["recording_file"]).write_bytes(b"" if recording is None else recording)
    _exit_as(struct.unpack("i", reported)[0] if len(reported or b"") == STATUS_BYTES else status)


def _be_init(runner: int, status_fd: int) -> None:
    """Be the first process of the child's pid namespace: reap every process, send the runner's wait
    status to the warden, leave (the kernel then kills whatever is left in the namespace).

    The runner is not that first process because the kernel ignores, for it, every signal it has no
    handler for that comes from inside its namespace: a step's own SIGALRM would never kill it."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == runner:
            os.write(status_fd, struct.pack("i", status))
            os._exit(0)


def _run_runner(spec: dict[str, Any], result_fd: int, record_fd: int) -> None:
    """In the runner: limits, the submission's import path, the probe; the result goes to `result_fd`,
    the recording (when SPEC asks for one) to `record_fd`."""
    limit_resources(spec["address_space_mb"])
    os.chdir(spec["scratch"])
    sys.path[:] = [spec["package_root"]] + [entry for entry in sys.path if entry not in ("", ".")]
    args = torch.load(spec["args_file"], weights_only=True)
    torch.set_grad_enabled(False)
    torch.set_num_threads(spec["threads"])
    seed = args.get("seed", 0)
    torch.manual_seed(seed)
    random.seed(seed)
    probe = _resolve(spec["probe"])
    package_dir = Path(spec["package_root"]) / "Miniproject_2"
    if spec.get("record"):
        outcome = _recorded_run(probe, args, package_dir, spec["import_model"], record_fd)
    else:
        os.close(record_fd)
        outcome = _run(probe, args, package_dir, spec["import_model"])
    buffer = io.BytesIO()
    try:
        torch.save(outcome, buffer)
    except Exception as exc:  # the value could not be serialised: report that instead
        outcome = {"status": "error", "value": None, "error": f"probe result could not be saved: {exc}"}
        buffer = io.BytesIO()
        torch.save({**outcome, "traceback": ""}, buffer)
    with contextlib.suppress(OSError), os.fdopen(result_fd, "wb") as stream:
        stream.write(buffer.getvalue())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _recorded_run(
    probe: Callable[[ModuleType | None, dict[str, Any]], Any],
    args: dict[str, Any],
    package_dir: Path,
    import_model: bool,
    record_fd: int,
) -> dict[str, Any]:
    """`_run` under a recorder that writes each record to `record_fd` as a JSON line, then the canary's."""
    stream = os.fdopen(record_fd, "wb", buffering=0)

    def send(record: dict[str, Any]) -> None:
        stream.write(json.dumps(record).encode() + b"\n")

    recorder = TorchCallRecorder(package_dir, sink=send)
    recorder.step = probe.__name__
    recorder.__enter__()
    alive = False
    try:
        outcome = _run(probe, args, package_dir, import_model)
        alive = recorder.canary()
    except Exception:  # the submission broke the recorder's state: the recording says so (no canary)
        outcome = _failure("probe not finished: the torch call recorder was broken by the submission")
    finally:
        with contextlib.suppress(Exception):  # a mode stack the submission emptied cannot be popped
            recorder.__exit__(None, None, None)
    with contextlib.suppress(Exception):
        send({"canary": alive})
        stream.close()
    return outcome


def _read_all(limits: dict[int, int]) -> list[bytes | None]:
    """Everything written to each pipe of `limits` (fd -> most bytes kept) until all are closed, read
    side by side so that no writer blocks on a full pipe; None for a pipe that sent more than its limit
    (the warden keeps it all in memory until the runner ends)."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in limits}
    totals = dict.fromkeys(limits, 0)
    open_fds = list(limits)
    while open_fds:
        for fd in select.select(open_fds, [], [])[0]:
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                open_fds.remove(fd)
                os.close(fd)
                continue
            totals[fd] += len(chunk)
            if totals[fd] <= limits[fd]:
                chunks[fd].append(chunk)
    return [b"".join(chunks[fd]) if totals[fd] <= limits[fd] else None for fd in limits]


def _exit_as(status: int) -> None:
    """Leave with the runner's exit code, or die of the signal that killed it (SIGKILL has no handler
    to reset: setting one raises, which would make a killed runner look like an exit with code 1)."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number != signal.SIGKILL:
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _wait_for(go_file: Path) -> bool:
    """Whether the parent, having seen this child isolated, wrote `go_file` within `GO_WAIT_S`."""
    deadline = time.monotonic() + GO_WAIT_S
    while not go_file.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    return go_file.exists()


def _resolve(probe: str) -> Callable[[ModuleType | None, dict[str, Any]], Any]:
    """The function named by "harness.checks.<group>.probe:<function>" (a check group's probe module,
    see `harness.checks.registry`) or "harness.probes.<module>:<function>" (the sandbox's own)."""
    module_name, _, function_name = probe.partition(":")
    if not PROBE_MODULE.fullmatch(module_name) or not function_name:
        raise ValueError(
            f"probe {probe!r} is not of the form harness.checks.<group>.probe:<function> "
            "or harness.probes.<module>:<function>"
        )
    return getattr(importlib.import_module(module_name), function_name)


def _run(
    probe: Callable[[ModuleType | None, dict[str, Any]], Any],
    args: dict[str, Any],
    package_dir: Path,
    import_model: bool,
) -> dict[str, Any]:
    """Import the submission's model.py (unless told not to), call the probe, and describe the outcome."""
    model = None
    try:
        if import_model:
            model = import_with_stand_ins("Miniproject_2.model", package_dir)
            imported_from = Path(model.__file__ or "").resolve()
            if package_dir.resolve() not in imported_from.parents:
                return _failure(f"Miniproject_2.model was imported from {imported_from}, not the submission")
        value = probe(model, args)
    except BaseException as exc:  # the submission may raise anything, SystemExit included
        return _failure(describe_exception(exc, package_dir), exc, _is_allocation_failure(exc))
    problem = unsupported_data(value)
    if problem is not None:
        return _failure(f"{UNSUPPORTED_DATA}: {problem}")
    return {"status": "ok", "value": value, "error": "", "traceback": ""}


def _failure(error: str, exc: BaseException | None = None, out_of_memory: bool = False) -> dict[str, Any]:
    trace = "" if exc is None else "".join(traceback.format_exception(exc))[-TRACEBACK_CHARS:]
    return {"status": "oom" if out_of_memory else "error", "value": None, "error": error, "traceback": trace}


def _is_allocation_failure(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(text in str(exc) for text in ALLOCATION_FAILURES)


if __name__ == "__main__":
    main()
