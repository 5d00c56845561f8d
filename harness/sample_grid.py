"""A PNG grid of val samples, one row per image: noisy | the submission's output | clean.

Lets a grader see at a glance what a PSNR figure means (a blurred output, a colour shift, a [0, 1]
output that renders black). A header names the columns, and under the noisy and the output tile of each
row stands that image's PSNR against the clean one (the grading script's per-image PSNR), so a grader
sees which rows the mean hides. The images come from the PSNR check's `artifacts["samples"]`, picked by
`grid_samples` to differ from each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from harness.psnr import psnr_grading

COLUMNS = ("noisy", "output", "clean")
"""The grid's columns, left to right, and the keys of `artifacts["samples"]`."""
CAPTIONS = {"noisy": "noisy_db", "output": "output_db"}
"""The columns captioned with a per-image PSNR, and the key of those figures in `artifacts["samples"]`."""
GAP_PX = 2
"""White space between tiles, in output pixels."""
TEXT_PX = 14
"""Height of the header strip and of each row's caption strip, in output pixels."""
BACKGROUND = (255, 255, 255)
TEXT = (0, 0, 0)
DESCRIPTOR_PX = 4
"""`grid_samples` compares images by their clean version shrunk to 4×4 pixels: colour and layout."""


def grid_samples(
    noisy: torch.Tensor, output: torch.Tensor, clean: torch.Tensor, count: int
) -> dict[str, torch.Tensor]:
    """`count` val images for the grid, as uint8 (outputs rounded, clamped, NaN as 0), with each one's PSNR.

    Neighbouring val images, and often evenly spaced ones, come from the same photograph; the pick is
    greedy farthest-point on the clean images shrunk to 4×4 (the first image, then each time the one
    farthest from all picked so far), so the rows show different scenes. The PSNRs are of the
    submission's unrounded output, as the PSNR check measured it.
    """
    count = min(count, len(clean))
    shrunk = torch.nn.functional.adaptive_avg_pool2d(clean.double(), DESCRIPTOR_PX).flatten(1)
    picked = [0]
    distance = (shrunk - shrunk[0]).pow(2).sum(1)
    for _ in range(count - 1):
        farthest = int(distance.argmax())
        picked.append(farthest)
        distance = torch.minimum(distance, (shrunk - shrunk[farthest]).pow(2).sum(1))
    index = torch.tensor(picked)
    shown = output[index].double().nan_to_num(0.0).clamp(0, 255).round().to(torch.uint8)

    def per_image_db(images: torch.Tensor) -> torch.Tensor:
        return torch.tensor([psnr_grading(images[i : i + 1], clean[i : i + 1]) for i in picked])

    return {
        "noisy": noisy[index],
        "output": shown,
        "clean": clean[index],
        "noisy_db": per_image_db(noisy),
        "output_db": per_image_db(output.double().nan_to_num(0.0)),
    }


def tile_origin(row: int, column: int, tile_w: int, tile_h: int) -> tuple[int, int]:
    """The top-left corner (x, y) of tile (row, column): below the header, each row followed by its
    caption strip and a gap."""
    return column * (tile_w + GAP_PX), TEXT_PX + row * (tile_h + TEXT_PX + GAP_PX)


def sample_grid(samples: Mapping[str, torch.Tensor], scale: int = 4) -> Image.Image:
    """Tile K samples into an RGB image of K rows x 3 columns (`COLUMNS`), each tile upscaled `scale`x.

    Each of `samples["noisy"|"output"|"clean"]` is a uint8 tensor K x 3 x H x W, all of one shape; the
    optional `samples["noisy_db"|"output_db"]` (K figures each) caption their column. Each input pixel
    becomes a scale x scale block (nearest neighbour: no smoothing that would hide noise) of the tile at
    `tile_origin`.
    """
    tiles = _validated(samples)
    count, _, height, width = tiles[0].shape
    tile_h, tile_w = height * scale, width * scale
    right, bottom = tile_origin(count, len(COLUMNS), tile_w, tile_h)
    grid = Image.new("RGB", (right - GAP_PX, bottom - GAP_PX), BACKGROUND)
    draw, font = ImageDraw.Draw(grid), ImageFont.load_default()
    for column, (key, images) in enumerate(zip(COLUMNS, tiles, strict=True)):
        left, top = tile_origin(0, column, tile_w, tile_h)
        draw.text((left + 1, 1), key, fill=TEXT, font=font)
        for row in range(count):
            pixels = images[row].permute(1, 2, 0).contiguous()
            tile = Image.frombytes("RGB", (width, height), bytes(pixels.flatten().tolist()))
            tile = tile.resize((tile_w, tile_h), Image.Resampling.NEAREST)
            left, top = tile_origin(row, column, tile_w, tile_h)
            grid.paste(tile, (left, top))
            if CAPTIONS.get(key) in samples:
                draw.text(
                    (left + 1, top + tile_h + 1),
                    f"{float(samples[CAPTIONS[key]][row]):.1f} dB",
                    fill=TEXT,
                    font=font,
                )
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
    for key in CAPTIONS.values():
        if key in samples and tuple(samples[key].shape) != (shape[0],):
            raise ValueError(f"samples[{key!r}] must hold one figure per row ({shape[0]})")
    return tiles
