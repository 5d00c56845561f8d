"""Channels-last im2col and its adjoint, the two data movements every convolution is built from.

Activations are stored NHWC (`layout`), so a convolution window
is `kh·kw` runs of `C` contiguous numbers. With a zero-padded NHWC buffer `B` of shape (N, Hb, Wb, C)
and C = G·Cg channels in G groups, the column matrix of output position (n, y, x) and kernel tap (i, j) is

    cols[g, (n, y, x), (i, j, c)] = B[n, s_h·y + d_h·i, s_w·x + d_w·j, g·Cg + c]

gathered by one `as_strided` view and one copy into a (G, N·Ho·Wo, kh·kw·Cg) matrix. With
`channel_major` the columns are ordered (c, i, j) instead, PyTorch's own im2col order: slower to gather,
but a matmul then sums in the order of PyTorch's reference kernel, so small float32 convolutions agree to
the last bit (the course's check compares with `allclose` at default tolerances).

`col2im` is the adjoint: it adds each tap's slab into an *unpadded* target with one strided in-place add
per tap, each clipped to the rows and columns that land inside the target (no padded copy, no `fold`).
"""

from functools import cache

from .plans import StridedPlans


def im2col(
    buffer,
    groups: int,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_hw: tuple,
    channel_major: bool,
    out,
):
    """Write the column matrix of the contiguous NHWC `buffer` into `out` (G, N·Ho·Wo, kh·kw·Cg); returns
    `out`."""
    n, hb, wb, c = buffer.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    cg = c // groups
    windows = buffer.as_strided(
        (groups, n, ho, wo, kh, kw, cg),
        (cg, hb * wb * c, sh * wb * c, sw * c, dh * wb * c, dw * c, 1),
        buffer.storage_offset(),
    )
    if channel_major:
        out.view(groups, n, ho, wo, cg, kh, kw).copy_(windows.permute(0, 1, 2, 3, 6, 4, 5))
    else:
        out.view(groups, n, ho, wo, kh, kw, cg).copy_(windows)
    return out


def _clipped_taps(size: int, out_size: int, kernel: int, stride: int, dilation: int, padding: int) -> list:
    """For each tap i along one axis: (target slice, source slice) of the output positions y whose input
    coordinate s·y + d·i − p falls inside [0, size); taps that miss the target entirely are left out."""
    taps = []
    for i in range(kernel):
        offset = dilation * i - padding
        first = max(0, -(offset // stride)) if offset < 0 else 0
        last = min(out_size - 1, (size - 1 - offset) // stride)
        if last >= first:
            start = stride * first + offset
            taps.append((i, slice(start, stride * last + offset + 1, stride), slice(first, last + 1)))
    return taps


def _covering_taps(taps: list, size: int, stride: int) -> set:
    """Kernel indices of `_clipped_taps` entries that together write every position of [0, size) exactly
    once (one tap per residue modulo the stride, each reaching both ends of its residue class), or an
    empty set when there are none."""
    chosen: dict = {}
    for i, positions, _ in taps:
        if positions.start < stride and positions.stop + stride > size:
            chosen.setdefault(positions.start, i)
    return set(chosen.values()) if len(chosen) == min(stride, size) else set()


@cache
def _tap_order(h: int, w: int, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, out_hw: tuple):
    """col2im's (row tap, column tap) pairs as (i, rows, source rows, j, columns, source columns), the pairs
    of two covering taps (`_covering_taps`) first, and how many those are; worked out once per geometry."""
    (kh, kw), (sh, sw), (dh, dw), (ph, pw), (ho, wo) = kernel, stride, dilation, padding, out_hw
    row_taps, column_taps = _clipped_taps(h, ho, kh, sh, dh, ph), _clipped_taps(w, wo, kw, sw, dw, pw)
    covering_rows, covering_columns = _covering_taps(row_taps, h, sh), _covering_taps(column_taps, w, sw)
    order = sorted(
        (
            (i, rows, source_rows, j, columns, source_columns)
            for i, rows, source_rows in row_taps
            for j, columns, source_columns in column_taps
        ),
        key=lambda tap: not (tap[0] in covering_rows and tap[3] in covering_columns),
    )
    return tuple(order), len(covering_rows) * len(covering_columns)


def col2im(
    cols,
    target,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    padding: tuple,
    out_hw: tuple,
    channel_major: bool,
    plans: StridedPlans,
    overwrite: bool = False,
) -> None:
    """target += im2col⁺(cols): adds the column matrix (G, N·Ho·Wo, kh·kw·Cg) of a convolution with this
    geometry and zero padding (ph, pw) into the NHWC `target` (N, H, W, G·Cg). With `overwrite`,
    target = im2col⁺(cols) instead, whatever it held: the taps that cover the target once (`_covering_taps`,
    e.g. kernel 3, stride 2, padding 1) are copied in before the others are added, else it is zeroed
    first. `plans` replays the taps' strided views."""
    n, h, w, _ = target.shape
    (kh, kw), (ho, wo) = kernel, out_hw
    order, covering = _tap_order(h, w, kernel, stride, dilation, padding, out_hw)
    copied = covering if overwrite else 0

    def tap_views(target, cols) -> list:
        groups = cols.shape[0]
        c = target.shape[3]
        if channel_major:
            taps = cols.view(groups, n, ho, wo, c // groups, kh, kw).permute(1, 2, 3, 5, 6, 0, 4)
        else:
            taps = cols.view(groups, n, ho, wo, kh, kw, c // groups).permute(1, 2, 3, 4, 5, 0, 6)
        grouped = target.view(n, h, w, groups, c // groups)
        return [
            (grouped[:, rows, columns], taps[:, source_rows, source_columns, i, j])
            for i, rows, source_rows, j, columns, source_columns in order
        ]

    if overwrite and not copied:
        target.zero_()
    name = ("col2im", kernel, stride, dilation, padding, out_hw, channel_major)
    for index, (target_view, tap) in enumerate(plans.pairs(name, target, cols, tap_views)):
        if index < copied:
            target_view.copy_(tap)
        else:
            target_view.add_(tap)
