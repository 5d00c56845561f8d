"""The pytest front end (`-p harness.pytest_plugin --submission PATH`): the verdicts of `harness check`.

Each test runs an inner pytest session with `pytester` (in a scratch folder, so the inner session has no
test paths of its own) on gallery submissions, and compares what it reports, through `--junitxml`, with
`check_submission`'s report for the same submission, data, rubric and seed.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.check import check_submission
from harness.checks.registry import group_checks
from harness.pytest_plugin import parse_groups
from harness.results import Outcome
from harness.rubric import load_rubric
from tests.model_fixtures import SUBMISSIONS, write_course_data

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "harness.pytest_plugin", "--no-reference-timing")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plugin-data")
    write_course_data(folder, train=64, val=16)
    return folder


def expected_verdicts(submission: Path, data: Path, groups: str, seed: int) -> dict[str, str]:
    """pytest's verdict per check id, from `check_submission`: pass -> passed; skipped or counting 0 of 0
    -> skipped; anything else -> failed."""
    modules = parse_groups(groups)
    report = check_submission(
        submission, data, load_rubric("ee559-2022"), seed=seed, reference_dir=None, groups=modules
    )
    verdicts = {}
    for scored in report.checks:
        if scored.result.id not in group_checks(modules):
            continue
        if scored.result.outcome is Outcome.PASS:
            verdicts[scored.result.id] = "passed"
        elif scored.result.outcome is Outcome.SKIPPED or scored.max_points == 0:
            verdicts[scored.result.id] = "skipped"
        else:
            verdicts[scored.result.id] = "failed"
    return verdicts


def junit_verdicts(path: Path) -> dict[str, tuple[str, str]]:
    """{test case name: (verdict, failure or skip message)} of a `--junitxml` file."""
    verdicts = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        failure, skipped = case.find("failure"), case.find("skipped")
        if failure is not None:
            verdicts[case.get("name")] = ("failed", failure.get("message", ""))
        elif skipped is not None:
            verdicts[case.get("name")] = ("skipped", skipped.get("message", ""))
        else:
            verdicts[case.get("name")] = ("passed", "")
    return verdicts


@pytest.mark.parametrize(
    ("fixture", "groups", "seed", "cause"),
    [
        ("model_nan", "layout,api", 0, ("api.predict", "returned 3 NaN or infinite values")),
        ("blocks_2022_flaws", "blocks", 3, ("blocks.relu", "ReLU.forward changed its input in place")),
    ],
    ids=["nan-output", "2022-flaws"],
)
def test_verdicts_and_junitxml_follow_check_submission(pytester, data, fixture, groups, seed, cause):
    submission = SUBMISSIONS / fixture
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        *PLUGIN,
        f"--submission={submission}",
        f"--data={data}",
        f"--check-groups={groups}",
        f"--seed={seed}",
        f"--junitxml={junit}",
    )
    expected = expected_verdicts(submission, data, groups, seed)
    reported = junit_verdicts(junit)
    assert {name: verdict for name, (verdict, _) in reported.items()} == expected
    assert list(reported) == list(group_checks(parse_groups(groups)))
    counts = {kind: list(expected.values()).count(kind) for kind in ("passed", "failed", "skipped")}
    result.assert_outcomes(**counts)
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if counts["failed"] else pytest.ExitCode.OK)
    check_id, phrase = cause
    verdict, message = reported[check_id]
    assert verdict == "failed" and message.startswith(f"{check_id}: fail (submission's fault)")
    assert phrase in message
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines([f"*harness check: {fixture} (check groups *"])


def test_skips_carry_the_checks_message(pytester, data):
    result = pytester.runpytest(
        *PLUGIN, f"--submission={SUBMISSIONS / 'model_nan'}", f"--data={data}", "--check-groups=layout", "-rs"
    )
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*skipped: no Proj_ folder around Miniproject_2*"])


def test_only_the_submissions_checks_are_collected(pytester, data):
    """Neither the session's own test files nor a student's test_*.py inside the submission."""
    pytester.makepyfile(test_project="def test_project():\n    raise AssertionError('collected')\n")
    result = pytester.runpytest(
        *PLUGIN,
        f"--submission={SUBMISSIONS / 'rules_test_script'}",
        f"--data={data}",
        "--check-groups=layout,rules",
        "--collect-only",
        "-q",
    )
    assert result.ret == pytest.ExitCode.OK
    collected = [line for line in result.stdout.lines if "::" in line]
    assert [line.rsplit("::", 1)[1] for line in collected] == list(group_checks(parse_groups("layout,rules")))
    assert "test_project" not in result.stdout.str() and "test_relu" not in result.stdout.str()


def test_from_the_project_root_the_checks_replace_the_test_paths(data):
    """As a grader runs it in this repository: pyproject's `testpaths = tests` are not collected."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *PLUGIN, "--submission", "tests/submissions/model_nan",
         f"--data={data}", "--check-groups=api", "--collect-only", "-q"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    collected = [line for line in completed.stdout.splitlines() if "::" in line]
    assert collected == [f"tests/submissions/model_nan::{check_id}" for check_id in group_checks(["api"])]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--submission=no/such/folder"], "no/such/folder: no such file or folder"),
        (["--submission={ok}", "--check-groups=api,quality"], "group 'quality' (known: layout,"),
        (["--submission={ok}", "--rubric=no-such-rubric"], "no-such-rubric: no such rubric"),
        (["--submission={ok}", "--data=no/such/data"], "no/such/data: no such data folder"),
        (["--submission={ok}", "tests"], "--submission grades one submission: give no test paths"),
    ],
    ids=["missing-submission", "unknown-group", "unknown-rubric", "missing-data", "test-paths-too"],
)
def test_user_errors_are_one_line_usage_errors(pytester, data, arguments, problem):
    ok = str(SUBMISSIONS / "model_nan")
    result = pytester.runpytest(*PLUGIN, f"--data={data}", *(a.format(ok=ok) for a in arguments))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *{problem}*"])


def test_the_plugin_loads_only_when_named(pytester):
    result = pytester.runpytest(f"--submission={SUBMISSIONS / 'model_nan'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --submission*"])
