"""`harness grade` on a synthetic class of 40: one worker, two workers, a Dask LocalCluster of two.

The class is Moodle-shaped: the reference (zipped in a `Proj_` folder) 11 times and every gallery
fixture once but `sandbox_sleep` (its `train` never returns: three children would sit out 60-180 s
wall limits, which says more about the rubric's limits than about the executor). Each submission is
graded with every check group on the repository's `test_data/`, by the `harness grade` command in a
fresh process, so the figures include start-up. The session ends with two tables: submissions per
minute and the speed-up over one worker, and where the check time goes (summed over the class).

    python -m pytest benchmarks/test_bench_grade.py -m slow --benchmark-only --basetemp=/tmp/bench-grade
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from tabulate import tabulate

from harness.grading.store import open_store
from harness.reproducibility import cpu_model

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = REPO / "tests" / "submissions"
DATA = REPO / "test_data"
CLASS_SIZE = 40
LEFT_OUT = ("sandbox_sleep",)
FAULTY = tuple(
    sorted(p.name for p in SUBMISSIONS.iterdir() if (p / "Miniproject_2").is_dir() and p.name not in LEFT_OUT)
)
SETUPS = {
    "1 worker": ["--workers", "1"],
    "2 workers": ["--workers", "2"],
    "Dask LocalCluster, 2 workers": None,
}
TOP_CHECKS = 8

_RESULTS: dict[str, tuple[float, Counter[str]]] = {}


def zip_package(archive: Path, package: Path, proj: str) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in sorted(package.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                bundle.write(file, f"{proj}/Miniproject_2/{file.relative_to(package).as_posix()}")


@pytest.fixture(scope="module")
def synthetic_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    packages = [REPO / "Miniproject_2"] * (CLASS_SIZE - len(FAULTY)) + [
        SUBMISSIONS / f / "Miniproject_2" for f in FAULTY
    ]
    for index, package in enumerate(packages):
        sciper = 100_000 + index
        folder = root / f"Student {index:02d}_{1_000_000 + index}_assignsubmission_file_"
        zip_package(folder / f"Proj_{sciper}.zip", package, f"Proj_{sciper}")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("setup", list(SETUPS))
def test_grade_synthetic_class(benchmark, synthetic_class: Path, tmp_path: Path, setup: str, capsys) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "harness",
        "grade",
        str(synthetic_class),
        "--data",
        str(DATA),
        "--out",
        str(out),
    ]
    if SETUPS[setup] is None:
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit=0, dashboard_address=None
        ) as cluster:
            wall = benchmark.pedantic(
                _timed, args=([*command, "--scheduler", cluster.scheduler_address],), rounds=1
            )
    else:
        wall = benchmark.pedantic(_timed, args=([*command, *SETUPS[setup]],), rounds=1)
    with open_store(out) as store:
        records = store.graded()
    assert len(records) == CLASS_SIZE
    check_seconds: Counter[str] = Counter()
    for record in records:
        check_seconds.update(record.report["run"]["durations_s"])
    _RESULTS[setup] = (wall, check_seconds)
    benchmark.extra_info.update(
        {"cpu": cpu_model(), "submissions": CLASS_SIZE, "wall_s": wall, "per_minute": CLASS_SIZE / wall * 60}
    )
    with capsys.disabled():
        print("\n" + _report())


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    return time.monotonic() - started


def _report() -> str:
    """The tables of the setups measured so far."""
    lines: list[str] = []
    write = lines.append
    one = _RESULTS.get("1 worker", (None,))[0]
    rows = [
        [setup, f"{wall:.0f}", f"{CLASS_SIZE / wall * 60:.1f}", f"{one / wall:.2f}x" if one else "-"]
        for setup, (wall, _) in _RESULTS.items()
    ]
    write("")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    write(f"harness grade, {CLASS_SIZE} submissions, CPU {cpu_model()}, {len(os.sched_getaffinity(0))} cores")
    write(f"load average at the end (1, 5, 15 min): {load}")
    write(tabulate(rows, ["setup", "wall s", "submissions/min", "speed-up"], tablefmt="github"))
    setup, (_, seconds) = next(iter(_RESULTS.items()))
    total = sum(seconds.values())
    top = [[check, f"{s:.0f}", f"{s / total:.0%}"] for check, s in seconds.most_common(TOP_CHECKS)]
    write(f"check time summed over the class ({setup}): {total:.0f} s")
    write(tabulate(top, ["check", "seconds", "share"], tablefmt="github"))
    return "\n".join(lines)
