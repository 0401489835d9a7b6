"""A growth (stunting dynamics) result as people read it, in English or Indonesian."""

from __future__ import annotations

import pandas as pd

from kbtool.prevalence import TOTAL_LABEL
from kbtool.views import bold_totals, labelled
from kbtool.views.numbers import intervals, numbers
from kbtool.views.prevalence import BETWEEN, LABELS
from kbtool.words import terms

HEADERS = terms("growth.headers")


def table_view(result: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it, and a style per row (the whole area bold)."""
    words, labels, between = HEADERS[lang], LABELS[lang], BETWEEN[lang]
    by = result.attrs.get("by", result.columns[1])
    view = pd.DataFrame(
        {words["year"]: result["year"], by.capitalize(): labelled(result[by], labels)}
    )
    for column in ("children", "children_pairs", "at_risk", "onsets"):
        view[words[column]] = result[column]
    view[words["incidence"]] = numbers(result["incidence_pct"], lang)
    low, high = result["incidence_ci_low"], result["incidence_ci_high"]
    view[words["ci"]] = intervals(low, high, lang, 1, between)
    for column in ("confirmed_onsets", "stunted_at_start", "recoveries"):
        view[words[column]] = result[column]
    view[words["recovery"]] = numbers(result["recovery_pct"], lang)
    low, high = result["recovery_ci_low"], result["recovery_ci_high"]
    view[words["ci"] + " "] = intervals(low, high, lang, 1, between)
    view[words["confirmed_recoveries"]] = result["confirmed_recoveries"]
    view[words["dhaz"]] = numbers(result["mean_dhaz_per_year"], lang, 2, sign=True)
    low, high = result["dhaz_ci_low"], result["dhaz_ci_high"]
    view[words["ci"] + "  "] = intervals(low, high, lang, 2, between)
    view[words["dhaz_children"]] = result["dhaz_children"]
    return view.reset_index(drop=True), bold_totals(result[by].astype(object) == TOTAL_LABEL)


def title(lang: str) -> str:
    return "Stunting onset and recovery" if lang == "en" else "Kejadian dan pemulihan stunting"
