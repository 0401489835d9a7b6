"""A quality report as people read it: the terminal table, the findings in words. Related
figures share a column (the largest value, marked by the worst rating: "!" acceptable, "!!"
problematic), as a terminal cannot show 35; machine formats keep every column."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from kbtool.quality import CHECKS, RATINGS, QualityReport
from kbtool.quality.thresholds import dps_shown
from kbtool.views import labelled
from kbtool.views.numbers import numbers
from kbtool.words import RATING_WORDS, say, terms

# how a rated cell looks in the table view
RATING_STYLES = {"problematic": "bold red", "acceptable": "yellow"}
# the marks that say the same without colour (NO_COLOR, a pipe into less)
RATING_MARKS = {"problematic": "!!", "acceptable": "!"}
_MISSING = tuple(check.column for check in CHECKS if check.criterion == "missing")
_FLAGGED = tuple(check.column for check in CHECKS if check.criterion == "flagged")
# view key -> (columns shown, the value's format, the columns whose ratings style the cell); the
# rating first, as a narrow terminal shows the leading columns
VIEW_COLUMNS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "rating": (("rating",), "text", ("rating",)),
    "score": (("score",), "count", ()),
    "n_rows": (("n_rows",), "count", ()),
    "n_children": (("n_children",), "count", ()),
    "missing": (_MISSING, "pct", _MISSING),
    "heaping": (("birth_day_heaping_pct",), "pct", ("birth_day_heaping_pct",)),
    "flagged": (_FLAGGED, "pct", _FLAGGED),
    "duplicate": (("duplicate_pct",), "pct", ("duplicate_pct",)),
    "mean_haz": (("mean_haz",), "z", ()),
    "gap": (("mean_haz_gap",), "z", ("mean_haz_gap_p",)),
    "sd_haz": (("sd_haz",), "ratio", ("sd_haz",)),
    "skew_haz": (("skew_haz",), "z", ("skew_haz",)),
    "kurtosis_haz": (("kurtosis_haz",), "z", ("kurtosis_haz",)),
    "dps_height": (("dps_height",), "whole", ("dps_height",)),
    "dps_weight": (("dps_weight",), "whole", ("dps_weight",)),
    "sex_ratio": (("sex_ratio",), "ratio", ("sex_ratio_p",)),
    "age_ratio": (("age_ratio",), "ratio", ("age_ratio_p",)),
    "height_decrease": (("height_decrease_pct",), "pct", ("height_decrease_pct",)),
    "height_repeated": (("height_repeated_pct",), "pct", ("height_repeated_pct",)),
    "weight_velocity": (("weight_velocity_pct",), "pct", ("weight_velocity_pct",)),
}
# the table view's short headers
HEADERS = terms("groups.headers", "quality.headers")
LABELS = terms("groups.labels", "words.ratings")


def _row_label(record: pd.Series, report: QualityReport, lang: str) -> str:
    """'2024 Posyandu Melati' (the period, if any, then the group)."""
    parts = [str(record[name]) for name in ("year", "period", report.by) if name in record.index]
    return " ".join(LABELS[lang].get(part, part) for part in parts)


def finding_lines(report: QualityReport, lang: str = "en") -> list[str]:
    """One line per finding: where, rating and score, then the reasons."""
    return [
        say(
            "quality_finding",
            lang,
            where=_row_label(record, report, lang),
            rating=RATING_WORDS[record["rating"]],
            score=record["score"],
            reasons=reasons,
        )
        # at most `top` (10) rows
        for (_, record), reasons in zip(
            report.findings.iterrows(), report.reasons_in(lang), strict=True
        )
    ]


def _formatted(values: pd.Series, kind: str, lang: str) -> list[str]:
    if kind == "text":
        return ["" if v is None or v != v else str(v) for v in values.astype(object)]
    floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == "whole":
        floats = dps_shown(floats)
    decimals = {"count": 0, "whole": 0, "pct": 1, "z": 2, "ratio": 2}[kind]
    texts = numbers(floats, lang, decimals, sign=kind == "z")
    # a ratio with nothing below the line: undefined
    return ["–" if np.isinf(value) else text for value, text in zip(floats, texts, strict=True)]


def table_view(
    report: QualityReport, *, lang: str = "en"
) -> tuple[pd.DataFrame, dict[str, list[str | None]]]:
    """The table as people read it (short headers, related figures in one column, labels in
    `lang`) and a rich style per cell from the report's ratings (problematic bold red,
    acceptable yellow); rated cells also carry their mark."""
    table = report.table
    headers, labels = HEADERS[lang], LABELS[lang]
    rank: dict[str | None, int] = {rating: index for index, rating in enumerate(RATINGS)}
    view = pd.DataFrame(index=range(len(table)))
    styles: dict[str, list[str | None]] = {}
    for name in (c for c in ("year", "period", report.by) if c in table.columns):
        view[headers[name]] = labelled(table[name].astype(object).tolist(), labels)
    for key, (columns, kind, rated) in VIEW_COLUMNS.items():
        if key == "gap" and report.by != "posyandu":
            continue  # only posyandu are compared with their kelurahan
        values = table[columns[0]] if len(columns) == 1 else table[list(columns)].max(axis=1)
        texts = _formatted(values, kind, lang)
        if key == "rating":
            texts = labelled(texts, labels)
        header = headers[key]
        view[header] = texts
        if rated:
            codes = [[rank.get(r, -1) for r in report.cells[name]] for name in rated]
            worst = [RATINGS[code] if code >= 0 else "" for code in np.max(codes, axis=0)]
            styles[header] = [RATING_STYLES.get(rating) for rating in worst]
            if key != "rating":
                view[header] = [
                    f"{text} {RATING_MARKS[rating]}" if text and rating in RATING_MARKS else text
                    for text, rating in zip(texts, worst, strict=True)
                ]
    return view, styles


def findings_sheet(report: QualityReport, lang: str) -> pd.DataFrame:
    """The findings as the xlsx sheet "findings" gives them: the stderr lines' words in `lang`
    (ratings, reasons, "All"), in the findings' columns."""
    if lang == "en":
        return report.findings
    sheet = report.findings.copy()
    labels = LABELS[lang]
    for name in (c for c in ("period", report.by) if c in sheet.columns):
        sheet[name] = labelled(sheet[name].astype(object).tolist(), labels)
    sheet["rating"] = [RATING_WORDS[rating][lang] for rating in sheet["rating"]]
    sheet["reasons"] = report.reasons_in(lang)
    return sheet


def failing_line(report: QualityReport, failing: pd.DataFrame, level: str, lang: str) -> str:
    """--fail-on's message: how many rows, and the first of them by name."""
    names = [
        f"{_row_label(row, report, lang)} ({RATING_WORDS[row['rating']][lang]})"
        for _, row in failing.head(10).iterrows()
    ]
    unnamed = len(failing) - len(names)
    more = say("fail_on_more", lang, count=unnamed) if unnamed else ""
    rows = ", ".join(names) + more
    rated = RATING_WORDS[level]
    return say("fail_on", lang, count=len(failing), level=level, rated=rated, rows=rows)


# kbtool quality --explain in each language: its headers; the words of its cells, each found
# by the check's column or by the cell's English value
EXPLAIN_HEADERS = terms("quality.explain_headers")
EXPLAIN_CRITERIA = terms("quality.explain_criteria")
EXPLAIN_WORDS = {
    column: terms(f"quality.explain_{table}")
    for column, table in (("kind", "kinds"), ("rated_on", "rated_on"), ("source", "sources"))
}
# the message that words a check's limits, by its kind
_LIMITS_MESSAGES = {
    "share": "quality_limits_upper",
    "upper": "quality_limits_upper",
    "p": "quality_limits_p",
    "heaping": "quality_limits_p",
    "abs": "quality_limits_abs",
    "sd": "quality_limits_sd",
}


def explain(lang: str = "en") -> pd.DataFrame:
    """Every rated figure: what it measures, its limits (excellent|good, good|acceptable,
    acceptable|problematic), the points each rating costs, the minimum count, the source; in
    `lang` (the columns keep their names: an interface)."""
    table = pd.DataFrame([asdict(check) for check in CHECKS]).drop(columns="floor")
    table["limits"] = [
        say(_LIMITS_MESSAGES[check.kind], lang, **dict(zip(RATINGS, check.limits, strict=False)))
        for check in CHECKS
    ]
    table["points"] = ["/".join(map(str, check.points)) for check in CHECKS]
    table["rated_on"] = [check.rated_on.lstrip("_") for check in CHECKS]
    table["criterion"] = table["column"].map(EXPLAIN_CRITERIA[lang])
    for column, words in EXPLAIN_WORDS.items():
        table[column] = table[column].map(words[lang])
    return table


def explain_view(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The --explain sheet as people read it: its headers in `lang`; in Indonesian the
    columns in the headers' order, the check's Indonesian words first (a narrow terminal shows
    the leading columns), where English keeps the sheet's order."""
    headers = EXPLAIN_HEADERS[lang]
    shown = table if lang == "en" else table[[c for c in headers if c in table.columns]]
    return shown.rename(columns=headers)
