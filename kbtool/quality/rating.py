"""Ratings of each figure, and the penalty score and rating of each row, in the SMART manner."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.arrays import FloatArray, IntArray
from kbtool.columns import float_column
from kbtool.quality.statistics import binomial_at_least, dps_p_value, share_lower_bound
from kbtool.quality.thresholds import (
    ACCEPTABLE,
    CHECKS,
    DPS_DIGITS,
    EXCELLENT,
    EXPECTED_SEX_RATIO,
    FLOOR_ALPHA,
    HAZ_GAP_TOLERATED,
    HEAPING_EXPECTED_PCT,
    HEAPING_INDEX_TOLERATED,
    MIN_ROWS_RATED,
    PROBLEMATIC,
    RATINGS,
    RATIO_TOLERANCE,
    SCORE_LIMITS,
    SHARE_CONFIDENCE,
    Check,
    dps_shown,
)


def _rate_values(check: Check, values: FloatArray) -> IntArray:
    """Rating codes 0-3 (excellent .. problematic) of values, -1 where a value is missing."""
    known = ~np.isnan(values)
    x = np.where(known, values, 0.0)
    lim = check.limits
    if check.kind in ("share", "upper"):
        if check.column.startswith("dps_"):
            x = dps_shown(x)
        code = np.select([x <= lim[0], x <= lim[1], x <= lim[2]], [0, 1, 2], 3)
    elif check.kind in ("p", "heaping"):
        code = np.select([x > lim[0], x > lim[1], x > lim[2]], [0, 1, 2], 3)
    elif check.kind == "abs":
        a = np.abs(x)
        code = np.select([a < lim[0], a < lim[1], a < lim[2]], [0, 1, 2], 3)
    else:  # "sd": nested open intervals
        code = np.select([(x > low) & (x < high) for low, high in lim], [0, 1, 2], 3)
    return np.where(known, code, -1).astype(np.int64)


def rate_cells(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rating code (-1 not rated, 0 excellent .. 3 problematic) of every rated cell, and for
    `floor` checks the p-value that a problematic rating is not chance (NaN otherwise)."""
    ratings: dict[str, IntArray] = {}
    evidence: dict[str, FloatArray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        # no penalty within these, whatever the p-value (thresholds says why)
        sex_ratio = float_column(table, "sex_ratio") / EXPECTED_SEX_RATIO
        age_ratio = float_column(table, "age_ratio") / float_column(table, "_expected_age_ratio")
        heaping_index = float_column(table, "birth_day_heaping_pct") / HEAPING_EXPECTED_PCT * 100.0
        tolerance = {
            "sex_ratio_p": np.abs(sex_ratio - 1.0) <= RATIO_TOLERANCE,
            "age_ratio_p": np.abs(age_ratio - 1.0) <= RATIO_TOLERANCE,
            "mean_haz_gap_p": np.abs(float_column(table, "mean_haz_gap")) < HAZ_GAP_TOLERATED,
            "birth_day_heaping_pct": heaping_index < HEAPING_INDEX_TOLERATED,  # Whipple-type
        }
        for check in CHECKS:
            values = float_column(table, check.column)
            basis = float_column(table, check.rated_on)
            p = np.full(values.shape, np.nan)
            if check.kind == "share":
                k = np.rint(np.nan_to_num(values) / 100.0 * basis)
                n = np.maximum(basis, 1.0)
                lower = share_lower_bound(np.maximum(k, 1.0), n, SHARE_CONFIDENCE)
                code = _rate_values(check, np.where(np.isnan(values), np.nan, 100.0 * lower))
                code = np.where(k > 0, code, np.where(np.isnan(values), -1, EXCELLENT))
                p = binomial_at_least(k, n, check.limits[2] / 100.0)
            elif check.kind == "heaping":  # rated on the p-value of the excess
                p = float_column(table, "_heaping_p")
                code = _rate_values(check, p)
            else:
                code = _rate_values(check, values)
                if check.kind == "p":
                    p = values
                elif check.column.startswith("dps_"):  # the DPS's chi-square test
                    p = dps_p_value(values, basis, DPS_DIGITS)
            tolerated = tolerance.get(check.column, False)
            code = np.where((code > EXCELLENT) & tolerated, EXCELLENT, code)
            ratings[check.column] = np.where(basis >= check.min_count, code, -1)
            evidence[check.column] = p
    return pd.DataFrame(ratings, index=table.index), pd.DataFrame(evidence, index=table.index)


def score_rows(table: pd.DataFrame, ratings: pd.DataFrame, evidence: pd.DataFrame) -> None:
    """Add `score` (each criterion's worst points) and `rating`: SMART's band, no better than
    acceptable where a `floor` check is problematic beyond chance (p <= FLOOR_ALPHA / the
    period's rated groups). Groups under MIN_ROWS_RATED measurements get neither."""
    rated = table["n_rows"].to_numpy() >= MIN_ROWS_RATED
    is_group = table["_order"].to_numpy() < 2
    groups = pd.Series(rated & is_group).groupby(table["_period"].to_numpy()).transform("sum")
    compared = np.where(is_group, np.maximum(groups.to_numpy(), 1), 1)
    criteria: dict[str, IntArray] = {}
    floor = np.zeros(len(table), dtype=np.bool_)
    for check in CHECKS:
        code = ratings[check.column].to_numpy()
        points = np.where(code >= 0, np.asarray(check.points)[np.maximum(code, 0)], 0)
        criteria[check.criterion] = np.maximum(criteria.get(check.criterion, 0), points)
        if check.floor:
            p = evidence[check.column].to_numpy()
            floor |= (code == PROBLEMATIC) & (p <= FLOOR_ALPHA / compared)
    score = np.sum(np.vstack(list(criteria.values())), axis=0).astype(np.int64)
    band = np.searchsorted(SCORE_LIMITS, score)  # SMART's band: limits inclusive
    band = np.where(floor, np.maximum(band, ACCEPTABLE), band)
    table["score"] = pd.arrays.IntegerArray(score, mask=~rated)
    rating = np.asarray(RATINGS, dtype=object)[band]
    table["rating"] = pd.Series(np.where(rated, rating, None), index=table.index, dtype="str")
