"""What every check group is given: the submission, the data, the rubric, the seed and child limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.rubric import Rubric
from harness.sandbox import Limits
from harness.submission import Submission


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
