"""The report of one graded submission: scored checks, a summary and a reproducibility block.

`build_report` turns check results into a `Report` (scoring them with the rubric); `report_to_json`
gives its JSON document, validated against `harness/schema/report.schema.json`; `write_reports` writes
the files a grader keeps. Everything but the `run` part (start time, wall time, per-check durations)
and the measured timing figures (see `without_timings`) is a function of the submission, data, rubric,
seed and harness version alone: those parts of two runs' JSON are identical.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timezone
from enum import Enum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import jsonschema

from harness.checks.registry import CHECK_CATEGORIES, GROUP_NAMES
from harness.errors import OutputError
from harness.reproducibility import Reproducibility, collect_reproducibility
from harness.results import Category, CheckResult, Fault, Outcome, ScoredCheck
from harness.rubric import Rubric, needs_rerun, score
from harness.sample_grid import write_sample_grid
from harness.tables import render_markdown

if TYPE_CHECKING:
    from harness.submission import Submission

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).parent / "schema" / "report.schema.json"

PSNR_CHECK = "psnr.pretrained"
"""Its `details` give the summary's PSNR: `psnr_db`, `metric` and, when measured, `noisy_psnr_db`."""
EPOCH_CHECK = "timing.train-epoch"
"""Its `details` give the summary's epoch estimate: `epoch_s` and `limit_s` (seconds)."""

JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"
SAMPLES_NAME = "samples.png"
FORMATS = ("table", "md", "json")
"""`table` is the console rendering only; `md` and `json` are files (with the PNG grid when samples exist)."""

_CATEGORY_ORDER = {category: index for index, category in enumerate(Category)}
_CHECK_ORDER = {check_id: index for index, check_id in enumerate(CHECK_CATEGORIES)}


@dataclass(frozen=True)
class SubmissionFileInfo:
    """One file of the graded `Miniproject_2/` folder."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class SubmissionInfo:
    """What was graded: the name a grader knows it by, where it came from, its files."""

    name: str
    source: str
    proj_name: str | None
    files: tuple[SubmissionFileInfo, ...]


@dataclass(frozen=True)
class Summary:
    """The figures a grader reads first.

    `epoch_ratio` is the estimated epoch time over the rubric's limit (above 1: too slow).
    `needs_rerun` lists checks that failed because of the grading set-up, not the submission.
    """

    points: float
    max_points: float
    passed_required: bool
    failed_required: tuple[str, ...]
    needs_rerun: tuple[str, ...]
    outcomes: Mapping[str, int]
    psnr_db: float | None
    psnr_metric: str | None
    noisy_psnr_db: float | None
    epoch_s: float | None
    epoch_limit_s: float | None
    epoch_ratio: float | None


@dataclass(frozen=True)
class RunInfo:
    """When and how long: the only part of a report that differs between identical runs."""

    started_at: str
    """UTC, ISO 8601."""
    wall_s: float


@dataclass(frozen=True)
class Report:
    """A graded submission, ready to render."""

    schema_version: str
    submission: SubmissionInfo
    rubric_name: str
    rule_profile: str
    checks: tuple[ScoredCheck, ...]
    """In report order: by category (`Category` order), then by the rubric's check order."""
    summary: Summary
    reproducibility: Reproducibility
    run: RunInfo

    def samples(self) -> Mapping[str, Any] | None:
        """The PSNR check's sample images (`artifacts["samples"]`), if it produced any."""
        for scored in self.checks:
            if scored.result.id == PSNR_CHECK and "samples" in scored.result.artifacts:
                return scored.result.artifacts["samples"]
        return None


def build_report(
    submission: Submission,
    results: Sequence[CheckResult],
    rubric: Rubric,
    *,
    data_files: Sequence[Path],
    seed: int,
    threads: int = 1,
    network_isolated: bool | None = None,
    sandbox: Mapping[str, bool] | None = None,
    started_at: datetime | None = None,
    wall_s: float = 0.0,
    reference_dir: Path | None = None,
) -> Report:
    """Score `results` with `rubric` and assemble the report of `submission`.

    `data_files` are hashed into the reproducibility block (raises `DataError` if one is unreadable).
    """
    checks = tuple(sorted(score(results, rubric), key=_report_order))
    return Report(
        schema_version=SCHEMA_VERSION,
        submission=SubmissionInfo(
            name=submission.name,
            source=str(submission.source),
            proj_name=submission.proj_name,
            files=tuple(
                SubmissionFileInfo(path=f.relpath, size=f.size, sha256=f.sha256)
                for f in sorted(submission.files, key=lambda f: f.relpath)
            ),
        ),
        rubric_name=rubric.name,
        rule_profile=rubric.rule_profile,
        checks=checks,
        summary=summarize(checks),
        reproducibility=collect_reproducibility(
            submission,
            data_files,
            rubric,
            seed,
            threads=threads,
            network_isolated=network_isolated,
            sandbox=sandbox,
            reference_dir=reference_dir,
        ),
        run=RunInfo(
            started_at=(started_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            wall_s=round(wall_s, 3),
        ),
    )


def summarize(checks: Sequence[ScoredCheck]) -> Summary:
    """Totals, required-check verdict, outcome counts, PSNR and epoch estimate of scored checks."""
    by_id = {scored.result.id: scored.result for scored in checks}
    psnr = by_id.get(PSNR_CHECK)
    epoch = by_id.get(EPOCH_CHECK)
    epoch_s = _number(epoch, "epoch_s")
    epoch_limit_s = _number(epoch, "limit_s")
    outcomes: dict[str, int] = {}
    for scored in checks:
        outcomes[scored.result.outcome.value] = outcomes.get(scored.result.outcome.value, 0) + 1
    failed_required = tuple(
        scored.result.id for scored in checks if scored.required and scored.result.outcome is not Outcome.PASS
    )
    return Summary(
        points=round(sum(s.points for s in checks), 6),
        max_points=round(sum(s.max_points for s in checks), 6),
        passed_required=not failed_required,
        failed_required=failed_required,
        needs_rerun=tuple(s.result.id for s in checks if needs_rerun(s)),
        outcomes=MappingProxyType(dict(sorted(outcomes.items()))),
        psnr_db=_number(psnr, "psnr_db"),
        psnr_metric=_text(psnr, "metric"),
        noisy_psnr_db=_number(psnr, "noisy_psnr_db"),
        epoch_s=epoch_s,
        epoch_limit_s=epoch_limit_s,
        epoch_ratio=epoch_s / epoch_limit_s if epoch_s is not None and epoch_limit_s else None,
    )


def report_to_json(report: Report, validate: bool = True) -> dict[str, Any]:
    """The report as a JSON-compatible dict (schema `SCHEMA_VERSION`); validated unless told not to.

    Non-finite floats in check details (a NaN error of a NaN output) become the strings "NaN",
    "Infinity", "-Infinity", and unknown objects their repr, so the document is always valid JSON.
    """
    document = {
        "schema_version": report.schema_version,
        "submission": _jsonable(report.submission),
        "rubric": {
            "name": report.rubric_name,
            "rule_profile": report.rule_profile,
            "sha256": report.reproducibility.rubric_sha256,
        },
        "summary": _jsonable(report.summary),
        "checks": [_check_to_json(scored) for scored in report.checks],
        "reproducibility": _jsonable(report.reproducibility),
        "run": {
            **_jsonable(report.run),
            "durations_s": {s.result.id: round(s.result.duration_s, 3) for s in report.checks},
        },
    }
    if validate:
        validate_report_json(document)
    return document


def validate_report_json(document: Mapping[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` when `document` does not follow the report schema."""
    jsonschema.validate(document, report_schema())


@cache
def report_schema() -> dict[str, Any]:
    """The report's JSON schema (draft 2020-12): the file, with its enums filled from the code that
    defines them (the check registry's groups, `Outcome`, `Fault`), so a new group needs no schema edit."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["$defs"]["category"]["enum"] = list(GROUP_NAMES)
    schema["$defs"]["outcome"]["enum"] = [outcome.value for outcome in Outcome]
    schema["$defs"]["fault"]["enum"] = [fault.value for fault in Fault]
    return schema


def dumps_report(document: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, two-space indents, a final newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def without_timings(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a report document minus what varies between identical runs.

    Drops `run`, the measured epoch figures of the summary, the message, points, score and details of
    timing checks (their outcomes stay: a verdict that flips between runs is worth knowing about), and
    in every other check's details the keys that hold durations by the harness's naming convention
    (ending in `_s`, or containing `seconds`).
    """
    copy = json.loads(json.dumps(document))
    copy.pop("run", None)
    for key in ("epoch_s", "epoch_ratio"):
        copy["summary"].pop(key, None)
    for check in copy["checks"]:
        if check["category"] == Category.TIMING.value:
            for key in ("details", "message", "points", "score"):
                check.pop(key, None)
        else:
            check["details"] = _without_durations(check["details"])
    return copy


def _without_durations(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_durations(item)
            for key, item in value.items()
            if not (key.endswith("_s") or "seconds" in key)
        }
    if isinstance(value, list):
        return [_without_durations(item) for item in value]
    return value


def prepare_out_dir(out_dir: Path) -> None:
    """Make `out_dir` ready before a run: a folder that can be written, without the report files of an
    earlier run (a re-run writing only JSON must not leave an old report.md beside it).

    Raises `OutputError` (one line, exit code 2) when it is a file or cannot be created or written,
    so the user learns it before the checks run, not after."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(out_dir, "is a file, not a report folder (pass --out DIR)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(out_dir, f"cannot create the report folder: {error.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(out_dir, "the report folder is not writable")
    for name in (JSON_NAME, MARKDOWN_NAME, SAMPLES_NAME):
        (out_dir / name).unlink(missing_ok=True)


def write_reports(
    report: Report, results: Sequence[CheckResult], out_dir: Path, formats: Iterable[str]
) -> dict[str, Path]:
    """Write the requested file formats (`md`, `json`; `table` writes nothing) into `out_dir`.

    The PNG sample grid is written with any file format when the PSNR check left samples (taken from
    `results`, else from the report's own checks). Returns the written paths by kind
    ("json", "md", "png").
    """
    wanted = set(formats)
    unknown = wanted - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown report formats {sorted(unknown)} (known: {', '.join(FORMATS)})")
    wanted.discard("table")
    if not wanted:
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    samples = _samples(results) or report.samples()
    if samples is not None:
        written["png"] = write_sample_grid(samples, out_dir / SAMPLES_NAME)
    if "json" in wanted:
        written["json"] = out_dir / JSON_NAME
        written["json"].write_text(dumps_report(report_to_json(report)), encoding="utf-8")
    if "md" in wanted:
        written["md"] = out_dir / MARKDOWN_NAME
        grid = SAMPLES_NAME if "png" in written else None
        written["md"].write_text(render_markdown(report, samples_png=grid), encoding="utf-8")
    return written


def _samples(results: Sequence[CheckResult]) -> Mapping[str, Any] | None:
    for result in results:
        if result.id == PSNR_CHECK and "samples" in result.artifacts:
            return result.artifacts["samples"]
    return None


def _report_order(scored: ScoredCheck) -> tuple[int, int, str]:
    result = scored.result
    return (_CATEGORY_ORDER[result.category], _CHECK_ORDER.get(result.id, len(_CHECK_ORDER)), result.id)


def _check_to_json(scored: ScoredCheck) -> dict[str, Any]:
    result = scored.result
    return {
        "id": result.id,
        "category": result.category.value,
        "outcome": result.outcome.value,
        "fault": result.fault.value,
        "needs_rerun": needs_rerun(scored),
        "message": result.message,
        "score": _jsonable(result.score),
        "points": scored.points,
        "max_points": scored.max_points,
        "required": scored.required,
        "details": _jsonable(dict(result.details)),
    }


def _jsonable(value: Any) -> Any:
    """`value` with only JSON types: dataclasses and mappings become dicts with string keys, sequences
    lists, enums their values (see `report_to_json` for floats and other objects)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return repr(value)


def _number(result: CheckResult | None, key: str) -> float | None:
    value = None if result is None else result.details.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _text(result: CheckResult | None, key: str) -> str | None:
    value = None if result is None else result.details.get(key)
    return value if isinstance(value, str) else None
