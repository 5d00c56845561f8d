"""Element-wise activations."""

from .module import Module


class ReLU(Module):
    """y = max(x, 0);  dL/dx = dL/dy · [x > 0] (0 at x = 0, as PyTorch), the mask taken in backward as
    sign(y) ∈ {0, 1} in x's dtype and multiplied in place (a float product is several times faster than
    one with a boolean mask; forward then makes one pass, not two)."""

    def forward(self, x):
        self._output = x.clamp(min=0)
        return self._output

    def backward(self, grad_output):
        return self._output.sign().mul_(grad_output)


class Sigmoid(Module):
    """y = 1 / (1 + e^(−x));  dL/dx = dL/dy · y · (1 − y).

    For x ≪ 0, e^(−x) overflows to +inf and y = 1/inf = 0 exactly, which is the correctly rounded value
    (σ(−1e4) ≈ e^(−1e4) is far below the smallest float): no NaN, and tensors never warn on overflow.
    For x > 0 the denominator lies in (1, 2], so the result keeps full relative precision everywhere.
    """

    def forward(self, x):
        self._output = x.neg().exp_().add_(1).reciprocal_()
        return self._output

    def backward(self, grad_output):
        return (1 - self._output).mul_(self._output).mul_(grad_output)
