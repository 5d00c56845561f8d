"""The class report: how the class did, which checks it failed, and who needs a human.

`build_class_report` gathers the data (rows, flags, pass rates, similar pairs, baselines) from the
stored records; `render_html` writes one self-contained page (inline CSS, the figures as inline PNG
data, a small inline script that sorts the class table; nothing is fetched), `render_markdown` the same
for a repository or an issue, with the figures as PNG files next to it. `write_class_report` writes
both, plus one feedback page per submission under `submissions/`, which the report links to.
"""

from __future__ import annotations

import base64
import html
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from harness.exports.attention import Flag, flags_by_key, flags_for
from harness.exports.feedback import feedback_html
from harness.exports.figures import (
    PassRate,
    PsnrBaselines,
    epoch_estimates,
    pass_rates,
    psnr_distribution,
    score_histogram,
)
from harness.exports.rows import CATEGORIES, SubmissionRow, file_stems, submission_row
from harness.exports.similarity import SimilarPair
from harness.exports.style import PAGE_CSS
from harness.grading.records import GradedSubmission
from harness.probes.capture import printable
from harness.tables import markdown_text

HTML_NAME = "class_report.html"
MARKDOWN_NAME = "class_report.md"
SUBMISSIONS_FOLDER = "submissions"
FIGURES_FOLDER = "figures"
FRAGMENT_LINES = 30
"""Lines of each side of a similar fragment shown; the rest is elided."""


@dataclass(frozen=True)
class ClassReport:
    """Everything the class report shows, as data."""

    title: str
    run: str
    """One line on the run(s) the records come from."""
    rows: tuple[SubmissionRow, ...]
    flags: tuple[Flag, ...]
    rates: tuple[PassRate, ...]
    pairs: tuple[SimilarPair, ...]
    similarity_threshold: float | None
    """None when similarity was not computed."""
    baselines: PsnrBaselines
    pages: Mapping[str, str]
    """Each submission's feedback page, relative to the report, by key."""


@dataclass(frozen=True)
class Figures:
    """The report's PNG figures by file name."""

    pngs: Mapping[str, bytes]


def build_class_report(
    graded: Sequence[GradedSubmission],
    run: str,
    baselines: PsnrBaselines,
    history: Sequence[GradedSubmission] = (),
    pairs: Sequence[SimilarPair] = (),
    similarity_threshold: float | None = None,
    title: str = "EE-559 Mini-project 2: class report",
) -> ClassReport:
    """The class report of `graded` (`history`: other runs' records, for nondeterministic scores)."""
    rows = tuple(submission_row(one) for one in graded)
    similar = [side for pair in pairs for side in pair.sides()]
    noisy = [row.summary.noisy_psnr_db for row in rows if row.summary.noisy_psnr_db is not None]
    if baselines.noisy_db is None and noisy:
        baselines = PsnrBaselines(statistics.median(noisy), baselines.best_blur_db, baselines.reference_db)
    stems = file_stems([row.key for row in rows])
    return ClassReport(
        title=title,
        run=run,
        rows=rows,
        flags=tuple(flags_for(graded, history, similar)),
        rates=tuple(check_pass_rates(rows)),
        pairs=tuple(pairs),
        similarity_threshold=similarity_threshold,
        baselines=baselines,
        pages={key: f"{SUBMISSIONS_FOLDER}/{stem}.html" for key, stem in stems.items()},
    )


def check_pass_rates(rows: Sequence[SubmissionRow]) -> list[PassRate]:
    """Per check id: passes over the submissions it judged (not a set-up fault, not 0 of 0), worst first."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        for check in row.checks:
            if check.needs_rerun or (check.max_points == 0 and check.outcome == "skipped"):
                continue
            passed, judged = counts.setdefault(check.id, [0, 0])
            counts[check.id] = [passed + (check.outcome == "pass"), judged + 1]
    rates = [PassRate(check_id, passed, judged) for check_id, (passed, judged) in counts.items()]
    return sorted(rates, key=lambda rate: (rate.rate, rate.check_id))


def draw_figures(report: ClassReport) -> Figures:
    """The four figures of the report."""
    rows = report.rows
    psnrs = [row.summary.psnr_db for row in rows if row.summary.psnr_db is not None]
    metrics = {row.summary.psnr_metric for row in rows if row.summary.psnr_db is not None}
    epochs = [
        row.summary.epoch_s for row in rows if row.summary.epoch_s is not None and row.summary.epoch_s > 0
    ]
    limits = [row.summary.epoch_limit_s for row in rows if row.summary.epoch_limit_s]
    return Figures(
        {
            "scores.png": score_histogram([row.percent for row in rows]),
            "psnr.png": psnr_distribution(psnrs, "/".join(sorted(m for m in metrics if m)), report.baselines),
            "epochs.png": epoch_estimates(epochs, max(limits) if limits else None),
            "pass_rates.png": pass_rates(report.rates),
        }
    )


_CAPTIONS = {
    "scores.png": "Scores in percent of each submission's own maximum.",
    "psnr.png": "PSNR of each pretrained model, with the noisy input, the best blur and the reference.",
    "epochs.png": "Estimated epoch time of each submission against the limit (log scale); red: over it.",
    "pass_rates.png": "Share of the submissions each check judged that passed it (set-up faults left out).",
}


def render_html(report: ClassReport, figures: Figures) -> str:
    """The report as one self-contained HTML page."""
    figure_html = "\n".join(
        f'<figure><img alt="{html.escape(_CAPTIONS[name])}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(_CAPTIONS[name])}</figcaption></figure>'
        for name, png in figures.pngs.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(report.title)}</title>
<style>{PAGE_CSS}</style></head><body>
<h1>{html.escape(report.title)}</h1>
<p class="meta">{html.escape(report.run)}</p>
<p>{html.escape(_headline(report))}</p>
<h2 id="attention">Submissions a human must look at</h2>
{_attention_html(report)}
<h2 id="figures">Figures</h2>
<div class="figures">
{figure_html}
</div>
<h2 id="class">The class</h2>
<p class="meta">Click a column header to sort.</p>
{_class_table_html(report)}
<h2 id="similarity">Similar code</h2>
{_similarity_html(report)}
<script>{_SORT_SCRIPT}</script>
</body></html>
"""


def render_markdown(report: ClassReport, figures_folder: str = FIGURES_FOLDER) -> str:
    """The report as Markdown, the figures linked from `figures_folder`."""
    parts = [
        f"# {report.title}",
        "",
        report.run,
        "",
        _headline(report),
        "",
        "## Submissions a human must look at",
        "",
    ]
    grouped = flags_by_key(report.flags)
    if grouped:
        for row in report.rows:
            if row.key in grouped:
                parts.append(
                    f"- [{markdown_text(row.name)}]({report.pages[row.key]}) ({markdown_text(row.key)}): "
                    + markdown_text("; ".join(grouped[row.key]))
                )
    else:
        parts.append("None.")
    parts += ["", "## Figures", ""]
    parts += [f"![{_CAPTIONS[name]}]({figures_folder}/{name})" for name in _CAPTIONS] + [""]
    parts += [
        "## The class",
        "",
        tabulate(_class_table(report, markdown=True), headers="firstrow", tablefmt="github"),
        "",
    ]
    parts += ["## Similar code", ""]
    if report.similarity_threshold is None:
        parts.append("Not computed (run `harness export STORE --format report --similarity`).")
    elif not report.pairs:
        parts.append(f"No pair shares {report.similarity_threshold:.0%} of its code or more.")
    for pair in report.pairs:
        parts += [
            f"### {markdown_text(pair.key_a)} and {markdown_text(pair.key_b)}: "
            f"{pair.share_a:.0%} / {pair.share_b:.0%}",
            "",
        ]
        for fragment in pair.fragments:
            parts += [
                f"{_code_span(fragment.file_a)} lines {fragment.lines_a[0]}-{fragment.lines_a[1]} and "
                f"{_code_span(fragment.file_b)} lines {fragment.lines_b[0]}-{fragment.lines_b[1]}:",
                "",
                *_fenced(_elided(fragment.text_a)),
                "",
                *_fenced(_elided(fragment.text_b)),
                "",
            ]
    return "\n".join(parts) + "\n"


def write_class_report(report: ClassReport, out_dir: Path) -> dict[str, Path]:
    """Write `class_report.html`, `class_report.md`, its figures and the submissions' pages."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(report)
    (out_dir / FIGURES_FOLDER).mkdir(exist_ok=True)
    for name, png in figures.pngs.items():
        (out_dir / FIGURES_FOLDER / name).write_bytes(png)
    (out_dir / SUBMISSIONS_FOLDER).mkdir(exist_ok=True)
    for row in report.rows:
        page = out_dir / report.pages[row.key]
        page.write_text(feedback_html(row, back_link=f"../{HTML_NAME}"), encoding="utf-8")
    written = {"html": out_dir / HTML_NAME, "md": out_dir / MARKDOWN_NAME}
    written["html"].write_text(render_html(report, figures), encoding="utf-8")
    written["md"].write_text(render_markdown(report), encoding="utf-8")
    return written


def _headline(report: ClassReport) -> str:
    rows = report.rows
    if not rows:
        return "No graded submission."
    passed = sum(row.summary.passed_required for row in rows)
    median = statistics.median(row.percent for row in rows)
    flagged = len(flags_by_key(report.flags))
    return (
        f"{len(rows)} submissions · median score {median:.1f}% · required checks passed by {passed} · "
        f"{flagged} to look at"
    )


def _class_table(report: ClassReport, markdown: bool) -> list[list[str]]:
    header = ["submission", "participant", "points", "%", *CATEGORIES, "PSNR (dB)", "epoch (s)", "required"]
    table = [header]
    for row in report.rows:
        name = f"[{markdown_text(row.name)}]({report.pages[row.key]})" if markdown else row.name
        table.append(
            [name, row.participant_id or "", f"{row.points:g}/{row.max_points:g}", f"{row.percent:.1f}"]
            + [_pair(row.category_points.get(category)) for category in CATEGORIES]
            + [_optional(row.summary.psnr_db, ".2f"), _optional(row.summary.epoch_s, ".0f")]
            + ["passed" if row.summary.passed_required else "failed"]
        )
    return table


def _class_table_html(report: ClassReport) -> str:
    table = _class_table(report, markdown=False)
    head = "".join(f'<th class="sortable">{html.escape(cell)}</th>' for cell in table[0])
    body = []
    for row, cells in zip(report.rows, table[1:], strict=True):
        link = f'<a href="{html.escape(report.pages[row.key])}">{html.escape(cells[0])}</a>'
        numbers = "".join(f'<td class="num">{html.escape(cell)}</td>' for cell in cells[1:-1])
        body.append(f"<tr><td>{link}</td>{numbers}<td>{html.escape(cells[-1])}</td></tr>")
    return (
        f'<table id="class-table"><thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def _attention_html(report: ClassReport) -> str:
    grouped = flags_by_key(report.flags)
    if not grouped:
        return "<p>None.</p>"
    items = []
    for row in report.rows:
        if row.key in grouped:
            flags = "".join(f'<span class="flag">{html.escape(text)}</span>' for text in grouped[row.key])
            items.append(
                f'<li><a href="{html.escape(report.pages[row.key])}">{html.escape(row.name)}</a> '
                f"<code>{html.escape(row.key)}</code><br>{flags}</li>"
            )
    return '<ul id="attention-list">\n' + "\n".join(items) + "\n</ul>"


def _similarity_html(report: ClassReport) -> str:
    if report.similarity_threshold is None:
        return "<p>Not computed (run <code>harness export STORE --format report --similarity</code>).</p>"
    if not report.pairs:
        return f"<p>No pair shares {report.similarity_threshold:.0%} of its code or more.</p>"
    parts = [
        f"<p>Pairs sharing at least {report.similarity_threshold:.0%} of one side's code "
        "(the course's template excluded).</p>"
    ]
    for pair in report.pairs:
        parts.append(
            f"<h3><code>{html.escape(pair.key_a)}</code> ({pair.share_a:.0%}) and "
            f"<code>{html.escape(pair.key_b)}</code> ({pair.share_b:.0%})</h3>"
        )
        for fragment in pair.fragments:
            parts.append(
                '<div class="pair">'
                f"<div>{html.escape(fragment.file_a)}, lines {fragment.lines_a[0]}-{fragment.lines_a[1]}"
                f"<pre>{html.escape(_elided(fragment.text_a))}</pre></div>"
                f"<div>{html.escape(fragment.file_b)}, lines {fragment.lines_b[0]}-{fragment.lines_b[1]}"
                f"<pre>{html.escape(_elided(fragment.text_b))}</pre></div></div>"
            )
    return "\n".join(parts)


def _code_span(text: str) -> str:
    """`text` (a student's file name) as one Markdown code span: delimited by more backticks than its
    longest run, so no backtick in it ends the span, and on one line."""
    text = " ".join(printable(text).splitlines())
    ticks = "`" * (_longest_backtick_run(text) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def _fenced(text: str) -> list[str]:
    """`text` (a student's code) as a Python code block whose fence is longer than any backtick run in
    it, so no line of the code closes the block and turns the rest into Markdown."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [f"{fence}python", text, fence]


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


def _elided(text: str) -> str:
    """A fragment of a student's code, at most `FRAGMENT_LINES` lines, without escape sequences."""
    text = printable(text)
    lines = text.splitlines()
    if len(lines) <= FRAGMENT_LINES:
        return text
    return "\n".join([*lines[:FRAGMENT_LINES], f"... ({len(lines) - FRAGMENT_LINES} more lines)"])


def _pair(pair: tuple[float, float] | None) -> str:
    return "" if pair is None else f"{pair[0]:g}/{pair[1]:g}"


def _optional(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


_SORT_SCRIPT = """
document.querySelectorAll("th.sortable").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], index = th.cellIndex;
    var ascending = th.dataset.order !== "asc";
    th.dataset.order = ascending ? "asc" : "desc";
    function key(row) {
      var text = row.cells[index].textContent.trim(), number = parseFloat(text);
      return isNaN(number) ? text.toLowerCase() : number;
    }
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""
