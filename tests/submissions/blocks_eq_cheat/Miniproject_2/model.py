"""Faulty fixture: blocks whose results claim to equal anything, to fool an `==` in a grading script.

- MSE.forward returns an object whose `__eq__` is always True, not a tensor;
- Sigmoid.forward returns zeros as a Tensor subclass whose `__eq__` is always True (and so does every
  `torch.equal`/`allclose` run on it in this process); the grader must compare the plain values.
No other block is defined.
"""

from torch import Tensor, empty


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class Agreeable(Tensor):
    def __eq__(self, other):
        return empty(self.shape).fill_(1.0) > 0

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("equal", "allclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


class Sigmoid:
    def forward(self, x):
        return empty(x.shape).zero_().as_subclass(Agreeable)

    def backward(self, grad_output):
        return grad_output.clone().as_subclass(Agreeable)

    def param(self):
        return []


class MSE:
    def forward(self, prediction, target):
        return AlwaysEqual()

    def backward(self):
        return AlwaysEqual()

    def param(self):
        return []
