"""Channels-last im2col and its adjoint, the two data movements every convolution is built from.

Activations are stored NHWC (a logical NCHW tensor with channels-last strides), so a convolution window
is `kh·kw` runs of `C` contiguous numbers. With a padded NHWC buffer `B` of shape (N, Hb, Wb, C) and
C = G·Cg channels in G groups, the column matrix of output position (n, y, x) and kernel tap (i, j) is

    cols[g, (n, y, x), (i, j, c)] = B[n, s_h·y + d_h·i, s_w·x + d_w·j, g·Cg + c]

built by one `as_strided` view and one copy, shape (G, N·Ho·Wo, kh·kw·Cg). With `channel_major` the
columns are ordered (c, i, j) instead, PyTorch's own im2col order: slower to gather, but a matmul then
sums in the same order as PyTorch's reference kernel, so small float32 convolutions agree to the last
bit (the course's check compares with `allclose` at default tolerances). `col2im` is its adjoint:
it adds each tap's slab back into the buffer with a strided in-place add (no `fold`, no index tensor).
"""


def nhwc(x):
    """(N, C, H, W) logical tensor -> (N, H, W, C) view; free for a channels-last tensor."""
    return x.permute(0, 2, 3, 1)


def nchw(x):
    """(N, H, W, C) tensor -> (N, C, H, W) logical view with channels-last strides."""
    return x.permute(0, 3, 1, 2)


def padded(x_nhwc, pad_top: int, pad_bottom: int, pad_left: int, pad_right: int):
    """Zero-padded contiguous copy (N, H+pt+pb, W+pl+pr, C); the input itself when no padding and
    already contiguous."""
    if pad_top == pad_bottom == pad_left == pad_right == 0:
        return x_nhwc.contiguous()
    n, h, w, c = x_nhwc.shape
    buffer = x_nhwc.new_zeros((n, h + pad_top + pad_bottom, w + pad_left + pad_right, c))
    buffer[:, pad_top : pad_top + h, pad_left : pad_left + w].copy_(x_nhwc)
    return buffer


def im2col(
    buffer,
    groups: int,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_hw: tuple,
    channel_major: bool = False,
):
    """Column matrix (G, N·Ho·Wo, kh·kw·Cg) of a contiguous NHWC `buffer` (see module docstring)."""
    n, hb, wb, c = buffer.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    cg = c // groups
    windows = buffer.as_strided(
        (groups, n, ho, wo, kh, kw, cg),
        (cg, hb * wb * c, sh * wb * c, sw * c, dh * wb * c, dw * c, 1),
        buffer.storage_offset(),
    )
    if channel_major:
        windows = windows.permute(0, 1, 2, 3, 6, 4, 5)
    return windows.reshape(groups, n * ho * wo, kh * kw * cg)


def col2im(
    cols, buffer, kernel: tuple, stride: tuple, dilation: tuple, out_hw: tuple, channel_major: bool = False
) -> None:
    """buffer += im2col⁺(cols): adds column matrix (G, N·Ho·Wo, kh·kw·Cg) into the NHWC `buffer`
    (N, Hb, Wb, G·Cg), one strided in-place add per kernel tap."""
    groups = cols.shape[0]
    n, _, _, c = buffer.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    if channel_major:
        taps = cols.view(groups, n, ho, wo, c // groups, kh, kw).permute(1, 2, 3, 5, 6, 0, 4)
    else:
        taps = cols.view(groups, n, ho, wo, kh, kw, c // groups).permute(1, 2, 3, 4, 5, 0, 6)
    grouped = buffer.view(*buffer.shape[:3], groups, c // groups)
    for i in range(kh):
        for j in range(kw):
            rows = slice(dh * i, dh * i + sh * (ho - 1) + 1, sh)
            columns = slice(dw * j, dw * j + sw * (wo - 1) + 1, sw)
            grouped[:, rows, columns].add_(taps[:, :, :, i, j])
