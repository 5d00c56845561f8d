"""The user errors the harness reports as one line and exit code 2.

Each is raised by the plain Python API and caught once, at the CLI boundary. Anything else that escapes
is a bug in the harness: it keeps its traceback and exits with `BUG_EXIT_CODE`, which no command uses
for a result (0 and 1 are verdicts, 2 bad input, 130 an interrupt).
"""

from __future__ import annotations

from pathlib import Path

from harness.probes.capture import printable

BUG_EXIT_CODE = 3
"""The exit code of an exception the harness did not expect (a bug), never a verdict."""


class HarnessError(Exception):
    """A problem with the user's input or set-up, not a bug: printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The path and the problem, without control characters: a path or a problem quoting a
        submission's file names may hold escape sequences that would act on the terminal."""
        return printable(self.problem if self.path is None else f"{self.path}: {self.problem}")


class DataError(HarnessError):
    """A data file is missing, unreadable or not in the course's format."""


class SubmissionError(HarnessError):
    """A submission path cannot be resolved to a `Miniproject_2` folder."""


class RubricError(HarnessError):
    """A rubric file is missing, malformed or inconsistent."""


class OutputError(HarnessError):
    """The report folder (`--out`) is a file or cannot be written."""
