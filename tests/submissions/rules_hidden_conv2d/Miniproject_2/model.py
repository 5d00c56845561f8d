"""Faulty fixture: a convolution through F.conv2d, fetched by names built at run time."""
from torch import empty

conv = getattr(__import__("torch.nn.functional", fromlist=["x"]), "con" + "v2d")


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        self.weight = empty(out_channels, in_channels, kernel_size, kernel_size).normal_()
        self.bias = empty(out_channels).zero_()
        self.stride, self.padding = stride, padding

    def forward(self, x):
        return conv(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def backward(self, grad_output):
        return grad_output

    def param(self):
        return [(self.weight, self.weight.clone().zero_()), (self.bias, self.bias.clone().zero_())]


class Model:
    def __init__(self):
        self.conv = Conv2d(3, 3, 3, padding=1)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return self.conv.forward(test_input.float())
