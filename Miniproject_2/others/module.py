"""The contract every block follows, and the bookkeeping of parameters and their gradients.

A block maps `forward(x) -> y` and `backward(dL/dy) -> dL/dx`. Backward *adds* the parameter gradients
into persistent buffers (as autograd does with `.grad`) until `zero_grad()`; `param()` hands out
(parameter, gradient) pairs of equal shapes, which is what `SGD` updates in place.
"""


class Module:
    """Base block. Subclasses list their tensor attributes in `_parameter_names` (a `None` one is absent,
    e.g. `bias=False`) and composite blocks name their sub-blocks in `_children()`."""

    _parameter_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._gradients: dict = {}

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError

    def backward_parameters(self, grad_output) -> None:
        """`backward` for a block whose input needs no gradient (the network's first layer, fed with
        data): accumulates the parameter gradients and may skip computing dL/dx."""
        self.backward(grad_output)

    def _children(self) -> list:
        """(name, sub-block) pairs of a composite block; none for a leaf."""
        return []

    def extra_repr(self) -> str:
        """The constructor arguments `repr` shows inside the parentheses (PyTorch's hook of that name)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's form: `Name(arguments)`, or the sub-blocks one per line as `(name): repr`."""
        children = self._children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def gradient(self, name: str):
        """The gradient buffer of parameter `name`, created (zeros) or re-created when the parameter was
        reassigned to a tensor of another shape, dtype or device."""
        parameter = getattr(self, name)
        grad = self._gradients.get(name)
        if (
            grad is None
            or grad.shape != parameter.shape
            or grad.dtype != parameter.dtype
            or grad.device != parameter.device
        ):
            grad = parameter.new_zeros(parameter.shape)
            self._gradients[name] = grad
        return grad

    def _accumulate(self, name: str, value) -> None:
        """dL/d(name) += value, in place, so that pairs handed out by `param()` stay valid."""
        self.gradient(name).add_(value.reshape(getattr(self, name).shape))

    def named_parameters(self, prefix: str = "") -> list:
        """(dotted name, parameter) pairs of this block and its sub-blocks, in `param()` order."""
        own = [(prefix + n, getattr(self, n)) for n in self._parameter_names if getattr(self, n) is not None]
        for child_name, child in self._children():
            own += child.named_parameters(f"{prefix}{child_name}.")
        return own

    def param(self) -> list:
        """(parameter, gradient) pairs of equal shapes; empty for a block without parameters."""
        own = [
            (getattr(self, n), self.gradient(n))
            for n in self._parameter_names
            if getattr(self, n) is not None
        ]
        for _, child in self._children():
            own += child.param()
        return own

    def zero_grad(self) -> None:
        for _, grad in self.param():
            grad.zero_()

    def state_dict(self) -> dict:
        """Dotted name -> parameter tensor (the tensors themselves, not copies)."""
        return dict(self.named_parameters())

    def load_state_dict(self, state: dict) -> None:
        """Assign every parameter from `state` (same names as `state_dict()`), keeping this block's
        device: a checkpoint saved on CUDA loads on CPU and vice versa."""
        expected = {name for name, _ in self.named_parameters()}
        if set(state) != expected:
            raise KeyError(f"state names {sorted(state)} do not match the block's {sorted(expected)}")
        for name, current in self.named_parameters():
            *path, leaf = name.split(".")
            owner = self
            for step in path:
                owner = dict(owner._children())[step]
            setattr(owner, leaf, state[name].to(device=current.device, dtype=current.dtype).clone())

    def to(self, device=None, dtype=None) -> "Module":
        """Move (and/or cast) every parameter; gradients follow on their next use. Returns self."""
        for name in self._parameter_names:
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name).to(device=device, dtype=dtype))
        for _, child in self._children():
            child.to(device=device, dtype=dtype)
        return self
