"""What a caller hands compute_zscores or compute_zscore_arrays, as the arrays the maths takes,
or an InputError that says which column holds what and how to give it instead.

The canonical columns (kbtool.reading's dtypes) pass straight through; any other column is
converted as a whole (pandas' casts, no loop per row), and a value that is not what the column
means is refused: text such as sex "P" or height "71,5" is the reader's to interpret
(kbtool.measurements.measurements_from_files reads registers as the CLI does), never guessed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray
from kbtool.columns import MEASURE_UNKNOWN
from kbtool.errors import InputError

SHOWN = 3  # wrong values named in a message

# what a value of each kind should be, and how to give it ({col}: the column's name)
KINDS = {
    "number": ("a number", "numbers, e.g. pd.to_numeric(frame[{col}].str.replace(',', '.'))"),
    "sex": (
        "a sex code",
        "1 (male), 2 (female) or missing, e.g. frame[{col}].map({'L': 1, 'P': 2})",
    ),
    "measure": (
        "a measure code",
        "kbtool.growth.MEASURE_LENGTH (1, lying down), MEASURE_HEIGHT (2, standing) or missing, "
        "e.g. frame[{col}].map({'l': 1, 'h': 2})",
    ),
    "oedema": ("True or False", "True, False or missing, e.g. frame[{col}].eq('y')"),
    "date": (
        "a date",
        "datetime64 values, date objects or ISO text (2024-01-15), e.g. "
        "pd.to_datetime(frame[{col}], dayfirst=True) for 15/01/2024",
    ),
}
# a register's text (sex "P", "71,5", "15/01/2024") is the reader's to interpret
READ_REGISTERS = "(kbtool.measurements.measurements_from_files reads a register as the CLI does)"
# the row labels a message names (a frame's index; None: positions)
Labels = pd.Index | None


def one_per_row(values: npt.ArrayLike, name: str, rows: int | None) -> npt.NDArray:
    """`values` as a 1-D array of `rows` entries (None: any number)."""
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        array = _series_values(pd.Series(values, copy=False))
    else:
        try:
            array = np.asarray(values)  # numpy, pyarrow and list alike
        except (TypeError, ValueError) as err:
            raise InputError(f"{name}: cannot be read as an array of values: {err}") from err
    if array.ndim != 1:
        what = "a single value" if array.ndim == 0 else f"a {array.ndim}-dimensional array"
        raise InputError(f"{name}: give one value per row (a column or 1-D array), not {what}")
    if rows is not None and len(array) != rows:
        raise InputError(
            f"{name} has {_values(len(array))} where sex has {_values(rows)}: give every "
            "column one value per row, in the same order"
        )
    return array


def _values(count: int) -> str:
    return f"{count:,} value{'' if count == 1 else 's'}"


def _series_values(series: pd.Series) -> npt.NDArray:
    """A Series' values as numpy: numbers as float64 (NaN missing), booleans as bool (missing
    False), anything else as it is (object)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return np.asarray(series)
    if pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=bool, na_value=False)
    if pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(series)


def numbers(
    values: npt.ArrayLike,
    name: str,
    rows: int | None = None,
    *,
    kind: str = "number",
    labels: Labels = None,
) -> FloatArray:
    """Float64 values, NaN where missing; InputError naming values that are not numbers."""
    array = one_per_row(values, name, rows)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind in "mM":
        raise InputError(f"{name}: holds dates or durations; give {_how(kind, name)}")
    given = pd.Series(array, dtype=object, copy=False)
    try:
        converted = pd.to_numeric(given, errors="coerce")
    except (TypeError, ValueError) as err:  # a cell of lists, dicts, ...
        raise InputError(f"{name}: cannot read its values as numbers: {err}") from err
    result = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    _refuse(_wrong(np.isnan(result), given), given, name, kind, labels)
    return result


def measure_codes(
    values: npt.ArrayLike | None, name: str, rows: int, *, labels: Labels = None
) -> npt.NDArray[np.int8]:
    """MEASURE_* codes, MEASURE_UNKNOWN where missing."""
    if values is None:
        return np.full(rows, MEASURE_UNKNOWN, dtype=np.int8)
    codes = numbers(values, name, rows, kind="measure", labels=labels)
    return np.where(np.isnan(codes), MEASURE_UNKNOWN, codes).astype(np.int8)


def flags(
    values: npt.ArrayLike | None,
    name: str,
    rows: int,
    *,
    labels: Labels = None,
) -> BoolArray:
    """True/False per row, False where missing (numbers: non-zero is True); InputError for text."""
    if values is None:
        return np.zeros(rows, dtype=bool)
    array = one_per_row(values, name, rows)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind in "iuf":
        return np.nan_to_num(array.astype(np.float64), nan=0.0) != 0
    given = pd.Series(array, dtype=object, copy=False)
    _refuse(_wrong(~given.isin([True, False]).to_numpy(), given), given, name, "oedema", labels)
    return given.isin([True]).to_numpy(dtype=bool)


def dates(values: pd.Series, name: str) -> pd.Series[pd.Timestamp]:
    """Timezone-naive datetime64 values (a timezone's own wall time), NaT where missing."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(dtype):
        return values
    if not isinstance(dtype, pd.CategoricalDtype) and (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
    ):
        raise InputError(f"{name}: holds numbers, not dates; give {_how('date', name)}")
    given = pd.Series(np.asarray(values, dtype=object), index=values.index, copy=False)
    try:
        parsed = pd.to_datetime(given, format="ISO8601", errors="coerce")
    except (TypeError, ValueError) as err:  # timezones mixed, a cell of lists, ...
        raise InputError(f"{name}: cannot read its values as dates ({err}); give "
                         f"{_how('date', name)}") from err  # fmt: skip
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    _refuse(_wrong(parsed.isna().to_numpy(), given), given, name, "date", values.index)
    return parsed


def _wrong(unread: npt.NDArray[np.bool_], given: pd.Series) -> npt.NDArray[np.bool_]:
    """Of the values that did not convert (`unread`), those that are there: not NaN, None,
    pd.NA or NaT, nor blank text."""
    wrong = unread & ~np.asarray(given.isna(), dtype=bool)
    if wrong.any():
        blank = given[wrong].astype(str).str.strip().eq("").to_numpy()
        wrong[np.flatnonzero(wrong)[blank]] = False
    return wrong


def _refuse(
    wrong: npt.NDArray[np.bool_], given: pd.Series, name: str, kind: str, labels: Labels
) -> None:
    """InputError naming the first values of `given` that are `wrong`, and their rows."""
    if not wrong.any():
        return
    at = np.flatnonzero(wrong)
    shown = ", ".join(
        f"{given.iloc[i]!r} (row {labels[i] if labels is not None else int(i)!r})"
        for i in at[:SHOWN]
    )
    more = f" and {len(at) - SHOWN:,} more" if len(at) > SHOWN else ""
    raise InputError(
        f"{name}: {shown}{more} {'is' if len(at) == 1 else 'are'} not {KINDS[kind][0]}; "
        f"give {_how(kind, name)} {READ_REGISTERS}"
    )


def _how(kind: str, name: str) -> str:
    """How to give a column of `kind`, for the column `name`."""
    return KINDS[kind][1].replace("{col}", repr(name))
