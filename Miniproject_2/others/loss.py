"""Mean squared error, PyTorch's `nn.MSELoss`."""

from .module import Module


class MSE(Module):
    """`MSE(reduction='mean')`: L = Σ (p − t)² / (N if 'mean' else 1) over all N elements.

    `forward(prediction, target)` returns the scalar loss; `backward(grad_output=1)` returns
    dL/dp = grad_output · 2 (p − t) / (N or 1). The target gets no gradient (it is data).
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, prediction, target):
        if prediction.shape != target.shape:
            raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ")
        self._difference = prediction - target
        squares = self._difference.square().sum()
        return squares / self._difference.numel() if self.reduction == "mean" else squares

    def backward(self, grad_output=1.0):
        scale = 2 / self._difference.numel() if self.reduction == "mean" else 2
        return self._difference * (grad_output * scale)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"
