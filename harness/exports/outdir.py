"""The folder `harness export --out` writes: always one whole export, never old files beside new ones.

An export is written into a fresh sibling folder (`.NAME.partial-*`) and put in place only when every
format is written, with `MANIFEST_NAME` listing each file it wrote (size and SHA-256) and the store it
came from. An `--out` that holds an earlier export (it has a manifest) is replaced whole, so no stale
`results.json` or `feedback.zip` of an earlier run is left looking current; an empty `--out` is used; a
file, or a folder holding anything else, is refused before any work (`OutputError`, exit 2), so nothing
of the grader's is lost. A failed or interrupted export leaves the old one as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import OutputError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "harness-export/1"


def check_out_dir(out_dir: Path) -> None:
    """`OutputError` when `out_dir` cannot take an export: a file, a folder holding anything but an
    earlier export, or a place whose parent cannot be written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(out_dir, "is a file, not an export folder (pass --out DIR)")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
        problem = f"holds files that are not a harness export (no {MANIFEST_NAME}): pass a new or empty --out"
        raise OutputError(out_dir, problem)
    parent = out_dir.absolute().parent
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(out_dir, f"cannot write into {parent}: permission denied")


@contextmanager
def fresh_export(out_dir: Path, store: str, formats: Sequence[str]) -> Iterator[Path]:
    """A new empty folder to write the export into; on a clean exit its manifest is written and it
    replaces `out_dir` whole, on an exception it is removed and `out_dir` is left as it was."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    try:
        out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.absolute().parent))
    except OSError as error:
        raise OutputError(out_dir, f"cannot create the export folder: {error.strerror or error}") from None
    try:
        yield staging
        write_manifest(staging, store, formats)
        _replace(out_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(folder: Path, store: str, formats: Sequence[str]) -> Path:
    """`folder/MANIFEST_NAME`: what the export was made from and every file in it (size, SHA-256)."""
    files = {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    document = {
        "format": MANIFEST_FORMAT,
        "store": store,
        "formats": list(formats),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
    }
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _replace(out_dir: Path, staging: Path) -> None:
    """Put `staging` at `out_dir`, the earlier export (or empty folder) there moved aside and removed."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=staging.parent))
        out_dir.rename(old / out_dir.name)
    try:
        staging.rename(out_dir)
    except OSError as error:
        if old is not None:
            (old / out_dir.name).rename(out_dir)
        raise OutputError(out_dir, f"cannot put the export in place: {error.strerror or error}") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
