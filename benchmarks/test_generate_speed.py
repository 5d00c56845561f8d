"""How long the default data set takes to make (the README's generation time; issue 2 asks <= 60 s).

python -m pytest benchmarks/test_generate_speed.py -m slow
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.generate import make_dataset


@pytest.mark.slow
def test_default_50000_plus_1000(benchmark, tmp_path: Path) -> None:
    manifest = benchmark.pedantic(make_dataset, args=(tmp_path,), rounds=1, iterations=1)
    assert (manifest.train, manifest.val) == (50_000, 1_000)
