"""Element-wise activations."""

from .module import Module


class ReLU(Module):
    """y = max(x, 0);  dL/dx = dL/dy · [x > 0] (0 at x = 0, as PyTorch), the mask kept in x's dtype as
    sign(y) ∈ {0, 1} (a float product is several times faster than one with a boolean mask)."""

    def forward(self, x):
        output = x.clamp(min=0)
        self._positive = output.sign()
        return output

    def backward(self, grad_output):
        return grad_output * self._positive


class Sigmoid(Module):
    """y = 1 / (1 + e^(−x)), evaluated as e^(−|x|) / (1 + e^(−|x|)) for x < 0 so no exponent overflows
    (finite and warning-free for |x| = 1e4);  dL/dx = dL/dy · y · (1 − y)."""

    def forward(self, x):
        decay = x.abs().neg_().exp_()
        positive_branch = (decay + 1).reciprocal_()
        self._output = positive_branch.where(x >= 0, decay * positive_branch)
        return self._output

    def backward(self, grad_output):
        return grad_output * self._output * (1 - self._output)
