"""Faulty fixture: predictions computed with numpy, a third-party library."""
import numpy as np
from torch import empty


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        out = empty(test_input.shape)
        out.copy_(test_input)
        return out.clamp(0, 255) * float(np.ones(1)[0])
