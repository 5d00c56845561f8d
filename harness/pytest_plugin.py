"""pytest front end of `harness check`: one pytest test per check id, with the same verdicts.

    python -m pytest -p harness.pytest_plugin --submission PATH [--data DIR] [--rubric NAME|FILE]
                     [--seed N] [--check-groups api,blocks,...] [--no-reference-timing] [--junitxml FILE]

The plugin loads only when named with `-p` (there is no entry point). With `--submission`, the session
collects the submission instead of the project's test paths: one item per check id (`blocks.conv2d`,
`api.predict`, ...) under a node named after the submission, and nothing inside the submission itself
(a student's `test_*.py` or `conftest.py` is never imported into pytest's process). The first item that
runs grades the submission once with `harness.check.check_submission`, exactly as `harness check` does,
and every item reads its verdict from that one report:

- PASS: passed;
- SKIPPED, or a check that counts 0 of 0 (an optional block that is absent, the other member of a
  `one_of` group): skipped, the check's message as the reason;
- anything else (fail, error, timeout, oom, crash, forbidden, missing, and set-up errors flagged for a
  re-run): failed, the failure text being the check's outcome, fault, points and one-line message, then
  its details as JSON; no traceback of the harness.

pytest's exit status is 1 as soon as any check fails; `harness check`'s only when a required check does
(the failure text says "required"). Each item also records `outcome`, `fault`, `points`, `max_points` and
`required` as user properties, which `--junitxml` writes into each test case. `--check-groups` runs only
some check groups (the names of `harness.checks.registry.GROUP_NAMES`: `layout`, `rules`, `runtime-rules`
(or `runtime_rules`), `api`, `blocks`, `timing`, `psnr`), and collects only their checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.check import DEFAULT_DATA_DIR, REFERENCE_DIR, check_submission, data_paths
from harness.checks.registry import GROUP_NAMES, group_checks, parse_group_list
from harness.errors import HarnessError
from harness.report import Report, report_to_json
from harness.results import Outcome
from harness.rubric import DEFAULT_RUBRIC, Rubric, load_rubric
from harness.tables import summary_line

DETAILS_CHARS = 4000
"""A failure shows at most this much of the check's details (the JSON report has them all)."""


@dataclass(frozen=True)
class Settings:
    """What `harness check` would be given: the submission, data, rubric, seed, groups and reference."""

    submission: Path
    data_dir: Path
    rubric: Rubric
    seed: int
    groups: tuple[str, ...] | None
    reference_dir: Path | None


SETTINGS = pytest.StashKey[Settings]()
GRADED = pytest.StashKey[list[tuple[str, Report]]]()
"""(submission name, report) of each submission graded in this session, for the terminal summary."""


class CheckFailed(Exception):
    """A check that did not pass: its text is the whole failure report of the pytest item."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options of `harness check`, under their own group in `pytest --help`."""
    group = parser.getgroup("harness", "grade an EE-559 Mini-project 2 submission (harness check)")
    group.addoption(
        "--submission",
        metavar="PATH",
        help="Grade PATH (a Miniproject_2 folder, a Proj_ folder or a .zip): one test per check id, "
        "instead of the test paths.",
    )
    group.addoption(
        "--data",
        metavar="DIR",
        default=str(DEFAULT_DATA_DIR),
        help="Folder of train_data.pkl and val_data.pkl.",
    )
    group.addoption("--rubric", metavar="NAME|FILE", default=DEFAULT_RUBRIC, help="Rubric name or TOML file.")
    group.addoption("--seed", type=int, default=0, help="Seed of every child and data draw (default 0).")
    group.addoption(
        "--check-groups",
        metavar="GROUPS",
        help=f"Comma list of check groups to run (default all): {', '.join(GROUP_NAMES)}.",
    )
    group.addoption(
        "--no-reference-timing", action="store_true", help="Do not time the reference model for ratios."
    )


def pytest_configure(config: pytest.Config) -> None:
    """With `--submission`: validate the options (one-line usage errors) and collect only the submission."""
    submission = config.getoption("submission", None)
    if submission is None:
        return
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        raise pytest.UsageError(f"--submission grades one submission: give no test paths ({config.args})")
    path = Path(submission).resolve()
    if not path.exists():
        raise pytest.UsageError(f"{submission}: no such file or folder")
    try:
        rubric = load_rubric(config.getoption("rubric"))
        data_paths(Path(config.getoption("data")))
    except HarnessError as error:
        raise pytest.UsageError(error.one_line()) from None
    config.stash[SETTINGS] = Settings(
        submission=path,
        data_dir=Path(config.getoption("data")),
        rubric=rubric,
        seed=config.getoption("seed"),
        groups=parse_groups(config.getoption("check_groups")),
        reference_dir=None if config.getoption("no_reference_timing") else REFERENCE_DIR,
    )
    config.args = [str(path)]


def parse_groups(text: str | None) -> tuple[str, ...] | None:
    """`"api, blocks"` -> `("api", "blocks")`; None -> None (every group).

    Raises `pytest.UsageError` naming an unknown group and the known ones.
    """
    if text is None:
        return None
    try:
        return parse_group_list(text)
    except ValueError as error:
        raise pytest.UsageError(f"--check-groups: {error}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The submission folder is collected as its checks, never walked into."""
    return _submission_collector(path, parent)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A `.zip` submission is collected as its checks."""
    return _submission_collector(file_path, parent)


def _submission_collector(path: Path, parent: pytest.Collector) -> SubmissionChecks | None:
    settings = parent.config.stash.get(SETTINGS, None)
    if settings is None or path != settings.submission:
        return None
    try:  # the usual node id of a path: relative to the rootdir, else absolute (never "" for an init path)
        nodeid = path.relative_to(parent.config.rootpath).as_posix()
    except ValueError:
        nodeid = path.as_posix()
    return SubmissionChecks.from_parent(parent, path=path, nodeid=nodeid)


class SubmissionChecks(pytest.File):
    """The checks of one submission: a `CheckItem` per check id; grades the submission once, lazily."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._documents: dict[str, dict[str, Any]] | None = None
        self._error: HarnessError | None = None

    def collect(self) -> Iterator[CheckItem]:
        """One item per check id of the selected groups, in report order (nothing runs yet)."""
        for check_id in group_checks(self.config.stash[SETTINGS].groups):
            yield CheckItem.from_parent(self, name=check_id)

    def check_document(self, check_id: str) -> dict[str, Any] | None:
        """The JSON document of `check_id` in the submission's report, which `check_submission` makes on
        the first call (a user error, such as an archive that holds no Miniproject_2, fails every item
        with its one line)."""
        if self._documents is None and self._error is None:
            settings = self.config.stash[SETTINGS]
            try:
                report = check_submission(
                    settings.submission,
                    settings.data_dir,
                    settings.rubric,
                    seed=settings.seed,
                    reference_dir=settings.reference_dir,
                    groups=settings.groups,
                )
            except HarnessError as error:
                self._error = error
            else:
                self.config.stash.setdefault(GRADED, []).append((self.path.name, report))
                checks = report_to_json(report, validate=False)["checks"]
                self._documents = {check["id"]: check for check in checks}
        if self._error is not None:
            raise CheckFailed(f"harness: error: {self._error.one_line()}")
        assert self._documents is not None
        return self._documents.get(check_id)


class CheckItem(pytest.Item):
    """One check id of the submission; its result follows the check's outcome and rubric entry."""

    parent: SubmissionChecks

    def runtest(self) -> None:
        """Pass, skip or fail as the check's verdict in the session's one report says."""
        document = self.parent.check_document(self.name)
        if document is None:
            raise CheckFailed(f"{self.name}: the report has no result for this check")
        for key in ("outcome", "fault", "points", "max_points", "required"):
            self.user_properties.append((key, document[key]))
        outcome = Outcome(document["outcome"])
        if outcome is Outcome.PASS:
            return
        if outcome is Outcome.SKIPPED or document["max_points"] == 0:
            pytest.skip(f"{outcome.value}: {document['message']}")
        raise CheckFailed(failure_text(document))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The check's own text for a check that failed; pytest's usual report for anything else."""
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def failure_text(check: Mapping[str, Any]) -> str:
    """A check's JSON document as a failure report: outcome, fault, points and message, then details."""
    whose = "re-run it: the grading set-up failed" if check["needs_rerun"] else f"{check['fault']}'s fault"
    required = ", required" if check["required"] else ""
    head = (
        f"{check['id']}: {check['outcome']} ({whose}), "
        f"{check['points']:g}/{check['max_points']:g} points{required}\n{check['message']}"
    )
    if not check["details"]:
        return head
    details = json.dumps(check["details"], indent=2, sort_keys=True, ensure_ascii=False)
    if len(details) > DETAILS_CHARS:
        left = len(details) - DETAILS_CHARS
        details = f"{details[:DETAILS_CHARS]}\n... ({left} more characters in the JSON report)"
    return f"{head}\ndetails: {details}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The report's summary line (points, required checks, PSNR, epoch), as `harness check` ends."""
    groups = config.stash[SETTINGS].groups if SETTINGS in config.stash else None
    for name, report in config.stash.get(GRADED, []):
        title = f"harness check: {name}"
        if groups is not None:  # the report counts the other groups' checks 0 of 0, as `harness check` does
            title += f" (check groups {', '.join(groups)} only)"
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(summary_line(report.summary))
