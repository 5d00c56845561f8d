"""Specification of the console and Markdown renderings and of the PNG sample grid."""

from __future__ import annotations

import dataclasses
import html
import io
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from harness.psnr import psnr_grading
from harness.report import Summary, build_report
from harness.results import Category, CheckResult, Outcome
from harness.rubric import load_rubric
from harness.sample_grid import (
    BACKGROUND,
    GAP_PX,
    TEXT_PX,
    grid_samples,
    sample_grid,
    tile_origin,
    write_sample_grid,
)
from harness.submission import SubmissionFile
from harness.tables import render_console, render_markdown, summary_line, use_color
from tests import report_samples

ANSI = "\x1b["


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "no_color", "expected"),
    [(io.StringIO(), False, False), (FakeTerminal(), False, True), (FakeTerminal(), True, False)],
    ids=["pipe", "terminal", "terminal-with-NO_COLOR"],
)
def test_colour_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, no_color: bool, expected: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(stream) is expected


def test_console_without_colour_has_no_escape_codes_and_with_colour_paints_outcomes() -> None:
    report = report_samples.report()
    plain, coloured = render_console(report, color=False), render_console(report, color=True)
    assert ANSI not in plain
    assert "\x1b[32mpass" in coloured  # green pass
    assert "\x1b[31mfail" in coloured  # red fail
    assert "\x1b[35merror (set-up: re-run)" in coloured  # set-up faults stand out
    strip = coloured
    for code in ("\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[35m", "\x1b[1m", "\x1b[0m"):
        strip = strip.replace(code, "")
    assert strip == plain  # colour changes nothing else, column widths included


@pytest.mark.parametrize(
    ("isolated", "warned"), [(True, False), (None, False), (False, True)], ids=["cut", "unknown", "not-cut"]
)
def test_console_warns_when_the_network_was_not_cut_off(isolated: bool | None, warned: bool) -> None:
    text = render_console(report_samples.report(network_isolated=isolated))
    assert ("ran WITH network access" in text) is warned


def test_console_groups_checks_by_category_in_order() -> None:
    text = render_console(report_samples.report())
    headings = [line for line in text.splitlines() if line in {c.value for c in Category}]
    assert headings == [c.value for c in Category]


def test_console_rows_show_outcome_points_required_mark_and_rerun() -> None:
    lines = render_console(report_samples.report()).splitlines()

    def row(check_id: str) -> str:
        return next(line for line in lines if line.startswith(check_id))

    assert row("blocks.conv2d").split()[1:3] == ["fail", "12.95/14"]
    assert row("blocks.relu").split()[1:4] == ["pass", "(adapter)", "2/4"]
    assert row("rules.static*").split()[1:5] == ["error", "(set-up:", "re-run)", "–/4"]
    assert row("layout.files*").split()[1:3] == ["pass", "2/2"]
    assert "RuntimeError: shape | mismatch (at" in row("blocks.conv2d")  # long messages wrap
    assert lines[lines.index(row("blocks.conv2d")) + 1].strip() == "model.py:42)"


SUMMARY = Summary(
    points=88.5,
    max_points=100.0,
    passed_required=True,
    failed_required=(),
    needs_rerun=(),
    outcomes={"pass": 24},
    psnr_db=24.314,
    psnr_metric="grading",
    noisy_psnr_db=20.72,
    epoch_s=3420.0,
    epoch_limit_s=1800.0,
    epoch_ratio=1.9,
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {},
            "88.5/100 points · required checks: all passed · PSNR 24.31 dB (grading metric; noisy input "
            "20.72 dB) · epoch ≈ 57 min (1.90x the 30 min limit)",
        ),
        (
            {"passed_required": False, "failed_required": ("rules.static", "api.predict")},
            "required checks failed: rules.static, api.predict",
        ),
        (
            {"needs_rerun": ("a", "b", "c", "d", "e", "f")},
            "re-run, the grading set-up failed: a, b, c, d and 2 more",
        ),
        ({"psnr_db": None, "psnr_metric": None, "noisy_psnr_db": None}, "· PSNR not measured ·"),
        ({"epoch_s": 42.0, "epoch_ratio": 42 / 1800}, "epoch ≈ 42 s (0.02x the 30 min limit)"),
        ({"epoch_s": None, "epoch_ratio": None}, "epoch time not measured"),
    ],
    ids=["everything", "failed-required", "many-reruns", "no-psnr", "fast-epoch", "no-epoch"],
)
def test_summary_line(changes: dict, expected: str) -> None:
    assert expected in summary_line(Summary(**{**SUMMARY.__dict__, **changes}))


def test_markdown_has_the_tables_the_reproducibility_block_and_the_grid_link(tmp_path: Path) -> None:
    data = tmp_path / "train_data.pkl"
    data.write_bytes(b"pairs")
    report = report_samples.report(data_files=(data,))
    text = render_markdown(report, samples_png="samples.png")
    for category in Category:
        assert f"\n## {category.value}\n" in text
    assert "| `blocks.conv2d` | fail | 12.95/14 | | 1.0 s |" in re.sub(" +", " ", text)
    assert "shape \\| mismatch" in text  # a pipe in a message does not break the table
    assert "![val samples: noisy | output | clean](samples.png)" in text
    assert f"sha256 `{report.reproducibility.rubric_sha256}`" in text
    assert f"sha256 `{report.reproducibility.data_files['train_data.pkl']}`" in text
    assert "| bestmodel.pth |" in re.sub(" +", " ", text)
    assert "2022-05-27T12:00:00+00:00" in text


def test_markdown_without_samples_has_no_image() -> None:
    assert "![" not in render_markdown(report_samples.report())


# ---------------------------------------------------------------- PNG grid


def test_grid_places_each_image_pixel_as_a_scaled_block_at_its_row_and_column(tmp_path: Path) -> None:
    samples = report_samples.samples(count=2, height=4, width=5)
    scale = 3
    path = write_sample_grid(samples, tmp_path / "grid.png", scale=scale)
    with Image.open(path) as image:
        grid = image.convert("RGB")
    tile_w, tile_h = 5 * scale, 4 * scale
    assert grid.size == (3 * tile_w + 2 * GAP_PX, TEXT_PX + 2 * (tile_h + TEXT_PX) + GAP_PX)
    for column, key in enumerate(("noisy", "output", "clean")):
        for row in range(2):
            left, top = tile_origin(row, column, tile_w, tile_h)
            assert top == TEXT_PX + row * (tile_h + TEXT_PX + GAP_PX)
            for y, x in [(0, 0), (3, 4), (2, 1)]:
                expected = tuple(int(v) for v in samples[key][row, :, y, x])
                corners = [(left + x * scale, top + y * scale), (left + x * scale + 2, top + y * scale + 2)]
                assert [grid.getpixel(corner) for corner in corners] == [expected, expected]
    assert grid.getpixel((tile_w, TEXT_PX)) == BACKGROUND  # the gap between the first two columns


def ink(grid: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels of `box` (left, top, right, bottom) are not background: drawn text."""
    pixels = grid.crop(box).tobytes()
    return sum(pixels[i : i + 3] != bytes(BACKGROUND) for i in range(0, len(pixels), 3))


def test_grid_names_its_columns_and_captions_noisy_and_output_with_their_psnr() -> None:
    samples = report_samples.samples(count=2)
    plain = sample_grid(samples, scale=4)
    captioned = sample_grid(
        {**samples, "noisy_db": torch.tensor([20.7, 21.0]), "output_db": torch.tensor([24.1, 25.3])}, scale=4
    )
    tile = 32 * 4
    for column in range(3):
        left = column * (tile + GAP_PX)
        assert ink(plain, (left, 0, left + tile, TEXT_PX)) > 0  # the column's name
    for row in range(2):
        _, top = tile_origin(row, 0, tile, tile)
        captions = [tile_origin(row, column, tile, tile)[0] for column in range(3)]
        strips = [(left, top + tile, left + tile, top + tile + TEXT_PX) for left in captions]
        assert [ink(plain, strip) for strip in strips] == [0, 0, 0]
        assert [ink(captioned, strip) > 0 for strip in strips] == [True, True, False]


def test_grid_samples_pick_different_scenes_and_give_each_row_its_psnr() -> None:
    flat = [torch.full((3, 32, 32), 100.0)] * 5
    distinct = [torch.full((3, 32, 32), value) for value in (0.0, 240.0)]
    clean = torch.stack(flat + distinct).round()
    noisy = (clean + 10).to(torch.uint8)
    output = clean + 1
    picked = grid_samples(noisy, output, clean.to(torch.uint8), count=3)
    assert sorted(picked["clean"][:, 0, 0, 0].tolist()) == [0, 100, 240]
    assert picked["noisy_db"].tolist() == pytest.approx([psnr_grading(noisy[:1], clean[:1])] * 3)
    assert picked["output_db"].tolist() == pytest.approx([psnr_grading(output[:1], clean[:1])] * 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"output": None}, "lack output"),
        ({"output": torch.zeros(2, 3, 32, 32)}, "must be a uint8 tensor"),
        ({"output": torch.zeros(2, 1, 32, 32, dtype=torch.uint8)}, "has shape"),
        ({"output": torch.zeros(1, 3, 32, 32, dtype=torch.uint8)}, "has shape"),
        ({"output": torch.zeros(2, 3, 32, dtype=torch.uint8)}, "has shape"),
    ],
    ids=["missing-key", "float", "grey", "fewer-images", "three-dims"],
)
def test_grid_refuses_malformed_samples(change: dict, message: str) -> None:
    samples = {**report_samples.samples(count=2), **change}
    samples = {key: value for key, value in samples.items() if value is not None}
    with pytest.raises(ValueError, match=message):
        sample_grid(samples)


def test_numeric_looking_messages_are_printed_as_given() -> None:
    result = CheckResult("api.train", Category.API, Outcome.PASS, "1e3")
    report = report_samples.report([result])
    assert "1e3" in render_console(report).split()
    assert "| 1e3 |" in re.sub(" +", " ", render_markdown(report))


INJECTED_MESSAGE = (
    'raise ValueError(\'<img src="https://attacker.example/p.png"> ![t](https://x/t.png) '
    "[a](javascript:alert(1))')"
)
INJECTED_FILE = "a` <img src=x onerror=alert(1)> | b.txt"
NEWLINE_FILE = "c\n# heading.txt"


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_what_the_submission_wrote_is_inert_text_in_the_markdown() -> None:
    result = CheckResult("api.train", Category.API, Outcome.ERROR, INJECTED_MESSAGE)
    files = (
        *report_samples.SUBMISSION.files,
        SubmissionFile(INJECTED_FILE, 7, "c" * 64),
        SubmissionFile(NEWLINE_FILE, 1, "d" * 64),
    )
    submission = dataclasses.replace(report_samples.SUBMISSION, files=files)
    report = build_report(submission, [result], load_rubric("ee559-2022"), data_files=[], seed=0, wall_s=1.0)
    text = render_markdown(report)
    assert "<" not in text and ">" not in text  # no HTML tag survives
    assert "\n# heading" not in text  # a line break does not end the row
    message_row = next(line for line in text.splitlines() if "api.train" in line)
    file_row = next(line for line in text.splitlines() if "b.txt" in line)
    for row in (message_row.replace("`api.train`", ""), file_row.replace("`" + "c" * 64 + "`", "")):
        assert not re.search(r"(?<!\\)[][!`*_]", row)  # no image, link, code span or emphasis starts
    assert _unescaped_pipes(message_row) == 7 and _unescaped_pipes(file_row) == 4  # cells stay whole
    # ...and it still reads as written once the escapes are undone
    shown = html.unescape(re.sub(r"\\(.)", r"\1", message_row))
    assert INJECTED_MESSAGE in shown
    assert INJECTED_FILE in html.unescape(re.sub(r"\\(.)", r"\1", file_row))
    assert "| __init__.py |" not in text and "\\_\\_init\\_\\_.py" in text
