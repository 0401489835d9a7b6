"""A growth (stunting dynamics) result as people read it, in English or Indonesian."""

from __future__ import annotations

import pandas as pd

from kbtool.prevalence import TOTAL_LABEL
from kbtool.views.numbers import intervals, numbers
from kbtool.views.prevalence import BETWEEN, LABELS

HEADERS = {
    "en": {
        "year": "Year",
        "children": "Children",
        "children_pairs": "With pairs",
        "at_risk": "At risk",
        "onsets": "Onsets",
        "incidence": "Onset %",
        "confirmed_onsets": "Onsets conf.",
        "stunted_at_start": "Stunted",
        "recoveries": "Recovered",
        "recovery": "Recovery %",
        "confirmed_recoveries": "Recov. conf.",
        "dhaz": "dHAZ/year",
        "dhaz_children": "n dHAZ",
        "ci": "95% CI",
    },
    "id": {
        "year": "Tahun",
        "children": "Anak",
        "children_pairs": "Berpasangan",
        "at_risk": "Berisiko",
        "onsets": "Jadi pendek",
        "incidence": "Insidensi %",
        "confirmed_onsets": "Jadi pendek konf.",
        "stunted_at_start": "Pendek",
        "recoveries": "Pulih",
        "recovery": "Pulih %",
        "confirmed_recoveries": "Pulih konf.",
        "dhaz": "dTB/U per tahun",
        "dhaz_children": "n dTB/U",
        "ci": "IK 95%",
    },
}


def table_view(result: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it, and a style per row (the whole area bold)."""
    words, labels = HEADERS[lang], LABELS[lang]
    between = BETWEEN[lang]
    by = result.attrs.get("by", result.columns[1])
    view = pd.DataFrame(
        {
            words["year"]: result["year"],
            by.capitalize(): result[by].map(lambda v: labels.get(v, v)),
        }
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
    styles: list[str | None] = [
        "bold" if label == TOTAL_LABEL else None for label in result[by].astype(object)
    ]
    return view.reset_index(drop=True), styles


def title(lang: str) -> str:
    return "Stunting onset and recovery" if lang == "en" else "Kejadian dan pemulihan stunting"
