"""The adapter of `harness.checks.blocks.adapters`: PyTorch's call first, then documented fallbacks."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
import torch

from harness.checks.blocks.adapters import (
    AdapterFailure,
    ConstructorCall,
    ParameterList,
    Unsupported,
    build,
    find_class,
    read_parameters,
)

HERE = Path(__file__).parent
CONV_CALL = ConstructorCall(
    {
        "in_channels": 3,
        "out_channels": 8,
        "kernel_size": 5,
        "stride": 2,
        "padding": 1,
        "dilation": 1,
        "bias": True,
    },
    positional=2,
    keywords=("kernel_size", "stride", "padding"),
)


class TorchStyle:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        self.got = dict(i=in_channels, o=out_channels, k=kernel_size, s=stride, p=padding)


class Abbreviated:
    def __init__(self, in_ch, out_ch, kernel, stride=1, padding=0, device="cpu", is_cuda=False):
        self.got = dict(i=in_ch, o=out_ch, k=kernel, s=stride, p=padding)


class DilationFirst:
    def __init__(self, c_in, c_out, k_sz, dilation=1, padding=0, stride=1):
        self.got = dict(i=c_in, o=c_out, k=k_sz, s=stride, p=padding)


class RequiredDevice:
    def __init__(self, in_channels, out_channels, kernel_size, is_cuda, device, stride=1, padding=0):
        assert device == "cpu" and is_cuda is False
        self.got = dict(i=in_channels, o=out_channels, k=kernel_size, s=stride, p=padding)


class Positional:
    def __init__(self, a, b, c, d, e):
        self.got = dict(i=a, o=b, k=c, s=d, p=e)


class NoDilation:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.got = {}


class Broken:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        raise ZeroDivisionError("boom")


@pytest.mark.parametrize(
    ("cls", "adapted"),
    [
        pytest.param(TorchStyle, False, id="pytorch-signature"),
        pytest.param(Abbreviated, True, id="abbreviated-names-with-extras"),
        pytest.param(DilationFirst, True, id="another-order-by-name"),
        pytest.param(RequiredDevice, True, id="required-device-and-is-cuda"),
        pytest.param(Positional, True, id="unknown-names-positional"),
    ],
)
def test_build_passes_the_values_to_the_right_arguments(cls, adapted):
    built = build(cls, "Conv2d", CONV_CALL, (), ".")
    assert built.block.got == dict(i=3, o=8, k=5, s=2, p=1)
    assert (built.adapter is not None) is adapted
    if adapted:
        assert "Conv2d(3, 8, kernel_size=5, stride=2, padding=1) raised TypeError" in built.adapter
        assert "signature Conv2d(" in built.adapter


def test_an_optional_setting_the_signature_cannot_take_is_unsupported():
    call = ConstructorCall({**CONV_CALL.values, "dilation": 2}, 2, ("kernel_size", "dilation"))
    with pytest.raises(Unsupported, match="Conv2d has no dilation argument"):
        build(NoDilation, "Conv2d", call, {"dilation"}, ".")


def test_a_constructor_that_always_fails_names_its_signature_and_the_calls_tried():
    with pytest.raises(AdapterFailure) as failure:
        build(Broken, "Conv2d", CONV_CALL, (), HERE)
    message = str(failure.value)
    assert message.startswith(
        "Conv2d(3, 8, kernel_size=5, stride=2, padding=1) raised ZeroDivisionError: boom "
        "(at test_blocks_adapters.py:"
    )
    assert "signature Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)" in message
    assert message.endswith("also tried Conv2d(3, 8, 5, 2, 1)")


class SGDOfModel:
    def __init__(self, model, eta):
        self.model, self.eta = model, eta


class SGDWithoutParams:
    def __init__(self, eta=0.1):
        self.eta = eta


def test_sgd_taking_the_model_gets_an_object_with_param():
    pairs = ParameterList([[torch.zeros(2), torch.ones(2)]])
    call = ConstructorCall({"params": pairs, "lr": 0.1}, 1, ("lr",), frozenset({"params"}))
    built = build(SGDOfModel, "SGD", call, (), ".", {"params": lambda: pairs})
    assert built.block.model.param() is pairs and built.block.eta == 0.1 and built.adapter


def test_sgd_without_parameters_drops_them_for_step():
    call = ConstructorCall({"params": ParameterList(), "lr": 0.5}, 1, ("lr",), frozenset({"params"}))
    built = build(SGDWithoutParams, "SGD", call, (), ".")
    assert built.block.eta == 0.5 and built.dropped == {"params"}


def test_find_class_accepts_the_documented_variants_in_order():
    module = types.ModuleType("m")
    module.ConvTranspose2d = type("ConvTranspose2d", (), {})
    module.MSELoss = type("MSELoss", (), {})
    assert find_class(module, "transpose_conv2d")[1] == "ConvTranspose2d"
    assert find_class(module, "mse")[1] == "MSELoss"
    assert find_class(module, "conv2d") == (None, None)


W, GW, B, GB = torch.ones(2, 3), torch.full((2, 3), 2.0), torch.ones(2), torch.full((2,), 3.0)


class Holder:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class Block:
    def __init__(self, param, **attributes):
        self._param = param
        self.__dict__.update(attributes)

    def param(self):
        return self._param()


def _raise():
    raise TypeError("can only concatenate list (not NoneType) to list")


@pytest.mark.parametrize(
    ("block", "layout", "error"),
    [
        pytest.param(Block(lambda: [(W, GW), (B, GB)]), "pairs", None, id="tuples"),
        pytest.param(Block(lambda: [[W, GW], [B, GB]]), "pairs", None, id="lists-of-lists"),
        pytest.param(
            Block(lambda: [Holder(value=W, grad=GW), Holder(data=B, gradient=GB)]),
            "objects",
            None,
            id="parameter-objects",
        ),
        pytest.param(Block(lambda: [W, GW, B, GB]), "flat", None, id="flat-list"),
        pytest.param(Block(lambda: [[(W, GW)], [], [[B, GB]]]), "nested", None, id="one-list-per-layer"),
        pytest.param(
            Block(_raise, w=W, dw=GW, b=B, db=GB),
            "attributes",
            "raised TypeError: can only",
            id="raises-read-attributes",
        ),
        pytest.param(
            Block(lambda: None, weight=W, grad_weight=GW, bias=B, grad_bias=GB),
            "attributes",
            "returned None",
            id="returns-none-read-attributes",
        ),
    ],
)
def test_read_parameters_normalises_every_layout(block, layout, error):
    reading = read_parameters(block, ".")
    assert reading.layout == layout
    assert [v.tolist() for v in reading.values] == [W.tolist(), B.tolist()]
    assert [g.tolist() for g in reading.grads] == [GW.tolist(), GB.tolist()]
    assert (reading.error is None) if error is None else reading.error.startswith(error)


def test_read_parameters_copies_so_later_changes_do_not_leak():
    weight = torch.zeros(3)
    reading = read_parameters(Block(lambda: [(weight, weight)]), ".")
    weight.add_(1)
    assert reading.values[0].tolist() == [0.0, 0.0, 0.0]


def test_a_call_shows_a_value_supplied_later_by_its_name():
    """SGD's parameters come from the probe: the call reads `SGD(params, lr=0.1)`, not `SGD(None, ...)`."""
    call = ConstructorCall(
        {"params": None, "lr": 0.1}, positional=1, keywords=("lr",), droppable=frozenset({"params"})
    )
    assert call.torch_call("SGD") == "SGD(params, lr=0.1)"
