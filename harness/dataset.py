"""The one loader of course-format data files, used everywhere: it validates before anyone computes.

`train_data.pkl` is `torch.save((noisy_a, noisy_b))` and `val_data.pkl` is `torch.save((noisy, clean))`,
each tensor uint8 `N×3×32×32` with the same `N`. Float tensors with values in 0-255 are accepted with a
warning (and returned as they are); anything else is a `DataError` naming the file and the problem.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path

import torch
from torch import Tensor

from harness.errors import DataError
from harness.reproducibility import sha256_file

TRAIN_FILE = "train_data.pkl"
VAL_FILE = "val_data.pkl"
TRAIN_NAMES = ("noisy_a", "noisy_b")
VAL_NAMES = ("noisy", "clean")
IMAGE_SHAPE = (3, 32, 32)
PUBLIC_VAL_SHA256 = frozenset(
    {"77abb4496f24f807bdf9912af73e2000ab1efb32900156691b07688d0ed9fedd"}  # this repository's test_data/
)
"""sha256 of val sets anyone can read: a submission may have memorised them (noisy -> clean in its
`bestmodel.pth`) and score any PSNR it likes. Add the course's published `val_data.pkl` here; graders
grade on a held-out set."""


def _read(path: Path) -> object:
    if not path.is_file():
        raise DataError(path, "file not found" if not path.exists() else "not a file")
    try:
        return torch.load(path, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        reason = _first_sentence(str(error)) or error.__class__.__name__
        raise DataError(path, f"not a readable torch file (truncated or corrupt?): {reason}") from None


def _first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence of an error text, for a one-line message (torch's carry long advice)."""
    line = (text.strip().splitlines() or [""])[0]
    sentence = line.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _check_images(path: Path, name: str, images: object) -> Tensor:
    if not isinstance(images, Tensor):
        raise DataError(path, f"{name} is of type {type(images).__name__}, expected a tensor")
    if images.dim() != 4:
        raise DataError(path, f"{name} has shape {tuple(images.shape)}, expected N×3×32×32 (rank 4)")
    if images.shape[1] != IMAGE_SHAPE[0]:
        raise DataError(
            path, f"{name} has shape {tuple(images.shape)}: {images.shape[1]} channels, expected 3"
        )
    if tuple(images.shape[2:]) != IMAGE_SHAPE[1:]:
        size = "×".join(map(str, images.shape[2:]))
        raise DataError(path, f"{name} has {size} images, expected 32×32")
    if images.shape[0] == 0:
        raise DataError(path, f"{name} holds no images")
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise DataError(path, f"{name} has dtype {images.dtype}, expected torch.uint8 (or float in 0-255)")
    low, high = float(images.min()), float(images.max())
    if not (low >= 0.0 and high <= 255.0):  # also catches NaN
        raise DataError(path, f"{name} has values in [{low:g}, {high:g}], outside 0-255")
    warnings.warn(f"{path}: {name} is {images.dtype}, not uint8; accepted as values in 0-255", stacklevel=3)
    return images


def load_pair(path: Path | str, names: tuple[str, str] = ("first", "second")) -> tuple[Tensor, Tensor]:
    """Load and validate a course-format file: a 2-tuple of `N×3×32×32` images in 0-255 of equal `N`."""
    path = Path(path)
    content = _read(path)
    if not isinstance(content, tuple | list) or len(content) != 2:
        what = (
            f"a {len(content)}-tuple" if isinstance(content, tuple | list) else f"a {type(content).__name__}"
        )
        raise DataError(path, f"holds {what}, expected a 2-tuple ({names[0]}, {names[1]})")
    first, second = (_check_images(path, name, images) for name, images in zip(names, content, strict=True))
    if len(first) != len(second):
        raise DataError(path, f"{names[0]} has {len(first)} images but {names[1]} has {len(second)}")
    return first, second


def load_train(path: Path | str) -> tuple[Tensor, Tensor]:
    """`(noisy_a, noisy_b)` from a `train_data.pkl`: two degradations of the same images."""
    return load_pair(path, TRAIN_NAMES)


def load_val(path: Path | str) -> tuple[Tensor, Tensor]:
    """`(noisy, clean)` from a `val_data.pkl`."""
    return load_pair(path, VAL_NAMES)


PUBLIC_VAL_NOTE = (
    "the val set is a published one (harness.dataset.PUBLIC_VAL_SHA256): a submission may have memorised "
    "it, so this PSNR proves nothing; grade on a held-out val set"
)
"""What the progress line and `psnr.pretrained`'s message say of such a val set."""


def is_public_val(path: Path) -> bool:
    """Whether the val file at `path` is one of `PUBLIC_VAL_SHA256` (by content, not name)."""
    return sha256_file(Path(path)) in PUBLIC_VAL_SHA256
