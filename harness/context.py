"""What every check group is given: the submission, the data, the rubric, the seed and child limits."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.rubric import Rubric
from harness.sandbox import ChildRun, Limits, Recording
from harness.submission import Submission

UNFINISHED = ("error", "timeout", "oom", "crash", "killed")
"""Child statuses that say the probe did not return: import failed, refused, killed or dead."""


@dataclass(frozen=True)
class GradedRecording:
    """What the recorder saw in one graded child of check group `source`; `finished` when its probe
    returned (then an incomplete recording can only mean the submission broke the recorder)."""

    source: str
    recording: Recording
    finished: bool


_UNSEEN = GradedRecording("", Recording((), False), False)


@dataclass(frozen=True)
class CheckContext:
    """The inputs of one `harness check` run, shared read-only by all check groups.

    `reference_dir` is the reference `Miniproject_2` folder, timed in the same run for the timing
    checks' ratios; None turns those ratios off. `threads` is the torch thread count of every child.
    `recordings` collects what the recorder saw in each graded child (`note_recordings`), for
    `rules.runtime` to judge beside its own run.
    """

    submission: Submission
    train_path: Path
    val_path: Path
    rubric: Rubric
    seed: int
    reference_dir: Path | None
    threads: int = 1
    recordings: list[GradedRecording] = field(default_factory=list)
    _recordings_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def limits(self, check_id: str) -> Limits:
        """Child limits for `check_id`, from the rubric (its own entry, its group's, or the default)."""
        configured = self.rubric.limits_for(check_id)
        return Limits(wall_s=configured.wall_s, memory_mb=configured.memory_mb, threads=self.threads)

    def note_recordings(self, source: str, runs: Iterable[ChildRun]) -> None:
        """Keep the recording of each distinct child among `runs` (the steps of one child share one),
        with `source` naming the check group."""
        kept: dict[int, GradedRecording] = {}
        for run in runs:
            if run.recording is not None:
                finished = run.status not in UNFINISHED or kept.get(id(run.recording), _UNSEEN).finished
                kept[id(run.recording)] = GradedRecording(source, run.recording, finished)
        with self._recordings_lock:
            self.recordings.extend(kept.values())
