"""The class report on a graded class: data, self-contained HTML, Markdown, and a real browser."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image

from harness.exports.class_report import build_class_report, check_pass_rates, write_class_report
from harness.exports.figures import PsnrBaselines
from harness.exports.rows import submission_rows
from harness.exports.similarity import Fragment, SimilarPair
from tests.class_fixtures import MEMBERS, graded_class

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def a_pair():
    graded = graded_class()
    fragment = Fragment(
        "model.py", (3, 4), "def f(x):\n    return x", "model.py", (7, 8), "def g(y):\n    return y"
    )
    return SimilarPair(graded[2].key, graded[4].key, 0.91, 0.86, (fragment,))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    report = build_class_report(
        graded_class(),
        "store test (5 submissions)",
        PsnrBaselines(None, 23.3, 26.7),
        pairs=[a_pair()],
        similarity_threshold=0.6,
    )
    out = tmp_path_factory.mktemp("class-report")
    return report, out, write_class_report(report, out)


def test_pass_rates_count_only_judged_checks():
    rows = submission_rows(graded_class())
    rates = {rate.check_id: rate for rate in check_pass_rates(rows)}
    # rules.runtime was judged for the reference (pass) and the hidden F.conv2d (forbidden) only: the
    # other fixtures did not run that group (not run: 0 of 0, left out)
    assert (rates["rules.runtime"].passed, rates["rules.runtime"].judged) == (1, 2)
    ordered = [rate.rate for rate in check_pass_rates(rows)]
    assert ordered == sorted(ordered)


def test_attention_list_names_each_concern(written):
    report, _, _ = written
    texts = {flag.key: [] for flag in report.flags}
    for flag in report.flags:
        texts[flag.key].append(flag.concern.value)
    assert "forbidden" in texts[MEMBERS[1].key]
    assert "similar" in texts[MEMBERS[2].key] and "similar" in texts[MEMBERS[4].key]
    assert "rerun" not in texts.get(MEMBERS[3].key, [])  # graded with the blocks group only: no set-up fault
    assert MEMBERS[0].key not in texts  # the reference, with every group run, needs nobody


def test_html_is_self_contained_and_links_each_submission(written):
    report, out, paths = written
    page = paths["html"].read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert image.size[0] > 500
    for key, link in report.pages.items():
        assert f'href="{link}"' in page
        assert html.escape(key) in (out / link).read_text()
    assert page.count('class="sortable"') == 14
    assert "def f(x):" in page and "def g(y):" in page


def test_markdown_links_figures_and_pages_that_exist(written):
    _, out, paths = written
    text = paths["md"].read_text()
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert len(targets) >= 4 + 5
    for target in targets:
        assert (out / target).is_file(), target


def test_report_of_an_empty_class(tmp_path):
    report = build_class_report([], "empty store", PsnrBaselines(None, None, None))
    paths = write_class_report(report, tmp_path)
    assert "No graded submission." in paths["html"].read_text()


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(browser() is None, reason="no Chromium installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(written, tmp_path):
    _, _, paths = written
    shot = tmp_path / "shot.png"
    command = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        paths["html"].resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    dom = subprocess.run(
        [*command[:-2], "--dump-dom", paths["html"].resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert shot.is_file(), "Chromium wrote no screenshot"
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        grey = image.convert("L")
        # the page drew something: text, tables and figures, not a blank or an error page
        histogram = grey.histogram()
        assert sum(histogram[:128]) > 0.01 * sum(histogram)
        # the four figures decoded: each is a wide light image with dark axes, found in the DOM
    assert dom.count("data:image/png;base64,") == 4
    assert "Submissions a human must look at" in dom
