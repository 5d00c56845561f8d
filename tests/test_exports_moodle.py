"""The Moodle exports: the grading worksheet filled and read back, the roster's team grades, the
feedback-files zip, and the worksheets that must be refused."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zipfile

import pytest

from harness.exports.feedback import feedback_markdown
from harness.exports.moodle import (
    IMPORTED_COLUMNS,
    WORKSHEET_COLUMNS,
    MoodleError,
    feedback_folder,
    fill_worksheet,
    read_roster,
    read_worksheet,
    worksheet_text,
    write_feedback_zip,
    write_worksheet,
)
from harness.exports.rows import submission_rows
from harness.exports.spreadsheet import FORMULA_STARTS, safe_text
from tests.class_fixtures import MEMBERS, graded_class

MAXIMUM = 6.0
"""The assignment's maximum grade on Moodle (the Swiss 1-6 scale's top)."""


def worksheet_rows(extra: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """One Moodle row per class member, plus `extra` (identifier number, name, email) rows."""
    people = [(m.participant_id, m.full_name, f"{m.participant_id}@epfl.ch") for m in MEMBERS] + extra
    return [
        {
            "Identifier": f"Participant {number}",
            "Full name": name,
            "Email address": email,
            "Status": "Submitted for grading",
            "Grade": "",
            "Maximum Grade": f"{MAXIMUM:.2f}",
            "Grade can be changed": "Yes",
            "Last modified (submission)": "Friday, 27 May 2022, 23:59",
            "Last modified (grade)": "-",
            "Feedback comments": "",
        }
        for number, name, email in people
    ]


def write_sheet(path, rows, bom=True):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=WORKSHEET_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8", newline="")
    return path


def expected_grade(one) -> str:
    """The grade computed here from the report's summary, independently of the export."""
    summary = one.report["summary"]
    return f"{summary['points'] / summary['max_points'] * MAXIMUM:.2f}"


def test_filled_worksheet_parses_back_with_the_same_grades(tmp_path):
    graded = graded_class()
    extra = [("2000001", "Team Mate", "mate@epfl.ch"), ("2000002", "No Submission", "none@epfl.ch")]
    sheet = write_sheet(tmp_path / "worksheet.csv", worksheet_rows(extra))
    roster_path = tmp_path / "roster.csv"
    # the reference's team has SCIPERs 100001 (its uploader, Participant 1000001) and 100002 (Team Mate)
    roster_path.write_text("sciper,participant\n100002,Participant 2000001\n100001,1000001\n")
    filled = fill_worksheet(read_worksheet(sheet), submission_rows(graded), read_roster(roster_path))
    out = write_worksheet(filled.worksheet, tmp_path / "out" / "grades.csv")
    assert out.read_bytes().startswith("\ufeff".encode())

    back = {row["Identifier"]: row for row in read_worksheet(out).rows}
    for one in graded:
        assert back[f"Participant {one.participant_id}"]["Grade"] == expected_grade(one)
        assert back[f"Participant {one.participant_id}"]["Feedback comments"].startswith(
            f"{one.report['summary']['points']:g}/{one.report['summary']['max_points']:g} points"
        )
    assert back["Participant 2000001"]["Grade"] == expected_grade(graded[0])
    assert back["Participant 2000002"]["Grade"] == ""
    assert filled.rows_without_submission == ("Participant 2000002",)
    assert filled.submissions_without_row == ()
    vias = {a.identifier: a.via for a in filled.assignments}
    assert vias["Participant 2000001"] == "roster: SCIPER 100002"
    assert vias["Participant 1000001"] == "participant id"
    # every other column is as Moodle wrote it, but for the `'` before a name a spreadsheet would run
    original = {row["Identifier"]: row for row in read_worksheet(sheet).rows}
    for identifier, row in back.items():
        for column in set(WORKSHEET_COLUMNS) - {"Grade", "Feedback comments"}:
            as_read = original[identifier][column]
            assert row[column] == (as_read if column in IMPORTED_COLUMNS else safe_text(as_read))
    assert back["Participant 1000004"]["Full name"] == "'=cmd|' /C calc'!A0"
    assert back["Participant 1000001"]["Full name"] == original["Participant 1000001"]["Full name"]


def test_worksheet_is_quoted_and_safe_in_a_semicolon_locale_and_its_grades_import(tmp_path):
    """Excel in fr-CH/de-CH splits a .csv at `;`: no piece of any cell may start a formula there, while
    Moodle's importer, which finds columns by name and parses the grade with `unformat_float`, still
    reads every grade as the number it is."""
    graded = graded_class()
    extra = [("2000001", 'x;=HYPERLINK("http:evil","y");-2+3', "a,@SUM(A1)@epfl.ch")]
    sheet = write_sheet(tmp_path / "worksheet.csv", worksheet_rows(extra))
    filled = fill_worksheet(read_worksheet(sheet), submission_rows(graded))
    text = worksheet_text(filled.worksheet).removeprefix("\ufeff")
    for raw, line in zip(text.splitlines(), csv.reader(io.StringIO(text, newline="")), strict=True):
        assert raw == ",".join('"' + cell.replace('"', '""') + '"' for cell in line)  # every cell quoted
        for piece in re.split("[,;]", raw):
            assert not piece.lstrip(' "').startswith(FORMULA_STARTS) or piece.strip('"') == "-"
    by_name = list(csv.DictReader(io.StringIO(text, newline="")))
    grades = {row["Identifier"]: float(row["Grade"].replace(",", ".")) for row in by_name if row["Grade"]}
    assert grades == {f"Participant {one.participant_id}": float(expected_grade(one)) for one in graded}


def test_no_row_is_matched_by_name(tmp_path):
    graded = graded_class()
    rows = worksheet_rows([])
    rows[0]["Identifier"] = "Participant 9999999"  # Ada Lovelace's name, another participant id
    filled = fill_worksheet(read_worksheet(write_sheet(tmp_path / "w.csv", rows)), submission_rows(graded))
    assert filled.submissions_without_row == (graded[0].key,)
    assert "Participant 9999999" in filled.rows_without_submission
    assert filled.worksheet.rows[0]["Grade"] == ""


def test_a_row_named_by_two_submissions_or_locked_is_left_alone(tmp_path):
    graded = graded_class()
    rows = worksheet_rows([])
    rows[1]["Grade can be changed"] = "No"
    roster = {"100004": ("participant", MEMBERS[0].participant_id)}  # model_nan's member claims Ada's row
    filled = fill_worksheet(
        read_worksheet(write_sheet(tmp_path / "w.csv", rows)), submission_rows(graded), roster
    )
    assert filled.worksheet.rows[0]["Grade"] == "" and filled.worksheet.rows[1]["Grade"] == ""
    assert any("named by 2 submissions" in line for line in filled.conflicts)
    assert any("does not let this grade change" in line for line in filled.conflicts)


def test_roster_by_email_and_worksheet_without_bom(tmp_path):
    graded = graded_class()
    rows = worksheet_rows([("2000001", "Team Mate", "Mate@EPFL.ch")])
    sheet = write_sheet(tmp_path / "w.csv", rows, bom=False)
    roster = tmp_path / "roster.csv"
    roster.write_text("SCIPER,Email\n100005,mate@epfl.ch\n")
    filled = fill_worksheet(read_worksheet(sheet), submission_rows(graded), read_roster(roster))
    assert {r["Identifier"]: r for r in filled.worksheet.rows}["Participant 2000001"][
        "Grade"
    ] == expected_grade(graded[2])
    assert not worksheet_text(filled.worksheet).startswith("\ufeff")


def test_feedback_folder_of_a_name_with_underscores_splits_as_moodle_splits_it():
    folder = feedback_folder("Ada_Maria Lovelace", "Participant 1000001")
    assert folder == "Ada Maria Lovelace_1000001_assignsubmission_file_"
    # Moodle's upload: explode('_', path, 5), the participant number second
    assert f"{folder}/feedback.md".split("_", 4)[1] == "1000001"


def test_feedback_zip_uses_the_download_folder_names(tmp_path):
    graded = graded_class()
    rows = submission_rows(graded)
    sheet = write_sheet(tmp_path / "w.csv", worksheet_rows([]))
    filled = fill_worksheet(read_worksheet(sheet), rows)
    with zipfile.ZipFile(write_feedback_zip(filled, rows, tmp_path / "feedback.zip")) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(f"{member.folder}/feedback.md" for member in MEMBERS)
        text = archive.read(f"{MEMBERS[1].folder}/feedback.md").decode()
    assert "rules.runtime" in text and "forbidden" in text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Name,Grade\nx,1\n", "no column Identifier"),
        ("Identifier,Full name,Grade,Maximum Grade\nStudent 12,A,,100\n", "is not 'Participant N'"),
        ("Identifier,Full name,Grade,Maximum Grade\nParticipant 12,A,,lots\n", "Maximum Grade 'lots'"),
    ],
    ids=["not-a-worksheet", "bad-identifier", "bad-maximum"],
)
def test_bad_worksheets_are_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "w.csv"
    path.write_text(content)
    with pytest.raises(MoodleError, match=problem) as caught:
        read_worksheet(path)
    assert caught.value.exit_code == 2 and str(path) in caught.value.one_line()


def test_bad_roster_is_refused(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("sciper,participant\n100001,1\n100001,2\n")
    with pytest.raises(MoodleError, match="listed twice"):
        read_roster(path)


def test_feedback_shows_a_hostile_message_and_name_as_inert_text():
    one = submission_rows(graded_class())[0]
    hostile = '<img src="https://attacker.example/p.png"> ![t](https://x/t.png) [a](javascript:alert(1)) | x'
    row = dataclasses.replace(
        one,
        name="Proj_1 <b>[x](y)</b>",
        checks=(dataclasses.replace(one.checks[0], message=hostile),),
    )
    text = feedback_markdown(row)
    assert "<" not in text and ">" not in text
    assert "](" not in text.replace("\\](", "")
    assert "&lt;img src=" in text and "\\[x\\](y)" in text
