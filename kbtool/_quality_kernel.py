"""The compiled pass behind `kbtool.quality`'s longitudinal checks.

One loop over the dated rows in child, visit date, row order does what took a dozen numpy
passes (gathers into that order, a selection per check, shifted comparisons, distinct-children
counts), each of which allocated row-sized temporaries: on 10 million measurements ~2.5 s of
arithmetic and page faults become ~0.2 s. The rules are those written out in
`kbtool.quality._longitudinal`, whose docstring and comments say why each is what it is; every
count is an integer, so the results are exactly the numpy version's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kbtool._quality_layout import (
    CELL_COUNTS,
    COPIED,
    DIGITS,
    DUPLICATES,
    FOLLOWED,
    HAZ_FLAGGED,
    HEIGHT_DECREASES,
    HEIGHT_PAIRS,
    OEDEMA,
    PERIOD_COPIED,
    PERIOD_FOLLOWED,
    ROW_COUNTS,
    WAZ_FLAGGED,
    WEIGHT_IMPLAUSIBLE,
    WEIGHT_PAIRS,
)


@njit(cache=True, nogil=True, error_model="numpy")
def longitudinal_kernel(
    order: np.ndarray,
    child: np.ndarray,
    day: np.ndarray,
    row_cell: np.ndarray,
    cell_period: np.ndarray,
    flags: np.ndarray,
    lenhei: np.ndarray,
    height: np.ndarray,
    weight: np.ndarray,
    waz: np.ndarray,
    month_of_day: np.ndarray,
    first_day: int,
    n_periods: int,
    height_decrease_cm: float,
    repeated_span_months: int,
    velocity_max_gap_days: int,
    weight_kept_share: float,
    waz_gain_limit: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell counts (CELL_COUNTS columns) and per-period distinct children (2 columns).

    `order`: the dated rows in child, visit day, row order (visit_order_kernel); every other
    per-row array is in frame order; `month_of_day[d - first_day]` is the month of day d.
    """
    n_cells = cell_period.size
    cell = np.zeros((n_cells, CELL_COUNTS), dtype=np.int64)
    period = np.zeros((n_periods, 2), dtype=np.int64)
    # the child last counted per cell / period: distinct children (rows come grouped by child)
    seen_followed = np.full(n_cells, -1, dtype=np.int64)
    seen_copied = np.full(n_cells, -1, dtype=np.int64)
    seen_period_followed = np.full(n_periods, -1, dtype=np.int64)
    seen_period_copied = np.full(n_periods, -1, dtype=np.int64)
    # the previous row kept by each check (-1: none yet)
    h_child, h_day, h_value = -1, 0, 0.0  # length/height, HAZ not flagged
    r1_child, r1_value, r1_month = -1, 0.0, 0  # recorded height, last
    r2_child, r2_value, r2_month = -1, 0.0, 0  # recorded height, the one before
    w_child, w_day, w_value, w_waz = -1, 0, 0.0, 0.0  # weight, WAZ not flagged, no oedema
    last_child, last_day = -1, 0
    for i in range(order.size):
        row = order[i]
        c = child[row]
        d = day[row]
        k = row_cell[row]
        f = flags[row]
        if c == last_child and d == last_day:
            cell[k, DUPLICATES] += 1
        last_child, last_day = c, d

        value = lenhei[row]
        if not np.isnan(value) and (f & HAZ_FLAGGED) == 0:
            if h_child == c and d > h_day:
                cell[k, HEIGHT_PAIRS] += 1
                if value < h_value - height_decrease_cm:
                    cell[k, HEIGHT_DECREASES] += 1
            h_child, h_day, h_value = c, d, value

        value = height[row]
        if not np.isnan(value):
            month = month_of_day[d - first_day]
            if r2_child == c and r1_child == c:
                p = cell_period[k]
                if seen_followed[k] != c:
                    seen_followed[k] = c
                    cell[k, FOLLOWED] += 1
                if seen_period_followed[p] != c:
                    seen_period_followed[p] = c
                    period[p, PERIOD_FOLLOWED] += 1
                if (
                    value == r1_value
                    and r1_value == r2_value
                    and month - r2_month >= repeated_span_months
                ):
                    if seen_copied[k] != c:
                        seen_copied[k] = c
                        cell[k, COPIED] += 1
                    if seen_period_copied[p] != c:
                        seen_period_copied[p] = c
                        period[p, PERIOD_COPIED] += 1
            r2_child, r2_value, r2_month = r1_child, r1_value, r1_month
            r1_child, r1_value, r1_month = c, value, month

        value = weight[row]
        if not np.isnan(value) and (f & (WAZ_FLAGGED | OEDEMA)) == 0:
            z = waz[row]
            gap = d - w_day
            if w_child == c and gap > 0 and gap <= velocity_max_gap_days:
                cell[k, WEIGHT_PAIRS] += 1
                if value < weight_kept_share * w_value or z - w_waz > waz_gain_limit:
                    cell[k, WEIGHT_IMPLAUSIBLE] += 1
            w_child, w_day, w_value, w_waz = c, d, value, z
    return cell, period


@njit(cache=True, nogil=True, error_model="numpy")
def row_counts_kernel(
    codes: np.ndarray,
    n_codes: int,
    sex: np.ndarray,
    birth_known: np.ndarray,
    visit_known: np.ndarray,
    height: np.ndarray,
    weight: np.ndarray,
    measure: np.ndarray,
    position_flag: np.ndarray,
    age_days: np.ndarray,
    haz: np.ndarray,
    haz_flag: np.ndarray,
    waz: np.ndarray,
    waz_flag: np.ndarray,
    whz: np.ndarray,
    whz_flag: np.ndarray,
    max_age_days: float,
    measure_length: int,
    measure_height: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-code counts of the ROW_COUNTS conditions and of the tenths digit of height and weight.

    The conditions are those written out in `kbtool.quality._row_counts`. `measure` or
    `position_flag` empty: the column is absent (every measured height lacks a position; no
    position flags). Yes/no columns are uint8 (0 no, 1 yes).
    """
    counts = np.zeros((n_codes, len(ROW_COUNTS)), dtype=np.int64)
    digits_height = np.zeros((n_codes, DIGITS), dtype=np.int64)
    digits_weight = np.zeros((n_codes, DIGITS), dtype=np.int64)
    with_measure = measure.size > 0
    with_position_flag = position_flag.size > 0
    for i in range(codes.size):
        k = codes[i]
        row = counts[k]
        row[0] += 1
        if sex[i] != 1 and sex[i] != 2:
            row[1] += 1
        if not birth_known[i]:
            row[2] += 1
        if not visit_known[i]:
            row[3] += 1
        h = height[i]
        has_height = not np.isnan(h)
        if has_height:
            row[4] += 1
            if not with_measure or (measure[i] != measure_length and measure[i] != measure_height):
                row[7] += 1
            if with_position_flag and position_flag[i] != 0:
                row[8] += 1
            digits_height[k, _tenths_digit(h)] += 1
        else:
            row[5] += 1
        w = weight[i]
        if np.isnan(w):
            row[6] += 1
        else:
            digits_weight[k, _tenths_digit(w)] += 1
        age = age_days[i]
        if not np.isnan(age):
            row[9] += 1
            if age < 0 or age > max_age_days:
                row[10] += 1
        if not np.isnan(haz[i]):
            row[11] += 1
            if haz_flag[i] != 0:
                row[12] += 1
        if not np.isnan(waz[i]):
            row[13] += 1
            if waz_flag[i] != 0:
                row[14] += 1
        if not np.isnan(whz[i]):
            row[15] += 1
            if whz_flag[i] != 0:
                row[16] += 1
    return counts, digits_height, digits_weight


@njit(inline="always", error_model="numpy")
def _tenths_digit(value: float) -> int:
    """The tenths digit as written: floor(10 x |value| + 1e-6) mod 10 (the slack for binary
    floats: 10.7 - 0.4 is 10.299999999999999), absurd values capped within int range."""
    tenths = np.abs(value) * 10.0
    tenths += 1e-6
    if tenths > 1e9:
        tenths = 1e9
    return int(tenths) % DIGITS


# a child's rows are put in day order by insertion up to this many rows, by a merge sort above
_INSERTION_ROWS = 64


@njit(cache=True, nogil=True, error_model="numpy")
def visit_order_kernel(
    child: np.ndarray, day: np.ndarray, known: np.ndarray, n_children: int
) -> np.ndarray:
    """The rows with `known` visit dates in child, visit day, row order.

    A counting sort on the dense child codes (rows stay in row order within a child), then each
    child's few rows by day, stably: O(rows) instead of a sort of every row.
    """
    start = np.zeros(n_children + 1, dtype=np.int64)
    for i in range(child.size):
        if known[i]:
            start[child[i] + 1] += 1
    for c in range(n_children):
        start[c + 1] += start[c]
    order = np.empty(start[n_children], dtype=np.int64)
    fill = start[:n_children].copy()
    for i in range(child.size):
        if known[i]:
            c = child[i]
            order[fill[c]] = i
            fill[c] += 1
    for c in range(n_children):
        lo, hi = start[c], start[c + 1]
        if hi - lo > _INSERTION_ROWS:
            rows = order[lo:hi].copy()
            order[lo:hi] = rows[np.argsort(day[rows], kind="mergesort")]
            continue
        for j in range(lo + 1, hi):
            r = order[j]
            d = day[r]
            k = j - 1
            while k >= lo and day[order[k]] > d:
                order[k + 1] = order[k]
                k -= 1
            order[k + 1] = r
    return order
