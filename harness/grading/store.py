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

`store_info` also names the report schema its records follow (`report_schema`); a store of another
schema is refused when opened, and every record is checked as it is read (JSON, schema version, the
summary's fields), so a damaged file, a hand-edited record or another harness's store is one line
naming the file (`StoreError`, exit 2), never a traceback half-way through an export.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import HarnessError
from harness.grading.records import GradedSubmission, NotGraded
from harness.report import SCHEMA_VERSION, Summary

STORE_NAME = "grades.sqlite"
FORMAT = "harness-grade-store/1"
"""The value of `store_info.format`: what tells a store from any other SQLite file."""
BUSY_TIMEOUT_S = 60.0
SUMMARY_FIELDS = frozenset(field.name for field in fields(Summary))
"""The fields a stored report's summary has: exactly `Summary`'s, which the exports rebuild."""

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
    """The store file is missing, is not a `harness grade` store, is damaged, holds records this harness
    cannot read, or is in use by another `harness grade`."""


M = TypeVar("M", bound=Callable[..., Any])


def _database_errors(method: M) -> M:
    """Turn SQLite's errors in a `Store` method (a damaged page, a full disk, a file that vanished)
    into a `StoreError` naming the file."""

    @wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            raise StoreError(
                self.path, f"cannot use the store ({error}): restore a copy, or grade into a new --out"
            ) from None

    return wrapper  # type: ignore[return-value]


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

    @_database_errors
    def runs(self) -> list[Run]:
        """Every run, oldest first."""
        rows = self._db.execute(
            "SELECT id, started_at, rubric_sha256, data_sha256, harness_version, class_dir FROM runs "
            "ORDER BY id"
        )
        return [Run(*row) for row in rows]

    @_database_errors
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
        return [_record(row, self.path) for row in rows]

    @_database_errors
    def not_graded(self, run_id: int) -> list[NotGraded]:
        """What run `run_id` found in the class folder but did not grade, sorted by key."""
        rows = self._db.execute("SELECT key, reason FROM not_graded WHERE run_id = ? ORDER BY key", (run_id,))
        return [NotGraded(*row) for row in rows]

    @_database_errors
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
        return None if row is None else _record(row, self.path)

    @_database_errors
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

    @_database_errors
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

    @_database_errors
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


def open_store(path: Path, create: bool = False, read_only: bool = False) -> Store:
    """Open the store at `path`: an `--out` folder holding `grades.sqlite`, or that file itself.

    With `create`, a missing store (and its folder) is made; otherwise a missing file, or one that is
    not a `harness grade` store, raises `StoreError` naming the file. With `read_only` (the exports and
    `harness diff`, which never write), nothing is written, not even the WAL switch, so a store on a
    read-only mount or from a colleague's read-only share opens (`READ_ONLY_MODES`).
    """
    path = Path(path)
    file = path if path.is_file() or path.suffix == ".sqlite" else path / STORE_NAME
    if not file.is_file():
        if not create:
            raise StoreError(file, "no harness grade store here (run `harness grade CLASS_DIR --out DIR`)")
        file.parent.mkdir(parents=True, exist_ok=True)
    try:
        if read_only:
            connection = _connect_read_only(file)
        else:
            connection = sqlite3.connect(file, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise StoreError(file, f"cannot open the store ({error})") from None
    try:
        _prepare(connection, file, create and not read_only, writable=not read_only)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StoreError(file, f"not a harness grade store, or a damaged one ({error})") from None
    except StoreError:
        connection.close()
        raise
    return Store(file, connection)


READ_ONLY_MODES = ("mode=ro", "immutable=1")
"""How a read-only store is opened, in order: `mode=ro` reads a store another process may be writing;
where it cannot (a read-only folder without the WAL's `-shm` file), `immutable=1` reads the file as it
is, which is all there is of a store that nothing writes."""


def _connect_read_only(file: Path) -> sqlite3.Connection:
    """A connection that never writes `file`, by the first of `READ_ONLY_MODES` that can read it."""
    failures = []
    for mode in READ_ONLY_MODES:
        connection = sqlite3.connect(
            f"{file.absolute().as_uri()}?{mode}", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
        )
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return connection
        except sqlite3.OperationalError as error:
            connection.close()
            failures.append(f"{mode}: {error}")
    raise sqlite3.OperationalError(f"cannot read it read-only ({'; '.join(failures)})")


def _prepare(connection: sqlite3.Connection, file: Path, create: bool, writable: bool = True) -> None:
    """Switch to WAL (when `writable`) and check the format; with `create`, make the tables that are
    missing (all of them in a new file)."""
    if writable:
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
        row = connection.execute("SELECT value FROM store_info WHERE name = 'report_schema'").fetchone()
        if row is not None and row[0] != SCHEMA_VERSION:
            raise StoreError(
                file,
                f"holds reports of schema {row[0]!r}, this harness reads {SCHEMA_VERSION!r}: use the harness "
                "that graded it, or grade again into a new --out",
            )
    if create:
        connection.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):
            connection.execute(statement)
        connection.executemany(
            "INSERT OR IGNORE INTO store_info (name, value) VALUES (?, ?)",
            [("format", FORMAT), ("report_schema", SCHEMA_VERSION)],
        )
        connection.execute("COMMIT")


def _record(row: tuple[Any, ...], file: Path) -> GradedSubmission:
    """A `graded` row as a record; `StoreError` when its JSON or its report is not what this harness
    writes."""
    (run_id, key, name, participant_id, scipers, report, submission_sha256, rubric_sha256, data_sha256,
     harness_version, graded_at, machine, wall_s, notes) = row  # fmt: skip
    where = f"the record of {key!r} in run {run_id}"
    try:
        scipers, report, notes = json.loads(scipers), json.loads(report), json.loads(notes)
    except (TypeError, ValueError) as error:
        raise StoreError(file, f"{where} is not valid JSON ({error})") from None
    problem = _report_problem(report)
    if problem:
        raise StoreError(file, f"{where} is not a report this harness reads: {problem}")
    return GradedSubmission(
        key=key,
        name=name,
        participant_id=participant_id,
        scipers=tuple(scipers),
        report=report,
        submission_sha256=submission_sha256,
        rubric_sha256=rubric_sha256,
        data_sha256=data_sha256,
        harness_version=harness_version,
        graded_at=graded_at,
        machine=machine,
        wall_s=wall_s,
        run_id=run_id,
        notes=tuple(notes),
    )


def _report_problem(report: Any) -> str | None:
    """What makes `report` unlike the reports of this harness's schema, or None: its schema version,
    and the fields of its summary (which the exports rebuild as a `Summary`)."""
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        return "no summary"
    if report.get("schema_version") != SCHEMA_VERSION:
        return f"schema {report.get('schema_version')!r}, expected {SCHEMA_VERSION!r}"
    if not isinstance(report.get("checks"), list):
        return "no checks"
    missing = sorted(SUMMARY_FIELDS - report["summary"].keys())
    extra = sorted(report["summary"].keys() - SUMMARY_FIELDS)
    if missing or extra:
        named = (("lacks", missing), ("has unknown", extra))
        return "summary " + "; ".join(f"{what} {', '.join(names)}" for what, names in named if names)
    return None
