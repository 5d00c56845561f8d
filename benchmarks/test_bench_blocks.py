"""Forward + backward of each convolution layer of the Model's network: ours against torch.nn + autograd."""

import pytest
from speed_cases import IMPLEMENTATIONS, layer_step, network_layers


@pytest.mark.parametrize("threads", [1, 2], indirect=True, ids=lambda t: f"{t}thread")
@pytest.mark.parametrize("layer", list(network_layers()))
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_layer_forward_backward(benchmark, record_speed, implementation, layer, threads):
    batch = 32
    step = layer_step(implementation, layer, batch)
    benchmark.pedantic(step, rounds=30, warmup_rounds=2)
    record_speed(f"{layer}, batch {batch}, {threads} thread(s)", implementation, benchmark)
