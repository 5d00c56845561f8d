"""Tiny course-format data for the model-level checks' tests: smooth images plus Gaussian noise.

Smooth images (a 4x4 random grid, bilinearly upsampled to 32x32) are what a 3x3 blur denoises well, so
a fixture with a blur for bestmodel.pth beats the noisy input by several dB: the pass and fail
thresholds of the PSNR checks are exercised on data whose answer is known.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.nn.functional import interpolate

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
