"""Where the model computes."""

from torch import empty


def choose_device() -> str:
    """`"cuda"` where a CUDA tensor can be made, `"cpu"` otherwise (probed with `empty`, not torch.cuda)."""
    try:
        empty(1, device="cuda")
    except (RuntimeError, AssertionError):
        return "cpu"
    return "cuda"
