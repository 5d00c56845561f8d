"""Verdict fixture: Sigmoid.backward returns a tuple (input gradient, ) and MSE.backward a tuple
(gradient wrt the prediction, gradient wrt the target), which the statement allows ("a tensor or a
tuple of tensors"). Both must pass, with the form named."""


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + (-x).exp())
        return self.out

    def backward(self, *gradwrtoutput):
        return (gradwrtoutput[0] * self.out * (1 - self.out),)

    def param(self):
        return []


class MSE:
    def forward(self, prediction, target):
        self.difference = prediction - target
        return (self.difference**2).mean()

    def backward(self):
        gradient = 2 * self.difference / self.difference.numel()
        return gradient, -gradient

    def param(self):
        return []
