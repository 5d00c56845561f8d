"""Write attack_pickled_torch_function/Miniproject_2/bestmodel.pth: torch._C._nn.avg_pool2d in a torch.save file.

A torch function outside torch.nn's Python modules pickles as `GLOBAL torch._C._nn avg_pool2d`; the scan
once judged only the modules torch.nn, torch.optim and torch.autograd. Deterministic: the same pickle
(data.pkl) on every run.
"""

from pathlib import Path

import torch

weights = {"blur": torch._C._nn.avg_pool2d, "kernel": 3}
torch.save(weights, Path(__file__).parent / "Miniproject_2" / "bestmodel.pth")
