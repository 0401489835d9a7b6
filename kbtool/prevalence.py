"""Stunting prevalence per period and group, computed the way WHO's R `anthro` computes it.

Two steps, both over whole columns (no Python loop over measurements):

1. `select_period_measurements` decides who is counted: for each child and period, the child's
   latest measurement in that period whose z-score is computable and not flagged. Children
   measured in the period without any valid z-score are returned apart, as excluded, in the group
   of their latest measurement.
2. `compute_prevalence` turns that selection into figures per period and group: `n`, stunted
   (HAZ < -2) and severely stunted (HAZ < -3) with their percentages and 95% confidence
   intervals, mean and SD of HAZ, and the excluded count.

The figures follow R `anthro` 1.1 (`anthro_prevalence` without clusters, strata or weights,
R/prevalence-simple.R, which reproduces the `survey` package): each period is one simple random
sample of N children and each group a domain of it. Classification, mean and SD use z-scores
rounded to 2 decimals as R rounds them (WHO Anthro classifies on the rounded values; the mean and
SD in WHO's reference results were checked to be those of the rounded values too). The interval
is the logit interval with Student's t on N - 1 degrees of freedom and the factor N / (N - 1);
0% and 100% give [0, 0] and [100, 100].

Output conventions (part of the machine interface):
- group columns hold text labels; a missing group value is labelled "(unknown)" so that the
  groups of a period always add up to its total;
- the whole-area row per period (`total=True`) has "All" in every group column, as R `anthro`
  labels its total, and comes after the groups of its period;
- `year` is an integer column; quarter and month periods are labelled "2023-Q1" and "2023-02".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

# scipy.special, not scipy.stats: the same Student quantile (stats.t.ppf calls special.stdtrit)
# without scipy.stats' ~1 s import on every run
from scipy import special

from kbtool.columns import NAT_DAYS, calendar_parts, day_numbers
from kbtool.errors import InputError, UsageError
from kbtool.growth.constants import DAYS_PER_MONTH, Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import round_half_up_days
from kbtool.writing import Provenance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# WHO (2006) / WHO-UNICEF (2019) "Recommendations for data collection, analysis and reporting on
# anthropometric indicators": stunting is HAZ < -2, severe stunting HAZ < -3 (Permenkes No. 2
# Tahun 2020: pendek and sangat pendek).
STUNTED_BELOW = -2.0
SEVERELY_STUNTED_BELOW = -3.0

# R `anthro` prevalence_significance_level = 0.05: 95% intervals.
CONFIDENCE_LEVEL = 0.95

# The Guide to DHS Statistics: estimates based on fewer than 25 unweighted cases are suppressed,
# those based on 25-49 cases are shown but marked as imprecise.
DEFAULT_MIN_N = 25
LOW_PRECISION_BELOW_N = 50

# R `anthro` anthro_age_groups: cut(age in months, c(0, 6, 12, 24, 36, 48, 60), right = FALSE).
AGE_GROUP_BREAKS_MONTHS = (0.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0)
AGE_GROUP_LABELS = ("00-05 mo", "06-11 mo", "12-23 mo", "24-35 mo", "36-47 mo", "48-59 mo")
AGE_GROUP_COLUMN = "age_group"

PERIODS = ("year", "quarter", "month")
# what --by groups by; "year" alone is the whole area
BY_CHOICES = ("kelurahan", "kecamatan", "posyandu", "puskesmas", "sex", "age_group", "year")
TOTAL_LABEL = "All"  # R `anthro` names its whole-sample row "All"
UNKNOWN_LABEL = "(unknown)"
# sex codes as the z-score kernel takes them (1 = male, 2 = female, as R `anthro`)
SEX_LABELS = {1: "male", 2: "female"}

FIGURE_COLUMNS = (
    "n",
    "stunted",
    "stunting_pct",
    "stunting_ci_low",
    "stunting_ci_high",
    "severe",
    "severe_pct",
    "severe_ci_low",
    "severe_ci_high",
    "mean_haz",
    "sd_haz",
    "excluded",
)
NOTE_COLUMN = "note"

SELECTION_RULE = (
    "each child counted once per period: the child's latest measurement in the period whose "
    "HAZ is computable and not flagged (|HAZ| > 6); children measured in the period without a "
    "valid HAZ are counted in 'excluded', in the group of their latest measurement"
)
METHOD = (
    "WHO anthro_prevalence (R anthro 1.1), simple random sample per period: classification, "
    "mean and SD on HAZ rounded to 2 decimals; 95% logit confidence interval with Student's t "
    "on N-1 degrees of freedom and factor N/(N-1), N = children counted in the period"
)

# rows rounded at a time: r_round holds about ten temporaries of its input's size
_ROUND_CHUNK = 1 << 20


@dataclass(frozen=True)
class SelectionResult:
    """Who is counted in each period.

    `selected` has one row per child and period, the measurement used; `excluded` one row per
    child and period for children measured without any valid z-score, their latest measurement.
    Both carry the requested frame columns after a first `period` column: the year as an
    integer, or a label such as "2023-Q1" / "2023-02".
    """

    selected: pd.DataFrame
    excluded: pd.DataFrame
    period: str
    months: tuple[int, ...] | None


@dataclass(frozen=True)
class _Picked:
    """Frame positions of the chosen measurements, before any column is copied."""

    rows: IntArray  # one frame position per child and period
    counted: BoolArray  # True: a valid z-score (selected); False: excluded
    period_code: IntArray  # 0 .. len(period_labels) - 1, chronological
    period_labels: list[Any]  # int years, or "2023-Q1" / "2023-02" labels


def is_low_precision(n: npt.ArrayLike) -> BoolArray:
    """True where a group's figures rest on fewer than 50 children (marked in the table view).

    Groups under `min_n` are suppressed anyway; with `min_n=0` every shown group under 50
    children is marked.
    """
    counts = np.asarray(n, dtype=np.float64)
    return (counts > 0) & (counts < LOW_PRECISION_BELOW_N)


def prevalence_ci(
    cases: npt.ArrayLike,
    n: npt.ArrayLike,
    sample_size: npt.ArrayLike,
    *,
    level: float = CONFIDENCE_LEVEL,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Prevalence and its confidence interval in percent, as R `anthro` computes them.

    `cases` of `n` children in a group, the group being a domain of a period's simple random
    sample of `sample_size` (N) children. The interval is the logit interval
    plogis(logit(r) -/+ t * sqrt(N/(N-1) / (n r (1-r)))), t the Student quantile on N - 1
    degrees of freedom (R/prevalence-simple.R, logit_rate_estimate); r = 0 gives [0, 0] and
    r = 1 gives [100, 100]; n = 0 gives NaN throughout.
    """
    k = np.asarray(cases, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    big_n = np.asarray(sample_size, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = k / m
        inner = (r > 0) & (r < 1)
        safe_r = np.where(inner, r, 0.5)
        logit_r = np.log(safe_r / (1 - safe_r))
        logit_var = 1 / (m * safe_r * (1 - safe_r))
        se_logit = np.sqrt(big_n / (big_n - 1) * logit_var)
        t_value = special.stdtrit(big_n - 1, 1 - (1 - level) / 2)
        low = special.expit(logit_r - se_logit * t_value)
        high = special.expit(logit_r + se_logit * t_value)
    low = np.where(inner, low, r)
    high = np.where(inner, high, r)
    return r * 100, low * 100, high * 100


def age_groups(age_days: npt.ArrayLike) -> pd.Categorical[str]:
    """WHO's age groups ("00-05 mo" ... "48-59 mo") for ages in days, as R `anthro` cuts them.

    Age in whole days (rounded half up) / 30.4375 gives months, cut on [0, 6), [6, 12),
    [12, 24), [24, 36), [36, 48), [48, 60); other or missing ages give NaN.
    """
    codes = _age_group_codes(np.asarray(age_days, dtype=np.float64))
    return pd.Categorical.from_codes(codes, categories=pd.Index(AGE_GROUP_LABELS), ordered=True)


def select_period_measurements(
    frame: pd.DataFrame,
    *,
    period: str = "year",
    months: Iterable[int] | None = None,
    child_key: str = "child_id",
    z_column: str = "haz",
    flag_column: str = "haz_flag",
    columns: Sequence[str] | None = None,
) -> SelectionResult:
    """Pick, for each child and period, the latest measurement with a valid z-score.

    `frame` needs `child_key`, `visit_date` (datetime64), `z_column` (NaN where not computable)
    and `flag_column` (True where implausible; missing counts as not flagged). `period` is
    "year", "quarter" or "month"; `months` keeps only visits in those calendar months (e.g.
    [2, 8], the bulan timbang). A child without any valid z-score in a period is returned in
    `excluded` with its latest measurement. Two measurements of a child on the same day: the
    later row of the frame wins. Rows without a visit date belong to no period and are left
    out; rows with a missing child key each count as a child of their own.

    `columns` chooses the frame columns carried into the result (default: all of them); both
    results start with a `period` column.
    """
    picked = _pick_rows(
        frame,
        period=period,
        months=months,
        child_key=child_key,
        z_column=z_column,
        flag_column=flag_column,
    )
    wanted = [c for c in (frame.columns if columns is None else columns) if c != "period"]
    _require_columns(frame, wanted)
    parts = []
    for keep in (picked.counted, ~picked.counted):
        rows = picked.rows[keep]
        data: dict[str, Any] = {"period": _period_column(picked, picked.period_code[keep])}
        for column in wanted:
            data[column] = frame[column].array.take(rows)
        parts.append(pd.DataFrame(data))
    return SelectionResult(
        selected=parts[0],
        excluded=parts[1],
        period=period,
        months=_check_months(months),
    )


def compute_prevalence(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("kelurahan",),
    period: str = "year",
    months: Iterable[int] | None = None,
    min_n: int = DEFAULT_MIN_N,
    total: bool = False,
    child_key: str = "child_id",
) -> pd.DataFrame:
    """Stunting prevalence per period and group, WHO's way, each child counted once per period.

    `frame` holds measurements with `child_key`, `visit_date` (datetime64), `haz` (full
    precision or already rounded; NaN where not computable), `haz_flag`, the `by` columns and,
    for `by` containing "age_group", `age_days`. Who is counted: see
    `select_period_measurements`. `by` lists grouping columns in output order; "age_group" is
    WHO's age group of the measurement used; "year" (or an empty `by`) means the whole area.

    Returns columns `year` (period "year") or `period`, the `by` columns, then FIGURE_COLUMNS
    and `note`, sorted by period then group. Groups with n < `min_n` keep `n` and `excluded`
    but their other figures are empty and `note` says why. `total=True` adds, per period, a
    whole-area row with "All" in every group column. Missing group values are grouped as
    "(unknown)". The frame's `attrs` record the options, selection rule and method.
    """
    if isinstance(by, str):  # by="kelurahan" means one column, not its letters
        by = (by,)
    group_columns = [c for c in by if c != "year"]
    if len(set(group_columns)) != len(group_columns):
        raise UsageError(f"--by lists a column twice: {', '.join(by)}")
    if min_n < 0:
        raise UsageError(f"--min-n must be 0 or more, got {min_n}")
    needed = [c for c in group_columns if c != AGE_GROUP_COLUMN]
    if AGE_GROUP_COLUMN in group_columns:
        needed.append("age_days")
    _require_columns(frame, needed)

    picked = _pick_rows(
        frame,
        period=period,
        months=months,
        child_key=child_key,
        z_column="haz",
        flag_column="haz_flag",
    )
    rows, counted = picked.rows, picked.counted
    period_labels = np.asarray(picked.period_labels, dtype=object)
    z = frame["haz"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]  # a new array
    _round_z_in_place(z)
    z[~counted] = np.nan

    n_periods = len(picked.period_labels)
    group_id, n_slots, labels, decode = _group_ids(
        frame, group_columns, rows, picked.period_code, n_periods
    )
    del picked
    groups = _count(group_id, n_slots, counted, z)
    del group_id, z
    group_period, group_codes = decode(groups.slot)
    pieces: list[pd.DataFrame] = []
    if group_columns:
        totals = _combine_by_period(groups, group_period, n_periods)
        period_n = _period_sizes(totals, n_periods)
        pieces.append(
            _figure_frame(
                groups, group_period, period_n, group_columns, group_codes, labels, is_total=False
            )
        )
        if total:
            pieces.append(
                _figure_frame(
                    totals, totals.slot, period_n, group_columns, None, labels, is_total=True
                )
            )
    else:
        period_n = _period_sizes(groups, n_periods)
        pieces.append(_figure_frame(groups, groups.slot, period_n, [], None, [], is_total=False))
    result = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]

    sort_keys = ["_period", "_total"]
    for i in range(len(group_columns)):
        sort_keys += [f"_unknown{i}", group_columns[i]]
    result = result.sort_values(sort_keys, kind="stable", ignore_index=True)

    period_name = "year" if period == "year" else "period"
    period_values = period_labels[result["_period"].to_numpy(dtype=np.int64)]
    result.insert(
        0,
        period_name,
        pd.Series(period_values, dtype="int64" if period == "year" else "str"),
    )
    _suppress(result, min_n)
    result = result[[period_name, *group_columns, *FIGURE_COLUMNS, NOTE_COLUMN]]
    result.attrs.update(
        {
            "indicator": "haz",
            "period": period,
            "months": list(_check_months(months) or ()),
            "by": list(by),
            "min_n": min_n,
            "total": total,
            "selection_rule": SELECTION_RULE,
            "method": METHOD,
            "reference": "WHO Child Growth Standards (2006)",
        }
    )
    return result


# --- selection ---------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        seen = ", ".join(map(str, frame.columns))
        raise InputError(
            f"column {', '.join(repr(c) for c in missing)} not found; columns seen: {seen}"
        )


def _check_months(months: Iterable[int] | None) -> tuple[int, ...] | None:
    if months is None:
        return None
    chosen = tuple(sorted({int(m) for m in months}))
    if not chosen or chosen[0] < 1 or chosen[-1] > 12:
        raise UsageError(f"--months takes calendar months 1-12, e.g. 2,8; got {list(months)}")
    return chosen


def _period_labels(values: IntArray, period: str) -> list[Any]:
    """Labels of period values (a year; year * 4 + quarter; year * 12 + month, from 0)."""
    if period == "year":
        return [int(v) for v in values]
    if period == "quarter":
        return [f"{v // 4}-Q{v % 4 + 1}" for v in values.tolist()]
    return [f"{v // 12}-{v % 12 + 1:02d}" for v in values.tolist()]


def _visit_days(visit: pd.Series) -> IntArray:
    if not pd.api.types.is_datetime64_any_dtype(visit.dtype):
        raise InputError(
            f"column 'visit_date' holds {visit.dtype}, not dates; parse it first "
            "(the reader does), e.g. with pd.to_datetime"
        )
    return day_numbers(visit)


def _pick_rows(
    frame: pd.DataFrame,
    *,
    period: str,
    months: Iterable[int] | None,
    child_key: str,
    z_column: str,
    flag_column: str,
) -> _Picked:
    """Frame positions of each child's measurement per period (see select_period_measurements).

    Each row's score is a valid z-score first, then the visit day, then the row position; the
    highest score of each child and period is the measurement wanted (the latest valid one,
    else the latest of all), taken by np.maximum.at over dense (child, period) slots.
    """
    if period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}; got {period!r}")
    chosen_months = _check_months(months)
    _require_columns(frame, [child_key, "visit_date", z_column, flag_column])
    day = _visit_days(frame["visit_date"])
    known = day != NAT_DAYS
    empty = _Picked(np.zeros(0, np.int64), np.zeros(0, np.bool_), np.zeros(0, np.int64), [])
    if not known.any():
        return empty
    first = int(day[known].min())
    # the calendar once per day of the span of visit dates, then one look-up a row
    _, month, year = calendar_parts(np.arange(first, int(day[known].max()) + 1))
    period_of_day = {"year": year, "quarter": year * 4 + (month - 1) // 3}.get(
        period, year * 12 + month - 1
    )
    offset = day - first
    offset[~known] = 0
    keep = known if chosen_months is None else known & np.isin(month, chosen_months)[offset]
    rows = np.flatnonzero(keep)
    if not rows.size:
        return empty
    everything = rows.size == len(frame)  # the usual case: no copy of every column

    def kept(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if everything else values[rows]

    value = period_of_day[kept(offset)]
    low = int(value.min())
    value -= low
    seen = np.bincount(value) > 0
    period_values = low + np.flatnonzero(seen)
    period_code = (np.cumsum(seen) - 1)[value]
    del value
    child, n_children = _child_codes(frame[child_key], None if everything else rows)
    valid = ~np.isnan(kept(frame[z_column].to_numpy(dtype=np.float64, na_value=np.nan)))
    valid &= ~kept(frame[flag_column].to_numpy(dtype=np.bool_, na_value=False))
    score = kept(offset) << _DAY_SHIFT
    score |= rows
    np.bitwise_or(score, np.int64(1) << _VALID_SHIFT, out=score, where=valid)
    del valid
    slot = child * len(period_values) + period_code
    slots = n_children * len(period_values)
    if slots > 4 * rows.size:  # many children x many periods: only the slots in use
        slot, in_use = pd.factorize(slot)
        slots = len(in_use)
    best = np.full(slots, -1, dtype=np.int64)
    np.maximum.at(best, slot, score)
    best = best[best >= 0]
    chosen = best & ((1 << _DAY_SHIFT) - 1)
    chosen_code = np.searchsorted(period_values, period_of_day[offset[chosen]])
    return _Picked(
        chosen, best >> _VALID_SHIFT == 1, chosen_code, _period_labels(period_values, period)
    )


# a row's score: valid z-score in bit 62, visit day (from the first) in bits 32-61, row below
_VALID_SHIFT = 62
_DAY_SHIFT = 32


def _child_codes(keys: pd.Series, rows: IntArray | None) -> tuple[IntArray, int]:
    """Codes 0 .. C-1 of the children of `rows` (None: all); a missing key is a child of its
    own."""
    chosen: Any = keys
    if rows is not None:
        chosen = keys.to_numpy()[rows] if keys.dtype.kind in "iu" else keys.iloc[rows]
    codes, uniques = pd.factorize(chosen)
    codes = codes.astype(np.int64, copy=False)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes, len(uniques) + int(missing.sum())


def _period_column(picked: _Picked, period_code: IntArray) -> Any:
    labels = picked.period_labels
    if labels and isinstance(labels[0], str):
        return pd.Categorical.from_codes(period_code, categories=pd.Index(labels))
    return np.asarray(labels, dtype=np.int64)[period_code] if labels else period_code


# --- aggregation -------------------------------------------------------------------------------


def _round_z_in_place(z: FloatArray) -> None:
    """Round z to 2 decimals as R rounds, in chunks to bound r_round's temporaries."""
    for start in range(0, z.size, _ROUND_CHUNK):
        stop = start + _ROUND_CHUNK
        z[start:stop] = r_round(z[start:stop], Z_DECIMALS)


def _age_group_codes(age_days: FloatArray) -> IntArray:
    months = round_half_up_days(np.where(age_days >= 0, age_days, np.nan)) / DAYS_PER_MONTH
    codes = np.searchsorted(AGE_GROUP_BREAKS_MONTHS, months, side="right").astype(np.int64) - 1
    with np.errstate(invalid="ignore"):
        inside = (months >= AGE_GROUP_BREAKS_MONTHS[0]) & (months < AGE_GROUP_BREAKS_MONTHS[-1])
    return np.where(inside, codes, -1)


def _group_codes(values: Any, column: str) -> tuple[IntArray, list[str]]:
    """Codes (-1 = missing) and text labels of one grouping column's values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.codes, dtype=np.int64)
        uniques = list(values.categories)
    else:
        raw_codes, unique_values = pd.factorize(values)
        codes = raw_codes.astype(np.int64, copy=False)
        uniques = list(unique_values)
    labels = [_sex_label(u) for u in uniques] if column == "sex" else [str(u) for u in uniques]
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if blank:  # an empty cell is as unknown as a missing one
        remap = np.arange(len(labels), dtype=np.int64)
        remap[blank] = -1
        codes = np.where(codes >= 0, remap[codes], -1)
    return codes, labels


def _sex_label(value: Any) -> str:
    try:
        return SEX_LABELS.get(int(value), str(value)) if float(value) in SEX_LABELS else str(value)
    except (TypeError, ValueError):
        return str(value)


def _group_ids(
    frame: pd.DataFrame,
    group_columns: Sequence[str],
    rows: IntArray,
    period_code: IntArray,
    n_periods: int,
) -> tuple[IntArray, int, list[list[str]], Any]:
    """One id per (period, group...) combination for the chosen rows, and a decoder.

    Mixed radix over the period and each column's codes shifted by one (0 = unknown), each
    column folded in as soon as it is coded; compacted with pd.factorize only when the product
    of the columns' sizes is large. Returns ids, their range, each column's labels, and a
    function from ids to (period code, [column codes, -1 = unknown]).
    """
    group_id = period_code.astype(np.int64)  # a copy, grown in place below
    radix: list[int] = []
    labels: list[list[str]] = []
    for column in group_columns:
        if column == AGE_GROUP_COLUMN:
            age = frame["age_days"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
            codes, column_labels = _age_group_codes(age), list(AGE_GROUP_LABELS)
            del age
        else:
            codes, column_labels = _group_codes(frame[column].array.take(rows), column)
        size = len(column_labels) + 1
        group_id *= size
        group_id += codes
        group_id += 1
        del codes
        radix.append(size)
        labels.append(column_labels)
    n_slots = n_periods
    for size in radix:
        n_slots *= size
    uniques: IntArray | None = None
    if n_slots > max(4 * group_id.size, 1 << 20):
        compact, unique_ids = pd.factorize(group_id)
        group_id = compact.astype(np.int64, copy=False)
        uniques = np.asarray(unique_ids, dtype=np.int64)
        n_slots = len(uniques)

    def decode(slot: IntArray) -> tuple[IntArray, list[IntArray]]:
        value = slot if uniques is None else uniques[slot]
        parts: list[IntArray] = []
        for size in reversed(radix):
            parts.append(value % size - 1)
            value = value // size
        return value, parts[::-1]

    return group_id, n_slots, labels, decode


@dataclass(frozen=True)
class _Counts:
    """Sums per group (only groups with at least one measured child)."""

    slot: IntArray  # group ids
    n: IntArray  # children counted (valid HAZ)
    excluded: IntArray  # children measured without a valid HAZ
    stunted: IntArray
    severe: IntArray
    z_sum: FloatArray
    z_squares: FloatArray  # sum of squared deviations from the group's mean


def _count(group: IntArray, n_slots: int, counted: BoolArray, z: FloatArray) -> _Counts:
    """Counts and z sums per group id with np.bincount; deviations in a second pass.

    Excluded rows are moved to ids n_slots and up (in place: `group` is scratch), so one pass
    counts both and no compressed copy of the rows is needed; their NaN z stays in those ids.
    """
    group[~counted] += n_slots
    extended = 2 * n_slots
    tally = np.bincount(group, minlength=extended)
    stunted = np.bincount(group[z < STUNTED_BELOW], minlength=extended)
    severe = np.bincount(group[z < SEVERELY_STUNTED_BELOW], minlength=extended)
    z_sum = np.bincount(group, weights=z, minlength=extended)
    n = tally[:n_slots]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z_sum / np.concatenate([n, n])
    deviation = mean[group]
    np.subtract(z, deviation, out=deviation)
    deviation *= deviation
    z_squares = np.bincount(group, weights=deviation, minlength=extended)
    del deviation
    excluded = tally[n_slots:]
    seen = np.flatnonzero(n + excluded)
    return _Counts(
        slot=seen,
        n=n[seen].astype(np.int64),
        excluded=excluded[seen].astype(np.int64),
        stunted=stunted[seen].astype(np.int64),
        severe=severe[seen].astype(np.int64),
        z_sum=z_sum[seen].astype(np.float64),
        z_squares=z_squares[seen].astype(np.float64),
    )


def _combine_by_period(groups: _Counts, group_period: IntArray, n_periods: int) -> _Counts:
    """Whole-period sums from the groups' sums; squared deviations pooled exactly (Chan et al.:
    sum of the groups' own plus n_g (mean_g - mean)^2), so the rows are not read twice."""

    def total(values: npt.NDArray[Any]) -> FloatArray:
        sums = np.bincount(group_period, weights=values, minlength=n_periods)
        return sums.astype(np.float64, copy=False)

    n = total(groups.n)
    z_sum = total(groups.z_sum)
    with np.errstate(invalid="ignore", divide="ignore"):
        period_mean = z_sum / n
        group_mean = groups.z_sum / groups.n
    between = np.where(groups.n > 0, groups.n * (group_mean - period_mean[group_period]) ** 2, 0.0)
    seen = np.flatnonzero(total(groups.n + groups.excluded))
    return _Counts(
        slot=seen,
        n=n[seen].astype(np.int64),
        excluded=total(groups.excluded)[seen].astype(np.int64),
        stunted=total(groups.stunted)[seen].astype(np.int64),
        severe=total(groups.severe)[seen].astype(np.int64),
        z_sum=z_sum[seen],
        z_squares=total(groups.z_squares + between)[seen],
    )


def _period_sizes(totals: _Counts, n_periods: int) -> IntArray:
    """N per period code: the children counted in the whole period."""
    sizes = np.zeros(n_periods, dtype=np.int64)
    sizes[totals.slot] = totals.n
    return sizes


def _figure_frame(
    summary: _Counts,
    period_code: IntArray,
    period_n: IntArray,
    group_columns: list[str],
    group_codes: list[IntArray] | None,
    labels: list[list[str]],
    *,
    is_total: bool,
) -> pd.DataFrame:
    """One output row per summarised group, with helper `_` columns for sorting."""
    sample_size = period_n[period_code]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = summary.z_sum / summary.n
        # sample SD (n - 1) as R's sd(); NA for a single child
        sd = np.where(summary.n > 1, np.sqrt(summary.z_squares / (summary.n - 1)), np.nan)
    stunting = prevalence_ci(summary.stunted, summary.n, sample_size)
    severe = prevalence_ci(summary.severe, summary.n, sample_size)
    rows = len(summary.slot)
    data: dict[str, Any] = {
        "_period": period_code,
        "_total": np.full(rows, int(is_total)),
    }
    for i, column in enumerate(group_columns):
        if group_codes is None:
            data[f"_unknown{i}"] = np.zeros(rows, dtype=np.int64)
            data[column] = pd.Series([TOTAL_LABEL] * rows, dtype="str")
        else:
            column_codes = group_codes[i]
            text = np.asarray([*labels[i], UNKNOWN_LABEL], dtype=object)
            data[f"_unknown{i}"] = (column_codes < 0).astype(np.int64)
            data[column] = pd.Series(text[column_codes], dtype="str")
    data.update(
        {
            "n": summary.n,
            "stunted": pd.array(summary.stunted, dtype="Int64"),
            "stunting_pct": stunting[0],
            "stunting_ci_low": stunting[1],
            "stunting_ci_high": stunting[2],
            "severe": pd.array(summary.severe, dtype="Int64"),
            "severe_pct": severe[0],
            "severe_ci_low": severe[1],
            "severe_ci_high": severe[2],
            "mean_haz": mean,
            "sd_haz": sd,
            "excluded": summary.excluded,
        }
    )
    return pd.DataFrame(data)


def _suppress(result: pd.DataFrame, min_n: int) -> None:
    """Empty the figures of groups under `min_n` children and say why in `note`."""
    n = result["n"].to_numpy()
    note = np.full(len(result), "", dtype=object)
    note[n == 0] = "no child with a valid HAZ"
    suppressed = n < min_n
    note[suppressed] = f"n < {min_n}: figures suppressed"
    if suppressed.any():
        for column in FIGURE_COLUMNS:
            if column in ("n", "excluded"):
                continue
            empty = pd.NA if column in ("stunted", "severe") else np.nan
            result.loc[suppressed, column] = empty
    result[NOTE_COLUMN] = pd.Series(note, dtype="str")


def columns_needed(by: Sequence[str]) -> tuple[str, ...]:
    """The measurement columns compute_prevalence reads for grouping `by` (age groups come from
    age_days): only these are read from the store."""
    groups = [g for g in by if g not in ("year", AGE_GROUP_COLUMN)]
    ages = ("age_days",) if AGE_GROUP_COLUMN in by else ()
    return ("child_key", "visit_date", "haz", "haz_flag", *groups, *ages)


def provenance(
    result: pd.DataFrame, origin: dict[str, object], sources: list[dict[str, object]]
) -> Provenance:
    """Where a prevalence result came from: its options, sources, selection rule and method."""
    options = {key: result.attrs[key] for key in ("by", "period", "months", "min_n", "total")}
    return Provenance(
        command="prevalence",
        options={**origin, **options, "months": options["months"] or None},
        sources=sources,
        notes=[f"selection: {SELECTION_RULE}", f"method: {METHOD}"],
    )
