"""The validating loader: every known defect gives one line that names the file and the problem."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from harness.dataset import load_train, load_val
from harness.errors import DataError


def images(count: int = 4, dtype: torch.dtype = torch.uint8, shape: tuple = (3, 32, 32)) -> torch.Tensor:
    return torch.arange(count * torch.Size(shape).numel()).remainder(256).to(dtype).view(count, *shape)


def save(path: Path, content: object) -> Path:
    torch.save(content, path)
    return path


class Opaque:
    """A class `torch.load(weights_only=True)` refuses to unpickle."""


def text_file(path: Path) -> Path:
    path.write_bytes(b"not a torch file at all")
    return path


def truncated(path: Path) -> Path:
    save(path, (images(), images()))
    path.write_bytes(path.read_bytes()[:1000])
    return path


DEFECTS = [
    pytest.param(lambda p: p, "file not found", id="missing"),
    pytest.param(text_file, "not a readable torch file", id="text"),
    pytest.param(truncated, "not a readable torch file", id="truncated"),
    pytest.param(lambda p: save(p, Opaque()), "not a readable torch file", id="pickled-object"),
    pytest.param(lambda p: save(p, {"a": images()}), "holds a dict, expected a 2-tuple", id="dict"),
    pytest.param(lambda p: save(p, images()), "holds a Tensor, expected a 2-tuple", id="bare-tensor"),
    pytest.param(lambda p: save(p, (images(),) * 3), "holds a 3-tuple", id="3-tuple"),
    pytest.param(lambda p: save(p, (images(), 7)), "is of type int, expected a tensor", id="not-a-tensor"),
    pytest.param(lambda p: save(p, (images()[0], images()[0])), "(rank 4)", id="rank-3"),
    pytest.param(lambda p: save(p, (images(shape=(1, 32, 32)),) * 2), "1 channels, expected 3", id="grey"),
    pytest.param(lambda p: save(p, (images(shape=(3, 16, 16)),) * 2), "16×16 images", id="16x16"),
    pytest.param(lambda p: save(p, (images(0), images(0))), "holds no images", id="empty"),
    pytest.param(lambda p: save(p, (images(dtype=torch.int64),) * 2), "dtype torch.int64", id="int64"),
    pytest.param(lambda p: save(p, (images(4), images(3))), "has 4 images but", id="length-mismatch"),
    pytest.param(lambda p: save(p, (images() * 2.0, images() * 2.0)), "outside 0-255", id="float-above-255"),
    pytest.param(lambda p: save(p, (images() - 1.0, images() - 1.0)), "outside 0-255", id="float-negative"),
    pytest.param(
        lambda p: save(p, (torch.full((2, 3, 32, 32), float("nan")),) * 2), "outside 0-255", id="float-nan"
    ),
]


@pytest.mark.parametrize(("make_file", "problem"), DEFECTS)
@pytest.mark.parametrize("load", [load_train, load_val], ids=["train", "val"])
def test_defect_gives_one_line_naming_file_and_problem(tmp_path: Path, make_file, problem: str, load) -> None:
    path = tmp_path / "data.pkl"
    make_file(path)
    with pytest.raises(DataError) as caught:
        load(path)
    line = caught.value.one_line()
    assert line.startswith(f"{path}: ")
    assert problem in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("load", "first_name"), [(load_train, "noisy_a"), (load_val, "noisy")], ids=["train", "val"]
)
def test_messages_use_the_course_names_of_the_tensors(tmp_path: Path, load, first_name: str) -> None:
    path = save(tmp_path / "data.pkl", (images(dtype=torch.int32), images()))
    with pytest.raises(DataError, match=f"{first_name} has dtype torch.int32"):
        load(path)


def test_valid_uint8_pair_loads_unchanged_without_warning(tmp_path: Path) -> None:
    first, second = images(5), images(5).flip(0)
    path = save(tmp_path / "train_data.pkl", (first, second))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_train(path)
    assert torch.equal(loaded[0], first) and torch.equal(loaded[1], second)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_float_in_0_255_is_accepted_with_a_warning(tmp_path: Path, dtype: torch.dtype) -> None:
    noisy, clean = images(dtype=dtype), images()
    path = save(tmp_path / "val_data.pkl", (noisy, clean))
    with pytest.warns(UserWarning, match="noisy is torch.float"):
        loaded_noisy, _ = load_val(path)
    assert loaded_noisy.dtype == dtype and torch.equal(loaded_noisy, noisy)


def test_a_list_pair_is_accepted_like_a_tuple(tmp_path: Path) -> None:
    path = save(tmp_path / "val_data.pkl", [images(), images()])
    assert len(load_val(path)) == 2
