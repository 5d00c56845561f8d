"""A small graded class for the exports' tests: real `harness check` reports of a few fixtures.

Each fixture is graded once per test session by `check_submission` (restricted to the check groups that
show its fault, to stay fast) on tiny course data, and wrapped in the `GradedSubmission` the store keeps,
under a Moodle folder name (participant id) and a `Proj_` name (SCIPERs) of its own.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.check import check_submission
from harness.grading.records import GradedSubmission
from harness.report import report_to_json
from tests.model_fixtures import REFERENCE, SUBMISSIONS, tight_rubric, write_course_data

LAYOUT, RULES, RUNTIME, API = "layout", "rules", "runtime-rules", "api"
BLOCKS, TIMING, PSNR = "blocks", "timing", "psnr"
EVERY_GROUP = (LAYOUT, RULES, RUNTIME, API, BLOCKS, TIMING, PSNR)


@dataclass(frozen=True)
class Member:
    """A fixture of the class: where its code is, the groups it is graded with, its Moodle identity."""

    path: Path
    groups: tuple[str, ...]
    full_name: str
    participant_id: str
    scipers: tuple[str, ...]

    @property
    def folder(self) -> str:
        """The folder name of Moodle's submissions download."""
        return f"{self.full_name}_{self.participant_id}_assignsubmission_file_"

    @property
    def key(self) -> str:
        return f"{self.folder}/Proj_{'_'.join(self.scipers)}"


MEMBERS = (
    Member(REFERENCE, EVERY_GROUP, "Ada Lovelace", "1000001", ("100001", "100002")),
    Member(
        SUBMISSIONS / "rules_hidden_conv2d", (LAYOUT, RULES, RUNTIME), "Alan Turing", "1000002", ("100003",)
    ),
    Member(SUBMISSIONS / "model_nan", (LAYOUT, API, PSNR), "Grace Hopper", "1000003", ("100004", "100005")),
    Member(SUBMISSIONS / "blocks_2022_flaws", (BLOCKS,), "=cmd|' /C calc'!A0", "1000004", ("100006",)),
    Member(SUBMISSIONS / "model_no_bestmodel", (LAYOUT, API), "Edsger Dijkstra", "1000005", ("100007",)),
)
"""The reference (every group), a hidden F.conv2d (forbidden), NaN outputs, the 2022 blocks' flaws
(adapted APIs), no bestmodel.pth; the fourth student's name is a spreadsheet formula."""


@cache
def graded_class() -> tuple[GradedSubmission, ...]:
    """`MEMBERS` graded once per test session (about 15 s)."""
    with tempfile.TemporaryDirectory(prefix="exports-class-") as data_dir:
        return tuple(grade_members(Path(data_dir), MEMBERS))


def grade_members(data_dir: Path, members: Sequence[Member], run_id: int = 1) -> list[GradedSubmission]:
    """Grade `members` on tiny data written to `data_dir` and return their store records."""
    write_course_data(data_dir, train=64, val=16)
    rubric = tight_rubric(wall_s=15, memory_mb=1536)
    graded = []
    for member in members:
        report = check_submission(member.path, data_dir, rubric, groups=member.groups, reference_dir=None)
        document = report_to_json(report)
        graded.append(
            GradedSubmission(
                key=member.key,
                name=f"Proj_{'_'.join(member.scipers)}",
                participant_id=member.participant_id,
                scipers=member.scipers,
                report=document,
                submission_sha256=hashlib.sha256(
                    "".join(f"{f.path}:{f.sha256}\n" for f in report.submission.files).encode()
                ).hexdigest(),
                rubric_sha256=document["rubric"]["sha256"],
                data_sha256=document["reproducibility"]["data_files"]["val_data.pkl"],
                harness_version=document["reproducibility"]["harness_version"],
                graded_at=document["run"]["started_at"],
                machine=document["reproducibility"]["cpu_model"],
                wall_s=document["run"]["wall_s"],
                run_id=run_id,
            )
        )
    return graded
