"""How long similarity takes over a class of 200 submissions (issue 10 asks for under a minute here).

python -m pytest benchmarks/test_bench_similarity.py -m slow -s

The class is synthetic and seeded: 200 distinct submissions of about 700 lines each (random functions,
loops and arithmetic over random names, the course's template on top), five of which were copied by
another submission with every name changed. The benchmark also asserts that exactly those five pairs
are found.
"""

from __future__ import annotations

import random
import time

import pytest

from harness.exports.similarity import similar_pairs
from harness.exports.template import TEMPLATE_CODE
from harness.reproducibility import cpu_model

SUBMISSIONS = 200
COPIED = 5
FUNCTIONS = 45


def synthetic_code(rng: random.Random) -> str:
    """A file of valid, distinct Python: FUNCTIONS functions of random statements."""
    names = [f"{rng.choice('abcdefghkmnpqrstuvwxyz')}{rng.randrange(1000)}" for _ in range(30)]
    lines = [TEMPLATE_CODE]
    for index in range(FUNCTIONS):
        arguments = rng.sample(names, 3)
        lines.append(f"def {rng.choice(names)}_{index}({', '.join(arguments)}):")
        for _ in range(rng.randrange(8, 18)):
            target, left, right = rng.choice(names), rng.choice(arguments), rng.choice(names)
            form = rng.randrange(5)
            if form == 0:
                lines.append(f"    {target} = {left} {rng.choice('+-*')} {rng.randrange(100)}")
            elif form == 1:
                lines.append(f"    for {target} in range({rng.randrange(2, 9)}):")
                lines.append(f"        {left} = {left} {rng.choice('+-*')} {target}")
            elif form == 2:
                lines.append(f"    if {left} > {rng.randrange(50)}:")
                lines.append(f"        return {right}({left}, {rng.randrange(10)})")
            elif form == 3:
                lines.append(f"    {target} = [{left}] * {rng.randrange(1, 6)} + [{rng.random():.3f}]")
            else:
                lines.append(f"    {target} = {right}.{rng.choice(names)}({left}, {rng.randrange(7)})")
        lines.append(f"    return {rng.choice(arguments)}\n")
    return "\n".join(lines) + "\n"


def renamed(code: str, rng: random.Random) -> str:
    """`code` with every digit run of a name shifted: the same program under other names."""
    return code.replace("_", "_x").replace("0(", "9(").replace(" = ", " =  ")


def make_class(seed: int = 0) -> tuple[dict[str, dict[str, str]], set[tuple[str, str]]]:
    rng = random.Random(seed)
    sources = {f"sub{index:03d}": {"model.py": synthetic_code(rng)} for index in range(SUBMISSIONS - COPIED)}
    planted = set()
    for index in range(COPIED):
        original = f"sub{index * 7:03d}"
        copy = f"sub{SUBMISSIONS - COPIED + index:03d}"
        sources[copy] = {"model.py": renamed(sources[original]["model.py"], rng)}
        planted.add((original, copy))
    return sources, planted


@pytest.mark.slow
def test_similarity_of_200_submissions(benchmark) -> None:
    sources, planted = make_class()
    lines = sum(code.count("\n") for files in sources.values() for code in files.values())
    started = time.perf_counter()
    pairs = benchmark.pedantic(similar_pairs, args=(sources,), rounds=1, iterations=1)
    elapsed = time.perf_counter() - started
    print(
        f"\nsimilarity: {len(sources)} submissions, {lines / len(sources):.0f} lines each, "
        f"{elapsed:.1f} s on {cpu_model()}"
    )
    assert {(pair.key_a, pair.key_b) for pair in pairs} == planted
