"""The report's sections from its data, in the words of one language.

`build_sections` returns the sections (summary, where to act, trend, all indicators, the
programme comparison with --groups only, data quality, method) and the charts they show (for
--charts). Numbers are written with kbtool.views.report's helpers: one decimal for a
percentage, as kbtool's tables round them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from kbtool import __version__
from kbtool.prevalence import DEFAULT_MIN_N, TOTAL_LABEL
from kbtool.prevalence.compute import LOW_PRECISION_BELOW_N
from kbtool.quality import RATINGS
from kbtool.report.charts import Chart, area_trend, priority_quadrant, small_multiples, where_to_act
from kbtool.report.data import (
    PLACE,
    Places,
    ReportData,
    area_rows,
    problematic_posyandu,
    ranked_places,
)
from kbtool.report.html import Page
from kbtool.report.model import (
    Block,
    Figure,
    Items,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Section,
    Table,
)
from kbtool.report.programme import programme_section
from kbtool.views.prevalence import CASES, INDICATOR_NAMES
from kbtool.views.quality import LABELS as QUALITY_LABELS
from kbtool.views.report import MONTH_NAMES, WORDS, count, interval, number, percent
from kbtool.views.trend import STATUS_WORDS
from kbtool.views.trend import in_language as trend_in_language
from kbtool.writing import ABOUT

# the indicators the page shows (the workbook has every one), as district reports show them
PAGE_INDICATORS = ("stunting", "underweight", "wasting", "overweight")
TOP_PLACES = 3
PROBLEMS_NAMED = 5  # posyandu named in the summary's data-quality warning

# a table column: its header, how a row's cell is written, how it is set (model.Table)
Column = tuple[str, Callable[[pd.Series], str], str]


@dataclass
class _Context:
    """What every section needs: the data, the words (area and target filled in), the
    language, and the first target's trend columns."""

    data: ReportData
    words: dict[str, str]
    lang: str
    places: Places

    def status(self, value: object) -> str:
        return STATUS_WORDS[self.lang].get(value, "") if isinstance(value, str) else ""

    @property
    def fewest_for_a_figure(self) -> int:
        """The children a group needs for a figure: --min-n, and one even under --min-n 0."""
        return max(self.data.options.min_n, 1)

    def place(self, name: object) -> str:
        return self.words["area"] if name == TOTAL_LABEL else str(name)

    def target_column(self, name: str) -> str:
        """required_aarr, projected_pct or status of the first target (suffixed if several)."""
        targets = self.data.options.targets
        return f"{name}_{targets[0].year}" if len(targets) > 1 else name

    def chart_words(self, **values: object) -> dict[str, str]:
        """The words with these values (and the area, target, group) filled in."""
        by = self.data.options.by
        filled = _Unfilled(
            area=self.words["area"], target=self.words["target"], group=self.words.get(by, by)
        )
        filled.update(values)
        return {key: text.format_map(filled) for key, text in self.words.items()}


class _Unfilled(dict[str, object]):
    """Values for str.format_map that leave a placeholder without one as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def page_of(data: ReportData, lang: str) -> Page:
    """What the page says above its sections: the area and period, when and by what."""
    words = WORDS[lang]
    area = data.area or words["area_unknown"]
    first, last = data.years[0], data.latest_year
    period = f"{first}–{last}" if first != last else str(last)
    subtitle = words["subtitle"].format(period=period)
    if data.options.months:  # the figures count these calendar months only: say so at the top
        names = ", ".join(MONTH_NAMES[lang][str(m)] for m in sorted(data.options.months))
        subtitle += f" ({words['months_only'].format(months=names)})"
    return Page(
        lang=lang,
        title=f"{area}: {words['report'].lower()} {period}",
        subtitle=subtitle,
        made=words["made"].format(date=datetime.now(UTC).strftime("%Y-%m-%d"), version=__version__),
    )


def build_sections(data: ReportData, lang: str) -> tuple[list[Section], list[Chart]]:
    """The sections of the report in `lang`, and every chart they show."""
    words = dict(WORDS[lang])
    target = data.options.targets[0]
    words["area"] = data.area or words["area_unknown"]
    words["target"] = f"{percent(target.pct, lang)} ({target.year})"
    context = _Context(data, words, lang, ranked_places(data))
    charts: list[Chart] = []
    compared: list[Chart] = []
    extra: list[Section] = []
    if data.comparison is not None:
        programme, compared = programme_section(data.comparison, words, lang)
        extra.append(programme)
    sections = [
        _summary(context),
        _where_to_act(context, charts),
        _trend(context, charts),
        _indicators(context),
        *extra,
        _quality(context),
        _method(context),
    ]
    return sections, [*charts, *compared]


def _table(
    key: str,
    caption: str,
    frame: pd.DataFrame,
    columns: list[Column],
    row_classes: Sequence[str] = (),
) -> Table:
    """A table of `frame`'s rows (one per group: a few hundred at most)."""
    return Table(
        key,
        caption,
        [header for header, _, _ in columns],
        [[cell(row) for _, cell, _ in columns] for _, row in frame.iterrows()],
        [kind for _, _, kind in columns],
        list(row_classes),
    )


def _figure(chart: Chart) -> Figure:
    return Figure(chart.key, chart.title, chart.caption, chart.svg())


def _summary(c: _Context) -> Section:
    data, words, lang = c.data, c.words, c.lang
    latest = data.latest(area_rows(data.stunting)).iloc[0]
    trend = data.trend.iloc[-1]  # the whole-area row comes last
    target = data.options.targets[0]
    status, required = trend[c.target_column("status")], trend[c.target_column("required_aarr")]
    figures = [_latest_figure(c, latest)]
    if not pd.isna(trend["change_pp"]):
        first, last = int(trend["first_year"]), int(trend["last_year"])
        # the latest year without a figure: the change ends earlier, and says so
        label = (
            words["change"].format(year=first)
            if last == data.latest_year
            else words["change_between"].format(first=first, last=last)
        )
        figures.append(
            KeyFigure(
                label,
                words["change_value"].format(pp=number(trend["change_pp"], lang, sign=True)),
                words["change_detail"].format(pct=percent(trend[f"pct_{first}"], lang), year=first),
                "good" if trend["change_pp"] < 0 else "bad",
            )
        )
    if not np.isnan(trend["aarr"]) and not np.isnan(required):
        # a negative AARR is a rise, a required AARR at or under 0 a target already met
        rising = trend["aarr"] < 0
        pace = words["pace_rising" if rising else "pace_falling"].format(
            aarr=percent(abs(trend["aarr"]), lang)
        )
        detail = (
            words["target_detail_aarr"].format(pace=pace, required=percent(required, lang))
            if required > 0
            else words["target_detail_reached"].format(pace=pace)
        )
    elif target.year <= data.latest_year:
        detail = words["target_detail_past"].format(
            year=data.latest_year, pct=percent(latest["stunting_pct"], lang)
        )
    else:
        detail = words["target_detail_no_aarr"]
    figures.append(
        KeyFigure(
            words["target_figure"].format(pct=percent(target.pct, lang), year=target.year),
            c.status(status),
            detail,
            "good" if status == "on track" else "bad" if status == "off track" else "plain",
        )
    )
    blocks: list[Block] = [KeyFigures(figures), *_quality_warnings(c)]
    shown = c.places.shown
    columns: list[Column] = [
        (words["place"], lambda r: str(r[PLACE]), "text"),
        (words["cases"], lambda r: count(r["stunted"], lang), "num"),
        (words["pct"], lambda r: number(r["stunting_pct"], lang), "num"),
        (words["n"], lambda r: count(r["n"], lang), "num"),
    ]
    rankings = (
        ("most-stunted", "most_stunted", ["stunted", "stunting_pct"]),
        ("highest-prevalence", "highest", ["stunting_pct", "stunted"]),
    )
    for key, title, order in rankings if len(shown) else ():  # none: Where to act says why
        top = shown.sort_values(order, ascending=False, kind="stable").head(TOP_PLACES)
        blocks.append(_table(key, words[title].format(year=data.latest_year), top, columns))
    facts = {
        "area": data.area,
        "year": data.latest_year,
        "n": latest["n"],
        "stunted": latest["stunted"],
        "stunting_pct": latest["stunting_pct"],
        "ci_low": latest["stunting_ci_low"],
        "ci_high": latest["stunting_ci_high"],
        "first_year": trend["first_year"],
        "change_pp": trend["change_pp"],
        "aarr": trend["aarr"],
        "target": str(target),
        "required_aarr": required,
        "projected_pct": trend[c.target_column("projected_pct")],
        "status": c.status(status) if lang != "en" else status,
    }
    sheet = pd.DataFrame(
        {"item": list(facts), "value": ["" if pd.isna(v) else str(v) for v in facts.values()]}
    )
    return Section("summary", words["summary"], blocks, sheet)


def _latest_figure(c: _Context, latest: pd.Series) -> KeyFigure:
    """The latest year's stunting; under --min-n, a dash, why, and the last year with a
    figure."""
    words, lang, year = c.words, c.lang, c.data.latest_year
    label = words["latest"].format(year=year)
    if not pd.isna(latest["stunting_pct"]):
        detail = words["latest_detail"].format(
            low=number(latest["stunting_ci_low"], lang),
            high=number(latest["stunting_ci_high"], lang),
            n=count(latest["n"], lang),
        )
        return KeyFigure(label, percent(latest["stunting_pct"], lang), detail)
    detail = words["latest_too_few"].format(
        n=count(latest["n"], lang), min_n=count(c.fewest_for_a_figure, lang)
    )
    area = area_rows(c.data.stunting).dropna(subset=["stunting_pct"]).sort_values("year")
    if len(area):
        known = area.iloc[-1]
        pct, year = percent(known["stunting_pct"], lang), int(known["year"])
        detail += " " + words["latest_known"].format(pct=pct, year=year)
    return KeyFigure(label, "—", detail)


def _quality_warnings(c: _Context) -> list[Paragraph]:
    """The word on data rated problematic, if any (in the summary and in data quality)."""
    names = problematic_posyandu(c.data.quality)
    year = c.data.latest_year
    warnings = []
    if TOTAL_LABEL in names:
        warnings.append(Paragraph(c.words["problematic_area"].format(year=year), "warning"))
    groups = [n for n in names if n != TOTAL_LABEL]
    if groups:
        named = ", ".join(groups[:PROBLEMS_NAMED]) + (
            ", ..." if len(groups) > PROBLEMS_NAMED else ""
        )
        text = c.words["problematic_summary"].format(year=year, count=len(groups), names=named)
        warnings.append(Paragraph(text, "warning"))
    return warnings


def _where_to_act(c: _Context, charts: list[Chart]) -> Section:
    data, words, lang = c.data, c.words, c.lang
    year, min_n = data.latest_year, c.fewest_for_a_figure
    places = c.places
    shown, few = places.shown, places.few
    blocks: list[Block] = [Paragraph(words["where_intro"].format(year=year, area=words["area"]))]
    if len(shown):
        labels = c.chart_words(
            year=year,
            pct=percent(places.area_pct, lang),
            count=number(places.mean_stunted, lang),
        )
        found = where_to_act(shown, places.area_pct, data.options.targets[0], labels, lang)
        found.append(priority_quadrant(shown, places.area_pct, places.mean_stunted, labels, lang))
        charts.extend(found)
        blocks += [_figure(chart) for chart in found]
    else:
        blocks.append(Paragraph(words["none_shown"].format(min_n=min_n, year=year), "muted"))
    shown = shown.assign(rank=np.arange(1, len(shown) + 1))
    columns: list[Column] = [
        (words["rank"], lambda r: str(r["rank"]), "num"),
        (words["place"], lambda r: str(r[PLACE]), "text"),
        (words["n"], lambda r: count(r["n"], lang), "num"),
        (words["cases"], lambda r: count(r["stunted"], lang), "num"),
        (words["pct"], lambda r: number(r["stunting_pct"], lang), "num"),
        (words["ci"], lambda r: interval(r["stunting_ci_low"], r["stunting_ci_high"], lang), "num"),
        (words["priority"], lambda r: words[f"priority_{r['priority']}"], "text"),
        (words["status"], lambda r: c.status(r["status"]), "text"),
    ]
    if len(shown):
        first = ["warning" if p == 1 else "" for p in shown["priority"]]
        caption = words["where_table"].format(year=year)
        blocks.append(_table("where-to-act", caption, shown, columns, first))
    if len(few):
        too_few = [
            words["too_few_item"].format(place=place, n=count(n, lang))
            for place, n in zip(few[PLACE], few["n"], strict=True)
        ]
        blocks.append(Items(too_few, words["too_few"].format(year=year, min_n=min_n)))
    figures = [PLACE, "n", "stunted", "stunting_pct", "stunting_ci_low", "stunting_ci_high"]
    sheet = pd.concat([shown[[*figures, "priority", "status"]], few], ignore_index=True)
    return Section("where-to-act", words["where"], blocks, sheet)


def _trend(c: _Context, charts: list[Chart]) -> Section:
    data, words, lang = c.data, c.words, c.lang
    by = data.options.by
    group_word = words.get(by, by.capitalize())
    blocks: list[Block] = []
    if len(data.years) < 2:
        blocks.append(Paragraph(words["one_year"].format(year=data.latest_year), "muted"))
    else:
        blocks.append(Paragraph(words["trend_intro"].format(target=words["target"])))
        labels = c.chart_words(year=data.latest_year)
        area = _yearly(area_rows(data.stunting), "stunting_")
        stunting = data.group_stunting[data.group_stunting[by] != TOTAL_LABEL]
        targets = list(data.options.targets)
        found = [area_trend(area, float(data.trend.iloc[-1]["aarr"]), targets, labels, lang)]
        found += small_multiples(_yearly(stunting, "stunting_", by), area, by, labels, lang)
        charts.extend(found)
        blocks += [_figure(chart) for chart in found]
    trend = data.group_trend
    years = [y for y in data.years if f"pct_{y}" in trend.columns]
    required, status = c.target_column("required_aarr"), c.target_column("status")
    columns: list[Column] = [
        (group_word, lambda r: c.place(r[by]), "text"),
        *((str(y), lambda r, y=y: number(r[f"pct_{y}"], lang), "num") for y in years),
        (words["change_pp"], lambda r: number(r["change_pp"], lang, sign=True), "num"),
        (words["aarr"], lambda r: number(r["aarr"], lang), "num"),
        (words["required"], lambda r: number(r[required], lang), "num"),
        (words["status"], lambda r: c.status(r[status]), "text"),
    ]
    caption = words["trend_table"].format(group=group_word.lower())
    totals = ["total" if name == TOTAL_LABEL else "" for name in trend[by]]
    blocks.append(_table("trend", caption, trend, columns, totals))
    # statuses and notes in `lang`, as `kbtool trend` writes them; column names stay
    return Section("trend", words["trend"], blocks, trend_in_language(trend, lang))


def _yearly(frame: pd.DataFrame, prefix: str, *groups: str) -> pd.DataFrame:
    """A prevalence result's `groups`, year, pct, low and high (the charts' columns)."""
    return pd.DataFrame(
        {
            **{group: frame[group].astype(str) for group in groups},
            "year": frame["year"],
            "pct": frame[f"{prefix}pct"],
            "low": frame[f"{prefix}ci_low"],
            "high": frame[f"{prefix}ci_high"],
        }
    ).reset_index(drop=True)


def _indicators(c: _Context) -> Section:
    data, words, lang = c.data, c.words, c.lang
    by = data.options.by
    group_word = words.get(by, by.capitalize())
    latest = data.indicators
    is_area = latest[by] == TOTAL_LABEL
    area_first = pd.concat([latest[is_area], latest[~is_area]], ignore_index=True)
    page = area_first[area_first["indicator"].isin(PAGE_INDICATORS)]
    columns: list[Column] = [
        (group_word, lambda r: c.place(r[by]), "text"),
        (words["indicator"], lambda r: INDICATOR_NAMES[lang][r["indicator"]], "text"),
        (words["n"], lambda r: count(r["n"], lang), "num"),
        # each indicator's cases, named as kbtool prevalence --indicator all names them
        (CASES[lang]["several"], lambda r: count(r["cases"], lang), "num"),
        (words["pct"], lambda r: number(r["pct"], lang), "num"),
        (words["ci"], lambda r: interval(r["ci_low"], r["ci_high"], lang), "num"),
    ]
    year, area = data.latest_year, words["area"]
    intro = words["indicators_intro"].format(year=year, area=area, group=group_word.lower())
    totals = ["total" if name == TOTAL_LABEL else "" for name in page[by]]
    caption = words["indicators_table"].format(year=year)
    blocks: list[Block] = [Paragraph(intro), _table("indicators", caption, page, columns, totals)]
    return Section("indicators", words["indicators"], blocks, latest)


def _quality(c: _Context) -> Section:
    data, words, lang = c.data, c.words, c.lang
    report = data.quality
    table, by = report.table, report.by
    worst_first = pd.DataFrame(
        {
            "group": table[by] != TOTAL_LABEL,  # the whole area first
            "rating": -table["rating"].map({r: i for i, r in enumerate(RATINGS)}).fillna(-1),
            "score": -table["score"].astype("Float64").fillna(-1),
            "name": table[by].astype(str),
        }
    ).sort_values(["group", "rating", "score", "name"], kind="stable")
    ordered = table.loc[worst_first.index].reset_index(drop=True)
    findings = report.findings
    reasons = dict(zip(findings[by].astype(str), report.reasons_in(lang), strict=True))
    labels = QUALITY_LABELS[lang]

    def rating(row: pd.Series) -> str:
        value = row["rating"]
        return labels.get(value, value) if isinstance(value, str) else words["not_rated"]

    columns: list[Column] = [
        (words["posyandu"], lambda r: c.place(r[by]), "text"),
        (words["n"], lambda r: count(r["n_children"], lang), "num"),
        (words["rows"], lambda r: count(r["n_rows"], lang), "num"),
        (words["rating"], rating, "text"),
        (words["score"], lambda r: "" if pd.isna(r["score"]) else str(int(r["score"])), "num"),
        (words["reasons"], lambda r: reasons.get(str(r[by]), ""), "long"),
    ]
    classes = [
        "total" if name == TOTAL_LABEL else "warning" if value == "problematic" else ""
        for name, value in zip(ordered[by], ordered["rating"], strict=True)
    ]
    caption = words["quality_table"].format(year=data.latest_year)
    blocks: list[Block] = [
        Paragraph(words["quality_intro"].format(year=data.latest_year)),
        *_quality_warnings(c),
        _table("quality", caption, ordered, columns, classes),
    ]
    return Section("quality", words["quality"], blocks, ordered)


def _min_n_rule(c: _Context) -> str:
    """The --min-n used: the DHS rule when it is the default, and the band of low precision
    (under LOW_PRECISION_BELOW_N children) only where figures are shown in it."""
    words, min_n = c.words, c.data.options.min_n
    rule = (
        words["min_n_dhs"]
        if min_n == DEFAULT_MIN_N
        else words["min_n_chosen"].format(min_n=min_n, dhs=DEFAULT_MIN_N)
    )
    low_max, fewest = LOW_PRECISION_BELOW_N - 1, c.fewest_for_a_figure
    low = words["min_n_low"].format(min_n=fewest, low_max=low_max) if fewest <= low_max else ""
    return words["method_min_n"].format(min_n=fewest, rule=rule, low=low)


def _method(c: _Context) -> Section:
    data, words, lang = c.data, c.words, c.lang
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    options = {**data.origin, **data.options.as_dict(), "lang": lang}
    written = {
        key: ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        for key, value in options.items()
        if value not in (None, "")
    }
    items = [
        words["method_who"],
        words["method_once"],
        words["method_ci"],
        _min_n_rule(c),
        words["method_trend"],
        words["method_quality"],
        words["method_made"].format(
            version=__version__,
            date=made,
            options="; ".join(f"{k} = {v}" for k, v in written.items()),
        ),
    ]
    inputs = data.inputs
    columns: list[Column] = [
        (words["file"], lambda r: str(r["file"]), "text"),
        (words["rows_read"], lambda r: count(r["rows_read"], lang), "num"),
        (words["sha256"], lambda r: str(r["sha256"]), "code"),
    ]
    if "imported_at" in inputs.columns:  # a store's imports: what each added, and when
        columns.insert(2, (words["rows_stored"], lambda r: count(r["rows_stored"], lang), "num"))
        columns.append((words["imported"], lambda r: str(r["imported_at"]), "text"))
    # the sheet's labels in `lang`, as every command's method sheet (kbtool.views.made_how)
    labels = ABOUT[lang]
    item, value = labels["item"], labels["value"]
    sheet = pd.concat(
        [
            pd.DataFrame({item: labels["method"], value: items}),
            pd.DataFrame(
                {item: [f"{labels['option']} {k}" for k in written], value: list(written.values())}
            ),
            pd.DataFrame({item: labels["input"], value: inputs.astype(str).agg(" ".join, axis=1)}),
        ],
        ignore_index=True,
    )
    blocks: list[Block] = [Items(items), _table("inputs", words["inputs_table"], inputs, columns)]
    return Section("method", words["method"], blocks, sheet)
