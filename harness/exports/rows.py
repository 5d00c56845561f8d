"""What every class output shows of one graded submission, read from its stored report JSON.

`SubmissionRow` holds the totals, the points per category, PSNR and epoch estimate; `CheckRow` one
check's verdict. Exports render these, so a figure means the same thing in the CSV, the worksheet,
Gradescope and the class report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.grading.records import GradedSubmission
from harness.report import Summary
from harness.results import Category
from harness.tables import summary_line

CATEGORIES = tuple(category.value for category in Category)


@dataclass(frozen=True)
class CheckRow:
    """One check of one submission, as its report states it."""

    id: str
    category: str
    outcome: str
    points: float
    max_points: float
    required: bool
    fault: str
    needs_rerun: bool
    adapter: bool
    """The block was only judged correct through the harness's adapter (`details["adapter"]`)."""
    message: str


@dataclass(frozen=True)
class SubmissionRow:
    """The figures of one graded submission a class table shows."""

    key: str
    name: str
    participant_id: str | None
    scipers: tuple[str, ...]
    summary: Summary
    category_points: Mapping[str, tuple[float, float]]
    """(points, max points) per category, in `Category` order; categories without checks are absent."""
    checks: tuple[CheckRow, ...]

    @property
    def points(self) -> float:
        return self.summary.points

    @property
    def max_points(self) -> float:
        return self.summary.max_points

    @property
    def percent(self) -> float:
        """Points over the submission's own maximum, in percent (0 when the maximum is 0)."""
        return 100 * self.points / self.max_points if self.max_points else 0.0

    @property
    def summary_line(self) -> str:
        """`harness check`'s summary line: points, required checks, re-runs, PSNR, epoch estimate."""
        return summary_line(self.summary)


def submission_row(graded: GradedSubmission) -> SubmissionRow:
    """The row of a stored submission, from its report JSON alone."""
    return report_row(graded.report, graded.key, graded.name, graded.participant_id, graded.scipers)


def report_row(
    report: Mapping[str, Any],
    key: str,
    name: str,
    participant_id: str | None = None,
    scipers: Sequence[str] = (),
) -> SubmissionRow:
    """The row of a `harness check` report JSON, known to the class as `key`."""
    checks = tuple(_check_row(check) for check in report["checks"])
    totals: dict[str, tuple[float, float]] = {}
    for check in checks:
        points, max_points = totals.get(check.category, (0.0, 0.0))
        totals[check.category] = (points + check.points, max_points + check.max_points)
    return SubmissionRow(
        key=key,
        name=name,
        participant_id=participant_id,
        scipers=tuple(scipers),
        summary=summary_from_json(report["summary"]),
        category_points={c: _rounded(totals[c]) for c in CATEGORIES if c in totals},
        checks=checks,
    )


def submission_rows(graded: Sequence[GradedSubmission]) -> list[SubmissionRow]:
    """The rows of a class, in the order given."""
    return [submission_row(one) for one in graded]


def summary_from_json(document: Mapping[str, Any]) -> Summary:
    """The report's `Summary` back from its JSON form (lists become tuples)."""
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in document.items()}
    return Summary(**values)


def file_stems(keys: Sequence[str]) -> dict[str, str]:
    """A distinct file name for each submission key: its letters, digits, `.`, `_` and `-`, every other
    run of characters `_`, and `-2`, `-3`, ... after a stem already taken."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._") or "submission"
        stem, number = base, 1
        while stem in taken:
            number += 1
            stem = f"{base}-{number}"
        stems[key] = stem
        taken.add(stem)
    return stems


def _check_row(check: Mapping[str, Any]) -> CheckRow:
    return CheckRow(
        id=check["id"],
        category=check["category"],
        outcome=check["outcome"],
        points=float(check["points"]),
        max_points=float(check["max_points"]),
        required=bool(check["required"]),
        fault=check["fault"],
        needs_rerun=bool(check["needs_rerun"]),
        adapter=check["details"].get("adapter") is True,
        message=check["message"],
    )


def _rounded(pair: tuple[float, float]) -> tuple[float, float]:
    return (round(pair[0], 6), round(pair[1], 6))
