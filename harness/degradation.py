"""How a noisy thumbnail is made from its clean one: the degradations `harness data make` offers, by name.

The clean thumbnail is always the area-averaged downscale of a crop (`harness.thumbnails`): block means
over `f×f` blocks, `f` drawn uniformly from `min_factor..max_factor`. A degradation returns the noisy
version as float32 on the 0-255 scale; the generator rounds it and clips it to uint8. Each training image
is degraded twice, independently (Noise2Noise needs two draws whose mean is the clean image).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from harness.errors import DataError
from harness.psnr import psnr_grading
from harness.thumbnails import Crops, PhotoAtlas

CALIBRATION_CROPS = 256
"""Crops per photo that point sampling measures its photo's raw noise level on."""


class Degradation:
    """A noise model bound to a set of photos. Subclasses give `name`, `defaults` and `degrade`."""

    name: ClassVar[str]
    defaults: ClassVar[Mapping[str, float]]

    def __init__(self, atlas: PhotoAtlas, generator: torch.Generator, **params: float) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults))
            raise DataError(
                None, f"degradation {self.name!r} has no parameter {unknown[0]!r} (it has {known})"
            )
        self.params: dict[str, float] = {**self.defaults, **params}
        low, high = int(self.params["min_factor"]), int(self.params["max_factor"])
        if not 1 <= low <= high:
            raise DataError(None, f"shrink factors need 1 <= min_factor <= max_factor, got {low}..{high}")
        self.factors = (low, high)
        self.atlas = atlas

    def degrade(self, crops: Crops, clean: Tensor, generator: torch.Generator) -> Tensor:
        """The noisy thumbnails, `N×3×32×32` float32 on 0-255 (before rounding and clipping), in the
        photos' orientation like `clean` (the block means of `crops`)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What a manifest records about this degradation: name, formula and every parameter."""
        return {"name": self.name, "formula": self.formula(), "params": dict(self.params)}

    @classmethod
    def formula(cls) -> str:
        return " ".join((cls.__doc__ or "").split())


class PointSample(Degradation):
    """noisy[c,r,s] = clean[c,r,s] + g_p·(photo_p[c, y+u, x+v] − clean[c,r,s]), with (u, v) uniform in
    the f×f block of output pixel (r, s), drawn independently per pixel and per noisy version, shared by
    the channels; the photo's gain g_p = 10^((P_p − target_psnr)/20), clipped to [1/4, 4], where P_p is the
    photo's grading-metric PSNR of plain point sampling (g = 1) on 256 calibration crops."""

    name = "pointsample"
    defaults: ClassVar[Mapping[str, float]] = {"min_factor": 8, "max_factor": 12, "target_psnr": 20.72}
    GAIN_LIMITS = (0.25, 4.0)

    def __init__(self, atlas: PhotoAtlas, generator: torch.Generator, **params: float) -> None:
        super().__init__(atlas, generator, **params)
        self.raw_psnr = torch.empty(len(atlas.heights), dtype=torch.float64)
        for photo in range(len(atlas.heights)):
            crops = atlas.draw(torch.tensor([photo]), CALIBRATION_CROPS, self.factors, generator)
            clean = atlas.block_means(crops)
            self.raw_psnr[photo] = psnr_grading(atlas.block_picks(crops, generator), clean)
        decibels = self.raw_psnr - self.params["target_psnr"]
        self.gain = torch.pow(10.0, decibels / 20).clamp(*self.GAIN_LIMITS)

    def degrade(self, crops: Crops, clean: Tensor, generator: torch.Generator) -> Tensor:
        picks = self.atlas.block_picks(crops, generator).float()
        gain = self.gain[crops.photo].float().view(-1, 1, 1, 1)
        return clean + gain * (picks - clean)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "raw_psnr_per_photo": [round(float(value), 3) for value in self.raw_psnr],
            "gain_per_photo": [round(float(value), 4) for value in self.gain],
        }


class Gaussian(Degradation):
    """noisy[c,r,s] = clean[c,r,s] + sigma·z[c,r,s], z i.i.d. standard normal (on the 0-255 scale)."""

    name = "gaussian"
    defaults: ClassVar[Mapping[str, float]] = {"min_factor": 8, "max_factor": 12, "sigma": 23.4}

    def degrade(self, crops: Crops, clean: Tensor, generator: torch.Generator) -> Tensor:
        noise = torch.randn(clean.shape, generator=generator)
        return clean + self.params["sigma"] * noise


DEGRADATIONS: dict[str, type[Degradation]] = {kind.name: kind for kind in (PointSample, Gaussian)}
"""Every degradation by its name on the command line. The default is `pointsample`."""

DEFAULT_DEGRADATION = PointSample.name


def degradation_class(name: str) -> type[Degradation]:
    """The degradation called `name`, or a one-line error listing the known ones."""
    try:
        return DEGRADATIONS[name]
    except KeyError:
        raise DataError(None, f"unknown degradation {name!r} (known: {', '.join(DEGRADATIONS)})") from None
