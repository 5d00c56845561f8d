"""The child side of `harness.sandbox.run_probe`: isolate, import the submission, run one probe.

Run as `python -m harness.probes.child SPEC.json` (the sandbox starts it through a bootstrap that puts
only the harness on `sys.path`). SPEC names the probe, the package copy, the scratch folder and the
files to exchange. The child writes two files the parent reads:

- the isolation file (JSON), before any submission code runs: which OS isolation steps took effect
  (it then waits for the parent's go file, see `harness.sandbox`);
- the result file (`torch.save` of {"status", "value", "error", "traceback"}), where status is
  "ok", "error" or "oom". The parent loads it with `weights_only=True` and checks it again.

It then leaves with `os._exit`, so atexit handlers and destructors of the submission cannot run after
the result is written. Anything the submission prints goes to the parent's pipes, never into the result.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.probes.capture import describe_exception, unsupported_data
from harness.probes.isolation import isolate, limit_resources
from harness.probes.stand_ins import import_with_stand_ins

TRACEBACK_CHARS = 4000
GO_WAIT_S = 10.0
ALLOCATION_FAILURES = ("can't allocate memory", "not enough memory", "out of memory")


def main(argv: list[str] | None = None) -> None:
    """Isolate this process, run the probe SPEC names, write the result file, exit."""
    spec = json.loads(Path((argv or sys.argv)[1]).read_text())
    isolation = isolate(Path(spec["root"]))
    Path(spec["isolation_file"]).write_text(json.dumps(isolation))
    _wait_for(Path(spec["go_file"]))
    limit_resources(spec["address_space_mb"])
    os.chdir(spec["scratch"])
    sys.path[:] = [spec["package_root"]] + [entry for entry in sys.path if entry not in ("", ".")]

    import torch

    args = torch.load(spec["args_file"], weights_only=True)
    torch.set_grad_enabled(False)
    torch.set_num_threads(spec["threads"])
    seed = args.get("seed", 0)
    torch.manual_seed(seed)
    random.seed(seed)
    probe = _resolve(spec["probe"])
    outcome = _run(probe, args, Path(spec["package_root"]) / "Miniproject_2", spec["import_model"])
    try:
        torch.save(outcome, spec["result_file"])
    except Exception as exc:  # the value could not be serialised: report that instead
        outcome = {"status": "error", "value": None, "error": f"probe result could not be saved: {exc}"}
        torch.save({**outcome, "traceback": ""}, spec["result_file"])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _wait_for(go_file: Path) -> None:
    """Wait until the parent has seen this process isolated (it writes `go_file`); at most `GO_WAIT_S`."""
    deadline = time.monotonic() + GO_WAIT_S
    while not go_file.exists() and time.monotonic() < deadline:
        time.sleep(0.001)


def _resolve(probe: str) -> Callable[[ModuleType | None, dict[str, Any]], Any]:
    """The function named by "harness.probes.<module>:<function>"."""
    module_name, _, function_name = probe.partition(":")
    if not module_name.startswith("harness.probes.") or not function_name:
        raise ValueError(f"probe {probe!r} is not of the form harness.probes.<module>:<function>")
    return getattr(importlib.import_module(module_name), function_name)


def _run(
    probe: Callable[[ModuleType | None, dict[str, Any]], Any],
    args: dict[str, Any],
    package_dir: Path,
    import_model: bool,
) -> dict[str, Any]:
    """Import the submission's model.py (unless told not to), call the probe, and describe the outcome."""
    model = None
    try:
        if import_model:
            model = import_with_stand_ins("Miniproject_2.model", package_dir)
            imported_from = Path(model.__file__ or "").resolve()
            if package_dir.resolve() not in imported_from.parents:
                return _failure(f"Miniproject_2.model was imported from {imported_from}, not the submission")
        value = probe(model, args)
    except BaseException as exc:  # the submission may raise anything, SystemExit included
        return _failure(describe_exception(exc, package_dir), exc, _is_allocation_failure(exc))
    problem = unsupported_data(value)
    if problem is not None:
        return _failure(f"probe returned unsupported data: {problem}")
    return {"status": "ok", "value": value, "error": "", "traceback": ""}


def _failure(error: str, exc: BaseException | None = None, out_of_memory: bool = False) -> dict[str, Any]:
    trace = "" if exc is None else "".join(traceback.format_exception(exc))[-TRACEBACK_CHARS:]
    return {"status": "oom" if out_of_memory else "error", "value": None, "error": error, "traceback": trace}


def _is_allocation_failure(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(text in str(exc) for text in ALLOCATION_FAILURES)


if __name__ == "__main__":
    main()
