"""Benchmark plumbing: a thread-count fixture, and a session-end table of our time / torch's time from
the best rounds that `speed_cases.interleaved_best` measured."""

from __future__ import annotations

import os

import pytest
import torch
from tabulate import tabulate

from harness.reproducibility import cpu_model

_BEST_SECONDS: dict[str, dict[str, float]] = {}


@pytest.fixture
def threads(request):
    """Run the benchmark body with torch limited to `request.param` threads, restoring the setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


@pytest.fixture
def record_speed():
    """record_speed(case, {implementation: best seconds}) adds a row to the session's ratio table."""

    def record(case: str, best: dict[str, float]) -> None:
        _BEST_SECONDS[case] = best

    return record


def speed_ratio_rows(best: dict[str, dict[str, float]]) -> list[list]:
    """[case, ours ms, torch NCHW ms, torch channels_last ms, ours/NCHW, ours/channels_last] per case."""
    rows = []
    for case, times in best.items():
        ours, nchw, channels_last = (times[impl] for impl in ("ours", "torch-nchw", "torch-channels-last"))
        rows.append([case, ours * 1e3, nchw * 1e3, channels_last * 1e3, ours / nchw, ours / channels_last])
    return rows


def pytest_terminal_summary(terminalreporter) -> None:
    rows = speed_ratio_rows(_BEST_SECONDS)
    if rows:
        headers = ["case", "ours ms", "torch NCHW ms", "torch CL ms", "ours/NCHW", "ours/CL"]
        terminalreporter.write_line("")
        terminalreporter.write_line(
            f"our time / torch's time (best of interleaved rounds) on {cpu_model()}, {os.cpu_count()} CPUs, "
            f"torch {torch.__version__}, load average {os.getloadavg()[0]:.2f} at the end:"
        )
        terminalreporter.write_line(tabulate(rows, headers, floatfmt=".2f", tablefmt="github"))
