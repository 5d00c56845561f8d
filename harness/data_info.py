"""What `harness data info` says about a data file, as data first and rendered last.

A file whose name contains "val" is read as `(noisy, clean)` and gets the noisy-vs-clean PSNR under
every metric and the best Gaussian-blur PSNR; any other file is read as training pairs
`(noisy_a, noisy_b)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate
from torch import Tensor

from harness.blur import best_blur_psnr
from harness.dataset import load_train, load_val
from harness.psnr import METRICS
from harness.reproducibility import sha256_file


@dataclass(frozen=True)
class TensorSummary:
    """Shape, dtype and value range of one tensor of a data file."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    minimum: float
    maximum: float
    mean: float


@dataclass(frozen=True)
class MetricSummary:
    """Under one PSNR metric: noisy vs clean, and the best Gaussian blur of noisy vs clean."""

    metric: str
    noisy_psnr: float
    blur_psnr: float
    blur_sigma: float


@dataclass(frozen=True)
class DataFileInfo:
    """Everything `harness data info` reports about one file."""

    path: Path
    kind: str
    sha256: str
    tensors: tuple[TensorSummary, ...]
    metrics: tuple[MetricSummary, ...]


def is_val_file(path: Path) -> bool:
    """Whether `path` is read as `(noisy, clean)`: its name contains "val"."""
    return "val" in path.name.lower()


def _summary(name: str, images: Tensor) -> TensorSummary:
    values = images.double()
    return TensorSummary(
        name=name,
        shape=tuple(images.shape),
        dtype=str(images.dtype).removeprefix("torch."),
        minimum=float(values.min()),
        maximum=float(values.max()),
        mean=float(values.mean()),
    )


def _metric_summary(metric: str, noisy: Tensor, clean: Tensor) -> MetricSummary:
    sigma, blur_psnr = best_blur_psnr(noisy, clean, metric)
    return MetricSummary(metric, METRICS[metric](noisy, clean), blur_psnr, sigma)


def describe_file(path: Path) -> DataFileInfo:
    """Validate `path` with the one loader (raising `DataError`) and summarise it."""
    if is_val_file(path):
        noisy, clean = load_val(path)
        tensors = (_summary("noisy", noisy), _summary("clean", clean))
        metrics = tuple(_metric_summary(name, noisy, clean) for name in METRICS)
        kind = "val (noisy, clean)"
    else:
        noisy_a, noisy_b = load_train(path)
        tensors = (_summary("noisy_a", noisy_a), _summary("noisy_b", noisy_b))
        metrics = ()
        kind = "train (noisy_a, noisy_b)"
    return DataFileInfo(path=path, kind=kind, sha256=sha256_file(path), tensors=tensors, metrics=metrics)


def render_info(info: DataFileInfo) -> str:
    """The plain-text table and lines `harness data info` prints for one file."""
    rows = [
        [t.name, "×".join(map(str, t.shape)), t.dtype, f"{t.minimum:g}", f"{t.maximum:g}", f"{t.mean:.2f}"]
        for t in info.tensors
    ]
    lines = [
        f"{info.path}: {info.kind}",
        tabulate(rows, headers=["tensor", "shape", "dtype", "min", "max", "mean"]),
    ]
    if info.metrics:
        metric_rows = [
            [m.metric, f"{m.noisy_psnr:.2f}", f"{m.blur_psnr:.2f}", f"{m.blur_sigma:g}"] for m in info.metrics
        ]
        headers = ["PSNR metric", "noisy vs clean (dB)", "best blur (dB)", "blur sigma (px)"]
        lines.append(tabulate(metric_rows, headers=headers))
        lines += [f"  {name}: {metric.description}" for name, metric in METRICS.items()]
    lines.append(f"sha256 {info.sha256}")
    return "\n".join(lines) + "\n"
