"""Why a recorded value disagrees with WHO's: the known mistakes (CAUSES), tried in order.

Each mistake is WHO's method run again (kbtool.growth's kernel) on the disagreeing rows with one
input changed, or WHO's own z-score treated as the mistake treats it; the first whose values
reproduce the register's exactly (kbtool.audit.compare.reproduces) names the row's cause. After
the row-by-row mistakes, a stale age (a group's ages computed at one other date than their
visits, such as the export date) is searched per group; "unexplained" is none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import FloatArray, IndexArray, IntArray
from kbtool.audit.compare import Comparison, Recorded, Scores, reproduces, scores_of
from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH, NAT_DAYS, day_numbers
from kbtool.growth import ZScoreArrays, compute_zscore_arrays
from kbtool.growth.categories import SCHEMES
from kbtool.growth.constants import (
    DAYS_PER_MONTH,
    LENGTH_BEFORE_DAYS,
    MAX_AGE_DAYS,
    POSITION_CORRECTION_CM,
    Z_DECIMALS,
)

CAUSES = (
    "age_in_completed_months",
    "no_position_correction",
    "sex_swapped",
    "truncated",
    "boundary",
    "stale_age",
    "unexplained",
)
NO_CAUSE = -1  # the row agrees, or was not compared
STALE_AGE = CAUSES.index("stale_age")
UNEXPLAINED = CAUSES.index("unexplained")
# the indicators whose z-score falls as age rises (length and weight medians grow with age):
# the age that reproduces a recorded one can be found by bisection
AGE_SEARCHED = ("haz", "waz")
# disagreements per group whose ages are searched for a stale date; the date found is then
# checked on all of the group's disagreements
STALE_SAMPLE = 200


@dataclass(frozen=True)
class KernelInputs:
    """WHO's inputs for some rows, as kbtool.growth.compute_zscore_arrays takes them, and what
    the mistakes need besides: birth days and WHO's age and length/height."""

    sex: npt.NDArray[np.int8]
    age_days: FloatArray  # exact: visit date - birth date; NaN where unknown
    age_months: FloatArray
    weight_kg: FloatArray
    height_cm: FloatArray  # as measured
    measure: npt.NDArray[np.int8]
    oedema: npt.NDArray[np.bool_]
    birth_day: IntArray  # day numbers, NAT_DAYS where unknown
    who_age_days: FloatArray  # WHO's whole days (NaN: unknown)
    who_lenhei_cm: FloatArray  # after WHO's position correction

    def take(self, rows: IndexArray) -> KernelInputs:
        return KernelInputs(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def score(self, **changes: Any) -> ZScoreArrays:
        """WHO's z-scores (rounded) of these rows with some inputs changed."""
        names = ("sex", "age_days", "age_months", "weight_kg", "measure", "oedema")
        given = {name: getattr(self, name) for name in names}
        return compute_zscore_arrays(**{**given, "lenhei_cm": self.height_cm, **changes})


def kernel_inputs(frame: pd.DataFrame) -> KernelInputs:
    """The kernel's inputs of every row of a measurement frame (kbtool.measurements)."""
    birth = day_numbers(frame["birth_date"])
    visit = day_numbers(frame["visit_date"])
    known = (birth != NAT_DAYS) & (visit != NAT_DAYS)
    return KernelInputs(
        sex=frame["sex"].fillna(0).to_numpy(np.int8),
        age_days=np.where(known, (visit - birth).astype(np.float64), np.nan),
        age_months=frame["age_months"].to_numpy(np.float64, na_value=np.nan),
        weight_kg=frame["weight_kg"].to_numpy(np.float64, na_value=np.nan),
        height_cm=frame["height_cm"].to_numpy(np.float64, na_value=np.nan),
        measure=frame["measure"].fillna(0).to_numpy(np.int8),
        oedema=frame["oedema"].fillna(False).to_numpy(np.bool_),
        birth_day=birth,
        who_age_days=frame["age_days"].to_numpy(np.float64, na_value=np.nan),
        who_lenhei_cm=frame["lenhei_cm"].to_numpy(np.float64, na_value=np.nan),
    )


@dataclass(frozen=True)
class Rows:
    """What a mistake is computed from, for the rows still to explain."""

    inputs: KernelInputs
    who: dict[str, Scores]
    who_unrounded: dict[str, FloatArray]

    def score(self, **changes: Any) -> dict[str, Scores]:
        """Each indicator's scores of these rows with some inputs changed."""
        result = self.inputs.score(**changes)
        return {i: scores_of(getattr(result, i), i) for i in self.who}


def age_in_completed_months(rows: Rows) -> dict[str, Scores]:
    """Ages as whole months: WHO then reads the tables at months x 30.4375 days."""
    given = rows.inputs
    exact_months = np.where(
        np.isnan(given.age_days), given.age_months, given.age_days / DAYS_PER_MONTH
    )
    return rows.score(age_days=None, age_months=np.floor(exact_months))


def no_position_correction(rows: Rows) -> dict[str, Scores]:
    """The measured length/height without WHO's 0.7 cm correction where WHO makes one, with
    it (as if measured in the other position) where WHO makes none."""
    given = rows.inputs
    as_length = given.who_age_days < LENGTH_BEFORE_DAYS
    corrected = given.who_lenhei_cm != given.height_cm
    other_way = given.height_cm + np.where(
        as_length, POSITION_CORRECTION_CM, -POSITION_CORRECTION_CM
    )
    lenhei = np.where(corrected, given.height_cm, other_way)
    lenhei[np.isnan(given.who_age_days)] = np.nan  # no age, no correction either way
    # the position the age expects: the kernel then adds or takes nothing itself
    measure = np.where(as_length, MEASURE_LENGTH, MEASURE_HEIGHT).astype(np.int8)
    return rows.score(lenhei_cm=lenhei, measure=measure)


def sex_swapped(rows: Rows) -> dict[str, Scores]:
    """The other sex's tables."""
    sex = rows.inputs.sex
    other = np.where(sex == 1, 2, np.where(sex == 2, 1, 0)).astype(np.int8)
    return rows.score(sex=other)


def truncated(rows: Rows) -> dict[str, Scores]:
    """WHO's z-score cut to 2 decimals instead of rounded."""
    scale = 10.0**Z_DECIMALS
    return {i: scores_of(np.trunc(z * scale) / scale, i) for i, z in rows.who_unrounded.items()}


def boundary(rows: Rows) -> dict[str, Scores]:
    """WHO's z-score, but a value exactly on a cut-off in the category on its other side (no
    category elsewhere)."""
    found = {}
    for indicator, who in rows.who.items():
        code = np.full(len(who.z), -1, dtype=np.int8)
        for bound, inclusive in SCHEMES[indicator].bounds:
            # an inclusive bound belongs to the category below it, an exclusive one above
            on = who.z == bound
            code[on] = who.code[on] + (1 if inclusive else -1)
        found[indicator] = Scores(who.z, who.flag, code)
    return found


# the mistakes found row by row, in the order they are tried (stale_age comes after them)
ROW_MISTAKES: tuple[Callable[[Rows], dict[str, Scores]], ...] = (
    age_in_completed_months,
    no_position_correction,
    sex_swapped,
    truncated,
    boundary,
)


@dataclass(frozen=True)
class Causes:
    """Each row's cause per indicator (an index of CAUSES; NO_CAUSE where it agrees or was not
    compared) and the stale date found per group (group code -> day number)."""

    cause: dict[str, npt.NDArray[np.int8]]
    stale_days: dict[int, int]


def find_causes(
    comparisons: Sequence[Comparison], inputs: KernelInputs, groups: IntArray
) -> Causes:
    """The likely cause of every disagreement; `groups` (a code per row) are the groups a
    stale date is looked for in."""
    n = len(groups)
    cause = {c.indicator: np.full(n, NO_CAUSE, dtype=np.int8) for c in comparisons}
    open_rows = {c.indicator: np.flatnonzero(c.disagrees) for c in comparisons}
    recorded = {c.indicator: c.recorded for c in comparisons}
    for index, mistake in enumerate(ROW_MISTAKES):
        rows = _union(open_rows)
        if not rows.size:
            break
        context = Rows(
            inputs.take(rows),
            {c.indicator: c.who.take(rows) for c in comparisons},
            {c.indicator: c.who_unrounded[rows] for c in comparisons},
        )
        found = mistake(context)
        for indicator, still in open_rows.items():
            at = np.searchsorted(rows, still)
            explained = reproduces(recorded[indicator].take(still), found[indicator].take(at))
            cause[indicator][still[explained]] = index
            open_rows[indicator] = still[~explained]
    stale_days = _stale_age(open_rows, recorded, inputs, groups, cause)
    for indicator, still in open_rows.items():
        left = still[cause[indicator][still] == NO_CAUSE]
        cause[indicator][left] = UNEXPLAINED
    return Causes(cause, stale_days)


def _union(open_rows: dict[str, IndexArray]) -> IndexArray:
    """The rows open in any indicator, ascending."""
    return np.unique(np.concatenate([np.zeros(0, np.intp), *open_rows.values()]))


def _stale_age(
    open_rows: dict[str, IndexArray],
    recorded: dict[str, Recorded],
    inputs: KernelInputs,
    groups: IntArray,
    cause: dict[str, npt.NDArray[np.int8]],
) -> dict[int, int]:
    """Mark the rows a group's one stale date explains (cause STALE_AGE); the dates found."""
    candidates = _candidate_days(open_rows, recorded, inputs, groups)
    if not candidates:
        return {}
    rows = _union(open_rows)
    rows = rows[np.isin(groups[rows], list(candidates)) & (inputs.birth_day[rows] != NAT_DAYS)]
    if not rows.size:
        return {}
    day_of_group = np.full(int(groups.max()) + 1, NAT_DAYS, dtype=np.int64)
    day_of_group[list(candidates)] = list(candidates.values())
    given = inputs.take(rows)
    stale_ages = (day_of_group[groups[rows]] - given.birth_day).astype(np.float64)
    result = given.score(age_days=stale_ages, age_months=None)
    explained = np.zeros(len(day_of_group), dtype=np.int64)
    still_open = np.zeros(len(day_of_group), dtype=np.int64)
    marks: list[tuple[str, IndexArray]] = []
    for indicator, still in open_rows.items():
        still_open += np.bincount(groups[still], minlength=len(still_open))
        pairs = still[np.isin(still, rows)]
        scores = scores_of(getattr(result, indicator)[np.searchsorted(rows, pairs)], indicator)
        hit = pairs[reproduces(recorded[indicator].take(pairs), scores)]
        explained += np.bincount(groups[hit], minlength=len(explained))
        marks.append((indicator, hit))
    # one date explains them: at least two disagreements, and half of those still open
    accepted = {
        g: day
        for g, day in candidates.items()
        if explained[g] >= 2 and 2 * explained[g] >= still_open[g]
    }
    for indicator, hit in marks:
        chosen = hit[np.isin(groups[hit], list(accepted))]
        cause[indicator][chosen] = STALE_AGE
    return accepted


def _candidate_days(
    open_rows: dict[str, IndexArray],
    recorded: dict[str, Recorded],
    inputs: KernelInputs,
    groups: IntArray,
) -> dict[int, int]:
    """Per group, the date that the most of its open HAZ and WAZ disagreements (a sample of
    STALE_SAMPLE a group) could have been computed at."""
    pair_rows, pair_kind, pair_target = [], [], []
    for code, indicator in enumerate(AGE_SEARCHED):
        if indicator not in open_rows:
            continue
        still = open_rows[indicator]
        z = recorded[indicator].z[still]
        usable = ~np.isnan(z) & (inputs.birth_day[still] != NAT_DAYS)
        pair_rows.append(still[usable])
        pair_kind.append(np.full(int(usable.sum()), code, dtype=np.int8))
        pair_target.append(z[usable])
    if not pair_rows:
        return {}
    rows = np.concatenate(pair_rows)
    sample = _first_per_group(groups[rows], STALE_SAMPLE)
    rows = rows[sample]
    kind = np.concatenate(pair_kind)[sample]
    target = np.concatenate(pair_target)[sample]
    given = inputs.take(rows)
    low = _first_age(given, kind, lambda z: z <= target)  # z falls as age rises
    high = _first_age(given, kind, lambda z: z < target) - 1
    valid = low <= high
    birth = given.birth_day[valid]
    return _most_covered_day(groups[rows][valid], birth + low[valid], birth + high[valid])


def _first_age(
    given: KernelInputs, kind: npt.NDArray[np.int8], reached: Callable[[FloatArray], Any]
) -> IntArray:
    """Per row, the first whole age in days (0 .. MAX_AGE_DAYS) whose z-score (HAZ for kind 0,
    WAZ for 1) has `reached` the target, by bisection; MAX_AGE_DAYS + 1 where none has."""
    low = np.zeros(len(kind), dtype=np.int64)
    high = np.full(len(kind), MAX_AGE_DAYS + 1, dtype=np.int64)
    while (low < high).any():
        middle = (low + high) // 2
        result = given.score(age_days=middle.astype(np.float64), age_months=None)
        z = np.where(kind == 0, result.haz, result.waz)
        with np.errstate(invalid="ignore"):
            done = reached(z) & (low < high)
        high = np.where(done, middle, high)
        low = np.where(~done & (low < high), middle + 1, low)
    return low


def _first_per_group(groups: IntArray, limit: int) -> IndexArray:
    """Positions of at most `limit` entries of each group (the first ones)."""
    return np.flatnonzero(pd.Series(groups).groupby(groups).cumcount().to_numpy() < limit)


def _most_covered_day(groups: IntArray, first: IntArray, last: IntArray) -> dict[int, int]:
    """Per group, the earliest day inside the most of its intervals [first, last]: a sweep over
    the intervals' ends, sorted."""
    if not len(first):
        return {}
    day = np.concatenate([first, last + 1])
    step = np.concatenate([np.ones(len(first), np.int64), -np.ones(len(last), np.int64)])
    group = np.concatenate([groups, groups])
    order = np.lexsort((day, group))
    day, step, group = day[order], step[order], group[order]
    # each group's steps add up to 0, so one running sum serves every group
    covered = np.cumsum(step)
    last_of_day = np.r_[(day[1:] != day[:-1]) | (group[1:] != group[:-1]), True]
    day, covered, group = day[last_of_day], covered[last_of_day], group[last_of_day]
    best = np.lexsort((day, -covered, group))
    first_of_group = np.r_[True, group[best][1:] != group[best][:-1]]
    chosen = best[first_of_group]
    return dict(zip(group[chosen].tolist(), day[chosen].tolist(), strict=True))
