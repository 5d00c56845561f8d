"""Attack fixture (pickle scan): bestmodel.pth is a TorchScript archive of a 3x3 blur by conv2d.

`torch.load` hands an archive holding `constants.pkl` to `torch.jit.load`; the ScriptModule's code runs
inside TorchScript, where no pickle opcode names it and the source names nothing but `torch.load`.
"""

from pathlib import Path

import torch


class Model:
    def __init__(self):
        self.net = torch.load(Path(__file__).parent / "bestmodel.pth", weights_only=False)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.net.forward(test_input.float())
