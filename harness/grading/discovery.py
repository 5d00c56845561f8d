"""Discovery: what in a class folder is a submission to grade, and why everything else is not.

A submission is one `.zip` or one folder holding `Miniproject_2` (directly, or in a `Proj_…` folder), as
`harness check` accepts it. A class folder holds them directly, or in Moodle's "Download all
submissions" layout: one folder per participant, `Full Name_1234567_assignsubmission_file_`, holding
what they uploaded (or, without "download in folders", the files themselves prefixed by that name). The
participant id is kept for the exports.

Each candidate is resolved exactly as `harness check` resolves it (a safe extraction into a scratch
folder; nothing of it is imported), which gives its name, its `Proj_` folder and the hash of its files.
What cannot be graded is listed with a reason, never raised: an empty folder, a file that is no zip,
a zip that cannot be unpacked or holds two packages, a Moodle online-text entry. When one participant
uploaded several submissions, the newest is graded and the others are listed as superseded (two with the
same time are both graded and flagged). Uploads of different participants never supersede each other,
whatever their `Proj_` names say: both are graded, and each is flagged when it names a SCIPER the other
names too (the exports give a teammate a team's grade only when the roster confirms the uploader).
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from harness.errors import SubmissionError
from harness.grading.fingerprints import submission_sha256
from harness.grading.records import NotGraded
from harness.submission import PACKAGE_NAME, PROJECT_PREFIX, resolve_submission

MOODLE_ENTRY = re.compile(
    r"^(?P<participant>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$"
)
"""`Full Name_1234567_assignsubmission_file_` (a folder) or `..._file_upload.zip` (a flat download)."""
SCIPERS = re.compile(r"\d+")
IGNORED_NAMES = ("__MACOSX",)


@dataclass(frozen=True)
class FoundSubmission:
    """A submission to grade.

    `key` is its path relative to the class folder (POSIX); `name` and `proj_name` are what `harness
    check` calls it; `sha256` hashes its name, `Proj_` folder and every file of its package (what the
    grade depends on); `modified` is the newest modification time among its files (seconds since the
    epoch), which decides between two uploads.
    """

    key: str
    path: Path
    name: str
    proj_name: str | None
    participant_id: str | None
    participant: str | None
    scipers: tuple[str, ...]
    sha256: str
    modified: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discovery:
    """The submissions of a class folder, in key order, and what was left out."""

    submissions: tuple[FoundSubmission, ...]
    not_graded: tuple[NotGraded, ...]


@dataclass(frozen=True)
class _Upload:
    """A path to try as a submission, with the Moodle participant it came from (if any)."""

    path: Path
    participant_id: str | None = None
    participant: str | None = None


def discover(class_dir: Path, exclude: Iterable[Path] = ()) -> Discovery:
    """Find every submission in `class_dir` (see the module docstring); `exclude`: folders to skip
    (the `--out` folder when it lies inside the class folder)."""
    root = Path(class_dir)
    excluded = {Path(path).resolve() for path in exclude}
    uploads: list[_Upload] = []
    not_graded: list[NotGraded] = []
    for entry in _visible(root):
        if entry.resolve() in excluded:
            continue
        moodle = MOODLE_ENTRY.match(entry.name)
        key = _key(root, entry)
        if moodle and moodle["plugin"] != "file":
            not_graded.append(NotGraded(key, f"a Moodle {moodle['plugin']} entry, not a file upload"))
        elif entry.is_dir() and moodle:
            found, left = _folder_uploads(root, entry, moodle["id"], moodle["participant"])
            uploads += found
            not_graded += left
        elif entry.is_dir():
            found, left = _plain_folder(root, entry)
            uploads += found
            not_graded += left
        elif entry.suffix.lower() == ".zip":
            uploads.append(_Upload(entry, *((moodle["id"], moodle["participant"]) if moodle else ())))
        else:
            not_graded.append(NotGraded(key, "not a .zip or a folder"))
    submissions = []
    for upload in uploads:
        try:
            submissions.append(_resolve(root, upload))
        except SubmissionError as error:
            not_graded.append(NotGraded(_key(root, upload.path), error.problem))
    kept, superseded = _newest_only(submissions)
    return Discovery(
        submissions=tuple(sorted(kept, key=lambda s: s.key)),
        not_graded=tuple(sorted([*not_graded, *superseded], key=lambda n: n.key)),
    )


def _visible(folder: Path) -> list[Path]:
    """The entries of `folder`, sorted, without hidden files and macOS resource folders."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in IGNORED_NAMES)


def _key(root: Path, path: Path) -> str:
    """`path` relative to `root`, POSIX, in Unicode NFC: macOS's unzip writes names in NFD, and the same
    upload must keep the same key (and the same Moodle row) whichever way its folder was unpacked."""
    return unicodedata.normalize("NFC", path.relative_to(root).as_posix())


def on_disk(root: Path, key: str) -> Path:
    """The path under `root` that a submission `key` names, whichever normal form the disk's names use."""
    path = Path(root)
    for part in key.split("/"):
        candidate = path / part
        if not candidate.exists() and path.is_dir():
            same = (entry for entry in path.iterdir() if unicodedata.normalize("NFC", entry.name) == part)
            candidate = next(same, candidate)
        path = candidate
    return path


def _folder_uploads(
    root: Path, folder: Path, participant_id: str, participant: str
) -> tuple[list[_Upload], list[NotGraded]]:
    """A Moodle participant folder: each zip or folder in it is an upload; other files are listed."""
    entries = _visible(folder)
    if not entries:
        return [], [NotGraded(_key(root, folder), "empty folder: nothing was uploaded")]
    uploads = [
        _Upload(entry, participant_id, participant)
        for entry in entries
        if entry.is_dir() or entry.suffix.lower() == ".zip"
    ]
    if not uploads:
        names = ", ".join(entry.name for entry in entries)
        return [], [NotGraded(_key(root, folder), f"no .zip or folder among its files ({names})")]
    left = [
        NotGraded(_key(root, entry), "not a .zip or a folder")
        for entry in entries
        if not (entry.is_dir() or entry.suffix.lower() == ".zip")
    ]
    return uploads, left


def _plain_folder(root: Path, folder: Path) -> tuple[list[_Upload], list[NotGraded]]:
    """A folder outside Moodle's layout: a submission itself, else a folder of zips, else listed; what
    it holds besides is listed too (a zip beside a package, a folder beside zips), never dropped."""
    if not any(folder.iterdir()):
        return [], [NotGraded(_key(root, folder), "empty folder")]
    zips = [entry for entry in _visible(folder) if entry.is_file() and entry.suffix.lower() == ".zip"]
    holds_package = (folder / "model.py").is_file() or any(
        p.is_dir() and p.name.lower() == PACKAGE_NAME.lower()
        for p in [folder, *folder.glob("*"), *folder.glob("*/*")]
    )
    if zips and not holds_package:
        others = [entry for entry in _visible(folder) if entry not in zips]
        return [_Upload(entry) for entry in zips], [
            NotGraded(_key(root, entry), "not a .zip, in a folder of zips") for entry in others
        ]
    return [_Upload(folder)], [
        NotGraded(_key(root, entry), f"a zip inside {folder.name}, which is graded as one submission")
        for entry in zips
    ]


def _resolve(root: Path, upload: _Upload) -> FoundSubmission:
    """Resolve `upload` as `harness check` would (SubmissionError when it is no submission)."""
    with tempfile.TemporaryDirectory(prefix="harness-discover-") as workdir:
        submission = resolve_submission(upload.path, Path(workdir))
    files = [upload.path] if upload.path.is_file() else [p for p in upload.path.rglob("*") if p.is_file()]
    proj = submission.proj_name
    scipers, notes = tuple(SCIPERS.findall(proj)) if proj else (), ()
    stem = _zip_proj_name(upload.path) if proj is None else None
    if stem is not None:
        scipers = tuple(SCIPERS.findall(stem))
        notes = (f"no {stem} folder around {PACKAGE_NAME} in the zip: SCIPERs taken from the zip's name",)
    return FoundSubmission(
        key=_key(root, upload.path),
        path=upload.path,
        name=submission.name,
        proj_name=proj,
        participant_id=upload.participant_id,
        participant=upload.participant,
        scipers=scipers,
        sha256=submission_sha256(submission),
        modified=max((p.stat().st_mtime for p in files), default=0.0),
        notes=notes,
    )


def _zip_proj_name(path: Path) -> str | None:
    """The `Proj_…` name of a zip file (after a flat Moodle download's prefix), None if it has none."""
    if not path.is_file():
        return None
    moodle = MOODLE_ENTRY.match(path.stem)
    stem = moodle["rest"] if moodle else path.stem
    return stem if stem.startswith(PROJECT_PREFIX) else None


def _newest_only(found: list[FoundSubmission]) -> tuple[list[FoundSubmission], list[NotGraded]]:
    """Keep the newest upload of each participant and list the others as superseded; flag uploads
    that name SCIPERs another participant's upload names.

    Only the same Moodle participant (or, outside Moodle's layout, the same path) can supersede an
    upload: a `Proj_` name is what its uploader typed, so two participants whose names share a SCIPER
    are both graded and both flagged, and the exports' roster decides who belongs to which team.
    Uploads of one participant with the same newest modification time are a tie: all of them are
    graded and flagged, none picked by its name.
    """
    groups: dict[str, list[FoundSubmission]] = {}
    for submission in found:
        groups.setdefault(submission.participant_id or submission.key, []).append(submission)
    kept, superseded = [], []
    for group in groups.values():
        newest_time = max(s.modified for s in group)
        newest = [s for s in group if s.modified == newest_time]
        older = [s for s in group if s.modified != newest_time]
        tie = ", ".join(s.key for s in newest)
        for submission in newest:
            notes = []
            if older:
                others = ", ".join(s.key for s in older)
                notes.append(f"{len(group)} uploads of this participant: the newest graded ({others} not)")
            if len(newest) > 1:
                notes.append(f"uploads of this participant with equal modification times, all graded: {tie}")
            kept.append(replace(submission, notes=(*submission.notes, *notes)))
        what = f"the newer upload {newest[0].key}" if len(newest) == 1 else f"the newer uploads {tie}"
        superseded += [NotGraded(s.key, f"superseded by {what}") for s in older]
    return _shared_scipers(kept), superseded


def _shared_scipers(kept: list[FoundSubmission]) -> list[FoundSubmission]:
    """`kept` with a note on each upload whose SCIPERs another participant's upload also names."""
    flagged = []
    for submission in kept:
        owner = submission.participant_id or submission.key
        others = [
            f"{other.key} (SCIPER {', '.join(sorted(set(submission.scipers) & set(other.scipers)))})"
            for other in kept
            if (other.participant_id or other.key) != owner and set(submission.scipers) & set(other.scipers)
        ]
        if others:
            note = f"claims the SCIPERs of another submission: {'; '.join(others)}"
            submission = replace(submission, notes=(*submission.notes, note))
        flagged.append(submission)
    return flagged
