"""How the reference `Model` trains and predicts: recipe, batch plan, augmentation, padding, weights file.

Only `torch.empty` and tensor methods are used, plus the standard library: shuffling and augmentation draw
from a `random.Random(seed)`, so a training run is reproducible from its seed alone (the initial weights
follow torch's global generator, which a caller seeds with `torch.manual_seed`).

The same plan (`batch_plan`) and schedule (`learning_rate_at`) drive the torch twin in `experiments/`, so
both see the same images in the same order with the same learning rates.
"""

from __future__ import annotations

import math
import pickle
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from torch import cat, empty

DIHEDRAL_TRANSFORMS = 8
"""The eight symmetries of a square: 0–3 quarter turns, each optionally mirrored (4–7)."""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides training besides the data and the initial weights.

    The learning rate follows a cosine from `learning_rate` down to `learning_rate * final_fraction` over
    the run, after a linear warm-up of `warmup_steps`: `lr(t) = lr_min + (lr − lr_min)·(1 + cos(π·t/T))/2`.
    The loss is the mean squared error on the [0, 1] scale, as the course's `MSE` computes it.
    """

    batch_size: int = 8
    learning_rate: float = 5.0
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    final_fraction: float = 0.02
    warmup_steps: int = 200
    augment: bool = True
    swap_pairs: bool = True
    seed: int = 0


@dataclass(frozen=True)
class Batch:
    """One step of a plan: which images, seen through which symmetry, and which side is the input."""

    indices: list[int]
    transform: int
    swapped: bool


def batch_plan(size: int, num_epochs: float, recipe: Recipe) -> Iterator[Batch]:
    """The batches of `num_epochs` passes over `size` images, each pass in a fresh seeded order.

    Every image appears once per epoch; the last batch of an epoch is smaller when `size` is not a multiple
    of the batch size. A fractional `num_epochs` ends with the first batches of one more pass (experiments
    use it to fit a compute budget). With `augment`, each batch draws one of the eight dihedral transforms;
    with `swap_pairs`, a coin decides whether the first or the second noisy version is the input.
    """
    if size < 1:
        raise ValueError("training needs at least one image")
    rng = random.Random(recipe.seed)
    remaining = steps_in(size, num_epochs, recipe.batch_size)
    while remaining > 0:
        order = list(range(size))
        rng.shuffle(order)
        for start in range(0, size, recipe.batch_size):
            if remaining == 0:
                return
            remaining -= 1
            transform = rng.randrange(DIHEDRAL_TRANSFORMS) if recipe.augment else 0
            swapped = recipe.swap_pairs and rng.random() < 0.5
            yield Batch(order[start : start + recipe.batch_size], transform, swapped)


def steps_in(size: int, num_epochs: float, batch_size: int) -> int:
    """How many batches `batch_plan` yields: `⌈num_epochs · ⌈size / batch_size⌉⌉`."""
    return math.ceil(num_epochs * math.ceil(size / batch_size))


def learning_rate_at(recipe: Recipe, step: int, progress: float) -> float:
    """The learning rate of step `step` (0-based) at `progress` in [0, 1] of the run (the fraction of
    steps, or of a time budget): a linear warm-up over the first `warmup_steps`, then a cosine decay."""
    if step < recipe.warmup_steps:
        return recipe.learning_rate * (step + 1) / recipe.warmup_steps
    progress = min(1.0, max(0.0, progress))
    lowest = recipe.learning_rate * recipe.final_fraction
    return lowest + (recipe.learning_rate - lowest) * (1.0 + math.cos(math.pi * progress)) / 2.0


def apply_transform(images, transform: int):
    """`images` (N×C×H×W) turned by `transform % 4` quarter turns, then mirrored left-right when
    `transform >= 4`: the eight symmetries of the square."""
    turned = images.rot90(transform % 4, (2, 3))
    return turned.flip(3) if transform >= 4 else turned


def undo_transform(images, transform: int):
    """The inverse of `apply_transform(·, transform)`: mirror back first, then turn back."""
    mirrored = images.flip(3) if transform >= 4 else images
    return mirrored.rot90(-(transform % 4), (2, 3))


def to_unit_range(images, device: str):
    """A batch of 0–255 images (uint8 or float) as float32 on `device`, scaled to [0, 1]."""
    return images.to(device).float().div(255.0)


def choose_device() -> str:
    """`"cuda"` where a CUDA tensor can be made, `"cpu"` otherwise (probed with `empty`, not torch.cuda)."""
    try:
        empty(1, device="cuda")
    except (RuntimeError, AssertionError):
        return "cpu"
    return "cuda"


def pad_to_multiple(images, multiple: int):
    """`images` (N×C×H×W) extended at the bottom and right by mirrored rows and columns so that H and W
    become multiples of `multiple`; the mirror repeats edge pixels (`…, c, b, a | a, b, c, …`)."""
    height, width = images.shape[2], images.shape[3]
    extra_rows = -height % multiple
    extra_columns = -width % multiple
    if extra_rows:
        mirrored = images.flip(2)
        while mirrored.shape[2] < extra_rows:
            mirrored = cat([mirrored, mirrored.flip(2)], 2)
        images = cat([images, mirrored[:, :, :extra_rows]], 2)
    if extra_columns:
        mirrored = images.flip(3)
        while mirrored.shape[3] < extra_columns:
            mirrored = cat([mirrored, mirrored.flip(3)], 3)
        images = cat([images, mirrored[:, :, :, :extra_columns]], 3)
    return images


class ProgressLine:
    """A single self-overwriting line on stderr (`step/total  loss  images/s`), or nothing when silent."""

    def __init__(self, total_steps: int, enabled: bool) -> None:
        self.total_steps = total_steps
        self.enabled = enabled
        self.started = time.perf_counter()
        self.last_shown = 0.0
        self.images = 0

    def update(self, step: int, batch_images: int, loss) -> None:
        """Count a finished step; redraw the line at most once a second (`loss`, a 0-dim tensor, is read
        only then, so a CUDA run is not synchronised every step)."""
        self.images += batch_images
        now = time.perf_counter()
        if not self.enabled or (now - self.last_shown < 1.0 and step + 1 < self.total_steps):
            return
        self.last_shown = now
        rate = self.images / max(now - self.started, 1e-9)
        end = "\n" if step + 1 == self.total_steps else ""
        print(
            f"\rstep {step + 1}/{self.total_steps}  loss {float(loss):.5f}  {rate:.0f} images/s",
            end=end,
            file=sys.stderr,
        )


WEIGHTS_FORMAT = 1


def save_weights(path: Path, state: dict, architecture: dict, recipe: Recipe) -> None:
    """Write a network's `state_dict()` as CPU tensors, with the architecture and recipe that made it.

    A plain pickle (no `torch.save`): CPU tensors so that weights trained on CUDA load anywhere.
    """
    checkpoint = {
        "format": WEIGHTS_FORMAT,
        "architecture": architecture,
        "recipe": asdict(recipe),
        "state": {name: tensor.detach().to("cpu").clone() for name, tensor in state.items()},
    }
    with open(path, "wb") as file:
        pickle.dump(checkpoint, file, protocol=pickle.HIGHEST_PROTOCOL)


def load_weights(path: Path, architecture: dict) -> dict:
    """The `state_dict` saved at `path`, after checking it was made for `architecture`."""
    with open(path, "rb") as file:
        checkpoint = pickle.load(file)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{path} is not a weights file of this model (format {WEIGHTS_FORMAT})")
    if checkpoint["architecture"] != architecture:
        raise ValueError(f"{path} holds weights for {checkpoint['architecture']}, not {architecture}")
    return checkpoint["state"]
