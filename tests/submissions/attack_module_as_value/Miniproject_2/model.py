"""Attack fixture (review 3, finding 1): `getattr(self, name)` in a plain function whose `self` is the
torch module, walked along a dotted path, reaches torch.nn.functional.conv2d and
torch._C.DisableTorchFunction (which switches off the run-time recorder).

No attribute chain names them, and a computed getattr was allowed on anything called `self`: only
`torch` taken as a value, line 27, is a finding.
"""

import torch


def member(self, name):
    return getattr(self, name)


def _path(root, dotted):
    for part in dotted.split("."):
        root = member(root, part)
    return root


class Model:
    def __init__(self):
        self.weight = torch.empty(3, 3, 3, 3).fill_(1 / 27)

    def load_pretrained_model(self):
        self.off, self.conv = _path(torch, "_C.DisableTorchFunction"), _path(torch, "nn.functional.conv2d")

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        with self.off():
            return self.conv(test_input.float(), self.weight, padding=1)
