"""A comparison as people read it: the groups, effects and event-study tables, the notes, and
one sentence on the headline effect ("Stunting fell 4.1 points more in Kampung KB ...")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.compare import OTHERS, Comparison
from kbtool.views import prevalence as prevalence_view
from kbtool.views.numbers import intervals, number, numbers
from kbtool.words import say, terms

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
    return f"{prevalence_view.INDICATOR_NAMES[lang][name]} (pp)"


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
    lines = []
    for note in comparison.notes:
        values = dict(note.values)
        if "outcome" in values:
            values["outcome"] = outcome_label(str(values["outcome"]), lang)
        if values.get("group") == OTHERS:
            values["group"] = OTHERS_LABEL[lang]
        lines.append(say(note.key, lang, **values))
    return lines


def method_notes(comparison: Comparison, lang: str = "en") -> list[str]:
    """How the figures were made: the provenance (json meta, parquet, xlsx) and the report."""
    return [line.format(**comparison.options) for line in METHOD[lang]]


METHOD = {
    "en": (
        "groups: prevalence per year and group as kbtool prevalence computes it, {unit} as the "
        "cluster of a clustered design (R survey's Taylor-linearised variance)",
        "selection: each child once per year, by the latest measurement with a valid z-score "
        "(as kbtool prevalence); outcomes: the indicator in percentage points (0 or 100) and the "
        "mean z-score",
        "effects, twfe: OLS of the outcome on {unit} and year fixed effects and treated x post "
        "on child-years (statsmodels, as weighted OLS on the unit-year means); 95% interval and "
        "p by the wild cluster bootstrap by {unit} with the null imposed, Rademacher weights, "
        "{draws} draws (all 2^units when fewer), seed {seed}, interval "
        "by test inversion (R fwildclusterboot); p_randomization: the programme re-assigned "
        "among the units, every assignment when at most 10,000, else 9,999 random ones",
        "effects, callaway_santanna (staggered starts) and the event study: group-time effects "
        "against {unit} not yet treated, base year the last before the start, aggregated by "
        "cohort size (R did, panel = FALSE, universal base period); intervals from the "
        "influence function summed per {unit}, Student's t on units - 1 degrees of freedom; no "
        "interval (nor p) where a start cohort, or the {unit} it is compared with, is one {unit} "
        "in a year, and unbounded (no p) with 5 units or fewer, as the bootstrap's",
    ),
    "id": (
        "kelompok: prevalensi per tahun dan kelompok seperti dihitung kbtool prevalence, {unit} "
        "sebagai klaster desain berklaster (varians linearisasi Taylor paket R survey)",
        "pemilihan: setiap anak sekali per tahun, menurut pengukuran terakhirnya dengan skor-z "
        "yang sah (seperti kbtool prevalence); hasil: indikator dalam poin persentase (0 atau "
        "100) dan rerata skor-z",
        "efek, twfe: OLS hasil terhadap efek tetap {unit} dan tahun serta program x sesudah, "
        "pada anak-tahun (statsmodels, sebagai OLS berbobot pada rerata unit-tahun); interval "
        "95% dan p dengan wild cluster bootstrap per {unit} di bawah hipotesis nol, bobot "
        "Rademacher, {draws} pengulangan (semua 2^unit bila lebih sedikit), seed {seed}, "
        "interval dengan inversi uji (R fwildclusterboot); p_randomization: program ditetapkan "
        "ulang di antara unit, semua penetapan bila paling banyak 10.000, selain itu 9.999 acak",
        "efek, callaway_santanna (mulai bertahap) dan studi peristiwa: efek kelompok-waktu "
        "terhadap {unit} yang belum mendapat program, tahun dasar tahun terakhir sebelum mulai, "
        "digabung menurut besar kohort (R did, panel = FALSE, periode dasar universal); interval "
        "dari fungsi pengaruh yang dijumlahkan per {unit}, t Student dengan derajat bebas "
        "unit - 1; tanpa interval (dan p) bila satu kohort mulai, atau {unit} pembandingnya, "
        "hanya satu {unit} dalam setahun, dan tak terbatas (tanpa p) dengan 5 unit atau kurang, "
        "seperti bootstrap",
    ),
}
