"""`harness grade` end to end on a small class of gallery fixtures.

The class holds the reference (zipped in a Moodle participant folder), a participant with two uploads,
an empty participant folder, a stray file and five faulty fixtures. The tests are about orchestration,
so they run the static check groups only (`layout`, `rules`); that each record is exactly `harness
check`'s report is asserted against `check_submission` itself. One uninterrupted run (two local
workers) is the reference the other runs are compared with, timings aside: runs stopped by SIGINT and
by SIGKILL and resumed, a run on a real Dask `LocalCluster` with a worker killed mid-task.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import closing
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

from harness.check import check_submission
from harness.checks.registry import group_checks
from harness.cli import main
from harness.grading.discovery import discover
from harness.grading.grade import ClassResult, grade_class, unjudged_checks
from harness.grading.records import GradedSubmission
from harness.grading.store import STORE_NAME, open_store
from harness.grading.summary import render_summary
from harness.grading.tasks import GradeTask, setup_failure
from harness.report import report_to_json, without_timings
from harness.rubric import load_rubric
from tests.model_fixtures import SUBMISSIONS, write_course_data

REPO = Path(__file__).resolve().parents[1]
GROUPS = ("layout", "rules")
RUBRIC = load_rubric("ee559-2022")
JANE = "Jane Doe_1234567_assignsubmission_file_"
JOHN = "John Roe_7654321_assignsubmission_file_"
FIXTURES = (
    "blocks_2022_flaws",
    "model_no_model_class",
    "rules_hidden_conv2d",
    "rules_numpy",
    "sandbox_syntax_error",
)
COPIES = tuple(f"copy{index:02d}_{FIXTURES[index % len(FIXTURES)]}" for index in range(12))
"""More plain folders, so that a stopped run has always more than a few seconds of work left."""
GRADED = sorted([f"{JANE}/Proj_123456_234567.zip", f"{JOHN}/new.zip", *FIXTURES, *COPIES])


def zipped(path: Path, source: Path, top: str, modified: float) -> None:
    """Zip the `Miniproject_2` folder `source` as `top/Miniproject_2/...`, dated `modified`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as bundle:
        for file in sorted(source.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                bundle.write(file, f"{top}/Miniproject_2/{file.relative_to(source).as_posix()}")
    os.utime(path, (modified, modified))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grading")
    write_course_data(root / "data", train=64, val=16)
    klass = root / "class"
    zipped(klass / JANE / "Proj_123456_234567.zip", REPO / "Miniproject_2", "Proj_123456_234567", 1.7e9)
    zipped(klass / JOHN / "old.zip", SUBMISSIONS / "rules_autograd" / "Miniproject_2", "Proj_234567", 1.7e9)
    zipped(klass / JOHN / "new.zip", SUBMISSIONS / "rules_numpy" / "Miniproject_2", "Proj_234567", 1.7e9 + 60)
    (klass / "Empty Person_1111111_assignsubmission_file_").mkdir()
    (klass / "grading notes.txt").write_text("not a submission\n")
    for fixture in FIXTURES:
        shutil.copytree(SUBMISSIONS / fixture, klass / fixture)
    for copy in COPIES:
        shutil.copytree(SUBMISSIONS / copy.split("_", 1)[1], klass / copy)
    return root


@pytest.fixture(scope="module")
def uninterrupted(workspace: Path) -> ClassResult:
    return grade_class(
        workspace / "class", workspace / "data", RUBRIC, workspace / "uninterrupted", workers=2, groups=GROUPS
    )


def comparable(record: GradedSubmission) -> dict[str, Any]:
    """A record minus what differs between two gradings of the same bytes: times, run, machine."""
    fields = asdict(record)
    for varying in ("graded_at", "wall_s", "run_id", "machine"):
        fields.pop(varying)
    fields["report"] = without_timings(record.report)
    return fields


def by_key(records: list[GradedSubmission]) -> dict[str, dict[str, Any]]:
    return {record.key: comparable(record) for record in records}


def test_a_class_is_graded_as_harness_check_grades_each_submission(workspace: Path, uninterrupted) -> None:
    records = {record.key: record for record in uninterrupted.graded}
    assert sorted(records) == GRADED
    assert uninterrupted.exit_code == 0 and uninterrupted.reused == ()
    jane = records[f"{JANE}/Proj_123456_234567.zip"]
    assert (jane.participant_id, jane.scipers, jane.name) == (
        "1234567",
        ("123456", "234567"),
        "Proj_123456_234567",
    )
    assert records[f"{JOHN}/new.zip"].notes == (
        f"2 uploads of this participant: the newest graded ({JOHN}/old.zip not)",
        f"claims the SCIPERs of another submission: {JANE}/Proj_123456_234567.zip (SCIPER 234567)",
    )
    assert {item.key for item in uninterrupted.not_graded} == {
        f"{JOHN}/old.zip",
        "Empty Person_1111111_assignsubmission_file_",
        "grading notes.txt",
    }
    for key in (f"{JANE}/Proj_123456_234567.zip", "rules_numpy"):
        alone = check_submission(workspace / "class" / key, workspace / "data", RUBRIC, groups=GROUPS)
        assert without_timings(records[key].report) == without_timings(report_to_json(alone))
    assert records["rules_numpy"].report["summary"]["points"] < jane.report["summary"]["points"]
    with open_store(workspace / "uninterrupted") as store:
        (run,) = store.runs()
        assert (run.id, run.rubric_sha256) == (uninterrupted.run_id, RUBRIC.sha256)
        assert by_key(store.graded()) == by_key(list(uninterrupted.graded))
        assert tuple(store.not_graded(run.id)) == uninterrupted.not_graded
    summary = render_summary(uninterrupted)
    assert f"{len(GRADED)} submissions" in summary and "rule broken: rules.static" in summary
    assert "not graded: empty folder: nothing was uploaded" in summary
    assert "points (of up to 10): " in summary  # layout and rules only (a skipped folder name: 9)


def grade_command(workspace: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "harness", "grade", str(workspace / "class"), "--data", str(workspace / "data"),
        "--out", str(out), "--workers", "1", "--check-groups", "layout,rules", "-q",
    ]  # fmt: skip


def recorded(out: Path) -> int:
    """How many submissions the store under `out` holds a record of (0 before it exists): cheap to poll."""
    try:
        with closing(sqlite3.connect(f"file:{out / STORE_NAME}?mode=ro", uri=True)) as db:
            return db.execute("SELECT COUNT(DISTINCT key) FROM graded").fetchone()[0]
    except sqlite3.Error:
        return 0


def graded_so_far(out: Path) -> list[GradedSubmission]:
    try:
        with open_store(out) as store:
            return store.graded()
    except Exception:  # not created yet, or its tables not yet made
        return []


def stopped(command: list[str], out: Path, stop: signal.Signals, after: int) -> list[GradedSubmission]:
    """Run `command`, stop its whole process group with `stop` (as a terminal's Ctrl-C or a power cut
    reaches it) once the store holds more than `after` records, and return the records it kept."""
    run = subprocess.Popen(
        command,
        cwd=REPO,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_ctrl_c,
    )
    deadline = time.monotonic() + 240
    while recorded(out) <= after and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(run.pid, stop)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == (130 if stop == signal.SIGINT else -signal.SIGKILL), stderr
    kept = graded_so_far(out)
    assert after < len(kept) < len(GRADED), "the run was to be stopped mid-way"
    return kept


def _default_ctrl_c() -> None:
    """In the child before exec: SIGINT back to its default, which Python turns into KeyboardInterrupt
    (a test session started in the background by a shell inherits SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_runs_stopped_by_ctrl_c_and_kill_9_resume_to_the_uninterrupted_store(
    workspace: Path, uninterrupted
) -> None:
    out = workspace / "stopped"
    command = grade_command(workspace, out)
    after_ctrl_c = stopped(command, out, signal.SIGINT, after=0)
    after_kill = stopped(command, out, signal.SIGKILL, after=len(after_ctrl_c))
    resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(GRADED) - len(after_kill)} graded now, {len(after_kill)} reused)" in resumed.stdout
    with open_store(out) as store:
        assert by_key(store.graded()) == by_key(list(uninterrupted.graded))
        runs = store.runs()
        assert len(runs) == 3
        final = {r.key: r.graded_at for r in store.graded(runs[-1].id)}
    assert all(final[record.key] == record.graded_at for record in after_kill)


def test_a_changed_submission_is_regraded_and_the_others_reused(
    workspace: Path, uninterrupted, tmp_path
) -> None:
    shutil.copytree(workspace / "class", tmp_path / "class")
    shutil.copytree(workspace / "uninterrupted", tmp_path / "out")
    (tmp_path / "class" / "rules_numpy" / "Miniproject_2" / "model.py").open("a").write("# changed\n")
    again = grade_class(
        tmp_path / "class", workspace / "data", RUBRIC, tmp_path / "out", workers=1, groups=GROUPS
    )
    assert sorted(again.reused) == [key for key in GRADED if key != "rules_numpy"]
    before = {r.key: r for r in uninterrupted.graded}
    after = {r.key: r for r in again.graded}
    assert after["rules_numpy"].submission_sha256 != before["rules_numpy"].submission_sha256
    assert after["rules_numpy"].graded_at >= before["rules_numpy"].graded_at
    assert all(after[key].graded_at == before[key].graded_at for key in again.reused)


def test_a_run_restricted_with_only_still_holds_the_whole_class(
    workspace: Path, uninterrupted, tmp_path
) -> None:
    """`--only` grades what it selects and carries the others' records over, so the last run, which the
    exports read, is the whole class (finding 2 of the class review); a pattern that matches nothing
    is one line and exit 2, with no run recorded."""
    shutil.copytree(workspace / "uninterrupted", tmp_path / "out")
    again = grade_class(
        workspace / "class",
        workspace / "data",
        RUBRIC,
        tmp_path / "out",
        regrade=True,
        only="rules_numpy",
        groups=GROUPS,
    )
    assert [r.key for r in again.graded] == GRADED
    assert sorted(again.carried) == [key for key in GRADED if key != "rules_numpy"]
    before = {r.key: r for r in uninterrupted.graded}
    assert all(r.graded_at == before[r.key].graded_at for r in again.graded if r.key != "rules_numpy")
    assert "(1 graded now, 0 reused, 18 not selected, carried over)" in render_summary(again)
    completed = CliRunner().invoke(
        main,
        [
            "grade",
            str(workspace / "class"),
            "--data",
            str(workspace / "data"),
            "--out",
            str(tmp_path / "out"),
            "--only",
            "Ada Lovlace*",
            "-q",
        ],
    )
    assert completed.exit_code == 2 and completed.output.strip().endswith(
        "--only 'Ada Lovlace*' matched no submission"
    )
    with open_store(tmp_path / "out") as store:
        assert len(store.runs()) == 2


def test_dask_cluster_regrades_and_survives_a_killed_worker(workspace: Path, uninterrupted, tmp_path) -> None:
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    killed: list[int] = []
    out = tmp_path / "dask"
    shutil.copytree(workspace / "uninterrupted", out)
    only = [key for key in GRADED if key.startswith("rules_")]

    def kill_a_busy_worker(stop: threading.Event) -> None:
        """SIGKILL the first cluster worker seen with children of its own (it is grading one)."""
        while not stop.is_set() and not killed:
            for child in psutil.Process().children():
                try:
                    busy = "spawn_main" in " ".join(child.cmdline()) and child.children()
                    if busy:
                        child.kill()
                        killed.append(child.pid)
                        return
                except psutil.Error:  # a child that ended meanwhile
                    continue
            time.sleep(0.05)

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 2}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        stop = threading.Event()
        killer = threading.Thread(target=kill_a_busy_worker, args=(stop,), daemon=True)
        killer.start()
        try:
            result = grade_class(
                workspace / "class",
                workspace / "data",
                RUBRIC,
                out,
                scheduler=cluster.scheduler_address,
                regrade=True,
                only="rules_*",
                groups=GROUPS,
            )
        finally:
            stop.set()
            killer.join()
    assert killed, "a worker was to be killed while grading"
    assert result.exit_code == 0 and result.reused == ()
    graded_now = [r for r in result.graded if r.key not in result.carried]
    assert [r.key for r in graded_now] == only
    before = {r.key: r for r in uninterrupted.graded}
    assert all(record.graded_at >= before[record.key].graded_at for record in graded_now)
    assert by_key(graded_now) == {key: comparable(before[key]) for key in only}


def test_a_set_up_failure_scores_nothing_exits_1_and_is_regraded(
    workspace: Path, uninterrupted, tmp_path
) -> None:
    found = discover(workspace / "class").submissions[0]
    failed = setup_failure(
        GradeTask(found, workspace / "data", RUBRIC, groups=GROUPS), "its worker was lost 3 times"
    )
    assert failed.report["summary"]["points"] == 0
    judged = {c["id"]: c for c in failed.report["checks"] if "its worker was lost" in c["message"]}
    assert set(judged) == {
        *("layout.files", "layout.folder-name", "layout.bestmodel", "layout.report", "layout.stray-files"),
        "rules.static",
    }
    assert {(c["outcome"], c["fault"]) for c in judged.values()} == {("error", "setup")}
    result = replace(uninterrupted, graded=(failed, *uninterrupted.graded[1:]))
    assert result.exit_code == 1 and [r.key for r in result.needs_rerun] == [found.key]
    assert f"{found.key}  re-run: layout" in render_summary(result)
    shutil.copytree(workspace / "uninterrupted", tmp_path / "out")
    with open_store(tmp_path / "out") as store:
        store.record(store.start_run("2026-12-01T00:00:00+00:00", **hashes_of(store.runs()[0])), failed)
    again = grade_class(
        workspace / "class", workspace / "data", RUBRIC, tmp_path / "out", only=found.key, groups=GROUPS
    )
    assert again.reused == () and again.exit_code == 0 and not again.needs_rerun


def test_a_record_graded_with_some_groups_is_not_reused_for_others(uninterrupted) -> None:
    """The checks a restricted run left out are "not run", not set-up faults: a later run judging them
    grades the submission again rather than reuse a record without them."""
    record = uninterrupted.graded[0]
    assert record.report["summary"]["needs_rerun"] == [] and uninterrupted.exit_code == 0
    assert unjudged_checks(record, group_checks(GROUPS)) == ()
    left_out = set(group_checks(None)) - set(group_checks(GROUPS))
    assert "psnr.pretrained" in set(unjudged_checks(record, group_checks(None))) <= left_out


def hashes_of(run) -> dict[str, str]:
    return {
        "rubric_sha256": run.rubric_sha256,
        "data_sha256": run.data_sha256,
        "harness_version": run.harness_version,
        "class_dir": run.class_dir,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["no-such-class", "--data", "test_data"], "no-such-class: no such class folder", id="no-class"
        ),
        pytest.param(["tests", "--data", "no-such-data"], "no such data folder", id="no-data"),
        pytest.param(
            ["tests", "--data", "test_data", "--workers", "2", "--scheduler", "tcp://x:1"],
            "exclude",
            id="both",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(arguments: list[str], message: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    completed = CliRunner().invoke(main, ["grade", *arguments])
    assert completed.exit_code == 2 and message in completed.output


def test_a_second_grade_on_a_store_in_use_refuses(workspace: Path, tmp_path: Path) -> None:
    with open_store(tmp_path, create=True) as store, store.exclusive():
        completed = subprocess.run(
            grade_command(workspace, tmp_path), cwd=REPO, capture_output=True, text=True, timeout=120
        )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.count("\n") == 1 and f"pid {os.getpid()}" in completed.stderr
