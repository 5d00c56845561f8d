"""Resolving a submission: every accepted shape gives the same private package; unsafe zips are refused."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from harness.errors import SubmissionError
from harness.submission import MAX_ENTRIES, resolve_submission

MODEL = b"class Model:\n    pass\n"
MAC_FORK = {"__MACOSX/Miniproject_2/._model.py": b"x"}
FILES = {"__init__.py": b"", "model.py": MODEL, "others/helper.py": b"X = 1\n"}


def write_package(folder: Path) -> Path:
    for relpath, content in FILES.items():
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        (folder / relpath).write_bytes(content)
    return folder


def write_zip(archive: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    return archive


def layouts(root: Path) -> dict[str, tuple[Path, str, str | None]]:
    """Each accepted shape -> (path to give, expected name, expected proj_name)."""
    project = root / "Proj_123456_654321"
    write_package(project / "Miniproject_2")
    (project / "Miniproject_1").mkdir()
    loose = write_package(root / "loose" / "Miniproject_2")
    bare = write_package(root / "my_denoiser")
    in_proj = {f"Proj_123456_654321/Miniproject_2/{name}": data for name, data in FILES.items()}
    top = {f"Miniproject_2/{name}": data for name, data in FILES.items()}
    return {
        "proj-folder": (project, "Proj_123456_654321", "Proj_123456_654321"),
        "package-in-proj": (project / "Miniproject_2", "Proj_123456_654321", "Proj_123456_654321"),
        "package-folder": (loose, "Miniproject_2", None),
        "folder-with-model-py": (bare, "my_denoiser", None),
        "zip-of-proj": (write_zip(root / "upload.zip", in_proj), "Proj_123456_654321", "Proj_123456_654321"),
        "zip-of-package": (write_zip(root / "Proj_1_2.zip", top), "Proj_1_2", None),
        "zip-with-macosx": (write_zip(root / "mac.zip", {**top, **MAC_FORK}), "mac", None),
    }  # fmt: skip


LAYOUTS = ["proj-folder", "package-in-proj", "package-folder", "folder-with-model-py", "zip-of-proj",
           "zip-of-package", "zip-with-macosx"]  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_accepted_shape_gives_the_same_package(tmp_path, layout):
    path, name, proj_name = layouts(tmp_path / "in")[layout]
    submission = resolve_submission(path, tmp_path / "work")
    assert (submission.name, submission.proj_name, submission.source) == (name, proj_name, path)
    assert submission.package_dir == tmp_path / "work" / "Miniproject_2"
    assert [(f.relpath, f.size) for f in submission.files] == [(k, len(v)) for k, v in sorted(FILES.items())]
    model = next(f for f in submission.files if f.relpath == "model.py")
    assert model.sha256 == hashlib.sha256(MODEL).hexdigest()
    assert (submission.package_dir / "model.py").read_bytes() == MODEL


def test_the_copy_is_private(tmp_path):
    original = write_package(tmp_path / "Miniproject_2")
    submission = resolve_submission(original, tmp_path / "work")
    (submission.package_dir / "model.py").write_text("changed")
    assert (original / "model.py").read_bytes() == MODEL


def symlink_zip(archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        link = zipfile.ZipInfo("Miniproject_2/model.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
    return archive


def plain_file(root: Path) -> Path:
    (root / "notes.txt").write_text("hi")
    return root / "notes.txt"


def empty_folder(root: Path) -> Path:
    (root / "empty").mkdir()
    return root / "empty"


TWO_PACKAGES = {"a/Miniproject_2/model.py": b"", "b/Miniproject_2/model.py": b""}


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda root: root / "absent", "no such file or folder"),
        (plain_file, "not a folder or a .zip archive"),
        (empty_folder, "no Miniproject_2 folder"),
        (lambda root: write_zip(root / "evil.zip", {"../escape.py": b"x"}), "points outside the archive"),
        (lambda root: write_zip(root / "abs.zip", {"/tmp/abs.py": b"x"}), "points outside the archive"),
        (lambda root: symlink_zip(root / "link.zip"), "is a symbolic link"),
        (lambda root: write_zip(root / "two.zip", TWO_PACKAGES), "several Miniproject_2 folders found: a/"),
        (lambda root: write_zip(root / "many.zip", {f"f{i}": b"" for i in range(MAX_ENTRIES + 1)}),
         f"holds {MAX_ENTRIES + 1} entries"),
    ],
    ids=["missing", "plain-file", "empty-folder", "zip-dotdot", "zip-absolute", "zip-symlink",
         "zip-two-packages", "zip-too-many-entries"],
)  # fmt: skip
def test_bad_paths_are_one_line_submission_errors(tmp_path, make, problem):
    (tmp_path / "in").mkdir()
    path = make(tmp_path / "in")
    with pytest.raises(SubmissionError) as raised:
        resolve_submission(path, tmp_path / "work")
    assert problem in raised.value.one_line()
    assert str(path) in raised.value.one_line()
    assert not (tmp_path / "escape.py").exists()
    assert not (tmp_path / "in" / "escape.py").exists()


def test_zip_bomb_is_stopped_while_decompressing(tmp_path, monkeypatch):
    monkeypatch.setattr("harness.submission.MAX_BYTES", 1 << 20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("Miniproject_2/model.py", b"\0" * (4 << 20))
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(SubmissionError, match="unpacks to more than 1 MB"):
        resolve_submission(archive, tmp_path / "work")


def test_special_files_are_not_copied(tmp_path):
    package = write_package(tmp_path / "Miniproject_2")
    os.mkfifo(package / "pipe")
    submission = resolve_submission(package, tmp_path / "work")
    assert [f.relpath for f in submission.files] == sorted(FILES)
