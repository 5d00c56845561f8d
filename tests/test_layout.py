"""Specification of the `layout.*` checks: each row builds a small package folder and names the verdict."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
import torch

from harness.checks.layout.judge import LARGE_FILE_BYTES, check_folder_name, check_layout
from harness.results import Fault, Outcome

REPO = Path(__file__).resolve().parents[1]


def torch_saved() -> bytes:
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    return buffer.getvalue()


GOOD = {
    "__init__.py": b"",
    "model.py": b"class Model: pass\n",
    "bestmodel.pth": pickle.dumps({"w": [1.0]}),
    "Report_2.pdf": b"%PDF-1.7\n...",
    "others/__init__.py": b"",
}


def make_package(root: Path, files: dict[str, bytes | None]) -> Path:
    """`root/Miniproject_2` holding `files` (a None value removes that file from the good layout)."""
    package = root / "Miniproject_2"
    for relative, content in files.items():
        if content is None:
            continue
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    package.mkdir(parents=True, exist_ok=True)
    return package


def outcomes_of(package: Path, proj_name: str | None = "Proj_123456_234567") -> dict[str, Outcome]:
    return {r.id: r.outcome for r in check_layout(package, proj_name)}


@pytest.mark.parametrize(
    ("changes", "check_id", "outcome", "in_message"),
    [
        ({}, "layout.files", Outcome.PASS, "present"),
        ({"model.py": None}, "layout.files", Outcome.MISSING, "model.py"),
        ({"model.py": None, "Model.py": b""}, "layout.files", Outcome.MISSING, "found Model.py instead"),
        ({"__init__.py": None}, "layout.files", Outcome.MISSING, "__init__.py"),
        ({}, "layout.bestmodel", Outcome.PASS, "present"),
        ({"bestmodel.pth": torch_saved()}, "layout.bestmodel", Outcome.PASS, "present"),
        ({"bestmodel.pth": None}, "layout.bestmodel", Outcome.MISSING, "bestmodel.pth"),
        ({"bestmodel.pth": b""}, "layout.bestmodel", Outcome.FAIL, "empty"),
        (
            {"bestmodel.pth": b"version https://git-lfs.github.com/spec/v1\n"},
            "layout.bestmodel",
            Outcome.FAIL,
            "neither a torch.save file nor a pickle",
        ),
        (
            {"bestmodel.pth": None, "best_model.pth": pickle.dumps(1)},
            "layout.bestmodel",
            Outcome.MISSING,
            "found best_model.pth instead",
        ),
        ({}, "layout.report", Outcome.PASS, "present"),
        ({"Report_2.pdf": None}, "layout.report", Outcome.MISSING, "Report_2.pdf"),
        (
            {"Report_2.pdf": None, "report_2.pdf": b"%PDF-1.4"},
            "layout.report",
            Outcome.MISSING,
            "report_2.pdf",
        ),
        ({"Report_2.pdf": b""}, "layout.report", Outcome.FAIL, "empty"),
        ({"Report_2.pdf": b"PK\x03\x04docx"}, "layout.report", Outcome.FAIL, "not a PDF"),
        ({}, "layout.stray-files", Outcome.PASS, "no stray files"),
        (
            {"others/explore.ipynb": b"{}"},
            "layout.stray-files",
            Outcome.FAIL,
            "others/explore.ipynb (notebook)",
        ),
        ({"train_data.pkl": b"\x80"}, "layout.stray-files", Outcome.FAIL, "train_data.pkl (data file)"),
        (
            {"others/epoch_3.pth": b"\x80"},
            "layout.stray-files",
            Outcome.FAIL,
            "checkpoint other than bestmodel",
        ),
        ({"others/__pycache__/x.pyc": b"x"}, "layout.stray-files", Outcome.PASS, "no stray files"),
        (
            {"others/.ipynb_checkpoints/a.py": b"x"},
            "layout.stray-files",
            Outcome.FAIL,
            "(editor or OS litter)",
        ),
        ({".DS_Store": b"x"}, "layout.stray-files", Outcome.FAIL, ".DS_Store"),
    ],
    ids=[
        "files-good",
        "no-model.py",
        "Model.py-capitalised",
        "no-__init__.py",
        "bestmodel-pickle",
        "bestmodel-torch-save",
        "bestmodel-missing",
        "bestmodel-empty",
        "bestmodel-git-lfs-pointer",
        "bestmodel-near-name",
        "report-good",
        "report-missing",
        "report-lower-case",
        "report-empty",
        "report-not-pdf",
        "stray-none",
        "stray-notebook",
        "stray-data",
        "stray-checkpoint",
        "pycache-is-not-stray",
        "stray-ipynb-checkpoints",
        "stray-ds-store",
    ],
)
def test_layout_check(
    tmp_path: Path, changes: dict, check_id: str, outcome: Outcome, in_message: str
) -> None:
    package = make_package(tmp_path, {**GOOD, **changes})
    [result] = [r for r in check_layout(package, "Proj_123456_234567") if r.id == check_id]
    assert result.outcome is outcome
    assert in_message in result.message
    assert (result.score == 1.0) is (outcome is Outcome.PASS)


def test_large_file_is_stray(tmp_path: Path) -> None:
    package = make_package(tmp_path, GOOD)
    with (package / "others" / "weights_dump.txt").open("wb") as stream:
        stream.truncate(LARGE_FILE_BYTES + 1)
    [stray] = [r for r in check_layout(package, None) if r.id == "layout.stray-files"]
    assert stray.outcome is Outcome.FAIL
    assert stray.details["stray"] == [
        {"path": "others/weights_dump.txt", "kind": "large file (20.0 MB)", "size": LARGE_FILE_BYTES + 1}
    ]


def test_missing_artifacts_are_warnings_in_details(tmp_path: Path) -> None:
    package = make_package(tmp_path, {**GOOD, "bestmodel.pth": None, "Report_2.pdf": b""})
    results = {r.id: r for r in check_layout(package, None)}
    assert results["layout.bestmodel"].details == {"file": "bestmodel.pth", "size": None, "warning": True}
    assert results["layout.report"].details["warning"] is True
    assert results["layout.report"].details["size"] == 0


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("Proj_123456_234567", Outcome.PASS),
        ("Proj_123456", Outcome.PASS),
        ("Proj_123456_234567_345678", Outcome.PASS),
        ("Proj_123456_23456", Outcome.FAIL),
        ("proj_123456_234567", Outcome.FAIL),
        ("Proj_123456-234567", Outcome.FAIL),
        ("Project2_123456_234567", Outcome.FAIL),
        ("Proj_123456_234567_345678_456789", Outcome.FAIL),
        (None, Outcome.SKIPPED),
    ],
    ids=["two", "one", "three", "five-digits", "lower-case", "dash", "wrong-prefix", "four", "bare-folder"],
)
def test_folder_name(name: str | None, outcome: Outcome) -> None:
    result = check_folder_name(name)
    assert result.outcome is outcome
    assert result.fault is (Fault.SUBMISSION if outcome is Outcome.FAIL else Fault.NONE)


def test_reference_layout() -> None:
    outcomes = outcomes_of(REPO / "Miniproject_2", None)
    assert outcomes["layout.files"] is Outcome.PASS
    assert outcomes["layout.stray-files"] is Outcome.PASS
