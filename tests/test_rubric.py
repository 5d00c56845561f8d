"""Specification of rubric loading, validation and scoring (harness.rubric)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.checks.registry import CHECK_CATEGORIES
from harness.errors import RubricError
from harness.results import Category, CheckResult, Fault, Outcome
from harness.rubric import RUBRICS_DIR, ChildLimits, Rubric, load_rubric, needs_rerun, score

MINIMAL = 'name = "tiny"\n'


def write_rubric(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    return path


def tiny_rubric(tmp_path: Path, checks: str, extra: str = "") -> Rubric:
    """A rubric of only the given `[checks."id"]` tables, so no stand-in results are added."""
    return load_rubric(write_rubric(tmp_path, MINIMAL + "adapter_factor = 0.5\n" + extra + checks))


def result(
    outcome: Outcome,
    check_id: str = "blocks.conv2d",
    fraction: float = 0.0,
    fault: Fault = Fault.SUBMISSION,
    adapter: bool | None = None,
) -> CheckResult:
    details = {} if adapter is None else {"adapter": adapter}
    return CheckResult(
        check_id, CHECK_CATEGORIES[check_id], outcome, "m", details=details, score=fraction, fault=fault
    )


# ---------------------------------------------------------------- the shipped rubric


def test_shipped_rubric_loads_by_name_and_by_path_with_its_file_hash() -> None:
    by_name = load_rubric("ee559-2022")
    by_path = load_rubric(RUBRICS_DIR / "ee559-2022.toml")
    assert by_name == by_path
    assert by_name.sha256 == hashlib.sha256((RUBRICS_DIR / "ee559-2022.toml").read_bytes()).hexdigest()


def test_shipped_rubric_grades_every_check_out_of_100() -> None:
    rubric = load_rubric("ee559-2022")
    assert set(rubric.checks) == set(CHECK_CATEGORIES)
    assert rubric.max_points == 100
    assert rubric.rule_profile == "lenient"  # what a careful TA enforces; strict is opt-in
    assert rubric.thresholds.psnr_metric == "grading"
    assert (rubric.thresholds.epoch_limit_cpu_s, rubric.thresholds.epoch_limit_gpu_s) == (1800, 600)
    assert rubric.one_of == (("blocks.transpose-conv2d", "blocks.nearest-upsampling"),)


def test_shipped_rubric_requires_rules_api_and_time_limit_but_not_blocks() -> None:
    rubric = load_rubric("ee559-2022")
    required = {check_id for check_id, entry in rubric.checks.items() if entry.required}
    assert {"rules.static", "rules.runtime", "api.predict", "timing.train-epoch", "layout.files"} <= required
    assert not any(check_id.startswith("blocks.") for check_id in required)


def test_a_perfect_submission_scores_full_points_with_the_shipped_rubric() -> None:
    rubric = load_rubric("ee559-2022")
    everything = [
        result(Outcome.PASS, check_id) for check_id in CHECK_CATEGORIES if check_id != "blocks.upsampling"
    ]
    scored = score(everything, rubric)
    assert sum(s.points for s in scored) == sum(s.max_points for s in scored) == 96
    assert all(s.result.outcome is Outcome.PASS for s in scored if s.required)


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        ("blocks.relu", ChildLimits(60, 4096)),
        ("timing.train-epoch", ChildLimits(180, 6144)),
        ("layout.files", ChildLimits(60, 4096)),
    ],
    ids=["group-entry", "own-entry", "default"],
)
def test_child_limits_come_from_the_check_then_its_group_then_the_default(
    check_id: str, expected: ChildLimits
) -> None:
    assert load_rubric("ee559-2022").limits_for(check_id) == expected


@pytest.mark.parametrize(
    ("noisy_db", "required_db"),
    [(20.72, 21.72), (15.0, 21.0), (25.0, 26.0)],
    ids=["course-data", "floor-wins", "margin-wins"],
)
def test_required_psnr_is_margin_over_noisy_input_with_a_floor(noisy_db: float, required_db: float) -> None:
    assert load_rubric("ee559-2022").thresholds.psnr_required_db(noisy_db) == pytest.approx(required_db)


# ---------------------------------------------------------------- invalid rubrics


LAYOUT = '[checks."layout.files"]\npoints = 1\n'
ENTRY = 'checks."layout.files"'


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("name = [", "not a valid TOML file"),
        ('rule_profile = "strict"\n' + LAYOUT, "name:"),
        (MINIMAL + 'rule_profile = "loose"\n' + LAYOUT, "rule_profile:"),
        (MINIMAL + 'colour = "red"\n' + LAYOUT, "colour: unknown key"),
        (MINIMAL, "checks: the rubric names no checks"),
        (MINIMAL + '[checks."blocks.conv"]\npoints = 1\n', 'checks."blocks.conv": unknown check id'),
        (MINIMAL + '[checks."layout.files"]\nrequired = true\n', f"{ENTRY}.points: missing"),
        (MINIMAL + '[checks."layout.files"]\npoints = -1\n', f"{ENTRY}.points: expected a non-negative"),
        (MINIMAL + '[checks."layout.files"]\npoints = "2"\n', f"{ENTRY}.points: expected a number"),
        (MINIMAL + LAYOUT + 'required = "yes"\n', f"{ENTRY}.required: expected true or false"),
        (MINIMAL + LAYOUT + "weight = 2\n", f"{ENTRY}.weight: unknown key"),
        (MINIMAL + "adapter_factor = 1.5\n" + LAYOUT, "adapter_factor:"),
        (MINIMAL + 'one_of = [["layout.files"]]\n' + LAYOUT, "one_of: a group"),
        (MINIMAL + 'one_of = [["layout.files", "api.train"]]\n' + LAYOUT, "one_of: 'api.train' is not"),
        (MINIMAL + '[thresholds]\npsnr_metric = "ssim"\n' + LAYOUT, "thresholds.psnr_metric:"),
        (MINIMAL + "[thresholds]\npsnr_db = 3\n" + LAYOUT, "thresholds.psnr_db: unknown key"),
        (MINIMAL + "[limits.blocks]\nwall_s = 0\n" + LAYOUT, "limits.blocks.wall_s: expected a positive"),
        (MINIMAL + "[limits.gpu]\nwall_s = 5\n" + LAYOUT, "limits.gpu: unknown"),
    ],
    ids=[
        "bad-toml", "no-name", "bad-profile", "unknown-top-key", "no-checks", "unknown-check-id",
        "no-points", "negative-points", "string-points", "non-bool-required", "unknown-entry-key",
        "adapter-factor-above-1", "one-of-single", "one-of-not-in-rubric", "unknown-metric",
        "unknown-threshold", "zero-wall-time", "unknown-limit-group",
    ],
)  # fmt: skip
def test_a_bad_rubric_is_one_line_naming_the_file_and_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = write_rubric(tmp_path, text)
    with pytest.raises(RubricError) as raised:
        load_rubric(path)
    line = raised.value.one_line()
    assert line.startswith(f"{path}: ")
    assert named in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("given", "named"),
    [("no-such-rubric", "shipped rubric"), ("missing/rubric.toml", "not found")],
    ids=["unknown-name", "missing-file"],
)
def test_an_unknown_rubric_name_or_path_is_a_rubric_error(given: str, named: str) -> None:
    with pytest.raises(RubricError, match=named):
        load_rubric(given)


# ---------------------------------------------------------------- scoring

CONV_10 = '[checks."blocks.conv2d"]\npoints = 10\n'
CONV_10_PARTIAL = CONV_10 + "partial = true\n"


@pytest.mark.parametrize(
    ("entry", "scored_result", "points"),
    [
        (CONV_10, result(Outcome.PASS), 10),
        (CONV_10, result(Outcome.FAIL, fraction=0.8), 0),
        (CONV_10_PARTIAL, result(Outcome.FAIL, fraction=0.8), 8),
        (CONV_10_PARTIAL, result(Outcome.ERROR, fraction=0.25), 2.5),
        (CONV_10_PARTIAL, result(Outcome.TIMEOUT, fraction=0.5), 5),
        (CONV_10_PARTIAL, result(Outcome.FORBIDDEN, fraction=0.9), 0),
        (CONV_10_PARTIAL, result(Outcome.MISSING), 0),
        (CONV_10_PARTIAL, result(Outcome.SKIPPED, fraction=1.0), 0),
        (CONV_10_PARTIAL, result(Outcome.FAIL, fraction=0.8, fault=Fault.SETUP), 0),
        (CONV_10, result(Outcome.PASS, adapter=True), 5),
        (CONV_10_PARTIAL, result(Outcome.FAIL, fraction=0.8, adapter=True), 4),
        (CONV_10, result(Outcome.PASS, adapter=False), 10),
        (CONV_10, result(Outcome.PASS, fraction=0.3), 10),
    ],
    ids=[
        "pass-full", "fail-not-partial", "fail-partial", "error-partial", "timeout-partial",
        "forbidden-zero", "missing-zero", "skipped-zero", "setup-fault-zero", "adapter-pass-halved",
        "adapter-partial-halved", "adapter-false-full", "pass-ignores-score",
    ],
)  # fmt: skip
def test_points_follow_outcome_score_fault_and_adapter(
    tmp_path: Path, entry: str, scored_result: CheckResult, points: float
) -> None:
    [scored] = score([scored_result], tiny_rubric(tmp_path, entry))
    assert scored.points == pytest.approx(points)
    assert scored.max_points == 10


def test_a_setup_fault_keeps_its_max_and_is_flagged_for_rerun(tmp_path: Path) -> None:
    [scored] = score([result(Outcome.ERROR, fault=Fault.SETUP)], tiny_rubric(tmp_path, CONV_10))
    assert (scored.points, scored.max_points, needs_rerun(scored)) == (0, 10, True)


def test_a_result_outside_the_rubric_is_worth_nothing_and_not_required(tmp_path: Path) -> None:
    stray = CheckResult("blocks", Category.BLOCKS, Outcome.ERROR, "group crashed", fault=Fault.SETUP)
    scored = score([stray], tiny_rubric(tmp_path, CONV_10))
    assert [(s.result.id, s.points, s.max_points, s.required) for s in scored] == [
        ("blocks", 0, 0, False),
        ("blocks.conv2d", 0, 10, False),
    ]


def test_a_rubric_check_without_result_is_added_as_a_setup_error(tmp_path: Path) -> None:
    rubric = tiny_rubric(tmp_path, CONV_10 + '[checks."api.train"]\npoints = 3\nrequired = true\n')
    scored = score([result(Outcome.PASS)], rubric)
    added = {s.result.id: s for s in scored}["api.train"]
    assert added.result.outcome is Outcome.ERROR
    assert added.result.category is Category.API
    assert (added.points, added.max_points, added.required, needs_rerun(added)) == (0, 3, True, True)


OPTIONAL_UPSAMPLING = '[checks."blocks.upsampling"]\npoints = 4\npartial = true\noptional = true\n'


@pytest.mark.parametrize(
    ("results", "points_and_max"),
    [
        ([], []),
        ([result(Outcome.MISSING, "blocks.upsampling")], [(0, 0)]),
        ([result(Outcome.SKIPPED, "blocks.upsampling")], [(0, 0)]),
        ([result(Outcome.FAIL, "blocks.upsampling", fraction=0.5)], [(2, 4)]),
        ([result(Outcome.PASS, "blocks.upsampling")], [(4, 4)]),
    ],
    ids=["no-result-not-added", "missing-0-of-0", "skipped-0-of-0", "present-fail-counts", "present-pass"],
)
def test_an_optional_check_counts_only_when_present(
    tmp_path: Path, results: list[CheckResult], points_and_max: list[tuple[float, float]]
) -> None:
    scored = score(results, tiny_rubric(tmp_path, OPTIONAL_UPSAMPLING))
    assert [(s.points, s.max_points) for s in scored] == points_and_max


UPSAMPLERS = (
    'one_of = [["blocks.transpose-conv2d", "blocks.nearest-upsampling"]]\n',
    '[checks."blocks.transpose-conv2d"]\npoints = 10\npartial = true\n'
    '[checks."blocks.nearest-upsampling"]\npoints = 8\npartial = true\nrequired = true\n',
)
T, N = "blocks.transpose-conv2d", "blocks.nearest-upsampling"


@pytest.mark.parametrize(
    ("results", "counted"),
    [
        ([result(Outcome.PASS, T), result(Outcome.PASS, N)], {T: (10, 10, False), N: (0, 0, False)}),
        ([result(Outcome.MISSING, T), result(Outcome.PASS, N)], {T: (0, 0, False), N: (8, 8, True)}),
        ([result(Outcome.FAIL, T, 0.5), result(Outcome.PASS, N)], {T: (0, 0, False), N: (8, 8, True)}),
        ([result(Outcome.MISSING, T), result(Outcome.FAIL, N)], {T: (0, 0, False), N: (0, 8, True)}),
        ([result(Outcome.MISSING, T), result(Outcome.MISSING, N)], {T: (0, 10, False), N: (0, 0, False)}),
        ([result(Outcome.PASS, N)], {N: (8, 8, True)}),
        ([], {T: (0, 10, False)}),
    ],
    ids=[
        "both-pass-first-listed",
        "only-nearest",
        "better-points-win",
        "present-beats-missing-on-tie",
        "both-missing-first-listed",
        "one-result-only",
        "no-result-one-stand-in",
    ],
)
def test_only_the_best_member_of_a_one_of_group_counts(
    tmp_path: Path, results: list[CheckResult], counted: dict[str, tuple[float, float, bool]]
) -> None:
    scored = score(results, tiny_rubric(tmp_path, UPSAMPLERS[1], extra=UPSAMPLERS[0]))
    assert {s.result.id: (s.points, s.max_points, s.required) for s in scored} == counted
