"""The local pool of `harness grade`: every task's outcome comes back once, a lost worker's task is tried
again (at most three times in all), a raising task is a one-line failure, workers own disjoint cores."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from harness.grading.executors import ATTEMPTS, Failure, core_slots, run_local


def square(number: int) -> tuple[int, int, tuple[int, ...]]:
    """The task's answer, the worker's pid and the cores it may use."""
    return number * number, os.getpid(), tuple(sorted(os.sched_getaffinity(0)))


def die_once(marker: str) -> str:
    """Kill this worker the first time (leaving a marker file), succeed the second."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return f"survived {path.read_text()}"


def die_always(marker: str) -> None:
    """Count the attempt in the marker file, then kill this worker."""
    with Path(marker).open("a") as stream:
        stream.write("x")
    os.kill(os.getpid(), signal.SIGKILL)


def refuse(number: int) -> None:
    raise ValueError(f"no number {number}\nsecond line")


def collect(tasks, workers, function):
    outcomes = []
    run_local(tasks, workers, lambda task, outcome: outcomes.append((task, outcome)), function)
    return outcomes


def test_every_task_comes_back_once_from_pinned_workers() -> None:
    outcomes = collect(list(range(6)), 2, square)
    assert sorted(task for task, _ in outcomes) == list(range(6))
    assert all(answer == task * task for task, (answer, _, _) in outcomes)
    pids = {pid for _, (_, pid, _) in outcomes}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {cores for _, (_, _, cores) in outcomes} <= set(core_slots(2))


def test_a_worker_killed_mid_task_is_replaced_and_the_task_retried(tmp_path: Path) -> None:
    markers = [str(tmp_path / f"marker{index}") for index in range(2)]
    outcomes = dict(collect(markers, 2, die_once))
    assert outcomes == {marker: f"survived {Path(marker).read_text()}" for marker in markers}


def test_a_task_that_loses_its_worker_every_time_fails_after_three_attempts(tmp_path: Path) -> None:
    doomed = str(tmp_path / "doomed")
    outcomes = collect([doomed], 1, die_always)
    assert outcomes == [
        (doomed, Failure(f"its grading process was lost {ATTEMPTS} times (last exit status -9)"))
    ]
    assert Path(doomed).read_text() == "x" * ATTEMPTS


def test_a_raising_task_is_a_one_line_failure_and_the_others_go_on() -> None:
    outcomes = dict(collect([1, 2], 1, refuse))
    assert outcomes == {1: Failure("ValueError: no number 1"), 2: Failure("ValueError: no number 2")}


@pytest.mark.parametrize(
    ("workers", "expected"),
    [
        pytest.param(1, [(0, 1, 2, 3)], id="one-worker-all-cores"),
        pytest.param(2, [(0, 1), (2, 3)], id="two-workers-halves"),
        pytest.param(3, [(0,), (1,), (2,)], id="three-workers-one-each"),
        pytest.param(6, [(0,), (1,), (2,), (3,), (0,), (1,)], id="more-workers-than-cores"),
    ],
)
def test_core_slots_share_the_cores(monkeypatch, workers: int, expected) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert core_slots(workers) == expected
