from torch import empty


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad_output):
        return grad_output * self.mask

    def param(self):
        return []

    def zeros_like(self, x):
        return empty(x.shape).zero_()
