"""Verdict fixture: leftover top-level `import matplotlib.pyplot` and `import seaborn` (not installed where
the harness runs) for a plotting helper that is never called, in an otherwise working submission. The
rules fail (third-party imports), but with a stand-in for seaborn the API and blocks are still graded."""

import matplotlib.pyplot as plt
import seaborn as sns
from torch import empty


def plot_losses(losses):
    plt.plot(losses)
    sns.despine()
    plt.savefig("losses.png")


class ReLU:
    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, grad_output):
        return grad_output * self.positive

    def param(self):
        return []


class Model:
    def __init__(self):
        self.scale = empty(1).fill_(1.0)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float() * self.scale
