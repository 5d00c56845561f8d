"""A PNG grid of val samples, one row per image: noisy | the submission's output | clean.

Lets a grader see at a glance what a PSNR figure means (a blurred output, a colour shift, a [0, 1]
output that renders black). The images come from the PSNR check's `artifacts["samples"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from PIL import Image

COLUMNS = ("noisy", "output", "clean")
"""The grid's columns, left to right, and the keys of `artifacts["samples"]`."""
GAP_PX = 2
"""White space between tiles, in output pixels."""
BACKGROUND = (255, 255, 255)


def sample_grid(samples: Mapping[str, torch.Tensor], scale: int = 4) -> Image.Image:
    """Tile K samples into an RGB image of K rows x 3 columns (`COLUMNS`), each tile upscaled `scale`x.

    Each of `samples["noisy"|"output"|"clean"]` is a uint8 tensor K x 3 x H x W, all of one shape.
    Tile (row r, column c) has its top-left corner at (x, y) = (c·(W·scale + GAP_PX), r·(H·scale + GAP_PX)),
    and each input pixel becomes a scale x scale block (nearest neighbour: no smoothing that would hide
    noise).
    """
    tiles = _validated(samples)
    count, _, height, width = tiles[0].shape
    tile_h, tile_w = height * scale, width * scale
    grid = Image.new(
        "RGB",
        (len(COLUMNS) * tile_w + (len(COLUMNS) - 1) * GAP_PX, count * tile_h + (count - 1) * GAP_PX),
        BACKGROUND,
    )
    for column, images in enumerate(tiles):
        for row in range(count):
            pixels = images[row].permute(1, 2, 0).contiguous()
            tile = Image.frombytes("RGB", (width, height), bytes(pixels.flatten().tolist()))
            tile = tile.resize((tile_w, tile_h), Image.Resampling.NEAREST)
            grid.paste(tile, (column * (tile_w + GAP_PX), row * (tile_h + GAP_PX)))
    return grid


def write_sample_grid(samples: Mapping[str, torch.Tensor], path: Path, scale: int = 4) -> Path:
    """Write `sample_grid(samples, scale)` as a PNG file at `path`; returns `path`."""
    sample_grid(samples, scale).save(path, format="PNG")
    return path


def _validated(samples: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
    missing = [key for key in COLUMNS if key not in samples]
    if missing:
        raise ValueError(f"samples lack {', '.join(missing)} (need {', '.join(COLUMNS)})")
    tiles = [samples[key] for key in COLUMNS]
    shape = tiles[0].shape
    for key, images in zip(COLUMNS, tiles, strict=True):
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
            raise ValueError(f"samples[{key!r}] must be a uint8 tensor")
        if images.dim() != 4 or images.shape[1] != 3 or images.shape[0] == 0 or images.shape != shape:
            raise ValueError(f"samples[{key!r}] has shape {tuple(images.shape)}; need K x 3 x H x W for all")
    return tiles
