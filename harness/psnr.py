"""The two PSNR definitions the course uses, so every report can say which one it shows.

Both take batches `N×C×H×W` on the scale `[0, data_range]` (255 for the course's uint8 data) and rescale
them to `[0, 1]` first. On the same data they differ by about 1 dB: the grading script averages
per-image PSNRs, which weighs easy (flat) images more than one pooled MSE does.

- grading (the course's grading script): `mean_i( -10·log10(max(mse_i, 1e-10)) )` with
  `mse_i = mean over C,H,W of (x_i − y_i)²`. The course's script has no floor and returns `inf` for an
  image without error; here such an image counts as 100 dB instead, so a mean stays finite and never NaN.
  100 dB lies above any non-zero error of 8-bit data on a 32×32×3 image (one level off once: 82.9 dB).
- statement (the assignment's simplified formula): `-10·log10(mse + 1e-8)` with `mse` pooled over the
  whole batch. An exact output scores 80 dB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

PER_IMAGE_MSE_FLOOR = 1e-10
"""The grading metric's per-image MSE floor: a zero-error image scores 100 dB instead of `inf`."""

STATEMENT_EPSILON = 1e-8
"""The statement's `+ 1e-8` inside the logarithm."""


def _scaled_squared_error(output: Tensor, target: Tensor, data_range: float) -> Tensor:
    if output.shape != target.shape:
        raise ValueError(
            f"output shape {tuple(output.shape)} differs from target shape {tuple(target.shape)}"
        )
    if output.dim() != 4:
        raise ValueError(f"PSNR expects N×C×H×W batches, got shape {tuple(output.shape)}")
    difference = (output.double() - target.double()) / data_range
    return difference.pow(2)


def psnr_grading(output: Tensor, target: Tensor, data_range: float = 255.0) -> float:
    """The course grading script's PSNR: per-image PSNR on [0, 1], averaged over images, in dB."""
    per_image_mse = _scaled_squared_error(output, target, data_range).mean(dim=(1, 2, 3))
    return float((-10.0 * per_image_mse.clamp(min=PER_IMAGE_MSE_FLOOR).log10()).mean())


def psnr_statement(output: Tensor, target: Tensor, data_range: float = 255.0) -> float:
    """The assignment statement's PSNR: `-10·log10(mse + 1e-8)` of the MSE over the whole batch, in dB."""
    mse = _scaled_squared_error(output, target, data_range).mean()
    return float(-10.0 * (mse + STATEMENT_EPSILON).log10())


@dataclass(frozen=True)
class Metric:
    """A PSNR definition with the one line a report prints to name it."""

    name: str
    description: str
    compute: Callable[..., float]

    def __call__(self, output: Tensor, target: Tensor, data_range: float = 255.0) -> float:
        return self.compute(output, target, data_range)


METRICS: dict[str, Metric] = {
    "grading": Metric(
        "grading",
        "course grading script: mean over images of per-image PSNR on [0,1] (zero error counts as 100 dB)",
        psnr_grading,
    ),
    "statement": Metric(
        "statement",
        "assignment statement: -10·log10(MSE over the whole batch on [0,1] + 1e-8)",
        psnr_statement,
    ),
}
