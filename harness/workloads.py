"""The data the model-level checks (api, timing, quality) feed a submission's `Model`.

Data files are loaded and validated here, in the parent, once per file (a 50,000-pair training set is
about 300 MB); children receive only the small subsets they need, as tensors with their own storage (a
slice of a tensor would drag its whole storage into the child's argument file). Subsets are drawn with a
generator seeded by the run's seed, so the same seed feeds the same pairs.
"""

from __future__ import annotations

import threading
from pathlib import Path

import torch
from torch import Tensor

from harness.dataset import load_train, load_val

EPOCH_PAIRS = 50_000
"""The statement's training set: one epoch is 50,000 pairs, which the time limit refers to."""

BATCH_FRIENDLY_PAIRS = 400
"""Every training subset the harness feeds is a multiple of this: 400 = 2⁴·5² is a multiple of every
batch size up to 100 that divides 50,000 (4, 5, 8, 10, 16, 20, 25, 40, 50, 80, 100), so code that slices
`narrow(start, batch)` assuming the count is a multiple of its batch size trains as on the course data."""

RETRY_PAIRS = 2000
"""A larger multiple (2⁴·5³: also 125, 250, 500) that `api.train` retries on when 400 pairs crash."""


def batch_friendly(pairs: int) -> int:
    """`pairs` rounded down to a multiple of `BATCH_FRIENDLY_PAIRS`, at least one multiple."""
    return max(BATCH_FRIENDLY_PAIRS, pairs // BATCH_FRIENDLY_PAIRS * BATCH_FRIENDLY_PAIRS)


def batch_divisors(limit: int = 512) -> tuple[int, ...]:
    """Batch sizes to try when training crashes on a multiple of 400: the divisors of 2000 and the
    powers of two up to `limit`, ascending (the first that trains is the count train needs a multiple of)."""
    divisors = {d for d in range(1, limit + 1) if RETRY_PAIRS % d == 0}
    return tuple(sorted(divisors | {2**k for k in range(limit.bit_length()) if 2**k <= limit}))


COURSE_PREDICT_SHAPES: tuple[tuple[int, int, int, int], ...] = ((1, 3, 512, 512), (100, 3, 32, 32))
"""The course's own `predict` calls: its 512x512 test image and a validation batch of 100 32x32 images."""

ODD_PREDICT_SHAPES: tuple[tuple[int, int, int, int], ...] = ((3, 3, 33, 47),)
"""Sizes not divisible by 2 or 4, which the statement does not promise (stride-2 networks crop them)."""

PREDICT_SHAPES = COURSE_PREDICT_SHAPES + ODD_PREDICT_SHAPES

_cache_lock = threading.Lock()
_loaded: dict[tuple[str, Path], tuple[Tensor, Tensor]] = {}


def _load(kind: str, path: Path) -> tuple[Tensor, Tensor]:
    """`load_train`/`load_val` of `path`, once per process (the check groups run in threads)."""
    key = (kind, Path(path).resolve())
    with _cache_lock:
        if key not in _loaded:
            _loaded[key] = (load_train if kind == "train" else load_val)(key[1])
        return _loaded[key]


def train_pairs(path: Path, count: int, seed: int) -> tuple[Tensor, Tensor]:
    """`count` training pairs (noisy_a, noisy_b), uint8, drawn without replacement with `seed`.

    Fewer when the file holds fewer; the draw is a prefix of one seeded permutation, so a smaller
    `count` gives a subset of a larger one.
    """
    noisy_a, noisy_b = _load("train", path)
    order = torch.randperm(len(noisy_a), generator=torch.Generator().manual_seed(seed))[:count]
    return noisy_a[order].clone(), noisy_b[order].clone()


def val_pairs(path: Path, count: int | None = None) -> tuple[Tensor, Tensor]:
    """The first `count` validation pairs (noisy, clean), uint8; all of them when `count` is None."""
    noisy, clean = _load("val", path)
    return noisy[:count].clone(), clean[:count].clone()


def predict_inputs(seed: int) -> list[Tensor]:
    """Uniform uint8 images of `PREDICT_SHAPES`, as the grading script's uint8 inputs, seeded."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8) for shape in PREDICT_SHAPES]
