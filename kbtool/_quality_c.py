"""kbtool.quality's three compiled passes from the C extension kbtool._cquality, with the numba
kernels' signatures and results (kbtool/_quality_kernel.py): quality.py uses whichever module
kbtool.compiled chooses (the column layout of the results: kbtool._quality_layout). The C
functions fill arrays allocated here."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import kbtool._cquality as _c
from kbtool._quality_layout import CELL_COUNTS, DIGITS, ROW_COUNTS

Int64Array = npt.NDArray[np.int64]


def longitudinal_kernel(
    order: npt.NDArray[np.int64],
    child: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    row_cell: npt.NDArray[np.int64],
    cell_period: npt.NDArray[np.int64],
    flags: npt.NDArray[np.uint8],
    lenhei: npt.NDArray[np.float64],
    height: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    waz: npt.NDArray[np.float64],
    month_of_day: npt.NDArray[np.int64],
    first_day: int,
    n_periods: int,
    height_decrease_cm: float,
    repeated_span_months: int,
    velocity_max_gap_days: int,
    weight_kept_share: float,
    waz_gain_limit: float,
) -> tuple[Int64Array, Int64Array]:
    """As _quality_kernel.longitudinal_kernel: per-cell counts and per-period children."""
    cell = np.zeros((cell_period.size, CELL_COUNTS), dtype=np.int64)
    period = np.zeros((n_periods, 2), dtype=np.int64)
    _c.longitudinal(
        order,
        child,
        day,
        row_cell,
        cell_period,
        flags,
        lenhei,
        height,
        weight,
        waz,
        month_of_day,
        cell,
        period,
        first_day,
        n_periods,
        height_decrease_cm,
        repeated_span_months,
        velocity_max_gap_days,
        weight_kept_share,
        waz_gain_limit,
    )
    return cell, period


def row_counts_kernel(
    codes: npt.NDArray[np.int64],
    n_codes: int,
    sex: npt.NDArray[np.int8],
    birth_known: npt.NDArray[np.bool_],
    visit_known: npt.NDArray[np.bool_],
    height: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    measure: npt.NDArray[np.int8],
    position_flag: npt.NDArray[np.uint8],
    age_days: npt.NDArray[np.float64],
    haz: npt.NDArray[np.float64],
    haz_flag: npt.NDArray[np.uint8],
    waz: npt.NDArray[np.float64],
    waz_flag: npt.NDArray[np.uint8],
    whz: npt.NDArray[np.float64],
    whz_flag: npt.NDArray[np.uint8],
    max_age_days: float,
    measure_length: int,
    measure_height: int,
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """As _quality_kernel.row_counts_kernel: per-code counts and tenths digits."""
    counts = np.zeros((n_codes, len(ROW_COUNTS)), dtype=np.int64)
    digits_height = np.zeros((n_codes, DIGITS), dtype=np.int64)
    digits_weight = np.zeros((n_codes, DIGITS), dtype=np.int64)
    _c.row_counts(
        codes,
        sex,
        birth_known,
        visit_known,
        height,
        weight,
        measure,
        position_flag,
        age_days,
        haz,
        haz_flag,
        waz,
        waz_flag,
        whz,
        whz_flag,
        counts,
        digits_height,
        digits_weight,
        max_age_days,
        measure_length,
        measure_height,
    )
    return counts, digits_height, digits_weight


def visit_order_kernel(
    child: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    known: npt.NDArray[np.bool_],
    n_children: int,
) -> Int64Array:
    """As _quality_kernel.visit_order_kernel: the known rows in child, day, row order."""
    order = np.empty(int(np.count_nonzero(known)), dtype=np.int64)
    _c.visit_order(child, day, known, order, n_children)
    return order
