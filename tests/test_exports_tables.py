"""The CSV exports and the Gradescope results, on real reports of a small graded class."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest

from harness.exports.gradescope import graded_results_json, results_for_report, write_results
from harness.exports.rows import CATEGORIES, submission_rows
from harness.exports.spreadsheet import FORMULA_STARTS, csv_text, long_table, safe_cell, wide_table
from tests.class_fixtures import graded_class

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope-results.schema.json").read_text())


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t'=1"),
        ("\0=1", "'\0=1"),
        ("＝1+1", "'＝1+1"),
        ("a;=cmd|' -C calc'!A0;b", "a;'=cmd|' -C calc'!A0;b"),
        ('x, "=HYPERLINK(1)"', 'x,\' "=HYPERLINK(1)"'),
        ("line\n@SUM(A1)", "line\n'@SUM(A1)"),
        ("plain text, one; two", "plain text, one; two"),
        ("-", "-"),
        (-2.5, -2.5),
        (None, ""),
        (True, "yes"),
    ],
    ids=[
        *("equals", "plus", "minus", "at", "tab", "nul", "full-width", "semicolon-segment"),
        *("quoted-segment", "line-segment", "text", "lone-dash", "negative-number", "none", "bool"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_wide_csv_round_trips_every_submission():
    graded = graded_class()
    rows = submission_rows(graded)
    flags = {rows[1].key: ["forbidden torch use: rules.static"]}
    parsed = parse(csv_text(wide_table(rows, flags)))
    assert [line["key"] for line in parsed] == [safe_cell(one.key) for one in graded]
    for line, one in zip(parsed, graded, strict=True):
        summary = one.report["summary"]
        assert float(line["points"]) == summary["points"]
        assert float(line["max_points"]) == summary["max_points"]
        # the categories add up to the total, each summed here from the report's own checks
        for category in CATEGORIES:
            expected = sum(c["points"] for c in one.report["checks"] if c["category"] == category)
            assert float(line[f"{category}_points"]) == pytest.approx(expected)
        assert line["passed_required"] == ("yes" if summary["passed_required"] else "no")
    assert parsed[1]["flags"] == "forbidden torch use: rules.static"
    assert float(parsed[0]["psnr_db"]) == pytest.approx(graded[0].report["summary"]["psnr_db"], abs=1e-4)


def test_no_cell_of_either_csv_can_run_as_a_formula():
    rows = submission_rows(graded_class())
    for table in (wide_table(rows, {}), long_table(rows)):
        for line in csv.reader(io.StringIO(csv_text(table), newline="")):
            for cell in line:
                if cell.startswith(FORMULA_STARTS):
                    float(cell)  # only a number may start with "-" or "+"
    wide = parse(csv_text(wide_table(rows, {})))
    formula_student = next(line for line in wide if "calc" in line["key"])
    assert formula_student["key"].startswith("'=cmd|")


HOSTILE_KEY = "a;=cmd|' -C calc'!A0;<img src=x onerror=alert(2)>](http:evil).zip"
HOSTILE_MESSAGE = 'stray files: x;=cmd|\' -C calc\'!A0;.ipynb, =HYPERLINK("http:evil","y").ckpt'


def test_every_cell_is_quoted_and_no_piece_runs_as_a_formula_in_a_semicolon_locale():
    """Excel in fr-CH/de-CH opens a .csv with `;` as separator (and a sheet may split at `,`): split at
    either, no piece of either CSV may start a formula, however the student named their zip and files."""
    rows = submission_rows(graded_class())
    hostile = dataclasses.replace(
        rows[0],
        key=HOSTILE_KEY,
        checks=tuple(dataclasses.replace(check, message=HOSTILE_MESSAGE) for check in rows[0].checks),
    )
    rows = [hostile, *rows[1:]]
    flags = {HOSTILE_KEY: [f"code similar to {HOSTILE_KEY} (100% of its code)"]}
    for table in (wide_table(rows, flags), long_table(rows)):
        text = csv_text(table)
        for raw, line in zip(text.splitlines(), csv.reader(io.StringIO(text, newline="")), strict=True):
            assert raw == ",".join('"' + cell.replace('"', '""') + '"' for cell in line)
            for piece in re.split("[,;]", raw):
                piece = piece.strip(' "')
                if piece.startswith(FORMULA_STARTS):
                    float(piece)  # only a number may start with "-" or "+"
    wide = parse(csv_text(wide_table(rows, flags)))
    assert wide[0]["key"] == "a;'=cmd|' -C calc'!A0;<img src=x onerror=alert(2)>](http:evil).zip"
    assert float(wide[0]["points"]) == rows[0].points  # numbers stay numbers


def test_long_csv_has_one_row_per_check():
    graded = graded_class()
    parsed = parse(csv_text(long_table(submission_rows(graded))))
    assert len(parsed) == sum(len(one.report["checks"]) for one in graded)
    forbidden = [line for line in parsed if line["outcome"] == "forbidden"]
    assert {line["check"] for line in forbidden} >= {"rules.runtime"}
    assert all(line["fault"] == "submission" for line in forbidden)


def test_gradescope_results_follow_the_spec_and_add_up(tmp_path):
    graded = graded_class()
    written = write_results(graded, tmp_path)
    assert len({path.parent for path in written.values()}) == len(graded)
    for one in graded:
        document = json.loads(written[one.key].read_text())
        jsonschema.validate(document, SCHEMA)
        assert document["score"] == one.report["summary"]["points"]
        assert sum(test["score"] for test in document["tests"]) == pytest.approx(document["score"])
        assert sum(test["max_score"] for test in document["tests"]) == one.report["summary"]["max_points"]
        by_name = {test["name"].split(" ")[0]: test for test in document["tests"]}
        for check in one.report["checks"]:
            assert by_name[check["id"]]["status"] == ("passed" if check["outcome"] == "pass" else "failed")
    assert graded_results_json(graded[0])["execution_time"] == pytest.approx(graded[0].wall_s)


def test_gradescope_results_without_a_report_say_why(tmp_path):
    stderr = tmp_path / "stderr.txt"
    stderr.write_text("checking\nharness: error: /autograder/submission: no Miniproject_2 folder found\n")
    document = results_for_report(tmp_path / "missing.json", stderr)
    jsonschema.validate(document, SCHEMA)
    assert document["score"] == 0
    assert document["output"].endswith("no Miniproject_2 folder found")
