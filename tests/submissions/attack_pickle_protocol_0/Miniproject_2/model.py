"""Attack fixture (pickle scan): bestmodel.pth is a protocol-0 pickle that holds torch.nn.functional.relu.

Protocol 0 starts with no PROTO byte, and the scan once read only pickles that did; `torch.load` builds
the function all the same, and predict calls it. The source names nothing but `torch.load`.
"""

from pathlib import Path

import torch


class Model:
    def __init__(self):
        weights = torch.load(Path(__file__).parent / "bestmodel.pth", weights_only=False)
        self.activation, self.scale = weights["activation"], weights["scale"]

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.activation(test_input.float() * self.scale)
