"""`compare_groups`: every table of `kbtool compare` from measurements and a groups file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kbtool.compare.assignment import Assignment, assign
from kbtool.compare.bootstrap import BootstrapResult, can_bound, wild_cluster_bootstrap
from kbtool.compare.descriptive import GROUP_COLUMN, describe, group_prevalence
from kbtool.compare.groups import Programme
from kbtool.compare.observations import Panel, child_years, panel
from kbtool.compare.randomization import RandomizationResult, randomization_test
from kbtool.compare.staggered import (
    Aggregate,
    aggregate,
    aggregate_estimates,
    group_time_effects,
)
from kbtool.compare.twfe import twfe_coefficients, twfe_fit
from kbtool.errors import InputError
from kbtool.prevalence import DEFAULT_MIN_N, chosen_indicators
from kbtool.prevalence import columns_needed as prevalence_columns
from kbtool.prevalence.selection import prepare_visits

# R fwildclusterboot's and Stata ritest's customary number of draws
DEFAULT_DRAWS = 9_999
# --seed's default: the same figures on every run unless another seed is asked for
DEFAULT_SEED = 17
# the event study's years since the start; -1, the year before, is the reference
EVENT_TIMES = (-3, -2, -1, 0, 1, 2, 3)
REFERENCE_TIME = -1
# below these, say that inference is weak (Cameron and Miller 2015; MacKinnon and Webb 2017)
FEW_UNITS = 10
FEW_TREATED = 3

EFFECT_COLUMNS = (
    "outcome",
    "estimator",
    "did_pp",
    "did_z",
    "ci_low",
    "ci_high",
    "p_value",
    "p_randomization",
    "assignments",
    "units",
    "treated_units",
    "child_years",
)
EVENT_COLUMNS = ("outcome", "event_time", "did_pp", "did_z", "ci_low", "ci_high", "cohorts")


@dataclass(frozen=True)
class Outcome:
    """An outcome of the comparison: an indicator in percentage points, or a mean z-score."""

    name: str  # stunting, ..., or mean_haz, ...
    column: str  # case or z, of the child-year observations
    indicator: str
    scale: str  # "pp" or "z"


@dataclass(frozen=True)
class Note:
    """Something a reader of the comparison must know: a kbtool.words key and its values."""

    key: str
    values: dict[str, Any]

    def __init__(self, key: str, **values: Any) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class Comparison:
    """Everything `kbtool compare` reports: prevalence per year and group, the effects per
    outcome (TWFE, and Callaway & Sant'Anna with staggered starts), the event study, and notes
    (weak inference, pre-trends, units without data)."""

    groups: pd.DataFrame
    effects: pd.DataFrame
    event_study: pd.DataFrame
    assignment: Assignment
    options: dict[str, Any]
    notes: list[Note] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The three tables by name, as --table names them."""
        return {"effects": self.effects, "groups": self.groups, "event_study": self.event_study}


def outcomes_of(indicators: str | Sequence[str]) -> list[Outcome]:
    """Each indicator in percentage points, then the mean of each of their z-scores."""
    chosen = chosen_indicators(indicators)
    outcomes = [Outcome(i.name, "case", i.name, "pp") for i in chosen]
    first_of_z = {i.z: i.name for i in reversed(chosen)}
    outcomes += [Outcome(f"mean_{z}", "z", name, "z") for z, name in reversed(first_of_z.items())]
    return outcomes


def columns_needed(programme: Programme, indicators: str | Sequence[str]) -> tuple[str, ...]:
    """The measurement columns compare_groups reads: only these need be read from the store."""
    return (*prevalence_columns(("year",), indicators), programme.unit)


def compare_groups(
    frames: Iterable[pd.DataFrame],
    programme: Programme,
    *,
    indicators: str | Sequence[str] = ("stunting",),
    draws: int = DEFAULT_DRAWS,
    seed: int | None = DEFAULT_SEED,
    min_n: int = DEFAULT_MIN_N,
) -> Comparison:
    """Compare the programme's units with the others in measurements `frames` (parts whose visit
    years never span two, as Loaded.frames() yields them); InputError when the groups file and
    the data allow no comparison (kbtool.compare.assignment.assign)."""
    chosen = [i.name for i in chosen_indicators(indicators)]
    outcomes = outcomes_of(chosen)
    prevalence: list[pd.DataFrame] = []
    observations: dict[str, list[pd.DataFrame]] = {name: [] for name in chosen}
    for frame in frames:
        prevalence.append(group_prevalence(frame, programme, chosen, min_n))
        visits = prepare_visits(frame, period="year", months=None, child_key="child_key")
        for indicator in chosen_indicators(chosen):
            observations[indicator.name].append(
                child_years(frame, visits, programme.unit, indicator)
            )
    child = {name: pd.concat(parts, ignore_index=True) for name, parts in observations.items()}
    first = child[chosen[0]]
    assignment = assign(programme, first["unit"].tolist(), first["year"].tolist())
    groups = describe(prevalence, programme, _units_per_group(first, assignment))
    notes = _data_notes(assignment) + _one_unit_notes(groups, assignment)
    effects: list[dict[str, Any]] = []
    events: list[pd.DataFrame] = []
    if assignment.timed:
        for outcome in outcomes:
            cells = panel(
                child[outcome.indicator], outcome.column, assignment.units, assignment.years
            )
            effects += _effects(outcome, cells, assignment, draws, seed)
            events.append(_event_study(outcome, cells, assignment))
        notes += _inference_notes(assignment) + _unbounded_notes(effects, events, assignment)
        notes += _one_unit_effect_notes(effects, events, assignment) + _pre_trend_notes(events)
    options = {
        "groups_file": programme.source,
        "unit": programme.unit,
        "group": programme.group,
        "indicators": chosen,
        "draws": draws,
        "seed": seed,
        "min_n": min_n,
    }
    effect_table = pd.DataFrame(effects, columns=list(EFFECT_COLUMNS))
    event_table = (
        pd.concat(events, ignore_index=True)
        if events
        else pd.DataFrame(columns=list(EVENT_COLUMNS))
    )
    return Comparison(groups, effect_table, event_table, assignment, options, notes)


def _units_per_group(observations: pd.DataFrame, assignment: Assignment) -> pd.DataFrame:
    """The number of units with counted children per year and group."""
    pairs = observations[["year", "unit"]].drop_duplicates()
    pairs[GROUP_COLUMN] = assignment.group_of(pairs["unit"].tolist())
    return (
        pairs.groupby(["year", GROUP_COLUMN], as_index=False)
        .size()
        .rename(columns={"size": "units"})
    )


def _effects(
    outcome: Outcome, cells: Panel, assignment: Assignment, draws: int, seed: int | None
) -> list[dict[str, Any]]:
    """The outcome's rows of the effects table (InputError when the unit-years leave the
    regression no residual, as one programme unit and one other over two years do)."""
    cells_with_children = int(np.count_nonzero(cells.n))
    parameters = len(assignment.units) + len(assignment.years)  # with the effect, less a year
    if cells_with_children <= parameters:
        unit = assignment.unit
        raise InputError(
            f"{outcome.name}: {cells_with_children} {unit}-years with children for "
            f"{len(assignment.units)} {unit} and {len(assignment.years)} years leave nothing to "
            f"estimate an interval or p-value from; add {unit} or years, or leave the groups "
            "file's since column out for the prevalence per group only"
        )
    since = assignment.since
    fit = twfe_fit(cells, since)
    boot = wild_cluster_bootstrap(cells, since, draws, seed, fit.std_error)
    chance = randomization_test(since, lambda drawn: twfe_coefficients(cells, drawn), seed)
    found: list[tuple[str, float, BootstrapResult | Aggregate, RandomizationResult]] = [
        ("twfe", fit.estimate, boot, chance)
    ]
    if assignment.staggered:
        effects = group_time_effects(cells, since)
        after = effects.year >= effects.cohort
        simple = _few_units(aggregate(effects, after, cells, since), len(assignment.units))
        staggered_chance = randomization_test(
            since,
            lambda drawn: aggregate_estimates(
                group_time_effects(cells, drawn), after, cells, drawn
            ),
            seed,
        )
        found.append(("callaway_santanna", simple.estimate, simple, staggered_chance))
    return [
        {
            "outcome": outcome.name,
            "estimator": estimator,
            **_effect(outcome, estimate),
            "ci_low": inference.ci_low,
            "ci_high": inference.ci_high,
            "p_value": inference.p_value,
            "p_randomization": test.p_value,
            "assignments": test.assignments,
            "units": len(assignment.units),
            "treated_units": int(assignment.treated.sum()),
            "child_years": int(cells.n.sum()),
        }
        for estimator, estimate, inference, test in found
    ]


def _effect(outcome: Outcome, estimate: float) -> dict[str, float]:
    """The estimate under its scale's column (did_pp or did_z), the other empty."""
    return {"did_pp": estimate if outcome.scale == "pp" else np.nan,
            "did_z": estimate if outcome.scale == "z" else np.nan}  # fmt: skip


def _event_study(outcome: Outcome, cells: Panel, assignment: Assignment) -> pd.DataFrame:
    """The effect by years since the start: Callaway & Sant'Anna's group-time effects against
    units not yet treated, aggregated by cohort size for each year since the start."""
    effects = group_time_effects(cells, assignment.since)
    elapsed = effects.year - effects.cohort
    rows: list[dict[str, Any]] = []
    for event_time in EVENT_TIMES:
        if event_time == REFERENCE_TIME:
            cohorts = len(np.unique(effects.cohort))
            rows.append({"event_time": event_time, **_effect(outcome, 0.0), "cohorts": cohorts})
            continue
        keep = (elapsed == event_time) & np.isfinite(effects.estimate[:, 0])
        if not keep.any():
            continue
        result = _few_units(
            aggregate(effects, keep, cells, assignment.since), len(assignment.units)
        )
        rows.append(
            {
                "event_time": event_time,
                **_effect(outcome, result.estimate),
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "cohorts": int(keep.sum()),
            }
        )
    table = pd.DataFrame(rows, columns=list(EVENT_COLUMNS[1:]))
    table.insert(0, "outcome", outcome.name)
    return table


def _few_units(result: Aggregate, units: int) -> Aggregate:
    """An influence-function interval held to the bootstrap's rule for few units: where the
    bootstrap can bound no effect (5 units or fewer), unbounded and without a p-value, as the
    twfe row is; G - 1 degrees of freedom from so few units are no firmer ground."""
    if can_bound(units) or np.isnan(result.estimate):
        return result
    return Aggregate(result.estimate, np.nan, -np.inf, np.inf, np.nan)


def _data_notes(assignment: Assignment) -> list[Note]:
    notes = []
    if assignment.missing:
        notes.append(
            Note("compare_missing", unit=assignment.unit, names=", ".join(assignment.missing))
        )
    if not assignment.timed:
        notes.append(Note("compare_no_since"))
    return notes


def _one_unit_notes(groups: pd.DataFrame, assignment: Assignment) -> list[Note]:
    """A note per group with a single unit in some year: its interval is left empty."""
    single = groups[(groups["units"] == 1) & (groups["n"] > 0)]
    notes = []
    for group, rows in single.groupby(GROUP_COLUMN, sort=False):
        years = ", ".join(str(int(y)) for y in dict.fromkeys(rows["year"]))
        notes.append(Note("compare_one_unit", group=group, years=years, unit=assignment.unit))
    return notes


def _inference_notes(assignment: Assignment) -> list[Note]:
    notes = []
    units, treated = len(assignment.units), int(assignment.treated.sum())
    if units < FEW_UNITS or treated < FEW_TREATED:
        notes.append(
            Note(
                "compare_weak",
                units=units,
                unit=assignment.unit,
                treated=treated,
                few_units=FEW_UNITS,
                few_treated=FEW_TREATED,
            )
        )
    if assignment.staggered:
        starts = sorted({int(s) for s in assignment.since[assignment.treated]})
        notes.append(Note("compare_staggered", years=", ".join(map(str, starts))))
    return notes


def _unbounded_notes(
    effects: list[dict[str, Any]], events: list[pd.DataFrame], assignment: Assignment
) -> list[Note]:
    """One note per outcome with an interval with an infinite end, of an effect or of the event
    study (the bootstrap rejects no effect that far out: always with 5 units or fewer, as
    p >= 2 / 2^units > 5%, and the event study then follows it)."""
    unbounded = [e["outcome"] for e in effects if np.isinf([e["ci_low"], e["ci_high"]]).any()]
    for table in events:
        ends = table[["ci_low", "ci_high"]].to_numpy(np.float64)
        unbounded += table.loc[np.isinf(ends).any(axis=1), "outcome"].tolist()
    units, unit = len(assignment.units), assignment.unit
    return [
        Note("compare_unbounded", outcome=outcome, units=units, unit=unit)
        for outcome in dict.fromkeys(unbounded)
    ]


def _withheld(table: pd.DataFrame) -> pd.Series:
    """Rows of an effects or event-study table with an estimate but no interval (one of its
    means is one unit's, kbtool.compare.staggered); the reference year is not one."""
    estimate = table["did_pp"].fillna(table["did_z"])
    withheld = estimate.notna() & table["ci_low"].isna()
    if "event_time" in table.columns:
        withheld &= table["event_time"] != REFERENCE_TIME
    return withheld


def _one_unit_effect_notes(
    effects: list[dict[str, Any]], events: list[pd.DataFrame], assignment: Assignment
) -> list[Note]:
    """A note per outcome whose Callaway & Sant'Anna effect, or event-study years, have no
    interval because a start cohort, or the units it is compared with, is one unit in a year."""
    notes = []
    table = pd.DataFrame(effects, columns=list(EFFECT_COLUMNS))
    staggered = table[(table["estimator"] == "callaway_santanna") & _withheld(table)]
    for outcome in dict.fromkeys(staggered["outcome"]):
        notes.append(Note("compare_staggered_one_unit", outcome=outcome, unit=assignment.unit))
    for events_of in events:
        withheld = events_of[_withheld(events_of)]
        if len(withheld):
            notes.append(
                Note(
                    "compare_event_one_unit",
                    outcome=str(events_of["outcome"].iloc[0]),
                    years=", ".join(str(int(e)) for e in withheld["event_time"]),
                    count=len(withheld),  # "year" or "years"
                    unit=assignment.unit,
                )
            )
    return notes


def _pre_trend_notes(events: list[pd.DataFrame]) -> list[Note]:
    """Per outcome, what the years before the start say of parallel trends: only a finite
    interval says anything (none, or an unbounded one, can neither show nor rule out a drift)."""
    notes = []
    for table in events:
        before = table[table["event_time"] < REFERENCE_TIME]
        ends = before[["ci_low", "ci_high"]].to_numpy(np.float64)
        known = before[np.isfinite(ends).all(axis=1)]
        unknown = before[~np.isfinite(ends).all(axis=1)]
        diverging = known[(known["ci_low"] > 0) | (known["ci_high"] < 0)]
        outcome = str(table["outcome"].iloc[0])
        if len(diverging):
            years = ", ".join(str(int(e)) for e in diverging["event_time"])
            notes.append(
                Note("compare_pre_trend", outcome=outcome, years=years, count=len(diverging))
            )
        if len(unknown):
            years = ", ".join(str(int(e)) for e in unknown["event_time"])
            notes.append(
                Note("compare_pre_unknown", outcome=outcome, years=years, count=len(unknown))
            )
        elif len(known) and not len(diverging):
            notes.append(Note("compare_parallel", outcome=outcome))
        elif not len(before):
            notes.append(Note("compare_no_pre", outcome=outcome))
    return notes
