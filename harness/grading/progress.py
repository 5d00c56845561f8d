"""The progress bar of `harness grade` on stderr: done / total, the rate and ETA, failures so far."""

from __future__ import annotations

import sys

from tqdm import tqdm

from harness.grading.records import GradedSubmission


class ClassProgress:
    """A tqdm bar fed by `grade_class`'s `on_start` and `on_graded` callbacks; silent when disabled."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.failed = 0
        self._bar: tqdm | None = None

    def start(self, total: int, reused: int) -> None:
        self._bar = tqdm(
            total=total,
            initial=reused,
            desc="grading",
            unit="submission",
            file=sys.stderr,
            disable=not self.enabled,
            dynamic_ncols=True,
        )

    def graded(self, record: GradedSubmission) -> None:
        summary = record.report["summary"]
        if summary["needs_rerun"] or not summary["passed_required"]:
            self.failed += 1
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.failed} failed so far", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
