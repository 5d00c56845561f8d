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

from Miniproject_2.model import ARCHITECTURE, up_kernels
from Miniproject_2.others.training import Recipe


@dataclass(frozen=True)
class Width:
    """Channels after the first and the second stride-2 convolution, the kernel of each convolution, and how
    the decoder upsamples ×2: `"nearest"` (nearest ×2 then a convolution) or `"transposed"` (a transposed
    convolution of stride 2, padding (u − 2)/2), as in the Model's `ARCHITECTURE` (`up_kernel` one u for
    both upsamplings or a pair, read by `up_kernels`)."""

    first: int
    second: int
    down_kernel: int = 3
    up_kernel: int | tuple = 3
    upsampling: str = "nearest"

    @classmethod
    def of(cls, architecture: dict) -> Width:
        """The width of a Model `architecture` dict."""
        first, second = architecture["channels"]
        return cls(
            first, second, architecture["down_kernel"], architecture["up_kernel"], architecture["upsampling"]
        )


def architecture_with(architecture: dict, settings: list[str]) -> dict:
    """`architecture` with entries set from `name=value` strings (`channels=32,64`, `up_kernel=4`,
    `up_kernel=2,4`): a value with commas is a tuple of ints, a single number an int (`up_kernel=4` when the
    entry is a pair), any other one a string."""
    changed = dict(architecture)
    for setting in settings:
        name, value = setting.split("=", 1)
        if "," in value:
            changed[name] = tuple(int(part) for part in value.split(","))
        else:
            changed[name] = int(value) if value.isdigit() else value
    return changed


def same_half_padding(kernel: int) -> int:
    """Padding that makes a stride-2 convolution of kernel `kernel` map an even H to H/2."""
    return (kernel - 1) // 2


def upsampling_layer(width: Width, in_channels: int, out_channels: int, kernel: int) -> nn.Module:
    """One ×2 upsampling of the decoder of kernel `kernel`, as `width.upsampling` says."""
    if width.upsampling == "transposed":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel, stride=2, padding=(kernel - 2) // 2)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
    )


def course_topology(width: Width) -> nn.Sequential:
    """The course's topology `Conv(s2), ReLU, Conv(s2), ReLU, Upsampling, ReLU, Upsampling, Sigmoid` in
    torch.nn; with the Model's `ARCHITECTURE`, the torch twin of our `Model`."""
    pad_down = same_half_padding(width.down_kernel)
    first_up, last_up = up_kernels(width.up_kernel)
    return nn.Sequential(
        nn.Conv2d(3, width.first, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        nn.Conv2d(width.first, width.second, width.down_kernel, stride=2, padding=pad_down),
        nn.ReLU(),
        upsampling_layer(width, width.second, width.first, first_up),
        nn.ReLU(),
        upsampling_layer(width, width.first, 3, last_up),
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


OUR_WIDTH = Width.of(ARCHITECTURE)
OUR_RECIPE = Recipe()
PLAIN_2022 = Recipe(augment=False, swap_pairs=False, warmup_steps=0, final_fraction=1.0, momentum=0.0)

CONTENDERS: dict[str, Contender] = {
    contender.name: contender
    for contender in [
        Contender(
            "baseline-2022",
            "16/32 channels, nearest-upsampling + conv, SGD lr 0.5, batch 5",
            lambda: course_topology(Width(16, 32)),
            replace(PLAIN_2022, learning_rate=0.5, batch_size=5),
        ),
        Contender(
            "best-2022",
            "64/128 channels, transposed conv k2 s2, SGD momentum 0.9, lr 2, batch 16",
            lambda: course_topology(Width(64, 128, up_kernel=2, upsampling="transposed")),
            replace(PLAIN_2022, learning_rate=2.0, momentum=0.9, batch_size=16),
        ),
        Contender(
            "twin",
            "our network and recipe in torch.nn",
            lambda: course_topology(OUR_WIDTH),
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
