"""Thumbnails (block means, point picks, symmetries) and the degradations, on synthetic photographs whose
answers are known: naive crop-and-average references, photos that encode each pixel's coordinates."""

from __future__ import annotations

import pytest
import torch

from harness.degradation import DEGRADATIONS, Gaussian, PointSample, degradation_class
from harness.errors import DataError
from harness.photos import Photo
from harness.psnr import psnr_grading
from harness.thumbnails import Crops, PhotoAtlas


def photo(pixels: torch.Tensor, name: str = "synthetic.png") -> Photo:
    return Photo(name=name, sha256="0" * 64, pixels=pixels.to(torch.uint8))


def random_photo(height: int, width: int, amplitude: int = 255, seed: int = 0) -> Photo:
    """I.i.d. uniform pixels in `amplitude + 1` levels centred on mid-grey."""
    generator = torch.Generator().manual_seed(seed)
    low = (255 - amplitude) // 2
    return photo(low + torch.randint(amplitude + 1, (3, height, width), generator=generator))


def coordinate_photo(size: int = 200) -> Photo:
    """Channel 0 holds each pixel's row, channel 1 its column: a picked value says where it came from."""
    rows = torch.arange(size).view(-1, 1).expand(size, size)
    return photo(torch.stack([rows, rows.t(), torch.zeros(size, size, dtype=torch.long)]))


def crops(count: int, factor: int, top: int, left: int, symmetry: int = 0) -> Crops:
    def column(value: int) -> torch.Tensor:
        return torch.full((count,), value)

    return Crops(column(0), column(factor), column(top), column(left), column(symmetry))


SYMMETRIES = [
    pytest.param(0, lambda image: image, id="identity"),
    pytest.param(1, lambda image: image.flip(-1), id="mirror"),
    pytest.param(2, lambda image: image.flip(-2), id="upside-down"),
    pytest.param(3, lambda image: image.rot90(2, (-2, -1)), id="half-turn"),
    pytest.param(4, lambda image: image.transpose(-2, -1), id="transpose"),
    pytest.param(5, lambda image: image.rot90(1, (-2, -1)), id="quarter-turn-left"),
    pytest.param(6, lambda image: image.rot90(-1, (-2, -1)), id="quarter-turn-right"),
    pytest.param(7, lambda image: image.rot90(2, (-2, -1)).transpose(-2, -1), id="anti-transpose"),
]


@pytest.mark.parametrize(("symmetry", "transform"), SYMMETRIES)
@pytest.mark.parametrize("factor", [1, 3], ids=["f1", "f3"])
def test_clean_thumbnail_is_the_block_mean_of_the_crop_under_its_symmetry(
    symmetry, transform, factor
) -> None:
    source = random_photo(120, 130)
    atlas = PhotoAtlas([source])
    batch = crops(1, factor, top=5, left=17, symmetry=symmetry)
    crop = source.pixels[:, 5 : 5 + 32 * factor, 17 : 17 + 32 * factor].double()
    reference = transform(crop.view(3, 32, factor, 32, factor).mean(dim=(2, 4)))
    clean = atlas.orient(batch, atlas.block_means(batch))[0]
    torch.testing.assert_close(clean.double(), reference, rtol=0, atol=1e-4)


def test_each_pick_is_a_pixel_of_its_own_block_in_every_channel_and_offsets_are_uniform() -> None:
    factor, top, left, count = 5, 11, 3, 400
    atlas = PhotoAtlas([coordinate_photo()])
    picks = atlas.block_picks(crops(count, factor, top, left), torch.Generator().manual_seed(1)).long()
    block = torch.arange(32)
    row_offset = picks[:, 0] - (top + block.view(-1, 1) * factor)
    col_offset = picks[:, 1] - (left + block.view(1, -1) * factor)
    assert row_offset.min() == 0 and row_offset.max() == factor - 1
    assert col_offset.min() == 0 and col_offset.max() == factor - 1
    frequencies = torch.bincount((row_offset * factor + col_offset).flatten()).double() / row_offset.numel()
    assert len(frequencies) == factor * factor
    torch.testing.assert_close(frequencies, torch.full_like(frequencies, 1 / factor**2), rtol=0.1, atol=0)


def test_picks_average_to_the_block_mean() -> None:
    atlas = PhotoAtlas([random_photo(100, 100)])
    batch = crops(2000, 3, top=2, left=1)
    picks = atlas.block_picks(batch, torch.Generator().manual_seed(2)).double()
    # 2000 draws of values spread over 0-255 (std <= 128): the average is within 4·128/√2000 ≈ 11.5
    assert (picks.mean(0) - atlas.block_means(batch)[0].double()).abs().max() < 11.5


def test_draw_caps_the_factor_at_what_the_photo_fits_and_stays_inside_it() -> None:
    atlas = PhotoAtlas([random_photo(70, 100), random_photo(500, 400, seed=1)])
    drawn = atlas.draw(torch.tensor([0, 1]), 500, (8, 12), torch.Generator().manual_seed(3))
    small = drawn.photo == 0
    assert drawn.factor[small].unique().tolist() == [2]
    assert set(drawn.factor[~small].unique().tolist()) == set(range(8, 13))
    heights, widths = atlas.heights[drawn.photo], atlas.widths[drawn.photo]
    assert (drawn.top >= 0).all() and (drawn.top + 32 * drawn.factor <= heights).all()
    assert (drawn.left >= 0).all() and (drawn.left + 32 * drawn.factor <= widths).all()
    assert set(drawn.symmetry.unique().tolist()) == set(range(8))


def test_a_photo_smaller_than_a_thumbnail_is_refused() -> None:
    with pytest.raises(DataError, match=r"tiny.png is 40×31, smaller than a 32×32 thumbnail"):
        PhotoAtlas([photo(torch.zeros(3, 31, 40), name="tiny.png")])


@pytest.mark.parametrize("amplitude", [40, 100, 255], ids=["faint-texture", "medium-texture", "full-texture"])
def test_pointsample_gain_brings_each_photo_to_the_target_psnr(amplitude: int) -> None:
    generator = torch.Generator().manual_seed(4)
    atlas = PhotoAtlas([random_photo(200, 200, amplitude)])
    noise = PointSample(atlas, generator, min_factor=2, max_factor=4, target_psnr=20.0)
    batch = atlas.draw(torch.tensor([0]), 256, noise.factors, generator)
    clean = atlas.block_means(batch)
    noisy = noise.degrade(batch, clean, generator).round().clamp(0, 255)
    assert psnr_grading(noisy, clean.round()) == pytest.approx(20.0, abs=0.3)


def test_pointsample_gain_is_clipped_on_a_flat_photo() -> None:
    atlas = PhotoAtlas([photo(torch.full((3, 64, 64), 90))])
    noise = PointSample(atlas, torch.Generator().manual_seed(5), min_factor=1, max_factor=2)
    assert noise.gain.tolist() == [PointSample.GAIN_LIMITS[1]]
    batch = crops(3, 2, 0, 0)
    assert (noise.degrade(batch, atlas.block_means(batch), torch.Generator()) == 90).all()


def test_pointsample_with_gain_is_unbiased() -> None:
    generator = torch.Generator().manual_seed(6)
    atlas = PhotoAtlas([random_photo(100, 100, amplitude=100)])
    noise = PointSample(atlas, generator, min_factor=3, max_factor=3)
    batch = crops(2000, 3, top=0, left=0)
    clean = atlas.block_means(batch)
    noisy = noise.degrade(batch, clean, generator).double()
    spread = float(noise.gain[0]) * 100
    assert (noisy.mean(0) - clean[0].double()).abs().max() < 4 * spread / 2000**0.5


def test_gaussian_adds_zero_mean_noise_of_std_sigma() -> None:
    generator = torch.Generator().manual_seed(7)
    atlas = PhotoAtlas([random_photo(100, 100)])
    noise = Gaussian(atlas, generator, sigma=15.0, min_factor=1, max_factor=2)
    batch = atlas.draw(torch.tensor([0]), 64, noise.factors, generator)
    clean = atlas.block_means(batch)
    residual = (noise.degrade(batch, clean, generator) - clean).double()
    assert residual.mean().item() == pytest.approx(0.0, abs=0.2)
    assert residual.std().item() == pytest.approx(15.0, rel=0.02)


@pytest.mark.parametrize(
    ("name", "params", "problem"),
    [
        pytest.param("gaussian", {"sigmaa": 3.0}, "has no parameter 'sigmaa'", id="misspelt-parameter"),
        pytest.param("pointsample", {"sigma": 3.0}, "has no parameter 'sigma'", id="other-model-parameter"),
        pytest.param(
            "pointsample", {"min_factor": 9, "max_factor": 8}, "min_factor <= max_factor", id="factors"
        ),
    ],
)
def test_bad_parameters_are_one_line_errors(name: str, params: dict, problem: str) -> None:
    atlas = PhotoAtlas([random_photo(64, 64)])
    with pytest.raises(DataError, match=problem):
        degradation_class(name)(atlas, torch.Generator(), **params)


def test_registry_names_and_documents_every_degradation() -> None:
    with pytest.raises(DataError, match="unknown degradation 'poisson'"):
        degradation_class("poisson")
    for name, kind in DEGRADATIONS.items():
        assert kind.name == name
        assert "noisy[c,r,s] =" in kind.formula()
        assert {"min_factor", "max_factor"} <= set(kind.defaults)
