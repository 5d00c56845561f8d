"""Faulty fixture: `train` computes for about 0.1 s of CPU per pair: a 50,000-pair epoch takes over an hour.

The work is a fixed amount of arithmetic per pair (no sleep: a sleeping train costs no CPU time, and
the harness times with the kernel's CPU time), beside one small convolution step per batch.
"""

from pathlib import Path

import torch
from torch.nn import Conv2d, ReLU, Sequential, Sigmoid  # noqa: F401
from torch.nn import ConvTranspose2d as TransposeConv2d  # noqa: F401
from torch.nn import MSELoss as MSE  # noqa: F401
from torch.optim import SGD  # noqa: F401

BESTMODEL = Path(__file__).parent / "bestmodel.pth"
STEPS_PER_PAIR = 1_500_000
"""Python loop steps per pair: about 0.1 s of one core on the 2-core machine this was written on, and
above the 36 ms per pair of a 30-minute epoch on a core three times as fast."""


def _work(pairs):
    total = 0
    for step in range(STEPS_PER_PAIR * pairs):
        total += step & 7
    return total


class Model:
    def __init__(self):
        self.net = Conv2d(3, 3, 3, padding=1)

    def load_pretrained_model(self):
        self.net.load_state_dict(torch.load(BESTMODEL, map_location="cpu"))

    def train(self, train_input, train_target, num_epochs):
        with torch.enable_grad():
            for _ in range(num_epochs):
                for start in range(0, len(train_input), 16):
                    _work(len(train_input[start : start + 16]))
                    noisy = train_input[start : start + 16].float() / 255
                    target = train_target[start : start + 16].float() / 255
                    loss = ((self.net(noisy) - target) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        for parameter in self.net.parameters():
                            parameter -= 0.05 * parameter.grad
                            parameter.grad = None

    def predict(self, test_input):
        return (self.net(test_input.float() / 255) * 255).clamp(0, 255)
