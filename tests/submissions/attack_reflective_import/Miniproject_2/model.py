"""Attack fixture (issue 8, item 2; review B): torch.nn reached by names the scan once could not follow.

- `importlib.import_module` taken as a value, then called;
- `pkgutil.resolve_name` with a "module:attribute" name;
- `operator.attrgetter` with a dotted path, applied to an innocent-looking module;
- `bestmodel.pth` holds a pickled `torch.nn.Conv2d`: `torch.load` builds it, whatever the source says.
"""
import importlib
import operator
import pkgutil

import torch
from torch import empty

find = importlib.import_module
nn = find("torch.nn")
Conv = pkgutil.resolve_name("torch.nn:Conv2d")
conv2d = operator.attrgetter("nn.functional.conv2d")(importlib.import_module("torch"))


class Model:
    def __init__(self):
        self.net = None

    def load_pretrained_model(self):
        self.net = torch.load(__file__.replace("model.py", "bestmodel.pth"), weights_only=False)

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.net(test_input.float()) if self.net is not None else empty(test_input.shape)
