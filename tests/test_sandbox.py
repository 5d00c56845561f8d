"""The sandbox: each way a submission can misbehave ends as one status, and nothing it builds gets out."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import torch

from harness.probes.capture import describe_exception, plain, unsupported_data
from harness.sandbox import Limits, run_probe
from tests.processes import all_gone, processes_naming

SUBMISSIONS = Path(__file__).parent / "submissions"
CALL = "harness.probes.call:call"
TIGHT = Limits(wall_s=20, memory_mb=1024)


def call(fixture: str, target: str, *arguments: object, limits: Limits = TIGHT, **extra: object):
    package = SUBMISSIONS / fixture / "Miniproject_2"
    return run_probe(CALL, package, {"target": target, "args": list(arguments), **extra}, limits)


ARGUMENTS = {"Model.train": (1, 2, 3), "Model.predict": (1,), "Model.fail": ()}
INDEX_ERROR_AT_LINE_21 = "IndexError: list index out of range (at model.py:21)"


@pytest.mark.parametrize(
    ("fixture", "target", "status", "error"),
    [
        ("sandbox_os_exit", "Model.train", "crash", "exited with code 3"),
        ("sandbox_segfault", "Model.predict", "crash", "SIGSEGV (segmentation fault)"),
        ("sandbox_syntax_error", "Model.predict", "error", "SyntaxError: expected ':' (at model.py:4)"),
        ("sandbox_environment", "Model.fail", "error", INDEX_ERROR_AT_LINE_21),
        ("sandbox_eq_cheat", "Model.train", "error", "unsupported data: value['result'] (a "),
        ("sandbox_eq_cheat", "Model.predict", "error", "(a Miniproject_2.model.Shiny)"),
    ],
    ids=["os-exit-crash", "segfault-crash", "syntax-error-line",
         "exception-line", "eq-cheat-refused", "tensor-subclass-refused"],
)  # fmt: skip
def test_misbehaviour_ends_as_its_status(fixture, target, status, error):
    run = call(fixture, target, *ARGUMENTS[target], limits=TIGHT)
    assert (run.status, run.value) == (status, None)
    assert error in run.error
    assert "\n" not in run.error


def test_endless_train_is_killed_at_the_wall_time_limit():
    run = call("sandbox_sleep", "Model.train", 1, 2, 3, limits=Limits(wall_s=3))
    assert (run.status, run.value) == ("timeout", None)
    assert run.error == "still running at the 3 s time limit: killed"
    assert 3 <= run.duration_s < 6


def test_memory_hog_is_stopped_near_its_limit():
    run = call("sandbox_memory_hog", "Model.train", 1, 2, 3, limits=Limits(wall_s=20, memory_mb=1024))
    assert (run.status, run.error) == ("oom", "used more than the 1024 MB memory limit: killed")
    assert 1024 < run.peak_memory_mb < 2048


def test_a_daemon_that_leaves_the_session_is_killed_with_the_child():
    run = call("sandbox_daemon", "Model.train", 1, 2, 3)
    assert run.status == "ok", run.error
    mark = run.value["result"].split()[1]
    if not (run.network_isolated or run.isolation["pid"] or run.isolation["cgroup"]):
        for pid in processes_naming(mark):
            os.kill(pid, signal.SIGKILL)
        pytest.skip("no namespace or cgroup here (not root): a daemon in a new session escapes")
    assert all_gone(mark)


def test_print_flood_keeps_only_head_and_tail():
    limits = Limits(wall_s=30, output_bytes=2_000)
    run = call("sandbox_print_flood", "Model.predict", 7, limits=limits)
    assert (run.status, run.value) == ("ok", {"result": 7})
    assert run.stdout_tail.startswith("debug debug")
    assert run.stdout_tail.endswith("last line\n")
    assert "bytes not kept" in run.stdout_tail
    assert len(run.stdout_tail) < 2 * limits.output_bytes


SENT = torch.arange(12, dtype=torch.uint8).reshape(1, 3, 2, 2)


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    """What `environment()` of the fixture saw in its child (one child for all the tests below)."""
    outside = tmp_path_factory.mktemp("data") / "data.pkl"
    outside.write_bytes(b"course data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
        patch.setenv("GITHUB_TOKEN", "secret")
        run = call("sandbox_environment", "environment", str(outside), SENT, seed=3, limits=Limits(threads=2))
    assert run.status == "ok", run.error
    assert outside.read_bytes() == b"course data"
    return {**run.value["result"], "run": run}


def test_tensors_travel_both_ways_unchanged(seen):
    assert type(seen["echo"]) is torch.Tensor
    assert torch.equal(seen["echo"], SENT)


def test_seed_comes_from_args(seen):
    torch.manual_seed(3)
    assert torch.equal(seen["draw"], torch.empty(3).uniform_())


def test_child_runs_in_an_empty_scratch_folder_with_a_scrubbed_environment(seen):
    assert seen["cwd_entries"] == []
    assert not {"HTTPS_PROXY", "GITHUB_TOKEN", "PYTHONPATH"} & set(seen["variables"])
    assert seen["threads"] == 2
    assert seen["grad_enabled"] is False
    assert (
        Path(seen["model_file"]).parent != (SUBMISSIONS / "sandbox_environment" / "Miniproject_2").resolve()
    )


def test_the_graders_files_are_not_there_for_the_child(seen):
    if not seen["run"].filesystem_isolated:
        pytest.skip("this OS does not let the child have a mount namespace of its own")
    assert (seen["write_outside"], seen["write_scratch"]) == ("FileNotFoundError", "written")


def test_network_is_cut_when_the_report_says_so(seen):
    if not seen["run"].network_isolated:
        pytest.skip("this OS does not let the child leave the network namespace")
    assert seen["connect"] == "OSError"


class Shiny(torch.Tensor):
    pass


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"a": [1, 2.5, None, True, "x", (torch.zeros(2),)]}, None),
        ({"a": AlwaysEqual()}, f"value['a'] (a {__name__}.AlwaysEqual)"),
        ({"a": [torch.zeros(1).as_subclass(Shiny)]}, f"value['a'][0] (a {__name__}.Shiny)"),
        ({1.5: 0}, "value (key of type float)"),
        ({"n": type("Int", (int,), {})(3)}, f"value['n'] (a {__name__}.Int)"),
    ],
    ids=["plain", "eq-cheat", "tensor-subclass", "float-key", "int-subclass"],
)
def test_unsupported_data_names_the_first_offender(value, found):
    assert unsupported_data(value) == found


def test_plain_strips_subclasses_and_copies():
    original = torch.arange(6.0).reshape(2, 3).t().as_subclass(Shiny)
    copy = plain(original)
    assert type(copy) is torch.Tensor
    assert copy.is_contiguous()
    assert torch.equal(copy, torch.arange(6.0).reshape(2, 3).t())
    copy.zero_()
    assert original.sum().item() == 15.0


def test_describe_exception_names_the_innermost_submission_frame(tmp_path):
    package = tmp_path / "Miniproject_2"
    (package / "others").mkdir(parents=True)
    (package / "others" / "conv.py").write_text("def conv(x):\n    return x[9]\n")
    namespace: dict = {}
    exec(
        compile((package / "others" / "conv.py").read_text(), str(package / "others" / "conv.py"), "exec"),
        namespace,
    )
    with pytest.raises(IndexError) as caught:
        namespace["conv"]([1])
    assert (
        describe_exception(caught.value, package)
        == "IndexError: list index out of range (at others/conv.py:2)"
    )


def test_args_that_are_not_plain_data_are_refused_before_any_child_starts():
    with pytest.raises(TypeError, match=r"args\['path'\] \(a pathlib.PosixPath\)"):
        run_probe(CALL, SUBMISSIONS / "sandbox_environment" / "Miniproject_2", {"path": Path("/tmp")})


@pytest.mark.parametrize(
    ("fixture", "target"),
    [
        ("sandbox_segfault", "Model.predict"),
        ("sandbox_environment", "Model.fail"),
        ("sandbox_print_flood", "Model.predict"),
    ],
    ids=["crash", "exception", "ok-with-output"],
)
def test_fresh_interpreters_and_the_fork_server_agree(monkeypatch, fixture, target):
    forked = call(fixture, target, *ARGUMENTS[target])
    monkeypatch.setattr("harness.sandbox.START_METHOD", "fresh")
    fresh = call(fixture, target, *ARGUMENTS[target])
    assert (fresh.status, fresh.error, fresh.value) == (forked.status, forked.error, forked.value)
    assert fresh.stdout_tail == forked.stdout_tail


def test_traceback_names_submission_files_not_temporary_paths():
    run = call("sandbox_environment", "Model.fail")
    assert 'File "Miniproject_2/model.py", line 21, in fail' in run.traceback_tail
    assert "harness-child-" not in run.traceback_tail


# review E: the kill path can hit no process but the child's own
def test_the_cleanup_kill_of_a_reaped_child_spares_a_process_that_took_its_pid():
    """After the child is reaped its pid, and so its session and group ids, may be any new process's
    (the next child's, under load): the cleanup kill goes by cgroup or pidfd, never by those ids."""
    from types import SimpleNamespace

    from harness import sandbox

    stranger = subprocess.Popen(["sleep", "30"], start_new_session=True)  # sid == pgid == its pid
    try:
        reaped_child = SimpleNamespace(pid=stranger.pid, pidfd=None)  # as if it had reused the pid
        no_cgroup = sandbox._Cgroup([], None, None, None)
        sandbox._kill_all(reaped_child, None, no_cgroup, reaped=True)
        assert stranger.poll() is None, "an unrelated process was killed"
        sandbox._kill_all(reaped_child, None, no_cgroup, reaped=False)  # a live child: its session goes
        assert stranger.wait(10) == -signal.SIGKILL
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize(
    ("verdict", "released", "status", "fault"),
    [
        ("timeout", True, "timeout", "submission"),
        ("oom", True, "oom", "submission"),
        (None, True, "killed", "submission"),
        (None, False, "killed", "setup"),
    ],
    ids=[
        "harness-kill-for-time",
        "harness-kill-for-memory",
        "other-kill-after-release",
        "kill-before-release",
    ],
)
def test_a_sigkill_is_the_setups_fault_only_before_the_child_was_released(
    tmp_path, verdict, released, status, fault
):
    """A SIGKILL the harness did not send may be the child's own (`os.kill(os.getpid(), SIGKILL)`):
    only a child the parent had not yet released to the submission's code gets a re-run for it."""
    from harness import sandbox
    from harness.checks.model_steps.runner import child_failure
    from harness.results import Category

    fields = sandbox._collect(tmp_path, -signal.SIGKILL, verdict, "", "", 1.0, TIGHT, True, {})
    assert fields["status"] == status
    run = sandbox.ChildRun(**{**fields, "isolation": {}}, released=released)
    failed = child_failure("api.predict", Category.API, run, "predict", TIGHT)
    assert failed.fault.value == fault
    if verdict is None and released:
        assert failed.message == (
            "predict crashed: killed by SIGKILL, not sent by the harness for a limit (the kernel reports no "
            "out-of-memory kill)"
        )


def test_a_child_the_parent_was_too_slow_to_release_is_not_released(monkeypatch):
    """Past `RELEASE_BY_S` after the isolation file (a stalled parent) the parent writes no go file, so
    the warden gives up before any submission code and the run is the set-up's, never a guess."""
    from harness import sandbox

    monkeypatch.setattr(sandbox, "RELEASE_BY_S", -1.0)
    run = run_probe(
        "harness.probes.call:call", SUBMISSIONS / "attack_self_kill" / "Miniproject_2",
        {"target": "Model.train", "args": [1, 2, 3]}, TIGHT,
    )  # fmt: skip
    assert (run.status, run.released) == ("error", False)
    assert run.error.startswith("probe not run: the sandbox could not isolate the child (the parent never")
