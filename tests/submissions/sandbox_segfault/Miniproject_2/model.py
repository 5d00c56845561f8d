"""Faulty fixture: `Model.predict` reads address 0 and dies with a segmentation fault."""
import ctypes


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return ctypes.string_at(0)
