"""The measurement columns the quality report reads, as numpy arrays, read once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kbtool.arrays import BoolArray, IntArray
from kbtool.columns import NAT_DAYS, child_codes, date_days, value_codes
from kbtool.prevalence.selection import Visits, prepare_visits

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
