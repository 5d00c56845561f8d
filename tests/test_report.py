"""Specification of the report record, its JSON document and schema, and the files it is written to."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from harness.errors import DataError
from harness.report import (
    dumps_report,
    report_to_json,
    validate_report_json,
    without_timings,
    write_reports,
)
from harness.reproducibility import cpu_model, sha256_file
from harness.results import Category, CheckResult, Outcome
from harness.tables import render_markdown
from tests import report_samples


def test_summary_totals_required_verdict_psnr_and_epoch_ratio() -> None:
    summary = report_samples.report().summary
    # conv2d 14 x 37/40 + ReLU 4 x 0.5 (adapter) + layout.files 2 + PSNR 10 + epoch 5; rules.static is set-up
    assert summary.points == pytest.approx(14 * 37 / 40 + 2 + 2 + 10 + 5)
    assert summary.max_points == 95  # no Upsampling class, no folder-name result: optional, out of 95
    assert summary.passed_required is False
    assert summary.failed_required[0] == "rules.static"
    assert "rules.static" in summary.needs_rerun and "layout.files" not in summary.needs_rerun
    assert (summary.psnr_db, summary.psnr_metric, summary.noisy_psnr_db) == (24.31, "grading", 20.72)
    assert (summary.epoch_s, summary.epoch_limit_s, summary.epoch_ratio) == (
        420.0,
        1800.0,
        pytest.approx(420 / 1800),
    )


def test_checks_are_in_category_then_rubric_order_whatever_order_they_came_in() -> None:
    checks = report_samples.report(list(reversed(report_samples.results()))).checks
    categories = [scored.result.category for scored in checks]
    assert categories == sorted(categories, key=list(Category).index)
    blocks = [s.result.id for s in checks if s.result.category is Category.BLOCKS]
    assert blocks[:3] == ["blocks.conv2d", "blocks.transpose-conv2d", "blocks.relu"]


def test_json_validates_and_holds_submission_rubric_and_reproducibility() -> None:
    document = report_to_json(report_samples.report())
    validate_report_json(document)
    assert document["schema_version"] == "1.0"
    assert [f["path"] for f in document["submission"]["files"]] == [
        "__init__.py",
        "bestmodel.pth",
        "model.py",
    ]
    repro = document["reproducibility"]
    assert repro["bestmodel_sha256"] == "b" * 64
    assert repro["submission_files"]["model.py"] == "a" * 64
    assert repro["rubric_sha256"] == document["rubric"]["sha256"]
    assert repro["torch"].startswith("2.") and repro["seed"] == 0
    assert repro["git_commit"] is None or re.fullmatch("[0-9a-f]{40}", repro["git_commit"])


def test_json_is_strict_json_with_non_finite_details_as_strings() -> None:
    text = dumps_report(report_to_json(report_samples.report()))
    conv = next(c for c in json.loads(text)["checks"] if c["id"] == "blocks.conv2d")
    assert conv["details"]["max_abs_error"] == "NaN"
    assert conv["points"] == pytest.approx(14 * 37 / 40)


def test_json_is_identical_for_identical_runs_apart_from_timings() -> None:
    first = report_samples.report(report_samples.results(epoch_s=420.0, durations=1.0))
    second = report_samples.report(
        report_samples.results(epoch_s=433.7, durations=2.5),
        started_at=datetime(2023, 1, 1, tzinfo=timezone.utc),
        wall_s=99.0,
    )
    first_doc, second_doc = report_to_json(first), report_to_json(second)
    assert first_doc != second_doc
    layout = next(c for c in without_timings(first_doc)["checks"] if c["id"] == "layout.files")
    assert layout["details"] == {"files": [{"name": "model.py"}]}  # durations dropped, the rest kept
    assert dumps_report(without_timings(first_doc)) == dumps_report(without_timings(second_doc))


def test_a_different_verdict_is_not_hidden_by_without_timings() -> None:
    results = report_samples.results()
    results[2] = CheckResult("blocks.conv2d", Category.BLOCKS, Outcome.PASS, "all 40 configurations match")
    first = without_timings(report_to_json(report_samples.report()))
    second = without_timings(report_to_json(report_samples.report(results)))
    assert first != second


def _drop(path: str) -> Any:
    def corrupt(document: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[key]
        del document[last]

    return corrupt


def _set(path: str, value: Any) -> Any:
    def corrupt(document: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[int(key)] if key.isdigit() else document[key]
        document[last] = value

    return corrupt


@pytest.mark.parametrize(
    "corrupt",
    [
        _drop("summary"),
        _drop("run.durations_s"),
        _set("schema_version", "0.9"),
        _set("checks.0.outcome", "passed"),
        _set("checks.0.points", -1),
        _set("checks.0.score", 1.5),
        _set("checks.0.message", "two\nlines"),
        _set("checks.0.fault", "student"),
        _set("submission.files.0.sha256", "not-a-hash"),
        _set("summary.passed_required", "yes"),
        _set("reproducibility.threads", 0),
        _set("extra", 1),
    ],
    ids=[
        "no-summary", "no-durations", "old-schema-version", "unknown-outcome", "negative-points",
        "score-above-1", "multi-line-message", "unknown-fault", "bad-sha256", "non-bool-verdict",
        "zero-threads", "unknown-top-key",
    ],
)  # fmt: skip
def test_a_corrupted_report_fails_schema_validation(corrupt: Any) -> None:
    document = copy.deepcopy(report_to_json(report_samples.report()))
    corrupt(document)
    with pytest.raises(jsonschema.ValidationError):
        validate_report_json(document)


@pytest.mark.parametrize(
    ("formats", "written"),
    [
        (["table"], set()),
        (["json"], {"json", "png"}),
        (["md"], {"md", "png"}),
        (["table", "md", "json"], {"json", "md", "png"}),
    ],
    ids=["table-writes-nothing", "json", "md", "all"],
)
def test_write_reports_writes_the_requested_files(
    tmp_path: Path, formats: list[str], written: set[str]
) -> None:
    results = report_samples.results()
    paths = write_reports(report_samples.report(results), results, tmp_path / "out", formats)
    assert set(paths) == written
    assert all(path.is_file() and path.parent == tmp_path / "out" for path in paths.values())


def test_written_json_and_markdown_agree_with_the_report(tmp_path: Path) -> None:
    results = report_samples.results()
    report = report_samples.report(results)
    paths = write_reports(report, results, tmp_path, ["json", "md"])
    assert json.loads(paths["json"].read_text()) == report_to_json(report)
    assert "![val samples: noisy | output | clean](samples.png)" in paths["md"].read_text()
    with Image.open(paths["png"]) as image:
        assert image.format == "PNG"


def test_without_samples_no_png_and_no_link(tmp_path: Path) -> None:
    results = [r for r in report_samples.results() if r.id != "psnr.pretrained"]
    paths = write_reports(report_samples.report(results), results, tmp_path, ["md"])
    assert set(paths) == {"md"}
    assert "samples.png" not in paths["md"].read_text()


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="html"):
        write_reports(report_samples.report(), [], tmp_path, ["html"])


def test_data_files_are_hashed_into_the_reproducibility_block(tmp_path: Path) -> None:
    data = tmp_path / "val_data.pkl"
    data.write_bytes(b"\x00\x01" * 1_000_000)  # larger than one read chunk
    report = report_samples.report(data_files=(data,))
    assert report.reproducibility.data_files == {
        "val_data.pkl": hashlib.sha256(data.read_bytes()).hexdigest()
    }
    assert sha256_file(data) == hashlib.sha256(data.read_bytes()).hexdigest()


def test_the_reference_package_is_hashed_into_the_reproducibility_block(tmp_path: Path) -> None:
    """The reference tops the PSNR scale and calibrates the timing: a changed reference shows."""
    reference = tmp_path / "Miniproject_2"
    (reference / "__pycache__").mkdir(parents=True)
    (reference / "model.py").write_text("x = 1\n")
    (reference / "__pycache__" / "model.cpython-312.pyc").write_bytes(b"written on import")
    first = report_samples.report(reference_dir=reference)
    (reference / "__pycache__" / "model.cpython-312.pyc").write_bytes(b"written again")
    assert report_samples.report(reference_dir=reference).reproducibility == first.reproducibility
    (reference / "bestmodel.pth").write_bytes(b"weights")
    changed = report_samples.report(reference_dir=reference).reproducibility.reference_sha256
    assert len({first.reproducibility.reference_sha256, changed}) == 2 and changed is not None
    assert report_samples.report().reproducibility.reference_sha256 is None
    markdown = render_markdown(report_samples.report(reference_dir=reference))
    assert re.search(rf"\| reference +\| sha256 `{changed}` +\|", markdown)
    validate_report_json(report_to_json(first))


def test_an_unreadable_data_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train_data\.pkl"):
        report_samples.report(data_files=(tmp_path / "train_data.pkl",))


def test_cpu_model_is_named() -> None:
    assert cpu_model().strip()
