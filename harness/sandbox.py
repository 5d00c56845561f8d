"""Run a probe against a submission in a child process, under limits, and bring back plain data.

Student code never runs in the harness's own process. `run_probe` copies the submission's
`Miniproject_2` folder (bytecode removed) into a fresh temporary folder, starts `harness.probes.child`
there in a new session with a scrubbed environment, and watches it:

- wall time: past `Limits.wall_s` the child's processes are killed with SIGKILL -> status "timeout";
- memory: the resident set of every process of the child is summed from /proc every few milliseconds;
  past `Limits.memory_mb` they are killed -> "oom". An address-space rlimit in the child
  (`MEMORY_RLIMIT_FACTOR` times the limit) stops allocations too fast for polling, and a cgroup
  (`_Cgroup`, where the machine lets the harness make one) bounds memory with tmpfs included; the
  kernel's OOM kill there is "oom" too;
- output: stdout and stderr are drained by two threads that keep only the first and last
  `Limits.output_bytes / 2` bytes of each, so a print flood costs neither memory nor disk;
- death by a signal, or an exit without a result file -> "crash"; a SIGKILL that neither the
  harness sent for a limit nor the kernel for the cgroup's memory -> "killed" (the child may have sent
  it to itself, or the machine did: the status says only that the harness did not).

Whose fault a failure is rests on one observation of the parent's own, `ChildRun.released`: whether it
let the child go on past isolation to the submission's code. Before that, nothing of the submission can
have run, so a child that fails unreleased failed in the set-up; once released, everything it reports
or does (its result, its exit, its death) may be the submission's work.

The child's processes are those of its session, its cgroup and every process in its private network
namespace: a process that starts a session of its own (`setsid`, a daemon's double fork) leaves the
session but not the namespace or the cgroup, so it is counted and killed too (and its pid namespace
dies with the child). Whatever is left is killed when the probe ends. Every kill names the child's
processes so that no other process can be hit: `cgroup.kill` where the cgroup holds (exactly its
members), a pidfd for the child itself (the very process, even once its pid is reused), and the
session, process-group and namespace scans only as the fallback, and the session ones only while the
child is not yet reaped (a reaped child's pid, and so its session and group ids, may belong to any new
process, such as the next child). The child waits, after isolating
itself and before any submission code runs, until the parent has read that namespace from /proc and
put its processes in the cgroup (the go file), so even a child that ends at once leaves nothing behind.
The parent reads the child's isolation file at that moment too, while only the warden has written it.

The child isolates itself before importing the submission (see `harness.probes.isolation`): which
layers held comes back in `ChildRun.isolation`, and a child missing a layer that `required_layers`
found on this machine does not run at all. The result comes back as a `torch.save` file, written by
the child's warden in a folder the submission's uid cannot write, loaded with `weights_only=True` and
checked with `unsupported_data`, so no object the submission builds can reach this process;
`bestmodel.pth` is only ever unpickled in the child. Times and memory in `ChildRun` are the parent's
own observations (and the kernel's), never figures the child reports. A child run with `record=True`
also brings back what `harness.tracing.TorchCallRecorder` saw in it (`ChildRun.recording`), written by
the warden as the runner handed it out.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import json
import math
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import harness
from harness.probes.capture import (
    MAX_RESULT_BYTES,
    UNSUPPORTED_DATA,
    printable,
    printable_data,
    unsupported_data,
)
from harness.probes.child import GO_WAIT_S
from harness.probes.isolation import LAYERS, child_uid, give
from harness.probes.zygote import READY
from harness.submission import special_files, without_bytecode
from harness.tracing import CANARY_FILE

MEMORY_RLIMIT_FACTOR = 2
MEMORY_RLIMIT_MIN_EXTRA_MB = 2048
WRITABLE_SHARE = 0.5
"""The share of the memory limit that every place the child writes in holds together (one tmpfs, see
`harness.probes.isolation`): files past it fail with ENOSPC while the child still has memory to run."""
POLL_S = 0.02
START_POLL_S = 0.002
"""Polling interval until the child has isolated itself (it waits for the go file then)."""
SCAN_EVERY = 10
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
DRAIN_JOIN_S = 2.0
ISOLATION_FILE = "isolation.json"
RECORDING_FILE = "recording.jsonl"
"""Written by the warden in io/ for a recorded child: one JSON line per record, then the canary's."""
RECORD_FIELDS = {
    "entry": (str,),
    "flag": (str, type(None)),
    "target": (str, type(None)),
    "file": (str,),
    "line": (int,),
    "function": (str,),
    "code": (str,),
    "count": (int,),
    "step": (str,),
}
"""The fields of one `harness.tracing.TorchCall` record, with the types a line of the file may give."""
"""Written by the child in io/ once isolated, before any submission code runs."""
GO_FILE = "go"
"""Written by the parent in io/ once it has read the isolated child's namespace: the child then goes on."""
RELEASE_BY_S = GO_WAIT_S / 2
"""The parent writes the go file only this soon after the isolation file was written, well before the
warden stops waiting for it (`GO_WAIT_S`): a child it released has surely gone on, and one it was too
slow for (a stalled parent) is not released at all, so `ChildRun.released` is never a guess."""
OWN_NET_NAMESPACE = os.readlink("/proc/self/ns/net") if os.path.exists("/proc/self/ns/net") else None
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
CHILD_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); from harness.probes.child import main; main(sys.argv[1:])"
)
SERVER_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from harness.probes.zygote import serve; serve(*sys.argv[2:])"
)
START_METHOD = os.environ.get("HARNESS_SANDBOX_START", "fork-server")
"""How children start: "fork-server" (forked from a process that imported torch once; the default) or
"fresh" (a new interpreter each). Falls back to "fresh" when the fork server cannot start."""
FORK_REPLY_S = 30.0
SERVER_START_S = 120.0
SERVER_STOP_S = 5.0
KILL_WAIT_S = 10.0
TRIAL_PROBE = "harness.probes.call:call"


@dataclass(frozen=True)
class Limits:
    """What one child may use: seconds of wall time, MB of resident memory, bytes of output kept, threads."""

    wall_s: float = 60
    memory_mb: int = 4096
    output_bytes: int = 20_000
    threads: int = 1


TRIAL_LIMITS = Limits(wall_s=60, memory_mb=2048)


@dataclass(frozen=True)
class ChildRun:
    """What happened in one child.

    `status` is "ok" (then `value` holds what the probe returned: its plain dict from `run_probe`, a
    Model step's typed record once `harness.checks.model_steps.runner` has parsed it), "error" (the
    probe or the import raised: `error` is the one-line `describe_exception` text), "timeout", "oom",
    "crash" or "killed" (a SIGKILL neither the harness nor the kernel's memory accounting explains).
    `released` is the parent's own observation of whether the child was let go on to the submission's
    code (it saw the child isolated with every required layer and wrote the go file within
    `RELEASE_BY_S`): False means no submission code ran, so whatever went wrong is the set-up's; the
    default, True, is what a run built anywhere else is taken as (the submission may have run), so no
    one gets a re-run by omission.
    `*_tail` fields keep the head and tail of what the child printed, control characters stripped.
    `network_isolated` and `filesystem_isolated` say whether the OS let the child cut its network and
    see nothing of the grader's files; `isolation` holds every layer of `harness.probes.isolation`
    (and "cgroup") with whether it held.

    The figures the parent observed itself, never taken from the child's word: `duration_s` (wall
    time, measured here), `cpu_s` (user + system CPU time of the child's processes, from the kernel:
    `cpu_source` says whence, "cgroup" for the usage in the child's cgroup's `cpu.stat`, which counts
    every process the child started from the moment it was released to run, reaped or not, else
    "rusage" of the reaped child, which counts it and the descendants it waited for),
    `peak_memory_mb` (the resident set polled from /proc) and `max_rss_mb` (the kernel's peak
    resident set of its largest process).
    """

    status: str
    value: Any
    error: str
    traceback_tail: str
    stdout_tail: str
    stderr_tail: str
    duration_s: float
    network_isolated: bool
    filesystem_isolated: bool = False
    peak_memory_mb: float = 0.0
    cpu_s: float = 0.0
    cpu_source: str = "rusage"
    max_rss_mb: float = 0.0
    isolation: Mapping[str, bool] = field(default_factory=dict)
    recording: Recording | None = None
    released: bool = True


@dataclass(frozen=True)
class Recording:
    """What the recorder in a graded child handed out: `calls` (`harness.tracing.TorchCall` data, the
    canary's own left out) and whether the recording is `complete` (its last line says the canary was
    recorded: the recorder still worked when the probe ended); `problem` says why not, in words."""

    calls: tuple[Mapping[str, Any], ...]
    complete: bool
    problem: str = ""


class _OutputCapture:
    """Drains one pipe (a file descriptor it then owns) on a thread, keeping the first and last
    `limit / 2` bytes and a byte count."""

    def __init__(self, fd: int, limit: int) -> None:
        self._fd = fd
        self._half = max(limit // 2, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(self._fd, 1 << 16):
                self._total += len(chunk)
                room = self._half - len(self._head)
                if room > 0:
                    self._head += chunk[:room]
                    chunk = chunk[room:]
                self._tail += chunk
                if len(self._tail) > 2 * self._half:
                    del self._tail[: len(self._tail) - self._half]

    def text(self) -> str:
        """Head and tail of the output; the skipped middle is marked with its size. Closes the pipe."""
        self._thread.join(DRAIN_JOIN_S)
        if not self._thread.is_alive():
            os.close(self._fd)
        tail = bytes(self._tail[-self._half :])
        skipped = self._total - len(self._head) - len(tail)
        middle = f"\n[... {skipped} bytes not kept ...]\n".encode() if skipped > 0 else b""
        return (bytes(self._head) + middle + tail).decode("utf-8", errors="replace")


class _FreshChild:
    """A child started as a new interpreter (`python -c BOOTSTRAP LIB SPEC`): slower, needs nothing."""

    def __init__(
        self, root: Path, spec_file: Path, environment: dict[str, str], stdout: int, stderr: int
    ) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-s", "-c", CHILD_BOOTSTRAP, str(root / "lib"), str(spec_file)],
            cwd=root / "scratch",
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        self.pid = self._process.pid
        self.pidfd = _pidfd(self.pid)  # opened before this process reaps it: the child itself
        self.usage: tuple[float, float] = (0.0, 0.0)

    def wait(self, timeout: float | None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running after `timeout`.

        Reaps with `os.wait4`, so `usage` holds the kernel's (CPU seconds, peak RSS MB) of the child."""
        if self._process.returncode is not None:
            return self._process.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.usage = _usage(rusage)
                self._process.returncode = os.waitstatus_to_exitcode(status)
                return self._process.returncode
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            time.sleep(START_POLL_S if left is None else min(START_POLL_S, left))


class _ForkedChild:
    """A child forked by the fork server (`harness.probes.zygote`), which reports its wait status."""

    def __init__(
        self, server: _ForkServer, spec_file: Path, environment: dict[str, str], stdout: int, stderr: int
    ) -> None:
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._buffer = b""
        self._pidfds: list[int] = []
        self._returncode: int | None = None
        try:
            self._connection.connect(str(server.address))
            request = json.dumps({"spec": str(spec_file), "environment": environment}).encode() + b"\n"
            socket.send_fds(self._connection, [request], [stdout, stderr])
            reply = self._message(FORK_REPLY_S)
        except OSError as error:
            self._connection.close()
            raise _ForkServerError(f"fork server unreachable: {error}") from error
        if reply is None or "pid" not in reply:
            self._connection.close()
            raise _ForkServerError(f"fork server refused the child: {reply}")
        self.pid = int(reply["pid"])
        self.pidfd = self._pidfds[0] if self._pidfds else None  # opened by the server before reaping
        self.usage: tuple[float, float] = (0.0, 0.0)

    def wait(self, timeout: float | None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running after `timeout`.

        The server reaps with `os.wait4` and sends the kernel's usage along: `usage` as for `_FreshChild`."""
        if self._returncode is None:
            message = self._message(timeout)
            if message is not None:
                status = message.get("wait_status")
                self._returncode = -signal.SIGKILL if status is None else os.waitstatus_to_exitcode(status)
                self.usage = (float(message.get("cpu_s", 0.0)), float(message.get("max_rss_mb", 0.0)))
                self._connection.close()
        return self._returncode

    def _message(self, timeout: float | None) -> dict[str, Any] | None:
        """The next JSON line from the server; None on timeout; {} when the server closed the connection."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._connection], [], [], left)[0]:
                return None
            chunk, fds, _, _ = socket.recv_fds(self._connection, 4096, 1)
            self._pidfds += fds
            if not chunk:
                return {}
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


class _ForkServerError(RuntimeError):
    """The fork server could not start or serve a child: the sandbox falls back to fresh processes."""


class _ForkServer:
    """One `harness.probes.zygote` process per harness process, started on first use."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="harness-forkserver-")).resolve()  # mode 0700: the
        # socket inside is reachable by this uid only (children run as others, and never see /tmp)
        self.address = self.folder / "socket"
        _link_harness(self.folder / "lib")
        with (self.folder / "server.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-s",
                    "-c",
                    SERVER_BOOTSTRAP,
                    str(self.folder / "lib"),
                    str(self.address),
                    str(Path(tempfile.gettempdir()).resolve()),
                ],
                cwd=self.folder,
                env=_child_environment(self.folder, Limits()),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        ready = select.select([self._process.stdout], [], [], SERVER_START_S)[0]
        if not ready or self._process.stdout.readline() != READY:
            self.close()
            raise _ForkServerError(f"fork server did not start (see {self.folder / 'server.log'})")
        atexit.register(self.close)

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """Stop the server (closing its stdin makes it kill its children and exit) and remove its folder."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_server_lock = threading.Lock()
_server: _ForkServer | None = None
_server_failed = False


def _fork_server() -> _ForkServer | None:
    """The running fork server, started if needed; None when it cannot start (fresh processes then)."""
    global _server, _server_failed
    with _server_lock:
        if _server is not None and not _server.alive():
            _server.close()
            _server = None
        if _server is None and not _server_failed:
            try:
                _server = _ForkServer()
            except (OSError, _ForkServerError):
                _server_failed = True
        return _server


def _start_child(
    root: Path, spec_file: Path, limits: Limits, stdout: int, stderr: int
) -> _FreshChild | _ForkedChild:
    """A child from the fork server when START_METHOD allows and it works, else a fresh interpreter."""
    environment = _child_environment(root, limits)
    server = _fork_server() if START_METHOD == "fork-server" else None
    if server is not None:
        with contextlib.suppress(_ForkServerError):
            return _ForkedChild(server, spec_file, environment, stdout, stderr)
    return _FreshChild(root, spec_file, environment, stdout, stderr)


def run_probe(
    probe: str,
    package_dir: Path,
    args: Mapping[str, Any] | None = None,
    limits: Limits = Limits(),
    import_model: bool = True,
    record: bool = False,
) -> ChildRun:
    """Run `probe` ("harness.probes.<module>:<function>") on a copy of `package_dir` in a child process.

    In the child, `value = function(Miniproject_2.model, args)` runs with grad disabled, the given
    number of threads, seeds from `args["seed"]` (default 0) and an empty scratch folder as working
    directory; with `record`, import and probe run under the torch call recorder (`ChildRun.recording`).
    `args` holds plain data and tensors only (TypeError otherwise). Never raises for anything the
    submission does.
    """
    problem = unsupported_data(dict(args or {}), "args")
    if problem is not None:
        raise TypeError(f"run_probe args must be plain data and tensors: {problem}")
    return _run_child(probe, Path(package_dir), args or {}, limits, import_model, required_layers(), record)


def _run_child(
    probe: str,
    package_dir: Path,
    args: Mapping[str, Any],
    limits: Limits,
    import_model: bool,
    require: tuple[str, ...],
    record: bool = False,
) -> ChildRun:
    """`run_probe` in a child that runs only when the layers `require` names hold."""
    with tempfile.TemporaryDirectory(prefix="harness-child-") as temporary:
        root = Path(temporary).resolve()
        spec_file = _prepare(root, package_dir, args, limits, probe, import_model, require, record)
        started = time.monotonic()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            child = _start_child(root, spec_file, limits, out_write, err_write)
        finally:
            os.close(out_write)
            os.close(err_write)
        stdout = _OutputCapture(out_read, limits.output_bytes)
        stderr = _OutputCapture(err_read, limits.output_bytes)
        with _Cgroup.make(limits.memory_mb) as cgroup:
            watched = _watch(child, limits, started, root / "io", cgroup)
            verdict, returncode, peak_mb, namespace, isolation, went_on = watched
            duration = time.monotonic() - started
            _kill_all(child, namespace, cgroup, reaped=True)
            _close_pidfd(child)
            if verdict is None and cgroup.out_of_memory():
                verdict = "oom"
            cgroup_cpu_s = cgroup.cpu_s()
        released = went_on and all((isolation or {}).get(layer) for layer in require)
        run = _collect(
            root / "io",
            returncode,
            verdict,
            stdout.text(),
            stderr.text(),
            duration,
            limits,
            cgroup.held,
            isolation or {},
        )
        for key in ("error", "traceback_tail", "stdout_tail", "stderr_tail"):
            run[key] = printable(_without_sandbox_paths(run[key], root))
        layers = {**run.pop("isolation"), "cgroup": cgroup.held}
        cpu_s, max_rss_mb = child.usage
        recording = _read_recording(root / "io" / RECORDING_FILE) if record else None
        return ChildRun(
            **run,
            peak_memory_mb=peak_mb,
            cpu_s=cpu_s if cgroup_cpu_s is None else cgroup_cpu_s,
            cpu_source="rusage" if cgroup_cpu_s is None else "cgroup",
            max_rss_mb=max_rss_mb,
            isolation=layers,
            recording=recording,
            released=released,
        )


def _prepare(
    root: Path,
    package_dir: Path,
    args: Mapping[str, Any],
    limits: Limits,
    probe: str,
    import_model: bool,
    require: tuple[str, ...],
    record: bool,
) -> Path:
    """Lay out the child's folder: lib/ (the harness only), pkg/Miniproject_2 (no bytecode), scratch/,
    tmp/, io/ and view/ (where the child mounts what it may see).

    As root, the child runs as its own uid (`child_uid`): the package copy, scratch/ and tmp/ become
    its own, while io/ (the parent's exchange folder: spec, args, isolation and result files) stays
    the harness's, readable but not writable by the child.
    """
    root.chmod(0o755)
    _link_harness(root / "lib")
    shutil.copytree(package_dir, root / "pkg" / "Miniproject_2", symlinks=True, ignore=special_files)
    without_bytecode(root / "pkg" / "Miniproject_2")
    for folder in ("scratch", "tmp", "io", "view"):
        (root / folder).mkdir()
    uid = child_uid(root) if os.geteuid() == 0 and sys.platform == "linux" else None
    if uid is not None:
        for folder in (root / "pkg", root / "scratch", root / "tmp"):
            give(folder, uid)
    torch.save(dict(args), root / "io" / "args.pt")
    address_space_mb = max(
        limits.memory_mb * MEMORY_RLIMIT_FACTOR, limits.memory_mb + MEMORY_RLIMIT_MIN_EXTRA_MB
    )
    if torch.version.cuda is not None:  # CUDA reserves far more address space than it uses: RSS polling only
        address_space_mb = 0
    spec = {
        "probe": probe,
        "root": str(root),
        "package_root": str(root / "pkg"),
        "scratch": str(root / "scratch"),
        "args_file": str(root / "io" / "args.pt"),
        "result_file": str(root / "io" / "result.pt"),
        "isolation_file": str(root / "io" / ISOLATION_FILE),
        "go_file": str(root / "io" / GO_FILE),
        "record": record,
        "recording_file": str(root / "io" / RECORDING_FILE),
        "import_model": import_model,
        "threads": limits.threads,
        "address_space_mb": address_space_mb,
        "tmpfs_mb": int(limits.memory_mb * WRITABLE_SHARE),
        "uid": uid,
        "require": list(require),
    }
    spec_file = root / "io" / "spec.json"
    spec_file.write_text(json.dumps(spec))
    return spec_file


def required_layers() -> tuple[str, ...]:
    """The isolation layers every child must hold on this machine, or not run (fail closed).

    Found once per process by a trial child that runs no submission code: the layers that held for it
    are what this machine gives (a root shell, a user without namespaces and a container without
    CAP_SYS_ADMIN give different ones). `HARNESS_SANDBOX_REQUIRE=none` requires none; the report
    still says which held.
    """
    global _required
    if os.environ.get("HARNESS_SANDBOX_REQUIRE") == "none":
        return ()
    with _required_lock:
        if _required is None:
            with tempfile.TemporaryDirectory(prefix="harness-trial-") as empty:
                trial = _run_child(TRIAL_PROBE, Path(empty), {}, TRIAL_LIMITS, False, ())
            _required = tuple(layer for layer in LAYERS if trial.isolation.get(layer))
        return _required


_required_lock = threading.Lock()
_required: tuple[str, ...] | None = None


def _link_harness(lib: Path) -> None:
    """Make `lib` a folder holding only a link to this harness package: the child's only import root."""
    lib.mkdir()
    (lib / "harness").symlink_to(Path(harness.__file__).resolve().parent, target_is_directory=True)


def _child_environment(root: Path, limits: Limits) -> dict[str, str]:
    """A minimal environment: no proxies, tokens or PYTHON* variables; thread counts pinned; and
    `torch.load` without a `weights_only` argument unpickles as the course's torch of 2022 did
    (torch >= 2.6 refuses a whole pickled network by default, which was correct code then; inside the
    sandbox unpickling the submission's own file is no more than running its code)."""
    environment = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    environment.setdefault("PATH", "/usr/bin:/bin")
    environment.update({name: str(limits.threads) for name in THREAD_VARIABLES})
    environment.update(
        HOME=str(root / "scratch"),
        TMPDIR=str(root / "tmp"),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",
    )
    return environment


def _watch(
    child: _FreshChild | _ForkedChild, limits: Limits, started: float, io: Path, cgroup: _Cgroup
) -> tuple[str | None, int, float, str | None, dict[str, bool] | None, bool]:
    """Wait for the child; kill its processes on a limit.

    Returns ("timeout"|"oom"|None, exit code, peak RSS in MB, the child's private network namespace or
    None, the isolation it reported before release or None when it never got that far, whether the go
    file was written). Once the child's isolation file appears (its runner then waits, before any
    submission code), the file is read, its namespace is read, its processes join `cgroup` and the go
    file is written, unless `RELEASE_BY_S` has passed since the isolation file was. The memory
    of the known processes is read at every poll; the (costlier) scan of /proc for new ones every
    `SCAN_EVERY` polls. The warden and the pid namespace's first process (the warden's children) only
    wait and share their pages with the runner: they are not counted.
    """
    peak_mb = 0.0
    members = measured = [child.pid]
    namespace = None
    isolation = None
    went_on = False
    for poll in itertools.count():
        if isolation is None and (io / ISOLATION_FILE).exists():
            isolation = _read_isolation(io / ISOLATION_FILE)
            namespace = _private_namespace(child.pid)
            cgroup.join(_child_processes(child.pid, namespace))
            went_on = _isolated_for(io / ISOLATION_FILE) < RELEASE_BY_S
            if went_on:
                (io / GO_FILE).touch()
        returncode = child.wait(START_POLL_S if isolation is None else POLL_S)
        if returncode is not None:
            return None, returncode, peak_mb, namespace, isolation, went_on
        verdict = None
        if time.monotonic() - started > limits.wall_s:
            verdict = "timeout"
        else:
            if poll % SCAN_EVERY == 0:
                members = _child_processes(child.pid, namespace) or [child.pid]
                keepers = {child.pid, *(pid for pid in members if _parent(pid) == child.pid)}
                measured = [pid for pid in members if pid not in keepers] or [child.pid]
            peak_mb = max(peak_mb, _rss_mb(measured))
            verdict = "oom" if peak_mb > limits.memory_mb else None
        if verdict is not None:
            _kill_all(child, namespace, cgroup, reaped=False)
            returncode = child.wait(KILL_WAIT_S)
            returncode = -signal.SIGKILL if returncode is None else returncode
            return verdict, returncode, peak_mb, namespace, isolation, went_on
    raise AssertionError("unreachable")


def _isolated_for(isolation_file: Path) -> float:
    """Seconds since the warden wrote `isolation_file` (its modification time: the warden's own, from
    before any submission code ran)."""
    try:
        return time.time() - isolation_file.stat().st_mtime
    except OSError:
        return math.inf


def _private_namespace(pid: int) -> str | None:
    """The network namespace of process `pid` once it differs from the harness's own, else None.

    Read from the live process, never from anything the child wrote: a namespace named by submission
    code could be any other container's, and every process in it would be killed.
    """
    try:
        theirs = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    return theirs if OWN_NET_NAMESPACE is not None and theirs != OWN_NET_NAMESPACE else None


def _child_processes(session: int | None, namespace: str | None) -> list[int]:
    """Process ids in session `session` (the child started a new session: sid == its pid; None: no
    session) or in the network namespace `namespace`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            # after "pid (comm)": state ppid pgrp session ...
            in_session = session is not None and int(fields[3]) == session
            if in_session or (
                namespace is not None and os.readlink(f"/proc/{entry.name}/ns/net") == namespace
            ):
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _parent(pid: int) -> int | None:
    """The parent process id of `pid`, from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes `pids`, in MB (from /proc/PID/statm; gone processes count 0)."""
    pages = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                pages += int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * PAGE_BYTES / 2**20


def _kill_all(
    child: _FreshChild | _ForkedChild, namespace: str | None, cgroup: _Cgroup, reaped: bool
) -> None:
    """SIGKILL the child's processes, and only them (see the module docstring): its cgroup whole when
    `cgroup.kill` exists; else the child through its pidfd, and the processes of its network namespace,
    and, while it is not `reaped`, its process group and session."""
    if cgroup.kill():
        return
    if child.pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
    if not reaped:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
    for pid in _child_processes(None if reaped else child.pid, namespace):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _pidfd(pid: int) -> int | None:
    """A pidfd for the live, unreaped process `pid` (None where the OS has none)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _close_pidfd(child: _FreshChild | _ForkedChild) -> None:
    if child.pidfd is not None:
        with contextlib.suppress(OSError):
            os.close(child.pidfd)
        child.pidfd = None


def _collect(
    io: Path,
    returncode: int,
    verdict: str | None,
    stdout: str,
    stderr: str,
    duration: float,
    limits: Limits,
    memory_watched: bool,
    isolation: Mapping[str, bool],
) -> dict[str, Any]:
    """Turn the child's files, exit status, the isolation it reported before release and the
    watcher's verdict into ChildRun fields."""
    fields: dict[str, Any] = {
        "status": "ok",
        "value": None,
        "error": "",
        "traceback_tail": "",
        "stdout_tail": stdout,
        "stderr_tail": stderr,
        "duration_s": duration,
        "network_isolated": isolation.get("network", False),
        "filesystem_isolated": isolation.get("filesystem", False),
        "isolation": {layer: isolation.get(layer, False) for layer in LAYERS},
    }
    if verdict == "timeout":
        error = f"still running at the {limits.wall_s:g} s time limit: killed"
        return {**fields, "status": "timeout", "error": error}
    if verdict == "oom":
        error = f"used more than the {limits.memory_mb} MB memory limit: killed"
        return {**fields, "status": "oom", "error": error}
    if returncode == -signal.SIGKILL:
        return {**fields, "status": "killed", "error": _outside_kill_text(memory_watched)}
    if returncode < 0:
        return {**fields, "status": "crash", "error": _signal_text(-returncode)}
    result = _load_result(io / "result.pt")
    if result is None:
        return {
            **fields,
            "status": "crash",
            "error": f"exited with code {returncode} without reporting a result",
        }
    if isinstance(result, str):
        return {**fields, "status": "error", "error": result}
    return {
        **fields,
        "status": result["status"],
        "value": printable_data(result["value"]),
        "error": result["error"],
        "traceback_tail": result["traceback"],
    }


def _without_sandbox_paths(text: str, root: Path) -> str:
    """`text` with the child's temporary paths made relative: `Miniproject_2/model.py`, `<sandbox>/...`.

    Keeps messages readable, and identical between runs (the temporary folder's name is random).
    """
    return text.replace(f"{root}/pkg/", "").replace(str(root), "<sandbox>")


def _read_isolation(path: Path) -> dict[str, bool]:
    """The layers of the isolation file (the warden writes it whole, by a rename), each True or False."""
    try:
        reported = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {key: value is True for key, value in reported.items()} if isinstance(reported, dict) else {}


def _load_result(path: Path) -> dict[str, Any] | str | None:
    """The child's result record; None when there is none, a one-line error when it is not plain data
    or more than MAX_RESULT_BYTES (refused before unpickling, which no item budget bounds)."""
    if not path.exists():
        return None
    size = path.stat().st_size
    if size > MAX_RESULT_BYTES:
        limit = MAX_RESULT_BYTES >> 20
        return f"{UNSUPPORTED_DATA}: {size} bytes pickled (limit {limit} MB), not read"
    try:
        result = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        return f"{UNSUPPORTED_DATA}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    problem = unsupported_data(result, "result")
    if problem is not None:
        return f"{UNSUPPORTED_DATA}: {problem}"
    if (
        type(result) is not dict
        or result.get("status") not in ("ok", "error", "oom")
        or type(result.get("error")) is not str
        or type(result.get("traceback")) is not str
    ):
        return f"{UNSUPPORTED_DATA}: malformed result record"
    if result["status"] == "ok" and type(result["value"]) is not dict:
        return f"{UNSUPPORTED_DATA}: a {type(result['value']).__name__}, not a dict"
    return result


def _read_recording(path: Path) -> Recording:
    """The recording file of a recorded child, checked line by line (plain records of `RECORD_FIELDS`);
    anything else in it, or no canary line at its end, makes it incomplete."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return Recording((), False, "the child left no recording")
    if not lines:
        return Recording((), False, "the recording is empty or over its size limit")
    calls = []
    for line in lines[:-1]:
        try:
            record = json.loads(line)
        except ValueError:
            return Recording(tuple(calls), False, "the recording holds a line that is not JSON")
        if (
            type(record) is not dict
            or record.keys() != RECORD_FIELDS.keys()
            or any(type(record[key]) not in kinds for key, kinds in RECORD_FIELDS.items())
        ):
            return Recording(tuple(calls), False, "the recording holds a line that is not a record")
        if record["file"] != CANARY_FILE:
            calls.append(printable_data(record))
    with contextlib.suppress(ValueError):
        if json.loads(lines[-1]) == {"canary": True}:
            return Recording(tuple(calls), True)
    return Recording(tuple(calls), False, "the recorder stopped recording before the probe ended")


def _usage(rusage: resource.struct_rusage) -> tuple[float, float]:
    """(user + system CPU seconds, peak RSS in MB) from a reaped child's rusage (ru_maxrss is in KiB)."""
    return rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss / 1024


class _Cgroup:
    """A cgroup for one child: memory bounded (tmpfs and page cache included) and killed whole.

    Made under the harness's own cgroup: cgroup v2 (`memory.max`, `cgroup.kill`) where the memory
    controller is delegated there, else the v1 memory controller for the bound and the v2 hierarchy
    (even without controllers) for `cgroup.kill`. `held` says whether the memory bound is in place;
    without one (no delegation, not root, macOS) it does nothing, and the RSS polling, the address-space
    rlimit and the namespace kill remain. A v2 cgroup also accounts the CPU time of its processes
    (`cpu.stat`, there even without the cpu controller): `cpu_s` once every process joined.
    """

    def __init__(
        self, folders: list[Path], memory_file: Path | None, events_file: Path | None, cpu_file: Path | None
    ) -> None:
        self._folders = folders
        self._memory_file = memory_file
        self._events_file = events_file
        self._cpu_file = cpu_file
        self._accounted = False
        self.held = memory_file is not None
        self.joined = False

    @classmethod
    def make(cls, memory_mb: int) -> _Cgroup:
        """A new cgroup bounding memory to `memory_mb` MB; an empty one when none can be made."""
        name = f"harness-{os.getpid()}-{next(_cgroup_names)}"
        folders, memory_file, events_file, cpu_file = [], None, None, None
        for base, controller in _cgroup_bases():
            folder = base / name
            try:
                folder.mkdir()
            except OSError:
                continue
            folders.append(folder)
            if cpu_file is None and controller == "v2" and (folder / "cpu.stat").exists():
                cpu_file = folder / "cpu.stat"
            limit_file = folder / ("memory.max" if controller == "v2" else "memory.limit_in_bytes")
            if memory_file is None and limit_file.exists():
                try:
                    limit_file.write_text(str(memory_mb << 20))
                except OSError:
                    continue
                memory_file = limit_file
                events_file = folder / ("memory.events" if controller == "v2" else "memory.oom_control")
        return cls(folders, memory_file, events_file, cpu_file)

    def __enter__(self) -> _Cgroup:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.kill()
        for folder in self._folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)

    def join(self, pids: list[int]) -> None:
        """Move `pids` into the cgroup; `joined` says whether all of them went in (the child's processes
        are then all inside: they fork only after this); its CPU account counts once all of them are
        read back there."""
        joined = bool(pids) and bool(self._folders)
        for folder in self._folders:
            for pid in pids:
                try:
                    (folder / "cgroup.procs").write_text(str(pid))
                except OSError:
                    joined = False
        self.joined = joined
        if self._cpu_file is not None:
            with contextlib.suppress(OSError, ValueError):
                members = {int(pid) for pid in (self._cpu_file.parent / "cgroup.procs").read_text().split()}
                self._accounted = bool(pids) and set(pids) <= members

    def cpu_s(self) -> float | None:
        """CPU seconds (user + system) the cgroup's processes used since they joined; None when the
        cgroup has no CPU account or a process of the child did not join it."""
        if not self._accounted:
            return None
        try:
            stat = dict(line.split() for line in self._cpu_file.read_text().splitlines() if " " in line)
            return int(stat["usage_usec"]) / 1e6
        except (OSError, KeyError, ValueError):
            return None

    def kill(self) -> bool:
        """SIGKILL every process in the cgroup (`cgroup.kill`, else one by one from `cgroup.procs`);
        True when `cgroup.kill` did it (then nothing of the child can be outside it)."""
        killed = False
        for folder in self._folders:
            try:
                (folder / "cgroup.kill").write_text("1")
                killed = True
                continue
            except OSError:
                pass
            with contextlib.suppress(OSError, ValueError):
                for pid in (folder / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)
        return killed and self.joined

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the cgroup for its memory bound."""
        try:
            events = dict(line.split() for line in self._events_file.read_text().splitlines() if " " in line)
        except (AttributeError, OSError, ValueError):
            return False
        return int(events.get("oom_kill", "0")) > 0


_cgroup_names = itertools.count()


@functools.cache
def _cgroup_bases() -> tuple[tuple[Path, str], ...]:
    """(this process's own cgroup folder, "v2" or "v1"): v2 first, then the v1 memory controller."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            before, _, after = line.partition(" - ")
            fields, kind = before.split(" "), after.split(" ")
            if kind[0] == "cgroup2":
                mounts.setdefault("v2", Path(fields[4]))
            elif kind[0] == "cgroup" and "memory" in kind[-1].split(","):
                mounts.setdefault("v1", Path(fields[4]))
    bases = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, own = line.split(":", 2)
            version = "v2" if controllers == "" else "v1" if "memory" in controllers.split(",") else None
            if version in mounts:
                bases.append((mounts[version] / own.lstrip("/"), version))
    return tuple(sorted(bases, key=lambda base: base[1], reverse=True))


def _signal_text(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    meaning = {"SIGSEGV": " (segmentation fault)"}
    return f"killed by {name}{meaning.get(name, '')}"


def _outside_kill_text(memory_watched: bool) -> str:
    """Why a child died of a SIGKILL that the harness did not send for a limit: the child's own
    processes can send it to themselves, so the text says only what the harness knows."""
    why = "the kernel reports no out-of-memory kill" if memory_watched else "perhaps the system's OOM killer"
    return f"killed by SIGKILL, not sent by the harness for a limit ({why})"
