"""Integrity of `harness check` (issue 8): each attack of `tests/submissions/attack_*` is blocked.

A submission may raise its score only by being correct, and never touch the grader. Each test runs one
attack fixture (a minimal package with one hostile change) and asserts that it is blocked, that the
verdict names it, and that the harness survives and writes its report. Each assertion fails when the
protection it stands for is removed (the comment above each test names it). Where a protection is an
OS layer that this machine cannot give (not root, no namespaces), the test is skipped with the reason,
and the report's sandbox row says the same.
"""

from __future__ import annotations

import errno
import json
import os
import py_compile
import shutil
import socket
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from importlib.util import cache_from_source
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import harness
from harness import sandbox
from harness.check import PUBLIC_VAL_WARNING, check_submission
from harness.checks.model_steps.runner import child_failure
from harness.checks.rules.judge import check_static_rules
from harness.checks.timing import judge as timing
from harness.context import CheckContext
from harness.dataset import PUBLIC_VAL_NOTE, load_val
from harness.errors import SubmissionError
from harness.probes.capture import MAX_RESULT_BYTES, printable, unsupported_data
from harness.probes.isolation import visible_paths
from harness.probes.zygote import REQUEST_TIMEOUT_S
from harness.report import Report, validate_report_json, write_reports
from harness.reproducibility import sha256_file
from harness.results import Category, Fault, Outcome
from harness.sandbox import Limits, run_probe
from harness.submission import MAX_ENTRIES, TOO_DEEP, resolve_submission, safe_name
from tests.model_fixtures import REFERENCE, SUBMISSIONS, reference_variant, tight_rubric, write_course_data
from tests.processes import all_gone

CALL = "harness.probes.call:call"
LIMITS = Limits(wall_s=30, memory_mb=1536)
RUBRIC = tight_rubric(wall_s=15, memory_mb=1536)
API, RULES, RUNTIME, PSNR = "api", "rules", "runtime-rules", "psnr"


def call(package: Path | str, target: str, *arguments: object) -> sandbox.ChildRun:
    package = SUBMISSIONS / package / "Miniproject_2" if isinstance(package, str) else package
    return run_probe(CALL, package, {"target": target, "args": list(arguments)}, LIMITS)


def layers() -> dict[str, bool]:
    """The isolation layers a child gets on this machine (from a child that runs nothing)."""
    return dict(call("sandbox_os_exit", "Model.predict", 1).isolation)


def needs(*wanted: str) -> None:
    """Skip when this machine cannot give a child one of the `wanted` layers at all; otherwise the
    layers must hold (a child without one would not run: the sandbox fails closed)."""
    unavailable = [layer for layer in wanted if layer not in sandbox.required_layers()]
    if unavailable:
        pytest.skip(f"this machine cannot give a child these layers: {', '.join(unavailable)}")
    held = layers()
    assert all(held[layer] for layer in wanted), held


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("attack-data")
    write_course_data(folder, train=64, val=16)
    return folder


def graded(path: Path, data: Path, groups: tuple[str, ...], out: Path, **options: object) -> Report:
    """`check_submission` of `path`, its reports written to `out` (JSON validated, Markdown read back)."""
    report = check_submission(path, data, RUBRIC, reference_dir=None, groups=groups, **options)
    written = write_reports(report, [s.result for s in report.checks], out, ("md", "json"))
    validate_report_json(json.loads(written["json"].read_text()))
    assert written["md"].read_text()
    return report


def results(report: Report) -> dict[str, object]:
    return {scored.result.id: scored.result for scored in report.checks}


# item 1: the result comes from the warden into a folder the runner's uid cannot write
def test_a_forged_result_file_is_never_read(data, tmp_path):
    needs("uid")
    run = call("attack_forged_result", "Model.predict", 1)
    assert (run.status, run.value) == ("crash", None)
    assert run.error == "exited with code 0 without reporting a result"
    report = graded(SUBMISSIONS / "attack_forged_result", data, (API,), tmp_path)
    imported = results(report)["api.import-names"]
    assert imported.outcome is Outcome.CRASH
    assert "exited with code 0 without reporting a result" in imported.message


# item 1: the parent's wall time and the kernel's CPU time, not the child's clocks
def test_slowed_clocks_do_not_change_what_the_parent_measures():
    run = call("attack_slow_clock", "Model.train", [0] * 400, None, 1)  # 2.5 ms of CPU per pair
    assert run.status == "ok", run.error
    assert run.cpu_s >= 0.9
    assert run.duration_s >= 0.9
    with_cpu_account = any(version == "v2" for _, version in sandbox._cgroup_bases())
    assert run.cpu_source == ("cgroup" if with_cpu_account else "rusage")


# item 1 (hostile review): every timing child makes one train call, a first call as every graded call
# is, so a train that works only on its first call is timed as what it is
def test_a_train_that_works_only_on_its_first_call_is_timed_like_the_reference(tmp_path):
    """attack_train_once is the reference with a train that returns at once after its first call:
    timed beside the reference, its ratio to it is about 1 (a timed second call gave about 0)."""
    package = reference_variant("attack_train_once", tmp_path / "attack_train_once")
    train_path, val_path = write_course_data(tmp_path / "data", train=800, val=16)
    submission = resolve_submission(package.parent, tmp_path / "work")
    ctx = CheckContext(submission, train_path, val_path, RUBRIC, 0, REFERENCE)
    plan = timing.Plan(rounds=1, min_timed_pairs=400, max_timed_pairs=400, predict_images=8)
    train, _ = timing.run(ctx, plan)
    assert train.outcome is Outcome.PASS and train.details["counts"] == [400, 800], train.message
    assert train.details["reference_ratio"] > 0.25, train.message  # 0.41 seen once; the hole: 0.0


# hostile review 3, finding 4: each train timing child predicts once after its train (the same in both
# children), so training a lazy train defers to the next predict is timed
def test_a_train_that_defers_its_work_to_predict_is_timed_like_the_reference(tmp_path):
    """attack_lazy_train is the reference with a train that only stores its arguments and a predict
    that trains first: timed beside the reference, its ratio to it is about 1 (the train call alone
    gave about 0)."""
    package = reference_variant("attack_lazy_train", tmp_path / "attack_lazy_train")
    train_path, val_path = write_course_data(tmp_path / "data", train=800, val=16)
    submission = resolve_submission(package.parent, tmp_path / "work")
    ctx = CheckContext(submission, train_path, val_path, RUBRIC, 0, REFERENCE)
    plan = timing.Plan(rounds=1, min_timed_pairs=400, max_timed_pairs=400, predict_images=8)
    train, _ = timing.run(ctx, plan)
    assert train.outcome is Outcome.PASS and train.details["counts"] == [400, 800], train.message
    assert train.details["reference_ratio"] > 0.5, train.message


# hostile review 3, finding 5: the rounds' base counts differ (400, 800), and rounds that disagree beyond
# noise give the larger estimate, so a cost paid only on the 400-pair count is not subtracted away
def test_a_cost_paid_only_on_the_base_count_does_not_hide_the_timed_pairs(tmp_path):
    """attack_base_count_cost is the reference with a train that spins as long again on 400 pairs: its
    first round (400 against 800 pairs) costs about 0, its second (800 against 1200) about the
    reference's; the rounds disagree and the estimate takes the second, about 1x the reference."""
    package = reference_variant("attack_base_count_cost", tmp_path / "attack_base_count_cost")
    train_path, val_path = write_course_data(tmp_path / "data", train=1200, val=16)
    submission = resolve_submission(package.parent, tmp_path / "work")
    ctx = CheckContext(submission, train_path, val_path, RUBRIC, 0, REFERENCE)
    plan = timing.Plan(rounds=2, min_timed_pairs=400, max_timed_pairs=400, predict_images=8)
    train, _ = timing.run(ctx, plan)
    assert train.outcome is Outcome.PASS, train.message
    assert train.details["round_counts"] == [[400, 800], [800, 1200]], train.details
    assert train.details["rounds_disagree"] and "largest of 2 (the rounds disagree)" in train.message
    assert train.details["reference_ratio"] > 0.5, train.message


# item 2: reflective_access (static); every thread traced, frames found by their module globals,
# a step that fails only while recorded (run-time)
def test_torch_reached_by_reflection_threads_and_relabelled_code_is_forbidden(data, tmp_path):
    report = graded(SUBMISSIONS / "attack_hidden_torch", data, (RULES, RUNTIME), tmp_path)
    static, runtime = results(report)["rules.static"], results(report)["rules.runtime"]
    assert static.outcome is Outcome.FORBIDDEN
    reflection = {f["code"] for f in static.details["findings"] if f["rule"] == "reflection"}
    relabelling = "_sigmoid.__code__ = _sigmoid.__code__.replace(co_filename=torch.__file__)"
    assert {'torch = sys.modules["torch"]', relabelling} <= reflection
    assert runtime.outcome is Outcome.FORBIDDEN
    found = {(f["entry"], f["step"]) for f in runtime.details["findings"]}
    assert ("torch.nn.functional.conv2d", "conv2d.forward") in found  # from a second thread
    assert ("torch.sigmoid", "sigmoid.forward") in found  # re-labelled code
    hidden = [f for f in runtime.details["findings"] if f["rule"] == "hidden-from-recorder"]
    assert [f["step"] for f in hidden] == ["relu.forward", "relu.backward"]
    assert "relu.forward fails only while the recorder watches it" in hidden[0]["message"]


# item 2 (review a16): the recorder runs in the graded children and hands out each record at once, so
# emptying it afterwards hides nothing; a recorder popped for good is a finding of its own
def test_a_recorder_emptied_or_popped_in_a_graded_child_hides_nothing(data, tmp_path):
    report = graded(SUBMISSIONS / "attack_emptied_recorder", data, (API, RUNTIME), tmp_path)
    runtime = results(report)["rules.runtime"]
    assert runtime.outcome is Outcome.FORBIDDEN and runtime.fault is Fault.SUBMISSION
    assert "reaches torch.nn.functional.conv2d" in runtime.message
    assert "(in the graded api run)" in runtime.message
    graded_findings = {(f["source"], f["rule"], f["entry"]) for f in runtime.details["findings"]}
    assert ("api", "torch-function", "torch.nn.functional.conv2d") in graded_findings
    assert ("api", "recorder-tampered", "harness.tracing.TorchCallRecorder") in graded_findings
    own = [f for f in runtime.details["findings"] if "source" not in f]
    assert not any(f["entry"] == "torch.nn.functional.conv2d" for f in own)  # its own child saw nothing
    assert results(report)["api.predict"].outcome is Outcome.PASS  # the graded run itself went through


# item 2 (review B): import functions taken as values, resolve_name, attrgetter, and a pickle naming torch.nn
def test_torch_nn_reached_by_aliases_resolvers_and_pickles_is_forbidden(data, tmp_path):
    report = graded(SUBMISSIONS / "attack_reflective_import", data, (RULES,), tmp_path)
    static = results(report)["rules.static"]
    assert static.outcome is Outcome.FORBIDDEN and "\n" not in static.message
    found = {(f["file"], f["line"], f["rule"]) for f in static.details["findings"]}
    assert {
        ("model.py", 15, "dynamic-import"),  # find = importlib.import_module
        ("model.py", 17, "dynamic-import"),  # pkgutil.resolve_name("torch.nn:Conv2d")
        ("model.py", 18, "reflection"),  # operator.attrgetter("nn.functional.conv2d")(...)
        ("bestmodel.pth", 0, "pickled-reference"),  # GLOBAL torch.nn.modules.conv Conv2d
    } <= found
    assert "model.py:15: `importlib.import_module` taken as a value" in static.message


# item 2: __pycache__ and *.pyc are removed before any child sees the package
def test_shipped_bytecode_is_removed_before_any_child_imports_it(tmp_path):
    package = tmp_path / "attack" / "Miniproject_2"
    shutil.copytree(SUBMISSIONS / "attack_bytecode" / "Miniproject_2", package)
    hidden = package / "hidden_model.txt"
    source = tmp_path / "hidden_model.py"
    source.write_text(hidden.read_text())
    pyc = Path(cache_from_source(str(package / "model.py")))
    py_compile.compile(
        str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    shipped = subprocess.run(
        [sys.executable, "-c", "import Miniproject_2.model as m; print(m.origin())"],
        cwd=package.parent, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shipped.stdout.strip() == "bytecode"  # the attack is real: plain Python imports the .pyc
    assert call(package, "origin").value == {"result": "source"}
    submission = resolve_submission(package, tmp_path / "work")
    assert not any(f.relpath.endswith(".pyc") for f in submission.files)


# item 3: the view (nothing of the grader's files), the pid namespace (no harness in /proc)
def test_a_whole_pickled_network_loads_with_a_bare_torch_load_as_in_2022():
    """torch >= 2.6 refuses it by default; the course's torch loaded it, so the child loads it too."""
    run = call("verdict_pickled_network", "Model.loaded_scale")
    assert run.status == "ok", run.error
    assert run.value["result"] == 0.5


def test_the_child_finds_none_of_the_graders_files(tmp_path):
    needs("filesystem", "pid")
    secret = tmp_path / "val_data.pkl"
    secret.write_text("the grader's clean images")
    run = call("attack_grader_files", "look", str(secret), os.getpid())
    assert run.status == "ok", run.error
    seen = run.value["result"]
    assert seen["secret"] == "FileNotFoundError"
    assert seen["harness_cmdline"] == "FileNotFoundError"
    assert seen["checkout_data"] == "FileNotFoundError"
    assert max(seen["processes"]) < 10  # its own pid namespace: a handful of its own processes
    own = [name for name in seen["tmp"] if name.startswith("harness-child-")]
    shown_harness = [name for name in seen["tmp"] if name.startswith("harness-forkserver-")]
    assert len(own) == 1  # its own folder, the harness's code, and the folders that lead to the
    assert set(seen["tmp"]) - {*own, *shown_harness} <= _read_only_binds_under_tmp()  # view's binds
    assert len(list(Path(tempfile.gettempdir()).iterdir())) > len(seen["tmp"])


def _read_only_binds_under_tmp() -> set[str]:
    """The top folders of /tmp that the view shows because a bind lies inside them: Python, its import
    folders or the harness package, when the checkout or a virtual environment lives under /tmp."""
    tmp = Path(tempfile.gettempdir())
    shown = [Path(path) for path in visible_paths([*harness.__path__, os.path.realpath(harness.__path__[0])])]
    return {path.relative_to(tmp).parts[0] for path in shown if path != tmp and path.is_relative_to(tmp)}


# item 4: a memorised public val set scores anything; harness check says the set is public
def test_a_published_val_set_is_named_as_such(data, tmp_path, monkeypatch):
    package = tmp_path / "memorised" / "Miniproject_2"
    shutil.copytree(SUBMISSIONS / "attack_memorised_val" / "Miniproject_2", package)
    torch.save(load_val(data / "val_data.pkl"), package / "bestmodel.pth")
    lines: list[str] = []
    report = graded(package.parent, data, (PSNR,), tmp_path / "held-out", progress=lines.append)
    assert not any(line.startswith("warning:") for line in lines)
    assert results(report)["psnr.pretrained"].details["psnr_db"] > 90  # memorised: why graders hold out
    monkeypatch.setattr("harness.dataset.PUBLIC_VAL_SHA256", frozenset({sha256_file(data / "val_data.pkl")}))
    lines.clear()
    public = graded(package.parent, data, (PSNR,), tmp_path / "public", progress=lines.append)
    assert PUBLIC_VAL_WARNING.format(path=data / "val_data.pkl") in lines
    pretrained = results(public)["psnr.pretrained"]  # in the report too: `-q` silences progress lines
    assert PUBLIC_VAL_NOTE in pretrained.message and pretrained.details["public_val_set"]
    assert "the val set is a published one" in (tmp_path / "public" / "report.md").read_text()


# item 5: own uid, private /dev/shm, read-only /proc/sys and /sys, pid namespace, no /tmp of the host
def test_the_child_cannot_reach_out(tmp_path):
    needs("uid", "filesystem", "pid")
    mark = f"harness-attack-{os.getpid()}"
    server = sandbox._fork_server()
    socket_path = str(server.address) if server is not None else str(tmp_path / "socket")
    run = call("attack_escape", "escape", os.getpid(), socket_path, mark)
    assert run.status == "ok", run.error
    reached = run.value["result"]
    assert reached["shadow"] == "PermissionError"
    assert reached["shm"] == "done" and not Path("/dev/shm", mark).exists()  # its own /dev/shm, gone
    assert reached["sysctl"] in ("OSError", "PermissionError")
    assert reached["cgroup"] in ("FileNotFoundError", "OSError", "PermissionError")
    assert reached["signal"] == "ProcessLookupError"
    assert reached["harness_root"] == "FileNotFoundError"
    assert reached["socket"] == "FileNotFoundError"


# item 6: seccomp denies new user namespaces; the pid namespace and cgroup kill the daemon
def test_a_daemon_in_new_namespaces_is_refused_and_killed():
    needs("seccomp")
    run = call("attack_userns_daemon", "Model.train", 1, 2, 3)
    assert run.status == "ok", run.error
    errno, mark = run.value["result"].split()
    assert errno == "1"  # EPERM
    assert all_gone(mark)


# item 7: the fork server's socket is out of the child's sight
def test_the_child_cannot_reach_the_fork_server():
    needs("filesystem")
    server = sandbox._fork_server()
    if server is None:
        pytest.skip("no fork server on this machine")
    run = call("attack_fork_server", "forge", str(server.address))
    assert run.value == {"result": "FileNotFoundError"}


# item 7: peer credentials, own child folders only, idle requests dropped
def test_the_fork_server_serves_only_the_harness_and_its_own_child_folders():
    server = sandbox._fork_server()
    if server is None:
        pytest.skip("no fork server on this machine")
    forged = json.dumps({"spec": "/nonexistent/io/spec.json", "environment": {}}).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(server.address))
        socket.send_fds(connection, [forged], [1, 2])
        assert b"not a child folder of this harness" in connection.recv(4096)
    stranger = subprocess.run(
        [sys.executable, "-c", _STRANGER, str(server.address)], capture_output=True, text=True, timeout=60
    )
    assert stranger.stdout.strip() == "refused"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as idle:
        idle.connect(str(server.address))
        idle.settimeout(REQUEST_TIMEOUT_S * 4)
        assert idle.recv(4096).startswith(b'{"error"')  # dropped with an error, not waited on forever
    assert (
        call("sandbox_os_exit", "Model.train", 1, 2, 3).error
        == "exited with code 3 without reporting a result"
    )


_STRANGER = """
import json, socket, sys
request = json.dumps({"spec": "/tmp/x/io/spec.json", "environment": {}}).encode() + b"\\n"
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(sys.argv[1])
        socket.send_fds(connection, [request], [1, 2])
        print("answered" if connection.recv(4096) else "refused")
except OSError:
    print("refused")
"""
"""Another process of the same uid, not the harness: the server closes its connection unanswered."""


# item 7: a child missing a layer its machine should give it never runs (fail closed)
def test_a_child_missing_a_required_layer_does_not_run(monkeypatch):
    monkeypatch.setattr(sandbox, "required_layers", lambda: ("network", "user-namespace"))
    if layers().get("user-namespace"):
        pytest.skip("this machine gives children a user namespace")
    run = call("sandbox_environment", "Model.predict", 1)
    assert (run.status, run.value, run.released) == ("error", None, False)
    assert run.error == "probe not run: the sandbox could not isolate the child (user-namespace did not hold)"
    failed = child_failure("api.predict", Category.API, run, "predict", LIMITS)
    assert failed.fault is Fault.SETUP and failed.message.endswith("did not hold)): re-run it")


# whose fault (issue 7 item 10): a child's own SIGKILL is the submission's, once the child was released
def test_a_child_that_sigkills_itself_is_killed_and_at_fault():
    run = call("attack_self_kill", "Model.train", 1, 2, 3)
    assert (run.status, run.released) == ("killed", True), run.error
    assert run.error.startswith("killed by SIGKILL, not sent by the harness for a limit")
    failed = child_failure("api.train", Category.API, run, "train", LIMITS)
    assert (failed.outcome, failed.fault) == (Outcome.CRASH, Fault.SUBMISSION)


# item 8: the parent's walk of a result is bounded
def test_a_result_of_shared_lists_is_refused_not_walked():
    run = call("attack_result_bomb", "Model.predict", 1)
    assert (run.status, run.value) == ("error", None)
    assert run.error.startswith("probe returned unsupported data: value['result'][0][0]")
    assert run.error.endswith("(more than 1000000 items in all)")
    nested: list = [0]
    for _ in range(60):
        nested = [nested, nested]
    refused = unsupported_data({"status": "ok", "value": {"result": nested}}, "result")  # the parent's walk
    assert refused.endswith("(more than 1000000 items in all)")


def _zeros_package(tmp_path: Path) -> Path:
    """A package whose `predict(n)` returns n float32 zeros: a result of about 4n bytes."""
    package = tmp_path / "zeros" / "Miniproject_2"
    package.mkdir(parents=True)
    (package / "__init__.py").touch()
    (package / "model.py").write_text(
        "import torch\n\n\nclass Model:\n    def predict(self, n):\n        return torch.zeros(n)\n"
    )
    return package


# hardening: a result over MAX_RESULT_BYTES is refused by the warden, as the submission's fault
def test_a_result_over_the_byte_cap_is_refused_unread_as_the_submissions_fault(tmp_path):
    run = call(_zeros_package(tmp_path), "Model.predict", MAX_RESULT_BYTES // 4 + (1 << 20))
    assert (run.status, run.value) == ("error", None)
    assert (
        run.error
        == f"probe returned unsupported data: more than {MAX_RESULT_BYTES >> 20} MB pickled, not read"
    )
    failed = child_failure("api.predict", Category.API, run, "predict", LIMITS)
    assert (failed.outcome, failed.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert failed.message == (  # its own words: the import went fine (review F)
        "predict returned data the harness does not accept as plain tensors and values "
        f"(more than {MAX_RESULT_BYTES >> 20} MB pickled, not read)"
    )


# hardening: and by the parent, from the file's size, before anything is unpickled
def test_the_parent_refuses_a_result_file_over_the_cap_before_unpickling(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the result was unpickled")

    monkeypatch.setattr(sandbox, "MAX_RESULT_BYTES", 1000)
    monkeypatch.setattr(sandbox.torch, "load", never)
    run = call(_zeros_package(tmp_path), "Model.predict", 1000)
    assert (run.status, run.value) == ("error", None)
    assert run.error.startswith("probe returned unsupported data: ")
    assert run.error.endswith(" bytes pickled (limit 0 MB), not read")


DEPTH = 1200
DEEP = "others/" + "/".join(["a"] * DEPTH)


def _reference_copy(tmp_path: Path) -> Path:
    package = tmp_path / "folder" / "Miniproject_2"
    shutil.copytree(SUBMISSIONS / "attack_result_bomb" / "Miniproject_2", package)
    return package


def _reference_zip(tmp_path: Path, name: str) -> Path:
    package = _reference_copy(tmp_path)
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in package.rglob("*"):
            bundle.write(file, Path("Miniproject_2") / file.relative_to(package))
    return archive


# item 8: folders get the limits of zips
@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda p: (p / "others").symlink_to(p, target_is_directory=True), "others is a symbolic link"),
        (lambda p: (p / "etc").symlink_to("/etc", target_is_directory=True), "etc is a symbolic link"),
        (lambda p: [(p / str(i)).touch() for i in range(MAX_ENTRIES + 1)], f"more than {MAX_ENTRIES}"),
        (lambda p: (p / "bad\x1b[2Jname.py").touch(), "holds control characters"),
    ],
    ids=["symlink-loop", "link-to-etc", "too-many-files", "control-characters-in-a-name"],
)  # fmt: skip
def test_a_folder_over_the_limits_is_one_line_error(tmp_path, build, problem):
    package = _reference_copy(tmp_path)
    build(package)
    with pytest.raises(SubmissionError, match=problem) as raised:
        resolve_submission(package, tmp_path / "work")
    assert "\n" not in str(raised.value)


# hardening: a folder 1,200 levels deep is refused while walking (os.walk would exhaust the recursion);
# the tree is made and removed one level at a time, as pathlib and shutil would recurse too
def test_a_folder_too_deep_is_one_line_error(tmp_path):
    package = _reference_copy(tmp_path)
    levels = [str(package / "others")]
    levels += [f"{levels[0]}/{'/'.join(['a'] * depth)}" for depth in range(1, DEPTH + 1)]
    for level in levels:
        os.mkdir(level)
    try:
        with pytest.raises(SubmissionError, match=f"Miniproject_2/others/a/.*/a {TOO_DEEP}$") as raised:
            resolve_submission(package, tmp_path / "work")
        assert "\n" not in str(raised.value)
    finally:
        for level in reversed(levels):
            os.rmdir(level)


# hardening: a zip entry nested deeper than a folder may be is refused by its name, not unpacked
def test_a_zip_entry_too_deep_is_one_line_error(tmp_path):
    archive = _reference_zip(tmp_path, "deep.zip")
    with zipfile.ZipFile(archive, "a") as bundle:
        bundle.writestr(f"Miniproject_2/{DEEP}/x.py", "")
    with pytest.raises(
        SubmissionError, match=f"deep.zip: the zip entry Miniproject_2/others/a/.*/a/... {TOO_DEEP}$"
    ):
        resolve_submission(archive, tmp_path / "work")


# item 8: a zip named `...zip` is reported under a safe folder name
def test_a_zip_named_dots_is_reported_under_a_safe_name(tmp_path):
    archive = _reference_zip(tmp_path, "...zip")
    assert resolve_submission(archive, tmp_path / "work").name == "submission"


@pytest.mark.parametrize(
    ("name", "safe"),
    [("..", "submission"), ("Proj_123456_234567", "Proj_123456_234567"), ("a/../../b", "a_.._.._b"),
     (".hidden", "hidden"), ("\x1b[31mred", "_31mred")],
    ids=["dots", "proj-name", "slashes", "leading-dot", "escape"],
)  # fmt: skip
def test_safe_name(name, safe):
    assert safe_name(name) == safe


# item 8: control characters never reach the terminal or report.md
def test_escape_sequences_are_stripped_from_what_the_submission_says(data, tmp_path):
    report = graded(SUBMISSIONS / "attack_control_characters", data, (API,), tmp_path)
    predict = results(report)["api.predict"]
    assert predict.outcome is Outcome.ERROR
    assert "all checks passed: 100/100" in predict.message
    text = (tmp_path / "report.md").read_text() + json.dumps([s.result.details for s in report.checks])
    assert "\x1b" not in text and "\r" not in text and "\\u001b" not in text
    shown = "ValueError:  001/0all checks passed: 100/100 (at model.py:"  # nothing hidden kept
    assert shown in predict.message


# item 8: nor from the source lines the static rules quote
def test_escape_sequences_are_stripped_from_quoted_source(tmp_path):
    package = tmp_path / "Miniproject_2"
    package.mkdir()
    (package / "model.py").write_text("import numpy  # \x1b[2J\x1b[32mall checks passed\x1b[0m\n")
    result = check_static_rules(package)
    assert result.outcome is Outcome.FORBIDDEN
    assert [f["code"] for f in result.details["findings"]] == ["import numpy  # all checks passed"]


# item 5 (review a09): every place the child writes is one bounded tmpfs; past it, ENOSPC in the child
def test_a_child_filling_the_disk_fills_only_its_own_bounded_tmpfs(tmp_path):
    needs("filesystem")
    bound_mb = int(LIMITS.memory_mb * sandbox.WRITABLE_SHARE)
    before = shutil.disk_usage(tempfile.gettempdir()).used
    run = call("attack_disk_fill", "fill", bound_mb + 64)
    assert run.status == "ok", run.error
    seen = run.value["result"]
    assert set(seen) == {"scratch", "package", "tmpdir", "tmp", "shm"}
    assert all(place["type"] == "tmpfs" for place in seen.values()), seen
    assert seen["scratch"]["errno"] == errno.ENOSPC  # the first place fills the shared bound
    assert bound_mb - 16 <= seen["scratch"]["mb"] <= bound_mb, seen
    assert all(place["errno"] == errno.ENOSPC for place in seen.values()), seen
    assert sum(place["mb"] for place in seen.values()) <= bound_mb
    assert shutil.disk_usage(tempfile.gettempdir()).used - before < (bound_mb << 20) // 2


def test_a_disk_filling_train_is_the_submissions_enospc_in_the_report(data, tmp_path):
    needs("filesystem")
    report = graded(SUBMISSIONS / "attack_disk_fill", data, (API,), tmp_path)
    train = results(report)["api.train"]
    assert (train.outcome, train.fault) == (Outcome.ERROR, Fault.SUBMISSION)
    assert "OSError: [Errno 28] No space left on device (at model.py:" in train.message


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[1mbold\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07", "bold link"),
        ("a\rb\x08c\x7fd\x9be", "abcde"),
        ("\x1b]52;c;ZWNobyBwd25lZA==\x07x.zip \x1bP1;2qdata\x1b\\y \x1b_apc\x1b\\z", "x.zip y z"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("pass\u202e\u2066lin\u2069\u202c", "passlin"),
        ("\u061czero\u200bwidth\u200c\u200d\u200e\u200f", "zerowidth"),
        ("\u2060\u2061\u2062\u2063\u2064word\ufeff", "word"),
        ("tag\U000e0001\U000e0041\U000e007f\U000e0000", "tag"),
        ("private\ue000\U000f0000", "private"),
        ("line\u2028para\u2029", "linepara"),
        ("naïve café ünïcode → ok", "naïve café ünïcode → ok"),
    ],
    ids=["ansi", "ansi-csi-osc", "c0-c1-del", "osc52-dcs-apc", "tab-newline-kept", "bidi-overrides",
         "zero-width-alm", "invisible-operators", "tags", "private-use", "separators",
         "ordinary-unicode-kept"],
)  # fmt: skip
def test_printable_strips_what_does_not_show_as_itself(text, shown):
    assert printable(text) == shown


@given(st.text())
def test_printable_leaves_no_hidden_character(text):
    kept = printable(text)
    assert all(ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs") for ch in kept)
    assert not any(0xE0000 <= ord(ch) <= 0xE007F or unicodedata.category(ch) in ("Zl", "Zp") for ch in kept)
    assert printable(kept) == kept


_AS_NOBODY = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from harness.sandbox import Limits, run_probe
from harness.tables import sandbox_text
package = Path(sys.argv[1]) / "tests" / "submissions" / "attack_disk_fill" / "Miniproject_2"
run = run_probe("harness.probes.call:call", package, {"target": "fill", "args": [4]}, Limits(60, 1536))
print(json.dumps({"status": run.status, "error": run.error, "isolation": dict(run.isolation),
                  "value": run.value, "line": sandbox_text(run.isolation)}))
"""


def _closed_ancestor(path: Path) -> Path | None:
    """The first folder above `path` that others may not enter, None when every one is open."""
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


# platform (issue 8, "Where the harness cannot isolate"): a grader who is not root gets the layers that
# unprivileged user namespaces give, and the report's sandbox line says exactly which held
@pytest.fixture
def open_folder() -> Path:
    """A folder under the temporary folder that any user may enter (pytest's own is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="harness-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_an_unprivileged_grader_gets_the_user_namespace_layers_and_is_told_which_held(open_folder):
    if os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"):
        pytest.skip("needs root (to become an unprivileged user for the test) and setpriv/unshare")
    repo = Path(harness.__file__).resolve().parents[1]
    # a virtual environment's python links to its base interpreter, which may lie elsewhere
    pythons = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve()}
    closed = {folder for folder in map(_closed_ancestor, (*pythons, repo)) if folder}
    if len(closed) > 1 or any(repo.is_relative_to(folder) for folder in closed):
        pytest.skip(f"the checkout or Python lies in folders an unprivileged user cannot enter: {closed}")
    reopen = ""  # a closed folder above Python (a root-only ~/.pyenv): shown open in a mount namespace
    for folder in closed:
        inside = next(path for path in pythons if path.is_relative_to(folder)).relative_to(folder).parts[0]
        keep = open_folder / "kept"
        keep.mkdir()
        reopen = (f"mount --bind {folder / inside} {keep} && "
                  f"mount -t tmpfs -o mode=755,size=1m tmpfs {folder} && "
                  f"mkdir -p {folder / inside} && mount --bind {keep} {folder / inside} && ")  # fmt: skip
    script = open_folder / "as_nobody.py"
    script.write_text(_AS_NOBODY)
    script.chmod(0o644)
    command = (f"{reopen}cd / && exec setpriv --reuid 65534 --regid 65534 --clear-groups "
               f"{sys.executable} {script} {repo}")  # fmt: skip
    done = subprocess.run(["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"no mount namespace for the test itself: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(done.stdout.strip().splitlines()[-1])
    held = run["isolation"]
    if not held["user-namespace"]:
        assert (run["status"], run["value"]) != ("ok", None) or not held["filesystem"], run
        pytest.skip("this kernel gives unprivileged users no user namespace: " + run["line"])
    assert run["status"] == "ok", run["error"]
    assert {layer for layer, on in held.items() if on} >= {"user-namespace", "network", "filesystem", "pid"}
    assert not held["uid"]  # the runner keeps the grader's own uid outside its namespace
    assert run["line"].startswith("held: network, filesystem, pid") and "not held: uid" in run["line"]
    assert {place["type"] for place in run["value"]["result"].values()} == {"tmpfs"}  # bounded writes
