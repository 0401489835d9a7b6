"""A prevalence result as people read it: the table view (counts named as Permenkes 2/2020
names them; "low precision" marks 25-49 children, under --min-n only n) and the method sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.prevalence import (
    GENERIC_COLUMNS,
    INDICATORS,
    TOTAL_LABEL,
    figure_columns,
    is_low_precision,
)
from kbtool.views import labelled, made_how
from kbtool.views.numbers import intervals, numbers
from kbtool.words import note, terms
from kbtool.writing import ABOUT, Provenance

HEADERS = terms("groups.headers", "prevalence.headers")
# the heads of a table's counts (cases; severe or obese) per indicator, "several" for many
CASES, SEVERE = terms("prevalence.cases"), terms("prevalence.severe")
INDICATOR_NAMES = terms("prevalence.indicators")  # a row, chart or title naming an indicator
DEFINITIONS = terms("prevalence.definitions")  # what each indicator counts
LABELS = terms("groups.labels", "prevalence.labels")
NOTES = terms("prevalence.notes")


def in_language(result: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The result with its notes in `lang` (the columns keep their names: an interface)."""
    if lang == "en":
        return result
    translated = result.copy()
    translated["note"] = pd.Series(
        [note(str(text), lang) for text in result["note"].astype(object).fillna("")],
        index=result.index,
        dtype="str",
    )
    translated.attrs = dict(result.attrs)
    return translated


# between an interval's ends where a hyphen would read as a minus sign (intervals of changes)
BETWEEN = {"en": " to ", "id": " s.d. "}


def table_view(result: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it, and a style per row (total bold, low precision dim)."""
    headers, labels = HEADERS[lang], LABELS[lang]
    figures: tuple[str, ...]
    if "indicator" in result.columns:
        figures, counted = GENERIC_COLUMNS, "several"
    else:
        counted = result.attrs.get("indicators", ["stunting"])[0]
        figures = figure_columns(INDICATORS[counted])
    main, second = CASES[lang][counted], SEVERE[lang][counted]
    n, cases, pct, low, high, _, second_pct, second_low, second_high, mean, sd, excluded = (
        result[c] for c in figures
    )
    key_columns = list(result.columns[: list(result.columns).index("n")])
    view = pd.DataFrame(index=result.index)
    for column in key_columns:
        values = result[column].astype(object)
        if column == "indicator":
            values = values.map(INDICATOR_NAMES[lang])
        view[headers.get(column, column)] = labelled(values, labels)
    view[headers["n"]] = n
    view[main] = cases
    view[headers["pct"]] = numbers(pct, lang)
    view[headers["ci"]] = intervals(low, high, lang)
    view[headers["second_pct"].format(second=second)] = numbers(second_pct, lang)
    view[headers["second_ci"].format(second=second)] = intervals(second_low, second_high, lang)
    view[headers["mean"]] = numbers(mean, lang, 2)
    view[headers["sd"]] = numbers(sd, lang, 2)
    view[headers["excluded"]] = excluded

    suppressed = pct.isna().to_numpy() & (n.to_numpy() > 0)
    low_precision = is_low_precision(n.to_numpy()) & ~suppressed
    is_total = np.zeros(len(result), dtype=bool)
    for column in key_columns[1:]:
        if column != "indicator":
            is_total |= (result[column].astype(object) == TOTAL_LABEL).to_numpy()
    notes = np.array([note(str(t), lang) for t in result["note"].astype(object).fillna("")], object)
    notes[suppressed] = NOTES[lang]["suppressed"].format(min_n=result.attrs.get("min_n", 25))
    notes[low_precision] = NOTES[lang]["low"]
    view[headers["note"]] = notes
    styles: list[str | None] = [
        "bold" if total else "dim" if (lo or sup) else None
        for total, lo, sup in zip(is_total, low_precision, suppressed, strict=True)
    ]
    return view.reset_index(drop=True), styles


def title(result: pd.DataFrame, lang: str) -> str:
    """The table's title: the indicator's name, or a general one for several."""
    chosen = result.attrs.get("indicators", ["stunting"])
    if len(chosen) > 1:
        return "Nutrition indicators" if lang == "en" else "Indikator gizi"
    if lang == "en":
        return f"{chosen[0].replace('bmi_', 'BMI ').capitalize()} prevalence"
    return f"Prevalensi {INDICATOR_NAMES['id'][chosen[0]]}"


def method_sheet(provenance: Provenance, lang: str = "en") -> pd.DataFrame:
    """The xlsx sheet that states how the figures were made, in `lang`."""
    about, words = provenance.to_dict(), ABOUT[lang]
    chosen = about.get("options", {}).get("indicators") or ["stunting"]
    rows = [
        *((words["indicator"], DEFINITIONS[lang][name]) for name in chosen),
        (words["reference"], about["reference"]),
        (words["categories"], "Permenkes No. 2 Tahun 2020"),
        *made_how(about, lang),
    ]
    return pd.DataFrame(rows, columns=[words["item"], words["value"]])
