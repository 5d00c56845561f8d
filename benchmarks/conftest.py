"""Benchmark plumbing: a thread-count fixture, and a session-end table of our time / torch's time from
the rounds that `speed_cases.interleaved_best` measured (best wall time; median CPU time on one thread)."""

from __future__ import annotations

import os

import pytest
import torch
from speed_cases import Timing
from tabulate import tabulate

from harness.reproducibility import cpu_model

_TIMINGS: dict[str, dict[str, Timing]] = {}
_LOAD_AT_START: list[float] = []


def pytest_sessionstart(session) -> None:
    _LOAD_AT_START.append(os.getloadavg()[0])


@pytest.fixture
def threads(request):
    """Run the benchmark body with torch limited to `request.param` threads, restoring the setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


@pytest.fixture
def record_speed():
    """record_speed(case, {implementation: Timing}) adds a row to the session's ratio table."""

    def record(case: str, timings: dict[str, Timing]) -> None:
        _TIMINGS[case] = timings

    return record


def speed_ratio_rows(timings: dict[str, dict]) -> list[list]:
    """[case, ours ms, torch NCHW ms, torch channels_last ms, ours/NCHW, ours/channels_last] per case from
    the best wall times, then the same two ratios of CPU time (blank where it was not measured)."""
    rows = []
    for case, times in timings.items():
        ours, nchw, channels_last = (times[impl] for impl in ("ours", "torch-nchw", "torch-channels-last"))
        row = [case, ours.wall * 1e3, nchw.wall * 1e3, channels_last.wall * 1e3]
        row += [ours.wall / nchw.wall, ours.wall / channels_last.wall]
        if ours.cpu is None:
            row += ["", ""]
        else:
            row += [ours.cpu / nchw.cpu, ours.cpu / channels_last.cpu]
        rows.append(row)
    return rows


def pytest_terminal_summary(terminalreporter) -> None:
    rows = speed_ratio_rows(_TIMINGS)
    if rows:
        headers = ["case", "ours ms", "torch NCHW ms", "torch CL ms", "ours/NCHW", "ours/CL"]
        headers += ["CPU ours/NCHW", "CPU ours/CL"]
        terminalreporter.write_line("")
        terminalreporter.write_line(
            f"our time / torch's time (best of interleaved rounds; CPU: median CPU time of the calling "
            f"thread, one thread only) on {cpu_model()} (torch's kernels: "
            f"{torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"load average {_LOAD_AT_START[0]:.2f} at the start and {os.getloadavg()[0]:.2f} at the end:"
        )
        terminalreporter.write_line(tabulate(rows, headers, floatfmt=".2f", tablefmt="github"))
