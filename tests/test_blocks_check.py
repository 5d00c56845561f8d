"""`harness.checks.blocks.judge.run` end to end: each block kind in its own sandboxed child, judged here."""

from __future__ import annotations

from pathlib import Path

from harness.checks.blocks.judge import BLOCK_KINDS, check_block, run
from harness.context import CheckContext
from harness.results import Category, Fault, Outcome
from harness.rubric import load_rubric, score
from harness.submission import resolve_submission

ROOT = Path(__file__).parents[1]
SUBMISSIONS = Path(__file__).parent / "submissions"


def context(path: Path, workdir: Path) -> CheckContext:
    submission = resolve_submission(path, workdir)
    data = ROOT / "test_data"
    return CheckContext(
        submission,
        data / "train_data.pkl",
        data / "val_data.pkl",
        load_rubric("ee559-2022"),
        seed=0,
        reference_dir=None,
    )


FLAWS = {
    "blocks.conv2d": (
        Outcome.FAIL,
        "Conv2d(3, 8, kernel_size=5) on (2, 3, 12, 12): crashed in forward: RuntimeError: Expected size",
    ),
    "blocks.transpose-conv2d": (
        Outcome.SKIPPED,
        "no TransposeConv2d; the statement asks for TransposeConv2d or "
        "NearestUpsampling, and NearestUpsampling is checked",
    ),
    "blocks.nearest-upsampling": (Outcome.PASS, "5 of 5 configurations match torch.nn.Upsample"),
    "blocks.upsampling": (Outcome.SKIPPED, "no Upsampling class (optional"),
    "blocks.relu": (Outcome.FAIL, "ReLU.forward changed its input in place"),
    "blocks.sigmoid": (Outcome.PASS, "5 of 5 configurations match torch.nn.Sigmoid"),
    "blocks.mse": (Outcome.PASS, "4 of 4 configurations match torch.nn.MSELoss"),
    "blocks.sgd": (Outcome.PASS, "2 of 2 configurations match torch.optim.SGD"),
    "blocks.sequential": (Outcome.FAIL, "Sequential.param() raised TypeError: can only concatenate list"),
}


def test_the_2022_flaws_are_each_named_in_one_line(tmp_path):
    results = run(context(SUBMISSIONS / "blocks_2022_flaws", tmp_path))
    assert [r.id for r in results] == [kind.check_id for kind in BLOCK_KINDS]
    for result in results:
        outcome, message = FLAWS[result.id]
        assert (result.outcome, result.category) == (outcome, Category.BLOCKS), result.message
        assert message in result.message
        assert result.duration_s > 0
    by_id = {r.id: r for r in results}
    assert "(at model.py:29)" in by_id["blocks.conv2d"].message
    assert by_id["blocks.conv2d"].details["passed"] < by_id["blocks.conv2d"].details["total"]
    assert by_id["blocks.transpose-conv2d"].fault is Fault.NONE


def test_the_same_seed_gives_the_same_details(tmp_path):
    ctx = context(SUBMISSIONS / "blocks_torch_backed", tmp_path)
    conv2d = next(kind for kind in BLOCK_KINDS if kind.kind == "conv2d")
    first, second = check_block(conv2d, ctx), check_block(conv2d, ctx)
    assert first.outcome is Outcome.PASS
    assert (first.message, first.details) == (second.message, second.details)


def test_the_reference_submission_gets_every_block_point(tmp_path):
    rubric = load_rubric("ee559-2022")
    results = run(context(ROOT / "Miniproject_2", tmp_path))
    assert all(r.outcome is Outcome.PASS for r in results), [
        r.message for r in results if r.outcome is not Outcome.PASS
    ]
    scored = score(results, rubric)
    blocks = [s for s in scored if s.result.id.startswith("blocks.")]
    assert sum(s.points for s in blocks) == sum(s.max_points for s in blocks) > 0
