"""`harness check`: exit codes, one-line user errors, group failures as SETUP results, report files."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
import torch
from click.testing import CliRunner

from harness.check import check_submission, run_groups
from harness.checks import registry
from harness.checks.registry import group_checks, group_named
from harness.cli import main
from harness.context import GroupWork
from harness.report import prepare_out_dir, report_to_json, without_timings
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import NOT_RUN_MESSAGE, load_rubric
from harness.workloads import _loaded

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).parent / "submissions"
PACKAGE = SUBMISSIONS / "sandbox_environment"
ONLY_LAYOUT_FILES = 'name = "tiny"\n[checks."layout.files"]\npoints = 2\nrequired = true\n'


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    images = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    torch.save((images, images), folder / "train_data.pkl")
    torch.save((images, images), folder / "val_data.pkl")
    return folder


@pytest.fixture
def tiny_rubric(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(ONLY_LAYOUT_FILES)
    return path


def fake_group(name: str, run) -> ModuleType:
    module = ModuleType(name)
    module.run = run
    return module


def layout_files(outcome: Outcome):
    def run(ctx) -> list[CheckResult]:
        return [CheckResult("layout.files", Category.LAYOUT, outcome, f"files {outcome.value}", score=1.0)]

    return run


def raises(ctx) -> list[CheckResult]:
    raise KeyError("grid")


@pytest.fixture
def fake_groups(monkeypatch):
    """Make the registry's groups only those given as {judge module name: (its run, the group it stands
    in for)}; a run of None leaves the module unimportable."""

    def install(groups: dict) -> None:
        for name, (run, _) in groups.items():
            if run is not None:
                monkeypatch.setitem(sys.modules, name, fake_group(name, run))
        fakes = tuple(replace(group_named(group), judge=name) for name, (_, group) in groups.items())
        monkeypatch.setattr(registry, "GROUPS", fakes)

    return install


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


@pytest.mark.parametrize(
    ("outcome", "exit_code"),
    [(Outcome.PASS, 0), (Outcome.FAIL, 1)],
    ids=["required-passes-exit-0", "required-fails-exit-1"],
)
def test_exit_code_follows_the_required_checks(
    fake_groups, data_dir, tiny_rubric, tmp_path, outcome, exit_code
):
    fake_groups({"fake_layout": (layout_files(outcome), "layout")})
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["check", str(PACKAGE), "--data", str(data_dir), "--rubric", str(tiny_rubric), "--out", str(out)],
    )
    assert result.exit_code == exit_code, result.output
    assert f"files {outcome.value}" in result.stdout
    document = json.loads((out / "report.json").read_text())
    assert document["summary"]["passed_required"] is (exit_code == 0)
    assert (out / "report.md").is_file()


def test_broken_groups_become_setup_errors_and_the_report_is_complete(fake_groups, data_dir):
    fake_groups(
        {
            "fake_raises": (raises, "layout"),
            "fake_returns_text": (lambda ctx: "all good", "rules"),
            "fake_api": (lambda ctx: [], "api"),
            "harness.no_such_group": (None, "timing"),
        }
    )
    lines: list[str] = []
    report = check_submission(
        PACKAGE, data_dir, load_rubric("ee559-2022"), reference_dir=None, progress=lines.append
    )
    by_id = {scored.result.id: scored.result for scored in report.checks}
    for check_id in (
        "layout.files",
        "layout.stray-files",
        "rules.static",
        "timing.train-epoch",
        "timing.predict",
    ):
        assert (by_id[check_id].outcome, by_id[check_id].fault) == (Outcome.ERROR, Fault.SETUP), check_id
    assert "KeyError: 'grid'" in by_id["layout.files"].message
    assert "not a list of CheckResult" in by_id["rules.static"].message
    assert "ModuleNotFoundError" in by_id["timing.predict"].message
    assert by_id["api.train"].fault is Fault.SETUP  # no result at all: the rubric marks it for a re-run
    assert any(line.startswith("layout: harness error") for line in lines)
    assert "harness problem in fake_raises" in by_id["layout.files"].message
    assert not report.summary.passed_required


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["check", "no/such/submission"], "no/such/submission: no such file or folder"),
        (["check", str(PACKAGE), "--data", "no/such/data"], "no/such/data: no such data folder"),
        (["check", str(PACKAGE), "--rubric", "no-such-rubric"], "no-such-rubric"),
        (["check", "a_\x1b]0;owned\x07.zip"], "a_.zip: no such file or folder"),
        (["check", "b\x1b[2J.zip"], "b.zip: no such file or folder"),
    ],
    ids=["missing-submission", "missing-data", "unknown-rubric", "osc-in-the-path", "csi-in-the-path"],
)
def test_user_errors_are_one_line_and_exit_2(arguments, problem):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert result.stderr.startswith("harness: error: ")
    assert problem in result.stderr
    assert result.stderr.count("\n") == 1
    assert (
        "\x1b" not in result.stderr and "\x07" not in result.stderr
    )  # no escape sequence reaches the terminal
    assert "Traceback" not in result.output


def test_corrupt_data_file_is_a_one_line_error(data_dir):
    (data_dir / "val_data.pkl").write_bytes(b"not a torch file")
    _loaded.clear()
    result = CliRunner().invoke(main, ["check", str(PACKAGE), "--data", str(data_dir)])
    assert result.exit_code == 2
    assert f"{data_dir / 'val_data.pkl'}: not a readable torch file" in result.stderr


def test_unknown_format_is_a_usage_error():
    result = CliRunner().invoke(main, ["check", str(PACKAGE), "--format", "md,html"])
    assert result.exit_code == 2
    assert "unknown format html" in result.stderr


def test_reports_go_to_reports_slash_submission_name_by_default(
    fake_groups, data_dir, tiny_rubric, monkeypatch, tmp_path
):
    fake_groups({"fake_layout": (layout_files(Outcome.PASS), "layout")})
    monkeypatch.chdir(tmp_path)
    arguments = [
        "check",
        str(PACKAGE),
        "--data",
        str(data_dir),
        "--rubric",
        str(tiny_rubric),
        "--format",
        "json",
        "-q",
    ]
    result = CliRunner().invoke(main, arguments)
    assert (result.exit_code, result.output) == (0, "")
    document = json.loads((tmp_path / "reports" / "sandbox_environment" / "report.json").read_text())
    assert document["submission"]["name"] == "sandbox_environment"
    assert not (tmp_path / "reports" / "sandbox_environment" / "report.md").exists()


def test_missing_path_through_the_real_command():
    completed = run_cli("check", "no/such/folder")
    assert completed.returncode == 2
    assert completed.stderr == "harness: error: no/such/folder: no such file or folder\n"


@pytest.mark.slow
def test_reference_gets_full_points():
    completed = run_cli(
        "check", "Miniproject_2", "--format", "json", "--out", "/tmp/harness-reference-report"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    summary = json.loads(Path("/tmp/harness-reference-report/report.json").read_text())["summary"]
    assert summary["points"] == summary["max_points"]


def report_without_timings(groups: tuple[str, ...] | None) -> dict:
    report = check_submission(
        REPO / "Miniproject_2", REPO / "test_data", load_rubric("ee559-2022"), groups=groups
    )
    return without_timings(report_to_json(report))


def test_same_submission_data_and_seed_give_the_same_report():
    groups = ("layout", "rules", "api", "runtime-rules")
    first, second = report_without_timings(groups), report_without_timings(groups)
    ran = [check for check in first["checks"] if check["id"] not in first["summary"]["not_run"]]
    assert len(ran) == len(group_checks(groups))
    assert first == second


@pytest.mark.slow
def test_whole_report_is_reproducible_apart_from_timings():
    assert report_without_timings(None) == report_without_timings(None)


def test_an_unusable_out_is_refused_before_any_check_runs(tmp_path):
    """An existing file as --out: one line, exit 2, at once (no check ran: no progress line)."""
    taken = tmp_path / "taken"
    taken.write_text("x")
    completed = run_cli("check", "Miniproject_2", "--out", str(taken))
    assert completed.returncode == 2
    assert (
        completed.stderr.strip()
        == f"harness: error: {taken}: is a file, not a report folder (pass --out DIR)"
    )


def test_a_rerun_into_an_old_out_leaves_no_stale_report(tmp_path):
    (tmp_path / "report.md").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    prepare_out_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_data_given_as_a_file_is_named_as_such(tmp_path):
    data = tmp_path / "val_data.pkl"
    data.write_text("x")
    completed = run_cli("check", "Miniproject_2", "--data", str(data))
    assert completed.returncode == 2
    assert "is a file; --data takes the folder holding train_data.pkl and val_data.pkl" in completed.stderr


def test_one_scheduler_runs_every_unit_and_the_alone_groups_by_themselves(monkeypatch):
    """`run_groups`: the units of all groups share `jobs` threads; an alone group's run meets no other."""
    running, most, beside_alone = [0], [0], []
    lock, pair = threading.Lock(), threading.Barrier(2, timeout=30)

    def unit(check_id: str, alone: bool = False):
        def run() -> list[CheckResult]:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
                if alone:
                    beside_alone.append(running[0] - 1)
            if not alone:
                pair.wait()  # two units at once, or this breaks
            with lock:
                running[0] -= 1
            return [CheckResult(check_id, Category.BLOCKS, Outcome.PASS, "ok", score=1.0)]

        return run

    blocks = ModuleType("fake_blocks")
    blocks.work = lambda ctx: GroupWork([unit(f"blocks.{i}") for i in range(6)], list)
    timing = fake_group("fake_timing", lambda ctx: unit("timing.predict", alone=True)())
    monkeypatch.setitem(sys.modules, "fake_blocks", blocks)
    monkeypatch.setitem(sys.modules, "fake_timing", timing)
    groups = [
        replace(group_named("timing"), judge="fake_timing"),
        replace(group_named("blocks"), judge="fake_blocks"),
    ]
    results = run_groups(groups, None, jobs=2, tell=lambda line: None)
    assert [result.id for result in results] == ["timing.predict", *(f"blocks.{i}" for i in range(6))]
    assert most[0] == 2 and beside_alone == [0]


def test_check_groups_runs_only_those_groups_and_names_the_rest_not_run(tmp_path):
    completed = run_cli(
        "check", "Miniproject_2", "--check-groups", "layout,rules", "--format", "json", "--out", str(tmp_path)
    )
    # the checks left out are "not run", 0 of 0, not set-up faults to re-run (finding 3 of the class
    # review): the totals are those of the checks that ran, as the pytest plugin reports them
    assert completed.returncode == 0, completed.stderr
    document = json.loads((tmp_path / "report.json").read_text())
    checks = {check["id"]: check for check in document["checks"]}
    ran = set(checks) - set(document["summary"]["not_run"])
    assert ran == set(group_checks(("layout", "rules")))
    assert {checks[check_id]["outcome"] for check_id in ran} <= {"pass", "skipped"}  # folder-name: no Proj_
    left_out = [checks[check_id] for check_id in document["summary"]["not_run"]]
    assert left_out and all(
        (c["outcome"], c["fault"], c["points"], c["max_points"], c["required"], c["message"])
        == ("skipped", "none", 0, 0, False, NOT_RUN_MESSAGE)
        for c in left_out
    )
    assert document["summary"]["needs_rerun"] == []
    assert document["summary"]["max_points"] == sum(checks[check_id]["max_points"] for check_id in ran) > 0
