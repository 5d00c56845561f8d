"""Gradescope's autograder results (`results.json`) of one graded submission.

Gradescope reads `/autograder/results/results.json` after `run_autograder`: a top-level `score`,
`execution_time` (seconds), `output` shown to the student, and `tests[]`, one entry per check, each with
`name`, `score`, `max_score`, `status` (`passed` / `failed`), `output` and `visibility`. Every check is
visible: the student sees what the grader sees. The top-level score is the report's total, so
Gradescope's sum of test scores agrees with `harness check`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.exports.rows import SubmissionRow, file_stems, report_row, submission_row
from harness.grading.records import GradedSubmission

RESULTS_NAME = "results.json"
VISIBILITY = "visible"


def results_json(report: Mapping[str, Any], execution_time_s: float) -> dict[str, Any]:
    """The results document of a `harness check` report JSON, graded in `execution_time_s` seconds."""
    row = report_row(report, report["submission"]["name"], report["submission"]["name"])
    return _results(row, execution_time_s, report["rubric"]["name"])


def results_for_report(report_path: Path, stderr_path: Path | None = None) -> dict[str, Any]:
    """The results of `harness check`'s report.json, or, when it made none (a bad path: exit 2), a
    score of 0 whose output is the last line `harness check` wrote on stderr."""
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        reason = _last_line(stderr_path) or f"no report at {report_path}"
        return {
            "score": 0.0,
            "execution_time": 0,
            "output": f"The harness could not grade this submission: {reason}",
            "visibility": VISIBILITY,
            "stdout_visibility": "hidden",
            "tests": [],
        }
    return results_json(report, float(report["run"]["wall_s"]))


def graded_results_json(graded: GradedSubmission) -> dict[str, Any]:
    """The results document of a stored submission."""
    return _results(submission_row(graded), graded.wall_s, graded.report["rubric"]["name"])


def write_results(graded: Sequence[GradedSubmission], out_dir: Path) -> dict[str, Path]:
    """One `<submission>/results.json` per stored submission under `out_dir`; the paths by key."""
    stems = file_stems([one.key for one in graded])
    written = {}
    for one in graded:
        path = out_dir / stems[one.key] / RESULTS_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps_results(graded_results_json(one)), encoding="utf-8")
        written[one.key] = path
    return written


def dumps_results(document: Mapping[str, Any]) -> str:
    """The document as JSON text (two-space indents, a final newline; no NaN, which Gradescope rejects)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _results(row: SubmissionRow, execution_time_s: float, rubric_name: str) -> dict[str, Any]:
    tests = [
        {
            "name": check.id + (" (required)" if check.required else ""),
            "score": check.points,
            "max_score": check.max_points,
            "status": "passed" if check.outcome == "pass" else "failed",
            "output": _test_output(check.outcome, check.fault, check.message),
            "visibility": VISIBILITY,
        }
        for check in row.checks
    ]
    return {
        "score": row.points,
        "execution_time": round(execution_time_s, 3),
        "output": f"{row.summary_line}\n(graded by the EE-559 harness, rubric {rubric_name})",
        "visibility": VISIBILITY,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _test_output(outcome: str, fault: str, message: str) -> str:
    if fault == "setup":
        return f"{outcome}: {message} (a grading set-up problem, not yours: it will be re-run)"
    return f"{outcome}: {message}"


def _last_line(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
