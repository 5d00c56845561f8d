"""Fixture: every block right, computed by torch.nn.functional + autograd (forbidden by the course's
rules, mathematically correct). The blocks checks must give it full marks."""

import math

import torch
import torch.nn.functional as F


class Module:
    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError

    def param(self):
        return []


class _Autograd(Module):
    """forward through a torch function; backward through autograd on the cached input."""

    def _pairs(self):
        return self.param()

    def _parameters(self):
        return [p for p, _ in self._pairs()]

    def forward(self, x):
        self._input = x.clone()
        return self._function(x, *self._parameters())

    def backward(self, grad_output):
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_(True) for t in (self._input, *self._parameters())]
            output = self._function(*leaves)
            grads = torch.autograd.grad(output, leaves, grad_output)
        for (_, accumulated), grad in zip(self._pairs(), grads[1:]):
            accumulated.add_(grad)
        return grads[0]


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


class _Convolution(_Autograd):
    def __init__(self, shape, out_channels, bias):
        fan_in = shape[1] * shape[2] * shape[3]
        bound = 1 / math.sqrt(fan_in)
        self.weight = torch.empty(shape).uniform_(-bound, bound)
        self.weight_grad = torch.zeros(shape)
        self.bias = torch.empty(out_channels).uniform_(-bound, bound) if bias else None
        self.bias_grad = torch.zeros(out_channels) if bias else None

    def param(self):
        pairs = [(self.weight, self.weight_grad)]
        return pairs + [(self.bias, self.bias_grad)] if self.bias is not None else pairs


class Conv2d(_Convolution):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__((out_channels, in_channels, *_pair(kernel_size)), out_channels, bias)
        self.settings = (stride, padding, dilation)

    def _function(self, x, weight, bias=None):
        stride, padding, dilation = self.settings
        return F.conv2d(x, weight, bias, stride, padding, dilation)


class TransposeConv2d(_Convolution):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, bias=True,
                 dilation=1):
        super().__init__((in_channels, out_channels, *_pair(kernel_size)), out_channels, bias)
        self.settings = (stride, padding, output_padding, 1, dilation)

    def _function(self, x, weight, bias=None):
        return F.conv_transpose2d(x, weight, bias, *self.settings)


class NearestUpsampling(_Autograd):
    def __init__(self, scale_factor=2):
        self.scale_factor = scale_factor

    def _function(self, x):
        return F.interpolate(x, scale_factor=self.scale_factor, mode="nearest")


class Upsampling(Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, dilation=1, bias=True,
                 scale_factor=2):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias)
        self.scale_factor = scale_factor

    def _function(self, x, weight, bias=None):
        upsampled = F.interpolate(x, scale_factor=self.scale_factor, mode="nearest")
        return super()._function(upsampled, weight, bias)


class ReLU(_Autograd):
    def _function(self, x):
        return F.relu(x)


class Sigmoid(_Autograd):
    def _function(self, x):
        return torch.sigmoid(x)


class MSE(Module):
    def forward(self, prediction, target):
        self._difference = prediction - target
        return (self._difference**2).mean()

    def backward(self):
        return 2 * self._difference / self._difference.numel()


class SGD:
    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.params, self.lr = params, lr
        self.momentum, self.dampening, self.weight_decay, self.nesterov = momentum, dampening, weight_decay, nesterov
        self.buffers = [None for _ in params]

    def step(self):
        for index, (param, grad) in enumerate(self.params):
            d = grad + self.weight_decay * param
            if self.momentum:
                if self.buffers[index] is None:
                    self.buffers[index] = d.clone()
                else:
                    self.buffers[index] = self.momentum * self.buffers[index] + (1 - self.dampening) * d
                d = d + self.momentum * self.buffers[index] if self.nesterov else self.buffers[index]
            param.sub_(self.lr * d)


class Sequential(Module):
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
        return [pair for module in self.modules for pair in module.param()]
