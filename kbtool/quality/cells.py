"""What each row is: its child, group and dates read once (Columns), and its (period, group)
cell, numbered (Cells)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.columns import NAT_DAYS, child_codes, date_days, dense_codes, value_codes
from kbtool.prevalence.selection import Visits, prepare_visits

GROUP_COLUMNS = ("posyandu", "kelurahan", "kecamatan")
PERIODS = ("year", "month")
MEASUREMENT_COLUMNS = ("visit_date", "sex", "weight_kg", "height_cm")


@dataclass(frozen=True)
class Columns:
    """The columns every step needs, as numpy arrays (read once)."""

    n: int
    child: IntArray  # dense codes, one per child
    group: IntArray  # -1 = unknown
    group_labels: list[str]
    visit_day: IntArray  # NAT_DAYS where unknown
    visit_known: BoolArray
    birth_day: IntArray  # NAT_DAYS where unknown
    birth_known: BoolArray

    @classmethod
    def read(cls, frame: pd.DataFrame, *, child_key: str, by: str) -> Columns:
        group, uniques = value_codes(frame[by])
        visit_day = date_days(frame, "visit_date")
        if "birth_date" in frame.columns:
            birth_day = date_days(frame, "birth_date")
        else:
            birth_day = np.full(len(frame), NAT_DAYS, dtype=np.int64)
        return cls(
            n=len(frame),
            child=child_codes(frame[child_key]),
            group=group,
            group_labels=[str(u) for u in uniques],
            visit_day=visit_day,
            visit_known=visit_day != NAT_DAYS,
            birth_day=birth_day,
            birth_known=birth_day != NAT_DAYS,
        )

    def visits(self, frame: pd.DataFrame, period: str | None) -> Visits:
        """The dated rows as prevalence numbers them, by `period` (None: by year)."""
        dates = frame["visit_date"]
        selector = pd.DataFrame({"_child": self.child, "visit_date": dates}, copy=False)
        return prepare_visits(selector, period=period or "year", months=None, child_key="_child")


@dataclass(frozen=True)
class Cells:
    """Each row's period and (period, group) cell, and what each cell and period is."""

    row_cell: IntArray
    row_period: IntArray
    n_cells: int
    cell_period: IntArray
    cell_group: IntArray  # index into group_labels; len(group_labels) = unknown
    n_periods: int
    period_labels: list[Any]  # int years or "2023-02" months; None: unknown period / no period
    group_labels: list[str]


def number_cells(data: Columns, visits: Visits, period: str | None) -> Cells:
    """Number the (period, group) cells present, in period then group order."""
    labels: list[Any] = [None]  # None: the period of rows without a visit date, or no period
    row_period = np.zeros(data.n, dtype=np.int64)
    if period is not None and visits.period_labels:
        labels = [*visits.period_labels]
        if visits.rows is None:
            row_period = visits.period_code
        else:
            row_period[:] = len(labels)
            row_period[visits.rows] = visits.period_code
            labels.append(None)
    width = len(data.group_labels) + 1
    raw = row_period * width + np.where(data.group < 0, width - 1, data.group)
    row_cell, present_cells = dense_codes(raw, len(labels) * width)
    return Cells(
        row_cell=row_cell,
        row_period=row_period,
        n_cells=int(present_cells.size),
        cell_period=(present_cells // width).astype(np.int64),
        cell_group=(present_cells % width).astype(np.int64),
        n_periods=len(labels),
        period_labels=labels,
        group_labels=data.group_labels,
    )


def to_periods(values: npt.NDArray[Any], cells: Cells) -> FloatArray:
    """Per-cell counts (1-D, or 2-D with one row per cell) summed into per-period counts."""
    out = np.zeros((cells.n_periods, *values.shape[1:]))
    np.add.at(out, cells.cell_period, values)
    return out
