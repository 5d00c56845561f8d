"""The simplest probe: call one function or `Model` method of the submission and return its raw result.

`args["target"]` is either a module-level name of model.py ("make_noise") or "Model.<method>", for which
`Model()` is built first; `args["args"]` holds positional arguments. The result is returned as is, not
made plain, so the sandbox's own checks decide whether it may cross into the parent. The sandbox tests
and its start-up measurement use it; checks use their own probes.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def call(model: ModuleType | None, args: dict[str, Any]) -> dict[str, Any]:
    """{"result": target(*args["args"])}; with no model imported, {"result": None}."""
    if model is None:
        return {"result": None}
    owner, _, method = args["target"].rpartition(".")
    function = getattr(model.Model(), method) if owner == "Model" else getattr(model, method)
    return {"result": function(*args.get("args", ()))}
