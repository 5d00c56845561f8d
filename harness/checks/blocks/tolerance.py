"""When a float32 result counts as right: within a small multiple of torch's own float32 error.

A block computed in float32 can never match the exact (float64) answer; how far off a correct one is
depends on the shape (a convolution sums C·kh·kw products per output, a weight gradient N·H·W) and on
the summation order, so a fixed `allclose(rtol, atol)` either fails correct unfold-based convolutions
(the 2022 preliminary script did) or lets wrong ones through. Instead, for each quantity:

    error   = max |student - exact|                   (exact: float64 torch on the same float32 data)
    allowed = K · max |torch32 - exact| + FLOOR_ULPS · eps32 · max |exact|

with torch32 the same computation by torch in float32. K = 16 leaves room for a different summation
order (measured on unfold/matmul and per-tap implementations, see tests/test_blocks_tolerance.py);
the floor covers results torch gets exactly right (ReLU, upsampling) where a correct block may still be
off by a rounding. A wrong formula is off by far more: a missing bias, a flipped kernel, a wrong
padding or a gradient that is not accumulated give errors of order max |exact| itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

K = 16.0
"""How many times torch's own float32 error a correct float32 block may be off."""

FLOOR_ULPS = 4.0
"""The absolute floor, in float32 machine epsilons of the largest exact value."""

EPS32 = torch.finfo(torch.float32).eps


@dataclass(frozen=True)
class Comparison:
    """One quantity (an output, a gradient) of a student's block against the exact value.

    `abs_error` is max |student - exact| (inf when the student's has NaN or infinity where the exact
    value is finite); `rel_error` is that divided by max |exact|; `allowed` is the tolerance above.
    """

    abs_error: float
    rel_error: float
    allowed: float

    @property
    def passed(self) -> bool:
        return self.abs_error <= self.allowed

    @property
    def finite(self) -> bool:
        return math.isfinite(self.abs_error)

    def as_data(self) -> dict[str, float | None]:
        """JSON-ready numbers (None stands for a non-finite error)."""
        return {
            "abs": self.abs_error if self.finite else None,
            "rel": self.rel_error if math.isfinite(self.rel_error) else None,
            "allowed": self.allowed,
        }


def compare(student: torch.Tensor, exact: torch.Tensor, torch32: torch.Tensor) -> Comparison:
    """`student` (any float dtype) against `exact` (float64), with torch32 calibrating the tolerance.

    The shapes must already agree (a shape mismatch is reported as such, not as an error size).
    """
    exact = exact.to(torch.float64)
    scale = exact.abs().max().item() if exact.numel() else 0.0
    torch_error = _max_abs(torch32.to(torch.float64) - exact)
    difference = student.to(torch.float64) - exact
    error = _max_abs(difference) if bool(torch.isfinite(difference).all()) else math.inf
    allowed = K * torch_error + FLOOR_ULPS * EPS32 * scale
    return Comparison(error, error / scale if scale > 0 else error, allowed)


def _max_abs(values: torch.Tensor) -> float:
    return values.abs().max().item() if values.numel() else 0.0
