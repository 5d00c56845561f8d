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


@dataclass(frozen=True)
class Skipped:
    """A file of an image folder that is not used, and why: what `data make` tells the user."""

    name: str
    reason: str


def _as_rgb(image: Image.Image) -> Image.Image:
    """RGB, 8 bits per channel: grey, palette and CMYK are converted, alpha is dropped, and 16/32-bit
    grey (TIFF, PNG) is scaled to 0-255 instead of clipped, as Pillow's `convert` alone would."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        top = 65535 if image.mode.startswith("I;16") or image.getextrema()[1] > 255 else 255
        image = image.convert("F").point(lambda value: value * 255 / top).convert("L")
    return image.convert("RGB")


def read_photo(path: Path) -> Photo:
    """Read one image file, of any format Pillow reads (the first frame of a multi-frame one), as RGB."""
    try:
        raw = path.read_bytes()
        with Image.open(path) as image:
            rgb = _as_rgb(image)
    except FileNotFoundError:
        raise DataError(path, "photograph not found") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(path, f"not a readable image ({error.__class__.__name__})") from None
    pixels = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
    pixels = pixels.reshape(rgb.height, rgb.width, 3).permute(2, 0, 1).contiguous()
    return Photo(name=path.name, sha256=hashlib.sha256(raw).hexdigest(), pixels=pixels)


def _is_image(path: Path) -> bool:
    """Whether Pillow recognises the file as an image (from its header, without decoding it)."""
    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, OSError, ValueError):
        return False


def _skip_reason(path: Path) -> str | None:
    """Why `path` is not one of the folder's photographs, or None when it is one."""
    if path.name.startswith("."):
        return "hidden file"
    if path.is_symlink() or not path.is_file():
        return "not a regular file"
    if not _is_image(path):
        return "not an image Pillow reads"
    return None


def load_photos(folder: Path | None = None) -> tuple[list[Photo], list[Skipped]]:
    """The photographs of `folder`, sorted by name, and the files left out with the reason; by default
    scikit-image's. Every file Pillow recognises counts (PNG, JPEG, TIFF, BMP, WebP, ...); one that it
    recognises but cannot decode, or that is smaller than a thumbnail, is a `DataError` naming it, so a
    data set never silently lacks a photograph the user meant to include."""
    if folder is None:
        root = skimage_photo_folder()
        return [read_photo(root / name) for name in SKIMAGE_PHOTOS], []
    if not folder.is_dir():
        raise DataError(folder, "not a folder of photographs")
    photos, skipped = [], []
    for path in sorted(folder.iterdir()):
        reason = _skip_reason(path)
        if reason is None:
            photos.append(read_photo(path))
        else:
            skipped.append(Skipped(path.name, reason))
    if not photos:
        raise DataError(folder, "holds no image that Pillow reads")
    return photos, skipped
