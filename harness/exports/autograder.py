"""`harness gradescope build DIR`: a Gradescope autograder that grades with this same harness.

Gradescope builds an image from a zip whose root holds `setup.sh` (run once, as root, on Ubuntu) and
`run_autograder` (run per submission, working folder `/autograder`, the student's files in
`/autograder/submission`, results expected in `/autograder/results/results.json`). The build copies the
harness, the reference `Miniproject_2/` (timed alongside, for the ratios) and the course data into
`harness-src/`; `run_autograder` runs `harness check` on the submission and turns its report into
results with `harness gradescope results`, which also answers when no report could be made (a zip
without a Miniproject_2 folder): score 0 and the one-line reason.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harness.check import REFERENCE_DIR, REPO_ROOT, data_paths
from harness.errors import HarnessError
from harness.rubric import load_rubric

SOURCE_FOLDER = "harness-src"
ZIP_NAME = "autograder.zip"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /opt/harness
/opt/harness/bin/pip install --upgrade pip
# The CPU build of PyTorch first (the pinned version), then the harness and its other dependencies.
/opt/harness/bin/pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
/opt/harness/bin/pip install /autograder/source/{source} -c /autograder/source/{source}/constraints.txt
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
# AUTOGRADER_ROOT and HARNESS_PYTHON exist to try the autograder outside Gradescope;
# HARNESS_CHECK_OPTIONS adds options to `harness check` (e.g. --no-reference-timing).
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{HARNESS_PYTHON:-/opt/harness/bin/python}}"
SOURCE="$ROOT/source/{source}"
WORK="$(mktemp -d)"
mkdir -p "$ROOT/results"
cd "$SOURCE" || exit 1
# shellcheck disable=SC2086
"$PYTHON" -m harness check "$ROOT/submission" --data "$SOURCE/data" --rubric "{rubric}" \\
    --format json --out "$WORK/report" -q ${{HARNESS_CHECK_OPTIONS:-}} 2> "$WORK/stderr.txt"
"$PYTHON" -m harness gradescope results "$WORK/report/report.json" "$ROOT/results/results.json" \\
    --stderr "$WORK/stderr.txt"
"""


@dataclass(frozen=True)
class AutograderBuild:
    """What `build_autograder` wrote."""

    folder: Path
    setup_sh: Path
    run_autograder: Path
    zip_path: Path


def build_autograder(out_dir: Path, data_dir: Path, rubric: str) -> AutograderBuild:
    """Write the autograder into `out_dir` and zip it to `out_dir/autograder.zip`.

    `data_dir` holds the course's train and val files (checked here: `DataError` if unusable); `rubric` is
    a shipped rubric name or a TOML file, which is copied in (`RubricError` if it does not load).
    """
    load_rubric(rubric)
    train_path, val_path = data_paths(data_dir)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise HarnessError(out_dir, "not empty: give gradescope build a new or empty folder")
    source = out_dir / SOURCE_FOLDER
    shutil.copytree(REPO_ROOT / "harness", source / "harness", ignore=_IGNORED)
    shutil.copytree(REFERENCE_DIR, source / "Miniproject_2", ignore=_IGNORED)
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy2(REPO_ROOT / name, source / name)
    (source / "data").mkdir()
    for path in (train_path, val_path):
        shutil.copy2(path, source / "data" / path.name)
    rubric_argument = rubric
    if Path(rubric).is_file():
        shutil.copy2(rubric, source / "rubric.toml")
        rubric_argument = "rubric.toml"
    setup_sh = _script(out_dir / "setup.sh", SETUP_SH.format(source=SOURCE_FOLDER))
    run = _script(
        out_dir / "run_autograder", RUN_AUTOGRADER.format(source=SOURCE_FOLDER, rubric=rubric_argument)
    )
    zip_path = out_dir / ZIP_NAME
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out_dir.rglob("*")):
            if path.is_file() and path != zip_path:
                info = zipfile.ZipInfo.from_file(path, path.relative_to(out_dir).as_posix())
                with path.open("rb") as handle:
                    archive.writestr(info, handle.read(), zipfile.ZIP_DEFLATED)
    return AutograderBuild(out_dir, setup_sh, run, zip_path)


def _script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
