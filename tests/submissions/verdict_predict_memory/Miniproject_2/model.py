"""Verdict fixture: `predict` keeps a 256 MB buffer per image channel it sees, so on the 512x512 image
it runs out of memory: the message must say how much it had used."""

from torch import empty


class Model:
    def __init__(self):
        self.buffers = []

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        for _ in range(test_input.shape[-1]):
            self.buffers.append(empty(64, 1024, 1024).fill_(1.0))
        return test_input.float()
