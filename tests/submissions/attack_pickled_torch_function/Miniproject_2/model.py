"""Attack fixture (pickle scan): bestmodel.pth holds torch._C._nn.avg_pool2d, a torch function outside the
Python modules torch.nn, torch.optim and torch.autograd, the only ones the scan once judged in a pickle.

`torch.load` hands it back and predict blurs with it; the source names nothing but `torch.load`.
"""

from pathlib import Path

import torch


class Model:
    def __init__(self):
        weights = torch.load(Path(__file__).parent / "bestmodel.pth", weights_only=False)
        self.blur, self.kernel = weights["blur"], weights["kernel"]

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.blur(test_input.float(), self.kernel, 1, self.kernel // 2)
