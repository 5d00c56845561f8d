"""The class report's figures, drawn with matplotlib (Agg backend: no display needed) as PNG bytes.

Each is a pure function of the numbers it shows: the score histogram, the PSNR distribution against
the noisy input, the best blur and the reference, the epoch estimates against the time limit on a log
scale, and the pass rate of every check, worst first. Figures are built on their own Agg canvas, never
through pyplot's global state, so drawing needs no display and is safe in threads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_WIDTH, _HEIGHT, _DPI = 7.0, 3.6, 110
_BAR = "#4c78a8"
_LINES = {"noisy input": "#e45756", "best blur": "#f58518", "reference": "#54a24b"}


@dataclass(frozen=True)
class PsnrBaselines:
    """What a submission's PSNR is read against (dB, the class's metric); None where not known."""

    noisy_db: float | None
    best_blur_db: float | None
    reference_db: float | None


@dataclass(frozen=True)
class PassRate:
    """How many submissions passed a check, of those it judged (set-up faults and 0-of-0 left out)."""

    check_id: str
    passed: int
    judged: int

    @property
    def rate(self) -> float:
        return self.passed / self.judged if self.judged else 0.0


def score_histogram(percents: Sequence[float]) -> bytes:
    """Histogram of the class's scores, in percent of each submission's maximum, 5-point bins."""
    figure, axes = _figure()
    axes.hist(percents, bins=range(0, 105, 5), color=_BAR, edgecolor="white")
    axes.set(xlabel="score (% of the submission's maximum points)", ylabel="submissions", xlim=(0, 100))
    axes.set_title(f"Scores of {len(percents)} submissions")
    return _png(figure)


def psnr_distribution(psnrs: Sequence[float], metric: str | None, baselines: PsnrBaselines) -> bytes:
    """Histogram of the pretrained models' PSNR with the noisy input, best blur and reference drawn."""
    figure, axes = _figure()
    marks = {
        "noisy input": baselines.noisy_db,
        "best blur": baselines.best_blur_db,
        "reference": baselines.reference_db,
    }
    known = [value for value in marks.values() if value is not None]
    if psnrs:
        axes.hist(psnrs, bins=20, color=_BAR, edgecolor="white", label="submissions")
    for label, value in marks.items():
        if value is not None:
            axes.axvline(value, color=_LINES[label], linewidth=2, label=f"{label} {value:.2f} dB")
    low, high = min([*psnrs, *known], default=0.0), max([*psnrs, *known], default=1.0)
    axes.set_xlim(low - 0.5, high + 0.5)
    axes.set(xlabel=f"PSNR of the pretrained model (dB, {metric or 'unknown'} metric)", ylabel="submissions")
    axes.set_title(f"PSNR of {len(psnrs)} pretrained models")
    if psnrs or known:
        axes.legend(loc="upper left", fontsize=8)
    return _png(figure)


def epoch_estimates(epochs_s: Sequence[float], limit_s: float | None) -> bytes:
    """Every submission's estimated epoch time (sorted, log scale) against the time limit."""
    figure, axes = _figure()
    ordered = sorted(epochs_s)
    if ordered:
        over = [limit_s is not None and value > limit_s for value in ordered]
        axes.scatter(
            ordered,
            range(1, len(ordered) + 1),
            c=["#e45756" if slow else _BAR for slow in over],
            s=18,
            zorder=3,
        )
    if limit_s is not None:
        axes.axvline(limit_s, color="#e45756", linewidth=2, label=f"limit {limit_s / 60:g} min")
        axes.legend(loc="lower right", fontsize=8)
    axes.set_xscale("log")
    axes.set(
        xlabel="estimated time of one 50,000-pair epoch (s, log scale)", ylabel="submissions, fastest first"
    )
    axes.set_title(f"Epoch estimates of {len(ordered)} submissions")
    return _png(figure)


def pass_rates(rates: Sequence[PassRate]) -> bytes:
    """Horizontal bars: the share of judged submissions that passed each check, worst at the top."""
    ordered = sorted(rates, key=lambda rate: (rate.rate, rate.check_id))
    figure, axes = _figure(height=max(_HEIGHT, 0.24 * len(ordered) + 1.0))
    positions = range(len(ordered))
    axes.barh(positions, [100 * rate.rate for rate in ordered], color=_BAR)
    axes.set_yticks(list(positions), [f"{r.check_id} ({r.passed}/{r.judged})" for r in ordered], fontsize=8)
    axes.invert_yaxis()
    axes.set(xlabel="passed (% of the submissions it judged)", xlim=(0, 100))
    axes.set_title("Pass rate of every check, worst first")
    return _png(figure)


def _figure(height: float = _HEIGHT) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of submissions
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
