"""Each child's monthly weighing, classified as SKDN counts it: B, O, N, T, 2T, BGM.

A weighing is a valid weight (present, positive, its WAZ computable and not flagged by WHO, so
a weight typed in grams is none) of a child 0-1825 days old. Per child and calendar month the
month's last weighing counts (kbtool.visits), in the group of that weighing, and is:
- B (baru): the child's first weighing in the register;
- O: not new, but the child was not weighed in the calendar month before;
- N (naik): weighed the month before too, and the weight went up by the KBM for the child's
  age in completed months (floor(age in days / 30.4375)) or more; both weights are rounded to
  0.1 kg before the gain is taken, in grams;
- T (tidak naik): weighed the month before too, and gained less than the KBM;
- 2T: T this month and T the month before;
- BGM (bawah garis merah): WAZ, rounded to 2 decimals as WHO Anthro does, below -3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.columns import flag_column, float_column, require_columns
from kbtool.growth.constants import DAYS_PER_MONTH, MAX_AGE_DAYS, Z_DECIMALS
from kbtool.growth.rounding import r_round, rounds_below
from kbtool.skdn.kbm import BUKU_KIA, KbmTable
from kbtool.visits import Int32Array, MonthlySequence, monthly_sequence, months_of

# KMS: the red line (garis merah) is -3 SD weight-for-age (Permenkes 2/2020: BB sangat kurang)
RED_LINE_WAZ = -3.0
# the weights are compared in 100 g units, after rounding to 0.1 kg (1 decimal)
WEIGHT_DECIMALS = 1
GRAMS_PER_UNIT = 100

# what a weighing is read from, beside the child key
WEIGHING_COLUMNS = ("visit_date", "age_days", "weight_kg", "waz", "waz_flag")


@dataclass(frozen=True)
class Weighings:
    """The counted weighings of a monthly sequence (or a part of one) with their SKDN class,
    the group each counts in, and the last month each child is under 1826 days old on the
    1st."""

    sequence: MonthlySequence
    group: Int32Array  # -1: unknown
    new: BoolArray  # B
    absent_before: BoolArray  # O
    gained: BoolArray  # N (T: weighed the month before, not gained)
    twice_not_gained: BoolArray  # 2T
    red_line: BoolArray  # BGM
    last_month_under_five: Int32Array


def weighing_sequence(
    frame: pd.DataFrame, *, child_key: str = "child_key", child: IntArray | None = None
) -> MonthlySequence:
    """Each child's counted weighing per month: the month's last valid one (`child`: the rows'
    child_codes, when the caller has them)."""
    require_columns(frame, [child_key, *WEIGHING_COLUMNS], zscores_hint=True)
    return monthly_sequence(frame, valid_weighings(frame), child_key=child_key, child=child)


def valid_weighings(frame: pd.DataFrame) -> BoolArray:
    """Rows that are weighings: a positive weight whose WAZ is computable and not flagged, of
    a child 0-1825 days old."""
    valid = _weighed_under_five(frame) & ~np.isnan(float_column(frame, "waz"))
    return valid & ~flag_column(frame, "waz_flag")


def implausible_weights(frame: pd.DataFrame) -> BoolArray:
    """Rows with a weight of a child 0-1825 days old that WHO flags (WAZ < -6 or > +5): a
    weight typed in grams, say; no weighing, but one for the kader to correct."""
    return _weighed_under_five(frame) & flag_column(frame, "waz_flag")


def _weighed_under_five(frame: pd.DataFrame) -> BoolArray:
    """Rows with a positive weight of a child 0-1825 days old (WHO's age-based z-scores end
    at day 1826)."""
    with np.errstate(invalid="ignore"):
        weighed = float_column(frame, "weight_kg") > 0
    age = frame["age_days"].to_numpy(dtype=np.int32, na_value=-1)
    return np.asarray(weighed & (age >= 0) & (age < MAX_AGE_DAYS), dtype=np.bool_)


def classify_weighings(
    frame: pd.DataFrame, sequence: MonthlySequence, group: Int32Array, kbm: KbmTable = BUKU_KIA
) -> Weighings:
    """The weighings of `sequence` (from weighing_sequence; whole children) classified, each
    in its `group` (codes of the frame's rows); see the module docstring."""
    rows = sequence.rows
    age_days = np.asarray(frame["age_days"].array.take(rows), dtype=np.int32)
    age_months = np.floor(age_days / DAYS_PER_MONTH).astype(np.int32)
    new = ~sequence.same_child_before()
    month_before = sequence.previous_month_before()
    gained = month_before.copy()
    gained[1:] &= _gain_grams(float_column(frame, "weight_kg")[rows]) >= kbm.at(age_months[1:])
    not_gained = month_before & ~gained
    twice = np.zeros(len(rows), dtype=np.bool_)
    twice[1:] = not_gained[1:] & not_gained[:-1]
    return Weighings(
        sequence=sequence,
        group=group[rows],
        new=new,
        absent_before=~new & ~month_before,
        gained=gained,
        twice_not_gained=twice,
        red_line=rounds_below(float_column(frame, "waz")[rows], RED_LINE_WAZ, Z_DECIMALS),
        # the month of the child's 1826th day of life, less a day: the last whose 1st finds
        # the child under 1826 days old
        last_month_under_five=months_of(sequence.day - age_days + (MAX_AGE_DAYS - 1)),
    )


def _gain_grams(weight_kg: FloatArray) -> Int32Array:
    """The gain in grams from each weighing to the next (one fewer than weighings), both
    weights rounded to 0.1 kg first."""
    tenths = np.rint(r_round(weight_kg, WEIGHT_DECIMALS) * 10).astype(np.int32)
    return (tenths[1:] - tenths[:-1]) * GRAMS_PER_UNIT
