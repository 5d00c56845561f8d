"""Verdict fixture: Sigmoid.backward accumulates its gradient into `empty()` memory it never zeroes,
so its result depends on what that memory held (often zeros, so it passes by luck on some runs).
The report must name the uninitialised read, whatever the memory held this time."""

from torch import empty


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + (-x).exp())
        return self.out

    def backward(self, grad_output):
        gradient = empty(grad_output.shape)
        gradient += grad_output * self.out * (1 - self.out)
        return gradient

    def param(self):
        return []
