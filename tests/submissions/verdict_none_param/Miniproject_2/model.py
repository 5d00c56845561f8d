"""Verdict fixture: the parameterless blocks return `[(None, None)]` from `param()`, a placeholder some
2022 submissions used. ReLU, Sigmoid and the Sequential that chains them with Conv2d layers must
pass (the placeholder named), not be zeroed."""

from torch import empty
from torch.nn.functional import fold, unfold


class ReLU:
    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, grad_output):
        return grad_output * self.positive

    def param(self):
        return [(None, None)]


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + (-x).exp())
        return self.out

    def backward(self, grad_output):
        return grad_output * self.out * (1 - self.out)

    def param(self):
        return [(None, None)]


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        self.k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.settings = {"stride": stride, "padding": padding, "dilation": dilation}
        scale = (in_channels * self.k[0] * self.k[1]) ** -0.5
        self.w = (empty(out_channels, in_channels, *self.k).uniform_() * 2 - 1) * scale
        self.b = (empty(out_channels).uniform_() * 2 - 1) * scale if bias else None
        self.dw, self.db = empty(self.w.shape).zero_(), empty(out_channels).zero_()

    def forward(self, x):
        self.x = x
        cols = unfold(x, self.k, **self.settings)
        out = self.w.view(len(self.w), -1) @ cols
        out = out if self.b is None else out + self.b[:, None]
        s, p, d = (_pair(self.settings[key]) for key in ("stride", "padding", "dilation"))
        size = [(x.shape[2 + i] + 2 * p[i] - d[i] * (self.k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
        return out.view(len(x), len(self.w), *size)

    def backward(self, grad_output):
        cols = unfold(self.x, self.k, **self.settings)
        g = grad_output.flatten(2)
        self.dw += (g @ cols.transpose(1, 2)).sum(0).view_as(self.w)
        self.db += g.sum((0, 2)) if self.b is not None else 0
        return fold(self.w.view(len(self.w), -1).t() @ g, self.x.shape[2:], self.k, **self.settings)

    def param(self):
        return [(self.w, self.dw)] + ([(self.b, self.db)] if self.b is not None else [])


class Sequential:
    def __init__(self, *layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_output):
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def param(self):
        return [pair for layer in self.layers for pair in layer.param()]


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
