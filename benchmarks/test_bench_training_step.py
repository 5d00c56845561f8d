"""One training step of the Model's network: ours against torch.nn + autograd + torch.optim.SGD.

pytest-benchmark times our step; the ratio table compares the three implementations round-robin."""

import pytest
from speed_cases import IMPLEMENTATIONS, interleaved_best, training_step


@pytest.mark.parametrize("threads", [1, 2], indirect=True, ids=lambda t: f"{t}thread")
@pytest.mark.parametrize("batch", [8, 32, 128], ids=lambda b: f"batch{b}")
def test_training_step(benchmark, record_speed, batch, threads):
    steps = {implementation: training_step(implementation, batch) for implementation in IMPLEMENTATIONS}
    rounds = max(10, 960 // batch)
    record_speed(f"training step, batch {batch}, {threads} thread(s)", interleaved_best(steps, rounds))
    benchmark.pedantic(steps["ours"], rounds=rounds, warmup_rounds=1)
