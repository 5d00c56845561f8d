"""Verdict fixture: `train` slices batches of 16 with `narrow`, so it crashes unless the count is a
multiple of 16 (the course's 50,000 pairs are). It must be graded as a working `train`."""

import torch
from torch.nn import Conv2d

BATCH = 16


class Model:
    def __init__(self):
        self.net = Conv2d(3, 3, 3, padding=1)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        with torch.enable_grad():
            for _ in range(num_epochs):
                for start in range(0, len(train_input), BATCH):
                    noisy = train_input.narrow(0, start, BATCH).float() / 255
                    target = train_target.narrow(0, start, BATCH).float() / 255
                    loss = ((self.net(noisy) - target) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        for parameter in self.net.parameters():
                            parameter -= 0.05 * parameter.grad
                            parameter.grad = None

    def predict(self, test_input):
        return (self.net(test_input.float() / 255) * 255).clamp(0, 255)
