"""What the store keeps of one graded submission: the record that `harness grade` writes and that every
export, the class report and `harness diff` read (they never re-grade); and what it did not grade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GradedSubmission:
    """One submission of a class, graded once.

    `key` identifies the submission within its class (its path relative to the class folder, e.g.
    `Jane Doe_1234567_assignsubmission_file_/Proj_123456_234567.zip`). `participant_id` is Moodle's
    participant number taken from the folder name (None outside Moodle's layout); `scipers` are the
    SCIPER numbers of its `Proj_SCIPER1_SCIPER2_SCIPER3` folder name (empty when it has none).
    `report` is the report JSON document of `harness.report.report_to_json`, exactly as `harness check`
    writes it. The hashes are what decides whether a later run may reuse this record: the submission's
    files, the rubric, the data and the harness version.
    """

    key: str
    name: str
    participant_id: str | None
    scipers: tuple[str, ...]
    report: Mapping[str, Any]
    submission_sha256: str
    rubric_sha256: str
    data_sha256: str
    harness_version: str
    graded_at: str
    machine: str
    wall_s: float
    run_id: int = 0
    notes: tuple[str, ...] = field(default=())
    """Discovery's remarks on this submission (e.g. "two uploads: the newest graded")."""


@dataclass(frozen=True)
class NotGraded:
    """Something in the class folder that `harness grade` did not grade, and why (an empty participant
    folder, a file that is no zip, a zip that cannot be unpacked, an upload superseded by a newer one)."""

    key: str
    """Its path relative to the class folder, as `GradedSubmission.key`."""
    reason: str
