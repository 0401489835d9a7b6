"""The canonical measurement columns (the reader makes them, every later step reads them) and
the small column helpers every layer shares; no kbtool import but arrays and errors."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.errors import InputError

# The canonical columns, in this order, as the reader returns them.
CANONICAL_COLUMNS = (
    "child_id",
    "name",
    "sex",
    "birth_date",
    "visit_date",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "posyandu",
    "kelurahan",
    "kecamatan",
    "puskesmas",
)
# Where each accepted row came from: the file and its 1-based physical line.
SOURCE_COLUMNS = ("source_file", "source_line")
# One record per rejected row.
REJECT_COLUMNS = ("file", "line", "column", "value", "reason")

# The z-score columns (part of kbtool.growth.ZSCORE_COLUMNS) that the quality and SKDN steps read.
READ_ZSCORES = ("age_days", "lenhei_cm", "haz", "haz_flag", "waz", "waz_flag", "whz", "whz_flag")

# Position codes (R `anthro`: "l" recumbent length, "h" standing height).
MEASURE_UNKNOWN = 0
MEASURE_LENGTH = 1  # recumbent ("terlentang", "l")
MEASURE_HEIGHT = 2  # standing ("berdiri", "h")

# Sex codes as WHO's R `anthro` takes them; 0 is unknown.
SEX_MALE = 1
SEX_FEMALE = 2

# a year or calendar month: one, or one per entry
_Whole = TypeVar("_Whole", int, IntArray)

# the integer type of codes that recode passes through
_Code = TypeVar("_Code", bound=np.integer)

# A missing day number: datetime64's NaT read as an integer.
NAT_DAYS = np.iinfo(np.int64).min


# datetime64 units per day, to turn timestamps into days by integer division
_UNITS_PER_DAY = {
    "D": 1,
    "h": 24,
    "m": 1440,
    "s": 86_400,
    "ms": 86_400_000,
    "us": 86_400_000_000,
    "ns": 86_400_000_000_000,
}


def day_numbers(values: Any) -> IntArray:
    """Calendar days since 1970-01-01 (the time of day dropped, floored before 1970) of a date
    column (a Series or datetime64 array of any unit), NAT_DAYS where missing."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_localize(None)  # the local calendar date is the date
        elif not pd.api.types.is_datetime64_any_dtype(values.dtype):
            values = pd.to_datetime(values)
        values = values.to_numpy()
    stamps = np.asarray(values)
    unit, count = np.datetime_data(stamps.dtype)
    per_day = _UNITS_PER_DAY.get(unit)
    if per_day is None or per_day % count:  # pragma: no cover - unusual units
        days = stamps.astype("datetime64[D]").view(np.int64).copy()
    else:
        days = np.floor_divide(stamps.view(np.int64), per_day // count)
    days[np.isnat(stamps)] = NAT_DAYS
    return days


def date_days(frame: pd.DataFrame, name: str) -> IntArray:
    """day_numbers of a frame's date column; InputError when it holds something else than
    dates (a frame built by hand from text, say)."""
    column = frame[name]
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        raise InputError(
            f"column {name!r} holds {column.dtype}, not dates; parse it first "
            "(the reader does), e.g. with pd.to_datetime"
        )
    return day_numbers(column)


def calendar_parts(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(day, month, year) of day numbers, -1 where NAT_DAYS; numpy's calendar once per day of
    the span (a register spans a few thousand days), then one look-up a row."""
    missing = days == NAT_DAYS
    if missing.all():
        empty = np.full(len(days), -1, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    first, last = int(days[~missing].min()), int(days[~missing].max())
    span = np.arange(first, last + 1).astype("datetime64[D]")
    months = span.astype("datetime64[M]")
    years = span.astype("datetime64[Y]")
    table = (
        (span - months.astype("datetime64[D]")).astype(np.int64) + 1,
        (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
        years.astype(np.int64) + 1970,
    )
    offset = np.where(missing, 0, days - first)
    day, month, year = (np.where(missing, -1, part[offset]) for part in table)
    return day, month, year


def month_number(year: _Whole, month: _Whole) -> _Whole:
    """Months since January 1970 of a year and a calendar month (1-12): whole numbers or
    arrays of them."""
    return (year - 1970) * 12 + month - 1


def month_label(month: int) -> str:
    """ "2024-01" for a month counted from January 1970."""
    return f"{1970 + month // 12}-{month % 12 + 1:02d}"


def child_day_order(child: npt.NDArray[np.integer], day: npt.NDArray[np.integer]) -> IntArray:
    """The positions of rows sorted by child, then day, then position (child codes 0 .. C-1;
    int32 arrays save memory).

    Registers and the store hold a child's visits in stretches already in date order (one per
    file or partition): the stretches are sorted, not the rows, and laid end to end. A child
    whose stretches overlap in time (moved within a year, say) has its rows sorted one by one.
    """
    n = child.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    broken = child[1:] != child[:-1]
    broken |= day[1:] < day[:-1]
    starts = np.flatnonzero(np.concatenate(([True], broken)))
    del broken
    if starts.size > n // 4:  # no stretches to speak of: sort the rows
        return _sorted_by_child_day(child, day, np.arange(n, dtype=np.int64))
    lengths = np.diff(np.append(starts, n))
    order = _sorted_by_child_day(child[starts], day[starts], np.arange(starts.size, dtype=np.int64))
    starts, lengths = starts[order], lengths[order]
    position = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    position += np.arange(n, dtype=np.int64)
    # a stretch must begin after the end of its child's previous one (day, then row)
    first, last = starts[1:], starts[:-1] + lengths[:-1] - 1
    overlap = child[first] == child[last]
    overlap &= (day[first] < day[last]) | ((day[first] == day[last]) & (first < last))
    if overlap.any():
        mixed = np.zeros(int(child.max()) + 1, dtype=np.bool_)
        mixed[child[first[overlap]]] = True
        resort = np.flatnonzero(np.repeat(mixed[child[starts]], lengths))
        rows = position[resort]
        position[resort] = _sorted_by_child_day(child[rows], day[rows], rows)
    return position


def _sorted_by_child_day(
    child: npt.NDArray[np.integer], day: npt.NDArray[np.integer], index: IntArray
) -> IntArray:
    """`index` (distinct non-negative numbers) sorted by child, then day, then itself.

    The three are packed into one int64 and sorted as values, several times faster than an
    argsort; a lexsort where they do not fit in 63 bits. Any integer types.
    """
    first_day = int(day.min())
    day_bits = max(int(day.max()) - first_day, 1).bit_length()
    index_bits = max(int(index.max()), 1).bit_length()
    child_bits = max(int(child.max()), 1).bit_length()
    if child_bits + day_bits + index_bits > 63:  # pragma: no cover - 2**63 children x days x rows
        return index[np.lexsort((index, day, child))]
    key = child.astype(np.int64) << (day_bits + index_bits)
    key |= (day.astype(np.int64) - first_day) << index_bits
    key |= index
    key.sort()
    key &= (1 << index_bits) - 1
    return key


def child_blocks(child: npt.NDArray[np.integer], rows: int) -> list[slice]:
    """Slices of about `rows` rows of `child` (sorted) that never split a child's rows; one
    empty slice when there are no rows."""
    if child.size == 0:
        return [slice(0, 0)]
    cuts = np.searchsorted(child, child[rows::rows], side="left")
    bounds = np.unique(np.concatenate(([0], cuts, [child.size])))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def dense_codes(ids: npt.NDArray[np.integer], size: int) -> tuple[IntArray, IntArray]:
    """Each row's code 0 .. K-1 among the distinct `ids` (0 .. size-1) and those ids,
    ascending: a look-up table of `size` entries while it is small, else a sort."""
    if size <= max(4 * ids.size, 1 << 20):
        present = np.flatnonzero(np.bincount(ids, minlength=size))
        lookup = np.zeros(size, dtype=np.int64)
        lookup[present] = np.arange(present.size)
        return lookup[ids], present.astype(np.int64, copy=False)
    present, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(np.int64, copy=False).reshape(-1), present.astype(np.int64, copy=False)


def factorize(values: pd.Series | pd.Index) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Codes (-1 missing) and distinct values of a column; a categorical without a pass over
    its rows."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return (
            np.asarray(values.cat.codes, dtype=np.intp),
            list(np.asarray(values.cat.categories, dtype=object)),
        )
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(np.asarray(uniques, dtype=object))


def without_accents(text: str) -> str:
    """Text with its accents dropped (é -> e): Unicode's compatibility decomposition, less
    the combining marks."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def text_column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A text column of a batch; all missing where the batch has no such column."""
    if name in rows:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, zscores_hint: bool = False
) -> None:
    """InputError naming the `columns` the frame lacks; with `zscores_hint`, how to add the
    READ_ZSCORES among them."""
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    seen = ", ".join(map(str, frame.columns))
    message = f"column {', '.join(repr(c) for c in missing)} not found; columns seen: {seen}"
    if zscores_hint and any(c in READ_ZSCORES for c in missing):
        message += (
            "; compute z-scores first: kbtool.growth.compute_zscores(frame, full_precision=True)"
        )
    raise InputError(message)


def float_column(frame: pd.DataFrame, name: str) -> FloatArray:
    """A numeric column as float64, NaN where missing (no copy when it is float64 already)."""
    return np.asarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def flag_column(frame: pd.DataFrame, name: str) -> BoolArray:
    """A yes/no column as booleans; missing counts as no. InputError for text ("n", "0"): as
    booleans every non-empty text is True, and each row would count as flagged or oedema."""
    series = frame[name]
    if series.dtype == np.bool_:
        return np.asarray(series.to_numpy(), dtype=np.bool_)
    if not isinstance(series.dtype, pd.CategoricalDtype) and (
        pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype)
    ):
        return np.asarray(series.to_numpy(dtype=np.bool_, na_value=False), dtype=np.bool_)
    wrong = ~(series.isin([True, False]) | series.isna()).to_numpy(dtype=np.bool_)
    if wrong.any():
        shown = ", ".join(map(repr, pd.unique(series[wrong])[:3]))
        raise InputError(
            f"column {name!r} holds {shown}, not True or False; map it to booleans first, "
            f"e.g. frame[{name!r}].eq('y') (kbtool's reader does)"
        )
    return series.isin([True]).to_numpy(dtype=np.bool_)


def code_column(frame: pd.DataFrame, name: str) -> npt.NDArray[np.int8]:
    """sex or measure as int8 codes, 0 where missing."""
    try:
        return np.asarray(frame[name].to_numpy(dtype=np.int8, na_value=0), dtype=np.int8)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"column {name!r} must hold codes (sex 1/2, measure 1 length / 2 height, 0 unknown), "
            f"not {frame[name].dtype}: read files through kbtool's reader"
        ) from err


def blank_as_missing(codes: npt.NDArray[np.integer], uniques: Any) -> IntArray:
    """`codes` (-1: missing) into `uniques` with those of blank values (empty or only spaces
    as text) made -1 too: an empty cell is as missing as a missing one."""
    wide = np.asarray(codes, dtype=np.int64)
    text = pd.Series(list(uniques), dtype=object).astype("str")
    blank = np.flatnonzero(text.str.strip().eq("").to_numpy(dtype=np.bool_, na_value=True))
    if not blank.size:
        return wide
    remap = np.arange(len(text), dtype=np.int64)
    remap[blank] = -1
    return recode(wide, remap)


def recode(codes: npt.NDArray[np.integer], mapped: npt.NDArray[_Code]) -> npt.NDArray[_Code]:
    """Each row's code among new values, from its code among distinct values (-1: missing)
    and the code of each distinct value among the new ones (`mapped`, -1: none)."""
    return np.append(mapped, -1)[codes]


def text_codes(
    values: pd.Series | pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.intp], pa.Array]:
    """Codes (-1 missing) of a text column into its distinct values, as Arrow strings: one pass
    of Arrow's dictionary_encode over the column's own Arrow data (a categorical: its codes)."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if pa.types.is_null(array.type):  # every value missing
        array = array.cast(pa.string())
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    indices = array.indices.fill_null(-1) if array.null_count else array.indices
    codes = indices.to_numpy(zero_copy_only=False).astype(np.intp)
    return codes, array.dictionary.cast(pa.string())


def splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser (Steele, Lea & Flood 2014): a fixed bijection on 64-bit integers,
    so hashes built on it stay equal across kbtool, numpy and pandas versions."""
    with np.errstate(over="ignore"):
        z = np.asarray(x ^ (x >> np.uint64(30)), dtype=np.uint64)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        return z


def unsplitmix64(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The inverse of splitmix64: each xor-shift undone by shifting again, each product by the
    multiplier's inverse modulo 2**64."""
    with np.errstate(over="ignore"):
        x = np.asarray(z ^ (z >> np.uint64(31)) ^ (z >> np.uint64(62)), dtype=np.uint64)
        x *= np.uint64(pow(0x94D049BB133111EB, -1, 1 << 64))
        x ^= (x >> np.uint64(27)) ^ (x >> np.uint64(54))
        x *= np.uint64(pow(0xBF58476D1CE4E5B9, -1, 1 << 64))
        x ^= (x >> np.uint64(30)) ^ (x >> np.uint64(60))
        return x


def value_codes(series: pd.Series) -> tuple[IntArray, list[Any]]:
    """Codes into the distinct values of a column; -1 where missing or blank text."""
    raw, uniques = factorize(series)
    if pd.Index(uniques, dtype=object).inferred_type in ("string", "mixed"):  # text can be blank
        return blank_as_missing(raw, uniques), uniques
    return raw.astype(np.int64, copy=False), uniques


def child_codes(series: pd.Series) -> IntArray:
    """Codes per child (not consecutive); a missing or blank key makes a child of its own per
    row.

    A child's rows mostly follow one another (registers and the store list a child's visits
    together): numeric keys are hashed once per run of equal keys, not once per row.
    """
    n = len(series)
    if n and series.dtype.kind in "iuf":
        keys = series.to_numpy()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        run_codes, uniques = value_codes(pd.Series(keys[starts]))
        codes = np.repeat(run_codes, np.diff(np.append(starts, n)))
    else:
        codes, uniques = value_codes(series)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes
