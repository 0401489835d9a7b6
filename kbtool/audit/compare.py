"""The register's values beside WHO's, row by row: which agree, which disagree. Both z-scores
are compared at 2 decimals, with no further tolerance; the same test tells whether a known
mistake reproduces a recorded value (kbtool.audit.causes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray
from kbtool.audit.columns import status_column, z_column
from kbtool.audit.values import (
    FLAGGED,
    CodeArray,
    RecordedStatus,
    RecordedZ,
    parse_status,
    parse_z,
)
from kbtool.growth.categories import SCHEMES, category_codes
from kbtool.growth.constants import FLAG_LIMITS, Z_DECIMALS
from kbtool.growth.rounding import r_round


@dataclass(frozen=True)
class Scores:
    """One indicator's z-scores rounded to 2 decimals (NaN: none), their WHO flags and their
    Permenkes categories (-1: none), for some rows."""

    z: FloatArray
    flag: BoolArray
    code: CodeArray

    def take(self, rows: npt.NDArray[np.intp]) -> Scores:
        return Scores(self.z[rows], self.flag[rows], self.code[rows])


def scores_of(rounded_z: FloatArray, indicator: str) -> Scores:
    """Flags and categories of z-scores already rounded to 2 decimals."""
    low, high = FLAG_LIMITS[indicator]
    with np.errstate(invalid="ignore"):
        flag = (rounded_z < low) | (rounded_z > high)
    return Scores(rounded_z, flag, category_codes(rounded_z, SCHEMES[indicator]))


@dataclass(frozen=True)
class Recorded:
    """One indicator's recorded z-scores and statuses, for some rows."""

    z: FloatArray  # rounded to 2 decimals; NaN where none or unreadable
    code: CodeArray  # category, FLAGGED, MISSING or UNRECOGNISED

    def take(self, rows: npt.NDArray[np.intp]) -> Recorded:
        return Recorded(self.z[rows], self.code[rows])


def reproduces(recorded: Recorded, scores: Scores) -> BoolArray:
    """Where `scores` give every value the register recorded: its z-score (where it recorded
    one) and its status (where it recorded a recognised one)."""
    z_ok = np.isnan(recorded.z) | (recorded.z == scores.z)
    return z_ok & (status_agrees(recorded, scores) | (recorded.code < 0))


def status_agrees(recorded: Recorded, scores: Scores) -> BoolArray:
    """Recognised recorded statuses that name the category of `scores` (or its flag)."""
    same = recorded.code == scores.code
    flagged = (recorded.code == FLAGGED) & scores.flag
    return (recorded.code >= 0) & (scores.code >= 0) & (same | flagged)


@dataclass(frozen=True)
class Comparison:
    """One indicator, every row: what the register recorded beside what WHO gives."""

    indicator: str
    recorded: Recorded
    who: Scores
    who_unrounded: FloatArray  # WHO's z-score before rounding (for the truncation cause)
    z_parsed: RecordedZ
    status_parsed: RecordedStatus

    @property
    def z_compared(self) -> BoolArray:
        return ~np.isnan(self.recorded.z) & ~np.isnan(self.who.z)

    @property
    def z_agrees(self) -> BoolArray:
        return self.z_compared & (self.recorded.z == self.who.z)

    @property
    def status_compared(self) -> BoolArray:
        return (self.recorded.code >= 0) & (self.who.code >= 0)

    @property
    def status_agrees(self) -> BoolArray:
        return status_agrees(self.recorded, self.who)

    @property
    def has_recorded(self) -> BoolArray:
        """Rows with a recorded z-score or a recognised recorded status."""
        return ~np.isnan(self.recorded.z) | (self.recorded.code >= 0)

    @property
    def disagrees(self) -> BoolArray:
        """Rows WHO scores whose recorded values WHO's do not reproduce."""
        compared = self.has_recorded & ~np.isnan(self.who.z)
        return compared & ~reproduces(self.recorded, self.who)


def compare_indicator(frame: pd.DataFrame, indicator: str) -> Comparison:
    """The register's recorded values of `indicator` beside WHO's, for every row of `frame`:
    WHO's unrounded z-score (e.g. `haz`) and the recorded columns as text (either may be
    absent)."""
    empty = pd.Series(index=frame.index, dtype="string")  # a column the register lacks
    z_parsed = parse_z(frame.get(z_column(indicator), empty))
    status_parsed = parse_status(frame.get(status_column(indicator), empty), indicator)
    unrounded = frame[indicator].to_numpy(np.float64, na_value=np.nan)
    return Comparison(
        indicator=indicator,
        recorded=Recorded(z_parsed.z, status_parsed.code),
        who=scores_of(r_round(unrounded, Z_DECIMALS), indicator),
        who_unrounded=unrounded,
        z_parsed=z_parsed,
        status_parsed=status_parsed,
    )
