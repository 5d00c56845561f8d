"""The activations' memory layout: logical NCHW tensors with channels-last (NHWC) strides.

A convolution window is then `kh·kw` runs of C contiguous numbers, and every kernel reads and writes its
matrices as (pixels, channels) without a transposing copy.
"""


def nhwc(x):
    """(N, C, H, W) logical tensor -> (N, H, W, C) view; free for a channels-last tensor."""
    return x.permute(0, 2, 3, 1)


def nchw(x):
    """(N, H, W, C) tensor -> (N, C, H, W) logical view with channels-last strides."""
    return x.permute(0, 3, 1, 2)
