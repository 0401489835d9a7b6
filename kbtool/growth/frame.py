"""Z-scores for a table of measurements in kbtool's canonical columns."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kbtool.arrays import FloatArray
from kbtool.columns import READ_ZSCORES
from kbtool.errors import InputError
from kbtool.growth.categories import classify
from kbtool.growth.constants import Z_DECIMALS
from kbtool.growth.inputs import dates, flags, measure_codes, numbers
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
    delta = dates(visit_date, "visit_date") - dates(birth_date, "birth_date")
    days = (delta / pd.Timedelta(days=1)).to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(days, dtype=np.float64)


def zscores_for_frame(frame: pd.DataFrame, *, full_precision: bool = False) -> ZScoreArrays:
    """compute_zscore_arrays on a canonical frame (sex, birth_date, visit_date, age_months, ...);
    InputError when a column the z-scores need is missing or holds what it should not."""
    _check_columns(frame)
    labels = frame.index
    if "birth_date" in frame and "visit_date" in frame:
        days = age_in_days(frame["birth_date"], frame["visit_date"])
    else:
        days = np.full(len(frame), np.nan)

    def column(name: str) -> FloatArray | None:
        return numbers(frame[name], name, labels=labels) if name in frame else None

    return compute_zscore_arrays(
        sex=numbers(frame["sex"], "sex", kind="sex", labels=labels),
        age_days=days,
        weight_kg=column("weight_kg"),
        lenhei_cm=column("height_cm"),
        measure=measure_codes(frame.get("measure"), "measure", len(frame), labels=labels),
        oedema=flags(frame.get("oedema"), "oedema", len(frame), labels=labels),
        age_months=column("age_months"),
        full_precision=full_precision,
    )


# the columns the z-scores read: sex, an age (both dates, or age_months), a measurement
CANONICAL = (
    "sex (1 male, 2 female), birth_date and visit_date (or age_months), weight_kg, height_cm, "
    "measure (kbtool.growth.MEASURE_*) and oedema (True/False)"
)


def _check_columns(frame: pd.DataFrame) -> None:
    """InputError for a frame without sex, without any age or without any measurement (every
    z-score would be missing): the columns seen and the canonical names to rename them to."""
    missing = [] if "sex" in frame else ["sex"]
    dates = [name for name in ("birth_date", "visit_date") if name in frame]
    if len(dates) < 2 and "age_months" not in frame:
        missing.append(
            f"{'visit_date' if dates == ['birth_date'] else 'birth_date'} (or age_months)"
            if dates
            else "birth_date and visit_date (or age_months)"
        )
    if "weight_kg" not in frame and "height_cm" not in frame:
        missing.append("weight_kg or height_cm")
    if missing:
        seen = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(
            f"compute_zscores: no column {'; no '.join(missing)} (columns: {seen}); the "
            f"canonical columns are {CANONICAL}: rename yours to them"
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
