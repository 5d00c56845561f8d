"""Fixture: `import torch` only for grad mode, devices and loading, as the course's test script does."""
from pathlib import Path

import torch
from torch import empty

torch.set_grad_enabled(False)


class Model:
    def __init__(self):
        self.device = torch.device("cpu")
        self.scale = empty(1).fill_(1.0)

    def load_pretrained_model(self):
        self.scale = torch.load(Path(__file__).parent / "bestmodel.pth", map_location=self.device)

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float() * self.scale
