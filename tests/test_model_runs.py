"""Model probes as steps of one child: values split per step, and a dead child blamed on its step."""

from __future__ import annotations

import pytest
import torch

from harness.checks.model_steps.probe import probe_predict, probe_surface, probe_train
from harness.checks.model_steps.runner import (
    STEP_ERROR,
    Step,
    child_failure,
    combined_limits,
    last_marked_step,
    run_steps,
    without_markers,
)
from harness.results import Category, Fault, Outcome
from harness.sandbox import ChildRun, Limits
from tests.model_fixtures import SUBMISSIONS


@pytest.mark.parametrize(
    ("stderr", "index"),
    [("\n@m 0\nhello\n@m 1\nbye", 1), ("noise @m 2\n", None), ("@m 0\n@m-other 1\n", 0), ("", None)],
    ids=["last-wins", "not-at-line-start", "other-token", "none"],
)
def test_last_marked_step(stderr, index):
    assert last_marked_step(stderr, "@m") == index


def test_without_markers_keeps_what_the_submission_printed():
    assert without_markers("epoch 1\n@m 0\nloss 0.5\n@m 1", "@m") == "epoch 1\nloss 0.5"


def test_combined_limits_add_wall_times():
    steps = [
        Step(probe_surface, {}, Limits(wall_s=10, memory_mb=1000)),
        Step(probe_train, {}, Limits(wall_s=5)),
    ]
    assert combined_limits(steps) == Limits(wall_s=15, memory_mb=4096)


def test_a_step_that_kills_the_child_costs_only_its_own_check():
    """sandbox_sleep's train never returns and sandbox_os_exit's train exits: the steps before still count."""
    limits = Limits(wall_s=2, memory_mb=1024)
    pairs = {
        "input": torch.zeros(2, 3, 4, 4),
        "target": torch.zeros(2, 3, 4, 4),
        "pairs": 2,
        "num_epochs": 1,
        "divisors": (),
    }
    steps = [Step(probe_surface, {}, Limits(wall_s=20)), Step(probe_train, pairs, limits)]
    sleeping = run_steps(SUBMISSIONS / "sandbox_sleep" / "Miniproject_2", steps, seed=0)
    assert [run.status for run in sleeping] == ["ok", "timeout"]
    assert sleeping[0].value.init.ok and sleeping[1].error == "still running after 2 s: killed"
    exiting = run_steps(SUBMISSIONS / "sandbox_os_exit" / "Miniproject_2", steps, seed=0)
    assert [run.status for run in exiting] == ["ok", "crash"]
    assert all("@harness-step-" not in run.stderr_tail for run in sleeping + exiting)


def test_steps_of_a_healthy_child_get_their_own_values():
    steps = [Step(probe_surface, {}, Limits(wall_s=20)), Step(probe_surface, {}, Limits(wall_s=20))]
    runs = run_steps(SUBMISSIONS / "model_torch_backed" / "Miniproject_2", steps, seed=0)
    assert [run.status for run in runs] == ["ok", "ok"]
    assert runs[0].value.names == runs[1].value.names and "Model" in runs[0].value.names


def test_a_probe_bug_is_reported_as_an_error_that_names_the_probe():
    """probe_predict given no "inputs" raises in the harness's own code, with no submission frame on the
    stack: the step is an ERROR whose message names the probe and the harness's line, so our own tests
    catch a probe bug (it is not withheld as a set-up fault: the child had run submission code)."""
    steps = [Step(probe_surface, {}, Limits(wall_s=20)), Step(probe_predict, {}, Limits(wall_s=20))]
    surface, predict = run_steps(SUBMISSIONS / "model_torch_backed" / "Miniproject_2", steps, seed=0)
    assert surface.status == "ok" and predict.status == STEP_ERROR
    assert predict.error.startswith("KeyError: 'inputs' (escaped probe_predict; raised at ")
    assert "harness/checks/model_steps/probe.py:" in predict.error
    result = child_failure("api.predict", Category.API, predict, "predict", Limits())
    assert result.outcome is Outcome.ERROR and "escaped probe_predict" in result.message


def dead(status: str, error: str, traceback: str = "", released: bool = True) -> ChildRun:
    return ChildRun(status, None, error, traceback, "", "", 3.0, True, released=released)


KILLED = "killed by SIGKILL, not sent by the harness for a limit (the kernel reports no out-of-memory kill)"
NOT_ISOLATED = "probe not run: the sandbox could not isolate the child (user-namespace did not hold)"


@pytest.mark.parametrize(
    ("run", "outcome", "fault", "message"),
    [
        (dead("error", "SyntaxError: expected ':' (at model.py:4)", 'File "/x/lib/importlib/__init__.py"'),
         Outcome.ERROR, Fault.SUBMISSION,
         "model.py could not be imported: SyntaxError: expected ':' (at model.py:4)"),
        (dead(STEP_ERROR, "KeyError: 'cases' (escaped probe_train; raised at harness/x/probe.py:9)"),
         Outcome.ERROR, Fault.SUBMISSION,
         "train on 40 pairs raised KeyError: 'cases' (escaped probe_train; raised at harness/x/probe.py:9)"),
        (dead("error", "RuntimeError: boom", 'File "/t/lib/harness/checks/model_steps/probe.py", line 90'),
         Outcome.ERROR, Fault.SUBMISSION, "model.py could not be imported: RuntimeError: boom"),
        (dead(STEP_ERROR, "TypeError: bad tensor (at model.py:9)"),
         Outcome.ERROR, Fault.SUBMISSION, "train on 40 pairs raised TypeError: bad tensor (at model.py:9)"),
        (dead("timeout", "still running after 60.0 s: killed"),
         Outcome.TIMEOUT, Fault.SUBMISSION, "train on 40 pairs did not finish within 60 s"),
        (dead("oom", "used more memory than allowed: killed"),
         Outcome.OOM, Fault.SUBMISSION, "train on 40 pairs used more than 1024 MB of memory"),
        (dead("crash", "killed by SIGSEGV (segmentation fault)"),
         Outcome.CRASH, Fault.SUBMISSION,
         "train on 40 pairs crashed: killed by SIGSEGV (segmentation fault)"),
        (dead("killed", KILLED), Outcome.CRASH, Fault.SUBMISSION, f"train on 40 pairs crashed: {KILLED}"),
        (dead("killed", KILLED, released=False), Outcome.CRASH, Fault.SETUP,
         f"train on 40 pairs: the sandbox did not run it (killed: {KILLED}): re-run it"),
        (dead("error", NOT_ISOLATED, released=False), Outcome.ERROR, Fault.SETUP,
         f"train on 40 pairs: the sandbox did not run it (error: {NOT_ISOLATED}): re-run it"),
        (dead("timeout", "still running: killed", released=False), Outcome.TIMEOUT, Fault.SETUP,
         "train on 40 pairs: the sandbox did not run it (timeout: still running: killed): re-run it"),
    ],
    ids=["import-error", "probe-bug", "harness-file-in-traceback-text", "step-error", "timeout", "oom",
         "crash", "sigkill-after-release", "sigkill-before-release", "not-isolated", "stuck-before-release"],
)  # fmt: skip
def test_child_failure_says_what_died_and_whose_fault_it_is(run, outcome, fault, message):
    result = child_failure(
        "api.train", Category.API, run, "train on 40 pairs", Limits(wall_s=60, memory_mb=1024)
    )
    assert (result.outcome, result.fault, result.message) == (outcome, fault, message)
    assert result.details["child_status"] == run.status
