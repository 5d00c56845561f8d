"""What every check group is given: the submission, the data, the rubric, the seed and child limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.rubric import Rubric
from harness.sandbox import Limits
from harness.submission import Submission

if TYPE_CHECKING:
    from harness.results import CheckResult


@dataclass(frozen=True)
class CheckContext:
    """The inputs of one `harness check` run, shared read-only by all check groups.

    `reference_dir` is the reference `Miniproject_2` folder, timed in the same run for the timing
    checks' ratios; None turns those ratios off. `threads` is the torch thread count of every child.
    """

    submission: Submission
    train_path: Path
    val_path: Path
    rubric: Rubric
    seed: int
    reference_dir: Path | None
    threads: int = 1

    def limits(self, check_id: str) -> Limits:
        """Child limits for `check_id`, from the rubric (its own entry, its group's, or the default)."""
        configured = self.rubric.limits_for(check_id)
        return Limits(wall_s=configured.wall_s, memory_mb=configured.memory_mb, threads=self.threads)


@dataclass(frozen=True)
class GroupWork:
    """A check group's work cut into `units` that `harness.check`'s scheduler may run at once (each
    mostly waits on its own child), and `combine`, which turns their results, in unit order, into the
    group's. A judge module that offers `work(ctx) -> GroupWork` is scheduled unit by unit; one that
    only has `run(ctx)` is one unit."""

    units: Sequence[Callable[[], list[CheckResult]]]
    combine: Callable[[list[CheckResult]], list[CheckResult]] = list
