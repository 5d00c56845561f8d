"""Faulty fixture: blocks built on torch.nn.Module (imported as a module, which the statement forbids)."""
import torch.nn as nn


class ReLU(nn.Module):
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad_output):
        return grad_output * self.mask

    def param(self):
        return []


class Model:
    def __init__(self):
        self.relu = ReLU()

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.relu(test_input.float())
