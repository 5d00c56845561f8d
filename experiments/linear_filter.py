"""The best linear denoiser: a K×K filter from 3 channels to 3, fitted by least squares, Noise2Noise-style.

A ceiling for what smoothing alone can do, beside the Gaussian blur: the filter (3·K·K weights per output
channel and a bias) minimises ‖filter(noisy_a) − noisy_b‖² over the training pairs, which on independent
zero-mean noise is the linear estimate closest to the clean images in expectation (the Wiener filter of the
training photographs). A network that beats the blur by no more than this filter does has learnt smoothing,
not denoising. Printed per val set beside the best blur (`harness.blur.best_blur_psnr`) and the blur whose
σ is chosen per image against its clean version (an oracle: what adapting the amount of smoothing to each
image could give, grading metric). One JSON line per val set is appended to `--results`, labelled
`<val folder name>-<label>`.

    python -m experiments.linear_filter --train T.pkl [T2.pkl ...] --val V.pkl [V2.pkl ...] --results R.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import Tensor
from torch.nn.functional import conv2d, pad, unfold

from experiments.budget_training import scores
from harness.blur import SIGMAS, best_blur_psnr, gaussian_blur
from harness.dataset import load_train, load_val

CHUNK = 1000
PIXELS_PER_IMAGE = 128
"""Pixels per training image that enter the normal equations (drawn at random): enough rows, little memory."""


def fit_filter(pairs: list[tuple[Tensor, Tensor]], kernel: int, images: int) -> tuple[Tensor, Tensor]:
    """`(weight 3×3×K×K, bias 3)` of the least-squares filter from the first `images` pairs of each set."""
    radius, features = kernel // 2, 3 * kernel * kernel + 1
    gram = torch.zeros(features, features, dtype=torch.float64)
    cross = torch.zeros(features, 3, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    for noisy_a, noisy_b in pairs:
        for start in range(0, min(len(noisy_a), images), CHUNK):
            source = pad(noisy_a[start : start + CHUNK].double() / 255, (radius,) * 4, mode="reflect")
            columns = unfold(source, kernel).transpose(1, 2)
            target = (noisy_b[start : start + CHUNK].double() / 255).flatten(2).transpose(1, 2)
            chosen = torch.randint(0, target.shape[1], (PIXELS_PER_IMAGE,), generator=generator)
            rows = columns[:, chosen].reshape(-1, features - 1)
            rows = torch.cat([rows, rows.new_ones(len(rows), 1)], 1)
            gram += rows.T @ rows
            cross += rows.T @ target[:, chosen].reshape(-1, 3)
    solution = torch.linalg.solve(gram, cross)
    return solution[:-1].T.reshape(3, 3, kernel, kernel), solution[-1]


def apply_filter(noisy: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """The filter on 0–255 images, reflected borders, clipped to 0–255."""
    radius = weight.shape[-1] // 2
    filtered = conv2d(pad(noisy.double() / 255, (radius,) * 4, mode="reflect"), weight, bias)
    return filtered.clamp(0, 1) * 255


def per_image_oracle_blur(noisy: Tensor, clean: Tensor) -> float:
    """Grading PSNR when each image gets the blur σ (of `harness.blur.SIGMAS` and none) best for it."""
    noisy, clean = noisy.float(), clean.float()
    per_sigma = torch.stack(
        [
            10 * torch.log10(255**2 / (gaussian_blur(noisy, sigma) - clean).pow(2).mean((1, 2, 3)))
            for sigma in (0.0, *SIGMAS)
        ]
    )
    return per_sigma.max(0).values.mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--val", type=Path, nargs="+", required=True)
    parser.add_argument("--kernel", type=int, default=7)
    parser.add_argument("--images", type=int, default=20_000, help="training pairs used per train file")
    parser.add_argument("--label", default="linear", help="name of the fit in the results")
    parser.add_argument("--results", type=Path, required=True, help="JSON-lines file records are appended to")
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    pairs = [load_train(path) for path in arguments.train]
    weight, bias = fit_filter(pairs, arguments.kernel, arguments.images)
    for path in arguments.val:
        noisy, clean = load_val(path)
        sigma, blur = best_blur_psnr(noisy, clean)
        record = {
            "label": f"{path.parent.name}-{arguments.label}",
            "val_set": path.parent.name,
            "kernel": arguments.kernel,
            "train": [str(train) for train in arguments.train],
            "psnr": scores(apply_filter(noisy, weight, bias), clean),
            "best_blur": {"sigma": sigma, "grading": round(blur, 3)},
            "per_image_oracle_blur": {"grading": round(per_image_oracle_blur(noisy, clean), 3)},
        }
        with arguments.results.open("a") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main()
