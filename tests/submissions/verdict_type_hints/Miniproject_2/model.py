"""Verdict fixture: `import torch` used only as the course's template and test script use it: type
annotations (`-> torch.Tensor`), `torch.load`/`torch.save`, the device choice and
`torch.set_grad_enabled(False)`. The computation uses only the statement's `empty`. The default rule
profile must pass it; `strict` (opt-in) flags each use."""

from pathlib import Path

import torch
from torch import empty

BESTMODEL = Path(__file__).parent / "bestmodel.pth"

torch.set_grad_enabled(False)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ReLU:
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.positive: torch.Tensor = x > 0
        return x * self.positive

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output * self.positive

    def param(self) -> list:
        return []


class Model:
    def __init__(self) -> None:
        self.gain: torch.Tensor = empty(1, device=DEVICE).fill_(1.0)

    def load_pretrained_model(self) -> None:
        if BESTMODEL.is_file():
            self.gain = torch.load(BESTMODEL, map_location=DEVICE)

    def save(self, path: Path) -> None:
        torch.save(self.gain, path)

    def train(self, train_input: torch.Tensor, train_target: torch.Tensor, num_epochs: int) -> None:
        pass

    def predict(self, test_input: torch.Tensor) -> torch.Tensor:
        return (test_input.to(DEVICE).float() * self.gain).clamp(0, 255)
