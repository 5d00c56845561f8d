"""Verdict fixture: the transposed convolution is a class named `Upsample` (a name some 2022 submissions
gave it). Its constructor takes channels and a kernel size, so it must be checked as TransposeConv2d,
not as a NearestUpsampling that fails every configuration."""

from torch import empty
from torch.nn.functional import fold, unfold


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


class Upsample:
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        dilation=1,
        bias=True,
    ):
        self.k, self.s, self.p = _pair(kernel_size), _pair(stride), _pair(padding)
        self.op, self.d = _pair(output_padding), _pair(dilation)
        scale = (out_channels * self.k[0] * self.k[1]) ** -0.5
        self.weight = (empty(in_channels, out_channels, *self.k).uniform_() * 2 - 1) * scale
        self.bias = (empty(out_channels).uniform_() * 2 - 1) * scale if bias else None
        self.grad_weight = empty(self.weight.shape).zero_()
        self.grad_bias = empty(out_channels).zero_()

    def _options(self):
        return {"kernel_size": self.k, "stride": self.s, "padding": self.p, "dilation": self.d}

    def forward(self, x):
        self.x = x
        size = [
            (x.shape[2 + i] - 1) * self.s[i] - 2 * self.p[i] + self.d[i] * (self.k[i] - 1) + self.op[i] + 1
            for i in range(2)
        ]
        self.size = size
        cols = self.weight.flatten(1).t() @ x.flatten(2)
        out = fold(cols, size, **self._options())
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)

    def backward(self, grad_output):
        cols = unfold(grad_output, **self._options())
        x = self.x.flatten(2)
        self.grad_weight += (x @ cols.transpose(1, 2)).sum(0).view_as(self.weight)
        self.grad_bias += grad_output.sum((0, 2, 3))
        return (self.weight.flatten(1) @ cols).view(self.x.shape)

    def param(self):
        pairs = [(self.weight, self.grad_weight)]
        return pairs + ([(self.bias, self.grad_bias)] if self.bias is not None else [])
