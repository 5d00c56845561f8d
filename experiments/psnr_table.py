"""Render the JSON-lines records of `budget_training`, `gaussian_blur` and `train_bestmodel` as the
Markdown PSNR table of Miniproject_2/README.md (records of one label are merged, later fields winning, so
a re-scoring with `train_bestmodel --evaluate` completes its training record).

    python -m experiments.psnr_table R.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tabulate import tabulate


def table_rows(records: list[dict]) -> list[list]:
    """One row per label: grading and statement PSNR, their self-ensemble versions, images seen and CPU
    seconds of training (measured for ours, the budget for the torch contenders, which stop at it)."""
    latest: dict[str, dict] = {}
    for record in records:
        latest[record["label"]] = {**latest.get(record["label"], {}), **record}
    rows = []
    for label, record in latest.items():
        ensemble = record.get("psnr_self_ensemble", {})
        rows.append(
            [
                label,
                record["psnr"]["grading"],
                record["psnr"]["statement"],
                ensemble.get("grading", ""),
                ensemble.get("statement", ""),
                record.get("images", ""),
                record.get("cpu_s", record.get("budget_cpu_s", "")),
            ]
        )
    return rows


HEADERS = ["run", "grading dB", "statement dB", "grading dB ×8", "statement dB ×8", "images seen", "CPU s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    arguments = parser.parse_args()
    lines = arguments.results.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    print(tabulate(table_rows(records), HEADERS, tablefmt="github"))


if __name__ == "__main__":
    main()
