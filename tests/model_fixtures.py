"""Fixtures of the model-level checks' tests: tiny course-format data, contexts for fixture submissions.

The data are smooth images (a 4x4 random grid, bilinearly upsampled to 32x32) plus Gaussian noise: what
a 3x3 blur denoises well, so a fixture with a blur for bestmodel.pth beats the noisy input by several dB,
and the PSNR checks' pass and fail thresholds are exercised on data whose answer is known.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import torch
from torch.nn.functional import interpolate

from harness.context import CheckContext
from harness.rubric import ChildLimits, Rubric, load_rubric
from harness.submission import resolve_submission

SUBMISSIONS = Path(__file__).parent / "submissions"
REFERENCE = Path(__file__).resolve().parents[1] / "Miniproject_2"

NOISE_SIGMA = 25.0


def smooth_images(count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` x 3 x 32 x 32 float images in 0-255 with no detail finer than 8 pixels."""
    coarse = torch.rand(count, 3, 4, 4, generator=generator) * 255
    return interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=True)


def noisy(clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """`clean` plus N(0, 25²) noise, rounded to uint8."""
    noise = torch.randn(clean.shape, generator=generator) * NOISE_SIGMA
    return (clean + noise).clamp(0, 255).round().to(torch.uint8)


def write_course_data(folder: Path, train: int, val: int, seed: int = 0) -> tuple[Path, Path]:
    """Write train_data.pkl (two noisy versions) and val_data.pkl (noisy, clean) into `folder`."""
    generator = torch.Generator().manual_seed(seed)
    train_clean, val_clean = smooth_images(train, generator), smooth_images(val, generator)
    folder.mkdir(parents=True, exist_ok=True)
    train_path, val_path = folder / "train_data.pkl", folder / "val_data.pkl"
    torch.save((noisy(train_clean, generator), noisy(train_clean, generator)), train_path)
    torch.save((noisy(val_clean, generator), val_clean.round().to(torch.uint8)), val_path)
    return train_path, val_path


def tight_rubric(wall_s: float = 20, memory_mb: int = 2048) -> Rubric:
    """The shipped rubric with every child limited to `wall_s` and `memory_mb`, so a fault shows fast."""
    return replace(
        load_rubric("ee559-2022"),
        limits=MappingProxyType({}),
        default_limits=ChildLimits(wall_s=wall_s, memory_mb=memory_mb),
    )


def context_for(
    fixture: str,
    workdir: Path,
    data: tuple[Path, Path],
    rubric: Rubric | None = None,
    reference_dir: Path | None = None,
) -> CheckContext:
    """A `CheckContext` for `tests/submissions/<fixture>`, copied into `workdir`, on `data` (train, val)."""
    submission = resolve_submission(SUBMISSIONS / fixture, workdir)
    return CheckContext(submission, data[0], data[1], rubric or tight_rubric(), 0, reference_dir)


def reference_variant(fixture: str, folder: Path) -> Path:
    """`folder/Miniproject_2`: the reference package with its `model.py` renamed `reference_model.py`
    and `tests/submissions/<fixture>/Miniproject_2/model.py` (which subclasses its `Model`) beside it,
    so a fixture that changes one method of the reference does not copy the reference into the tests."""
    package = folder / "Miniproject_2"
    shutil.copytree(REFERENCE, package)
    (package / "model.py").rename(package / "reference_model.py")
    shutil.copy(SUBMISSIONS / fixture / "Miniproject_2" / "model.py", package / "model.py")
    return package
