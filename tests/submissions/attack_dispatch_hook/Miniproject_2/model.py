"""Attack fixture (hostile review A2): torch.nn.functional.conv2d run through torch's dispatch hooks.

- `Routed`, a tensor subclass whose `__torch_function__` runs `ROUTE` (conv2d) in place of every
  `matmul`: the run-time recorder sees `x @ w`, a tensor method, and torch runs the hook while the
  recorder's mode is off, so conv2d itself is never seen;
- `x.__torch_function__(ROUTE, (), args)` on a plain tensor, which calls conv2d where the recorder sees a
  tensor "method".

Both checks must name the hooks: rules.static the definition and the attribute (and the route's name),
rules.runtime the calls that reach a hook of the submission's.
"""

import torch
from torch import empty


class Routed(torch.Tensor):
    """A tensor whose `x @ w` runs `ROUTE` (a 3x3 conv2d, padded) instead of a matrix product."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func.__name__ == "matmul":
            func, kwargs = ROUTE, {"padding": 1}
        plain = [a.as_subclass(torch.Tensor) if isinstance(a, cls) else a for a in args]
        return func(*plain, **(kwargs or {}))


class Model:
    def __init__(self):
        self.weight = empty(3, 3, 3, 3).fill_(0)
        for channel in range(3):
            self.weight[channel, channel] = 1 / 9

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        x = test_input.float()
        routed = x.as_subclass(Routed) @ self.weight
        hooked = x.__torch_function__(ROUTE, (), (x, self.weight), {"padding": 1})
        return (routed + hooked) / 2


ROUTE = torch.nn.functional.conv2d
