"""An audit's figures per year, group and indicator, and for the whole area ("All").

Every figure is a count per group first (np.bincount over the rows' group codes); the whole
area's are the sums of its groups', and the shares are computed once from the counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import IntArray
from kbtool.audit.causes import CAUSES, Causes
from kbtool.audit.compare import Comparison
from kbtool.audit.headline import prevalence_counts
from kbtool.audit.values import MISSING, UNRECOGNISED
from kbtool.growth.constants import Z_DECIMALS
from kbtool.prevalence import TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.prevalence.selection import prepare_visits

# the counts of the result, in its column order
AGREEMENT_COUNTS = (
    "rows",
    "z_compared",
    "z_agree",
    "status_compared",
    "status_agree",
    "missing_z",
    "unreadable_z",
    "missing_status",
    "unrecognised_status",
    "who_missing",
    "disagreements",
)
PREVALENCE_COUNTS = ("register_n", "register_cases", "who_n", "who_cases")
HUNDREDTHS = 10.0**Z_DECIMALS  # z-scores are compared at 2 decimals


@dataclass(frozen=True)
class Groups:
    """The rows' groups: a code per row; the year (None: undated) and name of each code."""

    code: IntArray
    year: list[int | None]
    name: list[str]

    def __len__(self) -> int:
        return len(self.name)


def group_rows(frame: pd.DataFrame, by: str) -> Groups:
    """Each row's (visit year, `by`) group; a missing name is UNKNOWN_LABEL."""
    years = frame["visit_date"].dt.year.to_numpy(np.float64, na_value=np.nan)
    year_code, year_values = pd.factorize(years)
    name_code, name_values = pd.factorize(frame[by])
    names = [str(v) for v in name_values] + [UNKNOWN_LABEL]
    name_code = np.where(name_code < 0, len(name_values), name_code)
    combined = (year_code.astype(np.int64) + 1) * len(names) + name_code
    code, uniques = pd.factorize(combined)
    year_index = uniques // len(names) - 1
    return Groups(
        code=code.astype(np.int64),
        year=[None if i < 0 else int(year_values[i]) for i in year_index.tolist()],
        name=[names[i] for i in (uniques % len(names)).tolist()],
    )


def indicator_counts(
    comparison: Comparison, cause: npt.NDArray[np.int8], groups: Groups
) -> dict[str, npt.NDArray[Any]]:
    """Agreement counts, the sum and largest absolute z difference, and the disagreements of
    each cause, per group."""
    code, size = groups.code, len(groups)

    def count(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        return np.bincount(code[mask], minlength=size).astype(np.float64)

    recorded, parsed = comparison.recorded, comparison.z_parsed
    compared = comparison.z_compared
    # both sides have 2 decimals: their difference in whole hundredths, exactly
    difference = np.rint(np.abs(recorded.z[compared] - comparison.who.z[compared]) * HUNDREDTHS)
    largest = np.full(size, -np.inf)
    np.maximum.at(largest, code[compared], difference)
    counts: dict[str, npt.NDArray[Any]] = {
        "rows": count(np.ones(len(code), dtype=bool)),
        "z_compared": count(compared),
        "z_agree": count(comparison.z_agrees),
        "status_compared": count(comparison.status_compared),
        "status_agree": count(comparison.status_agrees),
        "missing_z": count(np.isnan(recorded.z) & ~parsed.unreadable),
        "unreadable_z": count(parsed.unreadable),
        "missing_status": count(recorded.code == MISSING),
        "unrecognised_status": count(recorded.code == UNRECOGNISED),
        "who_missing": count(comparison.has_recorded & np.isnan(comparison.who.z)),
        "disagreements": count(comparison.disagrees),
        "sum_abs_diff": np.bincount(code[compared], difference, minlength=size),
        "max_abs_diff": np.where(np.isinf(largest), np.nan, largest),
    }
    for index, name in enumerate(CAUSES):
        counts[name] = count(cause == index)
    return counts


def summary_table(
    frame: pd.DataFrame,
    comparisons: Sequence[Comparison],
    causes: Causes,
    groups: Groups,
    *,
    by: str,
    child_key: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per year, group and indicator, then per year and indicator for "All"; counts
    as integers, shares in percent, differences of z rounded as z-scores are. Besides, the
    same rows' disagreements per cause (year, group, indicator and a count per cause)."""
    visits = prepare_visits(frame, period="year", months=None, child_key=child_key)
    parts = []
    for comparison in comparisons:
        counts = indicator_counts(comparison, causes.cause[comparison.indicator], groups)
        counts.update(prevalence_counts(comparison, visits, groups.code, len(groups)))
        part = pd.DataFrame(counts)
        part.insert(0, "year", pd.Series(groups.year, dtype="Int64"))
        part.insert(1, by, groups.name)
        part.insert(2, "indicator", comparison.indicator)
        part["stale_date"] = [causes.stale_days.get(g) for g in range(len(groups))]
        parts.append(part)
    table = pd.concat(parts, ignore_index=True) if parts else _no_counts(by)
    table = pd.concat([table, _totals(table, by)], ignore_index=True)
    result = _figures(table, by)
    order = _sort_order(result, by)
    cause_rows = table[["year", by, "indicator", *CAUSES]].astype({c: np.int64 for c in CAUSES})
    return (
        result.iloc[order].reset_index(drop=True),
        cause_rows.iloc[order].reset_index(drop=True),
    )


def _no_counts(by: str) -> pd.DataFrame:
    """The counts of no group (nothing was read)."""
    names = [*AGREEMENT_COUNTS, "sum_abs_diff", "max_abs_diff", *CAUSES, *PREVALENCE_COUNTS]
    frame = pd.DataFrame({name: pd.Series(dtype=np.float64) for name in names})
    frame.insert(0, "year", pd.Series([], dtype="Int64"))
    frame.insert(1, by, pd.Series(dtype=object))
    frame.insert(2, "indicator", pd.Series(dtype=object))
    frame["stale_date"] = pd.Series(dtype=object)
    return frame


def _totals(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """The whole area's counts per year and indicator: its groups' added up."""
    keys = ["year", "indicator"]
    summed = [c for c in table.columns if c not in (*keys, by, "max_abs_diff", "stale_date")]
    grouped = table.groupby(keys, dropna=False, sort=False)
    totals = grouped[summed].sum()
    totals["max_abs_diff"] = grouped["max_abs_diff"].max()
    totals = totals.reset_index()
    totals.insert(1, by, TOTAL_LABEL)
    totals["stale_date"] = None
    return totals


def share_percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole in percent, as float64; NaN where whole is 0 or missing."""
    return (100 * part / whole.where(whole > 0)).astype("Float64").astype(np.float64)


def _figures(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """The result's columns from the counts, in order."""
    causes = table[list(CAUSES)]
    main = causes.to_numpy().argmax(axis=1)
    has_disagreements = table["disagreements"] > 0
    days = table["stale_date"].astype("Float64")
    register_pct = share_percent(table["register_cases"], table["register_n"])
    who_pct = share_percent(table["who_cases"], table["who_n"])
    return pd.DataFrame(
        {
            "year": table["year"],
            by: table[by],
            "indicator": table["indicator"],
            **{name: table[name].astype(np.int64) for name in AGREEMENT_COUNTS[:3]},
            "z_agree_pct": share_percent(table["z_agree"], table["z_compared"]),
            "mean_abs_diff": table["sum_abs_diff"]
            / HUNDREDTHS
            / table["z_compared"].where(table["z_compared"] > 0),
            "max_abs_diff": table["max_abs_diff"] / HUNDREDTHS,
            **{name: table[name].astype(np.int64) for name in AGREEMENT_COUNTS[3:5]},
            "status_agree_pct": share_percent(table["status_agree"], table["status_compared"]),
            **{name: table[name].astype(np.int64) for name in AGREEMENT_COUNTS[5:]},
            **{
                f"{name}_pct": share_percent(table[name], table["disagreements"]) for name in CAUSES
            },
            "main_cause": pd.Series(np.asarray(CAUSES, dtype=object)[main]).where(
                has_disagreements, None
            ),
            "main_cause_rows": np.where(
                has_disagreements, causes.to_numpy()[np.arange(len(main)), main], 0
            ).astype(np.int64),
            "stale_date": pd.to_datetime(days.to_numpy(np.float64, na_value=np.nan), unit="D"),
            **{name: table[name].astype(np.int64) for name in PREVALENCE_COUNTS[:2]},
            "register_pct": register_pct,
            **{name: table[name].astype(np.int64) for name in PREVALENCE_COUNTS[2:]},
            "who_pct": who_pct,
            "difference_points": register_pct - who_pct,
        }
    )


def _sort_order(result: pd.DataFrame, by: str) -> npt.NDArray[np.intp]:
    """By year (undated last), name (unknown and All last), indicator as audited."""
    year = result["year"].to_numpy(np.float64, na_value=np.inf)
    name = result[by].astype(str)
    rank = np.where(name == TOTAL_LABEL, 2, np.where(name == UNKNOWN_LABEL, 1, 0))
    indicator = pd.factorize(result["indicator"])[0]
    return np.lexsort((indicator, name.str.casefold().to_numpy(), rank, year))
