"""32×32 thumbnails of whole scenes, cut from source photographs without materialising any crop.

A thumbnail is a square crop of side `32·f` source pixels (`f` the shrink factor), seen as a 32×32 grid
of `f×f` blocks, shown under one of the 8 symmetries of the square (flips and quarter turns). Two things
are read from a block:

- its mean, the area-averaged (anti-aliased) downscale: `clean[c,r,s] = (1/f²)·Σ_{block} photo[c,·,·]`,
  computed from a summed-area table in four look-ups per pixel whatever `f` is;
- one of its pixels, chosen uniformly and independently per block (the same pixel in every channel):
  point-sampled downscaling at a random sub-pixel position. Its expectation is exactly the block mean.

Everything is vectorised over a batch of crops, with indices into flat tensors holding every photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from harness.photos import Photo

SIZE = 32
"""Side of a thumbnail, in pixels."""

SYMMETRIES = 8
"""The symmetries of the square: identity or transpose, each with or without a row and a column flip."""


def _symmetry_grids() -> tuple[Tensor, Tensor]:
    """`rows[t], cols[t]` (each `8×32×32`): the block shown at output pixel `(r, s)` under symmetry `t`."""
    r = torch.arange(SIZE).view(SIZE, 1).expand(SIZE, SIZE)
    s = torch.arange(SIZE).view(1, SIZE).expand(SIZE, SIZE)
    rows, cols = [], []
    for transpose in (False, True):
        base_r, base_c = (s, r) if transpose else (r, s)
        for flip_r in (False, True):
            for flip_c in (False, True):
                rows.append(SIZE - 1 - base_r if flip_r else base_r)
                cols.append(SIZE - 1 - base_c if flip_c else base_c)
    return torch.stack(rows), torch.stack(cols)


@dataclass(frozen=True)
class Crops:
    """A batch of `N` thumbnails: photo index, shrink factor, top-left corner and symmetry, each `N` int64."""

    photo: Tensor
    factor: Tensor
    top: Tensor
    left: Tensor
    symmetry: Tensor

    def __len__(self) -> int:
        return self.photo.numel()


class PhotoAtlas:
    """Every photo's pixels and summed-area table in flat tensors, for batched gathers across photos.

    The summed-area table of a photo is `S[c, y, x] = Σ_{y'<y, x'<x} photo[c, y', x']`, `3×(H+1)×(W+1)`
    int64 (exact), so a block sum is `S[y+f, x+f] − S[y, x+f] − S[y+f, x] + S[y, x]`.
    """

    def __init__(self, photos: list[Photo]) -> None:
        self.heights = torch.tensor([photo.height for photo in photos])
        self.widths = torch.tensor([photo.width for photo in photos])
        self.pixels = torch.cat([photo.pixels.reshape(-1) for photo in photos])
        tables = []
        for photo in photos:
            table = torch.zeros(3, photo.height + 1, photo.width + 1, dtype=torch.int64)
            table[:, 1:, 1:] = photo.pixels.long().cumsum(1).cumsum(2)
            tables.append(table.reshape(-1))
        self.sums = torch.cat(tables)
        pixel_counts = 3 * self.heights * self.widths
        sum_counts = 3 * (self.heights + 1) * (self.widths + 1)
        self.pixel_offsets = pixel_counts.cumsum(0) - pixel_counts
        self.sum_offsets = sum_counts.cumsum(0) - sum_counts
        self.rows, self.cols = _symmetry_grids()

    def largest_factor(self) -> Tensor:
        """Per photo, the largest shrink factor whose crop fits: `⌊min(H, W) / 32⌋`."""
        return torch.minimum(self.heights, self.widths) // SIZE

    def draw(
        self, photo_ids: Tensor, count: int, factors: tuple[int, int], generator: torch.Generator
    ) -> Crops:
        """`count` crops of photos drawn uniformly from `photo_ids`, with a factor uniform in `factors`
        (inclusive, capped at what each photo fits), a uniform position and a uniform symmetry."""
        low, high = factors
        photo = photo_ids[torch.randint(len(photo_ids), (count,), generator=generator)]
        cap = self.largest_factor()[photo]
        factor = torch.randint(low, high + 1, (count,), generator=generator)
        factor = torch.minimum(factor, cap)
        room_y = self.heights[photo] - SIZE * factor + 1
        room_x = self.widths[photo] - SIZE * factor + 1
        top = (torch.rand(count, generator=generator, dtype=torch.float64) * room_y).long()
        left = (torch.rand(count, generator=generator, dtype=torch.float64) * room_x).long()
        symmetry = torch.randint(SYMMETRIES, (count,), generator=generator)
        return Crops(photo, factor, top, left, symmetry)

    def _block_corners(self, crops: Crops) -> tuple[Tensor, Tensor]:
        """Source row and column of each block's top-left pixel, `N×32×32`, after the crop's symmetry."""
        factor = crops.factor.view(-1, 1, 1)
        y = crops.top.view(-1, 1, 1) + self.rows[crops.symmetry] * factor
        x = crops.left.view(-1, 1, 1) + self.cols[crops.symmetry] * factor
        return y, x

    def block_means(self, crops: Crops) -> Tensor:
        """The clean thumbnails: each block's mean, `N×3×32×32` float64 in [0, 255]."""
        y, x = self._block_corners(crops)
        f = crops.factor.view(-1, 1, 1, 1)
        y, x = y.unsqueeze(1), x.unsqueeze(1)
        channel = torch.arange(3).view(1, 3, 1, 1)
        row_stride = (self.widths[crops.photo] + 1).view(-1, 1, 1, 1)
        plane = (self.heights[crops.photo] + 1).view(-1, 1, 1, 1) * row_stride
        base = self.sum_offsets[crops.photo].view(-1, 1, 1, 1) + channel * plane

        def at(row: Tensor, col: Tensor) -> Tensor:
            return self.sums[base + row * row_stride + col]

        total = at(y + f, x + f) - at(y, x + f) - at(y + f, x) + at(y, x)
        return total.double() / (f * f).double()

    def block_picks(self, crops: Crops, generator: torch.Generator) -> Tensor:
        """One uniformly chosen source pixel per block (the same in all channels), `N×3×32×32` uint8."""
        y, x = self._block_corners(crops)
        f = crops.factor.view(-1, 1, 1).double()
        y = y + (torch.rand(y.shape, generator=generator, dtype=torch.float64) * f).long()
        x = x + (torch.rand(x.shape, generator=generator, dtype=torch.float64) * f).long()
        width = self.widths[crops.photo].view(-1, 1, 1, 1)
        plane = (self.heights[crops.photo] * self.widths[crops.photo]).view(-1, 1, 1, 1)
        channel = torch.arange(3).view(1, 3, 1, 1)
        index = self.pixel_offsets[crops.photo].view(-1, 1, 1, 1) + channel * plane
        index = index + y.unsqueeze(1) * width + x.unsqueeze(1)
        return self.pixels[index]
