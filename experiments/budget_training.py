"""Train one contender in torch.nn for a fixed CPU-time budget on one thread, then score it on a val set.

The budget counts this process's CPU time (`time.process_time`), not wall time, so recipes compared on a
shared machine get the same compute whatever else runs beside them. The learning-rate schedule runs on the
fraction of the budget spent. One JSON line per run is appended to `--results`.

    python -m experiments.budget_training twin --train T.pkl --val V.pkl --budget 180 --results R.jsonl
    python -m experiments.budget_training twin ... --set learning_rate=4 --width 48,96 --label lr4-w48
    python -m experiments.budget_training twin ... --arch up_kernel=2,4 --label twin-mixed
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch
from torch import Tensor, nn

from experiments.contenders import CONTENDERS, Contender, Width, architecture_with, course_topology
from harness.dataset import load_train, load_val
from harness.psnr import METRICS
from Miniproject_2.model import ARCHITECTURE
from Miniproject_2.others.training import (
    DIHEDRAL_TRANSFORMS,
    Batch,
    Recipe,
    apply_transform,
    batch_plan,
    learning_rate_at,
    to_unit_range,
    undo_transform,
)

EPOCHS_BEYOND_ANY_BUDGET = 10_000


def budget_plan(size: int, recipe: Recipe, budget_s: float) -> Iterator[tuple[int, Batch, float]]:
    """(step, batch, progress) of `batch_plan` over `size` images until `budget_s` seconds of this process's
    CPU time are spent, progress being the fraction of the budget spent before the step."""
    started = time.process_time()
    for step, batch in enumerate(batch_plan(size, EPOCHS_BEYOND_ANY_BUDGET, recipe)):
        progress = (time.process_time() - started) / budget_s
        if progress >= 1.0:
            return
        yield step, batch, progress


def train_for_budget(
    contender: Contender, network: nn.Module, noisy_a: torch.Tensor, noisy_b: torch.Tensor, budget_s: float
) -> dict:
    """Train `network` until `budget_s` seconds of CPU time are spent; returns steps, images and last loss."""
    optimizer = contender.make_optimizer(network.parameters())
    recipe = contender.recipe
    steps = images = 0
    loss = torch.tensor(float("nan"))
    for step, batch, progress in budget_plan(noisy_a.shape[0], recipe, budget_s):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(recipe, step, progress)
        source, target = (noisy_b, noisy_a) if batch.swapped else (noisy_a, noisy_b)
        inputs = apply_transform(to_unit_range(source[batch.indices], "cpu"), batch.transform)
        targets = apply_transform(to_unit_range(target[batch.indices], "cpu"), batch.transform)
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(network(inputs), targets)
        loss.backward()
        optimizer.step()
        steps, images = step + 1, images + len(batch.indices)
    return {"steps": steps, "images": images, "final_loss": loss.item()}


@torch.no_grad()
def denoise(network: nn.Module, noisy: Tensor, transforms: int = 1, batch_size: int = 256) -> Tensor:
    """`network` applied to 0–255 images in batches, 0–255 float out; with `transforms` > 1, the mean of its
    outputs over the first `transforms` symmetries of the square (a self-ensemble)."""
    outputs = []
    for start in range(0, len(noisy), batch_size):
        images = to_unit_range(noisy[start : start + batch_size], "cpu")
        views = [undo_transform(network(apply_transform(images, t)), t) for t in range(transforms)]
        outputs.append(torch.stack(views).mean(0))
    return torch.cat(outputs).mul(255.0)


def scores(denoised: torch.Tensor, clean: torch.Tensor) -> dict[str, float]:
    """Both PSNR metrics of `denoised` against `clean` (0–255 scale)."""
    return {name: round(metric(denoised, clean.float()), 3) for name, metric in METRICS.items()}


def recipe_with(recipe: Recipe, settings: list[str]) -> Recipe:
    """`recipe` with fields set from `name=value` strings (`learning_rate=4`, `augment=false`)."""
    types = {field.name: type(getattr(recipe, field.name)) for field in fields(recipe)}
    changes = {}
    for setting in settings:
        name, value = setting.split("=", 1)
        changes[name] = value.lower() in ("1", "true", "yes") if types[name] is bool else types[name](value)
    return replace(recipe, **changes)


def with_overrides(
    contender: Contender, settings: list[str], width: str | None, architecture: list[str]
) -> Contender:
    """`contender` with recipe fields set from `name=value` strings and, for the course's topology, another
    width, or the Model's `ARCHITECTURE` with `name=value` overrides (as `train_bestmodel --arch`)."""
    contender = replace(contender, recipe=recipe_with(contender.recipe, settings))
    if width:
        parts = width.split(",")
        numbers = [int(part) for part in parts[:4]]
        contender = replace(contender, network=lambda: course_topology(Width(*numbers, *parts[4:])))
    if architecture:
        changed = Width.of(architecture_with(ARCHITECTURE, architecture))
        contender = replace(contender, network=lambda: course_topology(changed))
    return contender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--val", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=180.0, help="CPU seconds of training")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], help="recipe field override, name=value")
    parser.add_argument(
        "--width", help="first,second[,down_kernel[,up_kernel[,nearest|transposed]]] of the course's topology"
    )
    parser.add_argument(
        "--arch",
        action="append",
        default=[],
        help="the Model's architecture with an override, name=value (up_kernel=2,4), as train_bestmodel's",
    )
    parser.add_argument("--label", help="name of this run in the results (default: the contender's)")
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    contender = with_overrides(
        CONTENDERS[arguments.contender], arguments.set, arguments.width, arguments.arch
    )
    noisy_a, noisy_b = load_train(arguments.train)
    noisy, clean = load_val(arguments.val)
    network = contender.network()
    training = train_for_budget(contender, network, noisy_a, noisy_b, arguments.budget)
    record = {
        "label": arguments.label or contender.name,
        "contender": contender.name,
        "width": arguments.width,
        "architecture": architecture_with(ARCHITECTURE, arguments.arch) if arguments.arch else None,
        "recipe": asdict(contender.recipe),
        "budget_cpu_s": arguments.budget,
        "parameters": sum(p.numel() for p in network.parameters()),
        **training,
        "psnr": scores(denoise(network, noisy), clean),
        "psnr_self_ensemble": scores(denoise(network, noisy, DIHEDRAL_TRANSFORMS), clean),
    }
    with arguments.results.open("a") as file:
        file.write(json.dumps(record) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
