"""The two PSNR definitions, against values computed by hand with `math.log10`."""

from __future__ import annotations

import math

import pytest
import torch

from harness.psnr import METRICS, psnr_grading, psnr_statement


def batch_with_errors(*errors: float, data_range: float = 255.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, target): one 3×4×4 image per error, each pixel of output off by that constant."""
    target = torch.full((len(errors), 3, 4, 4), data_range / 2, dtype=torch.float64)
    offsets = torch.tensor(errors, dtype=torch.float64).view(-1, 1, 1, 1)
    return target + offsets, target


# errors in 0-255 units -> per-image MSE on [0, 1] = (error / 255)²
CASES = [
    # errors per image (0-255 units; per-image MSE on [0, 1] is (error/255)²), grading, statement
    pytest.param((25.5,), 20.0, -10 * math.log10(0.01 + 1e-8), id="one-image-20dB"),
    pytest.param((2.55,), 40.0, -10 * math.log10(0.0001 + 1e-8), id="one-image-40dB"),
    pytest.param((25.5, 2.55), 30.0, -10 * math.log10((0.01 + 0.0001) / 2 + 1e-8), id="mean-of-20-and-40"),
    pytest.param((127.5, -127.5), -10 * math.log10(0.25), -10 * math.log10(0.25 + 1e-8), id="half-range"),
    pytest.param((0.0, 0.0), 100.0, 80.0, id="identical"),
    pytest.param((0.0, 25.5), 60.0, -10 * math.log10(0.005 + 1e-8), id="zero-error-image-counts-100dB"),
]


@pytest.mark.parametrize(("errors", "grading", "statement"), CASES)
def test_psnr_against_hand_computed_values(
    errors: tuple[float, ...], grading: float, statement: float
) -> None:
    output, target = batch_with_errors(*errors)
    assert psnr_grading(output, target) == pytest.approx(grading, abs=1e-6)
    assert psnr_statement(output, target) == pytest.approx(statement, abs=1e-6)


@pytest.mark.parametrize("data_range", [1.0, 255.0], ids=["range-1", "range-255"])
def test_data_range_rescales_to_unit_interval(data_range: float) -> None:
    output, target = batch_with_errors(0.1 * data_range, 0.01 * data_range, data_range=data_range)
    assert psnr_grading(output, target, data_range) == pytest.approx(30.0, abs=1e-6)


def test_uint8_inputs_are_not_wrapped_around() -> None:
    target = torch.full((1, 3, 2, 2), 200, dtype=torch.uint8)
    output = torch.full((1, 3, 2, 2), 100, dtype=torch.uint8)
    assert psnr_grading(output, target) == pytest.approx(-20 * math.log10(100 / 255), abs=1e-9)


def test_the_two_metrics_differ_when_images_differ_in_difficulty() -> None:
    output, target = batch_with_errors(25.5, 2.55)
    assert psnr_grading(output, target) - psnr_statement(output, target) == pytest.approx(7.03, abs=0.01)


@pytest.mark.parametrize(
    ("output_shape", "target_shape"),
    [((2, 3, 4, 4), (2, 3, 4, 5)), ((3, 4, 4), (3, 4, 4))],
    ids=["shape-mismatch", "not-a-batch"],
)
@pytest.mark.parametrize("metric", sorted(METRICS))
def test_bad_shapes_are_refused(output_shape: tuple, target_shape: tuple, metric: str) -> None:
    with pytest.raises(ValueError, match="shape"):
        METRICS[metric](torch.zeros(output_shape), torch.zeros(target_shape))


@pytest.mark.parametrize(("name", "function"), [("grading", psnr_grading), ("statement", psnr_statement)])
def test_metrics_registry_names_each_metric_in_one_line(name: str, function) -> None:
    metric = METRICS[name]
    output, target = batch_with_errors(25.5, 2.55)
    assert metric.name == name
    assert metric.description and "\n" not in metric.description
    assert metric(output, target) == function(output, target)
