"""`make_dataset`: course format, determinism, manifest, disjoint photo split; the committed test_data/."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from harness.dataset import TRAIN_FILE, VAL_FILE, load_val
from harness.errors import DataError
from harness.generate import MANIFEST_FILE, make_dataset
from harness.photos import SKIMAGE_PHOTOS, read_photo, skimage_photo_folder
from harness.psnr import psnr_grading

TEST_DATA = Path(__file__).resolve().parent.parent / "test_data"
FILES = (TRAIN_FILE, VAL_FILE, MANIFEST_FILE)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "out"
    make_dataset(out, train=40, val=12, seed=3)
    return out


def test_files_load_with_plain_torch_load_in_the_course_format(small: Path) -> None:
    noisy_a, noisy_b = torch.load(small / TRAIN_FILE)
    noisy, clean = torch.load(small / VAL_FILE)
    for tensor, count in ((noisy_a, 40), (noisy_b, 40), (noisy, 12), (clean, 12)):
        assert tensor.shape == (count, 3, 32, 32) and tensor.dtype == torch.uint8
    assert not torch.equal(noisy_a, noisy_b), "the two noisy versions must be independent draws"


def test_same_arguments_give_byte_identical_files(small: Path, tmp_path: Path) -> None:
    again = tmp_path / "out"
    make_dataset(again, train=40, val=12, seed=3)
    for name in (TRAIN_FILE, VAL_FILE):
        assert (again / name).read_bytes() == (small / name).read_bytes(), name
    first, second = (json.loads((folder / MANIFEST_FILE).read_text()) for folder in (small, again))
    assert first["outputs"] == second["outputs"]


def test_another_seed_gives_other_images(small: Path, tmp_path: Path) -> None:
    make_dataset(tmp_path, train=40, val=12, seed=4)
    assert (tmp_path / TRAIN_FILE).read_bytes() != (small / TRAIN_FILE).read_bytes()


def test_manifest_records_command_seed_degradation_sources_and_output_hashes(small: Path) -> None:
    manifest = json.loads((small / MANIFEST_FILE).read_text())
    assert manifest["command"].startswith(f"harness data make {small} --train 40 --val 12 --seed 3")
    assert manifest["seed"] == 3
    assert manifest["degradation"]["name"] == "pointsample"
    assert manifest["degradation"]["params"] == {"min_factor": 8, "max_factor": 12, "target_psnr": 20.72}
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((small / name).read_bytes()).hexdigest() == digest
    assert [photo["name"] for photo in manifest["photos"]] == list(SKIMAGE_PHOTOS)
    for photo in manifest["photos"]:
        assert (
            hashlib.sha256((skimage_photo_folder() / photo["name"]).read_bytes()).hexdigest()
            == photo["sha256"]
        )
    splits = [photo["split"] for photo in manifest["photos"]]
    assert splits.count("val") == 1 and splits.count("train") == len(SKIMAGE_PHOTOS) - 1


def write_flat_photos(folder: Path, count: int) -> dict[str, int]:
    """`count` photographs of one flat colour each (red channel 20·i), PNG and grey JPEG among them."""
    folder.mkdir()
    reds = {}
    for index in range(count):
        red = 20 * (index + 1)
        name = f"photo{index}.png"
        Image.new("RGB", (400, 300), (red, 100, 50)).save(folder / name)
        reds[name] = red
    Image.new("L", (300, 300), 255).save(folder / "grey.JPG")
    reds["grey.JPG"] = 255
    (folder / "notes.txt").write_text("not a photograph")
    return reds


def write_truncated_png(folder: Path) -> None:
    """Two good photographs and a PNG cut short: Pillow recognises its header but cannot decode it."""
    write_flat_photos(folder, 2)
    good = (folder / "photo0.png").read_bytes()
    (folder / "broken.png").write_bytes(good[: len(good) // 2])


def test_images_folder_reads_what_pillow_reads_and_names_what_it_skips(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    write_flat_photos(folder, 2)
    Image.new("RGB", (320, 320), (7, 8, 9)).save(folder / "scan.tif")
    Image.new("I;16", (320, 320), 65535).save(folder / "deep.tiff")
    (folder / "subfolder").mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    manifest = make_dataset(tmp_path / "out", images=folder, train=8, val=4, seed=0)
    assert {photo["name"] for photo in manifest.photos} == {
        "photo0.png",
        "photo1.png",
        "grey.JPG",
        "scan.tif",
        "deep.tiff",
    }
    assert manifest.skipped == [
        {"name": ".DS_Store", "reason": "hidden file"},
        {"name": "notes.txt", "reason": "not an image Pillow reads"},
        {"name": "subfolder", "reason": "not a regular file"},
    ]
    deep = read_photo(folder / "deep.tiff")
    assert int(deep.pixels.min()) == int(deep.pixels.max()) == 255


def test_images_folder_train_and_val_come_from_disjoint_photographs(tmp_path: Path) -> None:
    reds = write_flat_photos(tmp_path / "photos", 9)
    manifest = make_dataset(tmp_path / "out", images=tmp_path / "photos", train=300, val=50, seed=0)
    split_reds = {
        split: {reds[photo["name"]] for photo in manifest.photos if photo["split"] == split}
        for split in ("train", "val")
    }
    assert len(manifest.photos) == 10 and len(split_reds["val"]) == 2
    noisy_a, noisy_b = torch.load(tmp_path / "out" / TRAIN_FILE)
    noisy, clean = torch.load(tmp_path / "out" / VAL_FILE)
    assert (
        set(noisy_a[:, 0].flatten().tolist()) | set(noisy_b[:, 0].flatten().tolist()) <= split_reds["train"]
    )
    assert set(clean[:, 0].flatten().tolist()) == set(noisy[:, 0].flatten().tolist()) <= split_reds["val"]


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        pytest.param(lambda folder: folder.mkdir(), "holds no image that Pillow reads", id="empty-folder"),
        pytest.param(
            lambda folder: write_flat_photos(folder, 0), "need at least 2 source photographs", id="one-photo"
        ),
        pytest.param(
            lambda folder: folder.mkdir() or (folder / "notes.png").write_bytes(b"png?"),
            "holds no image that Pillow reads",
            id="no-image",
        ),
        pytest.param(write_truncated_png, "broken.png: not a readable image", id="broken"),
    ],
)
def test_unusable_image_folders_are_one_line_errors(tmp_path: Path, setup, problem: str) -> None:
    setup(tmp_path / "photos")
    with pytest.raises(DataError, match=problem):
        make_dataset(tmp_path / "out", images=tmp_path / "photos", train=4, val=2)


def test_committed_test_data_has_a_val_psnr_in_the_course_band() -> None:
    noisy, clean = load_val(TEST_DATA / VAL_FILE)
    assert 20.0 <= psnr_grading(noisy, clean) <= 21.5


@pytest.mark.slow
def test_committed_test_data_is_what_its_manifest_command_makes(tmp_path: Path) -> None:
    manifest = json.loads((TEST_DATA / MANIFEST_FILE).read_text())
    remade = make_dataset(tmp_path, train=manifest["train"], val=manifest["val"], seed=manifest["seed"])
    assert remade.outputs == manifest["outputs"]
