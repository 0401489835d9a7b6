"""WHO Child Growth Standards (2006) z-scores and Permenkes 2/2020 categories.

`compute_zscores(frame)` works on a table in kbtool's canonical columns; `compute_zscore_arrays`
on plain numpy or Arrow arrays.
"""

from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH, MEASURE_UNKNOWN
from kbtool.growth.categories import classify
from kbtool.growth.frame import INDICATORS, ZSCORE_COLUMNS, compute_zscores, zscores_for_frame
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import ZScoreArrays, compute_zscore_arrays

__all__ = [
    "INDICATORS",
    "MEASURE_HEIGHT",
    "MEASURE_LENGTH",
    "MEASURE_UNKNOWN",
    "ZSCORE_COLUMNS",
    "ZScoreArrays",
    "classify",
    "compute_zscore_arrays",
    "compute_zscores",
    "r_round",
    "zscores_for_frame",
]
