"""What decides a training run besides the data and the initial weights: the recipe, the batch plan and
the learning-rate schedule.

Shuffling and augmentation draw from a `random.Random(recipe.seed)`, so a run is reproducible from its
seed alone (the initial weights follow torch's global generator, which a caller seeds with
`torch.manual_seed`). The same plan and schedule drive the torch twin in `experiments/`, so both see the
same images in the same order with the same learning rates.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .augmentation import DIHEDRAL_TRANSFORMS


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
