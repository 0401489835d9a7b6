"""Child-year observations, each child once per year as `kbtool prevalence` counts it, and
their sums per unit and year: all the estimators need, as their regressors are constant within
a unit and year (kbtool.compare.twfe)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kbtool.arrays import FloatArray
from kbtool.growth.constants import Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.prevalence import Indicator, counted_oedema
from kbtool.prevalence.selection import Visits, valid_z

# an indicator's outcome in percentage points: a case is 100, a child without the condition 0
PERCENT = 100.0


def child_years(
    frame: pd.DataFrame, visits: Visits, unit: str, indicator: Indicator
) -> pd.DataFrame:
    """One row per child and visit year with a unit and a valid z-score: unit, year, case (0 or
    100) and z (rounded to 2 decimals as WHO Anthro classifies; NaN for a case by oedema).
    `visits`: the frame's, prepared by year."""
    valid = valid_z(frame, indicator.z, f"{indicator.z}_flag")
    oedema = counted_oedema(frame) if indicator.weight_based else np.zeros(len(frame), dtype=bool)
    picked = visits.pick(valid | oedema)
    rows = picked.rows[picked.counted]
    years = np.asarray(picked.period_labels, dtype=np.int64)
    z = r_round(frame[indicator.z].to_numpy(dtype=np.float64, na_value=np.nan)[rows], Z_DECIMALS)
    ill = oedema[rows]
    z[ill] = np.nan
    units = pd.Series(frame[unit].array.take(rows), dtype="str").str.strip()
    result = pd.DataFrame(
        {
            "unit": units,
            "year": years[picked.period_code[picked.counted]],
            "case": indicator.cases(z, ill, indicator.cut) * PERCENT,
            "z": z,
        }
    )
    return result[units.fillna("").ne("").to_numpy()].reset_index(drop=True)


@dataclass(frozen=True)
class Panel:
    """One outcome summed per unit (rows) and year (columns): `n` observations with a value,
    `total` the sum of their values."""

    units: list[str]
    years: list[int]
    n: FloatArray
    total: FloatArray

    def mean(self) -> FloatArray:
        """The mean per unit and year (0 where no child was counted)."""
        return np.where(self.n > 0, self.total / np.where(self.n > 0, self.n, 1), 0.0)


def panel(observations: pd.DataFrame, column: str, units: list[str], years: list[int]) -> Panel:
    """The sums of `column` per unit and year of child-year `observations` (NaN: not counted)."""
    values = observations[column].to_numpy(dtype=np.float64)
    known = ~np.isnan(values)
    row = pd.Index(units).get_indexer(observations["unit"].to_numpy(dtype=object)[known])
    col = pd.Index(years).get_indexer(observations["year"].to_numpy(dtype=np.int64)[known])
    cell = row * len(years) + col
    size = len(units) * len(years)
    n = np.bincount(cell, minlength=size).astype(np.float64)
    total = np.asarray(np.bincount(cell, weights=values[known], minlength=size), np.float64)
    shape = (len(units), len(years))
    return Panel(list(units), list(years), n.reshape(shape), total.reshape(shape))
