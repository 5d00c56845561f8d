"""Moodle (EPFL's LMS): the assignment's offline grading worksheet filled in, and feedback files.

Moodle's "Download grading worksheet" gives a CSV with the columns of `WORKSHEET_COLUMNS`, one row per
participant, `Identifier` reading `Participant 1234567`. The same number ends the folder names of its
"Download all submissions" zip (`Jane Doe_1234567_assignsubmission_file_`), which is where `harness grade`
took each submission's `participant_id` from: a row gets a grade only when that id, or (with a roster)
one of its team's SCIPERs, names it exactly; nothing is matched by name. Rows without a submission and
submissions without a row are listed, not guessed.

A team submits once (`Proj_SCIPER1_SCIPER2_SCIPER3`): the roster, a CSV with a `sciper` column and a
`participant` column (`1234567` or `Participant 1234567`) or an `email` column (the worksheet's
`Email address`), gives every member the team's grade and comments.

`Grade` is the report's points scaled to the row's `Maximum Grade` (a submission graded out of 96
because it has no Upsampling block gets 96/96 of the maximum), two decimals. `Feedback comments` is the
summary line. The worksheet is written with every cell quoted; the columns Moodle's importer reads
(`IMPORTED_COLUMNS`: it finds them by name and parses the grade as a number) are written exactly, and
every other one (the full name and email a student can set, ...) goes through the CSV exports'
formula guard (`harness.exports.spreadsheet.safe_text`), so the file is safe to open in a spreadsheet
before uploading it. The feedback-files zip holds one `feedback.md` per graded participant, in a folder named
as in the submissions download, which is what Moodle's "Upload multiple feedback files in a zip" matches.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.exports.feedback import feedback_markdown
from harness.exports.rows import SubmissionRow
from harness.exports.spreadsheet import safe_text

IDENTIFIER = "Identifier"
FULL_NAME = "Full name"
EMAIL = "Email address"
GRADE = "Grade"
MAXIMUM_GRADE = "Maximum Grade"
CAN_CHANGE = "Grade can be changed"
COMMENTS = "Feedback comments"
LAST_GRADED = "Last modified (grade)"
WORKSHEET_COLUMNS = (
    IDENTIFIER,
    FULL_NAME,
    EMAIL,
    "Status",
    GRADE,
    MAXIMUM_GRADE,
    CAN_CHANGE,
    "Last modified (submission)",
    LAST_GRADED,
    COMMENTS,
)
IMPORTED_COLUMNS = (IDENTIFIER, GRADE, LAST_GRADED, COMMENTS)
"""What Moodle's "Upload grading worksheet" reads; the rest of a row it ignores."""
REQUIRED_COLUMNS = (IDENTIFIER, FULL_NAME, GRADE, MAXIMUM_GRADE)
FEEDBACK_NAME = "feedback.md"
_PARTICIPANT = re.compile(r"^\s*(?:Participant\s+)?(\d+)\s*$")
_BOM = "\ufeff"


class MoodleError(HarnessError):
    """A worksheet or roster that cannot be read as Moodle's (missing columns, a bad identifier)."""


@dataclass(frozen=True)
class Worksheet:
    """A grading worksheet as read: its columns in order and its rows, each a column → text mapping."""

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, str], ...]
    bom: bool
    """Whether the file began with a UTF-8 byte-order mark (written back the same way)."""


@dataclass(frozen=True)
class Assignment:
    """One worksheet row given a submission's grade, and how it was matched."""

    identifier: str
    full_name: str
    key: str
    grade: str
    via: str
    """`participant id` (the submission's own Moodle folder) or `roster: SCIPER n`."""


@dataclass(frozen=True)
class Filled:
    """The worksheet with grades in, and what could not be matched."""

    worksheet: Worksheet
    assignments: tuple[Assignment, ...]
    rows_without_submission: tuple[str, ...]
    """Identifiers of rows no submission names (left as they were)."""
    submissions_without_row: tuple[str, ...]
    """Keys of submissions whose participant id and SCIPERs match no row."""
    conflicts: tuple[str, ...]
    """Rows named by two submissions, or whose grade Moodle does not let change: left as they were."""


def read_worksheet(path: Path) -> Worksheet:
    """Read a grading worksheet (UTF-8, with or without BOM); `MoodleError` when it lacks the columns."""
    text = _read_text(path)
    bom = text.startswith(_BOM)
    reader = csv.DictReader(io.StringIO(text.removeprefix(_BOM), newline=""))
    columns = tuple(reader.fieldnames or ())
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise MoodleError(path, f"not a Moodle grading worksheet: no column {', '.join(missing)}")
    rows = tuple({column: row.get(column) or "" for column in columns} for row in reader)
    for number, row in enumerate(rows, start=2):
        if _participant_number(row[IDENTIFIER]) is None:
            raise MoodleError(path, f"line {number}: identifier {row[IDENTIFIER]!r} is not 'Participant N'")
        if _number(row[MAXIMUM_GRADE]) is None:
            raise MoodleError(path, f"line {number}: Maximum Grade {row[MAXIMUM_GRADE]!r} is not a number")
    return Worksheet(columns, rows, bom)


def read_roster(path: Path) -> dict[str, tuple[str, str]]:
    """The roster as SCIPER → (`participant` or `email`, value); `MoodleError` on a malformed file."""
    reader = csv.DictReader(io.StringIO(_read_text(path).removeprefix(_BOM), newline=""))
    columns = {name.strip().lower(): name for name in reader.fieldnames or ()}
    by = "participant" if "participant" in columns else "email" if "email" in columns else None
    if "sciper" not in columns or by is None:
        raise MoodleError(path, "a roster needs a 'sciper' column and a 'participant' or 'email' column")
    roster: dict[str, tuple[str, str]] = {}
    for number, row in enumerate(reader, start=2):
        sciper = (row.get(columns["sciper"]) or "").strip()
        value = (row.get(columns[by]) or "").strip()
        if not sciper.isdigit() or not value:
            raise MoodleError(path, f"line {number}: needs a numeric SCIPER and a {by}")
        if by == "participant":
            participant = _participant_number(value)
            if participant is None:
                raise MoodleError(path, f"line {number}: participant {value!r} is not a number")
            value = participant
        if roster.get(sciper, (by, value)) != (by, value):
            raise MoodleError(path, f"line {number}: SCIPER {sciper} is listed twice with different {by}s")
        roster[sciper] = (by, value)
    return roster


def fill_worksheet(
    worksheet: Worksheet,
    rows: Sequence[SubmissionRow],
    roster: Mapping[str, tuple[str, str]] | None = None,
) -> Filled:
    """Put each submission's grade and comments in the rows that name it (see the module's rules)."""
    by_participant = {_participant_number(row[IDENTIFIER]): index for index, row in enumerate(worksheet.rows)}
    by_email = {
        row.get(EMAIL, "").strip().lower(): i for i, row in enumerate(worksheet.rows) if row.get(EMAIL)
    }
    claims: dict[int, list[tuple[SubmissionRow, str]]] = {}
    unmatched = []
    for row in rows:
        targets = _targets(row, by_participant, by_email, roster or {})
        if not targets:
            unmatched.append(row.key)
        for index, via in targets.items():
            claims.setdefault(index, []).append((row, via))
    new_rows = [dict(row) for row in worksheet.rows]
    assignments, conflicts = [], []
    for index in sorted(claims):
        line = new_rows[index]
        keys = sorted({row.key for row, _ in claims[index]})
        if len(keys) > 1:
            conflicts.append(f"{line[IDENTIFIER]}: named by {len(keys)} submissions ({', '.join(keys)})")
            continue
        if line.get(CAN_CHANGE, "Yes").strip().lower() == "no":
            conflicts.append(f"{line[IDENTIFIER]}: Moodle does not let this grade change")
            continue
        row, via = claims[index][0]
        line[GRADE] = _grade(row, line[MAXIMUM_GRADE])
        if COMMENTS in line:
            line[COMMENTS] = row.summary_line
        assignments.append(Assignment(line[IDENTIFIER], line[FULL_NAME], row.key, line[GRADE], via))
    return Filled(
        worksheet=Worksheet(worksheet.columns, tuple(new_rows), worksheet.bom),
        assignments=tuple(assignments),
        rows_without_submission=tuple(
            row[IDENTIFIER] for index, row in enumerate(worksheet.rows) if index not in claims
        ),
        submissions_without_row=tuple(unmatched),
        conflicts=tuple(conflicts),
    )


def worksheet_text(worksheet: Worksheet) -> str:
    """The worksheet as CSV text in Moodle's own shape (same columns, order and BOM), every cell quoted,
    the columns Moodle does not import through the formula guard."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=worksheet.columns, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(
        {column: text if column in IMPORTED_COLUMNS else safe_text(text) for column, text in row.items()}
        for row in worksheet.rows
    )
    return (_BOM if worksheet.bom else "") + buffer.getvalue()


def write_worksheet(worksheet: Worksheet, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(worksheet_text(worksheet), encoding="utf-8", newline="")
    return path


def feedback_folder(full_name: str, identifier: str) -> str:
    """The folder name of a participant in Moodle's submissions download and feedback-files zip.

    Moodle's own download writes the full name with every `_` as a space, and its feedback upload
    splits a path at `_` to find the participant number after the name: `Ada_Maria Lovelace` written as
    it is would read as participant "Maria Lovelace" and the file be skipped without a word."""
    return f"{full_name.replace('_', ' ')}_{_participant_number(identifier)}_assignsubmission_file_"


def write_feedback_zip(filled: Filled, rows: Sequence[SubmissionRow], path: Path) -> Path:
    """One `feedback.md` per graded participant (a team's members each get the team's), in the
    download's folder names, zipped to `path`."""
    by_key = {row.key: row for row in rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for assignment in filled.assignments:
            folder = feedback_folder(assignment.full_name, assignment.identifier)
            archive.writestr(f"{folder}/{FEEDBACK_NAME}", feedback_markdown(by_key[assignment.key]))
    return path


def _targets(
    row: SubmissionRow,
    by_participant: Mapping[str | None, int],
    by_email: Mapping[str, int],
    roster: Mapping[str, tuple[str, str]],
) -> dict[int, str]:
    """The worksheet rows `row` names: its own participant id, and its SCIPERs through the roster."""
    targets: dict[int, str] = {}
    if row.participant_id is not None and row.participant_id in by_participant:
        targets[by_participant[row.participant_id]] = "participant id"
    for sciper in row.scipers:
        by, value = roster.get(sciper, ("", ""))
        index = by_participant.get(value) if by == "participant" else by_email.get(value.lower())
        if index is not None:
            targets.setdefault(index, f"roster: SCIPER {sciper}")
    return targets


def _grade(row: SubmissionRow, maximum: str) -> str:
    maximum_grade = _number(maximum) or 0.0
    return f"{row.points / row.max_points * maximum_grade if row.max_points else 0.0:.2f}"


def _number(text: str) -> float | None:
    """A worksheet number (`100.00`, or `100,00` in a French-locale Moodle), None if it is none."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _participant_number(identifier: str) -> str | None:
    match = _PARTICIPANT.match(identifier)
    return match.group(1) if match else None


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise MoodleError(path, f"cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise MoodleError(path, "not UTF-8 text (save the CSV as UTF-8)") from None
