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

# columns of the per-cell counts
DUPLICATES, HEIGHT_PAIRS, HEIGHT_DECREASES, FOLLOWED, COPIED, WEIGHT_PAIRS = 0, 1, 2, 3, 4, 5
WEIGHT_IMPLAUSIBLE = 6
CELL_COUNTS = 7
# columns of the per-period counts
PERIOD_FOLLOWED, PERIOD_COPIED = 0, 1

# bits of the per-row flags
HAZ_FLAGGED, WAZ_FLAGGED, OEDEMA = 1, 2, 4


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

    Row i of the ordered rows is frame row order[i] (order empty: frame row i), of child
    child[i] visited on day[i]. `row_cell`, `flags` and the measurement columns are in frame
    order; `month_of_day[d - first_day]` is the month of day d.
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
    use_order = order.size > 0
    for i in range(child.size):
        row = order[i] if use_order else i
        c = child[i]
        d = day[i]
        k = row_cell[row]
        f = flags[row]
        if i > 0 and c == child[i - 1] and d == day[i - 1]:
            cell[k, DUPLICATES] += 1

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
