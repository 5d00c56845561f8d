"""The class store: records round-trip, the newest per key, reuse by hashes, bad files, two writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.grading.records import GradedSubmission, NotGraded
from harness.grading.store import STORE_NAME, SUMMARY_FIELDS, Run, StoreError, open_store
from harness.report import SCHEMA_VERSION

HASHES = {"rubric_sha256": "r" * 64, "data_sha256": "d" * 64, "harness_version": "0.1.0+abc"}


def graded(key: str, points: float = 50.0, submission: str = "s"):
    """A record with a small stand-in report: of this harness's schema, its summary's fields all there
    (the store checks both as it reads), most of them None."""
    return GradedSubmission(
        key=key,
        name=key.rsplit("/", 1)[-1],
        participant_id="1234567",
        scipers=("123456", "234567"),
        report={
            "schema_version": SCHEMA_VERSION,
            "summary": {**dict.fromkeys(SUMMARY_FIELDS), "points": points, "needs_rerun": []},
            "checks": [],
        },
        submission_sha256=submission * 64,
        graded_at="2026-12-01T20:00:00+00:00",
        machine="box",
        wall_s=12.5,
        notes=("two uploads: the newest graded",),
        **HASHES,
    )


def start(store, started_at: str = "2026-12-01T20:00:00+00:00") -> int:
    return store.start_run(started_at=started_at, class_dir="/class", **HASHES)


def test_records_round_trip_and_runs_are_listed(tmp_path: Path) -> None:
    with open_store(tmp_path, create=True) as store:
        first = start(store)
        second = start(store, "2026-12-01T21:00:00+00:00")
        record = graded("b/Proj_1.zip")
        store.record(first, record)
        store.record(first, graded("a/x.zip"))
        assert store.graded(first)[1] == replace(record, run_id=first)
        assert [r.key for r in store.graded(first)] == ["a/x.zip", "b/Proj_1.zip"]
        assert store.graded(second) == []
        assert store.runs() == [
            Run(first, "2026-12-01T20:00:00+00:00", class_dir="/class", **HASHES),
            Run(second, "2026-12-01T21:00:00+00:00", class_dir="/class", **HASHES),
        ]
    assert (tmp_path / STORE_NAME).is_file()


def test_newest_record_of_each_key_across_runs(tmp_path: Path) -> None:
    with open_store(tmp_path / STORE_NAME, create=True) as store:
        first, second = start(store), start(store)
        store.record(first, graded("a", points=10))
        store.record(first, graded("b", points=20))
        store.record(second, graded("a", points=30))
        store.record(second, graded("a", points=40))  # the same run and key again replaces it
        newest = {r.key: (r.run_id, r.report["summary"]["points"]) for r in store.graded()}
        assert newest == {"a": (second, 40), "b": (first, 20)}
        assert len(store.graded(second)) == 1


def test_reuse_needs_equal_hashes_and_takes_the_newest(tmp_path: Path) -> None:
    with open_store(tmp_path, create=True) as store:
        first, second = start(store), start(store)
        store.record(first, graded("a", submission="1", points=10))
        store.record(second, graded("a", submission="1", points=20))
        store.record(first, graded("b", submission="2"))
        assert store.reusable("1" * 64, **HASHES).report["summary"]["points"] == 20
        assert store.reusable("2" * 64, **HASHES).key == "b"
        assert store.reusable("3" * 64, **HASHES) is None
        assert store.reusable("1" * 64, **{**HASHES, "data_sha256": "e" * 64}) is None
        assert store.reusable("1" * 64, **{**HASHES, "harness_version": "0.2.0"}) is None


def test_reopened_store_keeps_everything(tmp_path: Path) -> None:
    left_out = [NotGraded("b.txt", "not a .zip or a folder"), NotGraded("a/", "empty folder")]
    with open_store(tmp_path, create=True) as store:
        run = start(store)
        store.record(run, graded("a"))
        store.record_not_graded(run, left_out)
    with open_store(tmp_path) as store:
        assert [r.key for r in store.graded()] == ["a"]
        assert store.not_graded(run) == sorted(left_out, key=lambda item: item.key)
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        pytest.param(None, "no harness grade store here", id="missing"),
        pytest.param(
            lambda p: p.write_text("not sqlite at all, just text " * 40), "not a harness", id="text"
        ),
        pytest.param(
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "without its tables",
            id="other-sqlite",
        ),
        pytest.param(
            lambda p: sqlite3.connect(p).executescript(
                "CREATE TABLE store_info (name, value); INSERT INTO store_info VALUES ('format', 'other/9');"
            ),
            "not a store this harness reads (format 'other/9'",
            id="other-format",
        ),
    ],
)
@pytest.mark.parametrize("create", [False, True], ids=["read", "write"])
def test_bad_store_files_are_one_line_user_errors(tmp_path: Path, make, problem: str, create: bool) -> None:
    file = tmp_path / STORE_NAME
    if make is None and create:  # writing makes a missing store instead
        open_store(tmp_path, create=True).close()
        assert open_store(file).runs() == []
        return
    if make is not None:
        make(file)
    with pytest.raises(StoreError) as caught:
        open_store(tmp_path, create=create)
    assert isinstance(caught.value, HarnessError) and caught.value.exit_code == 2
    assert str(file) in caught.value.one_line() and problem in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_a_second_exclusive_holder_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path, create=True) as store, open_store(tmp_path) as other:
        with store.exclusive():
            refused = pytest.raises(StoreError, match="in use by another harness grade")
            with refused, other.exclusive():
                pass
        with other.exclusive():  # released once the first holder is done
            pass


def _write_many(path: Path, run_id: int, prefix: str) -> None:
    with open_store(path) as store:
        for index in range(40):
            store.record(run_id, graded(f"{prefix}{index:02d}"))


def test_two_processes_writing_one_store_lose_nothing(tmp_path: Path) -> None:
    with open_store(tmp_path, create=True) as store:
        run = start(store)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(tmp_path, run, prefix)) for prefix in "xy"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    with open_store(tmp_path) as store:
        assert len(store.graded(run)) == 80
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
