"""The weights file: a network's parameters with the architecture and recipe that made them."""

from __future__ import annotations

import pickle
from dataclasses import asdict
from pathlib import Path

from .recipe import Recipe

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
