"""Source photographs for the data set: scikit-image's bundled colour photographs, or a folder of them.

The default source needs no download: the files lie inside scikit-image's wheel, next to `skimage.data`,
and are read with Pillow directly (not through `skimage.data`'s fetchers, which may download).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from harness.errors import DataError

SKIMAGE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "rocket.jpg",
)
"""scikit-image's colour photographs. Left out: drawings and test patterns (`color`, `logo`, `phantom`,
`chessboard_RGB`), grey-scale images, `retina` (a black disc, mostly flat: its point-sampling noise is
15 dB below the others') and `motorcycle_right`, the other half of the stereo pair `motorcycle_left`
(it would leak one scene across the train/val split)."""

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Photo:
    """One source photograph: RGB pixels `3×H×W` uint8, and what names it in a manifest."""

    name: str
    sha256: str
    pixels: Tensor

    @property
    def height(self) -> int:
        return self.pixels.shape[1]

    @property
    def width(self) -> int:
        return self.pixels.shape[2]


def skimage_photo_folder() -> Path:
    """Where scikit-image keeps its bundled sample images."""
    import skimage.data

    return Path(skimage.data.__file__).parent


def read_photo(path: Path) -> Photo:
    """Read one PNG/JPEG file as RGB (grey and palette images are converted, alpha is dropped)."""
    try:
        raw = path.read_bytes()
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except FileNotFoundError:
        raise DataError(path, "photograph not found") from None
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(path, f"not a readable image ({error.__class__.__name__})") from None
    pixels = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
    pixels = pixels.reshape(rgb.height, rgb.width, 3).permute(2, 0, 1).contiguous()
    return Photo(name=path.name, sha256=hashlib.sha256(raw).hexdigest(), pixels=pixels)


def load_photos(folder: Path | None = None) -> list[Photo]:
    """The photographs of `folder` (every PNG/JPEG in it, sorted by name), or scikit-image's by default."""
    if folder is None:
        root = skimage_photo_folder()
        return [read_photo(root / name) for name in SKIMAGE_PHOTOS]
    if not folder.is_dir():
        raise DataError(folder, "not a folder of photographs")
    paths = sorted(path for path in folder.iterdir() if path.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise DataError(folder, f"holds no photographs ({', '.join(PHOTO_SUFFIXES)})")
    return [read_photo(path) for path in paths]
