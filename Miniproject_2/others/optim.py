"""Stochastic gradient descent, PyTorch's `torch.optim.SGD`, step for step."""


class SGD:
    """`SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False)`, `params` being
    (parameter, gradient) pairs (a block's `param()`) or a block. Per pair, with g the gradient:

        g ← g + weight_decay · p
        b ← g (first step), b ← momentum · b + (1 − dampening) · g (later steps)
        g ← g + momentum · b (nesterov) or b (momentum ≠ 0)
        p ← p − lr · g

    `lr` and the other hyper-parameters are plain attributes (a schedule may reassign `lr`).
    """

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.pairs = list(params.param() if hasattr(params, "param") else params)
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self._momentum_buffers: list = [None] * len(self.pairs)

    def step(self) -> None:
        for index, (parameter, grad) in enumerate(self.pairs):
            step = grad if self.weight_decay == 0 else grad.add(parameter, alpha=self.weight_decay)
            if self.momentum != 0:
                buffer = self._momentum_buffers[index]
                if buffer is None:
                    buffer = self._momentum_buffers[index] = step.clone()
                else:
                    buffer.mul_(self.momentum).add_(step, alpha=1 - self.dampening)
                step = step.add(buffer, alpha=self.momentum) if self.nesterov else buffer
            parameter.add_(step, alpha=-self.lr)

    def zero_grad(self) -> None:
        for _, grad in self.pairs:
            grad.zero_()

    def state_dict(self) -> dict:
        return {"lr": self.lr, "momentum_buffers": self._momentum_buffers}

    def load_state_dict(self, state: dict) -> None:
        self.lr = state["lr"]
        self._momentum_buffers = list(state["momentum_buffers"])
