"""The one-screen class summary `harness grade` prints at the end: a pure function of a `ClassResult`.

Counts by outcome, score quartiles, and the submissions a human must look at: set-up failures to
re-run, broken rules, crashed or hung checks, duplicate uploads, and what was not graded at all.
Submission keys and reasons quote the students' own file and folder names, so every one goes through
`printable`: an escape sequence in a zip's name (OSC 52 writes the grader's clipboard) or a bidi
override in a Moodle name reaches the terminal only as the characters it shows.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from harness.probes.capture import printable

if TYPE_CHECKING:
    from harness.grading.grade import ClassResult
    from harness.grading.records import GradedSubmission

LOOK_AT_LINES = 15
"""At most this many "look at" rows; the rest are counted (they are all in the store)."""
ALARMING = {"forbidden": "rule broken", "crash": "crashed", "timeout": "timed out", "oom": "out of memory"}
"""Check outcomes a grader should see with their own eyes, and how the summary says them."""


def render_summary(result: ClassResult) -> str:
    """The class summary as console text."""
    graded = result.graded
    fresh = len(graded) - len(result.reused) - len(result.carried)
    carried = f", {len(result.carried)} not selected, carried over" if result.carried else ""
    rerun = {record.key for record in result.needs_rerun}
    passed = sum(1 for r in graded if r.key not in rerun and r.report["summary"]["passed_required"])
    counts = [
        ["passed every required check", passed],
        ["failed a required check", len(graded) - passed - len(rerun)],
        ["needs a re-run (grading set-up)", len(rerun)],
        ["not graded (listed below)", len(result.not_graded)],
    ]
    lines = [
        printable(
            f"harness grade: {len(graded)} submissions of {result.class_dir} ({fresh} graded now, "
            f"{len(result.reused)} reused{carried}); store {result.store_path} run {result.run_id}"
        ),
        "",
        tabulate(counts, headers=("outcome", "submissions"), tablefmt="simple"),
        "",
        _quartiles([r.report["summary"] for r in graded if r.key not in rerun], result.max_points),
    ]
    look_at = [*(_concerns(record, record.key in rerun) for record in graded), *_not_graded(result)]
    rows = [row for row in look_at if row is not None]
    if rows:
        lines += ["", "look at these:", tabulate(rows[:LOOK_AT_LINES], headers=("submission", "why"))]
        if len(rows) > LOOK_AT_LINES:
            lines.append(f"... and {len(rows) - LOOK_AT_LINES} more (all in the store)")
    return "\n".join(lines) + "\n"


def _quartiles(summaries: list[Mapping[str, Any]], rubric_max: float) -> str:
    """Points over the graded submissions, out of what their reports were graded on: the rubric's
    maximum, or less when check groups were left out (their checks count 0 of 0)."""
    if not summaries:
        return "points: none graded"
    points = [summary["points"] for summary in summaries]
    maxima = {summary.get("max_points", rubric_max) for summary in summaries}
    out_of = f"{maxima.pop():g}" if len(maxima) == 1 else f"up to {max(maxima):g}"
    if len(points) == 1:
        return f"points: {points[0]:g} of {out_of}"
    q1, median, q3 = statistics.quantiles(points, n=4, method="inclusive")
    return (
        f"points (of {out_of}): min {min(points):g} · Q1 {q1:g} · median {median:g} · Q3 {q3:g} "
        f"· max {max(points):g}"
    )


def _concerns(record: GradedSubmission, rerun: bool) -> list[str] | None:
    """One row naming why a human should look at `record`, or None."""
    reasons = []
    if rerun:
        reasons.append("re-run: " + ", ".join(record.report["summary"]["needs_rerun"][:3]))
    for outcome, words in ALARMING.items():
        checks = [c["id"] for c in record.report["checks"] if c["outcome"] == outcome]
        if checks and not rerun:
            reasons.append(f"{words}: {', '.join(checks[:3])}")
    reasons += record.notes
    return [printable(record.key), printable("; ".join(reasons))] if reasons else None


def _not_graded(result: ClassResult) -> list[list[str]]:
    return [[printable(item.key), printable(f"not graded: {item.reason}")] for item in result.not_graded]
