"""Callaway & Sant'Anna's group-time effects on child-years, against units not yet treated.

For a start cohort g (the units starting in year g), a year t and the base year b (the last
year of data before g, the "universal" base period of R's `did`), ATT(g, t) is the
difference in differences of means of child-years:
(cohort g in t - cohort g in b) - (comparison in t - comparison in b), where the comparison is
every unit never treated or starting after max(t, b) (R did, control_group = "notyettreated",
panel = FALSE, no covariates: the doubly robust estimator then reduces to these four means).
ATT(g, b) is 0 by construction: the event study's reference year -1.

Aggregates weight the group-time effects by cohort size (the cohort's share of child-years,
R's aggte: "simple" over t >= g, "dynamic" by e = t - g). Uncertainty comes from the influence
function summed per unit (the cluster), including the part due to the estimated cohort shares
(aggte's wif): variance = G/(G-1) * sum of squared unit sums, Student's t on G-1 degrees of
freedom. Means are all the estimator needs, so everything works on the unit-year sums.

A mean of one unit's children adds nothing to that sum (the unit's deviations from its own mean
add up to 0): an effect resting on such a mean (a cohort of one unit, or a single unit left to
compare with, in a year) would get an interval without the spread between units it is made of,
narrow however unsure the effect. Its aggregates get no interval: inference with one treated
cluster is not valid with cluster-robust methods (Conley and Taber 2011; MacKinnon and Webb 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kbtool.arrays import FloatArray
from kbtool.compare.observations import Panel
from kbtool.prevalence.design import t_p_value, t_quantile

# the fewest units with children a mean needs for the spread between units to be estimable
MIN_UNITS = 2


@dataclass(frozen=True)
class GroupTime:
    """Group-time effects: cohort (start year), year, the estimate of each assignment (rows:
    effects, columns: assignments) and, of the first assignment, each unit's share of the
    influence function (rows: effects, columns: units) and the fewest units with children
    behind any of the effect's four means (the cohort and its comparison, in t and in b)."""

    cohort: FloatArray
    year: FloatArray
    estimate: FloatArray
    influence: FloatArray
    units: FloatArray


@dataclass(frozen=True)
class Aggregate:
    """An aggregated effect with its standard error, 95% interval and p-value (of 0)."""

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float


def group_time_effects(panel: Panel, since: FloatArray) -> GroupTime:
    """ATT(g, t) of every start cohort g and year t but the base year (see the module
    docstring), for each row of `since` (assignments x units: start years, inf for never);
    NaN where a mean has no child. The influence function is that of the first row."""
    since = np.atleast_2d(since)
    years = np.asarray(panel.years, dtype=np.float64)
    cohorts = np.unique(since[0][np.isfinite(since[0])])
    rows: list[tuple[float, float, FloatArray, FloatArray, float]] = []
    for g in cohorts:
        base = int(np.flatnonzero(years < g)[-1])
        cohort = since == g
        for t in range(len(years)):
            if t != base:
                comparison = (since > max(years[t], years[base])) & ~cohort
                rows.append((g, years[t], *_double_difference(panel, cohort, comparison, t, base)))
    if not rows:
        return GroupTime(
            *(np.zeros(0),) * 2,
            np.zeros((0, len(since))),
            np.zeros((0, since.shape[1])),
            np.zeros(0),
        )
    cohort_of, year_of, estimate_of, influence_of, units_of = zip(*rows, strict=True)
    return GroupTime(
        np.array(cohort_of),
        np.array(year_of),
        np.vstack(estimate_of),
        np.vstack(influence_of),
        np.array(units_of, dtype=np.float64),
    )


def _double_difference(
    panel: Panel, cohort: npt.NDArray[np.bool_], comparison: npt.NDArray[np.bool_], t: int, b: int
) -> tuple[FloatArray, FloatArray, float]:
    """(cohort in t - cohort in b) - (comparison in t - comparison in b) per assignment (rows of
    the unit masks), and the first one's influence function summed per unit: a mean m of a set
    S moves by sum over S of (y - m) / n_S; and the first one's fewest units behind a mean."""
    estimate = np.zeros(len(cohort))
    influence = np.zeros(cohort.shape[1])
    units = np.inf
    for members, year, sign in (
        (cohort, t, 1.0),
        (cohort, b, -1.0),
        (comparison, t, -1.0),
        (comparison, b, 1.0),
    ):
        children = members @ panel.n[:, year]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (members @ panel.total[:, year]) / children
        estimate += sign * mean
        first = members[0] * 1.0
        influence += (
            sign * first * (panel.total[:, year] - panel.n[:, year] * mean[0]) / children[0]
        )
        units = min(units, float(np.count_nonzero(members[0] & (panel.n[:, year] > 0))))
    return estimate, influence, units


def cohort_shares(panel: Panel, since: FloatArray, cohorts: FloatArray) -> FloatArray:
    """Each of `cohorts`' share of all child-years (R aggte's pg), per row of `since`
    (assignments x units): assignments x cohorts."""
    per_unit = panel.n.sum(axis=1)
    members = np.atleast_2d(since)[:, :, None] == cohorts[None, None, :]
    return np.einsum("buk,u->bk", members, per_unit) / per_unit.sum()


def aggregate_estimates(
    effects: GroupTime, keep: npt.NDArray[np.bool_], panel: Panel, since: FloatArray
) -> FloatArray:
    """The cohort-size weighted mean of the kept group-time effects, per assignment (rows of
    `since`); NaN where none of them is estimable."""
    share = cohort_shares(panel, since, effects.cohort[keep])
    att = effects.estimate[keep].T  # assignments x kept effects
    known = np.isfinite(att)
    weight = np.where(known, share, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(weight * np.where(known, att, 0.0), axis=1) / weight.sum(axis=1)


def aggregate(
    effects: GroupTime, keep: npt.NDArray[np.bool_], panel: Panel, since: FloatArray
) -> Aggregate:
    """The cohort-size weighted mean of the kept group-time effects of the first assignment,
    with its uncertainty: the influence of the effects and of the estimated weights (R's aggte
    and its wif), summed per unit; none (NaN) when a kept effect rests on a mean of one unit
    (see the module docstring)."""
    keep = keep & np.isfinite(effects.estimate[:, 0])
    if not keep.any():
        return Aggregate(np.nan, np.nan, np.nan, np.nan, np.nan)
    since = np.atleast_2d(since)[0]
    att = effects.estimate[keep, 0]
    share = cohort_shares(panel, since, effects.cohort[keep])[0]
    weight = share / share.sum()
    estimate = float(weight @ att)
    if np.min(effects.units[keep]) < MIN_UNITS:
        return Aggregate(estimate, np.nan, np.nan, np.nan, np.nan)
    # the weights' influence per unit: a unit's child-years move its cohort's share
    per_unit = panel.n.sum(axis=1)
    in_cohort = (since[:, None] == effects.cohort[keep][None, :]).astype(np.float64)
    moved = per_unit[:, None] * (in_cohort - share[None, :]) / per_unit.sum()
    weights_influence = (
        moved / share.sum() - np.outer(moved.sum(axis=1), share) / share.sum() ** 2
    ) @ att
    influence = weight @ effects.influence[keep] + weights_influence
    units = len(since)
    std_error = float(np.sqrt(units / (units - 1) * np.sum(influence**2)))
    t = float(t_quantile(units - 1))
    p_value = float(t_p_value(estimate / std_error, units - 1)) if std_error else np.nan
    return Aggregate(
        estimate, std_error, estimate - t * std_error, estimate + t * std_error, p_value
    )
