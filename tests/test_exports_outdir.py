"""`harness export --out`: one whole export with its manifest, an earlier export replaced whole (no
stale file left looking current), anything else refused untouched, a failed export leaving the old."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.grading.store import open_store
from tests.class_fixtures import graded_class


def make_store(path, records):
    with open_store(path, create=True) as writer:
        run = writer.start_run("2026-12-02T01:00:00+00:00", "r" * 64, "d" * 64, "0.1.0", str(path))
        for record in records:
            writer.record(run, replace(record, run_id=run))
    return path


def export(store, out, formats):
    return CliRunner().invoke(main, ["export", str(store), "--format", formats, "--out", str(out)])


def files_under(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def test_an_earlier_export_is_replaced_whole_and_the_manifest_lists_every_file(tmp_path):
    graded = graded_class()
    whole = make_store(tmp_path / "whole", graded)
    fewer = make_store(tmp_path / "fewer", graded[:2])
    out = tmp_path / "exports"
    assert export(whole, out, "csv,gradescope").exit_code == 0
    assert len(list((out / "gradescope").glob("*/results.json"))) == len(graded)
    result = export(fewer, out, "gradescope")
    assert result.exit_code == 0, result.output
    assert len(list((out / "gradescope").glob("*/results.json"))) == 2  # no stale results.json
    assert not (out / "class_wide.csv").exists()  # nor a CSV of the earlier export
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["formats"] == ["gradescope"] and "fewer" in manifest["store"]
    assert sorted(manifest["files"]) == [name for name in files_under(out) if name != "manifest.json"]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert f"wrote manifest: {out / 'manifest.json'}" in result.output
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


@pytest.mark.parametrize("content", ["notes.txt", "grades.sqlite"], ids=["notes", "a-store"])
def test_a_folder_that_is_not_an_export_is_refused_untouched(tmp_path, content):
    store = make_store(tmp_path / "store", graded_class()[:1])
    out = tmp_path / "mine"
    out.mkdir()
    (out / content).write_text("the grader's own file")
    result = export(store, out, "csv")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"harness: error: {out}: holds files that are not a harness export (no manifest.json): "
        "pass a new or empty --out"
    )
    assert files_under(out) == [content] and (out / content).read_text() == "the grader's own file"


def test_a_failed_export_leaves_the_earlier_one_as_it_was(tmp_path):
    store = make_store(tmp_path / "store", graded_class()[:2])
    out = tmp_path / "exports"
    assert export(store, out, "csv").exit_code == 0
    before = {name: (out / name).read_bytes() for name in files_under(out)}
    result = export(store, out, "csv,moodle")  # fails inside the export
    assert result.exit_code == 2 and "--format moodle needs --worksheet" in result.output
    assert {name: (out / name).read_bytes() for name in files_under(out)} == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []
