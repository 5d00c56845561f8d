"""Renderings of a `Report` for people: console tables and a Markdown document.

Both are pure functions of the report: one table per `Category`, in order, then a summary line
(points, required checks, PSNR with its metric, the estimated epoch time against its limit). Checks
that failed because of the grading set-up are marked "re-run" instead of showing a silent 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from tabulate import tabulate

from harness.checks.timing.judge import format_duration
from harness.probes.capture import printable
from harness.results import Category, Outcome, ScoredCheck
from harness.rubric import needs_rerun

if TYPE_CHECKING:
    from harness.report import Report, Summary

MESSAGE_WIDTH = 72
"""Console messages wrap at this many characters."""

NETWORK_WARNING = "note: the submission's code ran WITH network access (this OS did not allow cutting it off)"

_GREEN, _RED, _YELLOW, _MAGENTA, _BOLD, _RESET = (f"\x1b[{code}m" for code in (32, 31, 33, 35, 1, 0))
_OUTCOME_COLOURS = {
    Outcome.PASS: _GREEN,
    Outcome.MISSING: _YELLOW,
    Outcome.SKIPPED: _YELLOW,
}
_HEADERS = ("check", "outcome", "points", "time", "message")


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when the NO_COLOR convention asks for none."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def render_console(report: Report, color: bool = False) -> str:
    """The report as console text: a title, one table per category, the summary line.

    Required checks carry a `*` after their id; `color` adds ANSI colours to outcomes and the summary.
    """
    paint = _painter(color)
    lines = [paint(_BOLD, _title(report)), ""]
    for category, checks in _by_category(report.checks):
        rows = [
            [
                scored.result.id + ("*" if scored.required else ""),
                paint(_outcome_colour(scored), _outcome_text(scored)),
                _points_text(scored),
                f"{scored.result.duration_s:.1f}s",
                scored.result.message,
            ]
            for scored in checks
        ]
        lines.append(paint(_BOLD, category.value))
        widths = [None] * (len(_HEADERS) - 1) + [MESSAGE_WIDTH]
        lines.append(
            tabulate(rows, headers=_HEADERS, tablefmt="simple", maxcolwidths=widths, disable_numparse=True)
        )
        lines.append("")
    summary_colour = _GREEN if report.summary.passed_required and not report.summary.needs_rerun else _RED
    lines.append(paint(summary_colour, summary_line(report.summary)))
    lines.append("(* required check)")
    if report.reproducibility.network_isolated is False:
        lines.append(paint(_YELLOW, NETWORK_WARNING))
    return "\n".join(lines) + "\n"


def render_markdown(report: Report, samples_png: str | None = None) -> str:
    """The report as a Markdown document: summary, the same tables, sample grid link, reproducibility."""
    parts = [f"# {_title(report)}", "", f"**{summary_line(report.summary)}**", ""]
    for category, checks in _by_category(report.checks):
        rows = [
            [
                f"`{scored.result.id}`",
                _outcome_text(scored),
                _points_text(scored),
                "yes" if scored.required else "",
                f"{scored.result.duration_s:.1f} s",
                markdown_text(scored.result.message),
            ]
            for scored in checks
        ]
        headers = ("check", "outcome", "points", "required", "time", "message")
        parts += [
            f"## {category.value}",
            "",
            tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
            "",
        ]
    if samples_png is not None:
        parts += ["## Samples", "", f"![val samples: noisy | output | clean]({samples_png})", ""]
    parts += ["## Reproducibility", "", _reproducibility_table(report), ""]
    parts += ["### Submission files", "", _files_table(report), ""]
    return "\n".join(parts)


def summary_line(summary: Summary) -> str:
    """One line: points, the required-check verdict, re-runs needed, PSNR, epoch estimate."""
    pieces = [f"{_number(summary.points)}/{_number(summary.max_points)} points"]
    if summary.passed_required:
        pieces.append("required checks: all passed")
    else:
        pieces.append(f"required checks failed: {_short_list(summary.failed_required)}")
    if summary.needs_rerun:
        pieces.append(f"re-run, the grading set-up failed: {_short_list(summary.needs_rerun)}")
    if summary.psnr_db is not None:
        noisy = "" if summary.noisy_psnr_db is None else f"; noisy input {summary.noisy_psnr_db:.2f} dB"
        pieces.append(f"PSNR {summary.psnr_db:.2f} dB ({summary.psnr_metric or 'unknown'} metric{noisy})")
    else:
        pieces.append("PSNR not measured")
    if summary.epoch_s is not None:
        epoch = f"epoch ≈ {format_duration(summary.epoch_s)}"
        if summary.epoch_ratio is not None and summary.epoch_limit_s is not None:
            epoch += f" ({summary.epoch_ratio:.2f}x the {format_duration(summary.epoch_limit_s)} limit)"
        pieces.append(epoch)
    else:
        pieces.append("epoch time not measured")
    return " · ".join(pieces)


def _short_list(items: Sequence[str], shown: int = 4) -> str:
    if len(items) <= shown:
        return ", ".join(items)
    return f"{', '.join(items[:shown])} and {len(items) - shown} more"


def _title(report: Report) -> str:
    rubric = f"rubric {report.rubric_name}, {report.rule_profile} rules"
    return f"harness check: {report.submission.name} ({rubric})"


def _by_category(checks: Sequence[ScoredCheck]) -> list[tuple[Category, list[ScoredCheck]]]:
    return [
        (category, members)
        for category in Category
        if (members := [s for s in checks if s.result.category is category])
    ]


def _outcome_text(scored: ScoredCheck) -> str:
    outcome = scored.result.outcome.value
    if needs_rerun(scored):
        return f"{outcome} (set-up: re-run)"
    return f"{outcome} (adapter)" if scored.result.details.get("adapter") is True else outcome


def _outcome_colour(scored: ScoredCheck) -> str:
    if needs_rerun(scored):
        return _MAGENTA
    return _OUTCOME_COLOURS.get(scored.result.outcome, _RED)


def _points_text(scored: ScoredCheck) -> str:
    if needs_rerun(scored):
        return f"–/{_number(scored.max_points)}"
    return f"{_number(scored.points)}/{_number(scored.max_points)}"


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    return paint


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


_MARKDOWN_ESCAPES = str.maketrans(
    {**{mark: f"\\{mark}" for mark in "\\`*_[]!|"}, "&": "&amp;", "<": "&lt;", ">": "&gt;"}
)
"""What `markdown_text` rewrites: the characters that start code spans, emphasis, links, images and
table cells are backslash-escaped; those of HTML tags and entities become entities."""


def markdown_text(text: str) -> str:
    """`text` (a message or a file name, which a submission controls) as inert text in one Markdown table
    cell: it shows as written, but no tag, image, link, code span or emphasis in it takes effect, and no
    pipe or line break in it ends the cell or the row, and no escape sequence or bidi control (`printable`)
    reaches a terminal that shows the file."""
    return " ".join(printable(text).splitlines()).translate(_MARKDOWN_ESCAPES)


def _reproducibility_table(report: Report) -> str:
    repro = report.reproducibility
    bestmodel, reference = repro.bestmodel_sha256, repro.reference_sha256
    commit = "not a git checkout" if repro.git_commit is None else repro.git_commit
    if repro.git_dirty:
        commit += " (with uncommitted changes)"
    network = {
        True: "cut off",
        False: "NOT cut off (this OS did not allow it)",
        None: "not reported by the sandbox",
    }
    rows = [
        ("harness", f"{repro.harness_version}, commit {commit}"),
        ("Python / torch", f"{repro.python} / {repro.torch}"),
        ("machine", f"{repro.platform}, {repro.cpu_model}"),
        ("threads per child", str(repro.threads)),
        ("seed", str(repro.seed)),
        ("network", network[repro.network_isolated]),
        ("sandbox", sandbox_text(repro.sandbox)),
        ("rubric", f"{repro.rubric_name}, sha256 `{repro.rubric_sha256}`"),
        ("bestmodel.pth", "absent" if bestmodel is None else f"sha256 `{bestmodel}`"),
        ("reference", "none" if reference is None else f"sha256 `{reference}`"),
        *((f"data: {name}", f"sha256 `{digest}`") for name, digest in repro.data_files.items()),
        ("started (UTC)", report.run.started_at),
        ("wall time", f"{report.run.wall_s:.1f} s"),
    ]
    return tabulate(rows, headers=("item", "value"), tablefmt="github")


def sandbox_text(layers: Mapping[str, bool] | None) -> str:
    """Which isolation layers held for the children, and which did not (see `harness.probes.isolation`)."""
    if layers is None:
        return "not reported by the sandbox"
    held = [layer for layer, on in layers.items() if on]
    missing = [layer for layer, on in layers.items() if not on]
    return f"held: {', '.join(held) or 'none'}; not held: {', '.join(missing) or 'none'}"


def _files_table(report: Report) -> str:
    rows = [(markdown_text(f.path), f.size, f"`{f.sha256}`") for f in report.submission.files]
    return tabulate(rows, headers=("file", "bytes", "sha256"), tablefmt="github")
