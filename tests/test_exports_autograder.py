"""`harness gradescope build`: the autograder's files, its zip, and a real run of `run_autograder` on a
submission, outside Gradescope (AUTOGRADER_ROOT points at a temporary /autograder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.exports.autograder import build_autograder
from tests.model_fixtures import SUBMISSIONS, write_course_data

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope-results.schema.json").read_text())


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    write_course_data(data, train=64, val=16)
    return build_autograder(tmp_path_factory.mktemp("autograder") / "out", data, "ee559-2022")


def test_zip_has_both_scripts_at_its_root(build):
    with zipfile.ZipFile(build.zip_path) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder"} <= names
        assert "harness-src/harness/cli.py" in names and "harness-src/data/val_data.pkl" in names
        assert "harness-src/Miniproject_2/model.py" in names
        mode = archive.getinfo("run_autograder").external_attr >> 16
    assert mode & 0o111, "run_autograder must stay executable inside the zip"
    for script in (build.setup_sh, build.run_autograder):
        assert script.read_text().startswith("#!/usr/bin/env bash\n")
        assert os.access(script, os.X_OK)
        subprocess.run(["bash", "-n", str(script)], check=True)


def run_autograder(build, tmp_path, submission):
    root = tmp_path / "autograder"
    shutil.copytree(build.folder, root / "source")
    shutil.copytree(submission, root / "submission")
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "HARNESS_PYTHON": sys.executable,
        "HARNESS_CHECK_OPTIONS": "--no-reference-timing",
    }
    subprocess.run([str(root / "source" / "run_autograder")], env=environment, timeout=300, check=True)
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_a_submission_with_this_harness(build, tmp_path):
    results = run_autograder(build, tmp_path, SUBMISSIONS / "sandbox_syntax_error")
    jsonschema.validate(results, SCHEMA)
    by_name = {test["name"].split(" ")[0]: test for test in results["tests"]}
    assert by_name["rules.static"]["status"] == "failed"
    assert "SyntaxError" in by_name["rules.static"]["output"]
    assert by_name["layout.files"]["status"] == "passed"
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]))


def test_run_autograder_answers_when_nothing_can_be_graded(build, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no code here")
    results = run_autograder(build, tmp_path, empty)
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0 and results["tests"] == []
    assert "could not grade this submission" in results["output"]


def test_cli_build_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["gradescope", "build", str(tmp_path)])
    assert result.exit_code == 2 and "not empty" in result.output
    assert (tmp_path / "keep.txt").read_text() == "mine"
