"""The networks and recipes the reference model is compared with, all in torch.nn.

Each contender is a torch network plus a `Recipe` (the reference model's own recipe type, so every
contender shares the same batch plan, augmentation and schedule code) plus its optimizer. Networks map
[0, 1] images to [0, 1] images of the same size (H and W multiples of 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
from torch import nn

from Miniproject_2.model import ARCHITECTURE
from Miniproject_2.others.training import Recipe


@dataclass(frozen=True)
class Width:
    """Channels after the first and the second stride-2 convolution, and the kernel of each convolution."""

    first: int
    second: int
    down_kernel: int = 3
    up_kernel: int = 3


def same_half_padding(kernel: int) -> int:
    """Padding that makes a stride-2 convolution of kernel `kernel` map an even H to H/2."""
    return (kernel - 1) // 2


def required_topology(width: Width) -> nn.Sequential:
    """The course's topology with nearest-upsampling + convolution: the torch twin of our `Model`."""
    pad_down, pad_up = same_half_padding(width.down_kernel), width.up_kernel // 2
    return nn.Sequential(
        nn.Conv2d(3, width.first, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        nn.Conv2d(width.first, width.second, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(width.second, width.first, width.up_kernel, padding=pad_up),
        nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(width.first, 3, width.up_kernel, padding=pad_up),
        nn.Sigmoid(),
    )


def transposed_topology(width: Width) -> nn.Sequential:
    """The course's topology with transposed convolutions (kernel 2, stride 2), as the best 2022 reports."""
    pad_down = same_half_padding(width.down_kernel)
    return nn.Sequential(
        nn.Conv2d(3, width.first, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        nn.Conv2d(width.first, width.second, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        nn.ConvTranspose2d(width.second, width.first, 2, stride=2),
        nn.ReLU(),
        nn.ConvTranspose2d(width.first, 3, 2, stride=2),
        nn.Sigmoid(),
    )


class UNet(nn.Module):
    """A small U-Net with skip connections (outside the required topology): the ceiling of the table.

    32×32 → two 3×3 convs (c) → stride-2 conv (2c) → stride-2 conv (4c) → up + conv (2c) ⊕ skip → conv
    → up + conv (c) ⊕ skip → conv → 1×1 conv to 3 channels, sigmoid.
    """

    def __init__(self, channels: int = 24) -> None:
        super().__init__()
        c = channels

        def block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.ReLU())

        self.at_full = nn.Sequential(block(3, c), block(c, c))
        self.at_half = nn.Sequential(block(c, 2 * c, 2), block(2 * c, 2 * c))
        self.at_quarter = block(2 * c, 4 * c, 2)
        self.up_half = nn.Sequential(nn.Upsample(scale_factor=2), block(4 * c, 2 * c))
        self.merge_half = block(4 * c, 2 * c)
        self.up_full = nn.Sequential(nn.Upsample(scale_factor=2), block(2 * c, c))
        self.merge_full = block(2 * c, c)
        self.out = nn.Conv2d(c, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = self.at_full(x)
        half = self.at_half(full)
        merged_half = self.merge_half(torch.cat([self.up_half(self.at_quarter(half)), half], 1))
        merged_full = self.merge_full(torch.cat([self.up_full(merged_half), full], 1))
        return torch.sigmoid(self.out(merged_full))


def sgd(recipe: Recipe) -> Callable[[Iterator[nn.Parameter]], torch.optim.Optimizer]:
    return lambda parameters: torch.optim.SGD(
        parameters,
        lr=recipe.learning_rate,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov,
        weight_decay=recipe.weight_decay,
    )


def adam(recipe: Recipe) -> Callable[[Iterator[nn.Parameter]], torch.optim.Optimizer]:
    return lambda parameters: torch.optim.Adam(parameters, lr=recipe.learning_rate)


@dataclass(frozen=True)
class Contender:
    """A network, the recipe it trains with, and its optimizer."""

    name: str
    description: str
    network: Callable[[], nn.Module]
    recipe: Recipe
    optimizer: str = "sgd"

    def make_optimizer(self, parameters: Iterator[nn.Parameter]) -> torch.optim.Optimizer:
        factory = adam if self.optimizer == "adam" else sgd
        return factory(self.recipe)(parameters)


OUR_WIDTH = Width(*ARCHITECTURE["channels"], ARCHITECTURE["down_kernel"], ARCHITECTURE["up_kernel"])
OUR_RECIPE = Recipe()
PLAIN_2022 = Recipe(augment=False, swap_pairs=False, warmup_steps=0, final_fraction=1.0, momentum=0.0)

CONTENDERS: dict[str, Contender] = {
    contender.name: contender
    for contender in [
        Contender(
            "baseline-2022",
            "16/32 channels, nearest-upsampling + conv, SGD lr 0.5, batch 5",
            lambda: required_topology(Width(16, 32)),
            replace(PLAIN_2022, learning_rate=0.5, batch_size=5),
        ),
        Contender(
            "best-2022",
            "64/128 channels, transposed conv k2 s2, SGD momentum 0.9, lr 2, batch 16",
            lambda: transposed_topology(Width(64, 128)),
            replace(PLAIN_2022, learning_rate=2.0, momentum=0.9, batch_size=16),
        ),
        Contender(
            "twin",
            "our network and recipe in torch.nn",
            lambda: required_topology(OUR_WIDTH),
            OUR_RECIPE,
        ),
        Contender(
            "unet",
            "U-Net with skip connections, 24/48/96 channels, Adam lr 1e-3, our augmentation and schedule",
            UNet,
            replace(OUR_RECIPE, learning_rate=1e-3),
            optimizer="adam",
        ),
    ]
}
