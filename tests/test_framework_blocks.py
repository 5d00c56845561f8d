"""The other blocks equal their torch.nn twins, and every block keeps the module contract.

Contract: forward/backward never modify their inputs; backward accumulates parameter gradients across
calls until zero_grad; param() pairs have equal shapes (empty without parameters); weight and bias are
PyTorch-shaped, PyTorch-initialised and reassignable; calling a block is forward.
"""

import math
import subprocess
import sys
import types
import warnings

import pytest
import torch
from framework_reference import compare_with_torch, float32_error_ratio, one_thread

from Miniproject_2.model import (
    MSE,
    Conv2d,
    NearestUpsampling,
    ReLU,
    Sequential,
    Sigmoid,
    TransposeConv2d,
    Upsampling,
)
from Miniproject_2.others.kernels.conv import Im2colConv
from Miniproject_2.others.kernels.depth_to_space import DepthToSpace
from Miniproject_2.others.kernels.nearest import UpsampledConv
from Miniproject_2.others.kernels.sub_pixel import SubPixelConv
from Miniproject_2.others.kernels.transposed import Col2imTransposed

_one_thread = pytest.fixture(scope="module", autouse=True)(one_thread)

TOLERANCE = 1e-10
FLOAT32_ERROR_MULTIPLE = 8.0


def _randn(*shape, seed=0, scale=1.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


@pytest.mark.parametrize(
    ("make_ours", "make_theirs", "shape"),
    [
        (ReLU, torch.nn.ReLU, (2, 3, 5, 7)),
        (ReLU, torch.nn.ReLU, (1, 1, 1, 1)),
        (Sigmoid, torch.nn.Sigmoid, (2, 3, 5, 7)),
        (Sigmoid, torch.nn.Sigmoid, (8, 4, 6, 6)),
    ],
    ids=["relu", "relu-1x1", "sigmoid", "sigmoid-batch8"],
)
def test_activation_matches_torch(make_ours, make_theirs, shape):
    assert compare_with_torch(make_ours(), make_theirs(), _randn(*shape, scale=5)).largest < TOLERANCE


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = torch.tensor([[-1.0, 0.0, 2.0]], dtype=torch.float64)
    relu = ReLU()
    relu.forward(x)
    assert relu.backward(torch.ones_like(x)).tolist() == [[0.0, 0.0, 1.0]]


@pytest.mark.parametrize("magnitude", [1e2, 1e3, 1e4], ids=["1e2", "1e3", "1e4"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_sigmoid_is_finite_and_silent_at_large_inputs(magnitude, dtype):
    x = torch.tensor([-magnitude, -1.0, 0.0, 1.0, magnitude], dtype=dtype)
    sigmoid = Sigmoid()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid.forward(x)
        grad = sigmoid.backward(torch.ones_like(x))
    assert torch.isfinite(y).all() and torch.isfinite(grad).all()
    torch.testing.assert_close(y, torch.sigmoid(x))
    torch.testing.assert_close(grad, torch.sigmoid(x) * (1 - torch.sigmoid(x)))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (5, 3, 7, 3)], ids=["1x3x4x4", "5x3x7x3"])
def test_mse_matches_torch(reduction, shape):
    prediction, target = _randn(*shape, seed=1), _randn(*shape, seed=2)
    with torch.enable_grad():
        leaf = prediction.clone().requires_grad_(True)
        loss_ref = torch.nn.MSELoss(reduction=reduction)(leaf, target)
        loss_ref.backward(torch.tensor(0.7, dtype=torch.float64))
    mse = MSE(reduction)
    loss = mse.forward(prediction, target)
    assert abs(loss.item() - loss_ref.item()) < TOLERANCE
    assert (mse.backward(0.7) - leaf.grad).abs().max() < TOLERANCE


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        (dict(scale_factor=2), (2, 3, 5, 7)),
        (dict(scale_factor=3), (1, 2, 4, 4)),
        (dict(scale_factor=(2, 3)), (2, 3, 5, 4)),
        (dict(scale_factor=1.5), (1, 2, 7, 5)),
        (dict(scale_factor=(1.7, 2.3)), (2, 2, 6, 9)),
        (dict(scale_factor=0.5), (1, 3, 8, 7)),
        (dict(size=12), (2, 2, 5, 7)),
        (dict(size=(7, 9)), (1, 3, 4, 4)),
        (dict(size=(3, 4)), (1, 2, 8, 9)),
        (dict(size=(10, 14)), (2, 1, 5, 7)),
    ],
    ids=[
        "x2",
        "x3",
        "x2x3",
        "x1.5",
        "x1.7x2.3",
        "x0.5",
        "size12",
        "size7x9",
        "size3x4-down",
        "size10x14-exact",
    ],
)
def test_nearest_upsampling_matches_torch(kwargs, shape):
    ours, theirs = NearestUpsampling(**kwargs), torch.nn.Upsample(mode="nearest", **kwargs)
    assert compare_with_torch(ours, theirs, _randn(*shape)).largest < TOLERANCE


UPSAMPLING_CASES = {
    # id: (constructor kwargs, input shape, computation path)
    "x2-k3-gather": (dict(in_channels=4, out_channels=6), (2, 4, 5, 7), "gather"),
    "x2-k3-p1-gather-batch8": (dict(in_channels=8, out_channels=8, padding=1), (8, 8, 4, 6), "gather"),
    "x2-k3-gather-nobias-1x1": (dict(in_channels=3, out_channels=5, bias=False), (1, 3, 1, 1), "gather"),
    "x2-k3-scatter": (dict(in_channels=8, out_channels=3), (2, 8, 5, 7), "scatter"),
    "x2-k3-scatter-batch3": (dict(in_channels=6, out_channels=4, padding=1), (3, 6, 8, 8), "scatter"),
    "x2-k3-scatter-pixel-major": (dict(in_channels=8, out_channels=6), (2, 8, 3, 4), "scatter"),
    "x2-k3-scatter-nobias-1x1": (dict(in_channels=6, out_channels=2, bias=False), (1, 6, 1, 1), "scatter"),
    "x2-k3-scatter-2x1": (dict(in_channels=5, out_channels=1), (2, 5, 2, 1), "scatter"),
    "k5": (dict(in_channels=4, out_channels=6, kernel_size=5, padding=2), (2, 4, 5, 5), "composed"),
    "x3": (dict(in_channels=4, out_channels=6, scale_factor=3), (2, 4, 4, 3), "composed"),
    "k2": (dict(in_channels=4, out_channels=6, kernel_size=2, padding=0), (2, 4, 4, 3), "composed"),
    "groups2": (dict(in_channels=4, out_channels=4, groups=2), (1, 4, 4, 4), "composed"),
    "stride2": (dict(in_channels=4, out_channels=6, stride=2, padding=1), (2, 4, 5, 6), "composed"),
}


@pytest.mark.parametrize(("kwargs", "shape", "path"), UPSAMPLING_CASES.values(), ids=UPSAMPLING_CASES.keys())
def test_upsampling_matches_nearest_upsample_then_conv(kwargs, shape, path):
    ours = Upsampling(**kwargs, dtype=torch.float64)
    conv_kwargs = {k: v for k, v in kwargs.items() if k != "scale_factor"}
    conv_kwargs.setdefault("kernel_size", 3)
    conv_kwargs.setdefault("padding", "same")
    theirs = torch.nn.Sequential(
        torch.nn.Upsample(scale_factor=kwargs.get("scale_factor", 2), mode="nearest"),
        torch.nn.Conv2d(**conv_kwargs, dtype=torch.float64),
    )
    fused = isinstance(ours.kernel, SubPixelConv)
    assert {
        "composed": not fused,
        "gather": fused and not ours.kernel.scatter,
        "scatter": fused and ours.kernel.scatter,
    }[path]
    assert compare_with_torch(ours, theirs, _randn(*shape)).largest < TOLERANCE


def _network(ours: bool, dtype=torch.float64):
    if ours:
        return Sequential(
            Conv2d(3, 8, 3, stride=2, padding=1, dtype=dtype), ReLU(),
            Conv2d(8, 16, 3, stride=2, padding=1, dtype=dtype), ReLU(),
            Upsampling(16, 8, dtype=dtype), ReLU(),
            Upsampling(8, 3, dtype=dtype), Sigmoid(),
        )  # fmt: skip
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, dtype=dtype), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, dtype=dtype), nn.ReLU(),
        nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(16, 8, 3, padding=1, dtype=dtype)), nn.ReLU(),
        nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(8, 3, 3, padding=1, dtype=dtype)), nn.Sigmoid(),
    )  # fmt: skip


@pytest.mark.parametrize(
    "shape", [(1, 3, 32, 32), (4, 3, 16, 24), (2, 3, 8, 8)], ids=["1x32x32", "4x16x24", "2x8x8"]
)
def test_sequential_network_matches_torch_sequential(shape):
    assert compare_with_torch(_network(True), _network(False), _randn(*shape)).largest < TOLERANCE


PARAMETRIZED_BLOCKS = {
    "conv": lambda: Conv2d(4, 6, 3, padding=1, dtype=torch.float64),
    "conv-grouped-nobias": lambda: Conv2d(4, 6, (3, 2), groups=2, bias=False, dtype=torch.float64),
    "transpose-conv": lambda: TransposeConv2d(4, 6, 3, stride=2, dtype=torch.float64),
    "transpose-conv-fused": lambda: TransposeConv2d(4, 6, 4, stride=2, padding=1, dtype=torch.float64),
    "upsampling": lambda: Upsampling(4, 6, dtype=torch.float64),
    "sequential": lambda: Sequential(
        Conv2d(4, 4, 3, dtype=torch.float64), ReLU(), Upsampling(4, 4, dtype=torch.float64)
    ),
}
PARAMETERLESS_BLOCKS = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "nearest": lambda: NearestUpsampling(scale_factor=2),
    "empty-sequential": Sequential,
}


@pytest.mark.parametrize("make", PARAMETRIZED_BLOCKS.values(), ids=PARAMETRIZED_BLOCKS.keys())
def test_backward_accumulates_parameter_gradients_until_zero_grad(make):
    block = make()
    x = _randn(2, 4, 6, 6)
    grad_output = _randn(*block.forward(x).shape, seed=1)
    block.backward(grad_output)
    once = [grad.clone() for _, grad in block.param()]
    block.forward(x)
    block.backward(grad_output)
    for (_, grad), single in zip(block.param(), once, strict=True):
        assert (grad - 2 * single).abs().max() < TOLERANCE
    block.zero_grad()
    assert all(grad.abs().max() == 0 for _, grad in block.param())


@pytest.mark.parametrize("make", PARAMETRIZED_BLOCKS.values(), ids=PARAMETRIZED_BLOCKS.keys())
def test_param_pairs_have_equal_shapes(make):
    pairs = make().param()
    assert pairs and all(p.shape == g.shape and p.dtype == g.dtype for p, g in pairs)


@pytest.mark.parametrize("make", PARAMETERLESS_BLOCKS.values(), ids=PARAMETERLESS_BLOCKS.keys())
def test_parameterless_blocks_have_no_pairs(make):
    assert make().param() == []


@pytest.mark.parametrize(
    ("make", "weight_shape", "fan_in"),
    [
        (lambda: Conv2d(64, 32, 3), (32, 64, 3, 3), 64 * 9),
        (lambda: Conv2d(12, 8, (5, 2), groups=4), (8, 3, 5, 2), 3 * 10),
        (lambda: TransposeConv2d(32, 64, 2, stride=2), (32, 64, 2, 2), 64 * 4),
        (lambda: TransposeConv2d(12, 8, 3, groups=2), (12, 4, 3, 3), 4 * 9),
        (lambda: Upsampling(16, 48), (48, 16, 3, 3), 16 * 9),
    ],
    ids=["conv", "conv-grouped-rect", "transpose", "transpose-grouped", "upsampling"],
)
def test_weight_and_bias_are_pytorch_shaped_and_initialised(make, weight_shape, fan_in):
    torch.manual_seed(0)
    block = make()
    bound = 1 / math.sqrt(fan_in)
    assert tuple(block.weight.shape) == weight_shape and tuple(block.bias.shape) == (block.bias.numel(),)
    for tensor in (block.weight, block.bias):
        assert tensor.abs().max() <= bound
    # A uniform ±bound sample of this size has a standard deviation of bound/√3 within a few percent.
    assert abs(block.weight.std().item() - bound / math.sqrt(3)) < 0.1 * bound


def test_reassigned_weight_and_bias_are_used_and_get_gradients():
    conv = Conv2d(3, 2, 3, dtype=torch.float64)
    conv.weight = _randn(2, 3, 3, 3, seed=5)
    conv.bias = _randn(2, seed=6)
    x = _randn(1, 3, 6, 6)
    expected = torch.nn.functional.conv2d(x, conv.weight, conv.bias)
    assert (conv(x) - expected).abs().max() < TOLERANCE
    conv.backward(torch.ones_like(expected))
    assert [tuple(g.shape) for _, g in conv.param()] == [(2, 3, 3, 3), (2,)]
    assert conv.param()[0][0] is conv.weight


def test_calling_a_block_is_forward():
    conv = Conv2d(3, 2, 3, dtype=torch.float64)
    x = _randn(1, 3, 6, 6)
    assert torch.equal(conv(x), conv.forward(x))


@pytest.mark.parametrize("seed", range(5))
def test_course_preliminary_checks_hold_in_float32(seed):
    torch.manual_seed(seed)
    conv, x = Conv2d(3, 3, 3), torch.randn((1, 3, 32, 32))
    reference = torch.nn.functional.conv2d(x, conv.weight, conv.bias)
    assert torch.allclose(conv.forward(x), reference)
    assert torch.allclose(Sequential(conv, Sigmoid()).forward(x), torch.sigmoid(reference))


def test_blocks_work_with_autograd_disabled_before_import():
    script = (
        "import torch; torch.set_grad_enabled(False)\n"
        "from Miniproject_2.model import Conv2d, Sequential, ReLU, Upsampling, Sigmoid, MSE, SGD\n"
        "net = Sequential(Conv2d(3, 4, 3, stride=2, padding=1), ReLU(), Upsampling(4, 3), Sigmoid())\n"
        "x = torch.rand(2, 3, 8, 8); loss = MSE(); optimizer = SGD(net.param(), lr=0.1)\n"
        "loss.forward(net(x), x); net.backward(loss.backward()); optimizer.step()\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_output_follows_the_input_dtype():
    block = Sequential(Conv2d(3, 4, 3, dtype=torch.float64), Upsampling(4, 3, dtype=torch.float64))
    assert block(_randn(1, 3, 6, 6)).dtype == torch.float64
    block.to(dtype=torch.float32)
    assert block(_randn(1, 3, 6, 6).float()).dtype == torch.float32


@pytest.mark.parametrize(("kwargs", "shape", "path"), UPSAMPLING_CASES.values(), ids=UPSAMPLING_CASES.keys())
def test_upsampling_float32_error_is_a_small_multiple_of_torchs(kwargs, shape, path):
    conv_kwargs = {k: v for k, v in kwargs.items() if k != "scale_factor"}
    conv_kwargs.setdefault("kernel_size", 3)
    conv_kwargs.setdefault("padding", "same")

    def theirs(dtype):
        upsample = torch.nn.Upsample(scale_factor=kwargs.get("scale_factor", 2), mode="nearest")
        return torch.nn.Sequential(upsample, torch.nn.Conv2d(**conv_kwargs, dtype=dtype))

    ratio = float32_error_ratio(lambda dtype: Upsampling(**kwargs, dtype=dtype), theirs, _randn(*shape))
    assert ratio <= FLOAT32_ERROR_MULTIPLE


@pytest.mark.parametrize("make", PARAMETRIZED_BLOCKS.values(), ids=PARAMETRIZED_BLOCKS.keys())
def test_backward_parameters_accumulates_what_backward_does(make):
    block = make()
    x = _randn(2, 4, 6, 6)
    grad_output = _randn(*block.forward(x).shape, seed=1)
    block.backward(grad_output)
    expected = [grad.clone() for _, grad in block.param()]
    block.zero_grad()
    block.forward(x)
    assert block.backward_parameters(grad_output) is None
    for (_, grad), reference in zip(block.param(), expected, strict=True):
        assert (grad - reference).abs().max() < TOLERANCE


REPR_CASES = {
    "conv": lambda nn: nn.Conv2d(3, 48, 3, stride=2, padding=1),
    "conv-dilated-grouped-nobias": lambda nn: nn.Conv2d(4, 6, (3, 2), dilation=2, groups=2, bias=False),
    "conv-same": lambda nn: nn.Conv2d(3, 3, 3, padding="same"),
    "transposed": lambda nn: nn.ConvTranspose2d(96, 48, 2, stride=2),
    "transposed-output-padding": lambda nn: nn.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1
    ),
    "sequential": lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.Sigmoid())),
}
OURS = types.SimpleNamespace(
    ConvTranspose2d=TransposeConv2d, Conv2d=Conv2d, ReLU=ReLU, Sigmoid=Sigmoid, Sequential=Sequential
)
"""Our blocks under torch.nn's names, so that one builder makes both twins."""


@pytest.mark.parametrize("make", REPR_CASES.values(), ids=REPR_CASES.keys())
def test_repr_is_pytorchs(make):
    assert repr(make(OURS)) == repr(make(torch.nn)).replace("ConvTranspose2d", "TransposeConv2d")


KERNEL_CASES = {
    "conv": (lambda: Conv2d(3, 48, 3, stride=2, padding=1), Im2colConv),
    "transposed-k4-s2-p1": (lambda: TransposeConv2d(48, 3, 4, stride=2, padding=1), SubPixelConv),
    "transposed-k2-s2": (lambda: TransposeConv2d(96, 48, 2, stride=2), DepthToSpace),
    "transposed-k3-s2": (lambda: TransposeConv2d(4, 6, 3, stride=2), Col2imTransposed),
    "transposed-k4-s2-p1-groups2": (
        lambda: TransposeConv2d(4, 6, 4, stride=2, padding=1, groups=2),
        Col2imTransposed,
    ),
    "upsampling-x2-k3": (lambda: Upsampling(4, 6), SubPixelConv),
    "upsampling-x3-k3": (lambda: Upsampling(4, 6, scale_factor=3), UpsampledConv),
}


@pytest.mark.parametrize(("make", "kernel"), KERNEL_CASES.values(), ids=KERNEL_CASES.keys())
def test_each_block_gets_the_kernel_of_its_geometry(make, kernel):
    assert type(make().kernel) is kernel
