"""The hashes a graded record is keyed by: its submission, the data and the harness that graded it.

A later run reuses a record only when all of them (and the rubric's, `Rubric.sha256`) are equal, so a
changed upload, data set, rubric or harness source is graded again and nothing else is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from harness import __version__
from harness.check import REFERENCE_DIR
from harness.reproducibility import package_sha256, sha256_file
from harness.submission import Submission

HARNESS_ROOT = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = (".py", ".toml", ".json")


def _digest(document: object) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def submission_sha256(submission: Submission) -> str:
    """The hash of what grading a submission depends on: its name, `Proj_` folder and files."""
    return _digest(
        {
            "name": submission.name,
            "proj_name": submission.proj_name,
            "files": [[file.relpath, file.sha256] for file in submission.files],
        }
    )


def data_files_sha256(paths: Sequence[Path]) -> dict[str, str]:
    """sha256 of each data file by file name: the mapping a report's reproducibility block holds."""
    return {path.name: sha256_file(path) for path in sorted(paths)}


def data_sha256(files: Mapping[str, str]) -> str:
    """One hash of the data files' hashes (`data_files_sha256`)."""
    return _digest(dict(files))


@cache
def harness_version() -> str:
    """`__version__` plus a hash of the harness's own source, rubric and schema files and of the
    reference submission (it tops the PSNR scale and calibrates the timing): a change of either between
    two runs regrades, even when the version number was not bumped."""
    files = sorted(p for p in HARNESS_ROOT.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
    source = [[p.relative_to(HARNESS_ROOT).as_posix(), sha256_file(p)] for p in files]
    reference = package_sha256(REFERENCE_DIR) if REFERENCE_DIR.is_dir() else None
    return f"{__version__}+{_digest([source, reference])[:12]}"
