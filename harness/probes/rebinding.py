"""Replacing a torch function for a submission's code for a while, wherever that code reached it.

A submission reaches `torch.load` or `torch.empty` as `torch.load` or as a name it imported
(`from torch import empty`), bound when its module ran. `rebound` swaps both (the torch attribute and
every module global of the submission's package bound to the original) and restores them after.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import torch


@contextmanager
def rebound(model: ModuleType, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    """`torch.<name>` and the submission's names bound to it are `replacement` inside the block."""
    original = getattr(torch, name)
    package = model.__name__.partition(".")[0]
    modules = [m for n, m in list(sys.modules.items()) if n == package or n.startswith(package + ".")]
    bound = [(m, attribute) for m in modules for attribute, value in vars(m).items() if value is original]
    setattr(torch, name, replacement)
    for module, attribute in bound:
        setattr(module, attribute, replacement)
    try:
        yield
    finally:
        setattr(torch, name, original)
        for module, attribute in bound:
            setattr(module, attribute, original)
