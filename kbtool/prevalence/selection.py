"""Who is counted: each child once per period, by their latest valid measurement (computable,
not flagged); a child without one is excluded, in the group of their latest measurement. The
maximum per (child, period) of one score per row (valid, visit day, row) decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kbtool.arrays import BoolArray, IntArray
from kbtool.columns import (
    NAT_DAYS,
    calendar_parts,
    date_days,
    dense_codes,
    month_label,
    month_number,
    require_columns,
)
from kbtool.errors import UsageError

PERIODS = ("year", "quarter", "month")


@dataclass(frozen=True)
class SelectionResult:
    """Per child and period, the measurement used (`selected`) or, for a child without a valid
    z-score, the latest (`excluded`); the chosen columns after `period` (an int year, "2023-Q1"
    or "2023-02")."""

    selected: pd.DataFrame
    excluded: pd.DataFrame
    period: str
    months: tuple[int, ...] | None


@dataclass(frozen=True)
class Picked:
    """Frame positions of the chosen measurements, before any column is copied."""

    rows: IntArray  # one frame position per child and period
    counted: BoolArray  # True: a valid z-score (selected); False: excluded
    period_code: IntArray  # 0 .. len(period_labels) - 1, chronological
    period_labels: list[Any]  # int years, or "2023-Q1" / "2023-02" labels


def valid_z(frame: pd.DataFrame, z_column: str, flag_column: str) -> BoolArray:
    """Rows whose z-score is computable and not flagged (a missing flag is not a flag)."""
    require_columns(frame, [z_column, flag_column])
    z = frame[z_column].to_numpy(dtype=np.float64, na_value=np.nan)
    return ~np.isnan(z) & ~frame[flag_column].to_numpy(dtype=np.bool_, na_value=False)


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

    `frame` needs `child_key`, `visit_date` (datetime64), `z_column` and `flag_column` (missing:
    not flagged). `months` keeps visits in those calendar months (e.g. [2, 8], the bulan
    timbang). Of two measurements on one day the later row wins; rows without a visit date are
    left out; a missing child key is a child of its own. `columns`: those carried (default all).
    """
    picked = prepare_visits(frame, period=period, months=months, child_key=child_key).pick(
        valid_z(frame, z_column, flag_column)
    )
    wanted = [c for c in (frame.columns if columns is None else columns) if c != "period"]
    require_columns(frame, wanted)
    labels = picked.period_labels
    parts = []
    for keep in (picked.counted, ~picked.counted):
        code = picked.period_code[keep]
        period_values: Any = code  # empty: no dated visit
        if labels and isinstance(labels[0], str):
            period_values = pd.Categorical.from_codes(code, categories=pd.Index(labels))
        elif labels:
            period_values = np.asarray(labels, dtype=np.int64)[code]
        taken = {column: frame[column].array.take(picked.rows[keep]) for column in wanted}
        parts.append(pd.DataFrame({"period": period_values, **taken}))
    return SelectionResult(parts[0], parts[1], period, check_months(months))


def check_months(months: Iterable[int] | None) -> tuple[int, ...] | None:
    if months is None:
        return None
    chosen = tuple(sorted({int(m) for m in months}))
    if not chosen or chosen[0] < 1 or chosen[-1] > 12:
        raise UsageError(f"--months takes calendar months 1-12, e.g. 2,8; got {list(months)}")
    return chosen


def _period_labels(values: IntArray, period: str) -> list[Any]:
    """Labels of period values (a year; year * 4 + quarter, from 0; a month_number)."""
    if period == "year":
        return [int(v) for v in values]
    if period == "quarter":
        return [f"{v // 4}-Q{v % 4 + 1}" for v in values.tolist()]
    return [month_label(v) for v in values.tolist()]


@dataclass(frozen=True)
class Visits:
    """The dated visits of a frame in the chosen period and months, prepared once for any
    number of selections (one per indicator): positions, visit days, periods, child slots."""

    period: str
    rows: IntArray | None  # frame positions kept; None: every row
    day: IntArray  # visit day, counted from the first, per kept row
    period_code: IntArray  # 0 .. len(period_labels) - 1, chronological, per kept row
    period_labels: list[Any]
    slot: IntArray  # one code per (child, period), per kept row
    slots: int

    def pick(self, valid: BoolArray) -> Picked:
        """Each child's measurement per period: the latest `valid` one, else the latest of all
        (excluded). A row's score is valid first, then the visit day, then the row position;
        its maximum per slot is taken with np.maximum.at."""
        if not self.slots:
            return Picked(np.zeros(0, np.int64), np.zeros(0, np.bool_), np.zeros(0, np.int64), [])
        position = np.arange(len(self.day), dtype=np.int64)
        score = self.day << _DAY_SHIFT
        score |= position
        kept_valid = valid if self.rows is None else valid[self.rows]
        np.bitwise_or(score, np.int64(1) << _VALID_SHIFT, out=score, where=kept_valid)
        best = np.full(self.slots, -1, dtype=np.int64)
        np.maximum.at(best, self.slot, score)
        del score
        best = best[best >= 0]
        chosen = best & ((1 << _DAY_SHIFT) - 1)
        frame_rows = chosen if self.rows is None else self.rows[chosen]
        return Picked(
            frame_rows, best >> _VALID_SHIFT == 1, self.period_code[chosen], self.period_labels
        )


def prepare_visits(
    frame: pd.DataFrame, *, period: str, months: Iterable[int] | None, child_key: str
) -> Visits:
    """The frame's visits in `period` units, only in `months` when given (see Visits)."""
    if period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}; got {period!r}")
    chosen_months = check_months(months)
    require_columns(frame, [child_key, "visit_date"])
    day = date_days(frame, "visit_date")
    known = day != NAT_DAYS
    nothing = np.zeros(0, np.int64)
    if not known.any():
        return Visits(period, nothing, nothing, nothing, [], nothing, 0)
    first = int(day[known].min())
    # the calendar once per day of the span of visit dates, then one look-up a row
    _, month, year = calendar_parts(np.arange(first, int(day[known].max()) + 1))
    period_of_day = {"year": year, "quarter": year * 4 + (month - 1) // 3}.get(
        period, month_number(year, month)
    )
    day -= first
    day[~known] = 0
    keep = known if chosen_months is None else known & np.isin(month, chosen_months)[day]
    rows: IntArray | None = None
    if not keep.all():
        rows = np.flatnonzero(keep)
        day = day[rows]
    if not day.size:
        return Visits(period, nothing, nothing, nothing, [], nothing, 0)
    value = period_of_day[day]
    low = int(value.min())
    value -= low
    period_code, period_values = dense_codes(value, int(value.max()) + 1)
    period_values += low
    del value
    child, n_children = _child_codes(frame[child_key], rows)
    slot = child * len(period_values) + period_code
    slots = n_children * len(period_values)
    if slots > 4 * slot.size:  # many children x many periods: only the slots in use
        codes, in_use = pd.factorize(slot)
        slot, slots = codes.astype(np.int64, copy=False), len(in_use)
    labels = _period_labels(period_values, period)
    return Visits(period, rows, day, period_code, labels, slot, slots)


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
