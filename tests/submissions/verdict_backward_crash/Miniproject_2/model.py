"""Verdict fixture: ReLU.backward raises (its mask is flattened, the gradient is not). The report must
say "crashed in backward: RuntimeError: ..." with model.py's line, not that no gradient came back."""


class ReLU:
    def forward(self, x):
        self.mask = (x > 0).flatten()
        return x * (x > 0)

    def backward(self, grad_output):
        return grad_output * self.mask.view(-1, 1, 1, 1)

    def param(self):
        return []
