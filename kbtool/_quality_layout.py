"""The layout shared by kbtool.quality's compiled passes: the numba kernels
(kbtool/_quality_kernel.py) and their C build (kbtool/_cquality.c, whose enums repeat these
numbers), without importing either."""

from __future__ import annotations

# columns of the per-cell counts
DUPLICATES, HEIGHT_PAIRS, HEIGHT_DECREASES, FOLLOWED, COPIED, WEIGHT_PAIRS = 0, 1, 2, 3, 4, 5
WEIGHT_IMPLAUSIBLE = 6
CELL_COUNTS = 7
# columns of the per-period counts
PERIOD_FOLLOWED, PERIOD_COPIED = 0, 1

# bits of the per-row flags
HAZ_FLAGGED, WAZ_FLAGGED, OEDEMA = 1, 2, 4

# columns of the per-cell row counts (row_counts_kernel)
ROW_COUNTS = (
    "n_rows",
    "missing_sex",
    "missing_birth_date",
    "missing_visit_date",
    "with_height",
    "missing_height",
    "missing_weight",
    "missing_position",
    "position_flagged",
    "with_age",
    "age_out_of_range",
    "with_haz",
    "flagged_haz",
    "with_waz",
    "flagged_waz",
    "with_whz",
    "flagged_whz",
)
DIGITS = 10
