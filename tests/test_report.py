"""`kbtool report` without a browser: its numbers read back from the HTML equal kbtool
prevalence, trend and quality on the same input; bad inputs; the workbook and --charts."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.measurements import load_measurements
from kbtool.quality import quality_report
from kbtool.report import Items, ReportOptions, assemble_report, build_sections, columns_needed
from kbtool.store.open import create_or_open
from tests.html_tables import as_number, read_report

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
ONE_YEAR = SAMPLES / "eppgbm_metro_2024.csv"
# a posyandu name a page must show as text, never run
SCRIPT_NAME = "<script>alert('x')</script> Melati"

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def csv_of(*args: str) -> pd.DataFrame:
    code, out, err = run(*args, "-f", "csv")
    assert code == 0, err
    return pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])


def one_decimal(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.1f}"


def by_key(frame: pd.DataFrame, *keys: str) -> dict[Any, dict[Any, Any]]:
    """The rows of a CLI result by their key columns."""
    rows = frame.to_dict("records")
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


@dataclass
class Rendered:
    html: str
    charts: Path
    stderr: str


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    folder = tmp_path_factory.mktemp("report")
    page = folder / "report.html"
    code, out, err = run("report", str(CANONICAL), "-o", str(page), "--charts", str(folder / "c"))
    assert code == 0, err
    assert out == ""  # stdout carries data only, and the data went to the file
    return Rendered(page.read_text(encoding="utf-8"), folder / "c", err)


def test_where_to_act_equals_kbtool_prevalence_and_trend(sample_report: Rendered) -> None:
    tables, _ = read_report(sample_report.html)
    shown = {r["Kelurahan"]: r for r in tables["table-where-to-act"].records()}
    prevalence = csv_of("prevalence", str(CANONICAL))
    latest = prevalence[(prevalence["year"] == 2024) & (prevalence["kelurahan"] != "All")]
    trend = by_key(csv_of("trend", str(CANONICAL)), "kelurahan")
    assert set(shown) == set(latest["kelurahan"])  # every kelurahan has >= 25 children here
    for row in latest.to_dict("records"):
        cells = shown[row["kelurahan"]]
        assert as_number(cells["Children"]) == row["n"]
        assert as_number(cells["Stunted"]) == row["stunted"]
        assert cells["%"] == one_decimal(row["stunting_pct"])
        low, high = cells["95% CI"].split("–")
        want = (one_decimal(row["stunting_ci_low"]), one_decimal(row["stunting_ci_high"]))
        assert (low, high) == want
        assert cells["Target"] == trend[row["kelurahan"]]["status"]
    ranked = [as_number(r["%"]) for r in tables["table-where-to-act"].records()]
    assert ranked == sorted(ranked, reverse=True)


def test_summary_and_trend_equal_kbtool_trend(sample_report: Rendered) -> None:
    tables, key_values = read_report(sample_report.html)
    trend = by_key(csv_of("trend", str(CANONICAL), "--by", "kecamatan"), "kecamatan")
    area = trend["All"]
    assert key_values == [
        f"{area['pct_2024']:.1f}%",
        f"{area['change_pp']:+.1f} points".replace("-", "−"),
        area["status"],
    ]
    for cells in tables["table-trend"].records():
        row = trend["All" if cells["Kecamatan"] == "Kota Metro" else cells["Kecamatan"]]
        for year in (2022, 2023, 2024):
            assert cells[str(year)] == one_decimal(row[f"pct_{year}"])
        assert as_number(cells["AARR %"]) == round(row["aarr"], 1)
        assert as_number(cells["Needed %"]) == round(row["required_aarr"], 1)
        assert cells["Target"] == row["status"]


def test_indicators_equal_kbtool_prevalence_all(sample_report: Rendered) -> None:
    tables, _ = read_report(sample_report.html)
    reference = csv_of("prevalence", str(CANONICAL), "--indicator", "all", "--by", "kecamatan")
    reference_rows = by_key(reference[reference["year"] == 2024], "kecamatan", "indicator")
    records = tables["table-indicators"].records()
    assert len(records) == 6 * 4  # 5 kecamatan and the area, four indicators on the page
    for cells in records:
        group = "All" if cells["Kecamatan"] == "Kota Metro" else cells["Kecamatan"]
        indicator = cells["Indicator"].split(" ")[0]
        row = reference_rows[(group, indicator)]
        assert as_number(cells["Children"]) == row["n"]
        assert as_number(cells["Cases"]) == row["cases"]  # of each indicator, not stunted
        assert cells["%"] == one_decimal(row["pct"])
        assert cells["95% CI"] == f"{row['ci_low']:.1f}–{row['ci_high']:.1f}"


def test_too_few_children_for_the_area_in_every_year_is_not_an_internal_error(
    tmp_path: Path,
) -> None:
    """A kelurahan's own register with fewer children than --min-n every year (Hadimulyo Timur
    has 38-46) is reported with its trend as insufficient data, not a traceback."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    register = tmp_path / "one.csv"
    frame[frame["kelurahan"] == "Hadimulyo Timur"].to_csv(register, index=False)
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page), "--min-n", "50")
    assert code == 0, err
    assert "Warning" not in err
    _, key_values = read_report(page.read_text(encoding="utf-8"))
    assert key_values[-1] == "insufficient data"


@pytest.mark.parametrize(
    ("column", "place", "title"),
    [
        ("kelurahan", "Banjarsari", "Kelurahan Banjarsari"),
        ("kecamatan", "Metro Utara", "Kecamatan Metro Utara"),
    ],
)
def test_one_place_is_named_as_itself_not_as_the_city(
    tmp_path: Path, column: str, place: str, title: str
) -> None:
    """A lurah's report on their kelurahan's register, a puskesmas's on its kecamatan's (Metro
    Utara's four kelurahan): the figures are the place's, so the page must not call them Kota
    Metro's."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    register = tmp_path / "one.csv"
    frame[frame[column] == place].to_csv(register, index=False)
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert f"<h1>{title}: stunting report 2022–2024</h1>" in html
    assert "Kota Metro" not in html


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "(February, August only)"), ("id", "(Februari, Agustus saja)")]
)
def test_months_chosen_are_said_under_the_title(tmp_path: Path, lang: str, said: str) -> None:
    """--months 8,2 (bulan timbang) counts those months only: a reader of the page's top must
    know, not only one who reads the method at its end."""
    page = tmp_path / "r.html"
    code, _, err = run("report", str(CANONICAL), "--months", "8,2", "--lang", lang, "-o", str(page))
    assert code == 0, err
    top = page.read_text(encoding="utf-8").split("<h2", 1)[0]
    assert said in top
    code, _, err = run("report", str(CANONICAL), "--lang", lang, "-o", str(page))
    assert code == 0 and said not in page.read_text(encoding="utf-8")


def one_kelurahan(tmp_path: Path, name: str) -> Path:
    """The sample's rows of one kelurahan, as its own register."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    register = tmp_path / "one.csv"
    frame[frame["kelurahan"] == name].to_csv(register, index=False)
    return register


@pytest.mark.parametrize("lang", ["en", "id"])
def test_latest_year_under_min_n_says_so_instead_of_a_blank_headline(
    tmp_path: Path, lang: str
) -> None:
    """Hadimulyo Barat measured 51 children in 2024 and 56 in 2023: with --min-n 52 the
    headline has no 2024 figure. The reader is told why (the children counted, the minimum)
    and the last figure there is, not shown an empty box, 'CI –' and empty tables."""
    register = one_kelurahan(tmp_path, "Hadimulyo Barat")
    trend = csv_of("trend", str(register), "--min-n", "52")
    area = trend.iloc[-1]
    assert (area["last_year"], np.isnan(area["pct_2024"])) == (2023, True)
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page), "--min-n", "52", "--lang", lang)
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    _, key_values = read_report(html)
    assert key_values[0] == "—"
    summary = html[html.index('<section id="summary">') : html.index('<section id="where')]
    last = f"{area['pct_2023']:.1f}%"
    if lang == "id":
        assert "51 anak diukur: terlalu sedikit untuk dihitung (kurang dari 52)" in summary
        assert f"Angka terakhir: {last.replace('.', ',')} pada 2023" in summary
    else:
        assert "51 children measured: too few for a figure (fewer than 52)" in summary
        assert f"Latest figure: {last} in 2023" in summary
    assert "–;" not in summary  # no interval without ends


def test_change_names_its_last_year_when_the_latest_has_no_figure(tmp_path: Path) -> None:
    """Hadimulyo Barat with --min-n 52 has figures for 2022 and 2023 only: the change kbtool
    trend gives runs to 2023, so the box beside 'Stunting in 2024' must say 2022–2023, not
    'since 2022' (which reads as a change up to 2024)."""
    register = one_kelurahan(tmp_path, "Hadimulyo Barat")
    area = csv_of("trend", str(register), "--min-n", "52").iloc[-1]
    assert (area["first_year"], area["last_year"]) == (2022, 2023)
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page), "--min-n", "52")
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    summary = html[html.index('<section id="summary">') : html.index('<section id="where')]
    assert "Change since 2022" not in summary
    assert '<div class="label">Change 2022–2023</div>' in summary
    assert f"{area['change_pp']:+.1f} points".replace("-", "−") in summary


@pytest.mark.parametrize(
    ("lang", "rising", "needed"),
    [("en", "rising {}% a year", "{}% a year needed"), ("id", "naik {}% per tahun", "perlu {}")],
)
def test_a_rising_prevalence_is_said_to_rise_not_to_fall_by_a_negative_rate(
    tmp_path: Path, lang: str, rising: str, needed: str
) -> None:
    """Hadimulyo Barat's stunting rose from 2022 to 2024 (kbtool trend: a negative AARR): the
    target box must say it rises, not 'falling −19.6% a year'."""
    register = one_kelurahan(tmp_path, "Hadimulyo Barat")
    area = csv_of("trend", str(register)).iloc[-1]
    assert area["aarr"] < 0 < area["required_aarr"]
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page), "--lang", lang)
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    summary = html[html.index('<section id="summary">') : html.index('<section id="where')]

    def written(value: float) -> str:
        return f"{value:.1f}".replace(".", "," if lang == "id" else ".")

    assert rising.format(written(-area["aarr"])) in summary
    assert needed.format(written(area["required_aarr"])) in summary
    assert "−" not in summary.split('class="detail">')[3].split("<")[0]  # the target box


def test_a_target_already_met_is_said_so_not_as_a_negative_rate_needed(tmp_path: Path) -> None:
    """Yosorejo's 2024 stunting is under the 14.2% target (kbtool trend: a negative required
    AARR): the target box says it is already met, not '−9.7% a year needed'."""
    register = one_kelurahan(tmp_path, "Yosorejo")
    area = csv_of("trend", str(register)).iloc[-1]
    assert area["required_aarr"] < 0 < area["aarr"]
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    detail = html.split('class="detail">')[3].split("<")[0]
    assert detail == f"falling {area['aarr']:.1f}% a year; already at or below the target"


def test_no_table_of_headers_only_when_no_kelurahan_has_a_figure(tmp_path: Path) -> None:
    """With --min-n 130 Kota Metro's 1,521 children of 2024 have a figure but no kelurahan
    (the largest has 121): the summary's top three and the ranking have no row to show, so
    they are left out (the section says why) instead of showing their headers alone."""
    latest = csv_of("prevalence", str(CANONICAL), "--by", "kelurahan", "--min-n", "130")
    latest = latest[(latest["year"] == 2024) & (latest["kelurahan"] != "All")]
    assert len(latest) and latest["stunting_pct"].isna().all()
    page = tmp_path / "r.html"
    code, _, err = run("report", str(CANONICAL), "-o", str(page), "--min-n", "130")
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    tables, _ = read_report(html)
    assert not {"table-most-stunted", "table-highest-prevalence", "table-where-to-act"} & set(
        tables
    )
    assert "No kelurahan had 130 or more children measured in 2024." in html


def test_quality_table_is_kbtool_quality_of_the_latest_year(sample_report: Rendered) -> None:
    tables, _ = read_report(sample_report.html)
    loaded = load_measurements([str(CANONICAL)], None, columns_needed("kecamatan"))
    frame = loaded.whole()
    latest = frame[frame["visit_date"].dt.year == 2024]
    report = quality_report(latest, by="posyandu", period="year", child_key="child_key")
    want = by_key(report.table, "posyandu")
    records = tables["table-quality"].records()
    assert len(records) == len(want)
    assert records[0]["Posyandu"] == "Kota Metro"  # the whole area first, then worst first
    for cells in records[1:]:
        row = want[cells["Posyandu"]]
        assert as_number(cells["Children"]) == row["n_children"]
        assert cells["Rating"] == (row["rating"] if isinstance(row["rating"], str) else "not rated")
    scores = [int(c["Score"]) for c in records[1:] if c["Score"]]
    assert scores == sorted(scores, reverse=True) or len(set(c["Rating"] for c in records)) > 1


def test_the_page_fetches_nothing_and_runs_nothing(sample_report: Rendered) -> None:
    html = sample_report.html
    assert "<script" not in html.lower()
    assert not re.search(r"(?i)\b(src|href)\s*=\s*[\"'](?!#)", html)  # only in-page links
    assert not re.search(r"(?i)url\((?!#)", html)
    assert "@import" not in html
    assert html.count("<svg") >= 4


def test_no_nik_or_name_reaches_the_page(sample_report: Rendered) -> None:
    register = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    niks = set(register["child_id"]) - {""}
    names = set(register["name"]) - {""}
    page = sample_report.html
    assert not any(nik in page for nik in niks)
    assert not any(name in page for name in names)


def test_charts_written_as_svg_and_png(sample_report: Rendered) -> None:
    keys = re.findall(r'<figure id="figure-([^"]+)"', sample_report.html)
    assert keys == ["where-to-act", "priority-quadrant", "area-trend", "trend-by-kecamatan"]
    assert '<section id="programme"' not in sample_report.html  # only with --groups
    for key in keys:
        assert (sample_report.charts / f"{key}.svg").read_text().lstrip().startswith("<?xml")
        assert (sample_report.charts / f"{key}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "report written to" in sample_report.stderr


@pytest.fixture(scope="module")
def awkward_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with a posyandu named with HTML and one kelurahan not measured in 2024."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    frame.loc[frame["posyandu"] == frame["posyandu"].iloc[0], "posyandu"] = SCRIPT_NAME
    gone = (frame["kelurahan"] == "Imopuro") & frame["visit_date"].str.startswith("2024")
    path = tmp_path_factory.mktemp("awkward") / "register.csv"
    frame[~gone].to_csv(path, index=False)
    return path


def test_html_in_a_name_is_text_and_a_missing_kelurahan_is_listed(
    awkward_register: Path, tmp_path: Path
) -> None:
    page = tmp_path / "r.html"
    code, _, err = run("report", str(awkward_register), "-o", str(page), "--lang", "id")
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Melati" in html
    tables, _ = read_report(html)
    assert SCRIPT_NAME in [r["Posyandu"] for r in tables["table-quality"].records()]
    assert "Imopuro" not in [r["Kelurahan"] for r in tables["table-where-to-act"].records()]
    assert "<li>Imopuro: 0</li>" in html
    # Indonesian numbers: decimal comma
    area = csv_of("prevalence", str(awkward_register), "--by", "year").iloc[-1]
    assert f"{area['stunting_pct']:.1f}%".replace(".", ",") in html


def test_title_from_the_data_or_from_the_option(sample_report: Rendered, tmp_path: Path) -> None:
    assert "<h1>Kota Metro: stunting report 2022–2024</h1>" in sample_report.html
    page = tmp_path / "r.html"
    code, _, err = run("report", str(ONE_YEAR), "-o", str(page), "--title", "Kota <Metro>")
    assert code == 0, err
    assert "<h1>Kota &lt;Metro&gt;: stunting report 2024</h1>" in page.read_text("utf-8")


def test_problematic_data_is_said_in_the_summary_and_in_data_quality(tmp_path: Path) -> None:
    """The 2024 heights of the largest posyandu copied from each child's first visit: kbtool
    quality rates it problematic, and the report says so twice."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    latest = frame["visit_date"].str.startswith("2024")
    posyandu = frame.loc[latest, "posyandu"].value_counts().index[0]
    rows = latest & (frame["posyandu"] == posyandu)
    frame.loc[rows, "height_cm"] = frame[rows].groupby("child_id")["height_cm"].transform("first")
    register = tmp_path / "copied.csv"
    frame.to_csv(register, index=False)
    quality = csv_of("quality", str(register), "--by", "posyandu")
    rated = quality[(quality["year"] == 2024) & (quality["rating"] == "problematic")]
    assert rated["posyandu"].tolist() == [posyandu]
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    warning = (
        f'<p class="warning">Data quality: the 2024 measurements of 1 posyandu are rated '
        f"problematic ({posyandu})."
    )
    summary = html[html.index('<section id="summary">') : html.index('<section id="where')]
    assert warning in summary
    assert warning in html[html.index('<section id="quality">') :]
    tables, _ = read_report(html)
    first = tables["table-quality"].records()[1]  # after the whole area: the worst
    assert (first["Posyandu"], first["Rating"]) == (posyandu, "problematic")


def test_one_year_has_no_trend_chart_and_says_why(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    code, _, err = run("report", str(ONE_YEAR), "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert 'id="figure-area-trend"' not in html and "trend-by-" not in html
    assert "Only 2024 has measurements: a trend needs two years or more" in html
    tables, key_values = read_report(html)
    assert key_values[-1] == "insufficient data"
    assert tables["table-trend"].records()[-1]["Target"] == "insufficient data"


def test_too_few_children_are_listed_never_plotted() -> None:
    loaded = load_measurements([str(CANONICAL)], None, columns_needed("kecamatan"), by_year=True)
    data = assemble_report(loaded, ReportOptions(min_n=70))
    sections, charts = build_sections(data, "en")
    chart = next(c for c in charts if c.key == "where-to-act")
    plotted = {t.get_text().rsplit(" (", 1)[0] for t in chart.figure.axes[0].get_yticklabels()}
    latest = data.latest(data.stunting)
    small = set(latest.loc[(latest["n"] < 70) & (latest["kelurahan"] != "All"), "kelurahan"])
    assert small and not small & plotted
    where = next(s for s in sections if s.key == "where-to-act")
    listed = next(b for b in where.blocks if isinstance(b, Items))
    assert {item.split(":")[0] for item in listed.items} == small
    counts = latest.set_index("kelurahan")["n"]
    assert sorted(listed.items) == sorted(f"{place}: {counts[place]}" for place in small)
    assert "children measured" in listed.heading


def test_the_indonesian_trend_chart_has_no_english_legend() -> None:
    """The area trend chart's band is the 95% confidence interval: 'IK 95%' in Indonesian, as
    the page's tables head it, not 'CI'."""
    loaded = load_measurements([str(CANONICAL)], None, columns_needed("kecamatan"), by_year=True)
    data = assemble_report(loaded, ReportOptions())
    _, charts = build_sections(data, "id")
    chart = next(c for c in charts if c.key == "area-trend")
    box = chart.figure.axes[0].get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert "IK 95%" in legend
    assert not any("CI" in text for text in legend), legend


@pytest.mark.parametrize(
    ("min_n", "said"),
    [
        (25, "needs 25 or more children measured for a figure (The DHS Program's rule); 25-49"),
        (
            30,
            "needs 30 or more children measured for a figure (--min-n 30; The DHS Program's "
            "rule is 25); 30-49 children give figures of low precision.",
        ),
        (
            60,
            "needs 60 or more children measured for a figure (--min-n 60; The DHS Program's "
            "rule is 25).",
        ),
    ],
)
def test_the_method_states_the_min_n_used_not_the_default_rule(min_n: int, said: str) -> None:
    """The method section describes --min-n as used: with 60, no group of 25-49 children has a
    figure, so 'fewer than 60 ... (The DHS Program's rule); 25-49 children give figures of low
    precision' contradicted itself and the DHS rule (25)."""
    loaded = load_measurements([str(ONE_YEAR)], None, columns_needed("kecamatan"), by_year=True)
    sections, _ = build_sections(assemble_report(loaded, ReportOptions(min_n=min_n)), "en")
    method = next(s for s in sections if s.key == "method")
    items = next(b for b in method.blocks if isinstance(b, Items)).items
    assert any(said in item for item in items), items
    if min_n >= 50:
        assert not any("low precision" in item for item in items)


def test_every_panel_column_has_year_labels_under_its_last_panel() -> None:
    """Five kecamatan in two columns: the right column ends one row up (the sixth place is
    empty), and its last panel must still say which years it shows."""
    loaded = load_measurements([str(CANONICAL)], None, columns_needed("kecamatan"), by_year=True)
    _, charts = build_sections(assemble_report(loaded, ReportOptions()), "en")
    figure = next(c for c in charts if c.key == "trend-by-kecamatan").figure
    figure.draw_without_rendering()
    shown = [axes for axes in figure.axes if axes.get_visible()]
    assert len(shown) == 5
    for last_in_column in (shown[-1], shown[-2]):  # Metro Utara (left), Metro Timur (right)
        labels = {
            tick.label1.get_text()
            for tick in last_in_column.xaxis.get_major_ticks()
            if tick.label1.get_visible()
        }
        assert {"2022", "2023", "2024"} <= labels, last_in_column.get_title()


def test_missing_output_directory_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.html"
    code, out, err = run("report", str(ONE_YEAR), "-o", str(target))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"kbtool: error: cannot write {target}: directory '{target.parent}' does not exist; "
        "create it"
    ]
    assert not target.parent.exists()


def test_a_stores_inputs_say_what_each_import_stored(tmp_path: Path) -> None:
    """Rows read is not rows stored: of a register imported again in another layout, most rows
    are duplicates, and the inputs table must not suggest they were all added."""
    store, page = tmp_path / "store", tmp_path / "r.html"
    for register in (CANONICAL, CANONICAL.with_name("eppgbm_metro_2024.csv")):
        assert run("import", str(register), "--store", str(store), "--quiet")[0] == 0
    stored = {
        row["file"]: row["rows_stored"]
        for row in csv_of("sources", "--store", str(store), "-f", "csv").to_dict("records")
    }
    code, _, err = run("report", "--store", str(store), "-o", str(page))
    assert code == 0, err
    inputs = page.read_text(encoding="utf-8").split(">Inputs<", 1)[1]
    assert "<th>Stored</th>" in inputs.replace(' class="num"', "")
    for file, rows in stored.items():
        row = inputs.split(file, 1)[1].split("</tr>", 1)[0]
        assert f">{rows:,}<" in row


def test_an_empty_store_is_one_clear_error_and_leaves_no_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    create_or_open(store)
    page = tmp_path / "report.html"
    code, out, err = run("report", "--store", str(store), "-o", str(page))
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "nothing to report" in err and "kbtool import" in err
    assert list(tmp_path.iterdir()) == [store]  # no report, no temporary file


def test_without_output_is_a_usage_error() -> None:
    code, _, err = run("report", str(ONE_YEAR))
    assert code == 2
    assert "-o" in err


def test_a_report_file_naming_the_register_is_refused(tmp_path: Path) -> None:
    """`kbtool report register.csv -o register.csv` would replace the register, NIK and names
    included, by the report page: a usage error, and the register stays as it was."""
    register = tmp_path / "register.csv"
    register.write_bytes(ONE_YEAR.read_bytes())
    code, _, err = run("report", str(register), "-o", str(register))
    assert code == 2
    assert "register.csv" in err and "--output" in err
    assert register.read_bytes() == ONE_YEAR.read_bytes()


def test_workbook_has_a_sheet_per_section(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = tmp_path / "report.xlsx"
    code, _, err = run("report", str(ONE_YEAR), "-o", str(book))
    assert code == 0, err
    workbook = openpyxl.load_workbook(book, read_only=True)
    assert workbook.sheetnames == [
        "summary", "where-to-act", "trend", "indicators", "quality", "method", "about"
    ]  # fmt: skip
    sheet = pd.read_excel(book, sheet_name="where-to-act", engine="openpyxl")
    reference = by_key(csv_of("prevalence", str(ONE_YEAR)), "kelurahan")
    for row in sheet.dropna(subset=["stunting_pct"]).to_dict("records"):
        assert row["stunting_pct"] == pytest.approx(reference[row["kelurahan"]]["stunting_pct"])
    # the machine output equals the library's result
    loaded = load_measurements([str(ONE_YEAR)], None, columns_needed("kecamatan"), by_year=True)
    library = assemble_report(loaded, ReportOptions()).indicators
    indicators = pd.read_excel(book, sheet_name="indicators", engine="openpyxl")
    assert indicators.columns.tolist() == library.columns.tolist()
    assert indicators["n"].tolist() == library["n"].tolist()
    assert np.allclose(indicators["pct"], library["pct"], equal_nan=True, rtol=1e-12)


@pytest.mark.parametrize(
    ("lang", "under"),
    [("en", "for a figure (under 1):"), ("id", "untuk dihitung (kurang dari 1):")],
)
def test_min_n_0_names_the_one_child_a_figure_needs(tmp_path: Path, lang: str, under: str) -> None:
    """--min-n 0 shows every figure, but a kelurahan whose children have no height has none:
    the page listed it as 'too few children ... (under 0)', a minimum nobody is under. A
    prevalence needs one child, so the page says 1."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    frame.loc[frame["kelurahan"] == "Banjarsari", "height_cm"] = ""
    register = tmp_path / "no_heights_in_banjarsari.csv"
    frame.to_csv(register, index=False)
    page = tmp_path / "r.html"
    code, _, err = run("report", str(register), "--min-n", "0", "--lang", lang, "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert under in html
    assert "(under 0)" not in html and "(kurang dari 0)" not in html
    method = html[html.index('<section id="method">') :]
    assert "--min-n 0" in method  # the option as given
    # the minimum reads right for one child too (it said "fewer than 1 children")
    assert ("needs 1 or more children" if lang == "en" else "perlu 1 anak atau lebih") in method
    assert "fewer than 1 " not in method and "kurang dari 1 anak" not in method
    assert ("1-49 children" if lang == "en" else "1-49 anak") in method


def test_the_priority_chart_names_each_first_priority_place_apart() -> None:
    """Crowded first-priority dots (equal or near values): each name once, joined to its own
    dot, and no two names overlap, on the chart as drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from kbtool.report.charts import priority_quadrant
    from kbtool.views.report import WORDS

    names = [f"Kelurahan {i}" for i in range(9)]
    places = pd.DataFrame(
        {
            "kelurahan": [*names, "Other"],
            "stunted": [20, 20, 21, 21, 22, 30, 30, 18, 19, 5],
            "stunting_pct": [25.0, 25.0, 25.5, 24.8, 25.2, 40.0, 40.2, 23.0, 23.1, 10.0],
            "priority": [1] * 9 + [3],
        }
    )
    chart = priority_quadrant(places, 21.0, 15.0, WORDS["en"], "en")
    figure = chart.figure
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    labels = [t for t in figure.axes[0].texts if t.get_text() in names]
    assert sorted(t.get_text() for t in labels) == sorted(names)
    for label in labels:
        row = places[places["kelurahan"] == label.get_text()].iloc[0]
        assert label.xy == (row["stunted"], row["stunting_pct"])  # type: ignore[attr-defined]
    boxes = [Text.get_window_extent(label, renderer) for label in labels]  # not the lines
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])


def test_indonesian_report_spells_z_skor(tmp_path: Path) -> None:
    """The Indonesian report's method and data quality said "z-score" and "z-score-nya" where
    its workbook's method sheet and every other command say "Z-skor"."""
    page = tmp_path / "r.html"
    code, _, err = run("report", str(ONE_YEAR), "--lang", "id", "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert re.findall(r"(?i)z-?score", html) == []
    method = html[html.index('<section id="method">') :]
    assert "Z-skor: Standar Pertumbuhan Anak WHO" in method and "Z-skornya sah" in method


def test_the_indonesian_report_workbook_says_the_statuses_as_trend_does(tmp_path: Path) -> None:
    """The workbook's trend and summary sheets gave 'off track' under --lang id while `kbtool
    trend --lang id` writes 'tidak sesuai jalur': the same statuses now, column names English."""
    register = Path(__file__).parent.parent / "data" / "samples" / "posyandu_metro_2022_2024.csv"
    workbook = tmp_path / "report.xlsx"
    result = CliRunner().invoke(app, ["report", str(register), "--lang", "id", "-o", str(workbook)])
    assert result.exit_code == 0, result.stderr
    sheets = pd.read_excel(workbook, sheet_name=None, engine="calamine")
    args = ["trend", str(register), "--by", "kecamatan", "--lang", "id", "-f", "csv"]
    expected = pd.read_csv(io.StringIO(CliRunner().invoke(app, args).stdout))
    by_place = sheets["trend"].set_index("kecamatan")["status"]
    assert by_place.to_dict() == expected.set_index("kecamatan")["status"].to_dict()
    summary = sheets["summary"].set_index("item")["value"]
    assert summary["status"] in set(expected["status"])
    assert "off track" not in set(by_place) and "on track" not in set(by_place)
