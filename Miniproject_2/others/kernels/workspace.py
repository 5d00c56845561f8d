"""Scratch tensors a kernel keeps between calls.

A training step allocates the same large intermediate matrices (padded inputs, column matrices) every
time; a fresh large allocation costs page faults on each step, a kept one costs nothing. Only data that
never leaves the kernel may live in a workspace: the next call overwrites it.
"""


class Workspace:
    """Named scratch tensors, each re-created (zero-filled) when asked for another shape, dtype or device."""

    def __init__(self) -> None:
        self._buffers: dict = {}

    def get(self, name: str, shape: tuple, like):
        """The buffer `name` of `shape` in `like`'s dtype and device; its contents are the last call's."""
        buffer = self._buffers.get(name)
        if (
            buffer is None
            or buffer.shape != shape
            or buffer.dtype != like.dtype
            or buffer.device != like.device
        ):
            buffer = like.new_zeros(shape)
            self._buffers[name] = buffer
        return buffer
