"""`harness diff` and `harness export` over a real store: an unchanged regrade, a changed rubric, a
changed submission, and the CLI's outputs and errors."""

from __future__ import annotations

import copy
import csv
import json
import shutil
import unicodedata
from dataclasses import replace

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.exports.diff import regrade_diff
from harness.exports.export import load_class
from harness.grading.store import open_store
from tests.class_fixtures import MEMBERS, REFERENCE, graded_class


def retimed(graded, run_id):
    """The same records as a regrade of the same class would give: other wall times and epoch figures."""
    records = []
    for one in graded:
        report = copy.deepcopy(dict(one.report))
        for check in report["checks"]:
            if check["id"] == "timing.train-epoch" and "epoch_s" in check["details"]:
                check["details"]["epoch_s"] *= 1.07
        if report["summary"]["epoch_s"] is not None:
            report["summary"]["epoch_s"] *= 1.07
        records.append(replace(one, report=report, wall_s=one.wall_s * 1.3, run_id=run_id))
    return records


def with_check(one, check_id, outcome, points, **changed):
    report = copy.deepcopy(dict(one.report))
    for check in report["checks"]:
        if check["id"] == check_id:
            delta = points - check["points"]
            check.update(outcome=outcome, points=points)
            report["summary"]["points"] += delta
    return replace(one, report=report, **changed)


def test_an_unchanged_regrade_shows_only_timings():
    graded = graded_class()
    diff = regrade_diff(graded, retimed(graded, 2))
    assert diff.unchanged and diff.compared == len(graded)
    assert diff.timings.wall_s_after == pytest.approx(1.3 * diff.timings.wall_s_before, rel=1e-3)
    assert diff.timings.median_epoch_s_after == pytest.approx(
        1.07 * diff.timings.median_epoch_s_before, rel=1e-3
    )


def test_flips_are_explained_by_what_changed():
    graded = graded_class()
    after = retimed(graded, 2)
    after[0] = with_check(after[0], "psnr.training-improves", "pass", 3.0, rubric_sha256="f" * 64)
    after[1] = with_check(after[1], "layout.files", "fail", 0.0, submission_sha256="e" * 64)
    after[2] = with_check(after[2], "api.train", "fail", 0.0)
    diff = regrade_diff(graded, [*after[:4], replace(after[4], key="new/Proj_1")])
    by_key = {change.key: change for change in diff.changes}
    assert by_key[MEMBERS[0].key].causes == ("rubric changed",)
    assert by_key[MEMBERS[0].key].points_after - by_key[MEMBERS[0].key].points_before == 3.0
    assert [(f.check_id, f.after) for f in by_key[MEMBERS[0].key].flips] == [
        ("psnr.training-improves", "pass 3/3")
    ]
    assert by_key[MEMBERS[1].key].causes == ("submission changed",)
    assert by_key[MEMBERS[2].key].causes == ("same inputs (nondeterministic)",)
    assert diff.only_before == (MEMBERS[4].key,) and diff.only_after == ("new/Proj_1",)


@pytest.fixture
def store(tmp_path):
    """A real store with two runs of the class: the second a regrade with only timings changed, but
    one check of the second member nondeterministic."""
    path = tmp_path / "grades"
    graded = graded_class()
    with open_store(path, create=True) as writer:
        for run_records in (graded, retimed(graded, 2)):
            run = writer.start_run(
                "2026-12-01T20:00:00+00:00", graded[0].rubric_sha256, "d" * 64, "0.1.0", str(tmp_path)
            )
            for record in run_records:
                writer.record(run, replace(record, run_id=run))
    return path


def test_cli_diff_of_two_runs_and_two_stores(store, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["diff", str(store), "--json", str(tmp_path / "diff.json")])
    assert result.exit_code == 0, result.output
    assert "no submission changed points or verdicts" in result.output
    assert "timings: grading wall time" in result.output
    assert json.loads((tmp_path / "diff.json").read_text())["unchanged"] is True
    other = tmp_path / "other"
    with open_store(other, create=True) as writer:
        run = writer.start_run("2026-12-02T20:00:00+00:00", "f" * 64, "d" * 64, "0.2.0", str(tmp_path))
        for record in graded_class():
            writer.record(run, with_check(record, "layout.files", "fail", 0.0, rubric_sha256="f" * 64))
    result = runner.invoke(main, ["diff", str(store), str(other)])
    assert result.exit_code == 1
    assert result.output.count("rubric changed") == len(MEMBERS)


def test_cli_export_writes_every_format(store, tmp_path):
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        + "".join(
            f"Participant {m.participant_id},{m.full_name.replace(',', ' ')},,,,100.00,Yes,-,-,\n"
            for m in MEMBERS
        )
        + "Participant 42,Nobody,,,,100.00,Yes,-,-,\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(store),
            "--format",
            "moodle,gradescope,csv,report",
            "--out",
            str(out),
            "--worksheet",
            str(worksheet),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "moodle: no submission for Participant 42" in result.output
    assert "run 2 of 2" in result.output
    for name in (
        "moodle/grades.csv",
        "moodle/feedback.zip",
        "class_wide.csv",
        "class_long.csv",
        "class_report.html",
        "class_report.md",
    ):
        assert (out / name).is_file(), name
    # only the reference was graded with every check group: the others are no grade (finding 3 of the
    # class review), so no LMS grade comes from them unless asked for
    assert len(list((out / "gradescope").glob("*/results.json"))) == 1
    for member in MEMBERS[1:]:
        assert f"incomplete: {member.key}: graded with check groups left out (" in result.output
        assert f"Participant {member.participant_id}: no grade from {member.key}: graded" in result.output
    grades = {
        row["Identifier"]: row["Grade"] for row in csv.DictReader((out / "moodle" / "grades.csv").open())
    }
    assert grades[f"Participant {MEMBERS[0].participant_id}"] != ""
    assert all(grades[f"Participant {member.participant_id}"] == "" for member in MEMBERS[1:])
    wide = list(csv.DictReader((out / "class_wide.csv").open(encoding="utf-8-sig")))
    assert len(wide) == len(MEMBERS)
    assert {row["key"].lstrip("'"): row["points"] == "" for row in wide} == {
        member.key: member is not MEMBERS[0] for member in MEMBERS
    }
    anyway = CliRunner().invoke(
        main,
        [
            "export",
            str(store),
            "--format",
            "gradescope",
            "--out",
            str(tmp_path / "all"),
            "--allow-incomplete",
        ],
    )
    assert anyway.exit_code == 0 and "filled anyway (--allow-incomplete)" in anyway.output
    assert len(list((tmp_path / "all" / "gradescope").glob("*/results.json"))) == len(MEMBERS)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export", "{missing}", "--format", "csv"], "no harness grade store here"),
        (["export", "{store}", "--format", "moodle"], "--format moodle needs --worksheet"),
        (["export", "{store}", "--format", "csv", "--run", "9"], "has no run 9"),
        (["export", "{store}", "--format", "pdf"], "unknown format pdf"),
    ],
    ids=["no-store", "moodle-without-worksheet", "no-such-run", "unknown-format"],
)
def test_cli_export_errors_are_one_line_exit_2(store, tmp_path, arguments, message):
    filled = [a.format(store=store, missing=tmp_path / "nothing") for a in arguments]
    result = CliRunner().invoke(main, filled)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_similarity_reads_code_from_the_class_folder(store, tmp_path):
    """The store's class folder (tmp_path) holds only the reference, under the first member's key."""
    shutil.copytree(REFERENCE, tmp_path / MEMBERS[0].key / "Miniproject_2")
    shutil.copytree(REFERENCE, tmp_path / MEMBERS[3].key / "Miniproject_2")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["export", str(store), "--format", "report", "--out", str(out), "--similarity"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("similarity: left out") == len(MEMBERS) - 2
    page = (out / "class_report.html").read_text()
    assert "(100%) and" in page and "code similar to" in page


def test_exports_show_exactly_one_run_never_a_merge_of_runs(tmp_path):
    """Run 1 graded Ada's first upload and Bob; run 2 (the last) found Ada's second upload only, in a
    folder macOS unzipped in NFD: the export shows run 2's one record, under its NFC key (finding 2 of
    the class review)."""
    graded = graded_class()
    folder = "Zoë Lovelace_1000001_assignsubmission_file_"
    first = replace(graded[0], key=f"{folder}/first.zip")
    second = replace(graded[0], key=unicodedata.normalize("NFD", f"{folder}/second.zip"))
    path = tmp_path / "grades"
    with open_store(path, create=True) as writer:
        for records in ([first, graded[1]], [second]):
            run = writer.start_run(
                "2026-12-01T20:00:00+00:00", graded[0].rubric_sha256, "d" * 64, "0.1.0", str(tmp_path)
            )
            for record in records:
                writer.record(run, replace(record, run_id=run))
    last = load_class(path)
    assert [record.key for record in last.graded] == [f"{folder}/second.zip"]
    assert "(1 submissions, run 2 of 2)" in last.label
    assert [record.key for record in load_class(path, 1).graded] == sorted([first.key, graded[1].key])
    assert len(last.history) == 3
