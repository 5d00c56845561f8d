"""`harness export STORE --format ...`: every class output written from a store, nothing re-graded.

`load_class` reads a store's records (the newest of each submission, or the class as of one run) and
the records of every run (for nondeterministic scores); `export_class` writes the chosen formats under
one folder and returns what it wrote and what a grader must read (unmatched worksheet rows, ...).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.blur import best_blur_psnr
from harness.dataset import load_val
from harness.errors import HarnessError, SubmissionError
from harness.exports.attention import flags_by_key, flags_for
from harness.exports.class_report import build_class_report, write_class_report
from harness.exports.figures import PsnrBaselines
from harness.exports.gradescope import write_results
from harness.exports.moodle import (
    fill_worksheet,
    read_roster,
    read_worksheet,
    write_feedback_zip,
    write_worksheet,
)
from harness.exports.outdir import MANIFEST_NAME, fresh_export
from harness.exports.rows import submission_rows
from harness.exports.similarity import DEFAULT_THRESHOLD, SimilarPair, read_sources, similar_pairs
from harness.exports.spreadsheet import long_table, wide_table, write_csv
from harness.grading.records import GradedSubmission
from harness.grading.store import Run, open_store
from harness.submission import resolve_submission


@dataclass(frozen=True)
class ClassRecords:
    """What the exports read from a store."""

    graded: tuple[GradedSubmission, ...]
    history: tuple[GradedSubmission, ...]
    """Every record of every run (nondeterministic scores show between runs)."""
    runs: tuple[Run, ...]
    label: str
    """Which store and run(s) the records come from, in a line."""


@dataclass(frozen=True)
class ExportOptions:
    """The inputs some formats need besides the store."""

    worksheet: Path | None = None
    roster: Path | None = None
    similarity: bool = False
    threshold: float = DEFAULT_THRESHOLD
    data_dir: Path | None = None
    """Course data: the best blur of its val set is drawn on the PSNR figure."""
    reference_report: Path | None = None
    """A `harness check` report.json of the reference: its PSNR is drawn on the PSNR figure."""


@dataclass(frozen=True)
class ExportResult:
    """What `export_class` wrote, by kind, and the lines a grader must read."""

    written: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Lines a grader must read: unmatched rows and submissions, conflicts, unreadable sources."""


def load_class(store_path: Path, run_id: int | None = None) -> ClassRecords:
    """The records of the store at `store_path`: the class as of run `run_id` (the newest record of
    each submission among runs up to it), or as of the last run."""
    with open_store(store_path, read_only=True) as store:
        runs = tuple(store.runs())
        if run_id is not None and run_id not in {run.id for run in runs}:
            known = ", ".join(str(run.id) for run in runs) or "none"
            raise HarnessError(store.path, f"has no run {run_id} (runs: {known})")
        by_run = {run.id: store.graded(run.id) for run in runs}
        label_path = store.path
    latest: dict[str, GradedSubmission] = {}
    for run in runs:
        if run_id is not None and run.id > run_id:
            break
        latest.update((record.key, record) for record in by_run[run.id])
    history = tuple(record for run in runs for record in by_run[run.id])
    upto = f"as of run {run_id}" if run_id is not None else f"as of run {runs[-1].id}" if runs else "no runs"
    return ClassRecords(
        graded=tuple(latest[key] for key in sorted(latest)),
        history=history,
        runs=runs,
        label=f"{label_path} ({len(latest)} submissions, {upto} of {len(runs)})",
    )


def export_class(
    records: ClassRecords, formats: Sequence[str], out_dir: Path, options: ExportOptions
) -> ExportResult:
    """Write each of `formats` (`EXPORT_FORMATS`) as one whole export at `out_dir`, with its manifest
    (`harness.exports.outdir`: an earlier export there is replaced whole, anything else refused)."""
    with fresh_export(out_dir, records.label, formats) as staging:
        result = _write_formats(records, formats, staging, options)
    result.written.update(
        {kind: Path(out_dir) / path.relative_to(staging) for kind, path in result.written.items()}
    )
    result.written["manifest"] = Path(out_dir) / MANIFEST_NAME
    return result


def _write_formats(
    records: ClassRecords, formats: Sequence[str], out_dir: Path, options: ExportOptions
) -> ExportResult:
    """Write each of `formats` under `out_dir` (a fresh folder)."""
    result = ExportResult()
    rows = submission_rows(records.graded)
    pairs: list[SimilarPair] = []
    if options.similarity:
        pairs = similar_pairs(class_sources(records, result.notes), options.threshold)
    if "moodle" in formats:
        if options.worksheet is None:
            raise HarnessError(None, "--format moodle needs --worksheet FILE (Moodle's grading worksheet)")
        roster = read_roster(options.roster) if options.roster else None
        filled = fill_worksheet(read_worksheet(options.worksheet), rows, roster)
        result.written["moodle worksheet"] = write_worksheet(
            filled.worksheet, out_dir / "moodle" / "grades.csv"
        )
        result.written["moodle feedback"] = write_feedback_zip(
            filled, rows, out_dir / "moodle" / "feedback.zip"
        )
        result.notes.append(f"moodle: {len(filled.assignments)} worksheet rows graded")
        result.notes.extend(f"moodle: no submission for {row}" for row in filled.rows_without_submission)
        result.notes.extend(f"moodle: no worksheet row for {key}" for key in filled.submissions_without_row)
        result.notes.extend(f"moodle: left as it was: {conflict}" for conflict in filled.conflicts)
    if "gradescope" in formats:
        written = write_results(records.graded, out_dir / "gradescope")
        result.written["gradescope"] = out_dir / "gradescope"
        result.notes.append(f"gradescope: {len(written)} results.json files")
    if "csv" in formats:
        flags = flags_by_key(
            flags_for(records.graded, records.history, [s for p in pairs for s in p.sides()])
        )
        result.written["csv wide"] = write_csv(wide_table(rows, flags), out_dir / "class_wide.csv")
        result.written["csv long"] = write_csv(long_table(rows), out_dir / "class_long.csv")
    if "report" in formats:
        report = build_class_report(
            records.graded,
            records.label,
            psnr_baselines(records, options),
            records.history,
            pairs,
            options.threshold if options.similarity else None,
        )
        written = write_class_report(report, out_dir)
        result.written["class report html"] = written["html"]
        result.written["class report md"] = written["md"]
    return result


def psnr_baselines(records: ClassRecords, options: ExportOptions) -> PsnrBaselines:
    """The best blur of `--data`'s val set and the reference report's PSNR, where given (noisy input:
    the class's own reports, filled in by the class report)."""
    metrics = [
        r.report["summary"]["psnr_metric"] for r in records.graded if r.report["summary"]["psnr_metric"]
    ]
    best_blur = None
    if options.data_dir is not None:
        noisy, clean = load_val(Path(options.data_dir) / "val_data.pkl")
        best_blur = best_blur_psnr(noisy, clean, metrics[0] if metrics else "grading")[1]
    reference = None
    if options.reference_report is not None:
        try:
            document = json.loads(Path(options.reference_report).read_text(encoding="utf-8"))
            reference = document["summary"]["psnr_db"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise HarnessError(
                options.reference_report, f"not a harness check report.json ({error})"
            ) from None
    return PsnrBaselines(None, best_blur, reference)


def class_sources(records: ClassRecords, notes: list[str]) -> dict[str, dict[str, str]]:
    """Each submission's Python files, read again from the class folder of the run that graded it (by
    its key); a submission that is no longer there is left out with a note."""
    class_dirs = {run.id: Path(run.class_dir) for run in records.runs}
    sources = {}
    with tempfile.TemporaryDirectory(prefix="harness-similarity-") as workdir:
        for index, record in enumerate(records.graded):
            path = class_dirs.get(record.run_id, Path(".")) / record.key
            try:
                submission = resolve_submission(path, Path(workdir) / str(index))
            except SubmissionError as error:
                notes.append(f"similarity: left out {record.key}: {error.one_line()}")
                continue
            sources[record.key] = read_sources(submission.package_dir)
    return sources


def diff_sides(
    store_a: Path, store_b: Path | None, run_a: int | None, run_b: int | None
) -> tuple[ClassRecords, ClassRecords]:
    """The two classes `harness diff` compares: two stores (each as of its last run, or the runs
    given), or, with one store, its run `run_b` (default: the last) against `run_a` (default: the one
    before)."""
    if store_b is not None:
        return load_class(store_a, run_a), load_class(store_b, run_b)
    runs = load_class(store_a).runs
    if len(runs) < 2 and (run_a is None or run_b is None):
        raise HarnessError(store_a, f"has {len(runs)} run(s): give a second store, or --run-a and --run-b")
    after = run_b if run_b is not None else runs[-1].id
    before = run_a if run_a is not None else max((run.id for run in runs if run.id < after), default=after)
    return load_class(store_a, before), load_class(store_a, after)
