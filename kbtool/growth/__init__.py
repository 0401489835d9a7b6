"""WHO Child Growth Standards (2006) z-scores and Permenkes 2/2020 categories.

`compute_zscores(frame)` works on a table in kbtool's canonical columns; `compute_zscore_arrays`
is the vectorised kernel over plain arrays.

The names load on first use: the reader needs only kbtool.growth.zscores' position codes and
constants, and so starts reading a file without pandas, which the frame functions need (the
zscore command overlaps the two).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH, MEASURE_UNKNOWN
    from kbtool.growth.categories import classify
    from kbtool.growth.frame import INDICATORS, ZSCORE_COLUMNS, compute_zscores, zscores_for_frame
    from kbtool.growth.rounding import r_round
    from kbtool.growth.zscores import (
        ZScoreArrays,
        compute_zscore_arrays,
    )

_HOMES = {
    "classify": "categories",
    "INDICATORS": "frame",
    "ZSCORE_COLUMNS": "frame",
    "compute_zscores": "frame",
    "zscores_for_frame": "frame",
    "r_round": "rounding",
    "MEASURE_HEIGHT": "columns",
    "MEASURE_LENGTH": "columns",
    "MEASURE_UNKNOWN": "columns",
    "ZScoreArrays": "zscores",
    "compute_zscore_arrays": "zscores",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    package = "kbtool" if home == "columns" else "kbtool.growth"
    return getattr(importlib.import_module(f"{package}.{home}"), name)


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
