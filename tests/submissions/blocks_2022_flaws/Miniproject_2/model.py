"""Fixture: the flaws of a real 2022 submission that the course's preliminary script reported as OK.

- Conv2d hard-codes a 3x3 unfold: it crashes for any other kernel size;
- ReLU.forward clamps its input in place;
- Sequential.param() raises TypeError;
- no TransposeConv2d (NearestUpsampling instead, which the statement allows), no Upsampling.
Sigmoid, NearestUpsampling, MSE and SGD are right. Only the statement's imports are used.
"""

import math

from torch import empty
from torch.nn.functional import fold, unfold


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        bound = 1 / math.sqrt(in_channels * k * k)
        self.weight = empty(out_channels, in_channels, k, k).uniform_(-bound, bound)
        self.bias = empty(out_channels).uniform_(-bound, bound)
        self.weight_grad = empty(self.weight.shape).zero_()
        self.bias_grad = empty(out_channels).zero_()
        self.settings = dict(stride=stride, padding=padding, dilation=dilation)

    def forward(self, x):
        self.input_size = x.shape[2:]
        self.cols = unfold(x, 3, **self.settings)
        out = self.weight.view(self.weight.shape[0], -1) @ self.cols + self.bias.view(1, -1, 1)
        s, p, d = self.settings["stride"], self.settings["padding"], self.settings["dilation"]
        h = (x.shape[2] + 2 * p - d * 2 - 1) // s + 1
        w = (x.shape[3] + 2 * p - d * 2 - 1) // s + 1
        return out.view(x.shape[0], -1, h, w)

    def backward(self, grad_output):
        g = grad_output.flatten(2)
        self.weight_grad += (g @ self.cols.transpose(1, 2)).sum(0).view(self.weight.shape)
        self.bias_grad += g.sum((0, 2))
        grad_cols = self.weight.view(self.weight.shape[0], -1).t() @ g
        return fold(grad_cols, self.input_size, 3, **self.settings)

    def param(self):
        return [(self.weight, self.weight_grad), (self.bias, self.bias_grad)]


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x.clamp_(min=0)

    def backward(self, grad_output):
        return grad_output * self.mask

    def param(self):
        return []


class Sigmoid:
    def forward(self, x):
        self.s = 1 / (1 + (-x).exp())
        return self.s

    def backward(self, grad_output):
        return grad_output * self.s * (1 - self.s)

    def param(self):
        return []


class NearestUpsampling:
    def __init__(self, scale_factor=2):
        self.k = scale_factor

    def forward(self, x):
        return x.repeat_interleave(self.k, 2).repeat_interleave(self.k, 3)

    def backward(self, grad_output):
        n, c, h, w = grad_output.shape
        return grad_output.view(n, c, h // self.k, self.k, w // self.k, self.k).sum((3, 5))

    def param(self):
        return []


class MSE:
    def forward(self, prediction, target):
        self.difference = prediction - target
        return self.difference.pow(2).mean()

    def backward(self):
        return 2 * self.difference / self.difference.numel()

    def param(self):
        return []


class SGD:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self):
        for param, grad in self.params:
            param -= self.lr * grad


class Sequential:
    def __init__(self, *modules):
        self.modules = modules

    def forward(self, x):
        for module in self.modules:
            x = module.forward(x)
        return x

    def backward(self, grad_output):
        for module in reversed(self.modules):
            grad_output = module.backward(grad_output)
        return grad_output

    def param(self):
        return [module.param() for module in self.modules] + None
