"""The class as CSV: a wide table (one row per submission) and a long one (one row per submission and
check), both safe to open in a spreadsheet.

Student-controlled text (folder names, messages quoting their code) that starts with `=`, `+`, `-`, `@`,
a tab or a carriage return would run as a formula in Excel, LibreOffice or Google Sheets; such a cell is
written with a leading `'`, which spreadsheets show as text. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from harness.exports.rows import CATEGORIES, SubmissionRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | float | int | bool | None


def safe_cell(value: Cell) -> str | float | int:
    """`value` as a CSV cell: None empty, booleans `yes`/`no`, text that a spreadsheet would evaluate
    prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def wide_table(
    rows: Sequence[SubmissionRow], flags: Mapping[str, Sequence[str]], withheld: Collection[str] = ()
) -> list[list[Cell]]:
    """Header and one row per submission: identity, total, points per category, PSNR, epoch, flags.

    `flags` gives, by submission key, the reasons a human must look at it (see `harness.exports.attention`);
    the submissions of `withheld` (records that are no grade) have their total and percent left empty.
    """
    header: list[Cell] = ["key", "name", "participant_id", "scipers", "points", "max_points", "percent"]
    header += ["passed_required"]
    header += [f"{category}_points" for category in CATEGORIES] + [f"{c}_max" for c in CATEGORIES]
    header += ["psnr_db", "psnr_metric", "noisy_psnr_db", "epoch_s", "epoch_limit_s", "flags"]
    table: list[list[Cell]] = [header]
    for row in rows:
        summary = row.summary
        points = [row.category_points.get(c, (None, None)) for c in CATEGORIES]
        total: tuple[Cell, ...] = (row.points, row.max_points, round(row.percent, 2))
        if row.key in withheld:
            total = (None, None, None)
        table.append(
            [row.key, row.name, row.participant_id, " ".join(row.scipers), *total]
            + [summary.passed_required]
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
    """`table` as CSV text (every cell through `safe_cell`, RFC 4180 quoting, `\\r\\n` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
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
