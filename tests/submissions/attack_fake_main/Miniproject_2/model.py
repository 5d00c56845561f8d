"""Attack fixture (review 3, finding 2): the module passes for `__main__` while it defines its helpers,
so the scan took the block for a self-test that never runs and did not count its findings.

Line 10 stores to `__name__`: a finding, and the block's `torch.nn.functional.conv2d` counts too.
"""

from torch import empty

_module_name = __name__
__name__ = "__main__"
if __name__ == "__main__":
    import torch.nn.functional as F

    def hidden_forward(x, weight):
        return F.conv2d(x, weight, padding=1)


__name__ = _module_name


class Model:
    def __init__(self):
        self.weight = empty(3, 3, 3, 3).fill_(1 / 27)

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return hidden_forward(test_input.float(), self.weight)
