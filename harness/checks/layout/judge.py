"""Checks `layout.*`: what the submitted folder holds, before any of its code runs.

The statement's layout is `Proj_SCIPER1_SCIPER2/Miniproject_2/{__init__.py, model.py, bestmodel.pth,
others/, Report_2.pdf}`. Each check is one `CheckResult`:

- `layout.files`: `__init__.py` and `model.py` present (nothing imports without them), MISSING otherwise,
  in a folder named exactly `Miniproject_2` (FAIL naming the folder: `Proj_.../Miniproject2`);
- `layout.folder-name`: `Proj_` followed by one to three SCIPERs (6-digit numbers) joined by `_`; SKIPPED
  when the path given was a bare `Miniproject_2` folder or a zip without a `Proj_` folder;
- `layout.bestmodel` and `layout.report`: warnings. MISSING when absent, FAIL when empty or not what the
  name says (`bestmodel.pth` neither a torch.save zip nor a pickle, e.g. a Git LFS pointer;
  `Report_2.pdf` not starting with `%PDF-`). The rubric makes them cheap and not required; the PSNR
  checks load `bestmodel.pth` for real, in a child;
- `layout.stray-files`: notebooks, data sets, checkpoints other than `bestmodel.pth`, editor and OS
  litter, and files over `LARGE_FILE_BYTES`, submitted by mistake (FAIL, listing each). `__pycache__`
  is not one: Python writes it wherever the code runs.

A file that is absent under its exact name but present under a near name (`Model.py`, `best_model.pth`,
`report_2.pdf`) is named in the message, since that is almost always the cause.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.results import Category, CheckResult, Fault, Outcome

if TYPE_CHECKING:
    from harness.context import CheckContext

PACKAGE_NAME = "Miniproject_2"
REQUIRED_FILES = ("__init__.py", "model.py")
BESTMODEL = "bestmodel.pth"
REPORT = "Report_2.pdf"
FOLDER_NAME = re.compile(r"Proj_\d{6}(_\d{6}){0,2}")
"""`Proj_` and the SCIPERs of the group's one to three members."""

TORCH_SAVE_MAGIC = b"PK\x03\x04"
"""torch.save's default format is a zip archive."""
PICKLE_PROTOCOL_MARK = 0x80
"""A pickle (protocol 2 or later, `pickle.dump` or torch's legacy format) starts with this byte."""
PDF_MAGIC = b"%PDF-"

NOTEBOOK_SUFFIXES = frozenset({".ipynb"})
DATA_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".npy", ".npz", ".csv", ".h5", ".hdf5", ".mat", ".zip", ".tar", ".gz"}
)
CHECKPOINT_SUFFIXES = frozenset({".pth", ".pt", ".ckpt", ".bin", ".safetensors"})
LITTER_NAMES = frozenset({".ipynb_checkpoints", "__MACOSX", ".DS_Store", ".git", ".idea", ".vscode"})
GENERATED_NAMES = frozenset({"__pycache__"})
"""Written by Python itself wherever the code runs (a grader's checkout too): never a finding."""
LARGE_FILE_BYTES = 20 * 1024 * 1024
"""A Mini-project 2 submission is code, a small checkpoint and a PDF: anything bigger is a mistake."""
NEAR_NAME_CUTOFF = 0.75


@dataclass(frozen=True)
class StrayFile:
    """A file (or folder) that should not have been submitted, and why."""

    path: str
    kind: str
    size: int

    def as_data(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "size": self.size}


def run(ctx: CheckContext) -> list[CheckResult]:
    """Every `layout.*` check of one submission."""
    submission = ctx.submission
    return check_layout(submission.package_dir, submission.proj_name, submission.package_name)


def check_layout(
    package_dir: Path, proj_name: str | None, package_name: str = PACKAGE_NAME
) -> list[CheckResult]:
    """The five layout results for the package folder `package_dir` (named `package_name` in the
    submission) of folder `proj_name`."""
    checks = (
        lambda: check_required_files(package_dir, package_name),
        lambda: check_folder_name(proj_name),
        lambda: check_bestmodel(package_dir),
        lambda: check_report(package_dir),
        lambda: check_stray_files(package_dir),
    )
    return [_timed(check) for check in checks]


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    started = time.perf_counter()
    result = check()
    return replace(result, duration_s=time.perf_counter() - started)


def check_required_files(package_dir: Path, package_name: str = PACKAGE_NAME) -> CheckResult:
    """`layout.files`: `__init__.py` and `model.py` present as files, in a folder named `Miniproject_2`
    (the course imports `Miniproject_2.model`: `Miniproject2` fails, naming the folder, while every
    other check still grades the code)."""
    missing = [name for name in REQUIRED_FILES if not (package_dir / name).is_file()]
    details = {"required": list(REQUIRED_FILES), "missing": missing, "package_name": package_name}
    if not missing and package_name != PACKAGE_NAME:
        message = (
            f"the package folder is named {package_name!r}, but the course imports {PACKAGE_NAME}: "
            f"rename it (the code was graded as if it were {PACKAGE_NAME})"
        )
        return CheckResult("layout.files", Category.LAYOUT, Outcome.FAIL, message, details)
    if not missing:
        return CheckResult(
            "layout.files",
            Category.LAYOUT,
            Outcome.PASS,
            "__init__.py and model.py present",
            details,
            score=1.0,
        )
    hints = [_with_near_name(name, package_dir) for name in missing]
    message = f"missing from Miniproject_2/: {', '.join(hints)}"
    score = 1 - len(missing) / len(REQUIRED_FILES)
    return CheckResult("layout.files", Category.LAYOUT, Outcome.MISSING, message, details, score=score)


def check_folder_name(proj_name: str | None) -> CheckResult:
    """`layout.folder-name`: `Proj_SCIPER1[_SCIPER2[_SCIPER3]]`."""
    if proj_name is None:
        return CheckResult(
            "layout.folder-name",
            Category.LAYOUT,
            Outcome.SKIPPED,
            "no Proj_ folder around Miniproject_2: the folder name was not checked",
            {"name": None},
            fault=Fault.NONE,
        )
    details = {"name": proj_name, "expected": "Proj_SCIPER1_SCIPER2 (6-digit SCIPERs, one to three)"}
    if FOLDER_NAME.fullmatch(proj_name):
        return CheckResult(
            "layout.folder-name",
            Category.LAYOUT,
            Outcome.PASS,
            f"{proj_name} follows Proj_SCIPER1_SCIPER2",
            details,
            score=1.0,
        )
    return CheckResult(
        "layout.folder-name",
        Category.LAYOUT,
        Outcome.FAIL,
        f"folder {proj_name!r} is not Proj_ then 6-digit SCIPERs joined by _ (e.g. Proj_123456_234567)",
        details,
    )


def check_bestmodel(package_dir: Path) -> CheckResult:
    """`layout.bestmodel` (a warning): present, not empty, a torch.save zip or a pickle."""
    return _check_artifact(
        "layout.bestmodel",
        package_dir,
        BESTMODEL,
        (TORCH_SAVE_MAGIC, bytes([PICKLE_PROTOCOL_MARK])),
        "neither a torch.save file nor a pickle",
    )


def check_report(package_dir: Path) -> CheckResult:
    """`layout.report` (a warning): present, not empty, a PDF."""
    return _check_artifact("layout.report", package_dir, REPORT, (PDF_MAGIC,), "not a PDF")


def _check_artifact(
    check_id: str, package_dir: Path, name: str, magics: tuple[bytes, ...], wrong_kind: str
) -> CheckResult:
    path = package_dir / name
    if not path.is_file():
        return CheckResult(
            check_id,
            Category.LAYOUT,
            Outcome.MISSING,
            f"{_with_near_name(name, package_dir)} missing from Miniproject_2/",
            {"file": name, "size": None, "warning": True},
        )
    size = path.stat().st_size
    details = {"file": name, "size": size, "warning": True}
    if size == 0:
        return CheckResult(check_id, Category.LAYOUT, Outcome.FAIL, f"{name} is empty (0 bytes)", details)
    with path.open("rb") as stream:
        head = stream.read(max(len(m) for m in magics))
    if not any(head.startswith(m) for m in magics):
        shown = head[:16].decode("ascii", errors="replace").strip() or head[:8].hex()
        return CheckResult(
            check_id,
            Category.LAYOUT,
            Outcome.FAIL,
            f"{name} is {wrong_kind} (it starts with {shown!r})",
            details,
        )
    return CheckResult(
        check_id, Category.LAYOUT, Outcome.PASS, f"{name} present ({_size_text(size)})", details, score=1.0
    )


def check_stray_files(package_dir: Path) -> CheckResult:
    """`layout.stray-files`: nothing in the package that looks submitted by mistake."""
    stray = list(find_stray_files(package_dir))
    total = sum(p.stat().st_size for p in package_dir.rglob("*") if p.is_file() and not p.is_symlink())
    details = {"stray": [s.as_data() for s in stray], "total_size": total}
    if not stray:
        return CheckResult(
            "layout.stray-files",
            Category.LAYOUT,
            Outcome.PASS,
            f"no stray files ({_size_text(total)} in all)",
            details,
            score=1.0,
        )
    shown = ", ".join(f"{s.path} ({s.kind})" for s in stray[:3])
    more = f" and {len(stray) - 3} more" if len(stray) > 3 else ""
    return CheckResult(
        "layout.stray-files", Category.LAYOUT, Outcome.FAIL, f"submitted by mistake? {shown}{more}", details
    )


def find_stray_files(package_dir: Path) -> Iterator[StrayFile]:
    """Notebooks, data sets, extra checkpoints, editor/OS litter and large files, in path order.

    A litter folder (`.ipynb_checkpoints`, `.git`) is reported once, as a whole.
    """
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if GENERATED_NAMES.intersection(relative.parts) or LITTER_NAMES.intersection(relative.parts[:-1]):
            continue
        kind = _stray_kind(path, relative)
        if kind is not None:
            size = _tree_size(path)
            yield StrayFile(relative.as_posix(), kind, size)


def _stray_kind(path: Path, relative: Path) -> str | None:
    if path.name in LITTER_NAMES:
        return "editor or OS litter"
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix in NOTEBOOK_SUFFIXES:
        return "notebook"
    if suffix in DATA_SUFFIXES:
        return "data file"
    if suffix in CHECKPOINT_SUFFIXES and relative.as_posix() != BESTMODEL:
        return "checkpoint other than bestmodel.pth"
    if path.stat().st_size > LARGE_FILE_BYTES:
        return f"large file ({_size_text(path.stat().st_size)})"
    return None


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _with_near_name(name: str, package_dir: Path) -> str:
    """`name`, followed by "(found Model.py)" when a file of a near name is there instead."""
    present = [p.name for p in package_dir.iterdir()] if package_dir.is_dir() else []
    near = [p for p in present if p.lower() == name.lower()]
    near = near or difflib.get_close_matches(name, present, n=1, cutoff=NEAR_NAME_CUTOFF)
    return f"{name} (found {near[0]} instead)" if near else name


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
