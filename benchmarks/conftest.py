"""Benchmark plumbing: each benchmark records its best time under a (case, implementation) key, and the
session ends with a table of our time / torch's time per case (NCHW and channels_last)."""

from __future__ import annotations

import pytest
import torch
from tabulate import tabulate

_BEST_SECONDS: dict[tuple[str, str], float] = {}


@pytest.fixture
def threads(request):
    """Run the benchmark body with torch limited to `request.param` threads, restoring the setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


@pytest.fixture
def record_speed():
    """record_speed(case, implementation, benchmark) keeps the benchmark's best round time."""

    def record(case: str, implementation: str, benchmark) -> None:
        _BEST_SECONDS[(case, implementation)] = benchmark.stats.stats.min

    return record


def speed_ratio_rows(best: dict[tuple[str, str], float]) -> list[list]:
    """[case, ours ms, torch NCHW ms, torch channels_last ms, ours/NCHW, ours/channels_last] per case
    that has all three times."""
    rows = []
    for case in dict.fromkeys(case for case, _ in best):
        times = [best.get((case, impl)) for impl in ("ours", "torch-nchw", "torch-channels-last")]
        if None in times:
            continue
        ours, nchw, channels_last = times
        rows.append([case, ours * 1e3, nchw * 1e3, channels_last * 1e3, ours / nchw, ours / channels_last])
    return rows


def pytest_terminal_summary(terminalreporter) -> None:
    rows = speed_ratio_rows(_BEST_SECONDS)
    if rows:
        headers = ["case", "ours ms", "torch NCHW ms", "torch CL ms", "ours/NCHW", "ours/CL"]
        terminalreporter.write_line("")
        terminalreporter.write_line("our time / torch's time (best round of each):")
        terminalreporter.write_line(tabulate(rows, headers, floatfmt=".2f", tablefmt="github"))
