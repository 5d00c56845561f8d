"""Write attack_torchscript_weights/Miniproject_2/bestmodel.pth: a TorchScript archive of a 3x3 blur.

`torch.load` hands an archive with `constants.pkl` to `torch.jit.load`, which returns a ScriptModule
whose code (`code/__torch__.py`, calling conv2d) no pickle opcode names. Deterministic: the same entries
on every run (the weights come from a fixed kernel, not a random initialisation).
"""

from pathlib import Path

import torch


class Blur(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.full((3, 1, 3, 3), 1 / 9), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(x, self.weight, padding=1, groups=3)


torch.jit.save(torch.jit.script(Blur()), Path(__file__).parent / "Miniproject_2" / "bestmodel.pth")
