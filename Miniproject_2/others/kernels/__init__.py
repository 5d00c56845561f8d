"""The kernel layer: how the convolution blocks are computed, with tensor methods, `as_strided` views and
matmuls only. A block parses its arguments into a `ConvGeometry` and asks `select` for its kernel once;
every forward and backward then goes through that kernel (`Kernel`: forward(x, W, b) and
backward(dL/dy) -> (dL/dx, dL/dW, dL/db)).

- `layout`: activations are logical NCHW tensors with channels-last strides.
- `im2col`: the column matrix and its adjoint col2im; `conv` and `transposed` build on them.
- `sub_pixel`: a ×2 upsampling layer as four 2×2 convolutions at low resolution.
- `depth_to_space`: a transposed convolution whose kernel equals its stride.
- `nearest`: nearest upsampling, and a convolution of its output.
- `chunking`, `workspace`, `plans`, `matmul`: cache blocking over the batch, kept scratch buffers,
  replayed strided views, and the order of Aᵀ·B that MKL prefers.
"""

from .dispatch import select
from .geometry import ConvGeometry
from .kernel import Kernel

__all__ = ["ConvGeometry", "Kernel", "select"]
