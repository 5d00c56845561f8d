"""Verdict fixture: `predict` returns uint8 images (a 3x3 mean filter, rounded), as 7 of 35 real 2022
submissions did. The statement asks for 0-255 values and the input's shape, no dtype: the required
`api.predict` passes, only `api.predict-float` does not."""

from torch import cat


class Model:
    def __init__(self):
        pass

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        x = test_input.double()
        padded = cat([x[:, :, :1], x, x[:, :, -1:]], 2)
        padded = cat([padded[:, :, :, :1], padded, padded[:, :, :, -1:]], 3)
        h, w = x.shape[2:]
        total = sum(padded[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3))
        return (total / 9).round().clamp(0, 255).to(test_input.dtype)
