"""The class store: one SQLite database (`grades.sqlite` under `harness grade --out`) of graded submissions.

`harness grade` writes it, one transaction per finished submission, so a run stopped by Ctrl-C, `kill -9`
or a power cut loses only the submissions in flight; the exports, the class report and `harness diff`
only read it. The database runs in WAL mode with `synchronous=FULL` (a committed submission survives a
power cut) and a busy timeout, so readers never block the writer and two writers wait for each other
instead of failing; `Store.exclusive` makes a second `harness grade` on the same store refuse to start.

Tables: `runs` (one row per `harness grade` invocation, with the hashes it graded under), `graded`
(one row per submission per run, its report as JSON text) and `not_graded` (what each run's discovery
left out, with the reason). A record is reusable by a later run when its
submission, rubric, data and harness hashes are all equal (and it needs no re-run, which `harness grade`
judges).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.grading.records import GradedSubmission, NotGraded

STORE_NAME = "grades.sqlite"
FORMAT = "harness-grade-store/1"
"""The value of `store_info.format`: what tells a store from any other SQLite file."""
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    rubric_sha256 TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    harness_version TEXT NOT NULL,
    class_dir TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS graded (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    participant_id TEXT,
    scipers TEXT NOT NULL,
    report TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    rubric_sha256 TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    harness_version TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    machine TEXT NOT NULL,
    wall_s REAL NOT NULL,
    notes TEXT NOT NULL,
    UNIQUE (run_id, key)
);
CREATE TABLE IF NOT EXISTS not_graded (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX IF NOT EXISTS graded_by_key ON graded (key, seq);
CREATE INDEX IF NOT EXISTS graded_by_hashes
    ON graded (submission_sha256, rubric_sha256, data_sha256, harness_version, seq);
"""

_RECORD_COLUMNS = (
    "run_id, key, name, participant_id, scipers, report, submission_sha256, rubric_sha256, data_sha256, "
    "harness_version, graded_at, machine, wall_s, notes"
)


class StoreError(HarnessError):
    """The store file is missing, is not a `harness grade` store, or is in use by another `harness grade`."""


@dataclass(frozen=True)
class Run:
    """One `harness grade` invocation: when it started, what it graded under, which class folder."""

    id: int
    started_at: str
    """UTC, ISO 8601."""
    rubric_sha256: str
    data_sha256: str
    harness_version: str
    class_dir: str


class Store:
    """An open class store. Use `open_store` to get one; `close` (or a `with` block) releases it."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def runs(self) -> list[Run]:
        """Every run, oldest first."""
        rows = self._db.execute(
            "SELECT id, started_at, rubric_sha256, data_sha256, harness_version, class_dir FROM runs "
            "ORDER BY id"
        )
        return [Run(*row) for row in rows]

    def graded(self, run_id: int | None = None) -> list[GradedSubmission]:
        """A run's records sorted by key; with None, the newest record of every key across all runs."""
        if run_id is None:
            rows = self._db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM graded WHERE seq IN "
                "(SELECT MAX(seq) FROM graded GROUP BY key) ORDER BY key"
            )
        else:
            rows = self._db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM graded WHERE run_id = ? ORDER BY key", (run_id,)
            )
        return [_record(row) for row in rows]

    def not_graded(self, run_id: int) -> list[NotGraded]:
        """What run `run_id` found in the class folder but did not grade, sorted by key."""
        rows = self._db.execute("SELECT key, reason FROM not_graded WHERE run_id = ? ORDER BY key", (run_id,))
        return [NotGraded(*row) for row in rows]

    def reusable(
        self, submission_sha256: str, rubric_sha256: str, data_sha256: str, harness_version: str
    ) -> GradedSubmission | None:
        """The newest record graded under exactly these hashes, if any (the caller judges whether its
        set-up failures, if any, call for grading it again)."""
        row = self._db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM graded WHERE submission_sha256 = ? AND rubric_sha256 = ? "
            "AND data_sha256 = ? AND harness_version = ? ORDER BY seq DESC LIMIT 1",
            (submission_sha256, rubric_sha256, data_sha256, harness_version),
        ).fetchone()
        return None if row is None else _record(row)

    def start_run(
        self, started_at: str, rubric_sha256: str, data_sha256: str, harness_version: str, class_dir: str
    ) -> int:
        """Add a run and return its id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, rubric_sha256, data_sha256, harness_version, class_dir) "
                "VALUES (?, ?, ?, ?, ?)",
                (started_at, rubric_sha256, data_sha256, harness_version, class_dir),
            )
        return int(cursor.lastrowid)

    def record(self, run_id: int, graded: GradedSubmission) -> None:
        """Commit one graded submission to run `run_id` now (it replaces that run's record of its key)."""
        with self._transaction():
            self._db.execute("DELETE FROM graded WHERE run_id = ? AND key = ?", (run_id, graded.key))
            self._db.execute(
                f"INSERT INTO graded ({_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    graded.key,
                    graded.name,
                    graded.participant_id,
                    json.dumps(list(graded.scipers)),
                    json.dumps(graded.report, sort_keys=True, allow_nan=False),
                    graded.submission_sha256,
                    graded.rubric_sha256,
                    graded.data_sha256,
                    graded.harness_version,
                    graded.graded_at,
                    graded.machine,
                    graded.wall_s,
                    json.dumps(list(graded.notes)),
                ),
            )

    def record_not_graded(self, run_id: int, items: Iterable[NotGraded]) -> None:
        """Keep what run `run_id` did not grade (replacing what it kept before)."""
        with self._transaction():
            self._db.execute("DELETE FROM not_graded WHERE run_id = ?", (run_id,))
            self._db.executemany(
                "INSERT INTO not_graded (run_id, key, reason) VALUES (?, ?, ?)",
                [(run_id, item.key, item.reason) for item in items],
            )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's writer lock (a `flock` on `grades.sqlite.lock`, released by the OS when the
        process dies, even by `kill -9`); StoreError at once when another process holds it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "another process"
                raise StoreError(
                    self.path, f"in use by another harness grade (pid {holder}); wait for it or use --out"
                ) from None
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(descriptor)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def open_store(path: Path, create: bool = False) -> Store:
    """Open the store at `path`: an `--out` folder holding `grades.sqlite`, or that file itself.

    With `create`, a missing store (and its folder) is made; otherwise a missing file, or one that is
    not a `harness grade` store, raises `StoreError` naming the file.
    """
    path = Path(path)
    file = path if path.is_file() or path.suffix == ".sqlite" else path / STORE_NAME
    if not file.is_file():
        if not create:
            raise StoreError(file, "no harness grade store here (run `harness grade CLASS_DIR --out DIR`)")
        file.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(file, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _prepare(connection, file, create)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StoreError(file, f"not a harness grade store ({error})") from None
    except StoreError:
        connection.close()
        raise
    return Store(file, connection)


def _prepare(connection: sqlite3.Connection, file: Path, create: bool) -> None:
    """Switch to WAL and check the format; with `create`, make the tables that are missing (all of them
    in a new file)."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables or not create:
        if "store_info" not in tables:
            raise StoreError(file, "not a harness grade store (an SQLite file without its tables)")
        row = connection.execute("SELECT value FROM store_info WHERE name = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            found = "no format" if row is None else f"format {row[0]!r}"
            raise StoreError(file, f"not a store this harness reads ({found}, expected {FORMAT!r})")
    if create:
        connection.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):
            connection.execute(statement)
        connection.execute("INSERT OR IGNORE INTO store_info (name, value) VALUES ('format', ?)", (FORMAT,))
        connection.execute("COMMIT")


def _record(row: tuple[Any, ...]) -> GradedSubmission:
    (run_id, key, name, participant_id, scipers, report, submission_sha256, rubric_sha256, data_sha256,
     harness_version, graded_at, machine, wall_s, notes) = row  # fmt: skip
    return GradedSubmission(
        key=key,
        name=name,
        participant_id=participant_id,
        scipers=tuple(json.loads(scipers)),
        report=json.loads(report),
        submission_sha256=submission_sha256,
        rubric_sha256=rubric_sha256,
        data_sha256=data_sha256,
        harness_version=harness_version,
        graded_at=graded_at,
        machine=machine,
        wall_s=wall_s,
        run_id=run_id,
        notes=tuple(json.loads(notes)),
    )
