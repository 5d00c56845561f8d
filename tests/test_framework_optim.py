"""SGD equals torch.optim.SGD step for step, training the same small network on the same batches."""

import pytest
import torch
from framework_reference import copy_parameters, one_thread

from Miniproject_2.model import MSE, SGD, Conv2d, ReLU, Sequential

_one_thread = pytest.fixture(scope="module", autouse=True)(one_thread)

STEPS = 20


def _pair_of_networks():
    ours = Sequential(
        Conv2d(3, 6, 3, padding=1, dtype=torch.float64),
        ReLU(),
        Conv2d(6, 3, 3, stride=2, dtype=torch.float64),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1, dtype=torch.float64), torch.nn.ReLU(),
        torch.nn.Conv2d(6, 3, 3, stride=2, dtype=torch.float64),
    )  # fmt: skip
    copy_parameters(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize(
    "hyper",
    [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.1, weight_decay=0.01),
        dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.02),
        dict(lr=0.05, momentum=0.9, weight_decay=0.05, nesterov=True),
    ],
    ids=[
        "plain",
        "momentum",
        "momentum-dampening",
        "nesterov",
        "weight-decay",
        "all-but-nesterov",
        "nesterov-decay",
    ],
)
def test_sgd_matches_torch_optim_sgd_for_20_steps(hyper):
    ours, theirs = _pair_of_networks()
    optimizer, reference = SGD(ours.param(), **hyper), torch.optim.SGD(theirs.parameters(), **hyper)
    loss = MSE()
    generator = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        x = torch.randn((4, 3, 8, 8), generator=generator, dtype=torch.float64)
        target = torch.randn((4, 3, 3, 3), generator=generator, dtype=torch.float64)
        with torch.enable_grad():
            reference.zero_grad()
            torch.nn.functional.mse_loss(theirs(x), target).backward()
            reference.step()
        optimizer.zero_grad()
        loss.forward(ours.forward(x), target)
        ours.backward(loss.backward())
        optimizer.step()
        for (mine, _), their in zip(ours.param(), theirs.parameters(), strict=True):
            assert (mine - their.detach()).abs().max() < 1e-10


def test_zero_grad_clears_every_gradient():
    ours, _ = _pair_of_networks()
    optimizer = SGD(ours, lr=0.1)
    ours.forward(torch.randn((1, 3, 8, 8), dtype=torch.float64))
    ours.backward(torch.ones((1, 3, 3, 3), dtype=torch.float64))
    assert any(g.abs().max() > 0 for _, g in ours.param())
    optimizer.zero_grad()
    assert all(g.abs().max() == 0 for _, g in ours.param())


@pytest.mark.parametrize(
    "hyper",
    [dict(lr=-1), dict(lr=0.1, nesterov=True), dict(lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)],
    ids=["negative-lr", "nesterov-without-momentum", "nesterov-with-dampening"],
)
def test_invalid_hyper_parameters_are_refused_like_torch(hyper):
    ours, theirs = _pair_of_networks()
    with pytest.raises(ValueError):
        torch.optim.SGD(theirs.parameters(), **hyper)
    with pytest.raises(ValueError):
        SGD(ours.param(), **hyper)
