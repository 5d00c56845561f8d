"""Hand-made check results and reports shared by the report and table tests (no submission is run)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import torch

from harness.report import Report, build_report
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import Rubric, load_rubric
from harness.submission import Submission, SubmissionFile

SUBMISSION = Submission(
    source=Path("/submissions/Proj_123456_654321.zip"),
    package_dir=Path("/tmp/work/Miniproject_2"),
    name="Proj_123456_654321",
    proj_name="Proj_123456_654321",
    files=(
        SubmissionFile("model.py", 1234, "a" * 64),
        SubmissionFile("__init__.py", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        SubmissionFile("bestmodel.pth", 5678, "b" * 64),
    ),
)


def samples(count: int = 2, height: int = 32, width: int = 32) -> dict[str, torch.Tensor]:
    """Seeded random uint8 noisy/output/clean images, K x 3 x H x W each, all different."""
    generator = torch.Generator().manual_seed(0)
    return {
        key: torch.randint(0, 256, (count, 3, height, width), generator=generator, dtype=torch.uint8)
        for key in ("noisy", "output", "clean")
    }


def results(epoch_s: float = 420.0, durations: float = 1.0) -> list[CheckResult]:
    """A plausible, mostly passing battery: a conv with 3 failing configurations of 40, an adapter ReLU,
    a NaN error in the details, a set-up failure, PSNR and timing figures."""
    return [
        CheckResult(
            "timing.train-epoch",
            Category.TIMING,
            Outcome.PASS,
            f"estimated epoch {epoch_s} s",
            details={"epoch_s": epoch_s, "limit_s": 1800.0},
            duration_s=durations,
        ),
        CheckResult(
            "layout.files",
            Category.LAYOUT,
            Outcome.PASS,
            "all files present",
            details={"listing_seconds": durations, "files": [{"name": "model.py", "read_s": durations}]},
            duration_s=durations,
        ),
        CheckResult(
            "blocks.conv2d",
            Category.BLOCKS,
            Outcome.FAIL,
            "Conv2d(3, 8, kernel_size=5) crashed: RuntimeError: shape | mismatch (at model.py:42)",
            details={"passed": 37, "total": 40, "max_abs_error": float("nan")},
            score=37 / 40,
            duration_s=durations,
        ),
        CheckResult(
            "blocks.relu",
            Category.BLOCKS,
            Outcome.PASS,
            "matches torch through the adapter",
            details={"adapter": True},
            duration_s=durations,
        ),
        CheckResult(
            "rules.static",
            Category.RULES,
            Outcome.ERROR,
            "test data could not be read",
            fault=Fault.SETUP,
            duration_s=durations,
        ),
        CheckResult(
            "psnr.pretrained",
            Category.PSNR,
            Outcome.PASS,
            "PSNR 24.31 dB",
            details={"psnr_db": 24.31, "metric": "grading", "noisy_psnr_db": 20.72},
            duration_s=durations,
            artifacts={"samples": samples()},
        ),
    ]


def report(
    check_results: list[CheckResult] | None = None,
    rubric: Rubric | None = None,
    data_files: tuple[Path, ...] = (),
    started_at: datetime = datetime(2022, 5, 27, 12, 0, tzinfo=timezone.utc),
    wall_s: float = 12.5,
    network_isolated: bool | None = True,
    reference_dir: Path | None = None,
) -> Report:
    return build_report(
        SUBMISSION,
        results() if check_results is None else check_results,
        rubric or load_rubric("ee559-2022"),
        data_files=list(data_files),
        seed=0,
        started_at=started_at,
        wall_s=wall_s,
        network_isolated=network_isolated,
        reference_dir=reference_dir,
    )
