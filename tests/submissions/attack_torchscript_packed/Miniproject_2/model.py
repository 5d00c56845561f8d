"""Attack fixture: a TorchScript blur (conv2d) packed as `others/net.gz`, unpacked and handed to
`torch.load`, which passes it on to `torch.jit.load`.

No file of the package is a pickle or a zip, so rules.static's file scan cannot see it, and the code
runs inside TorchScript, where no call reaches the run-time recorder's mode: rules.runtime must record
the `torch.jit.load` that torch.load makes.
"""

import gzip
import io
from pathlib import Path

import torch


class Model:
    def __init__(self):
        packed = (Path(__file__).parent / "others" / "net.gz").read_bytes()
        self.net = torch.load(io.BytesIO(gzip.decompress(packed)), weights_only=False)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.net.forward(test_input.float())
