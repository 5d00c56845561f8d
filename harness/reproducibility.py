"""What a grader needs to reproduce a report: versions, machine, seeds and the hash of every input.

Two runs with equal `Reproducibility` graded the same bytes with the same code and settings, so their
results must agree apart from timings.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import torch

from harness import __version__
from harness.errors import DataError

if TYPE_CHECKING:
    from harness.rubric import Rubric
    from harness.submission import Submission

_HARNESS_ROOT = Path(__file__).resolve().parent.parent
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Reproducibility:
    """The versions, machine, settings and input hashes a report was produced with."""

    harness_version: str
    git_commit: str | None
    """Commit of the harness's source tree, None when it is not a git checkout."""
    git_dirty: bool | None
    """True when tracked files of that tree differ from the commit."""
    python: str
    torch: str
    platform: str
    cpu_model: str
    threads: int
    """Threads each child process ran with (`torch.set_num_threads`)."""
    seed: int
    network_isolated: bool | None
    """Whether the children ran without network (None: not reported by the sandbox)."""
    submission_files: Mapping[str, str]
    """sha256 of each submission file, by path relative to `Miniproject_2/`."""
    bestmodel_sha256: str | None
    data_files: Mapping[str, str]
    """sha256 of each data file, by file name."""
    rubric_name: str
    rubric_sha256: str
    sandbox: Mapping[str, bool] | None = None
    """Each isolation layer of the children (`harness.probes.isolation.LAYERS` and "cgroup") and whether
    it held (None: not reported)."""
    reference_sha256: str | None = None
    """`package_sha256` of the reference `Miniproject_2` whose PSNR tops the PSNR scale and whose time
    the timing ratios are taken against; None when no reference took part."""


def collect_reproducibility(
    submission: Submission,
    data_files: Sequence[Path],
    rubric: Rubric,
    seed: int,
    threads: int = 1,
    network_isolated: bool | None = None,
    sandbox: Mapping[str, bool] | None = None,
    reference_dir: Path | None = None,
) -> Reproducibility:
    """Describe this run; hashes the data files (raises `DataError` when one cannot be read) and the
    reference package `reference_dir` when one took part."""
    files = {f.relpath: f.sha256 for f in sorted(submission.files, key=lambda f: f.relpath)}
    commit, dirty = _git_state(_HARNESS_ROOT)
    return Reproducibility(
        harness_version=__version__,
        git_commit=commit,
        git_dirty=dirty,
        python=platform.python_version(),
        torch=torch.__version__,
        platform=f"{platform.system()} {platform.machine()}",
        cpu_model=cpu_model(),
        threads=threads,
        seed=seed,
        network_isolated=network_isolated,
        submission_files=MappingProxyType(files),
        bestmodel_sha256=files.get("bestmodel.pth"),
        data_files=MappingProxyType({path.name: _data_file_sha256(path) for path in sorted(data_files)}),
        rubric_name=rubric.name,
        rubric_sha256=rubric.sha256,
        sandbox=None if sandbox is None else MappingProxyType(dict(sandbox)),
        reference_sha256=None if reference_dir is None else package_sha256(reference_dir),
    )


def package_sha256(package_dir: Path) -> str:
    """One sha256 of a package folder's files (relative paths and contents; `__pycache__` left out,
    as Python writes it on import)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(package_dir).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks (data files are hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _data_file_sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as error:
        raise DataError(path, f"cannot read data file: {error.strerror or error}") from None


def _git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, dirty) of the git tree at `root`; (None, None) when it is not one or git is absent."""
    if not (root / ".git").exists():
        return None, None
    try:
        head = _git(root, "rev-parse", "HEAD")
        changes = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head, bool(changes)


def _git(root: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return completed.stdout.strip()
