"""The contract between a block and the kernel that computes it."""

from .geometry import ConvGeometry
from .plans import StridedPlans
from .workspace import Workspace


class Kernel:
    """One way of computing a convolution of a fixed `geometry`; it keeps what its backward needs, its
    scratch buffers (`workspace`) and its replayed views (`plans`).

    `forward(x, weight, bias)` returns y; `backward(dL/dy, input_gradient)` returns (dL/dx or None,
    dL/dW in the weight's shape, dL/db or None) for the last forward. The block owns the parameters and
    adds the gradients into its buffers.
    """

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry
        self.workspace = Workspace()
        self.plans = StridedPlans()

    def forward(self, x, weight, bias):
        raise NotImplementedError

    def backward(self, grad_output, input_gradient: bool) -> tuple:
        raise NotImplementedError
