"""Making a course-format data set: `train_data.pkl`, `val_data.pkl` and a `manifest.json` that says how.

Train and val come from disjoint photographs: a seeded fifth of them (at least one) is held out for val
and named in the manifest. Every random draw comes from one `torch.Generator` seeded with `seed`, in a
fixed order, so the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from harness import __version__
from harness.dataset import TRAIN_FILE, VAL_FILE
from harness.degradation import DEFAULT_DEGRADATION, Degradation, degradation_class
from harness.errors import DataError
from harness.photos import Photo, load_photos
from harness.reproducibility import sha256_file
from harness.thumbnails import SIZE, PhotoAtlas

MANIFEST_FILE = "manifest.json"
VAL_PHOTO_FRACTION = 0.2
CHUNK = 1024
"""Thumbnails made per vectorised step: bounds memory (a few hundred MB) without slowing down."""


@dataclass(frozen=True)
class Manifest:
    """How a data set was made, as written to `manifest.json`."""

    command: str
    seed: int
    train: int
    val: int
    degradation: dict[str, Any]
    source: str
    photos: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    outputs: dict[str, str]
    harness_version: str
    torch_version: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def to_uint8(images: Tensor) -> Tensor:
    """Round to the nearest level and clip to 0-255."""
    return images.round().clamp(0, 255).to(torch.uint8)


def _command_line(
    out_dir: Path, images: Path | None, train: int, val: int, seed: int, degradation: str, params: dict
) -> str:
    words = ["harness", "data", "make", str(out_dir)]
    if images is not None:
        words += ["--images", str(images)]
    words += ["--train", str(train), "--val", str(val), "--seed", str(seed), "--degradation", degradation]
    for key, value in params.items():
        words += ["--param", f"{key}={value}"]
    return shlex.join(words)


def split_photos(photos: list[Photo], generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Indices of the train photos and of the held-out val photos (a seeded fifth, at least one)."""
    if len(photos) < 2:
        raise DataError(
            None, f"need at least 2 source photographs to hold one out for val, got {len(photos)}"
        )
    held_out = max(1, round(VAL_PHOTO_FRACTION * len(photos)))
    order = torch.randperm(len(photos), generator=generator)
    return order[held_out:].sort().values, order[:held_out].sort().values


def _thumbnails(
    degradation: Degradation, photo_ids: Tensor, count: int, versions: int, generator: torch.Generator
) -> tuple[Tensor, list[Tensor]]:
    """`count` clean thumbnails of `photo_ids` and `versions` independent noisy versions, all uint8."""
    atlas = degradation.atlas
    clean = torch.empty(count, 3, SIZE, SIZE, dtype=torch.uint8)
    noisy = [torch.empty_like(clean) for _ in range(versions)]
    for start in range(0, count, CHUNK):
        stop = min(start + CHUNK, count)
        crops = atlas.draw(photo_ids, stop - start, degradation.factors, generator)
        means = atlas.block_means(crops)
        clean[start:stop] = atlas.orient(crops, to_uint8(means))
        for version in noisy:
            version[start:stop] = atlas.orient(crops, to_uint8(degradation.degrade(crops, means, generator)))
    return clean, noisy


def make_dataset(
    out_dir: Path,
    images: Path | None = None,
    train: int = 50_000,
    val: int = 1_000,
    seed: int = 0,
    degradation: str = DEFAULT_DEGRADATION,
    **params: float,
) -> Manifest:
    """Write `train_data.pkl` = (noisy_a, noisy_b), `val_data.pkl` = (noisy, clean) and `manifest.json`.

    `images` is a folder of photographs in any format Pillow reads (default: scikit-image's bundled
    ones); `params` are the degradation's parameters (see `harness.degradation`).
    """
    if train < 1 or val < 1:
        raise DataError(out_dir, f"need at least one train and one val image, got {train} and {val}")
    kind = degradation_class(degradation)
    photos, skipped = load_photos(images)
    generator = torch.Generator().manual_seed(seed)
    train_ids, val_ids = split_photos(photos, generator)
    noise = kind(PhotoAtlas(photos), generator, **params)

    _, (noisy_a, noisy_b) = _thumbnails(noise, train_ids, train, 2, generator)
    val_clean, (val_noisy,) = _thumbnails(noise, val_ids, val, 1, generator)

    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save((noisy_a, noisy_b), out_dir / TRAIN_FILE)
    torch.save((val_noisy, val_clean), out_dir / VAL_FILE)

    val_set = set(val_ids.tolist())
    manifest = Manifest(
        command=_command_line(out_dir, images, train, val, seed, degradation, params),
        seed=seed,
        train=train,
        val=val,
        degradation=noise.describe(),
        source="scikit-image bundled photographs" if images is None else str(images),
        photos=[
            {
                "name": photo.name,
                "sha256": photo.sha256,
                "size": [photo.width, photo.height],
                "split": "val" if index in val_set else "train",
            }
            for index, photo in enumerate(photos)
        ],
        skipped=[{"name": file.name, "reason": file.reason} for file in skipped],
        outputs={name: sha256_file(out_dir / name) for name in (TRAIN_FILE, VAL_FILE)},
        harness_version=__version__,
        torch_version=torch.__version__,
    )
    (out_dir / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
