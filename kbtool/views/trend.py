"""A trend as people read it: the table view, and the words of its status and notes in `lang`."""

from __future__ import annotations

import re

import pandas as pd

from kbtool.prevalence import TOTAL_LABEL
from kbtool.trend import Target
from kbtool.views import bold_totals, labelled
from kbtool.views.numbers import number_as_typed, numbers
from kbtool.views.prevalence import HEADERS as PREVALENCE_HEADERS
from kbtool.views.prevalence import INDICATOR_NAMES, LABELS
from kbtool.words import say, terms

STATUS_WORDS = terms("trend.status_words")
# the phrases of a trend's notes (kbtool.trend) in Bahasa Indonesia
NOTE_PHRASES = {
    "left out: ": "tidak dihitung: ",
    "no children": "tidak ada anak",
    "no figures": "tanpa angka",
    "no year with a prevalence": "tidak ada tahun dengan prevalensi",
    "fewer than two years with a prevalence above 0%: no AARR": "kurang dari dua tahun dengan "
    "prevalensi di atas 0%: AARR tidak dihitung",
    "not after the last year: its prevalence compared with the target": "tidak sesudah tahun "
    "terakhir: prevalensinya dibandingkan dengan target",
    "target year": "tahun target",
}
HEADERS = terms("trend.headers")
_YEAR_COLUMN = re.compile(r"pct_(\d{4})")


def note_text(text: str, lang: str) -> str:
    """A trend's note in `lang`."""
    if lang == "en":
        return text
    for english, indonesian in NOTE_PHRASES.items():
        text = text.replace(english, indonesian)
    return text


def in_language(trend: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The trend with its status and notes in `lang` (column names stay: an interface)."""
    if lang == "en":
        return trend
    translated = trend.copy()
    for column in [c for c in trend.columns if c == "status" or c.startswith("status_")]:
        translated[column] = trend[column].map(STATUS_WORDS[lang])
    translated["note"] = [note_text(str(text), lang) for text in trend["note"]]
    translated.attrs = dict(trend.attrs)
    return translated


def table_view(trend: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it (each year's % with its n, the targets' blocks, words in
    `lang`) and a style per row: the whole-area row bold."""
    headers, labels = HEADERS[lang], LABELS[lang]
    shown = in_language(trend, lang)
    view = pd.DataFrame(index=trend.index)
    groups = list(trend.columns[: list(trend.columns).index("indicator")])
    for column in groups:
        header = PREVALENCE_HEADERS[lang].get(column, column)
        view[header] = labelled(trend[column].astype(str), labels)
    if len(set(trend["indicator"])) > 1:
        view[PREVALENCE_HEADERS[lang]["indicator"]] = [
            INDICATOR_NAMES[lang][name] for name in trend["indicator"]
        ]
    for column in trend.columns:
        if year := _YEAR_COLUMN.fullmatch(column):
            pct = numbers(trend[column], lang)
            n = trend[f"n_{year[1]}"].astype("Int64").astype(str)
            view[headers["pct"].format(year=year[1])] = [
                f"{p} ({c})" if p else f"- ({c})" for p, c in zip(pct, n, strict=True)
            ]
    view[headers["change_pp"]] = numbers(trend["change_pp"], lang, sign=True)
    view[headers["aarr"]] = numbers(trend["aarr"], lang)
    for column in trend.columns:
        if column.startswith("target_year"):
            suffix = column.removeprefix("target_year")
            target_year = int(trend[column].iloc[0]) if len(trend) else ""
            for figure in ("required_aarr", "projected_pct"):
                view[headers[figure].format(year=target_year)] = numbers(
                    trend[f"{figure}{suffix}"], lang
                )
            view[headers["status"].format(year=target_year)] = shown[f"status{suffix}"]
    view[PREVALENCE_HEADERS[lang]["note"]] = shown["note"]
    is_total = (trend[groups] == TOTAL_LABEL).all(axis=1)  # no group columns: every row
    return view.reset_index(drop=True), bold_totals(is_total)


def title(trend: pd.DataFrame, lang: str) -> str:
    """The table's title, with its targets."""
    targets = ", ".join(
        say("trend_target", lang, pct=number_as_typed(target.pct, lang), year=target.year)
        for target in map(Target.parse, trend.attrs.get("targets", []))
    )
    return say("trend_title", lang, targets=targets)
