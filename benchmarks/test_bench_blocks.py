"""Forward + backward of each convolution layer of the Model's network: ours against torch.nn + autograd.

pytest-benchmark times our layer; the ratio table compares the three implementations round-robin."""

import pytest
from speed_cases import IMPLEMENTATIONS, interleaved_best, layer_step, network_layers

BATCH = 32


@pytest.mark.parametrize("threads", [1, 2], indirect=True, ids=lambda t: f"{t}thread")
@pytest.mark.parametrize("layer", list(network_layers()))
def test_layer_forward_backward(benchmark, record_speed, layer, threads):
    steps = {implementation: layer_step(implementation, layer, BATCH) for implementation in IMPLEMENTATIONS}
    record_speed(f"{layer}, batch {BATCH}, {threads} thread(s)", interleaved_best(steps, rounds=30))
    benchmark.pedantic(steps["ours"], rounds=30, warmup_rounds=1)
