"""The class as CSV: a wide table (one row per submission) and a long one (one row per submission and
check), both safe to open in a spreadsheet.

Student-controlled text (folder names, messages quoting their code) that starts with a formula character
(`FORMULA_STARTS`: `=`, `+`, `-`, `@`, a tab, a carriage return, NUL, or the full-width
`＝＋－＠`) would run as a formula in Excel, LibreOffice or Google Sheets. A spreadsheet may also cut a
cell where we did not: Excel in a French or German Swiss locale opens a `.csv` with `;` as the separator,
and a `,` file opened that way, or a cell pasted into another sheet, splits at every `,` or `;`. So the
rule (`safe_text`) works per segment: every cell is quoted, and wherever the text starts, or follows a
`,`, `;`, tab, carriage return or line feed, with a formula character (after any blanks and quote marks)
and more after it, a `'` is put in front of that segment, which spreadsheets show as text, whichever
separator they split on.
Numbers are written as numbers (a quoted number still reads as a number in Excel, LibreOffice and
pandas), and text that needs no `'` is written unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.exports.rows import CATEGORIES, SubmissionRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")
"""Characters that make a cell (or a segment a spreadsheet splits off) run as a formula."""
_SEPARATORS = ",;\t\r\n"
_FORMULA_SEGMENT = re.compile(
    f"(?:^|(?<=[{_SEPARATORS}]))"
    f"(?=[\t\r]|[ \"'\u00a0\u3000]*[{re.escape(''.join(FORMULA_STARTS))}](?![{_SEPARATORS}]|$))"
)
"""Where a `'` goes: the start of the text or of a `,`/`;`/tab/line-separated segment that is, after blanks
and quote marks, a formula character with more after it (a tab or a carriage return counts at once; a
lone `-`, Moodle's "no date", is text to every spreadsheet)."""

Cell = str | float | int | bool | None


def safe_cell(value: Cell) -> str | float | int:
    """`value` as a CSV cell: None empty, booleans `yes`/`no`, numbers as they are, text through
    `safe_text`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return safe_text(value)


def safe_text(text: str) -> str:
    """`text` with a `'` in front of every segment a spreadsheet could evaluate (see the module's rule):
    `a;=cmd|' /C calc'!A0` -> `a;'=cmd|' /C calc'!A0`."""
    return _FORMULA_SEGMENT.sub("'", text)


def wide_table(rows: Sequence[SubmissionRow], flags: Mapping[str, Sequence[str]]) -> list[list[Cell]]:
    """Header and one row per submission: identity, total, points per category, PSNR, epoch, flags.

    `flags` gives, by submission key, the reasons a human must look at it (see `harness.exports.attention`).
    """
    header: list[Cell] = ["key", "name", "participant_id", "scipers", "points", "max_points", "percent"]
    header += ["passed_required"]
    header += [f"{category}_points" for category in CATEGORIES] + [f"{c}_max" for c in CATEGORIES]
    header += ["psnr_db", "psnr_metric", "noisy_psnr_db", "epoch_s", "epoch_limit_s", "flags"]
    table: list[list[Cell]] = [header]
    for row in rows:
        summary = row.summary
        points = [row.category_points.get(c, (None, None)) for c in CATEGORIES]
        table.append(
            [row.key, row.name, row.participant_id, " ".join(row.scipers), row.points, row.max_points]
            + [round(row.percent, 2), summary.passed_required]
            + [pair[0] for pair in points]
            + [pair[1] for pair in points]
            + [_rounded(summary.psnr_db), summary.psnr_metric, _rounded(summary.noisy_psnr_db)]
            + [_rounded(summary.epoch_s), summary.epoch_limit_s, "; ".join(flags.get(row.key, ()))]
        )
    return table


def long_table(rows: Sequence[SubmissionRow]) -> list[list[Cell]]:
    """Header and one row per submission and check: outcome, points, max, required, fault, message."""
    header: list[Cell] = ["key", "name", "check", "category", "outcome", "points", "max_points"]
    header += ["required", "fault", "needs_rerun", "adapter", "message"]
    table: list[list[Cell]] = [header]
    for row in rows:
        for check in row.checks:
            table.append(
                [
                    *(row.key, row.name, check.id, check.category, check.outcome),
                    *(check.points, check.max_points, check.required, check.fault),
                    *(check.needs_rerun, check.adapter, check.message),
                ]
            )
    return table


def csv_text(table: Sequence[Sequence[Cell]]) -> str:
    """`table` as CSV text (every cell through `safe_cell` and quoted, `\\r\\n` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    for line in table:
        writer.writerow([safe_cell(cell) for cell in line])
    return buffer.getvalue()


def write_csv(table: Sequence[Sequence[Cell]], path: Path) -> Path:
    """Write `table` to `path` as UTF-8 with a byte-order mark (so Excel reads accents right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(table), encoding="utf-8-sig", newline="")
    return path


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
