"""The records every check produces: plain, immutable data that reports are rendered from.

A check returns `CheckResult`s and never decides its own points: `harness.rubric` turns results into
`ScoredCheck`s in the parent process, from the rubric alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    """What happened to one check."""

    PASS = "pass"
    FAIL = "fail"  # ran, and the result is wrong
    ERROR = "error"  # the submission raised an exception
    TIMEOUT = "timeout"  # the child ran past its wall-time limit
    OOM = "oom"  # the child ran past its memory limit
    CRASH = "crash"  # the child died without reporting (signal, os._exit, segfault)
    FORBIDDEN = "forbidden"  # a course rule was broken
    MISSING = "missing"  # what the check needs is not in the submission
    SKIPPED = "skipped"  # not run (a prerequisite failed, or the rubric turned it off)


class Fault(str, Enum):
    """Whose fault a non-passing outcome is: a grader needs to know which ones to re-run.

    SETUP only for what the parent observed itself to fail in the harness or before any submission
    code could run (`harness.sandbox.ChildRun.released`); never read from what a child wrote or did.
    """

    NONE = "none"  # passed
    SUBMISSION = "submission"
    SETUP = "setup"  # the grading set-up (data, machine, harness): re-run, do not penalise


class Category(str, Enum):
    """The report's groups, in the order they are shown."""

    LAYOUT = "layout"
    RULES = "rules"
    RUNTIME_RULES = "runtime-rules"
    API = "api"
    BLOCKS = "blocks"
    TIMING = "timing"
    PSNR = "psnr"


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, as data.

    `id` is stable across runs and names the rubric entry (`blocks.conv2d`, `rules.static`).
    `score` is the fraction of the check that passed, in [0, 1] (e.g. 47 of 50 grid configurations);
    the rubric decides what that is worth. `details` holds JSON-compatible values only.
    """

    id: str
    category: Category
    outcome: Outcome
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    score: float = 0.0
    fault: Fault = Fault.SUBMISSION
    artifacts: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Bulky data for renderers (e.g. sample images as tensors); never part of the JSON report."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} of check {self.id} is outside [0, 1]")
        if "\n" in self.message:
            raise ValueError(f"message of check {self.id} must be one line")
        if self.outcome is Outcome.PASS and self.fault is not Fault.NONE:
            object.__setattr__(self, "fault", Fault.NONE)


@dataclass(frozen=True)
class ScoredCheck:
    """A `CheckResult` with the points the rubric gives it."""

    result: CheckResult
    points: float
    max_points: float
    required: bool
