"""The best Gaussian blur as a denoiser: the floor any learned denoiser of a data set should beat.

A data set on which blurring scores as well as a trained network is no denoising benchmark, so
`harness data info` shows this figure next to the noisy-vs-clean PSNR.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn.functional import conv2d, pad

from harness.psnr import METRICS

SIGMAS = tuple(round(0.25 * step, 2) for step in range(1, 13))
"""The blur widths tried, in pixels: 0.25 to 3.0 in steps of 0.25 (0, no blur, is tried too)."""


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """`images` (`N×C×H×W`, float) convolved with a normalised Gaussian of std `sigma` pixels.

    Separable: the kernel `k[i] ∝ exp(−i²/(2σ²))`, `|i| ≤ ⌈3σ⌉`, runs along rows then columns, each
    channel on its own, with reflected borders (so a flat image stays flat).
    """
    if sigma == 0:
        return images
    radius = min(math.ceil(3 * sigma), images.shape[-1] - 1, images.shape[-2] - 1)
    taps = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    rows = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    cols = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    blurred = conv2d(pad(images, (radius, radius, 0, 0), mode="reflect"), rows, groups=channels)
    return conv2d(pad(blurred, (0, 0, radius, radius), mode="reflect"), cols, groups=channels)


def best_blur_psnr(noisy: Tensor, clean: Tensor, metric: str = "grading") -> tuple[float, float]:
    """`(sigma, psnr)` of the Gaussian blur of `noisy` (0-255) that scores best against `clean` under the
    named metric (`harness.psnr.METRICS`), over `SIGMAS` and no blur at all (sigma 0)."""
    score = METRICS[metric]
    noisy, clean = noisy.float(), clean.float()
    results = [(sigma, score(gaussian_blur(noisy, sigma), clean)) for sigma in (0.0, *SIGMAS)]
    return max(results, key=lambda result: result[1])
