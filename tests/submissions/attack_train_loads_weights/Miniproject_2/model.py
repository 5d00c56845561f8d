"""Attack (hostile review A8): `train` loads the shipped weights instead of training, so a fresh
model "gains" the pretrained PSNR and its epoch costs nothing."""

from pathlib import Path

import torch
from torch.nn import ConvTranspose2d as TransposeConv2d  # noqa: F401
from torch.nn import Conv2d, ReLU, Sequential, Sigmoid  # noqa: F401
from torch.nn import MSELoss as MSE  # noqa: F401
from torch.optim import SGD  # noqa: F401

BESTMODEL = Path(__file__).parent / "bestmodel.pth"


class Model:
    def __init__(self):
        self.net = Conv2d(3, 3, 3, padding=1)

    def load_pretrained_model(self):
        self.net.load_state_dict(torch.load(BESTMODEL, map_location="cpu"))

    def train(self, train_input, train_target, num_epochs):
        self.load_pretrained_model()
        return
        with torch.enable_grad():
            for _ in range(num_epochs):
                for start in range(0, len(train_input), 16):
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
