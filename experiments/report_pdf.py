"""Render the reference submission's report, a short Markdown file, to `Miniproject_2/Report_2.pdf`.

The course asks for `Report_2.pdf` beside `model.py`. Its text lives in `experiments/report_2.md`, kept
short (the course allows three pages) and reviewable as text; this command lays it out on A4 pages with
Pillow, already a dependency, so no TeX or PDF library is needed. It understands the little Markdown the
report uses: `#`/`##` headings, paragraphs, `- ` bullets, pipe tables, fenced code and `![caption](png)`
figures (paths relative to the Markdown file).

    python -m experiments.report_pdf [--source experiments/report_2.md] [--out Miniproject_2/Report_2.pdf]
"""

from __future__ import annotations

import argparse
import functools
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "experiments" / "report_2.md"
DEFAULT_OUT = REPO_ROOT / "Miniproject_2" / "Report_2.pdf"

DPI = 150
PAGE_PX = (1240, 1754)
"""A4 at `DPI`."""
MARGIN_PX = 110
FIGURE_MAX_HEIGHT_PX = 520
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"text": "DejaVuSerif.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
SIZES = {"h1": 34, "h2": 26, "text": 21, "mono": 17}
FIGURE = re.compile(r"!\[(?P<caption>[^\]]*)\]\((?P<path>[^)]+)\)")
EMPHASIS = re.compile(r"\*\*|`")


@functools.cache
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu where the system has it (it covers ×, →, σ, dB tables), else Pillow's own font."""
    path = FONT_DIR / FONTS[kind]
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


@dataclass
class Pages:
    """The pages laid out so far and where the next line goes on the last one."""

    pages: list[Image.Image]
    y: int = MARGIN_PX

    @classmethod
    def start(cls) -> Pages:
        return cls([Image.new("RGB", PAGE_PX, "white")])

    def room(self, height: int) -> ImageDraw.ImageDraw:
        """A pen on a page with `height` pixels free below `y` (a new page when the last one is full)."""
        if self.y + height > PAGE_PX[1] - MARGIN_PX:
            self.pages.append(Image.new("RGB", PAGE_PX, "white"))
            self.y = MARGIN_PX
        return ImageDraw.Draw(self.pages[-1])

    def line(self, text: str, kind: str, size: int, indent: int = 0, gap: float = 1.35) -> None:
        font = _font(kind, size)
        pen = self.room(int(size * gap))
        pen.text((MARGIN_PX + indent, self.y), text, font=font, fill=0)
        self.y += int(size * gap)

    def wrapped(self, text: str, kind: str, size: int, indent: int = 0, first: str = "") -> None:
        """`text` wrapped to the text width, `first` (a bullet) before its first line."""
        width = PAGE_PX[0] - 2 * MARGIN_PX - indent
        columns = max(20, int(width / (_font(kind, size).getlength("n") or size / 2)))
        for index, piece in enumerate(textwrap.wrap(EMPHASIS.sub("", text), columns) or [""]):
            self.line((first if index == 0 else " " * len(first)) + piece, kind, size, indent)

    def figure(self, path: Path, caption: str) -> None:
        image = Image.open(path).convert("RGB")
        scale = min((PAGE_PX[0] - 2 * MARGIN_PX) / image.width, FIGURE_MAX_HEIGHT_PX / image.height, 2.0)
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.NEAREST)
        self.room(image.height + SIZES["text"] * 2)
        self.pages[-1].paste(image, ((PAGE_PX[0] - image.width) // 2, self.y))
        self.y += image.height + 8
        self.wrapped(caption, "text", SIZES["text"] - 3)

    def space(self, pixels: int) -> None:
        self.y += pixels


def _table(rows: list[str]) -> list[str]:
    """A pipe table re-aligned for a monospace font, without its |---| rule."""
    cells = [[EMPHASIS.sub("", c).strip() for c in row.strip().strip("|").split("|")] for row in rows]
    cells = [row for row in cells if not all(set(c) <= set("-: ") for c in row)]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(max(map(len, cells)))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]


def render(source: Path) -> list[Image.Image]:
    """The report's pages, in order."""
    pages = Pages.start()
    lines = source.read_text(encoding="utf-8").splitlines()
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            pages.wrapped(" ".join(paragraph), "text", SIZES["text"])
            pages.space(8)
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        if line.startswith(("# ", "## ")) or not line.strip() or line.startswith(("- ", "|", "```", "![")):
            flush()
        if line.startswith("# "):
            pages.line(line[2:], "bold", SIZES["h1"], gap=1.6)
        elif line.startswith("## "):
            pages.space(10)
            pages.line(line[3:], "bold", SIZES["h2"], gap=1.5)
        elif line.startswith("- "):
            item = [line[2:]]
            while index + 1 < len(lines) and lines[index + 1].startswith("  "):
                index += 1
                item.append(lines[index].strip())
            pages.wrapped(" ".join(item), "text", SIZES["text"], indent=20, first="• ")
            if not (index + 1 < len(lines) and lines[index + 1].startswith("- ")):
                pages.space(8)
        elif line.startswith("|"):
            table = []
            while index < len(lines) and lines[index].startswith("|"):
                table.append(lines[index])
                index += 1
            for row in _table(table):
                pages.line(row, "mono", SIZES["mono"], gap=1.3)
            pages.space(10)
            continue
        elif line.startswith("```"):
            index += 1
            while index < len(lines) and not lines[index].startswith("```"):
                pages.line(lines[index], "mono", SIZES["mono"], indent=20, gap=1.3)
                index += 1
            pages.space(10)
        elif match := FIGURE.match(line):
            pages.figure(source.parent / match["path"], match["caption"])
            pages.space(10)
        elif line.strip():
            paragraph.append(line.strip())
        index += 1
    flush()
    return pages.pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    pages = render(args.source)
    pages[0].save(args.out, format="PDF", save_all=True, append_images=pages[1:], resolution=DPI)
    print(f"{args.out}: {len(pages)} pages, {args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
