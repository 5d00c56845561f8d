"""Specification of `rules.static`: which source constructs break which rule, under which profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.rules.judge import check_static_rules, is_allowed_torch_name, scan_package
from harness.results import Fault, Outcome

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"

# (id, model.py source, profile, expected {(rule, line)})
SOURCES = [
    (
        "allowed-imports",
        "from torch import empty, cat, arange\nfrom torch.nn.functional import fold, unfold\n",
        "strict",
        set(),
    ),
    (
        "stdlib-and-future",
        "from __future__ import annotations\nimport math, pickle\nfrom pathlib import Path\n",
        "strict",
        set(),
    ),
    ("import-torch", "import torch\n", "strict", {("torch-import", 1)}),
    ("import-torch-lenient", "import torch\n", "lenient", set()),
    ("import-torch-nn", "import torch.nn as nn\n", "strict", {("torch-import", 1)}),
    ("from-torch-zeros", "from torch import empty, zeros\n", "strict", {("torch-import", 1)}),
    ("from-torch-star", "from torch import *\n", "lenient", {("torch-import", 1)}),
    (
        "from-functional-conv2d",
        "from torch.nn.functional import unfold, conv2d\n",
        "strict",
        {("torch-import", 1)},
    ),
    ("from-torch-tensor-strict", "from torch import Tensor\n", "strict", {("torch-import", 1)}),
    ("from-torch-tensor-lenient", "from torch import Tensor\n", "lenient", set()),
    ("sigmoid-lenient", "import torch\ny = torch.sigmoid(x)\n", "lenient", {("torch-use", 2)}),
    (
        "functional-alias",
        "import torch.nn.functional as F\ny = F.conv2d(x, w)\nz = F.unfold(x, 3)\n",
        "lenient",
        {("torch-use", 2)},
    ),
    (
        "load-save-device-lenient",
        "import torch\ntorch.set_grad_enabled(False)\nd = torch.device('cpu')\n"
        "torch.save(m, p)\nm = torch.load(p)\n",
        "lenient",
        set(),
    ),
    ("optim", "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n", "lenient", {("torch-use", 2)}),
    ("numpy", "import numpy as np\n", "strict", {("third-party-import", 1)}),
    ("from-scipy", "from scipy import signal\n", "lenient", {("third-party-import", 1)}),
    (
        "requires-grad-keyword",
        "from torch import empty\nw = empty(3, requires_grad=True)\n",
        "strict",
        {("autograd", 2)},
    ),
    (
        "requires-grad-false-is-fine",
        "from torch import empty\nw = empty(3, requires_grad=False)\n",
        "strict",
        set(),
    ),
    (
        "requires-grad-attribute",
        "w.requires_grad = True\nv.requires_grad = False\n",
        "strict",
        {("autograd", 1)},
    ),
    ("requires-grad-method", "w.requires_grad_()\nv.requires_grad_(False)\n", "strict", {("autograd", 1)}),
    ("requires-grad-new-factory", "w = x.new_zeros(3, requires_grad=True)\n", "strict", {("autograd", 1)}),
    (
        "own-parameter-class-is-fine",
        "class P:\n    def __init__(self, v, requires_grad=True):\n"
        "        self.requires_grad = requires_grad\np = P(v, requires_grad=True)\n",
        "strict",
        set(),
    ),
    ("enable-grad", "import torch\nwith torch.enable_grad():\n    pass\n", "lenient", {("autograd", 2)}),
    ("set-grad-enabled-true", "import torch\ntorch.set_grad_enabled(True)\n", "lenient", {("autograd", 2)}),
    ("torch-autograd", "from torch.autograd import grad\n", "lenient", {("torch-import", 1)}),
    ("autograd-attribute", "import torch\ng = torch.autograd.grad(y, x)\n", "lenient", {("autograd", 2)}),
    (
        "own-backward-is-fine",
        "class ReLU:\n    def backward(self, g):\n        return g\nloss.backward()\nw.grad = g\n",
        "strict",
        set(),
    ),
    (
        "dunder-import-torch",
        "F = __import__('torch.nn.functional', fromlist=['x'])\n",
        "strict",
        {("dynamic-import", 1)},
    ),
    ("dunder-import-computed", "m = __import__('to' + 'rch')\n", "strict", {("dynamic-import", 1)}),
    ("dunder-import-stdlib", "m = __import__('math')\n", "strict", set()),
    (
        "importlib-torch",
        "import importlib\nF = importlib.import_module('torch.nn.functional')\n",
        "strict",
        {("dynamic-import", 2)},
    ),
    (
        "import-module-alias",
        "from importlib import import_module as im\nnp = im('numpy')\n",
        "strict",
        {("dynamic-import", 2)},
    ),
    (
        "getattr-computed",
        "import torch.nn.functional as F\nconv = getattr(F, 'con' + 'v2d')\n",
        "lenient",
        {("dynamic-import", 2), ("reflection", 2)},
    ),
    ("getattr-constant", "import torch\nsig = getattr(torch, 'sigmoid')\n", "lenient", {("torch-use", 2)}),
    ("eval", "f = eval('lambda x: x')\n", "strict", {("dynamic-code", 1)}),
    ("relative-import", "from .others.conv import Conv2d\nfrom . import others\n", "strict", set()),
    (
        "fold-globals",
        "from torch.nn.functional import fold\nconv = fold.__globals__['torch'].conv2d\n",
        "strict",
        {("reflection", 2)},
    ),
    ("sys-modules", "import sys\ntorch = sys.modules['torch']\n", "strict", {("reflection", 2)}),
    (
        "code-relabelled",
        "def f(): pass\nf.__code__ = f.__code__.replace(co_filename='x')\n",
        "strict",
        {("reflection", 2)},
    ),
    (
        "getattr-computed-on-object",
        "import math\nf = getattr(math, 'fl' + 'oor')\n",
        "strict",
        {("reflection", 2)},
    ),
    (
        "getattr-constant-reflective",
        "def f(): pass\ng = getattr(f, '__globals__')\n",
        "strict",
        {("reflection", 2)},
    ),
    ("globals-call", "g = globals()\n", "strict", {("reflection", 1)}),
    ("import-inspect", "import inspect\n", "strict", {("reflection", 1)}),
    ("import-_ctypes", "from _ctypes import dlopen\n", "strict", {("reflection", 1)}),
    ("frame-back", "import sys\nf = sys._getframe().f_back\n", "strict", {("reflection", 2)}),
    (
        "torch-function-hook",
        "def f(x, g, args):\n    return x.__torch_function__(g, (), args)\n",
        "lenient",
        {("reflection", 2)},
    ),
    ("subprocess", "import subprocess\n", "lenient", {("dynamic-code", 1)}),
    ("multiprocessing", "from multiprocessing import Pool\n", "lenient", {("dynamic-code", 1)}),
    ("os-system", "from os import system\nsystem('python -c 1')\n", "lenient", {("dynamic-code", 2)}),
    ("os-exec", "import os\nos.execv('/bin/sh', ['sh'])\n", "lenient", {("dynamic-code", 2)}),
    (
        "asyncio-subprocess",
        "import asyncio\nasync def f():\n    await asyncio.create_subprocess_exec('python')\n",
        "lenient",
        {("dynamic-code", 3)},
    ),
    (
        "process-pool",
        "from concurrent.futures import ProcessPoolExecutor\npool = ProcessPoolExecutor(2)\n",
        "lenient",
        {("dynamic-code", 2)},
    ),
    ("os-path-is-fine", "import os\nos.path.join('a', 'b')\n", "strict", set()),
    (
        "source-loader",  # code from a file the scan does not read (others/conv.txt)
        "import importlib.machinery\nm = importlib.machinery.SourceFileLoader('m', 'x.txt').load_module()\n",
        "lenient",
        {("dynamic-code", 2)},
    ),
    (
        "spec-from-file",
        "from importlib.util import spec_from_file_location\ns = spec_from_file_location('m', 'x.txt')\n",
        "lenient",
        {("dynamic-code", 2)},
    ),
    ("run-path", "import runpy\nns = runpy.run_path('others/conv.txt')\n", "lenient", {("dynamic-code", 2)}),
    (
        "marshal-function",
        "import marshal, types\nf = types.FunctionType(marshal.loads(open('c', 'rb').read()), {})\n",
        "lenient",
        {("dynamic-code", 2)},
    ),
    (
        "torch-function-hook-defined",  # a tensor subclass whose hook runs conv2d in place of matmul
        "class T:\n    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return func(*args)\n",
        "lenient",
        {("reflection", 3)},
    ),
    (
        "torch-dispatch-hook-assigned",
        "class T:\n    __torch_dispatch__ = staticmethod(print)\n",
        "lenient",
        {("reflection", 2)},
    ),
    (
        "constant-pickle",
        "import pickle\nconv = pickle.loads(b'ctorch\\nconv2d\\n.')\n",
        "lenient",
        {("reflection", 2)},
    ),
    (
        "own-attributes-by-name",
        "class B:\n    def p(self, n):\n        return getattr(self, n), vars(self), self.__dict__\n",
        "strict",
        set(),
    ),
    (
        "import-function-alias",
        "import importlib\nf = importlib.import_module\nm = f('torch.nn')\n",
        "lenient",
        {("dynamic-import", 2)},
    ),
    (
        "dunder-import-alias",
        "imp = __import__\nm = imp('torch').nn\n",
        "lenient",
        {("dynamic-import", 1)},
    ),
    (
        "resolve-name",
        "import pkgutil\nConv = pkgutil.resolve_name('torch.nn:Conv2d')\n",
        "lenient",
        {("dynamic-import", 2)},
    ),
    (
        "pydoc-locate",
        "import pydoc\nc = pydoc.locate('torch.nn.Conv2d')\n",
        "lenient",
        {("dynamic-import", 2)},
    ),
    (
        "attrgetter",
        "import operator\nimport torch\nf = operator.attrgetter('nn.functional.conv2d')(torch)\n",
        "lenient",
        {("reflection", 3)},
    ),
    (
        "from-operator-attrgetter",
        "from operator import attrgetter\nf = attrgetter(name)\n",
        "lenient",
        {("reflection", 2)},
    ),
    ("getattr-alias", "g = getattr\nf = g(x, 'conv2d')\n", "strict", {("reflection", 1)}),
    (
        "module-as-argument",  # getattr(self, name) in a plain function given torch as self
        "import torch\ndef member(self, name):\n    return getattr(self, name)\nf = member(torch, 'relu')\n",
        "lenient",
        {("reflection", 4)},
    ),
    (
        "module-as-value",
        "import torch.nn.functional as F\nfrom torch import nn\nimport os\ng = F\n"
        "def f(m=nn):\n    return os\nh = [g, {'k': F}]\n",
        "lenient",
        {("torch-import", 2), ("reflection", 4), ("reflection", 5), ("reflection", 6), ("reflection", 7)},
    ),
    (
        "module-name-shadowed-locally",  # `import loss` somewhere, a local `loss` elsewhere
        "def f(step):\n    loss = step()\n    return loss\ndef g():\n    import torch.nn as loss\n"
        "    return loss.Module\n",
        "lenient",
        {("torch-use", 6)},
    ),
    (
        "module-as-default-of-a-parameter-of-its-name",
        "import torch\ndef f(torch=torch):\n    return torch\n",
        "lenient",
        {("reflection", 2)},
    ),
    (
        "module-read-not-a-value",
        "import torch\nimport types\nfrom torch import Tensor\nok = isinstance(torch, types.ModuleType)\n"
        "x = torch.float32\ny = getattr(torch, 'float64')\n",
        "lenient",
        set(),
    ),
    (
        "computed-names-on-objects",  # 2022 code: parameters and state by name, on any object
        "def f(layer, block, state):\n    for name in ('weight', 'bias'):\n"
        "        value = getattr(layer, name, None)\n        if hasattr(block, name):\n"
        "            setattr(block, name, value)\n    d = dict(vars(block))\n"
        "    block.__dict__.update(state)\n",
        "strict",
        set(),
    ),
    (
        "computed-names-on-modules",
        "import os\nimport sys\nfrom torch.nn import functional as F\na = getattr(F, n)\nb = hasattr(os, n)\n"
        "c = vars(sys)\nd = os.__dict__\ne = vars()\nf = setattr(os.path, n, 1)\n",
        "strict",
        {("torch-import", 3), ("dynamic-import", 4), *(("reflection", line) for line in range(4, 10))},
    ),
    (
        "absolute-package-import",
        "from Miniproject_2.others import conv\nimport others.conv\n",
        "strict",
        set(),
    ),
]


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "Miniproject_2"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


@pytest.mark.parametrize(
    ("source", "profile", "expected"), [row[1:] for row in SOURCES], ids=[row[0] for row in SOURCES]
)
def test_construct(tmp_path: Path, source: str, profile: str, expected: set[tuple[str, int]]) -> None:
    package = write_package(
        tmp_path, {"__init__.py": "", "model.py": source, "others/__init__.py": "", "others/conv.py": ""}
    )
    found = {(f.rule, f.line) for f in scan_package(package, profile).findings if f.file == "model.py"}
    assert found == expected


@pytest.mark.parametrize(
    ("fixture", "profile", "outcome", "rules"),
    [
        ("rules_import_torch_nn", "strict", Outcome.FORBIDDEN, {"torch-import", "torch-use"}),
        ("rules_import_torch_nn", "lenient", Outcome.FORBIDDEN, {"torch-use"}),
        ("rules_hidden_conv2d", "strict", Outcome.FORBIDDEN, {"dynamic-import"}),
        ("rules_autograd", "lenient", Outcome.FORBIDDEN, {"autograd"}),
        ("rules_numpy", "lenient", Outcome.FORBIDDEN, {"third-party-import"}),
        ("rules_lenient_torch", "strict", Outcome.FORBIDDEN, {"torch-import", "torch-use"}),
        ("rules_lenient_torch", "lenient", Outcome.PASS, set()),
        ("rules_test_script", "strict", Outcome.PASS, set()),
        ("sandbox_syntax_error", "strict", Outcome.ERROR, set()),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_fixture_submission(fixture: str, profile: str, outcome: Outcome, rules: set[str]) -> None:
    result = check_static_rules(SUBMISSIONS / fixture / "Miniproject_2", profile)
    assert result.outcome is outcome
    counted = [f for f in result.details["findings"] if f["counted"]]
    assert {f["rule"] for f in counted} == rules
    assert result.fault is (Fault.NONE if outcome is Outcome.PASS else Fault.SUBMISSION)
    if counted:
        first = counted[0]
        assert result.message.startswith(f"{first['file']}:{first['line']}: ")


def test_findings_in_files_model_py_never_imports_do_not_count() -> None:
    result = check_static_rules(SUBMISSIONS / "rules_test_script" / "Miniproject_2", "strict")
    ignored = {(f["file"], f["line"], f["rule"]) for f in result.details["findings"]}
    assert ("others/test_relu.py", 2, "torch-import") in ignored
    assert all(not f["counted"] for f in result.details["findings"])
    assert "others/test_relu.py" in result.message


@pytest.mark.parametrize(
    ("files", "counted"),
    [
        ({"model.py": "from .others import helper\n"}, True),
        ({"model.py": "from .others.helper import f\n"}, True),
        ({"model.py": "import others.helper\n"}, True),
        ({"model.py": "from .others import other\n"}, False),
        ({"model.py": "import importlib\nm = importlib.import_module(name)\n"}, True),
        ({"model.py": "x = 1\n", "__init__.py": "from .others import helper\n"}, True),
        ({"model.py": "import sys\nsys.path.insert(0, 'others')\nfrom helper import f\n"}, True),
        ({"model.py": "import sys\nsys.path.insert(0, 'others')\nimport antigravity\n"}, True),
    ],
    ids=[
        "from-package-import-module",
        "from-module-import-name",
        "absolute",
        "other-module",
        "computed-import-counts-everything",
        "via-__init__",
        "through-sys-path",
        "through-sys-path-under-a-standard-library-name",
    ],
)
def test_reachability(tmp_path: Path, files: dict[str, str], counted: bool) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "others/__init__.py": "",
            "others/other.py": "",
            "others/helper.py": "import torch\n",
            "others/antigravity.py": "from .helper import x\n",  # imported as `antigravity`: shadows it
            **files,
        },
    )
    [finding] = [f for f in scan_package(package).findings if f.file == "others/helper.py"]
    assert finding.counted is counted


@pytest.mark.parametrize(
    ("module", "flagged"),
    [("helpers", False), ("tabulate", True)],
    ids=["own-file", "own-file-under-an-installed-name"],
)
def test_a_package_file_imported_through_sys_path_is_not_third_party(
    tmp_path: Path, module: str, flagged: bool
) -> None:
    """2022 code puts `others/` on `sys.path` and imports its files by bare name: that is the package's
    own code, unless an installed module of that name would be imported instead (appended folders come
    last)."""
    model = (
        f"import os, sys\nsys.path.append(os.path.dirname(__file__) + '/others')\nfrom {module} import f\n"
    )
    package = write_package(
        tmp_path,
        {"__init__.py": "", "others/__init__.py": "", f"others/{module}.py": "f = 1\n", "model.py": model},
    )
    rules = {f.rule for f in scan_package(package).findings if f.counted}
    assert ("third-party-import" in rules) is flagged


def test_main_block_findings_do_not_count(tmp_path: Path) -> None:
    source = (
        "from torch import empty\n"
        "if '__main__' == __name__:\n"
        "    import torch\n"
        "    from .others.helper import f\n"
        "    print(torch.sigmoid(empty(1)))\n"
        "else:\n"
        "    import numpy\n"
    )
    package = write_package(tmp_path, {"model.py": source, "others/helper.py": "import scipy\n"})
    scan = scan_package(package)
    assert {(f.file, f.line, f.counted) for f in scan.findings} == {
        ("model.py", 3, False),
        ("model.py", 5, False),
        ("model.py", 7, True),
        ("others/helper.py", 1, False),
    }


@pytest.mark.parametrize(
    "store",
    [
        "_n, __name__ = __name__, '__main__'",
        "__name__ = '__main__'",
        "__name__ += ''",
        "globals()['__name__'] = '__main__'",
        "import sys\nsetattr(sys.modules[_n], '__name__', '__main__')",
        "import Miniproject_2.model as me\nme.__name__ = '__main__'",
        "from os import sep as __name__",
        "for __name__ in ['__main__']: pass",
    ],
)
def test_a_store_to_dunder_name_counts_and_so_does_the_main_block(tmp_path: Path, store: str) -> None:
    """A file that binds `__name__` may run its `__main__` block on import (review 3, finding 2)."""
    source = f"_n = __name__\n{store}\nif __name__ == '__main__':\n    import subprocess\n"
    package = write_package(tmp_path, {"model.py": source})
    counted = {f.message for f in scan_package(package, "lenient").counted}
    assert any("stores to `__name__`" in message for message in counted)
    assert any("`import subprocess`" in message for message in counted)


def test_finding_carries_the_source_line(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"model.py": "x = 1\n    \nimport numpy as np  # for speed\n"})
    [finding] = scan_package(package).findings
    assert (finding.file, finding.line, finding.code) == ("model.py", 3, "import numpy as np  # for speed")


def test_no_model_py_is_missing(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"__init__.py": ""})
    assert check_static_rules(package).outcome is Outcome.MISSING


@pytest.mark.parametrize(
    ("name", "profile", "allowed"),
    [
        ("torch.empty", "strict", True),
        ("torch.nn.functional.unfold", "strict", True),
        ("torch.nn.functional.conv2d", "strict", False),
        ("torch.load", "strict", False),
        ("torch.load", "lenient", True),
        ("torch.cuda.is_available", "lenient", True),
        ("torch.cuda.synchronize", "lenient", False),
        ("torch.emptyish", "strict", False),
    ],
)
def test_allow_list(name: str, profile: str, allowed: bool) -> None:
    assert is_allowed_torch_name(name, profile) is allowed


def test_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown rule profile"):
        scan_package(write_package(tmp_path, {"model.py": ""}), "loose")


def test_reference_is_clean_under_strict() -> None:
    result = check_static_rules(REPO / "Miniproject_2", "strict")
    assert result.outcome is Outcome.PASS, result.message
    assert result.details["findings"] == []


def _pickled(package: Path, name: str, value: object, zipped: bool) -> None:
    import pickle

    import torch

    if zipped:
        torch.save(value, package / name)
    else:
        (package / name).write_bytes(pickle.dumps(value, protocol=4))


@pytest.mark.parametrize("zipped", [True, False], ids=["torch-save-zip", "plain-pickle"])
def test_pickles_that_reference_forbidden_callables_are_flagged(tmp_path: Path, zipped: bool) -> None:
    import operator

    import torch

    package = write_package(
        tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n", "others/a.py": ""}
    )
    _pickled(package, "bestmodel.pth", {"w": torch.ones(2)}, zipped)  # a plain state dict: allowed
    _pickled(package, "others/net.pkl", torch.nn.Conv2d(1, 1, 1), zipped)
    _pickled(
        package,
        "others/f.pkl",
        {"f": torch.nn.functional.relu, "g": torch.nn.functional.conv2d, "h": operator.attrgetter("x")},
        zipped,
    )
    result = check_static_rules(package, "lenient")
    assert result.outcome is Outcome.FORBIDDEN
    found = {(f["file"], f["code"]) for f in result.details["findings"] if f["rule"] == "pickled-reference"}
    assert ("others/net.pkl", "GLOBAL torch.nn.modules.conv Conv2d") in found
    assert ("others/f.pkl", "GLOBAL torch.nn.functional relu") in found
    builtins = "__builtin__" if zipped else "builtins"  # torch.save writes pickle protocol 2
    assert ("others/f.pkl", f"GLOBAL {builtins} getattr") in found  # how a C function (conv2d) is pickled
    assert ("others/f.pkl", "GLOBAL operator attrgetter") in found
    assert not any(file == "bestmodel.pth" for file, _ in found)
    assert all(f["counted"] and "byte " in f["message"] for f in result.details["findings"])


def _legacy_save(value: object, protocol: int) -> bytes:
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer, pickle_protocol=protocol, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _zip_save(value: object, protocol: int) -> bytes:
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer, pickle_protocol=protocol)
    return buffer.getvalue()


def _zipped(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _tarred(entries: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _pickle(value: object, protocol: int) -> bytes:
    import pickle

    return pickle.dumps(value, protocol=protocol)


def _relu() -> object:
    import torch

    return {"act": torch.nn.functional.relu}


def _upsample() -> object:
    import torch

    return {"up": torch._C._nn.upsample_nearest2d, "loss": torch._C._nn.mse_loss}


# (id, bytes of bestmodel.pth, the GLOBAL that must be found): how a pickle can hide a forbidden name
HIDDEN_PICKLES = [
    ("protocol-0", lambda: _pickle(_relu(), 0), "GLOBAL torch.nn.functional relu"),
    ("protocol-1", lambda: _pickle(_relu(), 1), "GLOBAL torch.nn.functional relu"),
    ("torch-save-protocol-0", lambda: _zip_save(_relu(), 0), "GLOBAL torch.nn.functional relu"),
    ("legacy-torch-save-protocol-0", lambda: _legacy_save(_relu(), 0), "GLOBAL torch.nn.functional relu"),
    ("torch-c-nn", lambda: _zip_save(_upsample(), 2), "GLOBAL torch._C._nn upsample_nearest2d"),
    ("torch-function-by-hand", lambda: b"\x80\x02ctorch\nconv2d\n.", "GLOBAL torch conv2d"),
    ("torch-ops", lambda: b"ctorch.ops.aten\nconvolution\n.", "GLOBAL torch.ops.aten convolution"),
    (
        "attribute-path",  # protocol 4 resolves a dotted name attribute by attribute
        lambda: b"\x80\x04cMiniproject_2.model\ntorch.nn.functional.conv2d\n.",
        "GLOBAL Miniproject_2.model torch.nn.functional.conv2d",
    ),
    (
        "nested-in-bytes",  # torch.storage._load_from_bytes(b) is torch.load(b): a whole file in a constant
        lambda: (
            b"\x80\x04ctorch.storage\n_load_from_bytes\nC"
            + bytes([len(inner := _pickle(_relu(), 2))])
            + inner
            + b"\x85R."
        ),
        "GLOBAL torch.nn.functional relu",
    ),
    (
        "zip-entry-not-pkl",
        lambda: _zipped({"weights/blob.bin": _pickle(_relu(), 4)}),
        "GLOBAL torch.nn.functional relu",
    ),
    (
        "pickle-with-a-zip-appended",  # zipfile finds the zip at the end; torch.load reads the pickle first
        lambda: _legacy_save(_relu(), 2) + _zipped({"x.txt": b"x"}),
        "GLOBAL torch.nn.functional relu",
    ),
    ("legacy-tar", lambda: _tarred({"pickle": _pickle(_relu(), 2)}), "GLOBAL torch.nn.functional relu"),
    ("code-from-bytes", lambda: b"ctypes\nFunctionType\n(cmarshal\nloads\n.", "GLOBAL types FunctionType"),
    ("a-program", lambda: b"cos\nsystem\n(Vpython -c 'import torch.nn'\ntR.", "GLOBAL os system"),
    (
        "the-graders-code",  # BUILD on the class would replace the recorder's methods
        lambda: b"charness.tracing\nTorchCallRecorder\n(d(V__torch_function__\ncbuiltins\nprint\ndtb.",
        "GLOBAL harness.tracing TorchCallRecorder",
    ),
]


@pytest.mark.parametrize(
    ("data", "code"), [row[1:] for row in HIDDEN_PICKLES], ids=[r[0] for r in HIDDEN_PICKLES]
)
def test_a_pickle_hides_no_forbidden_name_in_any_format(tmp_path: Path, data, code: str) -> None:
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n"})
    (package / "bestmodel.pth").write_bytes(data())
    result = check_static_rules(package, "lenient")
    found = [f for f in result.details["findings"] if f["rule"] == "pickled-reference"]
    assert code in {f["code"] for f in found}, found
    assert result.outcome is Outcome.FORBIDDEN and all(f["file"] == "bestmodel.pth" for f in found)


def _state() -> object:
    import collections

    import torch

    generator = torch.Generator().manual_seed(0)
    weights = collections.OrderedDict(w=torch.randn(3, 3, generator=generator), n=torch.arange(4))
    return {"state": weights, "dtype": torch.float64, "device": torch.device("cpu"), "size": torch.Size([3])}


# (id, bytes of bestmodel.pth): what torch.save and pickle write for weights, in every format
WEIGHT_FILES = [
    *((f"pickle-protocol-{p}", lambda p=p: _pickle(_state(), p)) for p in range(6)),
    *((f"torch-save-protocol-{p}", lambda p=p: _zip_save(_state(), p)) for p in (0, 2, 4)),
    *((f"legacy-torch-save-protocol-{p}", lambda p=p: _legacy_save(_state(), p)) for p in (0, 2)),
]


@pytest.mark.parametrize("data", [row[1] for row in WEIGHT_FILES], ids=[row[0] for row in WEIGHT_FILES])
def test_weights_in_any_format_are_no_finding(tmp_path: Path, data) -> None:
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n"})
    (package / "bestmodel.pth").write_bytes(data())
    result = check_static_rules(package, "strict")
    assert result.outcome is Outcome.PASS, result.details["findings"]


def test_a_torchscript_archive_is_flagged(tmp_path: Path) -> None:
    """torch.load hands an archive with constants.pkl to torch.jit.load: TorchScript code the scan cannot
    read, running torch.nn.functional.conv2d and anything else."""
    import io

    import torch

    class Net(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(x)

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Net()), buffer)
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n"})
    (package / "bestmodel.pth").write_bytes(buffer.getvalue())
    result = check_static_rules(package, "lenient")
    assert result.outcome is Outcome.FORBIDDEN
    [finding] = [f for f in result.details["findings"] if f["code"].startswith("TorchScript")]
    assert "torch.jit" in finding["message"] and finding["file"] == "bestmodel.pth"


@pytest.mark.parametrize(
    "name", ["others/fast.cpython-311-x86_64-linux-gnu.so", "fast.abi3.so", "others/f.pyd"]
)
def test_a_compiled_extension_module_is_flagged(tmp_path: Path, name: str) -> None:
    """`from .others import fast` imports a .so: code the scan cannot read, whose C++ calls into ATen
    (`at::conv2d`) the run-time recorder never sees."""
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from .others import fast\n"})
    (package / name).parent.mkdir(parents=True, exist_ok=True)
    (package / name).write_bytes(b"\x7fELF")
    result = check_static_rules(package, "lenient")
    assert result.outcome is Outcome.FORBIDDEN
    assert result.message == f"{name}:0: a compiled extension module: code the rule checks cannot read"


def test_the_2022_whole_network_pickle_is_no_finding() -> None:
    """A student's own classes in a pickle are the package's code, which the scan reads as source."""
    result = check_static_rules(SUBMISSIONS / "verdict_pickled_network" / "Miniproject_2", "lenient")
    assert result.outcome is Outcome.PASS, result.message


class _Resolved:
    """Unpickles as `resolver(dotted)`: a stdlib function that imports a name given as data."""

    def __init__(self, resolver: object, dotted: str) -> None:
        self.resolver, self.dotted = resolver, dotted

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return self.resolver, (self.dotted,)


@pytest.mark.parametrize("resolver", ["logging.config._resolve", "pydoc.safeimport"])
def test_a_pickled_stdlib_name_resolver_is_flagged(tmp_path: Path, resolver: str) -> None:
    """Names outside torch are an allow-list (review 3, finding 3): a deny-list missed stdlib helpers that
    import a dotted name (`logging.config._resolve("torch.nn.functional.conv2d")`)."""
    import importlib
    import pickle

    module, _, name = resolver.rpartition(".")
    value = _Resolved(getattr(importlib.import_module(module), name), "torch.nn.functional.conv2d")
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n"})
    (package / "others" / "cache.pkl").parent.mkdir(parents=True, exist_ok=True)
    (package / "others" / "cache.pkl").write_bytes(pickle.dumps({"conv": value}, protocol=2))
    result = check_static_rules(package, "lenient")
    assert result.outcome is Outcome.FORBIDDEN
    assert f"`{resolver}` is pickled" in result.message


@pytest.mark.parametrize(("protocol", "zipped"), [(2, True), (2, False), (4, False), (5, False)])
def test_a_whole_model_with_rng_states_dates_and_devices_is_no_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protocol: int, zipped: bool
) -> None:
    """The reviewer's "held" pickle: `torch.save(model)` of the package's own class holding torch's and
    numpy's and random's generator states, a device, a dtype, a date, a path and ordered dicts."""
    import collections
    import datetime
    import random
    import sys
    import types

    import numpy
    import torch

    own = types.ModuleType("Miniproject_2.model")

    class Model:
        pass

    Model.__module__, Model.__qualname__ = own.__name__, "Model"
    own.Model = Model
    monkeypatch.setitem(sys.modules, own.__name__, own)
    model = Model()
    model.__dict__.update(
        rng=torch.get_rng_state(),
        numpy_rng=numpy.random.get_state(),
        random_state=random.getstate(),
        device=torch.device("cpu"),
        dtype=torch.float32,
        saved=datetime.datetime.now(tz=datetime.timezone.utc),
        took=datetime.timedelta(seconds=3),
        path=Path("bestmodel.pth"),
        state=collections.OrderedDict(weight=torch.ones(2, 2)),
        history=collections.defaultdict(list, loss=[0.5]),
        scores=numpy.arange(3.0),
    )
    package = write_package(tmp_path, {"__init__.py": "", "model.py": "from torch import empty\n"})
    torch.save(
        model, package / "bestmodel.pth", pickle_protocol=protocol, _use_new_zipfile_serialization=zipped
    )
    result = check_static_rules(package, "lenient")
    assert result.outcome is Outcome.PASS, result.details["findings"]
