"""`harness data make` and `harness data info` as a user runs them: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.cli import main
from harness.dataset import TRAIN_FILE, VAL_FILE
from harness.generate import MANIFEST_FILE
from harness.psnr import METRICS, psnr_grading, psnr_statement

TEST_DATA = Path(__file__).resolve().parent.parent / "test_data"


def run(*arguments: str):
    return CliRunner().invoke(main, list(arguments))


def test_make_writes_the_files_and_names_the_held_out_photo(tmp_path: Path) -> None:
    result = run("data", "make", str(tmp_path), "--train", "8", "--val", "4", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert all((tmp_path / name).is_file() for name in (TRAIN_FILE, VAL_FILE, MANIFEST_FILE))
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    held_out = next(photo["name"] for photo in manifest["photos"] if photo["split"] == "val")
    assert result.stdout == f"wrote {tmp_path}: 8 train pairs, 4 val pairs ({held_out} held out for val)\n"


def test_make_passes_degradation_parameters_and_records_them(tmp_path: Path) -> None:
    arguments = ["--train", "4", "--val", "4", "--degradation", "gaussian", "--param", "sigma=5"]
    result = run("data", "make", str(tmp_path), *arguments)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["degradation"]["params"]["sigma"] == 5.0
    assert manifest["command"].endswith("--degradation gaussian --param sigma=5.0")


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        pytest.param(["--param", "sigma"], "is not KEY=NUMBER", id="param-without-value"),
        pytest.param(["--param", "sigma=big"], "is not KEY=NUMBER", id="param-not-a-number"),
        pytest.param(["--degradation", "poisson"], "'poisson' is not one of", id="unknown-degradation"),
        pytest.param(["--train", "0"], "0 is not in the range x>=1", id="no-train-images"),
        pytest.param(
            ["--param", "sigma=3"], "degradation 'pointsample' has no parameter 'sigma'", id="wrong-param"
        ),
    ],
)
def test_make_refuses_bad_options_with_exit_code_2(tmp_path: Path, arguments: list, problem: str) -> None:
    result = run("data", "make", str(tmp_path / "out"), "--train", "4", "--val", "4", *arguments)
    assert result.exit_code == 2
    assert problem in result.stderr
    assert not (tmp_path / "out").exists()


def test_info_on_val_shows_shapes_both_metrics_best_blur_and_sha256() -> None:
    result = run("data", "info", str(TEST_DATA / VAL_FILE))
    assert result.exit_code == 0, result.output
    noisy, clean = torch.load(TEST_DATA / VAL_FILE)
    manifest = json.loads((TEST_DATA / MANIFEST_FILE).read_text())
    lines = result.stdout.splitlines()
    assert lines[0] == f"{TEST_DATA / VAL_FILE}: val (noisy, clean)"
    assert any(line.split()[:3] == ["noisy", "200×3×32×32", "uint8"] for line in lines)
    grading = next(line.split() for line in lines if line.startswith("grading "))
    statement = next(line.split() for line in lines if line.startswith("statement "))
    assert float(grading[1]) == pytest.approx(psnr_grading(noisy, clean), abs=0.005)
    assert float(statement[1]) == pytest.approx(psnr_statement(noisy, clean), abs=0.005)
    assert float(grading[2]) > float(grading[1]), "a blur of the right width beats no blur"
    assert all(f"{name}: {metric.description}" in result.stdout for name, metric in METRICS.items())
    assert lines[-1] == f"sha256 {manifest['outputs'][VAL_FILE]}"


def test_info_on_train_lists_both_noisy_versions() -> None:
    result = run("data", "info", str(TEST_DATA / TRAIN_FILE))
    assert result.exit_code == 0, result.output
    assert "train (noisy_a, noisy_b)" in result.stdout
    assert "noisy_b   2000×3×32×32" in result.stdout


def test_info_warns_in_one_line_about_float_data(tmp_path: Path) -> None:
    path = tmp_path / "val_data.pkl"
    torch.save((torch.full((2, 3, 32, 32), 10.0), torch.zeros(2, 3, 32, 32, dtype=torch.uint8)), path)
    result = run("data", "info", str(path))
    assert result.exit_code == 0, result.output
    assert (
        result.stderr
        == f"harness: warning: {path}: noisy is torch.float32, not uint8; accepted as values in 0-255\n"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"garbage", "not a readable torch file", id="corrupt"),
        pytest.param(None, "file not found", id="missing"),
    ],
)
def test_info_on_a_bad_file_prints_one_line_and_exits_2(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "val_data.pkl"
    if content is not None:
        path.write_bytes(content)
    result = run("data", "info", str(TEST_DATA / TRAIN_FILE), str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"harness: error: {path}: {problem}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_info_on_a_mis_shaped_file_names_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "train_data.pkl"
    torch.save((torch.zeros(2, 3, 28, 28, dtype=torch.uint8),) * 2, path)
    result = run("data", "info", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"harness: error: {path}: noisy_a has 28×28 images, expected 32×32\n"
