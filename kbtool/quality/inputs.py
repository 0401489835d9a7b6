"""The measurement columns the quality report reads, as numpy arrays, read once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.columns import NAT_DAYS, child_codes, date_days, value_codes
from kbtool.errors import InputError
from kbtool.prevalence import selection
from kbtool.prevalence.selection import Visits, prepare_visits

MEASUREMENT_COLUMNS = ("visit_date", "sex", "weight_kg", "height_cm")
ZSCORE_COLUMNS = ("age_days", "lenhei_cm", "haz", "haz_flag", "waz", "waz_flag", "whz", "whz_flag")


def require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise InputError naming the `columns` the frame lacks, and how to add z-scores."""
    no_zscores = any(c in ZSCORE_COLUMNS and c not in frame.columns for c in columns)
    hint = "; compute z-scores first: kbtool.growth.compute_zscores(frame, full_precision=True)"
    selection.require_columns(frame, columns, hint if no_zscores else "")


def float_column(frame: pd.DataFrame, name: str) -> FloatArray:
    """A numeric column as float64, NaN where missing (no copy when it is float64 already)."""
    return np.asarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def flag_column(frame: pd.DataFrame, name: str) -> BoolArray:
    """A yes/no column as booleans; missing counts as no."""
    series = frame[name]
    if series.dtype == np.bool_:
        return np.asarray(series.to_numpy(), dtype=np.bool_)
    return np.asarray(series.to_numpy(dtype=np.bool_, na_value=False), dtype=np.bool_)


def code_column(frame: pd.DataFrame, name: str) -> npt.NDArray[np.int8]:
    """sex or measure as int8 codes, 0 where missing."""
    try:
        return np.asarray(frame[name].to_numpy(dtype=np.int8, na_value=0), dtype=np.int8)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"column {name!r} must hold codes (sex 1/2, measure 1 length / 2 height, 0 unknown), "
            f"not {frame[name].dtype}: read files through kbtool's reader"
        ) from err


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
