"""Z-scores for a table of measurements in kbtool's canonical columns."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kbtool.columns import MEASURE_UNKNOWN, READ_ZSCORES
from kbtool.growth.categories import classify
from kbtool.growth.constants import Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import ZScoreArrays, compute_zscore_arrays

# The computed columns, in the order kbtool writes them (issue 2, section 3).
ZSCORE_COLUMNS = (
    *READ_ZSCORES,  # those the analyses read, first
    "bmi",
    "bmiz",
    "bmiz_flag",
    "position_flag",
    "haz_status",
    "waz_status",
    "whz_status",
    "bmiz_status",
)
INDICATORS = ("haz", "waz", "whz", "bmiz")


def age_in_days(birth_date: pd.Series, visit_date: pd.Series) -> npt.NDArray[np.float64]:
    """Exact age in days (visit date - birth date) as floats, NaN where either date is missing."""
    delta = pd.to_datetime(visit_date) - pd.to_datetime(birth_date)
    days = (delta / pd.Timedelta(days=1)).to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(days, dtype=np.float64)


def _column(frame: pd.DataFrame, name: str, default: float | int | bool) -> npt.NDArray:
    if name not in frame:
        return np.full(len(frame), default)
    series = frame[name]
    if isinstance(default, bool):
        return series.fillna(False).to_numpy(dtype=bool)
    if isinstance(default, int):
        return series.fillna(default).to_numpy(dtype=np.int8)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def zscores_for_frame(frame: pd.DataFrame, *, full_precision: bool = False) -> ZScoreArrays:
    """compute_zscore_arrays on a canonical frame (sex, birth_date, visit_date, age_months, ...)."""
    if "birth_date" in frame and "visit_date" in frame:
        days = age_in_days(frame["birth_date"], frame["visit_date"])
    else:
        days = np.full(len(frame), np.nan)
    return compute_zscore_arrays(
        sex=_column(frame, "sex", 0),
        age_days=days,
        weight_kg=_column(frame, "weight_kg", np.nan),
        lenhei_cm=_column(frame, "height_cm", np.nan),
        measure=_column(frame, "measure", MEASURE_UNKNOWN),
        oedema=_column(frame, "oedema", False),
        age_months=_column(frame, "age_months", np.nan),
        full_precision=full_precision,
    )


def _nullable_int(
    values: npt.NDArray, missing: npt.NDArray[np.bool_], dtype: npt.DTypeLike
) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(dtype), missing.copy())


def compute_zscores(
    frame: pd.DataFrame | pa.Table, *, full_precision: bool = False, lang: str = "en"
) -> pd.DataFrame:
    """ZSCORE_COLUMNS for every row of a canonical measurement DataFrame or Arrow Table, on the
    frame's index (kbtool.growth.zscores says which WHO rules apply): flags 0/1 (empty with
    their z); statuses always classify z rounded to 2 decimals, as WHO Anthro."""
    if isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    result = zscores_for_frame(frame, full_precision=full_precision)
    age = result.age_days
    columns: dict[str, object] = {
        "age_days": _nullable_int(np.nan_to_num(age), np.isnan(age), np.int32),
        "lenhei_cm": result.lenhei_cm if full_precision else r_round(result.lenhei_cm, Z_DECIMALS),
    }
    statuses = {}
    for indicator in INDICATORS:
        z, flag = getattr(result, indicator), getattr(result, f"{indicator}_flag")
        if indicator == "bmiz":
            columns["bmi"] = result.bmi if full_precision else r_round(result.bmi, Z_DECIMALS)
        columns[indicator] = z
        columns[f"{indicator}_flag"] = _nullable_int(flag, np.isnan(z), np.int8)
        rounded = r_round(z, Z_DECIMALS) if full_precision else z
        statuses[f"{indicator}_status"] = classify(rounded, indicator, flagged=flag, lang=lang)
    columns["position_flag"] = _nullable_int(
        result.position_flag, np.zeros(len(age), dtype=bool), np.int8
    )
    return pd.DataFrame({**columns, **statuses}, index=frame.index)
