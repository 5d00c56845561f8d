"""A fork server for sandbox children: import torch once, then fork one child per probe run.

Starting a fresh interpreter costs about a second of CPU, almost all of it `import torch`; a check
starts some twenty children. The fork server (started by `harness.sandbox`, one per harness process)
imports torch and the child code, then serves requests on a Unix socket, one connection per child:

1. the parent sends one JSON line {"spec": SPEC.json, "environment": {...}} with the write ends of the
   child's stdout and stderr pipes attached (SCM_RIGHTS);
2. the server forks; the new process starts a session, takes the pipes as fds 1 and 2 and /dev/null as
   0, takes the environment, and runs `harness.probes.child.main` exactly as a fresh process would;
3. the server answers {"pid": PID} (with a pidfd of the child attached where the OS has them), and
   {"wait_status": STATUS, "cpu_s", "max_rss_mb"} once the child
   has been reaped (`os.wait4`: the kernel's accounts of the child's CPU time and peak memory).

It serves the harness process that started it and nobody else: its socket lies in a folder only the
harness's uid can enter (children run as other uids and do not see /tmp at all), a connection is
refused unless the kernel's peer credentials (`SO_PEERCRED`) name the server's parent process, a request
must name the `io/spec.json` of a child folder made by that uid (`harness-child-*` under the temporary
folder, not writable by anyone else), and a connection that sends nothing within `REQUEST_TIMEOUT_S`
is dropped.

The forked child is single-threaded (the server never runs torch ops, so no thread pool exists), so the
child's own isolation (`unshare`, mounts, capabilities, rlimits) works as in a fresh process. The server
exits, killing its children, when its stdin (a pipe from the parent) closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import tempfile
import traceback
from pathlib import Path

import torch  # noqa: F401 - imported once here, inherited by every forked child

from harness.probes import child

MAX_REQUEST_BYTES = 1 << 16
READY = b"ready\n"
REQUEST_TIMEOUT_S = 5.0
CHILD_FOLDER_PREFIX = "harness-child-"


def serve(address: str, children: str) -> None:
    """Listen on the Unix socket `address` and fork one child per connection until stdin closes.

    `children` is the folder the harness makes its child folders in."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_read, False)
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    waiting: dict[int, socket.socket] = {}
    os.write(1, READY)
    while True:
        readable, _, _ = select.select([listener, wakeup_read, 0], [], [])
        if 0 in readable and not os.read(0, 1):
            for pid in waiting:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            os._exit(0)
        if wakeup_read in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wakeup_read, 4096)
            _reap(waiting)
        if listener in readable:
            connection, _ = listener.accept()
            if _from_parent(connection):
                _accept(connection, waiting, (listener.fileno(), wakeup_read, wakeup_write), Path(children))
            else:
                connection.close()


def _from_parent(connection: socket.socket) -> bool:
    """Whether the kernel says the peer is this server's parent (the harness), with the same uid."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", credentials)
    return pid == os.getppid() and uid == os.geteuid()


def _check_child_spec(path: str, children: Path) -> None:
    """ValueError unless `path` is the spec file of a child folder that this uid made in `children`."""
    spec = Path(path)
    root = spec.parent.parent
    if (
        spec.name != "spec.json"
        or spec.parent.name != "io"
        or root.parent != children
        or not root.name.startswith(CHILD_FOLDER_PREFIX)
    ):
        raise ValueError(f"not a child folder of this harness: {path}")
    for item in (root, spec.parent, spec):
        info = os.lstat(item)
        if (
            info.st_uid != os.geteuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            or stat.S_ISLNK(info.st_mode)
        ):
            raise ValueError(f"not a child folder of this harness: {path}")


def _accept(
    connection: socket.socket, waiting: dict[int, socket.socket], own_fds: tuple[int, ...], children: Path
) -> None:
    """Read one request, fork its child, answer with the child's pid (or an error line)."""
    fds: list[int] = []
    try:
        connection.settimeout(REQUEST_TIMEOUT_S)
        message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST_BYTES, 2)
        connection.settimeout(None)
        request = json.loads(message)
        if len(fds) != 2:
            raise ValueError(f"expected 2 file descriptors, got {len(fds)}")
        _check_child_spec(request["spec"], children)
    except (OSError, ValueError, KeyError, TypeError) as error:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"error": str(error)}).encode() + b"\n")
        connection.close()
        return
    pid = os.fork()
    if pid == 0:
        closing = [*own_fds, connection.fileno(), *(other.fileno() for other in waiting.values())]
        _become_child(request, fds, closing)
    for fd in fds:
        os.close(fd)
    waiting[pid] = connection
    reply = [json.dumps({"pid": pid}).encode() + b"\n"]
    try:
        pidfd = os.pidfd_open(pid)  # before this server can reap it: the very child, never a reused pid
    except (AttributeError, OSError):
        connection.sendall(reply[0])
        return
    try:
        socket.send_fds(connection, reply, [pidfd])
    finally:
        os.close(pidfd)


def _reap(waiting: dict[int, socket.socket]) -> None:
    """Collect every finished child and send its wait status on its connection."""
    while waiting:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            reply = {
                "wait_status": status,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "max_rss_mb": usage.ru_maxrss / 1024,
            }
            with contextlib.suppress(OSError):
                connection.sendall(json.dumps(reply).encode() + b"\n")
            connection.close()


def _become_child(request: dict, fds: list[int], closing: list[int]) -> None:
    """In the forked process: a new session, the pipes as stdout/stderr, the request's environment."""
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((null, 0), (fds[0], 1), (fds[1], 2)):
            os.dup2(source, target)
        for fd in {null, *fds, *closing}:
            with contextlib.suppress(OSError):
                os.close(fd)
        os.environ.clear()
        os.environ.update(request["environment"])
        tempfile.tempdir = None
        child.main(["", request["spec"]])
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(1)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
