"""`kbtool report --groups FILE`: the programme section says what `kbtool compare` says on the
same input, its chart draws compare's event study, and a bad groups file is one clear error."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbtool.compare import columns_needed as compare_columns
from kbtool.compare import compare_groups, read_groups
from kbtool.measurements import load_measurements
from kbtool.report.programme import programme_section
from kbtool.views.report import WORDS
from tests.html_tables import read_report
from tests.test_report import run

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
GROUPS = SAMPLES / "kampung_kb.csv"


def compare_csv(table: str) -> pd.DataFrame:
    code, out, err = run(
        "compare", str(CANONICAL), "--groups", str(GROUPS), "--table", table, "-f", "csv"
    )
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The sample's report with the sample groups file: its HTML and stderr."""
    path = tmp_path_factory.mktemp("programme") / "report.html"
    code, out, err = run("report", str(CANONICAL), "--groups", str(GROUPS), "-o", str(path))
    assert code == 0, err
    assert out == ""
    return path.read_text(encoding="utf-8"), err


def section(html: str) -> str:
    match = re.search(r'<section id="programme">.*?</section>', html, re.S)
    assert match is not None
    return match.group(0)


def test_the_section_comes_before_data_quality_with_its_figure(page: tuple[str, str]) -> None:
    html, err = page
    order = re.findall(r'<section id="([^"]+)"', html)
    assert order == [
        "summary", "where-to-act", "trend", "indicators", "programme", "quality", "method"
    ]  # fmt: skip
    text = section(html)
    assert "<h2>Kampung KB against the other kelurahan</h2>" in text
    assert 'id="figure-event-study"' in text and "<svg" in text
    assert "in the 8 kelurahan of Kampung KB than in the other 14?" in text
    assert "How it was computed" in text
    # the notes kbtool compare says on stderr are in the page and said on stderr too
    assert "the programme started in different years (2023, 2024)" in text
    assert "the programme started in different years (2023, 2024)" in err


def test_effects_and_sentence_equal_kbtool_compare(page: tuple[str, str]) -> None:
    html, _ = page
    effects = compare_csv("effects")
    tables, _ = read_report(html)
    shown = tables["table-effects"].records()
    assert len(shown) == len(effects) == 4  # stunting and mean HAZ, twfe and Callaway-Sant'Anna
    for cells, row in zip(shown, effects.to_dict("records"), strict=True):
        in_points = not np.isnan(row["did_pp"])
        decimals = 1 if in_points else 2
        value = row["did_pp"] if in_points else row["did_z"]
        assert float(cells["Effect"]) == round(value, decimals)
        low, high = (float(x) for x in cells["95% CI"].split(" to "))
        assert (low, high) == (round(row["ci_low"], decimals), round(row["ci_high"], decimals))
        assert float(cells["p"]) == round(row["p_value"], 3)
        assert float(cells["Randomization p"]) == round(row["p_randomization"], 3)
        assert cells["Units (programme)"] == f"{row['treated_units']} / {row['units']}"
        assert int(cells["Child-years"]) == row["child_years"]
    # the headline: the stunting row of Callaway & Sant'Anna (the starts are staggered)
    headline = effects[effects["estimator"] == "callaway_santanna"].iloc[0]
    sentence = (
        f"Stunting {'fell' if headline['did_pp'] < 0 else 'rose'} "
        f"{abs(headline['did_pp']):.1f} points more in Kampung KB kelurahan (95% CI "
        f"{headline['ci_low']:.1f} to {headline['ci_high']:.1f}; randomization p = "
        f"{headline['p_randomization']:.2f}; 8 of 22 kelurahan)"
    )
    assert f'<p class="plain">{sentence}</p>' in section(html)


def test_the_chart_draws_kbtool_compares_event_study() -> None:
    programme = read_groups(GROUPS)
    loaded = load_measurements([str(CANONICAL)], None, compare_columns(programme, ("stunting",)))
    comparison = compare_groups(loaded.frames(), programme)
    _, charts = programme_section(comparison, WORDS["en"], "en")
    assert [chart.key for chart in charts] == ["event-study"]
    events = compare_csv("event_study")
    for axes, (outcome, column) in zip(
        charts[0].figure.axes, (("stunting", "did_pp"), ("mean_haz", "did_z")), strict=True
    ):
        want = events[events["outcome"] == outcome]
        points = axes.lines[-1]  # after the lines of no effect and of the start
        assert np.asarray(points.get_xdata()).tolist() == want["event_time"].tolist()
        assert np.allclose(np.asarray(points.get_ydata()), want[column], rtol=1e-12)


@pytest.mark.parametrize(
    ("groups", "code", "message"),
    [
        ("kelurahan,group,since\nSukarame,KB,2023\n", 1, "none of its 1 kelurahan is in the data"),
        ("kelurahan,group,since\nMetro,KB,2022\n", 1, "needs a year of data before it"),
        ("kelurahan,program,tahun\nMetro,KB,2023\n", 1, "columns kbtool does not know: 'tahun'"),
        (None, 1, "groups.csv"),  # no such file
    ],
)
def test_a_bad_groups_file_is_one_clear_error_and_no_file(
    tmp_path: Path, groups: str | None, code: int, message: str
) -> None:
    path = tmp_path / "groups.csv"
    if groups is not None:
        path.write_text(groups, encoding="utf-8")
    report = tmp_path / "report.html"
    got, out, err = run("report", str(CANONICAL), "--groups", str(path), "-o", str(report))
    assert got == code
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("kbtool: error:") and message in last, err
    assert "Traceback" not in err
    assert not report.exists()


def test_the_workbook_has_the_effects_as_a_sheet(tmp_path: Path) -> None:
    book = tmp_path / "report.xlsx"
    code, _, err = run("report", str(CANONICAL), "--groups", str(GROUPS), "-o", str(book))
    assert code == 0, err
    sheets = pd.read_excel(book, sheet_name=None, engine="openpyxl")
    assert list(sheets)[:6] == [
        "summary", "where-to-act", "trend", "indicators", "programme", "quality"
    ]  # fmt: skip
    effects = compare_csv("effects")
    sheet = sheets["programme"]
    assert sheet.columns.tolist() == effects.columns.tolist()
    assert sheet["estimator"].tolist() == effects["estimator"].tolist()
    for column in ("did_pp", "did_z", "ci_low", "ci_high", "p_value", "p_randomization"):
        assert np.allclose(sheet[column], effects[column], equal_nan=True, rtol=1e-12), column


def test_the_groups_table_equals_kbtool_compares(page: tuple[str, str]) -> None:
    tables, _ = read_report(page[0])
    shown = tables["table-groups"].records()
    groups = compare_csv("groups")
    assert len(shown) == len(groups) == 6  # two groups, three years
    for cells, row in zip(shown, groups.to_dict("records"), strict=True):
        assert (int(cells["Year"]), cells["Group"]) == (row["year"], row["group"])
        assert (int(cells["Units"]), int(cells["n"])) == (row["units"], row["n"])
        assert int(cells["Stunted"]) == row["stunted"]
        assert float(cells["%"]) == round(row["stunting_pct"], 1)
        low, high = (float(x) for x in cells["95% CI"].split("-"))
        assert (low, high) == (round(row["stunting_ci_low"], 1), round(row["stunting_ci_high"], 1))


def test_without_since_only_the_groups_and_why(tmp_path: Path) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text("kelurahan,group\nMetro,Kampung KB\nYosodadi,Kampung KB\n", encoding="utf-8")
    page = tmp_path / "r.html"
    code, _, err = run("report", str(CANONICAL), "--groups", str(groups), "-o", str(page))
    assert code == 0, err
    text = section(page.read_text(encoding="utf-8"))
    assert "the groups file has no since column" in text
    assert 'id="table-groups"' in text
    assert "event-study" not in text and 'id="table-effects"' not in text


@pytest.fixture(scope="module")
def indonesian_section(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The programme section of the sample's report in Indonesian."""
    path = tmp_path_factory.mktemp("programme-id") / "laporan.html"
    code, _, err = run(
        "report", str(CANONICAL), "--groups", str(GROUPS), "--lang", "id", "-o", str(path)
    )
    assert code == 0, err
    return section(path.read_text(encoding="utf-8"))


def test_in_indonesian_the_method_is_indonesian_too(indonesian_section: str) -> None:
    text = indonesian_section
    assert "Cara perhitungan" in text and "bahasa Inggris" not in text
    for english in ("selection: each child", "effects, twfe: OLS of the outcome", "groups: prev"):
        assert english not in text
    assert "pemilihan: setiap anak sekali per tahun" in text


def test_in_indonesian_the_sections_numbers_have_decimal_commas(indonesian_section: str) -> None:
    text = indonesian_section
    effects = compare_csv("effects")
    did = effects.loc[effects["outcome"].eq("stunting"), "did_pp"].iloc[0]
    assert f"{did:.1f}".replace(".", ",").lstrip("-") in text
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert cells and not [c for c in cells if re.search(r"\d\.\d{1,2}(?!\d)", c)]


def test_unbounded_and_missing_event_study_intervals(tmp_path: Path) -> None:
    """Two kelurahan in all: the event study's intervals are unbounded, as the effects', and the
    chart draws each as a dashed line across its panel, not a point that reads as certain; the
    page's notes say so. One programme kelurahan among 22: no interval, and the note says why."""
    frame = pd.read_csv(CANONICAL, dtype=str)
    two = tmp_path / "two.csv"
    frame[frame["kelurahan"].isin(["Metro", "Imopuro"])].to_csv(two, index=False)
    groups = tmp_path / "groups.csv"
    groups.write_text("kelurahan,group,since\nMetro,Kampung KB,2023\n")
    programme = read_groups(groups)
    loaded = load_measurements([str(two)], None, compare_columns(programme, ("stunting",)))
    comparison = compare_groups(loaded.frames(), programme, draws=199)
    _, charts = programme_section(comparison, WORDS["en"], "en")
    for axes in charts[0].figure.axes:
        dashed = [line for line in axes.lines if line.get_linestyle() == "--"]
        assert sorted(float(np.asarray(line.get_xdata())[0]) for line in dashed) == [0.0, 1.0]
    path = tmp_path / "two.html"
    code, _, err = run("report", str(two), "--groups", str(groups), "-o", str(path))
    assert code == 0, err
    text = unescape(section(path.read_text(encoding="utf-8")))
    assert "the 95% interval is unbounded, and so are the event study's" in text
    assert "A dashed line across the panel is an unbounded interval" in text
    path = tmp_path / "one.html"
    code, _, err = run("report", str(CANONICAL), "--groups", str(groups), "-o", str(path))
    assert code == 0, err
    assert "event study, years 0, 1 since the start: one kelurahan only" in section(
        path.read_text(encoding="utf-8")
    )


def test_in_indonesian_the_charts_tick_numbers_have_decimal_commas() -> None:
    """The event study's z axis ticks (0.05 apart) read 0,05 in an Indonesian report, as the
    rest of its numbers do; the English chart keeps 0.05."""
    programme = read_groups(GROUPS)
    loaded = load_measurements([str(CANONICAL)], None, compare_columns(programme, ("stunting",)))
    comparison = compare_groups(loaded.frames(), programme)
    ticks = {}
    for lang in ("en", "id"):
        _, charts = programme_section(comparison, WORDS[lang], lang)
        z_axes = charts[0].figure.axes[1]  # mean HAZ: effects of a few hundredths
        ticks[lang] = z_axes.yaxis.get_major_formatter().format_ticks(list(z_axes.get_yticks()))
    assert any(re.search(r"\d\.\d", label) for label in ticks["en"])
    assert not any("." in label for label in ticks["id"])
    assert ticks["id"] == [label.replace(".", ",") for label in ticks["en"]]


def test_indonesian_names_percentage_points_in_words(tmp_path: Path) -> None:
    """An Indonesian report said "(pp)" after the compare outcomes (effects table, event-study
    chart, notes): labels say "(poin)", sentences and the trend table "poin persen", as
    Indonesian writes percentage points; the English report keeps "(pp)" and "points"."""
    path = tmp_path / "id.html"
    code, _, err = run(
        "report", str(CANONICAL), "--groups", str(GROUPS), "--lang", "id", "-o", str(path)
    )
    assert code == 0, err
    html = unescape(path.read_text(encoding="utf-8"))
    assert "(pp)" not in html
    assert "stunting (TB/U < -2 SD) (poin)" in section(html)  # table, chart, notes
    assert "poin persen lebih banyak di kelurahan Kampung KB" in section(html)
    assert "Perubahan (poin persen)" in html and "−3,3 poin persen" in html
    english = tmp_path / "en.html"
    code, _, err = run("report", str(CANONICAL), "--groups", str(GROUPS), "-o", str(english))
    assert code == 0, err
    text = unescape(english.read_text(encoding="utf-8"))
    assert "(HAZ < -2) (pp)" in text and "−3.3 points" in text and "Change (points)" in text
