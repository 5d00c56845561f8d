"""The submissions a human must look at, and why: what no score can settle by itself.

- `rerun`: checks failed because of the grading set-up (fault `setup`): re-run them, do not penalise;
- `forbidden`: a course rule was broken (outcome `forbidden`: torch.nn, autograd, a hidden F.conv2d);
- `adapted`: a block only worked through the harness's adapter (not PyTorch's constructor arguments);
- `nondeterministic`: the same bytes graded under the same rubric, data and harness version got other
  points in another run (timing checks left out: their figures vary by nature);
- `similar`: the code is similar to another submission's above the similarity threshold.

Flags never change a score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from harness.exports.rows import CheckRow, SubmissionRow, submission_row
from harness.grading.records import GradedSubmission
from harness.results import Category, Outcome


class Concern(str, Enum):
    """Why a submission needs a human."""

    RERUN = "rerun"
    FORBIDDEN = "forbidden"
    ADAPTED = "adapted"
    NONDETERMINISTIC = "nondeterministic"
    SIMILAR = "similar"


@dataclass(frozen=True)
class Flag:
    """One reason to look at submission `key`, in a line."""

    key: str
    concern: Concern
    text: str


@dataclass(frozen=True)
class SimilarTo:
    """Submission `key` resembles `other` over `percent` of its code (see `harness.exports.similarity`)."""

    key: str
    other: str
    percent: float


def flags_for(
    graded: Sequence[GradedSubmission],
    history: Sequence[GradedSubmission] = (),
    similar: Iterable[SimilarTo] = (),
) -> list[Flag]:
    """Every flag of the class `graded`, by submission then concern.

    `history` holds records of other runs (the store's earlier runs) to find nondeterministic scores;
    `similar` the similarity pairs above the threshold, one entry per side.
    """
    similar_by_key: dict[str, list[SimilarTo]] = {}
    for pair in similar:
        similar_by_key.setdefault(pair.key, []).append(pair)
    earlier: dict[tuple[str, ...], list[GradedSubmission]] = {}
    for record in history:
        earlier.setdefault(_inputs(record), []).append(record)
    flags: list[Flag] = []
    for record in graded:
        row = submission_row(record)
        flags += _row_flags(row)
        flags += _nondeterminism(row, [r for r in earlier.get(_inputs(record), []) if r is not record])
        flags += [
            Flag(row.key, Concern.SIMILAR, f"code similar to {pair.other} ({pair.percent:.0f}% of its code)")
            for pair in sorted(similar_by_key.get(row.key, []), key=lambda p: -p.percent)
        ]
    return flags


def flags_by_key(flags: Iterable[Flag]) -> dict[str, list[str]]:
    """The flags' lines grouped by submission key, in order."""
    grouped: dict[str, list[str]] = {}
    for flag in flags:
        grouped.setdefault(flag.key, []).append(flag.text)
    return grouped


def _row_flags(row: SubmissionRow) -> list[Flag]:
    flags = []
    if row.summary.needs_rerun:
        flags.append(
            Flag(row.key, Concern.RERUN, f"set-up fault, re-run: {_listed(row.summary.needs_rerun)}")
        )
    forbidden = [check.id for check in row.checks if check.outcome == Outcome.FORBIDDEN.value]
    if forbidden:
        flags.append(Flag(row.key, Concern.FORBIDDEN, f"forbidden torch use: {_listed(forbidden)}"))
    adapted = [check.id for check in row.checks if check.adapter]
    if adapted:
        flags.append(Flag(row.key, Concern.ADAPTED, f"adapted API (half points): {_listed(adapted)}"))
    return flags


def _nondeterminism(row: SubmissionRow, others: Sequence[GradedSubmission]) -> list[Flag]:
    """A flag when another run graded the same inputs to other non-timing points."""
    mine = _graded_points(row.checks)
    differing = []
    for other in others:
        theirs = _graded_points(submission_row(other).checks)
        changed = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if changed:
            differing.append(f"run {other.run_id}: {_listed(changed)}")
    if not differing:
        return []
    return [Flag(row.key, Concern.NONDETERMINISTIC, "same inputs, other points in " + "; ".join(differing))]


def _graded_points(checks: Sequence[CheckRow]) -> dict[str, float]:
    return {check.id: check.points for check in checks if check.category != Category.TIMING.value}


def _inputs(record: GradedSubmission) -> tuple[str, ...]:
    """What decides a grade: the submission (key and bytes), rubric, data and harness version."""
    return (
        record.key,
        record.submission_sha256,
        record.rubric_sha256,
        record.data_sha256,
        record.harness_version,
    )


def _listed(ids: Sequence[str], shown: int = 6) -> str:
    if len(ids) <= shown:
        return ", ".join(ids)
    return f"{', '.join(ids[:shown])} and {len(ids) - shown} more"
