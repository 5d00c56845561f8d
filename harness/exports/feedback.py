"""A team's feedback on its submission, from the stored report: the summary line and every check's
outcome, points and message, as Markdown (Moodle's feedback files) and as an HTML page (linked from the
class report)."""

from __future__ import annotations

import html

from tabulate import tabulate

from harness.exports.rows import CheckRow, SubmissionRow
from harness.exports.style import PAGE_CSS
from harness.tables import markdown_text


def feedback_markdown(row: SubmissionRow) -> str:
    """The feedback of `row` as a Markdown document."""
    lines = [
        f"# {markdown_text(row.name)}: {_points(row.points)}/{_points(row.max_points)} points",
        "",
        f"**{row.summary_line}**",
        "",
        "Checks marked `*` are required. A check marked `re-run` failed because of the grading set-up,",
        "not because of your code: it is graded again.",
        "",
    ]
    table = [
        [
            f"`{check.id}`" + ("*" if check.required else ""),
            _outcome(check),
            _check_points(check),
            markdown_text(check.message),
        ]
        for check in row.checks
    ]
    lines += [tabulate(table, headers=("check", "outcome", "points", "message"), tablefmt="github"), ""]
    return "\n".join(lines)


def feedback_html(row: SubmissionRow, back_link: str | None = None) -> str:
    """The feedback of `row` as one self-contained HTML page; `back_link` leads back to the class."""
    cells = "\n".join(
        f'<tr class="{html.escape(check.outcome)}"><td><code>{html.escape(check.id)}</code>'
        f"{'*' if check.required else ''}</td><td>{html.escape(_outcome(check))}</td>"
        f'<td class="num">{_check_points(check)}</td><td>{html.escape(check.message)}</td></tr>'
        for check in row.checks
    )
    back = f'<p><a href="{html.escape(back_link)}">← class report</a></p>' if back_link else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(row.name)}</title>
<style>{PAGE_CSS}</style></head><body>
{back}<h1>{html.escape(row.name)}: {_points(row.points)}/{_points(row.max_points)} points</h1>
<p><code>{html.escape(row.key)}</code></p>
<p><strong>{html.escape(row.summary_line)}</strong></p>
<table><thead><tr><th>check</th><th>outcome</th><th>points</th><th>message</th></tr></thead>
<tbody>
{cells}
</tbody></table>
</body></html>
"""


def _outcome(check: CheckRow) -> str:
    if check.needs_rerun:
        return f"{check.outcome} (re-run)"
    return f"{check.outcome} (adapter)" if check.adapter else check.outcome


def _check_points(check: CheckRow) -> str:
    return f"{_points(check.points)}/{_points(check.max_points)}"


def _points(value: float) -> str:
    return f"{value:g}"
