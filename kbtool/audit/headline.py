"""The headline a district needs: the prevalence the register's own statuses give, beside WHO's,
each child once per year as in `kbtool prevalence`; a case is a category below -2 (stunted for
HAZ, underweight for WAZ, wasted for WHZ, thin for BMIZ)."""

from __future__ import annotations

import numpy as np

from kbtool.arrays import IntArray
from kbtool.audit.compare import Comparison
from kbtool.growth.categories import SCHEMES
from kbtool.growth.constants import FLAG_LIMITS
from kbtool.prevalence.selection import Visits

# the categories below -2 are codes 0 and 1 in every Permenkes scheme (kbtool.growth.categories)
HIGHEST_CASE_CODE = 1


def prevalence_counts(
    comparison: Comparison, visits: Visits, groups: IntArray, n_groups: int
) -> dict[str, IntArray]:
    """register_n, register_cases, who_n, who_cases per group: each child once per year, by the
    latest measurement valid on that side."""
    recorded, who = comparison.recorded, comparison.who
    low, high = FLAG_LIMITS[comparison.indicator]
    with np.errstate(invalid="ignore"):
        plausible = np.isnan(recorded.z) | ((recorded.z >= low) & (recorded.z <= high))
    categories = len(SCHEMES[comparison.indicator].labels_en)
    # a recorded status counts when it is a category and its recorded z (if any) is plausible
    register_valid = (recorded.code >= 0) & (recorded.code < categories) & plausible
    sides = {
        "register": (register_valid, recorded.code),
        "who": (~np.isnan(who.z) & ~who.flag, who.code),
    }
    counts = {}
    for side, (valid, code) in sides.items():
        picked = visits.pick(valid)
        rows = picked.rows[picked.counted]
        case = (code[rows] >= 0) & (code[rows] <= HIGHEST_CASE_CODE)
        counts[f"{side}_n"] = np.bincount(groups[rows], minlength=n_groups)
        counts[f"{side}_cases"] = np.bincount(groups[rows[case]], minlength=n_groups)
    return counts
