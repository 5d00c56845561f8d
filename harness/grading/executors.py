"""Executors: where the grading tasks of a class run, while the calling process keeps the store.

- `run_local`: a pool of worker processes on this machine. Each worker is pinned to its own share of
  the cores (`core_slots`), and its sandboxed children inherit the pinning, so a submission's timing
  depends on the cores its worker owns, not on what the neighbouring workers are running. A worker that
  dies mid-task (killed, out of memory) is replaced and its task given to the next free worker, at most
  `ATTEMPTS` times in all; then the task is reported as a set-up failure. Workers ignore Ctrl-C (the
  parent handles it and stops them), end with their children on SIGTERM, and get SIGTERM when the
  parent dies, even by `kill -9` (Linux's parent-death signal), so nothing grades on unobserved.
- `run_dask`: the tasks go to an existing Dask distributed cluster through `distributed.Client`. The
  scheduler itself re-runs a task whose worker was lost (its `distributed.scheduler.allowed-failures`,
  2 in `harness grade`'s advice, gives three attempts), then fails it with `KilledWorker`, reported here
  as a set-up failure.

Both call `on_result(task, outcome)` in the calling thread as each task ends: `outcome` is the task
function's return value, or a `Failure` when the task could not be carried out.
Tasks and results travel with cloudpickle (a rubric holds mapping proxies, which pickle refuses).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import cloudpickle
import psutil

from harness.errors import HarnessError

ATTEMPTS = 3
"""A task whose worker is lost is tried this many times in all (the first run and two retries)."""
CONNECT_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10
_PR_SET_PDEATHSIG = 1

TaskFunction = Callable[[Any], Any]


@dataclass(frozen=True)
class Failure:
    """A task that could not be carried out: the task function raised, or its worker was lost."""

    problem: str
    """One line, e.g. `its grading process was lost 3 times (last exit status -9)`."""


OnResult = Callable[[Any, Any], None]


def default_workers() -> int:
    """Half the cores this process may use (each submission's checks run two children at once)."""
    return max(1, len(os.sched_getaffinity(0)) // 2)


def core_slots(workers: int) -> list[tuple[int, ...]]:
    """The cores of each of `workers` workers: equal disjoint shares of this process's cores (with
    more workers than cores, one core each, shared round-robin)."""
    cores = sorted(os.sched_getaffinity(0))
    share = max(1, len(cores) // workers)
    return [tuple(cores[(index * share) % len(cores) :][:share]) for index in range(workers)]


def run_local(
    tasks: Sequence[Any], workers: int, on_result: OnResult, function: TaskFunction, attempts: int = ATTEMPTS
) -> None:
    """Run `function(task)` for every task in a pool of `workers` processes (see the module docstring)."""
    pending = deque(enumerate(tasks))
    lost: Counter[int] = Counter()
    pool = [_Worker(cores, function) for cores in core_slots(max(1, min(workers, len(tasks))))]
    finished = False
    try:
        while pending or any(worker.task is not None for worker in pool):
            for index, worker in enumerate(pool):
                if worker.task is None and pending:
                    if not worker.process.is_alive():
                        pool[index] = worker = _Worker(worker.cores, function)
                    worker.give(*pending.popleft())
            busy = [worker for worker in pool if worker.task is not None]
            wait([w.connection for w in busy] + [w.process.sentinel for w in busy])
            for index, worker in enumerate(pool):
                task = worker.task
                if task is None:
                    continue
                outcome = worker.outcome()
                if outcome is _RUNNING:
                    continue
                if outcome is _LOST:
                    number = task[0]
                    lost[number] += 1
                    code = worker.process.exitcode
                    pool[index] = _Worker(worker.cores, function)
                    if lost[number] < attempts:
                        pending.appendleft(task)
                        continue
                    outcome = Failure(
                        f"its grading process was lost {attempts} times (last exit status {code})"
                    )
                on_result(task[1], outcome)
        finished = True
    finally:
        for worker in pool:
            worker.stop(graceful=finished)


def run_dask(tasks: Sequence[Any], address: str, on_result: OnResult, function: TaskFunction) -> None:
    """Run `function(task)` for every task on the Dask cluster whose scheduler is at `address`."""
    from distributed import Client, KilledWorker, as_completed

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        raise HarnessError(None, f"cannot reach the Dask scheduler at {address}: {error}") from None
    batch = uuid.uuid4().hex[:8]
    with client:
        futures = {
            client.submit(function, task, key=f"harness-grade-{batch}-{index}", pure=False): task
            for index, task in enumerate(tasks)
        }
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except KilledWorker:
                    outcome = Failure("its Dask worker was lost too often (the scheduler's allowed-failures)")
                except Exception as error:
                    outcome = Failure(one_line(error))
                on_result(futures[future], outcome)
        except BaseException:
            client.cancel(list(futures))
            raise


def one_line(error: BaseException) -> str:
    """`TypeName: first line of the message`, for a record's set-up failure."""
    if isinstance(error, HarnessError):
        return error.one_line()
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first}"


_RUNNING, _LOST = object(), object()


class _Worker:
    """One worker process with its pipe, its cores and the task it holds (None when idle)."""

    def __init__(self, cores: tuple[int, ...], function: TaskFunction) -> None:
        self.cores = cores
        self.task: tuple[int, Any] | None = None
        self.connection, child_end = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(
            target=_serve, args=(child_end, cores, function, os.getpid()), name="harness-grade", daemon=True
        )
        self.process.start()
        child_end.close()

    def give(self, number: int, task: Any) -> None:
        """Hand the worker task `number` of the batch."""
        self.task = (number, task)
        self.connection.send_bytes(cloudpickle.dumps(task))

    def outcome(self) -> Any:
        """The held task's outcome once sent (and the worker idle again), `_LOST` if the worker died
        without one, `_RUNNING` while it works."""
        try:
            if not self.connection.poll():
                return _LOST if not self.process.is_alive() else _RUNNING
            status, value = cloudpickle.loads(self.connection.recv_bytes())
        except (EOFError, OSError):
            return _LOST
        self.task = None
        return value if status == "done" else Failure(value)

    def stop(self, graceful: bool) -> None:
        """Ask an idle worker to exit; SIGTERM one still working (it ends its children), then SIGKILL."""
        if graceful and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.connection.send_bytes(b"")
            self.process.join(STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _serve(connection: Connection, cores: tuple[int, ...], function: TaskFunction, parent: int) -> None:
    """A worker's life: pinned to `cores`, run each task received until an empty message or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_with_children)
    _die_with_parent(parent)
    os.sched_setaffinity(0, cores)
    while True:
        try:
            payload = connection.recv_bytes()
        except (EOFError, OSError):
            return
        if not payload:
            return
        try:
            result = ("done", function(cloudpickle.loads(payload)))
        except Exception as error:
            result = ("failed", one_line(error))
        connection.send_bytes(cloudpickle.dumps(result))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send SIGTERM when the parent dies; exit now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _end_with_children(signum: int, frame: object) -> None:
    """SIGTERM: kill every descendant (the sandboxed children and their fork server), then exit."""
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(128 + signum)
