"""Faulty fixture: `Model.train` keeps allocating (and touching) memory until it is stopped."""
from torch import empty


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        hoard = []
        while True:
            hoard.append(empty(16 * 2**20).fill_(1.0))  # 64 MB each, written so it is resident

    def predict(self, test_input):
        return test_input
