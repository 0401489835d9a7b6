"""A child's register as a monthly sequence: the month's last valid measurement, month by month.

A posyandu measures its children monthly, so SKDN's N and T (kbtool.skdn) and stunting onset
and recovery (kbtool.dynamics) compare a child's month with the one before; both start here.
Months are counted from January 1970 (0), so the month before is always `month - 1`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, Int32Array, IntArray
from kbtool.columns import (
    NAT_DAYS,
    calendar_parts,
    child_blocks,
    child_codes,
    child_day_order,
    date_days,
    month_number,
    require_columns,
    value_codes,
)
from kbtool.columns import month_label as month_label  # skdn's and the tests' import
from kbtool.prevalence.compute import UNKNOWN_LABEL

# entries of a sequence worked on at a time (MonthlySequence.blocks)
BLOCK_ENTRIES = 1 << 20


@dataclass(frozen=True)
class MonthlySequence:
    """One entry per child and calendar month with a valid measurement: the month's last.

    Entries come in child, month order; `rows` are their frame positions. Two valid
    measurements of a child on one day: the later row of the frame is the month's last.
    """

    rows: Int32Array
    child: Int32Array  # dense codes, ascending
    month: Int32Array  # months since January 1970
    day: Int32Array  # visit day, days since 1970-01-01
    # the distinct months of every dated row of the frame, valid or not, ascending
    months_seen: Int32Array

    def __len__(self) -> int:
        return len(self.rows)

    def same_child_before(self) -> BoolArray:
        """True where the entry before is the same child's (an earlier month)."""
        same = np.zeros(len(self), dtype=np.bool_)
        same[1:] = self.child[1:] == self.child[:-1]
        return same

    def previous_month_before(self) -> BoolArray:
        """True where the entry before is the same child's, in the calendar month before."""
        adjacent = self.same_child_before()
        adjacent[1:] &= self.month[1:] - self.month[:-1] == 1
        return adjacent

    def blocks(self) -> Iterator[MonthlySequence]:
        """The sequence in parts of about BLOCK_ENTRIES entries, never splitting a child: the
        temporaries of work on a part stay small, whatever the register's size."""
        for part in child_blocks(self.child, BLOCK_ENTRIES):
            yield MonthlySequence(
                self.rows[part],
                self.child[part],
                self.month[part],
                self.day[part],
                self.months_seen,
            )


def months_of(days: npt.NDArray[np.integer]) -> Int32Array:
    """Months since January 1970 of day numbers (none missing): numpy's calendar once per day
    of their span, then one look-up a day."""
    if not days.size:
        return np.zeros(0, dtype=np.int32)
    first = int(days.min())
    _, month, year = calendar_parts(np.arange(first, int(days.max()) + 1, dtype=np.int64))
    return month_number(year, month).astype(np.int32)[days - first]


def monthly_sequence(
    frame: pd.DataFrame,
    valid: BoolArray,
    *,
    child_key: str = "child_key",
    child: IntArray | None = None,
) -> MonthlySequence:
    """Each child's last `valid` measurement of every calendar month, in child, month order.

    Rows without a visit date belong to no month; a row with a missing child key is a child
    of its own. `child`: the rows' child_codes, when the caller has them already.
    """
    require_columns(frame, [child_key, "visit_date"])
    days = date_days(frame, "visit_date")
    seen = _months_seen(days)
    chosen = np.flatnonzero(valid & (days != NAT_DAYS)).astype(np.int32)
    day = days[chosen].astype(np.int32)
    del days
    codes = child_codes(frame[child_key]) if child is None else child
    kid = codes[chosen].astype(np.int32)
    order = child_day_order(kid, day)
    rows, kid, day = chosen[order], kid[order], day[order]
    del chosen, order
    month = months_of(day)
    # the last entry of each run of one child and month: the next is another child or month
    last = np.ones(len(rows), dtype=np.bool_)
    last[:-1] = (kid[1:] != kid[:-1]) | (month[1:] != month[:-1])
    return MonthlySequence(rows[last], kid[last], month[last], day[last], seen)


def _months_seen(days: IntArray) -> Int32Array:
    """The distinct months of day numbers (NAT_DAYS: none), from the days seen."""
    known = days != NAT_DAYS
    if not known.any():
        return np.zeros(0, dtype=np.int32)
    first = int(days.min(where=known, initial=np.iinfo(np.int64).max))
    seen = np.flatnonzero(np.bincount(np.where(known, days - first, 0)[known]))
    return np.unique(months_of(seen + first))


def group_codes(values: pd.Series) -> tuple[Int32Array, list[str]]:
    """Codes of a group column, one per row (-1: missing or blank), and its labels as text."""
    codes, uniques = value_codes(values)
    return codes.astype(np.int32), [str(u) for u in uniques]


def label_column(codes: npt.NDArray[np.integer], labels: list[str]) -> pd.Series:
    """Group labels of codes as text, "(unknown)" for -1."""
    text: npt.NDArray[Any] = np.asarray([*labels, UNKNOWN_LABEL], dtype=object)
    return pd.Series(text[codes], dtype="str")
