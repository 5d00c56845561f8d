"""A 2022-style submission that saves its whole network object with `torch.save(self.network, path)`
and loads it back with a bare `torch.load(path)`: correct under the course's torch of 2022, whose
`torch.load` unpickled any object; torch >= 2.6 refuses it unless `weights_only=False` is passed."""

from pathlib import Path

import torch


class Network:
    """Stands in for the student's Sequential: a plain object the weights-only unpickler refuses."""

    def __init__(self) -> None:
        self.scale = 1.0

    def forward(self, x):
        return x * self.scale


class Model:
    def __init__(self) -> None:
        self.network = Network()

    def load_pretrained_model(self) -> None:
        self.network = torch.load(Path(__file__).parent / "bestmodel.pth")

    def loaded_scale(self) -> float:
        self.load_pretrained_model()
        return self.network.scale

    def train(self, train_input, train_target, num_epochs) -> None:
        pass

    def predict(self, test_input):
        return self.network.forward(test_input.float())
