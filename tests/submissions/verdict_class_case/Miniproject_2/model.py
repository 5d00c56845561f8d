"""Verdict fixture: the blocks are named `ReLu` and `NearestUpSampling`, the statement's names up to
case. They must be checked (and the spelling named), not reported missing."""


class ReLu:
    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, grad_output):
        return grad_output * self.positive

    def param(self):
        return []


class NearestUpSampling:
    def __init__(self, scale_factor=2):
        self.scale = int(scale_factor)

    def forward(self, x):
        self.shape = x.shape
        return x.repeat_interleave(self.scale, dim=2).repeat_interleave(self.scale, dim=3)

    def backward(self, grad_output):
        n, c, h, w = self.shape
        return grad_output.view(n, c, h, self.scale, w, self.scale).sum((3, 5))

    def param(self):
        return []
