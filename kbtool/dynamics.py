"""Stunting dynamics per group and year: who became stunted, who recovered, how HAZ moved.

From each child's valid HAZ (computable, not flagged), one per calendar month, the month's last
(kbtool.visits), classified on the HAZ rounded to 2 decimals as WHO Anthro does (stunted:
< -2). A pair is two consecutive entries of a child's monthly sequence at most 183 days apart,
counted in the year of the later one; a child counts in the group of their latest entry of the
year. Per group and year:

- children_pairs: children with a pair; at_risk: with a pair whose earlier HAZ is >= -2;
  onsets: of them, with a pair from >= -2 to < -2; incidence_pct = onsets / at_risk;
- confirmed_onsets: with an onset pair whose next entry (at most 183 days after the pair's later
  one, possibly in the next year) is < -2 too;
- stunted_at_start, recoveries, recovery_pct, confirmed_recoveries: the same, from < -2 to
  >= -2;
- mean_dhaz_per_year: the mean over children of (last HAZ - first HAZ of the year, unrounded)
  / (days between / 365.25), for children whose first and last are >= 90 days apart.

Percentages come with Wilson 95% intervals (scipy), the mean with its Student's t interval. The
definitions follow the longitudinal analyses of the ki child growth consortium (Benjamin-Chung
et al., Nature 2023); docs/growth.md says why single crossings of -2 are noisy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.columns import float_column, require_columns
from kbtool.errors import InputError
from kbtool.growth.constants import Z_DECIMALS
from kbtool.growth.rounding import rounds_below
from kbtool.prevalence.compute import TOTAL_LABEL
from kbtool.prevalence.design import CONFIDENCE_LEVEL, t_quantile
from kbtool.prevalence.selection import valid_z
from kbtool.visits import (
    Int32Array,
    MonthlySequence,
    group_codes,
    label_column,
    monthly_sequence,
)
from kbtool.words import Said
from kbtool.writing import Provenance

BY_CHOICES = ("kelurahan", "kecamatan", "posyandu", "puskesmas")
STUNTED_BELOW_HAZ = -2.0  # WHO / Permenkes 2/2020: pendek below -2 SD
# ki consortium (Benjamin-Chung et al. 2023): measurements further apart are not one interval
PAIR_MAX_DAYS = 183
# a change in HAZ over less than three months is mostly measurement error
DHAZ_MIN_DAYS = 90
DAYS_PER_YEAR = 365.25
GROWTH_COLUMNS = (
    "children",
    "children_pairs",
    "at_risk",
    "onsets",
    "incidence_pct",
    "incidence_ci_low",
    "incidence_ci_high",
    "confirmed_onsets",
    "stunted_at_start",
    "recoveries",
    "recovery_pct",
    "recovery_ci_low",
    "recovery_ci_high",
    "confirmed_recoveries",
    "mean_dhaz_per_year",
    "dhaz_ci_low",
    "dhaz_ci_high",
    "dhaz_children",
)


# the kinds of pair counted per child and year (_pair_kinds)
_EVENTS = (
    "children_pairs",
    "at_risk",
    "onsets",
    "confirmed_onsets",
    "stunted_at_start",
    "recoveries",
    "confirmed_recoveries",
)
# each rate's cases and the children it is a rate of
_RATES = (("incidence", "onsets", "at_risk"), ("recovery", "recoveries", "stunted_at_start"))


def columns_needed(by: str) -> tuple[str, ...]:
    """The measurement columns compute_growth reads."""
    return ("child_key", "visit_date", "haz", "haz_flag", by)


def compute_growth(
    frame: pd.DataFrame, *, by: str = "kelurahan", child_key: str = "child_key"
) -> pd.DataFrame:
    """The stunting dynamics per group (`by`) and year, and a whole-area row ("All") per year
    after its groups (see the module docstring). `children` counts the children with a valid
    HAZ in the year. InputError when there are measurements but none has a dated valid HAZ
    (a register of weights only): there is nothing to follow, not an empty result."""
    require_columns(frame, [child_key, by])
    sequence = monthly_sequence(frame, valid_z(frame, "haz", "haz_flag"), child_key=child_key)
    if len(frame) and not len(sequence):
        raise InputError(
            f"nothing to follow: none of the {len(frame):,} measurements has a valid HAZ with a "
            "visit date (a length or height, the child's sex and birth date, not flagged by "
            "WHO); map a height column with --column height_cm=NAME if the register has one"
        )
    codes, labels = group_codes(frame[by])
    years = pd.concat(
        [_child_years(frame, part, codes) for part in sequence.blocks()], ignore_index=True
    )
    first_year = int(years["year"].min()) if len(years) else 0
    year = years["year"].to_numpy(dtype=np.int64) - first_year
    group = years["group"].to_numpy(dtype=np.int64)
    group = np.where(group >= 0, group, len(labels))  # the last: unknown
    cell = year * (len(labels) + 1)
    parts = [
        _figures(cell + group, years, first_year, len(labels), labels, by),
        _figures(cell, years, first_year, len(labels), None, by),  # the whole area
    ]
    result = pd.concat(parts, ignore_index=True)
    result = result.sort_values(["year", "_total", "_unknown", by], kind="stable")
    result = result.drop(columns=["_total", "_unknown"]).reset_index(drop=True)
    result.attrs.update({"by": by})
    return result


def _child_years(frame: pd.DataFrame, sequence: MonthlySequence, codes: Int32Array) -> pd.DataFrame:
    """One row per child and year of a part of the sequence (whole children): the year, the
    group of the child's latest entry in it, the kinds of pair it had, its HAZ velocity."""
    haz = float_column(frame, "haz")[sequence.rows]
    stunted = rounds_below(haz, STUNTED_BELOW_HAZ, Z_DECIMALS)
    year = 1970 + sequence.month // 12
    # runs of one child and year: the sequence comes in child, month order
    first = np.ones(len(sequence), dtype=np.bool_)
    first[1:] = (sequence.child[1:] != sequence.child[:-1]) | (year[1:] != year[:-1])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(sequence))[: len(starts)] - 1
    years = pd.DataFrame({"year": year[ends], "group": codes[sequence.rows[ends]]})
    run = np.cumsum(first) - 1
    for name, kind in _pair_kinds(sequence, stunted).items():
        years[name] = np.bincount(run[kind], minlength=len(starts)) > 0
    years["velocity"] = _velocity(sequence, haz, starts, ends)
    return years


def _pair_kinds(sequence: MonthlySequence, stunted: BoolArray) -> dict[str, BoolArray]:
    """Per entry, whether it ends a pair of each kind (see the module docstring)."""
    pair = sequence.same_child_before()
    pair[1:] &= sequence.day[1:] - sequence.day[:-1] <= PAIR_MAX_DAYS
    before = np.zeros(len(stunted), dtype=np.bool_)
    before[1:] = stunted[:-1]
    # the entry after a pair's later one, when it is the child's within PAIR_MAX_DAYS
    follows = np.zeros(len(stunted), dtype=np.bool_)
    follows[:-1] = pair[1:]
    after = np.zeros(len(stunted), dtype=np.bool_)
    after[:-1] = stunted[1:]
    onset = pair & ~before & stunted
    recovery = pair & before & ~stunted
    return {
        "children_pairs": pair,
        "at_risk": pair & ~before,
        "onsets": onset,
        "confirmed_onsets": onset & follows & after,
        "stunted_at_start": pair & before,
        "recoveries": recovery,
        "confirmed_recoveries": recovery & follows & ~after,
    }


def _velocity(
    sequence: MonthlySequence, haz: FloatArray, starts: IntArray, ends: IntArray
) -> FloatArray:
    """Each child-year's HAZ change per year, first to last entry; NaN under DHAZ_MIN_DAYS."""
    days = sequence.day[ends] - sequence.day[starts]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (haz[ends] - haz[starts]) / (days / DAYS_PER_YEAR)
    return np.where(days >= DHAZ_MIN_DAYS, change, np.nan)


def _figures(
    cell: IntArray,
    years: pd.DataFrame,
    first_year: int,
    groups: int,
    labels: list[str] | None,
    by: str,
) -> pd.DataFrame:
    """The result rows of the cells ((year - first_year) * (groups + 1) + group; the whole
    area when `labels` is None) that hold a child-year."""
    present = np.bincount(cell) > 0  # cells are few: years x groups
    used = np.flatnonzero(present)
    cell = (np.cumsum(present) - 1)[cell]
    size = len(used)
    year, group = np.divmod(used, groups + 1)
    out = pd.DataFrame({"year": year.astype(np.int64) + first_year})
    if labels is None:
        out[by] = pd.Series([TOTAL_LABEL] * size, dtype="str")
    else:
        out[by] = label_column(np.where(group < groups, group, -1), labels)
    out["_total"] = labels is None
    out["_unknown"] = (group >= groups) if labels is not None else False
    figures: dict[str, npt.NDArray[np.generic]] = {
        name: np.bincount(cell[years[name].to_numpy()], minlength=size).astype(np.int64)
        for name in _EVENTS
    }
    figures["children"] = np.bincount(cell, minlength=size)
    for rate, cases, base in _RATES:
        pct, low, high = wilson_percent(figures[cases], figures[base])
        figures.update({f"{rate}_pct": pct, f"{rate}_ci_low": low, f"{rate}_ci_high": high})
    mean, low, high, n = mean_with_t_interval(years["velocity"].to_numpy(), cell, size)
    figures.update(mean_dhaz_per_year=mean, dhaz_ci_low=low, dhaz_ci_high=high, dhaz_children=n)
    for name in GROWTH_COLUMNS:
        out[name] = figures[name]
    return out


def wilson_percent(
    cases: npt.ArrayLike, n: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """cases / n in percent with its Wilson score 95% interval (scipy's binomtest; no
    continuity correction); NaN where n is 0."""
    k = np.asarray(cases, dtype=np.int64)
    m = np.asarray(n, dtype=np.int64)
    pct, low, high = (np.full(len(k), np.nan) for _ in range(3))
    for i in np.flatnonzero(m > 0):  # one interval per result row
        interval = stats.binomtest(int(k[i]), int(m[i])).proportion_ci(
            confidence_level=CONFIDENCE_LEVEL, method="wilson"
        )
        pct[i], low[i], high[i] = k[i] / m[i], interval.low, interval.high
    return pct * 100, low * 100, high * 100


def mean_with_t_interval(
    values: FloatArray, cell: IntArray, size: int
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Per cell, the mean of the non-NaN values, its Student's t 95% interval (n - 1 degrees of
    freedom; NaN under 2 values) and the number of values."""
    known = ~np.isnan(values)
    slot, value = cell[known], values[known]
    n = np.bincount(slot, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(slot, weights=value, minlength=size) / n
        squares = np.bincount(slot, weights=(value - mean[slot]) ** 2, minlength=size)
        sd = np.sqrt(squares / (n - 1))
        t = t_quantile(n - 1)
        half = np.where(n > 1, t * sd / np.sqrt(n), np.nan)
    return mean, mean - half, mean + half, n.astype(np.int64)


def provenance(
    result: pd.DataFrame, origin: dict[str, object], sources: list[dict[str, object]]
) -> Provenance:
    """Where a growth result came from: options, sources and the definitions used."""
    notes: list[str] = [
        Said("growth_sequence"),
        Said("growth_pair", days=PAIR_MAX_DAYS),
        Said("growth_onset", days=PAIR_MAX_DAYS),
        Said("growth_dhaz", year_days=DAYS_PER_YEAR, min_days=DHAZ_MIN_DAYS),
        Said("growth_source"),
    ]
    return Provenance(
        command="growth",
        options={**origin, "by": result.attrs.get("by")},
        sources=sources,
        notes=notes,
    )
