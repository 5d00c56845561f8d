"""Train the reference `Model` with our framework and write `Miniproject_2/bestmodel.pth`.

The data come from `harness data make`; the committed weights were made by (see Miniproject_2/README.md)

    harness data make /tmp/cbsd68 --images ../shared/images/CBSD68 --train 50000 --val 2000 --seed 0
    python -m experiments.train_bestmodel /tmp/cbsd68 --epochs 12 --threads 1

The recipe is the Model's default (`Recipe()`); initial weights follow `torch.manual_seed(seed)`. After
training, both PSNR metrics on the val split (photographs never trained on) are printed and appended, with
the run's settings, to `--results` as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from experiments.budget_training import budget_plan, recipe_with, scores
from experiments.contenders import architecture_with
from harness.dataset import TRAIN_FILE, VAL_FILE, load_train, load_val
from Miniproject_2.model import Model, build_network
from Miniproject_2.others.training import learning_rate_at


def train_for_budget(model: Model, noisy_a: torch.Tensor, noisy_b: torch.Tensor, budget_s: float) -> int:
    """Train `model` (its recipe, `Model.train_step`) until `budget_s` seconds of CPU time are spent, the
    schedule running on the fraction of the budget, as the torch contenders train; returns images seen."""
    optimizer = model.make_optimizer()
    images, losses = 0, []
    for step, batch, progress in budget_plan(noisy_a.shape[0], model.recipe, budget_s):
        optimizer.lr = learning_rate_at(model.recipe, step, progress)
        losses.append(model.train_step(optimizer, noisy_a, noisy_b, batch))
        images += len(batch.indices)
    model.losses = [float(loss) for loss in losses]
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder made by `harness data make`")
    parser.add_argument("--epochs", type=float, default=12, help="passes over the data (may be fractional)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the initial weights")
    parser.add_argument("--out", type=Path, help="weights file (default: Miniproject_2/bestmodel.pth)")
    parser.add_argument("--results", type=Path, help="JSON-lines file the run's record is appended to")
    parser.add_argument(
        "--arch",
        action="append",
        default=[],
        help="architecture override, name=value (channels=32,64, up_kernel=4 or 2,4, upsampling=transposed)",
    )
    parser.add_argument("--budget", type=float, help="train for this many CPU seconds instead of --epochs")
    parser.add_argument("--label", default="ours", help="name of the run in the results")
    parser.add_argument("--set", action="append", default=[], help="recipe field override, name=value")
    parser.add_argument("--evaluate", type=Path, help="score this weights file instead of training")
    parser.add_argument("--init", type=Path, help="start from this weights file instead of fresh weights")
    arguments = parser.parse_args()

    torch.set_num_threads(arguments.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(arguments.seed)
    noisy_a, noisy_b = load_train(arguments.data / TRAIN_FILE)
    noisy, clean = load_val(arguments.data / VAL_FILE)
    model = Model()
    model.recipe = recipe_with(model.recipe, arguments.set)
    if arguments.arch:
        model.architecture = architecture_with(model.architecture, arguments.arch)
        model.network = build_network(model.architecture).to(model.device)
    record = {"label": arguments.label, "architecture": model.architecture}
    if arguments.evaluate:
        model.load_pretrained_model(arguments.evaluate)
        record["weights"] = str(arguments.evaluate)
    else:
        if arguments.init:
            model.load_pretrained_model(arguments.init)
            record["init"] = str(arguments.init)
        model.verbose = True
        started, started_cpu = time.perf_counter(), time.process_time()
        if arguments.budget:
            images = train_for_budget(model, noisy_a, noisy_b, arguments.budget)
        else:
            model.train(noisy_a, noisy_b, arguments.epochs)
            images = round(arguments.epochs * len(noisy_a))
        wall_s, cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
        model.save_model(arguments.out)
        record |= {
            "recipe": asdict(model.recipe),
            "epochs": round(images / len(noisy_a), 4),
            "images": images,
            "threads": arguments.threads,
            "wall_s": round(wall_s, 1),
            "cpu_s": round(cpu_s, 1),
            "final_loss": model.losses[-1],
        }
    model.self_ensemble = False
    record["psnr"] = scores(model.predict(noisy), clean)
    model.self_ensemble = True
    record["psnr_self_ensemble"] = scores(model.predict(noisy), clean)
    if arguments.results:
        with arguments.results.open("a") as file:
            file.write(json.dumps(record) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
