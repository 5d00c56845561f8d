"""What the speed benchmarks time: one training step of the Model's network, and each convolution layer
of it (forward + backward), in our framework and in torch.nn + autograd (NCHW and channels_last).

Each builder returns a zero-argument callable that performs one step on fixed random data, so the
benchmark times only the step. The machine is shared, so a ratio of two separately timed benchmarks
mostly measures the load that happened to hit each: `interleaved_best` times the implementations
round-robin (ours, torch NCHW, torch channels_last, ours, ...) and keeps each one's best round, and on
one thread also the median CPU time of the calling thread, which does not count the time a step waited
for a core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from experiments.contenders import Width, course_topology
from Miniproject_2.model import ARCHITECTURE, MSE, SGD, build_network

IMPLEMENTATIONS = ("ours", "torch-nchw", "torch-channels-last")
LEARNING_RATE, MOMENTUM = 0.05, 0.9


@dataclass(frozen=True)
class Timing:
    """One implementation's time for a step: `wall`, its best round's seconds, and `cpu`, the median
    seconds of CPU time the calling thread spent in a round (None with more than one torch thread, whose
    other threads that clock does not see). On a shared machine the CPU time leaves out the time the step
    waited for a core, which the wall time includes."""

    wall: float
    cpu: float | None


def interleaved_best(steps: dict[str, Callable[[], None]], rounds: int, warmup: int = 2) -> dict[str, Timing]:
    """Each step's `Timing` over `rounds` round-robin rounds, after `warmup` untimed ones."""
    walls: dict[str, list[float]] = {name: [] for name in steps}
    cpus: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(warmup + rounds):
        for name, step in steps.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            step()
            if round_index >= warmup:
                walls[name].append(time.perf_counter() - start)
                cpus[name].append(time.thread_time() - start_cpu)
    one_thread = torch.get_num_threads() == 1
    return {
        name: Timing(min(walls[name]), statistics.median(cpus[name]) if one_thread else None)
        for name in steps
    }


def _images(batch: int, channels: int = 3, size: int = 32, channels_last: bool = False) -> torch.Tensor:
    images = torch.rand((batch, channels, size, size), generator=torch.Generator().manual_seed(batch))
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def training_step(implementation: str, batch: int) -> Callable[[], None]:
    """One SGD step (momentum 0.9) on the MSE between the network's output and a target batch."""
    inputs, targets = _images(batch), _images(batch)
    if implementation == "ours":
        network, loss = build_network(ARCHITECTURE), MSE()
        optimizer = SGD(network.param(), lr=LEARNING_RATE, momentum=MOMENTUM)

        def step() -> None:
            optimizer.zero_grad()
            loss.forward(network.forward(inputs), targets)
            network.backward_parameters(loss.backward())
            optimizer.step()

        return step
    network = course_topology(Width.of(ARCHITECTURE))
    if implementation == "torch-channels-last":
        network = network.to(memory_format=torch.channels_last)
        inputs, targets = (t.contiguous(memory_format=torch.channels_last) for t in (inputs, targets))
    optimizer = torch.optim.SGD(network.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)

    def torch_step() -> None:
        with torch.enable_grad():
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(network(inputs), targets).backward()
            optimizer.step()

    return torch_step


LAYER_INDICES = (0, 2, 4, 6)
"""Positions of the four convolution layers in `build_network`'s and `course_topology`'s Sequential."""


def network_layers() -> dict[str, tuple]:
    """Layer name -> (position in the network, in channels, out channels, input size) of the Model's four
    convolution layers, on 32×32 images."""
    first, second = ARCHITECTURE["channels"]
    up = "transposed" if ARCHITECTURE["upsampling"] == "transposed" else "upsampling"
    shapes = [
        (3, first, 32, "conv", "-s2"),
        (first, second, 16, "conv", "-s2"),
        (second, first, 8, up, ""),
        (first, 3, 16, up, ""),
    ]
    return {
        f"{kind}-{c_in}to{c_out}{suffix}": (index, c_in, c_out, size)
        for index, (c_in, c_out, size, kind, suffix) in zip(LAYER_INDICES, shapes, strict=True)
    }


def layer_step(implementation: str, layer: str, batch: int) -> Callable[[], None]:
    """Forward and backward of one layer of the Model's network (parameter gradients always, the input
    gradient except for the first layer, whose input is data), on an input in each implementation's
    preferred layout."""
    index, c_in, c_out, size = network_layers()[layer]
    needs_input_grad = index > 0
    if implementation == "ours":
        block = build_network(ARCHITECTURE)[index]
        x = _images(batch, c_in, size, channels_last=True)
        grad = _images(batch, c_out, block.forward(x).shape[-1], channels_last=True)
        backward = block.backward if needs_input_grad else block.backward_parameters

        def step() -> None:
            block.forward(x)
            backward(grad)

        return step
    channels_last = implementation == "torch-channels-last"
    module = course_topology(Width.of(ARCHITECTURE))[index]
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    x = _images(batch, c_in, size, channels_last).requires_grad_(needs_input_grad)
    with torch.no_grad():
        grad = _images(batch, c_out, module(x).shape[-1], channels_last)

    def torch_step() -> None:
        with torch.enable_grad():
            x.grad = None
            module.zero_grad(set_to_none=True)
            module(x).backward(grad)

    return torch_step
