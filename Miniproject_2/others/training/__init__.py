"""How the reference `Model` trains and predicts, one concern per module; this package's names are the
public API that `model.py` and `experiments/` use.

- `recipe`: the `Recipe`, the batch plan (`batch_plan`, `Batch`, `steps_in`) and the schedule
  (`learning_rate_at`);
- `augmentation`: the eight symmetries of the square (`apply_transform`, `undo_transform`);
- `images`: 0–255 images to [0, 1] (`to_unit_range`) and mirror padding (`pad_to_multiple`);
- `checkpoint`: the weights file (`save_weights`, `load_weights`);
- `progress`: the progress line; `device`: CPU or CUDA.

Only `torch.empty`, `torch.cat` and tensor methods are used, plus the standard library.
"""

from .augmentation import DIHEDRAL_TRANSFORMS, apply_transform, undo_transform
from .checkpoint import load_weights, save_weights
from .device import choose_device
from .images import pad_to_multiple, to_unit_range
from .progress import ProgressLine
from .recipe import Batch, Recipe, batch_plan, learning_rate_at, steps_in

__all__ = [
    "DIHEDRAL_TRANSFORMS",
    "Batch",
    "ProgressLine",
    "Recipe",
    "apply_transform",
    "batch_plan",
    "choose_device",
    "learning_rate_at",
    "load_weights",
    "pad_to_multiple",
    "save_weights",
    "steps_in",
    "to_unit_range",
    "undo_transform",
]
