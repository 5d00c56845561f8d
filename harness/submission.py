"""Resolve what a user points `harness check` at into a private copy of one `Miniproject_2` folder.

Accepted: a `Miniproject_2` folder, a `Proj_SCIPER1_SCIPER2` folder (or any folder) holding one, a
folder holding `model.py` directly, or a `.zip` of any of these as students upload it. The package is
copied (or safely extracted) into a work folder, so no check can touch the original, and every file is
listed with its size and sha256 for the report's reproducibility block.

Zip extraction refuses entries that escape the extraction folder (absolute paths, `..`), symbolic
links, archives with more than `MAX_ENTRIES` entries, entries nested more than `MAX_DEPTH` folders deep,
and more than `MAX_BYTES` of content, counted while decompressing (a zip bomb's headers can lie). A folder
gets the same limits: a symbolic link anywhere in the package (a loop, a link to `/etc`), more than
`MAX_ENTRIES` entries, `MAX_DEPTH` levels or `MAX_BYTES` of files stop it with one line, counted while
walking (a deeper walk would exhaust Python's recursion), before anything is copied. Names holding control
characters are refused, and the report's folder name is made of safe characters only.

Python bytecode (`__pycache__/`, `*.pyc`, `*.pyo`) is removed from the copy: Python would import a
shipped `.pyc` instead of the `.py` that the rules read (an unchecked-hash pyc of other code, or a
module with no source at all).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.errors import SubmissionError

PACKAGE_NAME = "Miniproject_2"
PROJECT_PREFIX = "Proj_"
MAX_ENTRIES = 10_000
MAX_BYTES = 1 << 30
MAX_DEPTH = 32
IGNORED_FOLDERS = ("__MACOSX",)
COPY_CHUNK = 1 << 20
BYTECODE_FOLDER = "__pycache__"
BYTECODE_SUFFIXES = (".pyc", ".pyo")
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_.+-]+")
TOO_DEEP = f"is nested more than {MAX_DEPTH} folders deep"
CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")
DEFAULT_NAME = "submission"


@dataclass(frozen=True)
class SubmissionFile:
    """One file of the package: path relative to the `Miniproject_2` folder (POSIX), bytes, sha256 hex."""

    relpath: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Submission:
    """A submission ready to check.

    `source` is what the user gave; `package_dir` the private copy of its `Miniproject_2` folder;
    `name` the `Proj_` folder name, else the zip or folder stem (reports are written under it);
    `proj_name` the `Proj_...` folder name when there is one; `package_name` the name the package
    folder had in the submission (`Miniproject2` when misnamed: the copy is always `Miniproject_2`).
    """

    source: Path
    package_dir: Path
    name: str
    proj_name: str | None
    files: tuple[SubmissionFile, ...]
    package_name: str = PACKAGE_NAME


def resolve_submission(path: Path, workdir: Path) -> Submission:
    """Find the `Miniproject_2` package in `path` (folder or zip) and copy it into `workdir`.

    Raises `SubmissionError` (one line) when the path is missing, is not a folder or zip, holds no
    package or several, or when a zip is unsafe or too large.
    """
    source = Path(path)
    if not source.exists():
        raise SubmissionError(source, "no such file or folder")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise SubmissionError(source, "not a folder or a .zip archive")
        searched = workdir / "extracted"
        _extract(source, searched)
        stem = source.stem
    elif source.is_dir():
        searched, stem = source, source.resolve().name
    else:
        raise SubmissionError(source, "not a folder or a .zip archive")
    found = _find_package(searched, source)
    package_dir = workdir / PACKAGE_NAME
    _copy_package(found, package_dir, source)
    without_bytecode(package_dir)
    parent = found.resolve().parent
    holds_it = parent.name.startswith(PROJECT_PREFIX) and (source.is_dir() or found != searched)
    proj_name = safe_name(parent.name) if holds_it else None
    return Submission(
        source=source,
        package_dir=package_dir,
        name=proj_name or safe_name(stem),
        proj_name=proj_name,
        files=list_files(package_dir),
        package_name=found.resolve().name if found != searched or source.is_dir() else PACKAGE_NAME,
    )


def list_files(package_dir: Path) -> tuple[SubmissionFile, ...]:
    """Every regular file under `package_dir`, sorted by relative path, with its size and sha256."""
    files = []
    for file in sorted(p for p in package_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        digest = hashlib.sha256()
        with file.open("rb") as stream:
            while chunk := stream.read(COPY_CHUNK):
                digest.update(chunk)
        relpath = file.relative_to(package_dir).as_posix()
        files.append(SubmissionFile(relpath=relpath, size=file.stat().st_size, sha256=digest.hexdigest()))
    return tuple(files)


def _find_package(searched: Path, source: Path) -> Path:
    """The one package folder in `searched`: itself, a `Miniproject_2` child, or one level further down."""
    if searched.name.lower() == PACKAGE_NAME.lower() or (searched / "model.py").is_file():
        return searched
    candidates = [
        folder
        for pattern in ("*", "*/*")
        for folder in sorted(searched.glob(pattern))
        if folder.is_dir()
        and folder.name.lower() == PACKAGE_NAME.lower()
        and not set(folder.relative_to(searched).parts) & set(IGNORED_FOLDERS)
    ]
    if not candidates:
        children = [p for p in searched.iterdir() if p.is_dir() and p.name not in IGNORED_FOLDERS]
        if len(children) == 1 and (children[0] / "model.py").is_file():
            return children[0]
        raise SubmissionError(source, f"no {PACKAGE_NAME} folder (and no model.py) found in it")
    if len(candidates) > 1:
        places = ", ".join(p.relative_to(searched).as_posix() for p in candidates)
        raise SubmissionError(source, f"several {PACKAGE_NAME} folders found: {places}")
    return candidates[0]


def safe_name(name: str) -> str:
    """`name` as a folder name that stays where it is put: runs of characters other than letters,
    digits and `_.+-` become `_`, leading dots go (no `..`, no hidden folder), at most 100 characters."""
    cleaned = UNSAFE_NAME_CHARACTERS.sub("_", name).lstrip(".")[:100]
    return cleaned if cleaned.strip("_") else DEFAULT_NAME


def without_bytecode(package_dir: Path) -> None:
    """Delete every `__pycache__` folder and `.pyc`/`.pyo` file under `package_dir`."""
    for parent, folders, files in os.walk(package_dir):
        for folder in [name for name in folders if name == BYTECODE_FOLDER]:
            shutil.rmtree(os.path.join(parent, folder))
            folders.remove(folder)
        for file in files:
            if file.endswith(BYTECODE_SUFFIXES):
                os.remove(os.path.join(parent, file))


def _copy_package(found: Path, destination: Path, source: Path) -> None:
    """Copy the package folder after checking it as a zip is checked (`_check_folder`)."""
    _check_folder(found, source)
    shutil.copytree(found, destination, ignore=special_files)


def _check_folder(folder: Path, source: Path) -> None:
    """SubmissionError for a symbolic link, a control character in a name, more than MAX_ENTRIES
    entries, MAX_DEPTH levels or MAX_BYTES of files under `folder`; the walk stops at the first excess."""
    if folder.is_symlink():
        raise SubmissionError(source, f"the {PACKAGE_NAME} folder is a symbolic link")
    entries = total = 0
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(parent) / name
            relative = path.relative_to(folder).as_posix()
            entries += 1
            if entries > MAX_ENTRIES:
                raise SubmissionError(
                    source, f"the {PACKAGE_NAME} folder holds more than {MAX_ENTRIES} entries"
                )
            if CONTROL_IN_NAME.search(name):
                raise SubmissionError(source, f"the file name {relative!r} holds control characters")
            if relative.count("/") >= MAX_DEPTH:
                raise SubmissionError(source, f"{PACKAGE_NAME}/{relative} {TOO_DEEP}")
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise SubmissionError(source, f"{PACKAGE_NAME}/{relative} is a symbolic link")
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
                if total > MAX_BYTES:
                    raise SubmissionError(
                        source, f"the {PACKAGE_NAME} folder holds more than {MAX_BYTES >> 20} MB"
                    )


def special_files(folder: str, names: list[str]) -> set[str]:
    """The `names` in `folder` that are no folder, regular file or link: a copy skips them (a FIFO blocks)."""
    kinds = (stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK)
    return {name for name in names if not any(kind(os.lstat(Path(folder) / name).st_mode) for kind in kinds)}


def _extract(archive: Path, destination: Path) -> None:
    """Extract `archive` into `destination`, refusing unsafe entries and counting bytes as they come."""
    destination.mkdir(parents=True, exist_ok=True)
    root = destination.resolve()
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = bundle.infolist()
            if len(entries) > MAX_ENTRIES:
                raise SubmissionError(archive, f"the zip holds {len(entries)} entries (limit {MAX_ENTRIES})")
            written = 0
            for entry in entries:
                target = _safe_target(archive, root, entry)
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(entry) as stream, target.open("wb") as out:
                    while chunk := stream.read(COPY_CHUNK):
                        written += len(chunk)
                        if written > MAX_BYTES:
                            raise SubmissionError(
                                archive, f"the zip unpacks to more than {MAX_BYTES >> 20} MB"
                            )
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as error:
        raise SubmissionError(archive, f"cannot be unpacked: {error}") from error


def _safe_target(archive: Path, root: Path, entry: zipfile.ZipInfo) -> Path:
    """Where `entry` may be written under `root`; SubmissionError for links and escaping paths."""
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise SubmissionError(archive, f"the zip entry {entry.filename!r} is a symbolic link")
    name = PurePosixPath(entry.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
        raise SubmissionError(archive, f"the zip entry {entry.filename!r} points outside the archive")
    if len(name.parts) > MAX_DEPTH:
        shown = "/".join(name.parts[:MAX_DEPTH])
        raise SubmissionError(archive, f"the zip entry {shown}/... {TOO_DEEP}")
    target = (root / os.path.join(*name.parts)) if name.parts else root
    if target.resolve() != root and root not in target.resolve().parents:
        raise SubmissionError(archive, f"the zip entry {entry.filename!r} points outside the archive")
    return target
