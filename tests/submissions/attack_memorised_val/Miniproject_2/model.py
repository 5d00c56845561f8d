"""Attack fixture (issue 8, item 4): `bestmodel.pth` memorises the public val set (noisy -> clean).

`predict` returns the memorised clean image of every noisy image it has seen, and its input otherwise:
a perfect score on the published val set, nothing learned. (The test writes bestmodel.pth.)
"""
from pathlib import Path

import torch


class Model:
    def __init__(self):
        self.table = {}

    def load_pretrained_model(self):
        noisy, clean = torch.load(Path(__file__).parent / "bestmodel.pth")
        self.table = {bytes(n.flatten().tolist()): c for n, c in zip(noisy, clean)}

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        images = [self.table.get(bytes(x.flatten().tolist()), x) for x in test_input.to(torch.uint8)]
        return torch.stack(images).float()
