"""Faulty fixture: `Model.train` leaves the interpreter with `os._exit(3)`."""
import os


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        os._exit(3)

    def predict(self, test_input):
        return test_input
