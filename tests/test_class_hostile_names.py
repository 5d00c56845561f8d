"""Students name their zips, files and Moodle profiles: what the class commands print and the Markdown
report they write show those names as text, never as terminal escape sequences, bidi reordering,
Markdown links or a closed code block."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.exports.class_report import build_class_report, render_markdown
from harness.exports.diff import regrade_diff, render_diff
from harness.exports.figures import PsnrBaselines
from harness.exports.similarity import Fragment, SimilarPair
from harness.grading.grade import ClassResult
from harness.grading.records import NotGraded
from harness.grading.store import open_store
from harness.grading.summary import render_summary
from tests.class_fixtures import graded_class

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
"""OSC 52: a terminal that shows it puts `echo pwned` on the grader's clipboard."""
OSC_KEY = f"{CLIPBOARD}x.zip"
BIDI_KEY = "Eve \u202egpj.exe_1000011_assignsubmission_file_/Proj_100003.zip"
NOTES_FILE = "\x1b[31mRED\x1b[0m\x1b]0;pwned\x07notes.txt"
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_class():
    """The class with its first two members renamed as the review's c8 folder names them."""
    graded = list(graded_class())
    graded[0] = replace(graded[0], key=OSC_KEY, notes=(f"2 uploads: the newest graded ({BIDI_KEY} not)",))
    graded[1] = replace(graded[1], key=BIDI_KEY)
    return sorted(graded, key=lambda one: one.key)


def assert_shown_as_text(text: str) -> None:
    assert not HIDDEN.search(text), repr(HIDDEN.search(text))
    assert "x.zip" in text and "gpj.exe" in text


def test_grade_summary_prints_keys_and_reasons_as_text():
    graded = hostile_class()
    result = ClassResult(
        store_path=Path("store/grades.sqlite"),
        run_id=1,
        class_dir=Path("class"),
        graded=tuple(graded),
        reused=(),
        not_graded=(
            NotGraded(NOTES_FILE, "not a .zip or a folder"),
            NotGraded(BIDI_KEY, f"superseded by {OSC_KEY}"),
        ),
        max_points=100.0,
        judged=(),
    )
    summary = render_summary(result)
    assert_shown_as_text(summary)
    assert "REDnotes.txt" in summary


def test_diff_prints_keys_as_text():
    before = hostile_class()
    after = [one for one in before if one.key != BIDI_KEY]  # the bidi one is only in run 1
    after[0] = replace(after[0], report={**after[0].report, "checks": []})  # the OSC one changed
    assert after[0].key == OSC_KEY
    text = render_diff(regrade_diff(before, after, "run 1", "run 2"))
    assert_shown_as_text(text)
    assert re.search(r"^x\.zip +\d", text, flags=re.MULTILINE)  # the table's column starts as it shows
    text = render_diff(regrade_diff(before[1:], before, "run 1", "run 2"))  # only in run 2
    assert "only in run 2: x.zip" in text


def test_export_notes_print_keys_as_text(tmp_path):
    store = tmp_path / "store"
    with open_store(store, create=True) as writer:
        run = writer.start_run("2026-12-02T01:00:00+00:00", "r" * 64, "d" * 64, "0.1.0", str(tmp_path))
        for record in hostile_class():
            writer.record(run, replace(record, run_id=run, participant_id=None))
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Grade,Maximum Grade\nParticipant 9999999,\u202eNobody,,6.00\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(store),
            "--format",
            "moodle",
            "--worksheet",
            str(worksheet),
            "--out",
            str(tmp_path / "e"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "no worksheet row for x.zip" in result.output
    assert_shown_as_text(result.output)


def test_markdown_report_escapes_flags_and_fences_code_longer_than_its_backticks():
    graded = hostile_class()
    evil = "a;=cmd|' -C calc'!A0;<img src=x onerror=alert(2)>](http:evil).zip"
    graded[0] = replace(graded[0], key=evil)
    code = 'x = 1\n```\n# Injected heading\n[click](http:evil)\n````\nprint("`")'
    pair = SimilarPair(
        evil,
        BIDI_KEY,
        1.0,
        1.0,
        (Fragment("we`ird``.py", (1, 6), code, "model.py", (1, 6), code + CLIPBOARD),),
    )
    markdown = render_markdown(
        build_class_report(graded, "store (run 1)", PsnrBaselines(None, None, None), (), (pair,), 0.5)
    )
    flag_lines = [line for line in markdown.splitlines() if line.startswith("- [") and "code similar" in line]
    assert flag_lines, markdown
    for line in flag_lines:
        # the flag text names the other submission: no link, image or tag of it takes effect
        flags = line.split("): ", 1)[1]
        assert "<img" not in flags and not re.search(r"(?<!\\)\]\(", flags)
    assert flag_lines[-1].endswith("&lt;img src=x onerror=alert(2)&gt;\\](http:evil).zip (100% of its code)")
    assert "\u202e" not in markdown and "\x1b" not in markdown
    assert "`````python" in markdown  # longer than the code's longest run of four
    blocks = re.findall(r"^(`{3,})python\n(.*?)\n\1$", markdown, flags=re.MULTILINE | re.DOTALL)
    assert [body for _, body in blocks] == [code, code]
    assert "```we`ird``.py``` lines 1-6" in markdown
