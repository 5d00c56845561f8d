"""Faulty fixture: results that try to fool a comparison in the grader's process."""
from torch import Tensor, empty


class AlwaysEqual:
    def __eq__(self, other):
        return True


class Shiny(Tensor):
    pass


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        return AlwaysEqual()

    def predict(self, test_input):
        return empty(2).fill_(0.5).as_subclass(Shiny)
