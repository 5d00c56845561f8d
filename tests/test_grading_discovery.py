"""Discovery of a class folder: Moodle's layout with the participant id kept, plain zips and folders,
the newest of two uploads graded, and everything else listed with a reason instead of a crash."""

from __future__ import annotations

import os
import shutil
import unicodedata
import zipfile
from pathlib import Path

from harness.grading.discovery import NotGraded, discover, on_disk
from tests.model_fixtures import SUBMISSIONS

FIXTURE = SUBMISSIONS / "rules_numpy" / "Miniproject_2"
MOODLE = "Jane Doe_1234567_assignsubmission_file_"


def zipped(path: Path, top: str, source: Path = FIXTURE, modified: float | None = None) -> Path:
    """A zip of `source` as `top/Miniproject_2/...` (no top folder when `top` is empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{top}/Miniproject_2" if top else "Miniproject_2"
    with zipfile.ZipFile(path, "w") as bundle:
        for file in sorted(source.rglob("*")):
            if file.is_file():
                bundle.write(file, f"{prefix}/{file.relative_to(source).as_posix()}")
    if modified is not None:
        os.utime(path, (modified, modified))
    return path


def test_moodle_folders_plain_zips_and_folders(tmp_path: Path) -> None:
    zipped(tmp_path / MOODLE / "Proj_123456_234567.zip", "Proj_123456_234567")
    zipped(tmp_path / "Max Muster_7654321_assignsubmission_file_Proj_345678.zip", "Proj_345678")
    zipped(tmp_path / "loose.zip", "")
    shutil.copytree(FIXTURE, tmp_path / "Proj_456789" / "Miniproject_2")
    found = {s.key: s for s in discover(tmp_path).submissions}
    assert sorted(found) == [
        f"{MOODLE}/Proj_123456_234567.zip",
        "Max Muster_7654321_assignsubmission_file_Proj_345678.zip",
        "Proj_456789",
        "loose.zip",
    ]
    jane = found[f"{MOODLE}/Proj_123456_234567.zip"]
    assert (jane.participant_id, jane.participant, jane.name) == ("1234567", "Jane Doe", "Proj_123456_234567")
    assert jane.scipers == ("123456", "234567")
    flat = found["Max Muster_7654321_assignsubmission_file_Proj_345678.zip"]
    assert (flat.participant_id, flat.scipers) == ("7654321", ("345678",))
    assert found["Proj_456789"].participant_id is None and found["Proj_456789"].scipers == ("456789",)
    assert (found["loose.zip"].name, found["loose.zip"].scipers) == ("loose", ())


def test_what_is_not_a_submission_is_listed_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "Empty Person_1111111_assignsubmission_file_").mkdir()
    (tmp_path / "Pdf Person_2222222_assignsubmission_file_").mkdir()
    (tmp_path / "Pdf Person_2222222_assignsubmission_file_" / "report.pdf").write_bytes(b"%PDF")
    (tmp_path / "Text Person_3333333_assignsubmission_onlinetext_").mkdir()
    (tmp_path / "grades.csv").write_text("a,b\n")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "nothing here").mkdir()
    (tmp_path / "nothing here" / "readme.txt").write_text("hi")
    (tmp_path / ".DS_Store").write_bytes(b"")
    discovery = discover(tmp_path)
    assert discovery.submissions == ()
    reasons = {item.key: item.reason for item in discovery.not_graded}
    assert reasons == {
        "Empty Person_1111111_assignsubmission_file_": "empty folder: nothing was uploaded",
        "Pdf Person_2222222_assignsubmission_file_": "no .zip or folder among its files (report.pdf)",
        "Text Person_3333333_assignsubmission_onlinetext_": "a Moodle onlinetext entry, not a file upload",
        "grades.csv": "not a .zip or a folder",
        "broken.zip": "not a folder or a .zip archive",
        "nothing here": "no Miniproject_2 folder (and no model.py) found in it",
    }


def test_two_uploads_of_one_participant_the_newest_graded(tmp_path: Path) -> None:
    old = zipped(tmp_path / MOODLE / "first.zip", "Proj_123456", modified=1_700_000_000)
    zipped(tmp_path / MOODLE / "second.zip", "Proj_123456", modified=1_700_000_500)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    discovery = discover(tmp_path)
    assert [s.key for s in discovery.submissions] == [f"{MOODLE}/second.zip"]
    assert discovery.submissions[0].notes == (
        f"2 uploads of this participant: the newest graded ({MOODLE}/first.zip not)",
    )
    assert discovery.not_graded == (
        NotGraded(f"{MOODLE}/first.zip", f"superseded by the newer upload {MOODLE}/second.zip"),
    )


def test_an_upload_of_another_participant_never_supersedes_one(tmp_path: Path) -> None:
    """Mallory's newer upload names Ada's team: both are graded and both flagged (finding 1 of the
    class review), and a SCIPER shared with a third name is flagged too."""
    ada, mallory = (
        "Ada Lovelace_1000001_assignsubmission_file_",
        "Mallory Evil_1000002_assignsubmission_file_",
    )
    carol = "Carol Smith_1000003_assignsubmission_file_"
    zipped(tmp_path / ada / "Proj_100001_100002.zip", "Proj_100001_100002", modified=1_700_000_000)
    zipped(tmp_path / mallory / "Proj_100001_100002.zip", "Proj_100001_100002", modified=1_700_000_001)
    zipped(tmp_path / carol / "Proj_100003.zip", "Proj_100003", modified=1_700_000_002)
    discovery = discover(tmp_path)
    assert discovery.not_graded == ()
    found = {s.key: s for s in discovery.submissions}
    assert sorted(found) == [
        f"{ada}/Proj_100001_100002.zip",
        f"{carol}/Proj_100003.zip",
        f"{mallory}/Proj_100001_100002.zip",
    ]
    assert found[f"{ada}/Proj_100001_100002.zip"].notes == (
        f"claims the SCIPERs of another submission: {mallory}/Proj_100001_100002.zip (SCIPER 100001, 100002)",
    )
    assert found[f"{mallory}/Proj_100001_100002.zip"].notes == (
        f"claims the SCIPERs of another submission: {ada}/Proj_100001_100002.zip (SCIPER 100001, 100002)",
    )
    assert found[f"{carol}/Proj_100003.zip"].notes == ()


def test_uploads_of_one_participant_with_equal_times_are_a_tie_both_graded(tmp_path: Path) -> None:
    zipped(tmp_path / MOODLE / "a_final.zip", "Proj_123456", modified=1_700_000_000)
    zipped(tmp_path / MOODLE / "b_draft.zip", "Proj_123456", modified=1_700_000_000)
    zipped(tmp_path / MOODLE / "c_old.zip", "Proj_123456", modified=1_600_000_000)
    discovery = discover(tmp_path)
    tie = f"{MOODLE}/a_final.zip, {MOODLE}/b_draft.zip"
    assert [s.key for s in discovery.submissions] == [f"{MOODLE}/a_final.zip", f"{MOODLE}/b_draft.zip"]
    for submission in discovery.submissions:
        assert (
            f"uploads of this participant with equal modification times, all graded: {tie}"
            in submission.notes
        )
    assert discovery.not_graded == (
        NotGraded(f"{MOODLE}/c_old.zip", f"superseded by the newer uploads {tie}"),
    )


def test_the_hash_follows_the_files_not_the_times_and_the_out_folder_is_skipped(tmp_path: Path) -> None:
    for copy in ("one", "two"):
        shutil.copytree(FIXTURE, tmp_path / copy / "Proj_123456" / "Miniproject_2")
    (tmp_path / "one" / "out").mkdir()
    (tmp_path / "one" / "out" / "grades.sqlite").write_bytes(b"")
    os.utime(tmp_path / "two" / "Proj_123456" / "Miniproject_2" / "model.py", (1_600_000_000, 1_600_000_000))

    def hashes(copy: str) -> dict[str, str]:
        found = discover(tmp_path / copy, exclude=[tmp_path / copy / "out"])
        assert found.not_graded == ()
        return {s.key: s.sha256 for s in found.submissions}

    assert hashes("one") == hashes("two") and list(hashes("one")) == ["Proj_123456"]
    (tmp_path / "two" / "Proj_123456" / "Miniproject_2" / "model.py").write_text("changed = True\n")
    assert hashes("two")["Proj_123456"] != hashes("one")["Proj_123456"]


def test_keys_are_nfc_whichever_form_the_disk_uses(tmp_path: Path) -> None:
    """macOS's unzip writes NFD names: the key is the NFC one, and leads back to the folder on disk."""
    folder = unicodedata.normalize("NFD", "Zoë Lovelace_1000001_assignsubmission_file_")
    zipped(tmp_path / folder / "Proj_123456.zip", "Proj_123456")
    (key,) = [s.key for s in discover(tmp_path).submissions]
    assert (
        key == unicodedata.normalize("NFC", f"{folder}/Proj_123456.zip")
        and key != f"{folder}/Proj_123456.zip"
    )
    assert on_disk(tmp_path, key) == tmp_path / folder / "Proj_123456.zip"


def test_a_proj_zip_without_its_folder_gives_its_scipers_and_is_flagged(tmp_path: Path) -> None:
    """`Proj_100001_100002.zip` holding Miniproject_2 at its root (finding 8 of the class review)."""
    zipped(tmp_path / MOODLE / "Proj_100001_100002.zip", "")
    zipped(tmp_path / "Max Muster_7654321_assignsubmission_file_Proj_345678.zip", "")
    found = {s.key: s for s in discover(tmp_path).submissions}
    folder = found[f"{MOODLE}/Proj_100001_100002.zip"]
    assert (folder.scipers, folder.proj_name) == (("100001", "100002"), None)
    assert folder.notes == (
        "no Proj_100001_100002 folder around Miniproject_2 in the zip: SCIPERs taken from the zip's name",
    )
    assert found["Max Muster_7654321_assignsubmission_file_Proj_345678.zip"].scipers == ("345678",)


def test_what_a_plain_folder_holds_besides_its_submissions_is_listed(tmp_path: Path) -> None:
    """A folder graded as one submission lists the zips beside it; a folder of zips lists the rest
    (finding 9 of the class review: nothing is dropped without a word)."""
    shutil.copytree(FIXTURE, tmp_path / "batch2" / "Proj_400001" / "Miniproject_2")
    zipped(tmp_path / "batch2" / "Proj_100003.zip", "Proj_100003")
    zipped(tmp_path / "batch3" / "Proj_100004.zip", "Proj_100004")
    (tmp_path / "batch3" / "notes.txt").write_text("x")
    discovery = discover(tmp_path)
    assert [s.key for s in discovery.submissions] == ["batch2", "batch3/Proj_100004.zip"]
    assert discovery.not_graded == (
        NotGraded("batch2/Proj_100003.zip", "a zip inside batch2, which is graded as one submission"),
        NotGraded("batch3/notes.txt", "not a .zip, in a folder of zips"),
    )
