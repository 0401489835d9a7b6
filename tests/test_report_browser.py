"""The report in a real browser: headless Chromium at 1280x800 and at a 390-pixel-wide phone,
and printed to PDF on A4. One report, rendered once; each test checks many things.

Skipped, with the reason, only where no Chromium binary exists; under CI (CI set) a missing
Chromium fails instead, since .ci/run installs it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unicodedata import normalize

import numpy as np
import pytest
from matplotlib import image
from typer.testing import CliRunner

from kbtool.cli import app
from tests.browser import Chromium, find_chromium

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
SAMPLE = SAMPLES / "posyandu_metro_2022_2024.csv"
PHONE_WIDTH = 390

# every figure's box, what it draws, and whether it lies within the viewport's width
FIGURES_JS = """
Array.from(document.querySelectorAll('figure')).map(f => {
  const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
  const style = getComputedStyle(svg);
  return {id: f.id, x: box.left + window.scrollX, y: box.top + window.scrollY, width: box.width,
          height: box.height, shapes: svg.querySelectorAll('path, use, rect, circle').length,
          shown: style.display !== 'none' && style.visibility !== 'hidden' && style.opacity !== '0',
          title: f.querySelector('h3').textContent,
          caption: f.querySelector('figcaption').textContent};
})
"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    binary = find_chromium()
    if binary is None:
        reason = "no chromium binary on PATH (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs it, so CI must have it")
        pytest.skip(reason)
    with Chromium(binary) as browser:
        yield browser


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample's report in Bahasa Indonesia, as the issue's 'done when' command makes it,
    with the Kampung KB section (--groups) so that its figure is checked too."""
    page = tmp_path_factory.mktemp("report") / "report.html"
    groups = ["--groups", str(SAMPLES / "kampung_kb.csv")]
    result = CliRunner().invoke(
        app, ["report", str(SAMPLE), "-o", str(page), "--lang", "id", *groups]
    )
    assert result.exit_code == 0, result.stderr
    return page.as_uri()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots stay after the run (pytest keeps its last three temp folders)."""
    return tmp_path_factory.mktemp("screenshots")


def inked_share(png: bytes) -> float:
    """The share of pixels of a PNG that are not white (or nearly)."""
    pixels = image.imread(io.BytesIO(png), format="png")[..., :3]
    return float(np.mean(pixels.min(axis=-1) < 0.9))


def check_figures(browser: Chromium, viewport_width: int) -> list[dict[str, Any]]:
    """Every figure shown, of a real size, inside the viewport's width, and drawn on."""
    figures: list[dict[str, Any]] = browser.evaluate(FIGURES_JS)
    assert [f["id"] for f in figures] == [
        "figure-where-to-act", "figure-priority-quadrant", "figure-area-trend",
        "figure-trend-by-kecamatan", "figure-event-study",
    ]  # fmt: skip
    for figure in figures:
        assert figure["shown"], figure["id"]
        assert figure["width"] > 300 and figure["height"] > 200, figure
        assert figure["x"] >= 0 and figure["x"] + figure["width"] <= viewport_width + 0.5, figure
        assert figure["shapes"] > 20, figure
        clip = {k: figure[k] for k in ("x", "y", "width", "height")}
        # a chart covers well over 2% of its box with ink; a blank or unrendered box, none
        assert inked_share(browser.screenshot(clip)) > 0.02, figure["id"]
    return figures


def check_self_contained(browser: Chromium) -> None:
    assert browser.log.errors == []
    leaving = [url for url in browser.log.requests if not url.startswith("file:")]
    assert leaving == []
    # and nothing waits to be fetched: no src, no external href, no CSS url() but #ids
    assert browser.evaluate("document.querySelectorAll('[src], link, script').length") == 0


def test_desktop(chromium: Chromium, page_url: str, screenshots: Path) -> None:
    chromium.open(page_url, 1280, 800, mobile=False)
    figures = check_figures(chromium, 1280)
    # the dot chart and the quadrant stand side by side on a wide screen
    assert figures[0]["y"] == figures[1]["y"] and figures[1]["x"] > figures[0]["x"]
    assert chromium.evaluate("document.documentElement.scrollWidth") <= 1280
    (screenshots / "desktop-1280x800.png").write_bytes(chromium.screenshot())
    check_self_contained(chromium)


def test_phone(chromium: Chromium, page_url: str, screenshots: Path) -> None:
    chromium.open(page_url, PHONE_WIDTH, 844, mobile=True)
    # no horizontal scroll: the page is no wider than the phone, at its own scale
    widths = chromium.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, visualViewport.scale]"
    )
    assert widths == [PHONE_WIDTH, PHONE_WIDTH, 1]
    figures = check_figures(chromium, PHONE_WIDTH)
    assert all(f["width"] >= PHONE_WIDTH - 40 for f in figures)  # each the phone's width
    text_px = chromium.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert text_px >= 16  # legible without zooming
    (screenshots / "phone-390.png").write_bytes(chromium.screenshot())
    check_self_contained(chromium)


def test_print_to_pdf(chromium: Chromium, page_url: str, screenshots: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    chromium.open(page_url, 1280, 800, mobile=False)
    figures = chromium.evaluate(FIGURES_JS)
    pdf = chromium.pdf()
    (screenshots / "report.pdf").write_bytes(pdf)
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    # A4 (595 x 842 pt): seven sections, five figures and the tables take several pages, not dozens
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {
        (595, 842)
    }
    assert 5 <= len(pages) <= 16
    # NFKC: the PDF's ligatures ("ﬁ") back to letters
    texts = [re.sub(r"\s+", "", normalize("NFKC", page.extract_text())) for page in pages]
    for figure in figures:
        # a figure's title is above its chart and its caption below: on one page, it is whole
        caption = re.sub(r"\s+", "", figure["caption"])
        title = re.sub(r"\s+", "", figure["title"])
        on = [i for i, text in enumerate(texts) if caption in text]
        assert len(on) == 1, figure["id"]
        assert title in texts[on[0]], f"{figure['id']} is cut across pages {on[0]}-{on[0] + 1}"
    check_self_contained(chromium)
