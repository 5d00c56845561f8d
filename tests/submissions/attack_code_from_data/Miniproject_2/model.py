"""Attack fixture: the convolution comes from `others/conv.txt`, Python source under a name the scan
does not read (only `.py` files are parsed), run with `runpy.run_path`.

rules.runtime sees the conv2d (the code runs in this process, called from predict); rules.static must
flag the loader itself, since what it runs is never parsed.
"""

import runpy
from pathlib import Path

from torch import empty

conv = runpy.run_path(str(Path(__file__).parent / "others" / "conv.txt"))["conv"]


class Model:
    def __init__(self):
        self.weight = empty(3, 3, 3, 3).fill_(0)
        for channel in range(3):
            self.weight[channel, channel] = 1 / 9

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return conv(test_input.float(), self.weight, padding=1)
