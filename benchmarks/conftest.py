"""Benchmark plumbing. The machine is shared, so a ratio of two separately timed benchmarks mostly
measures the load that happened to hit each. `interleaved_best` therefore times the implementations
round-robin (ours, torch NCHW, torch channels_last, ours, ...) and keeps each one's best round; the
session ends with a table of those ratios."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import torch
from tabulate import tabulate

_BEST_SECONDS: dict[str, dict[str, float]] = {}


@pytest.fixture
def threads(request):
    """Run the benchmark body with torch limited to `request.param` threads, restoring the setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


def interleaved_best(steps: dict[str, Callable[[], None]], rounds: int, warmup: int = 2) -> dict[str, float]:
    """Best seconds of each step over `rounds` round-robin rounds, after `warmup` untimed ones."""
    best = dict.fromkeys(steps, float("inf"))
    for round_index in range(warmup + rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            if round_index >= warmup:
                best[name] = min(best[name], elapsed)
    return best


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
        terminalreporter.write_line("our time / torch's time (best of interleaved rounds):")
        terminalreporter.write_line(tabulate(rows, headers, floatfmt=".2f", tablefmt="github"))
