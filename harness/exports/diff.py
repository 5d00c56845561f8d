"""`harness diff`: what a regrade changed, and why.

Two sets of records of one class (two stores, or two runs of one store) are matched by submission key.
A submission changed when its points or any check's outcome or points differ; each change says why,
from the hashes its records were graded under: the submission's files, the rubric, the data or the
harness version. A change under equal hashes is marked `same inputs` (a nondeterministic check).
Timing checks measure the machine, so their figures (and points) are reported apart, as timings: a
regrade of an unchanged class under the same rubric shows no change but timings. The console text
passes every key and label through `printable` (they quote the students' file names).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from tabulate import tabulate

from harness.exports.rows import CheckRow, submission_row
from harness.grading.records import GradedSubmission
from harness.probes.capture import printable
from harness.results import Category

TIMING = Category.TIMING.value


@dataclass(frozen=True)
class CheckFlip:
    """One check whose verdict differs between the two sides."""

    check_id: str
    before: str
    """`outcome points/max`, or `absent`."""
    after: str


@dataclass(frozen=True)
class Change:
    """A submission whose grade differs: points before and after, the causes and the flipped checks."""

    key: str
    points_before: float
    points_after: float
    causes: tuple[str, ...]
    flips: tuple[CheckFlip, ...]


@dataclass(frozen=True)
class Timings:
    """The figures that vary from run to run by nature."""

    wall_s_before: float
    wall_s_after: float
    median_epoch_s_before: float | None
    median_epoch_s_after: float | None
    timing_point_changes: tuple[str, ...]
    """Keys whose timing checks alone changed points (a submission near the time limit)."""


@dataclass(frozen=True)
class RegradeDiff:
    """Everything `harness diff` reports."""

    before: str
    after: str
    compared: int
    changes: tuple[Change, ...]
    only_before: tuple[str, ...]
    only_after: tuple[str, ...]
    timings: Timings

    @property
    def unchanged(self) -> bool:
        """No submission changed, appeared or disappeared (timings aside)."""
        return not (self.changes or self.only_before or self.only_after)


def regrade_diff(
    before: Sequence[GradedSubmission],
    after: Sequence[GradedSubmission],
    before_label: str = "before",
    after_label: str = "after",
) -> RegradeDiff:
    """Compare two sets of records of one class, matched by key."""
    old = {record.key: record for record in before}
    new = {record.key: record for record in after}
    common = sorted(old.keys() & new.keys())
    changes, timing_changes = [], []
    for key in common:
        change, timing_only = _compare(old[key], new[key])
        if change is not None:
            changes.append(change)
        if timing_only:
            timing_changes.append(key)
    return RegradeDiff(
        before=before_label,
        after=after_label,
        compared=len(common),
        changes=tuple(changes),
        only_before=tuple(sorted(old.keys() - new.keys())),
        only_after=tuple(sorted(new.keys() - old.keys())),
        timings=Timings(
            wall_s_before=round(sum(record.wall_s for record in before), 3),
            wall_s_after=round(sum(record.wall_s for record in after), 3),
            median_epoch_s_before=_median_epoch(before),
            median_epoch_s_after=_median_epoch(after),
            timing_point_changes=tuple(timing_changes),
        ),
    )


def diff_json(diff: RegradeDiff) -> dict:
    """The diff as a JSON-compatible document."""
    return {"unchanged": diff.unchanged, **asdict(diff)}


def dumps_diff(diff: RegradeDiff) -> str:
    return json.dumps(diff_json(diff), indent=2, ensure_ascii=False) + "\n"


def render_diff(diff: RegradeDiff) -> str:
    """The diff as console text: the changed submissions' table, the lists, the timings."""
    sides = f"{diff.before} -> {diff.after} ({diff.compared} submissions in both)"
    lines = [printable(f"harness diff: {sides}"), ""]
    if diff.changes:
        rows = [
            [
                printable(change.key),
                f"{change.points_before:g}",
                f"{change.points_after:g}",
                f"{change.points_after - change.points_before:+g}",
                "; ".join(change.causes),
                "\n".join(f"{flip.check_id}: {flip.before} -> {flip.after}" for flip in change.flips),
            ]
            for change in diff.changes
        ]
        headers = ("submission", "before", "after", "change", "why", "checks flipped")
        lines += [tabulate(rows, headers=headers, disable_numparse=True), ""]
    else:
        lines += ["no submission changed points or verdicts", ""]
    for label, keys in (
        ("only in " + diff.before, diff.only_before),
        ("only in " + diff.after, diff.only_after),
    ):
        if keys:
            lines += [printable(f"{label}: {', '.join(keys)}"), ""]
    timings = diff.timings
    lines.append(
        f"timings: grading wall time {timings.wall_s_before:.1f} s -> {timings.wall_s_after:.1f} s; "
        f"median epoch estimate {_seconds(timings.median_epoch_s_before)} -> "
        f"{_seconds(timings.median_epoch_s_after)}"
    )
    if timings.timing_point_changes:
        changed = printable(", ".join(timings.timing_point_changes))
        lines.append(f"timing checks alone changed points of: {changed}")
    return "\n".join(lines) + "\n"


def _compare(old: GradedSubmission, new: GradedSubmission) -> tuple[Change | None, bool]:
    """The change between two records of one key (None if none), and whether timing checks alone
    changed points."""
    old_checks = {check.id: check for check in submission_row(old).checks}
    new_checks = {check.id: check for check in submission_row(new).checks}
    flips = []
    timing_points = False
    for check_id in sorted(old_checks.keys() | new_checks.keys()):
        before, after = old_checks.get(check_id), new_checks.get(check_id)
        same_timing_verdict = before is not None and after is not None and before.category == TIMING
        if same_timing_verdict and before.outcome == after.outcome:
            timing_points |= before.points != after.points
            continue
        if _verdict(before) != _verdict(after):
            flips.append(CheckFlip(check_id, _verdict(before), _verdict(after)))
    if not flips:
        return None, timing_points
    points_before = float(old.report["summary"]["points"])
    points_after = float(new.report["summary"]["points"])
    return Change(new.key, points_before, points_after, _causes(old, new), tuple(flips)), False


def _causes(old: GradedSubmission, new: GradedSubmission) -> tuple[str, ...]:
    causes = []
    if old.submission_sha256 != new.submission_sha256:
        causes.append("submission changed")
    if old.rubric_sha256 != new.rubric_sha256:
        causes.append("rubric changed")
    if old.data_sha256 != new.data_sha256:
        causes.append("data changed")
    if old.harness_version != new.harness_version:
        causes.append(f"harness version {old.harness_version} -> {new.harness_version}")
    return tuple(causes) or ("same inputs (nondeterministic)",)


def _verdict(check: CheckRow | None) -> str:
    if check is None:
        return "absent"
    return f"{check.outcome} {check.points:g}/{check.max_points:g}"


def _median_epoch(records: Sequence[GradedSubmission]) -> float | None:
    epochs = [r.report["summary"]["epoch_s"] for r in records if r.report["summary"]["epoch_s"] is not None]
    return round(statistics.median(epochs), 3) if epochs else None


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"
