"""`check_submission`: grade one submission with every check group and build its report.

The groups are those of `harness.checks.registry.GROUPS`; each one's judge module exposes
`run(ctx: CheckContext) -> list[CheckResult]`, or `work(ctx) -> GroupWork` to be cut into units.
`run_groups` is the one place that decides what runs at once: the units of every group but the
`alone` ones share one pool of `jobs` threads (each unit mostly waits on its own child process),
slowest groups first; the `alone` groups (timing) run after them, one unit at a time. A group that
cannot be imported, raises, or returns something other than check results costs only its own checks,
which become ERROR results with fault SETUP (a harness problem to re-run, not the student's), so the
report is always complete. What a child sends is meant never to get that far: model-step records are
checked at the boundary (`harness.checks.model_steps.records`), and the api, psnr, timing, blocks and
`rules.runtime` judges turn a value that breaks them into the submission's error (`runner.judging`,
`runner.fault_of`).
Once every group has run, `rules.runtime` is judged again with what the recorder saw in the graded
children (`harness.checks.runtime_rules.judge.judge_graded`). Points come from the rubric alone, in this
process.

Set-up problems found before any check runs (a bad submission path, missing or malformed data) are
raised as `SubmissionError` / `DataError`, the one-line exit-code-2 errors of the CLI.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from harness.checks.registry import Group, group_named, groups_named
from harness.checks.runtime_rules import judge as runtime_rules
from harness.context import CheckContext, GroupWork
from harness.dataset import PUBLIC_VAL_NOTE, TRAIN_FILE, VAL_FILE, is_public_val
from harness.errors import DataError
from harness.report import Report, build_report
from harness.results import CheckResult, Fault, Outcome
from harness.rubric import Rubric
from harness.sandbox import ChildRun, Limits, run_probe
from harness.submission import resolve_submission
from harness.tables import sandbox_text
from harness.workloads import train_pairs, val_pairs

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "test_data"
REFERENCE_DIR = REPO_ROOT / "Miniproject_2"

PUBLIC_VAL_WARNING = "warning: {path}: " + PUBLIC_VAL_NOTE
ISOLATION_PROBE = "harness.probes.call:call"
ISOLATION_LIMITS = Limits(wall_s=60, memory_mb=2048)

Progress = Callable[[str], None]


def check_submission(
    path: Path,
    data_dir: Path,
    rubric: Rubric,
    seed: int = 0,
    jobs: int = 2,
    reference_dir: Path | None = REFERENCE_DIR,
    progress: Progress | None = None,
    groups: Sequence[str | Group] | None = None,
) -> Report:
    """Resolve `path`, run every check group on it, score with `rubric` and return the report.

    `data_dir` holds `train_data.pkl` and `val_data.pkl`; `reference_dir` is the reference
    `Miniproject_2` timed alongside (None: no ratios); `progress` receives one line per finished group;
    `groups` names the check groups to run (`harness.checks.registry.GROUP_NAMES`; default: all),
    or gives them as `Group`s; an unknown name raises `ValueError` before anything runs.
    """
    tell = progress or (lambda line: None)
    chosen = _chosen(groups)
    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="harness-check-") as workdir:
        submission = resolve_submission(Path(path), Path(workdir))
        train_path, val_path = data_paths(data_dir)
        reference = reference_dir if reference_dir is not None and Path(reference_dir).is_dir() else None
        ctx = CheckContext(submission, train_path, val_path, rubric, seed, reference)
        tell(f"checking {submission.name} ({len(submission.files)} files) with {len(chosen)} check groups")
        if is_public_val(val_path):
            tell(PUBLIC_VAL_WARNING.format(path=val_path))
        results = [_with_graded_recordings(result, ctx) for result in run_groups(chosen, ctx, jobs, tell)]
        sandbox = _isolation_run(submission.package_dir)
        tell(f"sandbox: child start-up {sandbox.duration_s:.1f} s; {sandbox_text(sandbox.isolation)}")
        return build_report(
            submission,
            results,
            rubric,
            data_files=[train_path, val_path],
            seed=seed,
            threads=ctx.threads,
            network_isolated=sandbox.network_isolated,
            sandbox=sandbox.isolation,
            started_at=started_at,
            wall_s=time.monotonic() - started,
            reference_dir=reference,
            judged=None if groups is None else [check_id for group in chosen for check_id in group.checks],
        )


def data_paths(data_dir: Path) -> tuple[Path, Path]:
    """The train and val files of `data_dir`, loaded once to validate them (DataError if unusable)."""
    if Path(data_dir).is_file():
        raise DataError(
            data_dir, "is a file; --data takes the folder holding train_data.pkl and val_data.pkl"
        )
    if not Path(data_dir).is_dir():
        raise DataError(
            data_dir, "no such data folder (pass --data DIR, or make one with `harness data make DIR`)"
        )
    train_path, val_path = Path(data_dir) / TRAIN_FILE, Path(data_dir) / VAL_FILE
    train_pairs(train_path, 1, 0)
    val_pairs(val_path, 1)
    return train_path, val_path


def _isolation_run(package_dir: Path) -> ChildRun:
    """A child that imports nothing of the submission, run last (the fork server is warm then): what
    the OS let the children cut off, and how long starting one child takes."""
    return run_probe(ISOLATION_PROBE, package_dir, {}, ISOLATION_LIMITS, import_model=False)


def _with_graded_recordings(result: CheckResult, ctx: CheckContext) -> CheckResult:
    """`rules.runtime`'s own result judged again beside the graded children's recordings (a result
    that is the harness's own error stays as it is); every other result unchanged."""
    if result.id != runtime_rules.CHECK_ID or result.fault is Fault.SETUP:
        return result
    return runtime_rules.judge_graded(result, ctx.recordings, ctx.rubric.rule_profile)


def _chosen(groups: Sequence[str | Group] | None) -> tuple[Group, ...]:
    """`groups` as registry groups (a `Group` is taken as given: tests hand in stand-in judges)."""
    if groups is None:
        return groups_named(None)
    return tuple(dict.fromkeys(g if isinstance(g, Group) else group_named(g) for g in groups))


def run_groups(groups: Sequence[Group], ctx: CheckContext, jobs: int, tell: Progress) -> list[CheckResult]:
    """The one scheduler of a submission's checks: every unit of work of the groups that may share
    the machine (`GroupWork`; a group with only `run(ctx)` is one unit) in one pool of `jobs` threads,
    slowest groups first; then each `alone` group (timing), its units one at a time with nothing else
    of the submission running. No group runs a pool of its own. Results come back in group order."""
    beside = sorted((group for group in groups if not group.alone), key=lambda group: group.start)
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="check") as pool:
        started = [(group, _start(group, ctx, pool)) for group in beside]
        results = {group: _finish(group, *begun, tell) for group, begun in started}
    for group in groups:
        if group.alone:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alone") as pool:
                results[group] = _finish(group, *_start(group, ctx, pool), tell)
    return [result for group in groups for result in results[group]]


_Unit = Future[tuple[list[CheckResult], float, float]]
_Started = tuple[float, GroupWork | Exception, list[_Unit]]


def _start(group: Group, ctx: CheckContext, pool: ThreadPoolExecutor) -> _Started:
    """Submit `group`'s units to `pool`: (when, its work or the error that kept it from starting, the
    units' futures)."""
    begun = time.monotonic()
    try:
        judge = importlib.import_module(group.judge)
        work = judge.work(ctx) if hasattr(judge, "work") else GroupWork([partial(judge.run, ctx)])
    except Exception as error:
        return begun, error, []
    return begun, work, [pool.submit(_timed, unit) for unit in work.units]


def _timed(unit: Callable[[], list[CheckResult]]) -> tuple[list[CheckResult], float, float]:
    """A unit's results, when it started and when it finished: a group's time runs from its first
    unit's start to its last unit's end, not counting the wait for a free thread."""
    started = time.monotonic()
    return unit(), started, time.monotonic()


def _finish(
    group: Group,
    begun: float,
    work: GroupWork | Exception,
    futures: list[_Unit],
    tell: Progress,
) -> list[CheckResult]:
    """The group's results once its units are done; any failure of the group itself becomes SETUP
    errors for its checks."""
    try:
        if isinstance(work, Exception):
            raise work
        done = [future.result() for future in futures]
        results = _checked(work.combine([result for unit, _, _ in done for result in _checked(unit)]))
    except Exception as error:
        elapsed = time.monotonic() - begun
        tell(f"{group.name}: harness error after {elapsed:.1f} s: {type(error).__name__}: {error}")
        return _setup_errors(group, error, elapsed)
    first = min((started for _, started, _ in done), default=begun)
    last = max((finished for _, _, finished in done), default=begun)
    tell(f"{group.name}: {len(results)} checks in {last - first:.1f} s")
    return results


def _checked(results: object) -> list[CheckResult]:
    """`results`, when it is a list of `CheckResult` (what a unit and a group must give), else TypeError."""
    if not isinstance(results, list) or not all(isinstance(r, CheckResult) for r in results):
        raise TypeError(f"run() returned {type(results).__name__}, not a list of CheckResult")
    return results


def _setup_errors(group: Group, error: Exception, elapsed: float) -> list[CheckResult]:
    """One ERROR result with fault SETUP per check id the group was to produce."""
    first_line = (str(error).strip().splitlines() or [""])[0][:200]
    cause = f"{type(error).__name__}: {first_line}"
    message = f"harness problem in {group.judge}, re-run after fixing it: {cause}"
    return [
        CheckResult(
            id=check_id,
            category=group.category,
            outcome=Outcome.ERROR,
            message=message,
            details={"group": group.name, "exception": type(error).__name__},
            duration_s=elapsed,
            fault=Fault.SETUP,
        )
        for check_id in group.checks
    ]
