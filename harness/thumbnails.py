"""32×32 thumbnails of whole scenes, cut from source photographs without materialising any crop.

A thumbnail is a square crop of side `32·f` source pixels (`f` the shrink factor), seen as a 32×32 grid
of `f×f` blocks, shown under one of the 8 symmetries of the square (flips and quarter turns). Two things
are read from a block:

- its mean, the area-averaged (anti-aliased) downscale: `clean[c,r,s] = (1/f²)·Σ_{block} photo[c,·,·]`,
  computed from a summed-area table, at a cost that does not grow with `f`;
- one of its pixels, chosen uniformly and independently per block (the same pixel in every channel):
  point-sampled downscaling at a random sub-pixel position. Its expectation is exactly the block mean.

Both are read in the photo's orientation; `orient` then applies each crop's symmetry to the uint8
results. Everything is vectorised over a batch of crops, with indices into flat tensors of every photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from harness.errors import DataError
from harness.photos import Photo

SIZE = 32
"""Side of a thumbnail, in pixels."""

SYMMETRIES = 8
"""The symmetries of the square: identity or transpose, each with or without a row and a column flip."""


def _symmetry_grids() -> tuple[Tensor, Tensor]:
    """`rows[t], cols[t]` (each `8×32×32`): the pixel shown at output pixel `(r, s)` under symmetry `t`."""
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


def _gather(flat: Tensor, index: Tensor) -> Tensor:
    """`flat[index]`, through `index_select` (several times faster than advanced indexing on CPU)."""
    return flat.index_select(0, index.reshape(-1)).view(index.shape)


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
    integers (int32 when every sum fits, else int64), so a block sum is
    `S[y+f, x+f] − S[y, x+f] − S[y+f, x] + S[y, x]`, exact.
    """

    def __init__(self, photos: list[Photo]) -> None:
        for photo in photos:
            if min(photo.height, photo.width) < SIZE:
                problem = f"is {photo.width}×{photo.height}, smaller than a {SIZE}×{SIZE} thumbnail"
                raise DataError(None, f"photograph {photo.name} {problem}")
        self.heights = torch.tensor([photo.height for photo in photos])
        self.widths = torch.tensor([photo.width for photo in photos])
        self.pixels = torch.cat([photo.pixels.reshape(-1) for photo in photos])
        largest_sum = 255 * max(photo.height * photo.width for photo in photos)
        exact = torch.int32 if largest_sum < 2**31 else torch.int64
        tables = []
        for photo in photos:
            table = torch.zeros(3, photo.height + 1, photo.width + 1, dtype=exact)
            table[:, 1:, 1:] = photo.pixels.long().cumsum(1).cumsum(2)
            tables.append(table.reshape(-1))
        self.sums = torch.cat(tables)
        pixel_counts = 3 * self.heights * self.widths
        sum_counts = 3 * (self.heights + 1) * (self.widths + 1)
        self.pixel_offsets = pixel_counts.cumsum(0) - pixel_counts
        self.sum_offsets = sum_counts.cumsum(0) - sum_counts
        rows, cols = _symmetry_grids()
        self.orders = (rows * SIZE + cols).view(SYMMETRIES, SIZE * SIZE)

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

    def block_means(self, crops: Crops) -> Tensor:
        """The clean thumbnails: each block's mean, `N×3×32×32` float32 in [0, 255], photo orientation.

        One gather of the 33×33 grid of block corners from the summed-area tables, then differences.
        """
        photo = crops.photo
        f = crops.factor.view(-1, 1, 1, 1)
        stride = (self.widths[photo] + 1).view(-1, 1, 1, 1)
        plane = (self.heights[photo] + 1).view(-1, 1, 1, 1) * stride
        channel = torch.arange(3).view(1, 3, 1, 1)
        corner = torch.arange(SIZE + 1)
        rows = (crops.top.view(-1, 1, 1, 1) + corner.view(1, 1, -1, 1) * f) * stride
        cols = crops.left.view(-1, 1, 1, 1) + corner.view(1, 1, 1, -1) * f
        table = _gather(self.sums, self.sum_offsets[photo].view(-1, 1, 1, 1) + channel * plane + rows + cols)
        strips = table[:, :, :, 1:] - table[:, :, :, :-1]
        return (strips[:, :, 1:] - strips[:, :, :-1]).float() / (f * f).float()

    def block_picks(self, crops: Crops, generator: torch.Generator) -> Tensor:
        """One uniformly chosen source pixel per block (the same in all channels), `N×3×32×32` uint8,
        photo orientation. The offset in a block is `⌊u·f / 2²⁰⌋` with `u` uniform in `0..2²⁰−1`: each
        of the `f` offsets has probability `1/f` to within `f/2²⁰`."""
        photo = crops.photo
        f = crops.factor.view(-1, 1, 1)
        block = torch.arange(SIZE)
        offsets = torch.randint(1 << 20, (2, len(crops), SIZE, SIZE), generator=generator)
        y = block.view(1, -1, 1) * f + ((offsets[0] * f) >> 20)
        x = block.view(1, 1, -1) * f + ((offsets[1] * f) >> 20)
        width = self.widths[photo].view(-1, 1, 1, 1)
        plane = self.heights[photo].view(-1, 1, 1, 1) * width
        first = self.pixel_offsets[photo].view(-1, 1, 1, 1) + crops.top.view(-1, 1, 1, 1) * width
        first = first + crops.left.view(-1, 1, 1, 1) + torch.arange(3).view(1, 3, 1, 1) * plane
        return _gather(self.pixels, first + (y.unsqueeze(1) * width + x.unsqueeze(1)))

    def orient(self, crops: Crops, images: Tensor) -> Tensor:
        """`images` (`N×C×32×32`, photo orientation) shown under each crop's symmetry."""
        count, channels = images.shape[:2]
        order = self.orders[crops.symmetry].view(count, 1, SIZE * SIZE).expand(count, channels, -1)
        return images.reshape(count, channels, -1).gather(2, order).view_as(images)
