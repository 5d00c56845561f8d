"""The best Gaussian blur: the classical baseline the learned denoisers must beat.

The blur's width is chosen without clean images, Noise2Noise-style: the sigma whose blur of the first
noisy version of each training pair is closest (MSE) to the second one; on independent zero-mean noise
that is the sigma closest to the clean images in expectation (`harness.blur.best_blur_psnr`, which
`harness data info` shows, picks it against the clean val images instead). The blur itself is
`harness.blur.gaussian_blur`. Reported on the val set with both metrics.

    python -m experiments.gaussian_blur --train T.pkl --val V.pkl --results R.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from experiments.budget_training import scores
from harness.blur import gaussian_blur
from harness.dataset import load_train, load_val

SIGMAS = [round(0.3 + 0.1 * step, 1) for step in range(28)]
"""Candidate standard deviations in pixels, 0.30 to 3.00."""


def best_sigma(noisy_a: torch.Tensor, noisy_b: torch.Tensor) -> tuple[float, dict[float, float]]:
    """The sigma minimising MSE(blur(noisy_a), noisy_b), and that MSE for every candidate."""
    source, target = noisy_a.double(), noisy_b.double()
    errors = {sigma: float((gaussian_blur(source, sigma) - target).pow(2).mean()) for sigma in SIGMAS}
    return min(errors, key=errors.__getitem__), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--val", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=1000, help="training pairs the sigma is chosen on")
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    noisy_a, noisy_b = load_train(arguments.train)
    noisy, clean = load_val(arguments.val)
    sigma, _ = best_sigma(noisy_a[: arguments.pairs], noisy_b[: arguments.pairs])
    noisy_float = noisy.double()
    records = [
        {"label": "noisy", "psnr": scores(noisy_float, clean)},
        {"label": "gaussian-blur", "sigma": sigma, "psnr": scores(gaussian_blur(noisy_float, sigma), clean)},
    ]
    with arguments.results.open("a") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")
            print(json.dumps(record))


if __name__ == "__main__":
    main()
