"""`grade_class`: a whole class folder graded into the store, resumably, on a local pool or a Dask cluster.

The journey: discovery (what is a submission, what is not and why) → the store (a record graded under
the same submission, rubric, data and harness hashes is reused, unless `regrade`) → an executor runs
`grade_task` (exactly `harness check`'s `check_submission`) for the rest → each finished submission is
committed to the store at once. A run stopped by Ctrl-C or `kill -9` has lost only what was in flight:
the same call again grades only what is missing. The store's writer lock makes a second `grade_class`
on the same store refuse to start instead of racing the first.

Every run is a new row of `runs` holding the whole class: the records graded now and copies of the
reused ones (and, under `--only`, of the submissions it did not select), so `Store.graded(run_id)` is
the class as of that run, which is all the exports read.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from harness.check import data_paths
from harness.checks.registry import group_checks
from harness.errors import HarnessError
from harness.grading.discovery import Discovery, FoundSubmission, discover
from harness.grading.executors import Failure, default_workers, run_dask, run_local
from harness.grading.fingerprints import data_files_sha256, data_sha256, harness_version
from harness.grading.records import GradedSubmission, NotGraded
from harness.grading.store import Run, Store, open_store
from harness.grading.tasks import GradeTask, grade_task, setup_failure
from harness.rubric import Rubric

OnGraded = Callable[[GradedSubmission], None]


@dataclass(frozen=True)
class ClassResult:
    """What one `grade_class` run did: its run in the store, its records, what it left out."""

    store_path: Path
    run_id: int
    class_dir: Path
    graded: tuple[GradedSubmission, ...]
    """This run's records, sorted by key: graded now, or reused."""
    reused: tuple[str, ...]
    """Keys of the records copied from an earlier run (same hashes) instead of graded again."""
    not_graded: tuple[NotGraded, ...]
    """What discovery found in the class folder that is not a submission to grade, with the reason."""
    max_points: float
    judged: tuple[str, ...]
    """The check ids this run judges (all of the rubric's unless restricted to some check groups)."""
    carried: tuple[str, ...] = ()
    """Keys of the submissions `--only` did not select whose earlier records (same hashes) were copied
    in, so that the run still holds the whole class."""

    @property
    def needs_rerun(self) -> tuple[GradedSubmission, ...]:
        """Records with judged checks that failed because of the grading set-up."""
        return tuple(record for record in self.graded if rerun_checks(record, self.judged))

    @property
    def exit_code(self) -> int:
        """0 when every submission was graded (whatever the scores), 1 when some need a re-run."""
        return 1 if self.needs_rerun else 0


def rerun_checks(record: GradedSubmission, judged: Sequence[str]) -> tuple[str, ...]:
    """The checks among `judged` that failed in `record` because of the grading set-up."""
    return tuple(check_id for check_id in record.report["summary"]["needs_rerun"] if check_id in judged)


def unjudged_checks(record: GradedSubmission, judged: Sequence[str]) -> tuple[str, ...]:
    """The checks among `judged` that `record` did not run (graded with other check groups)."""
    return tuple(check_id for check_id in record.report["summary"].get("not_run", ()) if check_id in judged)


def grade_class(
    class_dir: Path,
    data_dir: Path,
    rubric: Rubric,
    out_dir: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    regrade: bool = False,
    only: str | None = None,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    reference: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_graded: OnGraded | None = None,
) -> ClassResult:
    """Grade every submission of `class_dir` into the store under `out_dir` and return the run's result.

    `workers` local processes (default: cores / 2), or the Dask cluster at `scheduler`; `regrade`
    ignores earlier records; `only` keeps the submissions whose key or name matches the glob pattern;
    `groups`, `seed` and `reference` are `check_submission`'s. `on_start(total, reused)` is called once
    the work is known, `on_graded(record)` after each record is committed. Raises `HarnessError` for a
    missing class folder, unusable data, a store in use or a scheduler out of reach.
    """
    class_dir, out_dir = Path(class_dir), Path(out_dir)
    if not class_dir.is_dir():
        raise HarnessError(class_dir, "no such class folder")
    data_files = data_files_sha256(data_paths(data_dir))
    whole = discover(class_dir, exclude=[out_dir])
    discovery = _selected(whole, only)
    version = harness_version()
    judged = group_checks(groups)
    with open_store(out_dir, create=True) as store, store.exclusive():
        run_id = store.start_run(
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            rubric_sha256=rubric.sha256,
            data_sha256=data_sha256(data_files),
            harness_version=version,
            class_dir=str(class_dir.resolve()),
        )
        run = store.runs()[-1]
        carried, left_out = _carry_over(store, run, whole, discovery, rubric.sha256)
        not_graded = tuple(sorted([*discovery.not_graded, *left_out], key=lambda item: item.key))
        store.record_not_graded(run_id, not_graded)
        tasks, reused = [], []
        for found in discovery.submissions:
            earlier = (
                None if regrade else store.reusable(found.sha256, rubric.sha256, run.data_sha256, version)
            )
            if earlier is None or rerun_checks(earlier, judged) or unjudged_checks(earlier, judged):
                tasks.append(
                    GradeTask(found, Path(data_dir).resolve(), rubric, seed, _groups(groups), reference)
                )
            else:
                store.record(run_id, _as_found(earlier, found))
                reused.append(found.key)
        if on_start is not None:
            on_start(len(discovery.submissions), len(reused))

        def commit(task: GradeTask, outcome: GradedSubmission | Failure) -> None:
            record = _checked(task, outcome, run.data_sha256, version)
            store.record(run_id, record)
            if on_graded is not None:
                on_graded(record)

        if tasks and scheduler:
            run_dask(tasks, scheduler, commit, grade_task)
        elif tasks:
            run_local(tasks, workers or default_workers(), commit, grade_task)
        graded = store.graded(run_id)
    return ClassResult(
        store_path=store.path,
        run_id=run_id,
        class_dir=class_dir,
        graded=tuple(graded),
        reused=tuple(reused),
        carried=carried,
        not_graded=not_graded,
        max_points=rubric.max_points,
        judged=judged,
    )


def _selected(discovery: Discovery, only: str | None) -> Discovery:
    """The submissions whose key or name matches the glob `only` (case-insensitive); all without one.
    `HarnessError` when `only` matches none (a typo would otherwise record an empty run)."""
    if not only:
        return discovery
    pattern = only.lower()
    kept = tuple(
        found
        for found in discovery.submissions
        if fnmatch.fnmatch(found.key.lower(), pattern) or fnmatch.fnmatch(found.name.lower(), pattern)
    )
    if not kept:
        raise HarnessError(None, f"--only {only!r} matched no submission")
    return replace(discovery, submissions=kept)


def _carry_over(
    store: Store, run: Run, whole: Discovery, selected: Discovery, rubric_sha256: str
) -> tuple[tuple[str, ...], list[NotGraded]]:
    """Copy into `run` the latest record of each submission `--only` left out, graded under the same
    hashes, so that every run holds the whole class; the ones without such a record are listed."""
    chosen = {found.key for found in selected.submissions}
    carried, left_out = [], []
    for found in whole.submissions:
        if found.key in chosen:
            continue
        earlier = store.reusable(found.sha256, rubric_sha256, run.data_sha256, run.harness_version)
        if earlier is None:
            left_out.append(NotGraded(found.key, "not selected by --only, and never graded as it is now"))
        else:
            store.record(run.id, _as_found(earlier, found))
            carried.append(found.key)
    return tuple(carried), left_out


def _groups(groups: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if groups is None else tuple(groups)


def _as_found(earlier: GradedSubmission, found: FoundSubmission) -> GradedSubmission:
    """An earlier record of the same bytes, under the name and notes discovery gives it now."""
    return replace(
        earlier,
        key=found.key,
        name=found.name,
        participant_id=found.participant_id,
        scipers=found.scipers,
        notes=found.notes,
    )


def _checked(
    task: GradeTask, outcome: GradedSubmission | Failure, data: str, version: str
) -> GradedSubmission:
    """The record to commit: the worker's, or a set-up failure when the task failed or the worker
    graded with other data files or another harness than this run."""
    if isinstance(outcome, Failure):
        return setup_failure(task, outcome.problem)
    if outcome.data_sha256 != data:
        return setup_failure(task, f"the worker {outcome.machine} graded with other data files than this run")
    if outcome.harness_version != version:
        return setup_failure(
            task, f"the worker {outcome.machine} runs harness {outcome.harness_version}, this run {version}"
        )
    return outcome
