"""The data and baseline helpers of `experiments/` that the README's PSNR figures rest on."""

import torch

from experiments.join_data import join
from experiments.linear_filter import apply_filter, fit_filter
from harness.dataset import TRAIN_FILE, VAL_FILE, load_train, load_val


def _data_set(folder, pairs: int, value: int) -> None:
    folder.mkdir()
    images = torch.full((pairs, 3, 32, 32), value, dtype=torch.uint8)
    torch.save((images, images + 1), folder / TRAIN_FILE)
    torch.save((images + 2, images + 3), folder / VAL_FILE)


def test_join_takes_train_pairs_and_val_pairs_from_the_folders_named_in_order(tmp_path):
    _data_set(tmp_path / "a", 2, 10)
    _data_set(tmp_path / "b", 3, 20)
    counts = join(tmp_path / "out", [tmp_path / "b", tmp_path / "a"], [tmp_path / "a"])
    noisy_a, noisy_b = load_train(tmp_path / "out" / TRAIN_FILE)
    noisy, clean = load_val(tmp_path / "out" / VAL_FILE)
    assert counts == (5, 2)
    assert noisy_a[:, 0, 0, 0].tolist() == [20, 20, 20, 10, 10]
    assert noisy_b[:, 0, 0, 0].tolist() == [21, 21, 21, 11, 11]
    assert noisy[:, 0, 0, 0].tolist() == [12, 12] and clean[:, 0, 0, 0].tolist() == [13, 13]


def test_the_least_squares_filter_recovers_a_filter_that_made_the_targets():
    generator = torch.Generator().manual_seed(0)
    source = torch.randint(0, 256, (40, 3, 32, 32), generator=generator, dtype=torch.uint8)
    weight = torch.rand(3, 3, 3, 3, generator=generator, dtype=torch.float64) / 27
    bias = torch.tensor([0.1, -0.05, 0.02], dtype=torch.float64)
    target = torch.nn.functional.conv2d(
        torch.nn.functional.pad(source.double() / 255, (1,) * 4, mode="reflect"), weight, bias
    )
    fitted_weight, fitted_bias = fit_filter([(source, target * 255)], kernel=3, images=40)
    assert torch.allclose(fitted_weight, weight, atol=1e-8)
    assert torch.allclose(fitted_bias, bias, atol=1e-8)
    filtered = apply_filter(source, fitted_weight, fitted_bias)
    assert torch.allclose(filtered, target.clamp(0, 1) * 255, atol=1e-6)
