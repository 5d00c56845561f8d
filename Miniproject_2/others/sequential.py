"""A chain of blocks, PyTorch's `nn.Sequential`."""

from .module import Module


class Sequential(Module):
    """`Sequential(*modules)`: forward applies them in order, backward in reverse, param() concatenates
    their pairs. Indexable and iterable like a list."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self.modules = list(modules)

    def _children(self) -> list:
        return [(str(i), m) for i, m in enumerate(self.modules)]

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)

    def forward(self, x):
        for module in self.modules:
            x = module.forward(x)
        return x

    def backward(self, grad_output):
        for module in reversed(self.modules):
            grad_output = module.backward(grad_output)
        return grad_output

    def backward_parameters(self, grad_output) -> None:
        """`backward` without dL/dx: the first block only accumulates its parameter gradients."""
        for module in reversed(self.modules[1:]):
            grad_output = module.backward(grad_output)
        if self.modules:
            self.modules[0].backward_parameters(grad_output)
