"""Verdict fixture: the blocks expose `params()` instead of `param()`. Sigmoid must pass, with the
method's name in the report."""


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + (-x).exp())
        return self.out

    def backward(self, grad_output):
        return grad_output * self.out * (1 - self.out)

    def params(self):
        return []
