"""SKDN per group and calendar month: what a posyandu reports every month.

S: children under five (under 1826 days old on the month's first day) the group should weigh:
from --sasaran, or the register's own, the children weighed in the 12 months ending with this
month, each in the group of their latest weighing up to it. D: children weighed this month; of
them B, O, N, T, 2T and BGM as kbtool.skdn.weighings classifies them (D = N + T + O + B).
Ratios in percent: D/S, N/D, N/(D - O - B) (of those whose gain can be judged), T/D, 2T/D,
BGM/D; empty where the denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import IntArray
from kbtool.columns import month_number, require_columns
from kbtool.errors import InputError, UsageError
from kbtool.skdn.kbm import BUKU_KIA, KbmTable
from kbtool.skdn.sasaran import Sasaran, match_groups, unmatched_names
from kbtool.skdn.weighings import Weighings, classify_weighings, weighing_sequence
from kbtool.visits import group_codes, label_column, month_label

BY_CHOICES = ("posyandu", "kelurahan", "kecamatan", "puskesmas")
# a child weighed within the 12 months ending with a month is one the posyandu should weigh
S_LOOKBACK_MONTHS = 12
COUNT_COLUMNS = ("d", "b", "o", "n", "t", "t2", "bgm")
RATIO_COLUMNS = {  # ratio -> (numerator, denominator)
    "d_s": ("d", "s"),
    "n_d": ("n", "d"),
    "n_d_assessed": ("n", "assessed"),  # d - o - b: those whose gain can be judged
    "t_d": ("t", "d"),
    "t2_d": ("t2", "d"),
    "bgm_d": ("bgm", "d"),
}


@dataclass(frozen=True)
class MonthRange:
    """The months a result covers (months since January 1970), from `first` to `last`: all
    of them when the user chose them (`chosen`), else the months the register has a
    measurement in (`reported`, one flag per month of the range)."""

    first: int
    last: int
    chosen: bool
    reported: npt.NDArray[np.bool_]


def parse_month(text: str) -> int:
    """ "2024-01" as months since January 1970; UsageError otherwise."""
    year, _, month = text.strip().partition("-")
    if year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12:
        return month_number(int(year), int(month))
    raise UsageError(f"{text!r} is not a month such as 2024-01")


def check_month_order(first: str | None, last: str | None) -> None:
    """UsageError when --from and --to are both given and --from is the later month."""
    if first and last and parse_month(first) > parse_month(last):
        raise UsageError(f"--from {first} is after --to {last}")


def month_range(seen: npt.NDArray[np.integer], first: str | None, last: str | None) -> MonthRange:
    """The months to report: --from/--to where given (the register's first or last month
    where one is missing), else every month the register has a measurement in (`seen`)."""
    check_month_order(first, last)
    lo = parse_month(first) if first else int(seen.min()) if seen.size else 0
    hi = parse_month(last) if last else int(seen.max()) if seen.size else -1
    if seen.size and lo > hi:  # one end given, beyond the register's months
        given = f"--from {first}" if first else f"--to {last}"
        side = "after the register's last" if first else "before the register's first"
        edge = month_label(int(seen.max() if first else seen.min()))
        raise InputError(f"{given} is {side} month, {edge}: no month to report")
    width = max(hi - lo + 1, 0)
    reported = np.ones(width, dtype=np.bool_)
    if not (first or last):
        reported = np.bincount(seen - lo, minlength=width)[:width] > 0
    return MonthRange(lo, hi, bool(first or last), reported)


def compute_skdn(
    frame: pd.DataFrame,
    *,
    by: str = "posyandu",
    first_month: str | None = None,
    last_month: str | None = None,
    kbm: KbmTable = BUKU_KIA,
    sasaran: Sasaran | None = None,
    child_key: str = "child_key",
) -> pd.DataFrame:
    """SKDN per group (`by`) and month ("2024-01" strings: `first_month` to `last_month`,
    default every month with a measurement), one row per group and month with S or D, or a
    sasaran from the file (see the module docstring). The frame's attrs record the options."""
    if by not in BY_CHOICES:
        raise UsageError(f"--by {by}: choose one of {', '.join(BY_CHOICES)}")
    require_columns(frame, [by])
    sequence = weighing_sequence(frame, child_key=child_key)
    span = month_range(sequence.months_seen, first_month, last_month)
    codes, labels = group_codes(frame[by])
    grid = _Grid(len(labels) + 1, span)  # the last group: unknown
    for block in sequence.blocks():
        grid.add(classify_weighings(frame, block, codes, kbm))
    del codes
    s = grid.register_s()
    from_file = np.zeros(grid.size, dtype=np.bool_)
    unmatched: list[str] = []
    if sasaran is not None:
        matched = match_groups(sasaran, labels, by)
        unmatched = unmatched_names(sasaran, matched)
        file_cell = grid.cells(matched, sasaran.months)
        known = (matched >= 0) & (file_cell >= 0)
        from_file[file_cell[known]] = True
        file_s = np.bincount(file_cell[known], sasaran.counts[known], grid.size)
        s = np.where(from_file, file_s, s).astype(np.int64)
    shown = (s > 0) | (grid.counts["d"] > 0) | from_file
    shown &= np.tile(span.reported, grid.groups)
    result = _rows(np.flatnonzero(shown), grid.width, span, labels, by)
    result["s"] = s[shown]
    result["s_source"] = pd.Series(np.where(from_file[shown], "file", "register"), dtype="str")
    for name in COUNT_COLUMNS:
        result[name] = grid.counts[name][shown]
    assessed = result["d"] - result["o"] - result["b"]
    for ratio, (numerator, denominator) in RATIO_COLUMNS.items():
        bottom = assessed if denominator == "assessed" else result[denominator]
        result[ratio] = percent(result[numerator], bottom)
    result = result.sort_values(["_month", "_unknown", by], kind="stable")
    result = result.drop(columns=["_month", "_unknown"]).reset_index(drop=True)
    result.attrs.update(
        result_attrs(by, span, kbm),
        kbm_table=kbm.rows(),
        sasaran=sasaran.source if sasaran is not None else None,
        sasaran_unmatched=unmatched,
    )
    return result


def result_attrs(by: str, span: MonthRange, kbm: KbmTable) -> dict[str, object]:
    """The options an SKDN result or follow-up list records in its attrs."""
    return {
        "by": by,
        "from": month_label(span.first) if span.chosen else None,
        "to": month_label(span.last) if span.chosen else None,
        "kbm": kbm.name,
    }


class _Grid:
    """Counts per (group, month) cell of the months reported, added up part by part: the SKDN
    classes, and S from the register as +1/-1 steps where a child's stretch starts and ends."""

    def __init__(self, groups: int, span: MonthRange) -> None:
        self.groups, self.span = groups, span
        self.width = max(span.last - span.first + 1, 0)
        self.size = groups * self.width
        self.counts = {name: np.zeros(self.size, dtype=np.int64) for name in COUNT_COLUMNS}
        # one column more per group, where the -1 of a stretch ending in the last month falls
        self.steps = np.zeros(groups * (self.width + 1), dtype=np.int64)

    def cells(self, group: npt.NDArray[np.integer], month: npt.NDArray[np.integer]) -> IntArray:
        """The cell of each (group code, month); -1 outside the months reported. A code of -1
        (unknown) is the last group."""
        code = np.where(group >= 0, group, self.groups - 1).astype(np.int64)
        inside = (month >= self.span.first) & (month <= self.span.last)
        return np.where(inside, code * self.width + (month - self.span.first), -1)

    def add(self, weighings: Weighings) -> None:
        """Count a part's weighings (whole children) in their cells, and in S."""
        cell = self.cells(weighings.group, weighings.sequence.month)
        inside = cell >= 0
        # B, O, N and T part D: one count of (cell, class)
        kind = np.select(
            [weighings.new, weighings.absent_before, weighings.gained], [0, 1, 2], default=3
        )
        parts = np.bincount(cell[inside] * 4 + kind[inside], minlength=self.size * 4)
        for position, name in enumerate(("b", "o", "n", "t")):
            self.counts[name] += parts[position::4]
        self.counts["d"] += parts.reshape(self.size, 4).sum(axis=1)
        for name, flags in (("t2", weighings.twice_not_gained), ("bgm", weighings.red_line)):
            self.counts[name] += np.bincount(cell[inside & flags], minlength=self.size)
        self._add_s(weighings)

    def _add_s(self, weighings: Weighings) -> None:
        """Each weighing stands for its child in S from its month until the child's next
        weighing, 11 months on, or the last month the child is under five on the 1st,
        whichever comes first."""
        sequence, span = weighings.sequence, self.span
        month = sequence.month
        end = np.minimum(month + (S_LOOKBACK_MONTHS - 1), weighings.last_month_under_five)
        later = np.flatnonzero(sequence.child[1:] == sequence.child[:-1])
        end[later] = np.minimum(end[later], month[later + 1] - 1)
        start = np.maximum(month, span.first)
        end = np.minimum(end, span.last)
        covers = start <= end
        code = np.where(weighings.group >= 0, weighings.group, self.groups - 1)[covers]
        row = code.astype(np.int64) * (self.width + 1) - span.first
        self.steps += np.bincount(row + start[covers], minlength=len(self.steps))
        self.steps -= np.bincount(row + end[covers] + 1, minlength=len(self.steps))

    def register_s(self) -> IntArray:
        """S from the register per cell: the steps summed along each group's months."""
        totals = np.cumsum(self.steps.reshape(self.groups, self.width + 1), axis=1)
        return totals[:, : self.width].ravel()


def _rows(
    cells: IntArray, width: int, span: MonthRange, labels: list[str], by: str
) -> pd.DataFrame:
    """The month and group columns of result cells, with the sort helpers `_month` and
    `_unknown` (unknown groups last)."""
    group, offset = np.divmod(cells, max(width, 1))
    month = offset + span.first
    codes = np.where(group < len(labels), group, -1)
    return pd.DataFrame(
        {
            "month": pd.Series([month_label(int(m)) for m in month], dtype="str"),
            by: label_column(codes, labels),
            "_month": month,
            "_unknown": codes < 0,
        }
    )


def percent(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator in percent; NaN where the denominator is 0."""
    top = numerator.to_numpy(dtype=np.float64)
    bottom = denominator.to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(bottom > 0, top / bottom * 100.0, np.nan), index=numerator.index)
