"""Clean fixture: the framework is clean; a test script in others/ compares against torch.nn.functional."""
from .others.relu import ReLU


class Model:
    def __init__(self):
        self.relu = ReLU()

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.relu.forward(test_input.float())
