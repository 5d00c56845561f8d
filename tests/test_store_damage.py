"""A damaged, hand-edited or foreign store, and outputs that cannot be written: one line naming the
file and exit 2 from every class command, before any work where it can be known; a crash of the
harness itself exits 3, never a code that reads as a verdict."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import BUG_EXIT_CODE
from harness.grading.store import STORE_NAME, StoreError, open_store
from harness.report import SCHEMA_VERSION
from tests.class_fixtures import graded_class


@pytest.fixture
def store(tmp_path):
    """A store of one run of the class, each record written twenty times over (under other keys) so
    its tables span many pages."""
    path = tmp_path / "store"
    with open_store(path, create=True) as writer:
        run = writer.start_run("2026-12-02T01:00:00+00:00", "r" * 64, "d" * 64, "0.1.0", str(tmp_path))
        for copy in range(20):
            for record in graded_class():
                writer.record(run, replace(record, key=f"{record.key}-{copy}", run_id=run))
    return path / STORE_NAME


def edit(store, sql, *parameters):
    with closing(sqlite3.connect(store)) as connection, connection:
        connection.execute(sql, parameters)


def run_cli(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def assert_one_line_exit_2(result, store, problem):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"harness: error: {store}: "), result.output
    assert problem in lines[0]


def test_a_store_knows_its_report_schema(store):
    with closing(sqlite3.connect(store)) as connection:
        assert dict(connection.execute("SELECT name, value FROM store_info")) == {
            "format": "harness-grade-store/1",
            "report_schema": SCHEMA_VERSION,
        }


def test_damaged_pages_are_one_line_for_export_diff_and_grade(store, tmp_path):
    data = bytearray(store.read_bytes())
    assert len(data) > 40 * 4096
    data[len(data) // 2 :] = b"\xff" * (len(data) - len(data) // 2)
    store.write_bytes(bytes(data))
    for arguments in (
        ("export", store, "--format", "csv", "--out", tmp_path / "e"),
        ("diff", store, store),
    ):
        assert_one_line_exit_2(run_cli(*arguments), store, "malformed")
    with open_store(store, create=True) as writer, pytest.raises(StoreError, match="malformed"):
        writer.graded()  # what `harness grade --out` reads to reuse records


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("json_set(report, '$.summary.new_field', 1)", "summary has unknown new_field"),
        ("json_remove(report, '$.summary.epoch_s')", "summary lacks epoch_s"),
        ("json_set(report, '$.schema_version', '0.9')", "schema '0.9', expected"),
        ("'{not json'", "is not valid JSON"),
    ],
    ids=["extra-field", "missing-field", "other-schema", "not-json"],
)
def test_a_record_this_harness_cannot_read_is_one_line(store, tmp_path, change, problem):
    edit(store, f"UPDATE graded SET report = {change} WHERE seq = 7")
    result = run_cli("export", store, "--format", "csv,report", "--out", tmp_path / "e")
    assert_one_line_exit_2(result, store, problem)
    assert "the record of " in result.output and "in run 1" in result.output
    assert not (tmp_path / "e").exists()


def test_a_store_of_another_report_schema_is_refused_at_open(store, tmp_path):
    edit(store, "UPDATE store_info SET value = '2.0' WHERE name = 'report_schema'")
    result = run_cli("diff", store, store)
    assert_one_line_exit_2(
        result, store, f"holds reports of schema '2.0', this harness reads '{SCHEMA_VERSION}'"
    )


def test_outputs_that_cannot_be_written_are_refused_before_any_work(store, tmp_path):
    result = run_cli("diff", store, store, "--json", tmp_path / "nodir" / "x.json")
    assert result.exit_code == 2 and "harness diff:" not in result.output
    assert (
        result.output.strip()
        == f"harness: error: {tmp_path / 'nodir' / 'x.json'}: cannot write: no folder {tmp_path / 'nodir'}"
    )
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    result = run_cli("export", store, "--format", "csv", "--out", afile)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().startswith(f"harness: error: {afile}: is a file")
    assert afile.read_text() == "keep me"


def test_a_crash_of_the_harness_exits_3_with_its_traceback(store, tmp_path, monkeypatch):
    def broken(*arguments, **options):
        raise RuntimeError("a bug")

    monkeypatch.setattr("harness.exports.diff.regrade_diff", broken)
    result = run_cli("diff", store, store)
    assert result.exit_code == BUG_EXIT_CODE == 3
    assert "RuntimeError: a bug" in result.output and "internal error, a bug in the harness" in result.output


class ReadOnlyMount:
    """`sqlite3.connect` as on a read-only mount without the WAL's `-shm` file: a plain connection
    fails at its first write (the WAL switch), a `mode=ro` one at its first read, `immutable=1` reads."""

    def __init__(self, connect, immutable_works=True):
        self.connect, self.immutable_works, self.modes = connect, immutable_works, []

    def __call__(self, database, *arguments, uri=False, **options):
        mode = str(database).rpartition("?")[2] if uri else "read-write"
        self.modes.append(mode)
        works = mode == "immutable=1" and self.immutable_works
        return FailingConnection(self.connect(database, *arguments, uri=uri, **options), mode, works)


class FailingConnection:
    def __init__(self, connection, mode, works):
        self.connection, self.mode, self.works = connection, mode, works

    def execute(self, sql, *parameters):
        if not self.works and (self.mode != "read-write" or sql.startswith("PRAGMA journal_mode")):
            problem = "unable to open database file" if self.mode != "read-write" else "readonly database"
            raise sqlite3.OperationalError(problem)
        return self.connection.execute(sql, *parameters)

    def close(self):
        self.connection.close()


def test_export_and_diff_read_a_store_on_a_read_only_mount(store, tmp_path, monkeypatch):
    before = store.read_bytes()
    mount = ReadOnlyMount(sqlite3.connect)
    monkeypatch.setattr("harness.grading.store.sqlite3.connect", mount)
    result = run_cli("export", store, "--format", "csv", "--out", tmp_path / "e")
    assert result.exit_code == 0, result.output
    assert mount.modes == ["mode=ro", "immutable=1"]
    assert run_cli("diff", store, store).exit_code == 0
    assert store.read_bytes() == before


def test_a_store_that_cannot_be_read_read_only_says_why(store, tmp_path, monkeypatch):
    monkeypatch.setattr("harness.grading.store.sqlite3.connect", ReadOnlyMount(sqlite3.connect, False))
    result = run_cli("export", store, "--format", "csv", "--out", tmp_path / "e")
    assert_one_line_exit_2(result, store, "cannot read it read-only (mode=ro: unable to open database file; ")
