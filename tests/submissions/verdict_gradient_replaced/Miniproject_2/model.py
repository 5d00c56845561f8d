"""Verdict fixture: Conv2d starts its gradients as one-element placeholders and *replaces* them in
backward instead of adding to them. The first backward is right; the second must be named as
"replaced, not accumulated" (not as a change of shape)."""

import math

from torch import empty
from torch.nn.functional import fold, unfold


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        bound = 1 / math.sqrt(in_channels * k[0] * k[1])
        self.kernel = k
        self.options = {"stride": stride, "padding": padding, "dilation": dilation}
        self.weight = empty(out_channels, in_channels, *k).uniform_(-bound, bound)
        self.bias = empty(out_channels).uniform_(-bound, bound) if bias else None
        self.dweight = empty(1).zero_()
        self.dbias = empty(1).zero_()

    def forward(self, x):
        self.size = x.shape[-2:]
        self.cols = unfold(x, self.kernel, **self.options)
        out = self.weight.flatten(1) @ self.cols
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1)
        s = [self.options[key] for key in ("stride", "padding", "dilation")]
        s = [(v, v) if isinstance(v, int) else tuple(v) for v in s]
        h, w = (
            (self.size[i] + 2 * s[1][i] - s[2][i] * (self.kernel[i] - 1) - 1) // s[0][i] + 1 for i in range(2)
        )
        return out.view(x.shape[0], -1, h, w)

    def backward(self, grad_output):
        g = grad_output.flatten(2)
        self.dweight = (g @ self.cols.transpose(1, 2)).sum(0).view(self.weight.shape)
        self.dbias = g.sum((0, 2))
        return fold(self.weight.flatten(1).t() @ g, self.size, self.kernel, **self.options)

    def param(self):
        pairs = [(self.weight, self.dweight)]
        return pairs + ([(self.bias, self.dbias)] if self.bias is not None else [])
