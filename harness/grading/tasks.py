"""One submission's grading as a task a worker runs: `harness check`'s journey, returned as a record.

`grade_task` runs in a worker process (the local pool's or a Dask worker's), never in the process that
keeps the store: it calls `check_submission`, which runs the submission's code only in sandboxed
children. The task carries the rubric itself (pickled), so a remote worker grades with the parent's
rubric; the data must be at the same path on the worker. The record says which data files and harness
source the worker actually used, so the parent can refuse a worker that differs.

`setup_failure` is the record of a submission that could not be graded because of the set-up (its
worker was lost too often, the worker's data or harness differ): every check an ERROR with fault SETUP,
so the report is complete, scores nothing and flags a re-run.
"""

from __future__ import annotations

import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.check import REFERENCE_DIR, check_submission, data_paths
from harness.checks.registry import CHECK_CATEGORIES, group_checks
from harness.grading.discovery import FoundSubmission
from harness.grading.fingerprints import data_sha256, harness_version
from harness.grading.records import GradedSubmission
from harness.report import Report, build_report, report_to_json
from harness.reproducibility import cpu_model
from harness.results import CheckResult, Fault, Outcome
from harness.rubric import Rubric
from harness.submission import resolve_submission

CHECK_JOBS = 2
"""Check groups at once within one submission, as `harness check` runs them by default."""


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs to grade one submission as `harness check` does."""

    submission: FoundSubmission
    data_dir: Path
    rubric: Rubric
    seed: int = 0
    groups: tuple[str, ...] | None = None
    """Check group names to run (None: all), as `check_submission(groups=...)`."""
    reference: bool = True
    """Time the reference `Miniproject_2` alongside for the timing ratios."""


def grade_task(task: GradeTask) -> GradedSubmission:
    """Grade `task`'s submission with `check_submission` and return its record (run id 0)."""
    graded_at = _now()
    started = time.monotonic()
    report = check_submission(
        task.submission.path,
        task.data_dir,
        task.rubric,
        seed=task.seed,
        jobs=CHECK_JOBS,
        reference_dir=REFERENCE_DIR if task.reference else None,
        groups=task.groups,
    )
    return _record(task, report, graded_at, time.monotonic() - started)


def setup_failure(task: GradeTask, problem: str) -> GradedSubmission:
    """The record of a submission not graded because of the set-up: each check of the task's groups
    an ERROR with fault SETUP whose message is `problem` (built in the parent; no student code runs)."""
    graded_at = _now()
    results = [
        CheckResult(
            id=check_id,
            category=CHECK_CATEGORIES[check_id],
            outcome=Outcome.ERROR,
            message=f"not graded, re-run: {problem}",
            details={"grading": problem},
            fault=Fault.SETUP,
        )
        for check_id in group_checks(task.groups)
    ]
    with tempfile.TemporaryDirectory(prefix="harness-grade-") as workdir:
        submission = resolve_submission(task.submission.path, Path(workdir))
        report = build_report(
            submission,
            results,
            task.rubric,
            data_files=list(data_paths(task.data_dir)),
            seed=task.seed,
            started_at=datetime.fromisoformat(graded_at),
            judged=group_checks(task.groups),
        )
    return _record(task, report, graded_at, 0.0)


def machine() -> str:
    """This machine as a record names it: host name and CPU model."""
    return f"{platform.node()} ({cpu_model()})"


def _record(task: GradeTask, report: Report, graded_at: str, wall_s: float) -> GradedSubmission:
    document = report_to_json(report)
    found = task.submission
    return GradedSubmission(
        key=found.key,
        name=found.name,
        participant_id=found.participant_id,
        scipers=found.scipers,
        report=document,
        submission_sha256=found.sha256,
        rubric_sha256=task.rubric.sha256,
        data_sha256=data_sha256(document["reproducibility"]["data_files"]),
        harness_version=harness_version(),
        graded_at=graded_at,
        machine=machine(),
        wall_s=round(wall_s, 3),
        notes=found.notes,
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
