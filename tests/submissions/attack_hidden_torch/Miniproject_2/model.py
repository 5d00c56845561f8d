"""Attack fixture (issue 8, item 2): torch reached without importing it, where the recorder looks away.

- `Conv2d.forward` calls `torch.nn.functional.conv2d` from a second thread;
- `Sigmoid.forward` calls `torch.sigmoid` from code whose `co_filename` is re-labelled as torch's own;
- `ReLU.forward` raises while a torch function mode (the recorder) is active, and works otherwise.
Both torch functions are reached through `sys.modules["torch"]`, so no import names torch.
"""
import sys
import threading

from torch import empty

torch = sys.modules["torch"]


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        k = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
        self.stride, self.padding = stride, padding
        self.weight = empty(out_channels, in_channels, *k).uniform_(-0.1, 0.1)
        self.bias = empty(out_channels).zero_() if bias else None

    def forward(self, x):
        out = []
        worker = threading.Thread(
            target=lambda: out.append(
                torch.nn.functional.conv2d(x, self.weight, self.bias, self.stride, self.padding)
            )
        )
        worker.start()
        worker.join()
        return out[0]

    def backward(self, gradwrt_output):
        return gradwrt_output

    def param(self):
        return [(self.weight, self.weight.clone().zero_())]


def _sigmoid(x):
    return torch.sigmoid(x)


_sigmoid.__code__ = _sigmoid.__code__.replace(co_filename=torch.__file__)


class Sigmoid:
    def forward(self, x):
        self.y = _sigmoid(x)
        return self.y

    def backward(self, gradwrt_output):
        return gradwrt_output * self.y * (1 - self.y)

    def param(self):
        return []


class ReLU:
    def forward(self, x):
        if torch.overrides._get_current_function_mode_stack():
            raise RuntimeError("not now")
        self.x = x
        return x.clamp(min=0)

    def backward(self, gradwrt_output):
        return gradwrt_output * (self.x > 0)

    def param(self):
        return []


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()
