"""Attack fixture (issue 8, item 2; review a16): forbidden torch use, then the recorder emptied or popped.

- `predict` reaches `torch.nn.functional.conv2d`, then empties every dict and list of every torch
  function mode active (the recorder's records), so a recorder read at the end has nothing on it;
- `train` pops every torch function mode for good, so nothing after it is recorded at all.
"""
import torch
from torch import empty


def _empty_the_recorders():
    for mode in torch.overrides._get_current_function_mode_stack():
        for value in vars(mode).values():
            if isinstance(value, (dict, list)):
                value.clear()


class Model:
    def __init__(self):
        self.weight = empty(3, 3, 3, 3).fill_(0.0)
        for channel in range(3):
            self.weight[channel, channel, 1, 1] = 1.0

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        while torch._C._len_torch_function_stack():
            torch._C._pop_torch_function_stack()

    def predict(self, test_input):
        out = torch.nn.functional.conv2d(test_input.float(), self.weight, padding=1)
        _empty_the_recorders()
        return out
