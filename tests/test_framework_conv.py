"""Conv2d and TransposeConv2d equal torch.nn + autograd: output, input gradient, weight and bias gradients.

The grid varies every constructor argument one at a time around a base case, then adds a seeded sample of
random combinations; float64 must agree to 1e-10, float32 must err no more than a small multiple of
torch's own float32 error (both against torch in float64). Hypothesis adds shapes nobody listed.
"""

import random

import pytest
import torch
from framework_reference import compare_with_torch, float32_error_ratio, one_thread
from hypothesis import given, settings
from hypothesis import strategies as st

from Miniproject_2.model import Conv2d, TransposeConv2d
from Miniproject_2.others.kernels import conv as conv_kernel_module
from Miniproject_2.others.kernels import sub_pixel as sub_pixel_module
from Miniproject_2.others.kernels.conv import Im2colConv
from Miniproject_2.others.kernels.depth_to_space import DepthToSpace
from Miniproject_2.others.kernels.im2col import col2im
from Miniproject_2.others.kernels.plans import StridedPlans
from Miniproject_2.others.kernels.sub_pixel import SubPixelConv

_one_thread = pytest.fixture(scope="module", autouse=True)(one_thread)

FLOAT64_TOLERANCE = 1e-10
FLOAT32_ERROR_MULTIPLE = 8.0


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _conv_output(size, kernel, stride, padding, dilation):
    if padding == "valid":
        padding = 0
    if padding == "same":
        return size
    (h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = size, *map(_pair, (kernel, stride, padding, dilation))
    return (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1


def _conv_valid(c):
    if c["c_in"] % c["groups"] or c["c_out"] % c["groups"]:
        return False
    if c["padding"] == "same" and _pair(c["stride"]) != (1, 1):
        return False
    return min(_conv_output(c["size"], c["kernel"], c["stride"], c["padding"], c["dilation"])) >= 1


def _conv_id(c):
    def fmt(v):
        return "x".join(map(str, v)) if isinstance(v, tuple) else str(v)

    return (
        f"{c['c_in']}to{c['c_out']}-k{fmt(c['kernel'])}-s{fmt(c['stride'])}-p{fmt(c['padding'])}"
        f"-d{fmt(c['dilation'])}-g{c['groups']}-{'bias' if c['bias'] else 'nobias'}"
        f"-n{c['batch']}-{fmt(c['size'])}"
    )


CONV_BASE = dict(
    c_in=4, c_out=6, kernel=3, stride=1, padding=1, dilation=1, groups=1, bias=True, batch=2, size=(9, 8)
)
CONV_AXES = dict(
    kernel=[1, 2, 3, 4, 5, (1, 3), (3, 1), (2, 5), (5, 2), (4, 3)],
    stride=[1, 2, 3, (1, 2), (3, 1), (2, 3)],
    padding=[0, 1, 2, (0, 2), (2, 1), "same", "valid"],
    dilation=[1, 2, 3, (1, 2), (3, 1)],
    bias=[True, False],
    batch=[1, 2, 3, 5, 8],
    size=[(1, 1), (3, 3), (5, 7), (8, 8), (13, 6), (16, 16), (11, 15)],
)
GROUPED_AXES = dict(c_in=[12], c_out=[12, 24], groups=[1, 2, 3, 4])


def conv_grid() -> list:
    configs = [dict(CONV_BASE, **{axis: value}) for axis, values in CONV_AXES.items() for value in values]
    configs += [
        dict(CONV_BASE, c_in=c_in, c_out=c_out, groups=groups)
        for c_in in GROUPED_AXES["c_in"]
        for c_out in GROUPED_AXES["c_out"]
        for groups in GROUPED_AXES["groups"]
    ]
    draw = random.Random(559)
    axes = dict(CONV_AXES, c_in=[1, 3, 4, 8], c_out=[2, 4, 8], groups=[1, 2, 4])
    while len(configs) < 280:
        candidate = {axis: draw.choice(values) for axis, values in axes.items()}
        if _conv_valid(candidate):
            configs.append(candidate)
    unique = {_conv_id(c): c for c in configs if _conv_valid(c)}
    return list(unique.values())


CONV_GRID = conv_grid()


def make_conv_pair(c, dtype):
    args = (c["c_in"], c["c_out"], c["kernel"])
    kwargs = dict(
        stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"], bias=c["bias"]
    )
    return Conv2d(*args, **kwargs, dtype=dtype), torch.nn.Conv2d(*args, **kwargs, dtype=dtype)


def _input(c, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((c["batch"], c["c_in"], *c["size"]), generator=generator, dtype=dtype)


@pytest.fixture(params=["pytorch-order", "channels-last-order"])
def column_order(request, monkeypatch):
    """Run a test once with PyTorch's column order and once with the channels-last order (which the
    small grid inputs would otherwise never reach)."""
    limit = 2**62 if request.param == "pytorch-order" else -1
    monkeypatch.setattr(Im2colConv, "pytorch_order_max_numel", limit)
    return request.param


@pytest.mark.parametrize("config", CONV_GRID, ids=_conv_id)
def test_conv2d_matches_torch_in_float64(config, column_order):
    ours, theirs = make_conv_pair(config, torch.float64)
    assert compare_with_torch(ours, theirs, _input(config, torch.float64)).largest < FLOAT64_TOLERANCE


@pytest.mark.parametrize("config", CONV_GRID[::8], ids=_conv_id)
def test_conv2d_float32_error_is_a_small_multiple_of_torchs(config):
    def make(which):
        return lambda dtype: make_conv_pair(config, dtype)[which]

    ratio = float32_error_ratio(make(0), make(1), _input(config, torch.float64))
    assert ratio <= FLOAT32_ERROR_MULTIPLE


TRANSPOSE_BASE = dict(
    c_in=4,
    c_out=6,
    kernel=3,
    stride=2,
    padding=1,
    output_padding=1,
    dilation=1,
    groups=1,
    bias=True,
    batch=2,
    size=(5, 6),
)
TRANSPOSE_AXES = dict(
    kernel=[1, 2, 3, 4, 5, (2, 3), (5, 1)],
    stride=[1, 2, 3, (1, 3), (3, 2)],
    padding=[0, 1, 2, (0, 2), (2, 1)],
    output_padding=[0, 1, (1, 0)],
    dilation=[1, 2, 3, (1, 2)],
    bias=[True, False],
    batch=[1, 3, 8],
    size=[(1, 1), (4, 4), (7, 3)],
)


def _transpose_valid(c):
    if c["c_in"] % c["groups"] or c["c_out"] % c["groups"]:
        return False
    for size, k, s, p, op, d in zip(
        c["size"],
        *map(_pair, (c["kernel"], c["stride"], c["padding"], c["output_padding"], c["dilation"])),
        strict=True,
    ):
        if op >= max(s, d) or (size - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            return False
    return True


def _transpose_id(c):
    return f"{_conv_id(c)}-op{c['output_padding']}"


def transpose_grid() -> list:
    configs = [
        dict(TRANSPOSE_BASE, **{axis: value}) for axis, values in TRANSPOSE_AXES.items() for value in values
    ]
    configs += [
        dict(TRANSPOSE_BASE, c_in=12, c_out=c_out, groups=g) for c_out in (12, 24) for g in (1, 2, 3, 4)
    ]
    draw = random.Random(2022)
    axes = dict(TRANSPOSE_AXES, c_in=[1, 4, 8], c_out=[2, 4, 8], groups=[1, 2, 4])
    while len(configs) < 110:
        candidate = {axis: draw.choice(values) for axis, values in axes.items()}
        if _transpose_valid(candidate):
            configs.append(candidate)
    unique = {_transpose_id(c): c for c in configs if _transpose_valid(c)}
    return list(unique.values())


TRANSPOSE_GRID = transpose_grid()


def make_transpose_pair(c, dtype):
    args = (c["c_in"], c["c_out"], c["kernel"])
    kwargs = dict(
        stride=c["stride"],
        padding=c["padding"],
        output_padding=c["output_padding"],
        groups=c["groups"],
        bias=c["bias"],
        dilation=c["dilation"],
    )
    return TransposeConv2d(*args, **kwargs, dtype=dtype), torch.nn.ConvTranspose2d(
        *args, **kwargs, dtype=dtype
    )


@pytest.mark.parametrize("config", TRANSPOSE_GRID, ids=_transpose_id)
def test_transpose_conv2d_matches_torch_in_float64(config):
    ours, theirs = make_transpose_pair(config, torch.float64)
    assert compare_with_torch(ours, theirs, _input(config, torch.float64)).largest < FLOAT64_TOLERANCE


@pytest.mark.parametrize("config", TRANSPOSE_GRID[::8], ids=_transpose_id)
def test_transpose_conv2d_float32_error_is_a_small_multiple_of_torchs(config):
    def make(which):
        return lambda dtype: make_transpose_pair(config, dtype)[which]

    ratio = float32_error_ratio(make(0), make(1), _input(config, torch.float64))
    assert ratio <= FLOAT32_ERROR_MULTIPLE


FUSED_TRANSPOSE_CASES = {
    # id: config of a kernel-4, stride-2, padding-1 transposed convolution (the sub-pixel path)
    "scatter-channel-major": dict(TRANSPOSE_BASE, c_in=8, c_out=3, kernel=4, output_padding=0, size=(5, 7)),
    "scatter-pixel-major": dict(TRANSPOSE_BASE, c_in=8, c_out=6, kernel=4, output_padding=0, size=(3, 4)),
    "scatter-padded-rows": dict(  # 4·16·16 = 1024 pixels: rows one cache line longer (unaliased_row_length)
        TRANSPOSE_BASE, c_in=8, c_out=3, kernel=4, output_padding=0, batch=4, size=(16, 16)
    ),
    "scatter-nobias-1x1": dict(
        TRANSPOSE_BASE, c_in=6, c_out=2, kernel=4, output_padding=0, bias=False, batch=1, size=(1, 1)
    ),
    "gather": dict(TRANSPOSE_BASE, c_in=4, c_out=6, kernel=4, output_padding=0, size=(5, 7)),
    "gather-batch8-2x1": dict(
        TRANSPOSE_BASE, c_in=3, c_out=5, kernel=4, output_padding=0, batch=8, size=(2, 1)
    ),
}


DEPTH_TO_SPACE_CASES = {
    # id: config of a transposed convolution whose kernel equals its stride (one matmul + depth-to-space)
    "k2-s2": dict(TRANSPOSE_BASE, c_in=8, c_out=3, kernel=2, padding=0, output_padding=0, size=(5, 7)),
    "k2-s2-widening": dict(TRANSPOSE_BASE, c_in=4, c_out=6, kernel=2, padding=0, output_padding=0),
    "k3x2-s3x2-nobias": dict(
        TRANSPOSE_BASE, kernel=(3, 2), stride=(3, 2), padding=0, output_padding=0, bias=False, batch=1
    ),
    "k1-s1-1x1": dict(TRANSPOSE_BASE, kernel=1, stride=1, padding=0, output_padding=0, size=(1, 1)),
}


FAST_PATH_CASES = {
    **{f"sub-pixel-{name}": (SubPixelConv, config) for name, config in FUSED_TRANSPOSE_CASES.items()},
    **{f"depth-to-space-{name}": (DepthToSpace, config) for name, config in DEPTH_TO_SPACE_CASES.items()},
}
"""Each fast path of TransposeConv2d (the kernel class `kernels.select` must pick) and its cases."""


@pytest.mark.parametrize(("path", "config"), FAST_PATH_CASES.values(), ids=FAST_PATH_CASES.keys())
def test_transpose_conv2d_fast_paths_match_torch(path, config):
    ours, theirs = make_transpose_pair(config, torch.float64)
    assert isinstance(ours.kernel, path), f"the block did not take its {path.__name__} path"
    assert compare_with_torch(ours, theirs, _input(config, torch.float64)).largest < FLOAT64_TOLERANCE

    def make(which):
        return lambda dtype: make_transpose_pair(config, dtype)[which]

    assert float32_error_ratio(make(0), make(1), _input(config, torch.float64)) <= FLOAT32_ERROR_MULTIPLE


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    config = dict(
        c_in=groups * draw(st.integers(1, 3)),
        c_out=groups * draw(st.integers(1, 3)),
        kernel=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        dilation=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        groups=groups,
        bias=draw(st.booleans()),
        batch=draw(st.integers(1, 4)),
        size=(draw(st.integers(1, 14)), draw(st.integers(1, 14))),
    )
    return config


@pytest.mark.parametrize("order_limit", [2**62, -1], ids=["pytorch-order", "channels-last-order"])
@settings(max_examples=60, deadline=None, derandomize=True)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch_on_generated_shapes(config, seed, order_limit):
    default, Im2colConv.pytorch_order_max_numel = Im2colConv.pytorch_order_max_numel, order_limit
    try:
        _check_generated_conv(config, seed)
    finally:
        Im2colConv.pytorch_order_max_numel = default


def _check_generated_conv(config, seed):
    if not _conv_valid(config):
        with pytest.raises(ValueError):
            ours, _ = make_conv_pair(config, torch.float64)
            ours.forward(_input(config, torch.float64, seed))
        return
    ours, theirs = make_conv_pair(config, torch.float64)
    assert compare_with_torch(ours, theirs, _input(config, torch.float64, seed)).largest < FLOAT64_TOLERANCE


@settings(max_examples=40, deadline=None, derandomize=True)
@given(config=conv_configs(), output_padding=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_transpose_conv2d_matches_torch_on_generated_shapes(config, output_padding):
    config = dict(config, output_padding=output_padding)
    if not _transpose_valid(config):
        return
    ours, theirs = make_transpose_pair(config, torch.float64)
    assert compare_with_torch(ours, theirs, _input(config, torch.float64)).largest < FLOAT64_TOLERANCE


def test_the_grids_cover_at_least_300_configurations():
    assert len(CONV_GRID) + len(TRANSPOSE_GRID) >= 300


COL2IM_GEOMETRIES = {
    "k3-s2-p1 (four covering taps)": ((16, 16), (3, 3), (2, 2), (1, 1), (1, 1)),
    "k3-s1-p1 (one covering tap)": ((9, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
    "k3-s1-p0 (none: zero-filled)": ((9, 7), (3, 3), (1, 1), (1, 1), (0, 0)),
    "k2-s3-p0 (gaps: zero-filled)": ((8, 8), (2, 2), (3, 3), (1, 1), (0, 0)),
    "k3-s2-p1-d2 (dilated)": ((11, 10), (3, 3), (2, 2), (2, 2), (1, 1)),
}


@pytest.mark.parametrize("geometry", COL2IM_GEOMETRIES.values(), ids=COL2IM_GEOMETRIES.keys())
def test_col2im_overwrite_equals_adding_into_zeros(geometry):
    """Whatever the target held (NaN here), col2im with overwrite gives what adding into zeros gives."""
    (h, w), kernel, stride, dilation, padding = geometry
    out_hw = tuple(
        (size + 2 * p - d * (k - 1) - 1) // s + 1
        for size, k, s, d, p in zip((h, w), kernel, stride, dilation, padding, strict=True)
    )
    cols = torch.randn((1, 2 * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * 5), dtype=torch.float64)
    added = torch.zeros((2, h, w, 5), dtype=torch.float64)
    col2im(cols, added, kernel, stride, dilation, padding, out_hw, False, StridedPlans())
    overwritten = torch.full((2, h, w, 5), float("nan"), dtype=torch.float64)
    col2im(
        cols, overwritten, kernel, stride, dilation, padding, out_hw, False, StridedPlans(), overwrite=True
    )
    assert torch.equal(overwritten, added)


CHUNKED_CASES = {
    # id: (make_pair, config) of a kernel that works a few images at a time
    "conv-k3-s2": (make_conv_pair, dict(CONV_BASE, stride=2, batch=5)),
    "conv-k1-nobias": (make_conv_pair, dict(CONV_BASE, kernel=1, padding=0, bias=False, batch=5)),
    "transposed-sub-pixel-scatter": (
        make_transpose_pair,
        dict(TRANSPOSE_BASE, c_in=6, c_out=3, kernel=4, stride=2, padding=1, output_padding=0, batch=5),
    ),
}


@pytest.mark.parametrize(("make_pair", "config"), CHUNKED_CASES.values(), ids=CHUNKED_CASES.keys())
def test_kernels_split_into_uneven_chunks_match_torch(make_pair, config, monkeypatch):
    """Chunks of two images (the last of one), in the channels-last column order: the grid's small inputs
    otherwise fit in one chunk."""
    monkeypatch.setattr(Im2colConv, "pytorch_order_max_numel", -1)
    for module in (conv_kernel_module, sub_pixel_module):
        monkeypatch.setattr(module, "chunk_images", lambda n, numbers_per_image, budget=0: min(n, 2))
    ours, theirs = make_pair(config, torch.float64)
    assert compare_with_torch(ours, theirs, _input(config, torch.float64)).largest < FLOAT64_TOLERANCE
