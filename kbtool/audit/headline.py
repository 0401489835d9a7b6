"""The headline a district needs: the prevalence the register's own statuses give, beside WHO's.

Each child counts once per year, by their latest measurement valid for that side, as in `kbtool
prevalence` (kbtool.prevalence.selection). On the register's side a measurement is valid when
its recorded status is a Permenkes 2/2020 category and its recorded z-score, where it has one,
lies within WHO's plausibility limits; on WHO's side when WHO's z-score is computable and not
flagged. A case is a value below -2 (the two lowest categories: stunted for HAZ, underweight
for WAZ, wasted for WHZ, thin for BMIZ).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, IntArray
from kbtool.audit.compare import FLAG_LIMITS, Comparison
from kbtool.growth.categories import SCHEMES
from kbtool.prevalence.selection import Visits, prepare_visits

# the categories below -2 are codes 0 and 1 in every Permenkes scheme (kbtool.growth.categories)
HIGHEST_CASE_CODE = 1


def year_visits(frame: pd.DataFrame, child_key: str) -> Visits:
    """The frame's dated visits by year, prepared once for every selection."""
    return prepare_visits(frame, period="year", months=None, child_key=child_key)


def register_valid(comparison: Comparison) -> BoolArray:
    """Rows whose recorded status counts: a category, and a plausible recorded z (if any)."""
    low, high = FLAG_LIMITS[comparison.indicator]
    z = comparison.recorded.z
    with np.errstate(invalid="ignore"):
        plausible = np.isnan(z) | ((z >= low) & (z <= high))
    code = comparison.recorded.code
    categories = len(SCHEMES[comparison.indicator].labels_en)
    return (code >= 0) & (code < categories) & plausible


def is_case(code: npt.NDArray[np.int8]) -> BoolArray:
    """Categories below -2."""
    return (code >= 0) & (code <= HIGHEST_CASE_CODE)


def counted(
    visits: Visits, valid: BoolArray, case: BoolArray, groups: IntArray, n_groups: int
) -> tuple[IntArray, IntArray]:
    """Children counted (n) and cases per group: each child once per year, by the latest
    valid measurement; a case where `case` holds for it."""
    picked = visits.pick(valid)
    rows = picked.rows[picked.counted]
    n = np.bincount(groups[rows], minlength=n_groups)
    cases = np.bincount(groups[rows[case[rows]]], minlength=n_groups)
    return n, cases


def prevalence_counts(
    comparison: Comparison, visits: Visits, groups: IntArray, n_groups: int
) -> dict[str, IntArray]:
    """register_n, register_cases, who_n, who_cases per group."""
    register_n, register_cases = counted(
        visits,
        register_valid(comparison),
        is_case(comparison.recorded.code),
        groups,
        n_groups,
    )
    who = comparison.who
    who_n, who_cases = counted(
        visits, ~np.isnan(who.z) & ~who.flag, is_case(who.code), groups, n_groups
    )
    return {
        "register_n": register_n,
        "register_cases": register_cases,
        "who_n": who_n,
        "who_cases": who_cases,
    }
