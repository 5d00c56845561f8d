"""Faulty fixture: an MSE whose backward asks autograd, and a train that leaves grad mode on."""
import torch


class MSE:
    def forward(self, prediction, target):
        self.prediction, self.target = prediction, target
        return ((prediction - target) ** 2).mean()

    def backward(self):
        with torch.enable_grad():
            prediction = self.prediction.detach().requires_grad_()
            ((prediction - self.target) ** 2).mean().backward()
        return prediction.grad

    def param(self):
        return []


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        torch.set_grad_enabled(True)

    def predict(self, test_input):
        return test_input.float()
