"""One training step of the Model's network: ours against torch.nn + autograd + torch.optim.SGD."""

import pytest
from speed_cases import IMPLEMENTATIONS, training_step


@pytest.mark.parametrize("threads", [1, 2], indirect=True, ids=lambda t: f"{t}thread")
@pytest.mark.parametrize("batch", [8, 32, 128], ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_training_step(benchmark, record_speed, implementation, batch, threads):
    step = training_step(implementation, batch)
    benchmark.pedantic(step, rounds=max(10, 960 // batch), warmup_rounds=2)
    record_speed(f"training step, batch {batch}, {threads} thread(s)", implementation, benchmark)
