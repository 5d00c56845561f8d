"""Verdict fixture: `Model` has no `load_pretrained_model` method. That is the submission's fault, with
its points withheld as such, not a set-up problem for the grader to re-run."""


class Model:
    def __init__(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()
