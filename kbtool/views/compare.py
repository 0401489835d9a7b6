"""A comparison as people read it: the groups, effects and event-study tables, the notes, and
one sentence on the headline effect ("Stunting fell 4.1 points more in Kampung KB ...")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.compare import OTHERS, Comparison
from kbtool.views import prevalence as prevalence_view
from kbtool.views.numbers import intervals, number, numbers
from kbtool.words import LANGS, Said, in_language, say, terms

HEADERS = terms("compare.headers")
ESTIMATORS = terms("compare.estimators")
OUTCOMES = terms("compare.outcomes")
TITLES = terms("compare.titles")
OTHERS_LABEL = {"en": OTHERS, "id": "lainnya"}
WORDS = terms("compare.words")  # an interval with an infinite end is "unbounded"


def _intervals(
    low: pd.Series, high: pd.Series, lang: str, decimals: int | list[int] = 1
) -> list[str]:
    """Each interval ("-7.2 to 1.6"), or "unbounded" where an end is infinite: a finite end
    beside an infinite one is no interval a reader can use."""
    written = intervals(low, high, lang, decimals, prevalence_view.BETWEEN[lang])
    ends = np.column_stack([low.to_numpy(np.float64), high.to_numpy(np.float64)])
    unbounded, word = np.isinf(ends).any(axis=1), WORDS[lang]["unbounded"]
    return [word if out else text for text, out in zip(written, unbounded, strict=True)]


def outcome_label(name: str, lang: str) -> str:
    """An outcome as a table or chart names it: "stunting (HAZ < -2) (pp)", "mean HAZ (z)"."""
    if name in OUTCOMES[lang]:
        return OUTCOMES[lang][name]
    return f"{prevalence_view.INDICATOR_NAMES[lang][name]} ({WORDS[lang]['points']})"


def groups_view(comparison: Comparison, lang: str) -> tuple[pd.DataFrame, list[str | None]]:
    """The prevalence table of the groups, with units and the change from the year before."""
    table = comparison.groups.replace({"group": {OTHERS: OTHERS_LABEL[lang]}})
    table.attrs = dict(comparison.groups.attrs)
    view, styles = prevalence_view.table_view(table, lang=lang)  # its notes in `lang`
    headers = HEADERS[lang]
    view = view.rename(columns={"group": headers["group"], "units": headers["units"]})
    where = list(view.columns).index(prevalence_view.HEADERS[lang]["ci"])
    view.insert(where, headers["change"], numbers(table["change_pp"], lang))
    return view, styles


def _estimates(table: pd.DataFrame, lang: str) -> dict[str, list[str]]:
    """The outcome, estimate and interval columns of the effects and event-study views."""
    headers = HEADERS[lang]
    in_points = table["did_pp"].notna().to_numpy()
    values = np.where(in_points, table["did_pp"], table["did_z"]).astype(np.float64)
    decimals = np.where(in_points, 1, 2).tolist()  # points, z
    return {
        headers["outcome"]: [outcome_label(name, lang) for name in table["outcome"]],
        headers["effect"]: numbers(values, lang, decimals),
        headers["ci"]: _intervals(table["ci_low"], table["ci_high"], lang, decimals),
    }


def effects_view(comparison: Comparison, lang: str) -> pd.DataFrame:
    """The effects table: each estimate, its interval, p-values and what it rests on."""
    table = comparison.effects
    headers = HEADERS[lang]
    view = pd.DataFrame(_estimates(table, lang))
    view.insert(1, headers["estimator"], [ESTIMATORS[lang][e] for e in table["estimator"]])
    view[headers["p"]] = numbers(table["p_value"], lang, 3)
    view[headers["p_random"]] = numbers(table["p_randomization"], lang, 3)
    view[headers["units_treated"]] = [
        f"{t} / {u}" for t, u in zip(table["treated_units"], table["units"], strict=True)
    ]
    view[headers["child_years"]] = table["child_years"]
    return view


def event_view(comparison: Comparison, lang: str) -> pd.DataFrame:
    """The event-study table: the effect by years since the start."""
    table = comparison.event_study
    headers = HEADERS[lang]
    view = pd.DataFrame(_estimates(table, lang))
    view.insert(1, headers["event_time"], table["event_time"].to_numpy())
    view[headers["cohorts"]] = table["cohorts"].to_numpy()
    return view


def summary(comparison: Comparison, lang: str) -> str | None:
    """One sentence on the headline effect (None without a difference in differences): the
    first outcome's Callaway & Sant'Anna estimate with staggered starts, else its twfe one."""
    effects = comparison.effects
    if not len(effects):
        return None
    # callaway_santanna follows twfe when there is one
    row = effects[effects["outcome"] == effects["outcome"].iloc[0]].iloc[-1]
    assignment = comparison.assignment
    words = prevalence_view.INDICATOR_NAMES[lang][str(row["outcome"])].split(" (")[0]
    value, p = float(row["did_pp"]), float(row["p_randomization"])
    # the randomization p-value as a sentence gives it: two decimals, or "< 0.01"
    chance = f"< {number(0.01, lang, 2)}" if p < 0.01 else f"= {number(p, lang, 2)}"
    interval = f"{WORDS[lang]['ci']} {_intervals(row[['ci_low']], row[['ci_high']], lang)[0]}"
    if pd.isna(row["ci_low"]):  # a start cohort of one unit: kbtool.compare.staggered
        interval = WORDS[lang]["no_interval"]
    return say(
        "compare_summary",
        lang,
        words=words.capitalize() if lang == "en" else words,
        direction={"en": "fell", "id": "turun"} if value < 0 else {"en": "rose", "id": "naik"},
        size=number(abs(value), lang),
        group=assignment.group,
        unit=assignment.unit,
        interval=interval,
        chance=chance,
        treated=int(row["treated_units"]),
        units=int(row["units"]),
    )


def note_lines(comparison: Comparison, lang: str) -> list[str]:
    """The comparison's notes in `lang`."""
    return [in_language(note, lang) for note in said_notes(comparison)]


def said_notes(comparison: Comparison) -> list[Said]:
    """The comparison's notes, each able to say itself in every language (the provenance's)."""
    notes = []
    for note in comparison.notes:
        values = dict(note.values)
        if "outcome" in values:
            outcome = str(values["outcome"])
            values["outcome"] = {lang: outcome_label(outcome, lang) for lang in LANGS}
        if values.get("group") == OTHERS:
            values["group"] = OTHERS_LABEL
        notes.append(Said(note.key, **values))
    return notes


# how the figures were made (kbtool.words), each filled with the comparison's options
METHOD = (
    "compare_method_groups",
    "compare_method_selection",
    "compare_method_twfe",
    "compare_method_staggered",
)


def method_notes(comparison: Comparison, lang: str = "en") -> list[str]:
    """How the figures were made: the provenance (json meta, parquet, xlsx) and the report."""
    return [say(key, lang, **comparison.options) for key in METHOD]


def said_method(comparison: Comparison) -> list[Said]:
    """method_notes, each able to say itself in every language (the provenance's)."""
    return [Said(key, **comparison.options) for key in METHOD]
