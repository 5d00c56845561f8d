"""EE-559 Mini-project 2: a denoiser built from scratch. Every block graders import comes from here."""

from pathlib import Path

from torch import cat, empty

from .others.activation import ReLU, Sigmoid
from .others.conv import Conv2d
from .others.loss import MSE
from .others.module import Module
from .others.nearest_upsampling import NearestUpsampling
from .others.optim import SGD
from .others.sequential import Sequential
from .others.training import (
    DIHEDRAL_TRANSFORMS,
    Batch,
    ProgressLine,
    Recipe,
    apply_transform,
    batch_plan,
    choose_device,
    learning_rate_at,
    load_weights,
    pad_to_multiple,
    save_weights,
    steps_in,
    to_unit_range,
    undo_transform,
)
from .others.transpose_conv import TransposeConv2d
from .others.upsampling import Upsampling

__all__ = [
    "MSE",
    "SGD",
    "Conv2d",
    "Model",
    "Module",
    "NearestUpsampling",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "TransposeConv2d",
    "Upsampling",
]


ARCHITECTURE = {"channels": (48, 96), "down_kernel": 3, "up_kernel": (2, 4), "upsampling": "transposed"}
"""The network's widths and kernels: Conv(3→c₁, k, stride 2) → Conv(c₁→c₂, k, stride 2) → Upsampling(c₂→c₁)
→ Upsampling(c₁→3), each upsampling ×2 either `"nearest"` (nearest ×2 then a convolution of kernel u) or
`"transposed"` (a transposed convolution of kernel u, stride 2, padding (u − 2)/2); `up_kernel` is one u
for both upsamplings or a pair (c₂→c₁, c₁→3), see `up_kernels`."""

DOWNSCALING = 4
"""The two stride-2 convolutions shrink H and W by 4: `predict` pads other sizes up to a multiple of 4."""

PREDICT_PIXELS_PER_BATCH = 1 << 18
"""Pixels (per channel) denoised at once by `predict`: 256 images of 32×32, or one of 512×512."""


def up_kernels(up_kernel) -> tuple:
    """The kernels (c₂→c₁, c₁→3) of the two upsamplings from an architecture's `up_kernel`: one int for
    both, or a pair."""
    return (up_kernel, up_kernel) if isinstance(up_kernel, int) else tuple(up_kernel)


def build_network(architecture: dict) -> Sequential:
    """The course's topology `Conv(s2), ReLU, Conv(s2), ReLU, Upsampling, ReLU, Upsampling, Sigmoid`, mapping
    N×3×H×W images in [0, 1] to N×3×H×W in (0, 1) for H, W multiples of 4."""
    first, second = architecture["channels"]
    down, (first_up, last_up) = architecture["down_kernel"], up_kernels(architecture["up_kernel"])

    def upsampling(in_channels: int, out_channels: int, up: int) -> Module:
        if architecture["upsampling"] == "transposed":
            return TransposeConv2d(in_channels, out_channels, up, stride=2, padding=(up - 2) // 2)
        return Upsampling(in_channels, out_channels, up, scale_factor=2, padding=up // 2)

    return Sequential(
        Conv2d(3, first, down, stride=2, padding=(down - 1) // 2),
        ReLU(),
        Conv2d(first, second, down, stride=2, padding=(down - 1) // 2),
        ReLU(),
        upsampling(second, first, first_up),
        ReLU(),
        upsampling(first, 3, last_up),
        Sigmoid(),
    )


class Model:
    """The reference denoiser: the course's topology trained Noise2Noise with `Recipe()`.

    Images are 0–255 outside the model and [0, 1] inside; the loss is `MSE` on [0, 1].
    """

    def __init__(self) -> None:
        self.architecture = dict(ARCHITECTURE)
        self.recipe = Recipe()
        self.device = choose_device()
        self.network = build_network(self.architecture).to(self.device)
        self.loss = MSE()
        self.verbose = False
        self.self_ensemble = True
        self.losses: list[float] = []

    def load_pretrained_model(self, path: Path | None = None) -> None:
        """Restore the weights saved at `path` (default: `bestmodel.pth` next to this file, whatever the
        working directory)."""
        source = Path(__file__).resolve().parent / "bestmodel.pth" if path is None else Path(path)
        state = load_weights(source, self.architecture)
        self.network.load_state_dict(state)

    def save_model(self, path: Path | None = None) -> None:
        """Write the current weights to `path` (default: `bestmodel.pth` next to this file)."""
        target = Path(__file__).resolve().parent / "bestmodel.pth" if path is None else Path(path)
        save_weights(target, self.network.state_dict(), self.architecture, self.recipe)

    def train(self, train_input, train_target, num_epochs: float = 12) -> None:
        """Train on pairs of noisy images (N×3×H×W, uint8 or float in 0–255, H and W multiples of 4).

        Batches are converted to float on the fly, so memory beyond the inputs stays a few batches. The loss
        of every step is kept in `self.losses` (a list of floats, read back once at the end).
        """
        if train_input.shape != train_target.shape or train_input.dim() != 4:
            raise ValueError(
                f"train expects two N×3×H×W tensors of one shape, got {tuple(train_input.shape)} "
                f"and {tuple(train_target.shape)}"
            )
        recipe = self.recipe
        optimizer = self.make_optimizer()
        total_steps = steps_in(train_input.shape[0], num_epochs, recipe.batch_size)
        progress = ProgressLine(total_steps, self.verbose)
        losses = empty(total_steps, device=self.device)
        for step, batch in enumerate(batch_plan(train_input.shape[0], num_epochs, recipe)):
            optimizer.lr = learning_rate_at(recipe, step, step / total_steps)
            losses[step] = loss = self.train_step(optimizer, train_input, train_target, batch)
            progress.update(step, len(batch.indices), loss)
        self.losses = losses.tolist()

    def make_optimizer(self) -> SGD:
        """`SGD` over the network's parameters with the recipe's settings (the rate is set every step)."""
        recipe = self.recipe
        return SGD(
            self.network.param(),
            lr=recipe.learning_rate,
            momentum=recipe.momentum,
            nesterov=recipe.nesterov,
            weight_decay=recipe.weight_decay,
        )

    def train_step(self, optimizer: SGD, train_input, train_target, batch: Batch):
        """One step of `optimizer` on `batch` of the pairs (Noise2Noise: either side is the input, as
        `batch.swapped` says, seen through `batch.transform`); returns the loss, a 0-dim tensor."""
        source, target = (train_target, train_input) if batch.swapped else (train_input, train_target)
        inputs = apply_transform(to_unit_range(source[batch.indices], self.device), batch.transform)
        targets = apply_transform(to_unit_range(target[batch.indices], self.device), batch.transform)
        optimizer.zero_grad()
        outputs = self.network.forward(inputs)
        loss = self.loss.forward(outputs, targets)
        self.network.backward_parameters(self.loss.backward())  # the input is data: no dL/dx
        optimizer.step()
        return loss

    def predict(self, test_input):
        """Denoise N×3×H×W images (uint8 or float, 0–255; any N, H, W ≥ 1): float 0–255 out, same shape.

        Sizes that are not multiples of 4 are mirror-padded up to one and cropped back; images go through
        the network in batches of about `PREDICT_PIXELS_PER_BATCH` pixels. The output is the self-ensemble
        `(1/8)·Σ_t T_t⁻¹(f(T_t(x)))` over the eight symmetries T_t of the square (+0.2 dB, 8× the work),
        or the plain `f(x)` when `self_ensemble` is off.
        """
        transforms = DIHEDRAL_TRANSFORMS if self.self_ensemble else 1
        height, width = test_input.shape[2], test_input.shape[3]
        per_batch = max(1, PREDICT_PIXELS_PER_BATCH // (height * width))
        outputs = []
        for start in range(0, test_input.shape[0], per_batch):
            images = pad_to_multiple(
                to_unit_range(test_input[start : start + per_batch], self.device), DOWNSCALING
            )
            ensemble = images.new_zeros(images.shape)
            for transform in range(transforms):
                output = self.network.forward(apply_transform(images, transform))
                ensemble += undo_transform(output, transform)
            outputs.append(ensemble[:, :, :height, :width].mul(255.0 / transforms).to(test_input.device))
        return cat(outputs)
