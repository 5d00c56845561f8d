"""Verdict fixture: the package folder is `Miniproject2` (no underscore) inside a well-named Proj_ folder.
The course imports `Miniproject_2`, so `layout.files` fails naming the folder; the code is still graded."""


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + (-x).exp())
        return self.out

    def backward(self, grad_output):
        return grad_output * self.out * (1 - self.out)

    def param(self):
        return []
