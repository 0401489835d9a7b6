"""Cell values into measurements: sex, position, oedema, numbers, ages, dates and text.

A register has a few thousand distinct dates and weights however long it is, so a column is
dictionary-encoded and only its distinct values are interpreted in Python (DistinctParser);
columns that are nearly all distinct (unrounded weights, times of day) go through arrow's
kernels instead (ColumnParser). Each parser returns a value and a reason code (kbtool.reading.
rejects) per row; 0 means the value is fine or missing.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.columns import (
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
    NAT_DAYS,
    SEX_FEMALE,
    SEX_MALE,
)
from kbtool.growth.constants import DAYS_PER_MONTH
from kbtool.reading.blocks import TEXT
from kbtool.reading.headers import STANDING_HEIGHT
from kbtool.reading.rejects import (
    AGE_NEGATIVE,
    BAD_DATE,
    BAD_MEASURE,
    BAD_NUMBER,
    BAD_OEDEMA,
    BAD_SEX,
    EARLY_DATE,
    FUTURE_DATE,
    HEIGHT_NOT_POSITIVE,
    IMPOSSIBLE_DATE,
    OK,
    WEIGHT_NOT_POSITIVE,
)

# Texts that mean "no value" in exports (Excel's #N/A, pandas' NaN, a dash typed by hand).
# pyarrow's and pandas' own list (what they read as null), which kbtool's reading replaced
_NULL_TEXTS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
)  # fmt: skip
# In the columns read as values (numbers, dates, sex, ...), compared in lower case.
_MISSING_TEXTS = frozenset({"", "-", "--", "none", ".", *(text.lower() for text in _NULL_TEXTS)})
# In the text columns (NIK, names, places), as written: "Nan" or "Na" may be a name.
_TEXT_MISSING = frozenset({"-", "--", ".", *_NULL_TEXTS})
_TEXT_MISSING_LONGEST = max(len(text.encode()) for text in _TEXT_MISSING)

_MALE = frozenset(
    {
        "l",
        "lk",
        "laki",
        "laki laki",
        "lakilaki",
        "laki2",
        "pria",
        "cowok",
        "m",
        "male",
        "man",
        "boy",
        "1",
    }
)
_FEMALE = frozenset(
    {"p", "pr", "pr.", "perempuan", "wanita", "cewek", "f", "female", "woman", "girl", "w", "2"}
)
_STANDING = frozenset(
    {
        "berdiri",
        "standing",
        "stand",
        "h",
        "height",
        "tb",
        "tinggi",
        "tinggi badan",
        "diukur berdiri",
    }
)
_RECUMBENT = frozenset(
    {
        "terlentang",
        "telentang",
        "berbaring",
        "tidur",
        "recumbent",
        "lying",
        "l",
        "length",
        "pb",
        "panjang",
        "panjang badan",
        "diukur terlentang",
    }
)
_YES = frozenset({"y", "ya", "yes", "1", "true", "t", "ada", "+"})
_NO = frozenset({"n", "tidak", "tdk", "no", "0", "false", "f", "tidak ada", "normal"})

_SPACES = re.compile(r"[\s_\-]+")
_WHOLE_NUMBER = re.compile(r"([0-9]+)\.0+")


def _category_key(text: str) -> str:
    key = _SPACES.sub(" ", text.strip().lower()).strip()
    match = _WHOLE_NUMBER.fullmatch(key)  # "1.0" from a float column means 1
    return match.group(1) if match else key


def _parse_sex(text: str) -> tuple[int, int]:
    """(sex code, reason) of a cell: L/P, laki-laki/perempuan, M/F, 1/2."""
    key = _category_key(text)
    if key in _MISSING_TEXTS:
        return 0, OK
    if key in _MALE:
        return SEX_MALE, OK
    if key in _FEMALE:
        return SEX_FEMALE, OK
    return 0, BAD_SEX


def _parse_measure(text: str) -> tuple[int, int]:
    """(position code, reason) of a cell: berdiri/terlentang, TB/PB, h/l."""
    key = _category_key(text)
    if key in _MISSING_TEXTS:
        return MEASURE_UNKNOWN, OK
    if key in _STANDING:
        return MEASURE_HEIGHT, OK
    if key in _RECUMBENT:
        return MEASURE_LENGTH, OK
    return MEASURE_UNKNOWN, BAD_MEASURE


def _parse_oedema(text: str) -> tuple[bool, int]:
    """(oedema, reason) of a cell: ya/tidak, y/n, 1/0; missing is no oedema."""
    key = _category_key(text)
    if key in _MISSING_TEXTS or key in _NO:
        return False, OK
    if key in _YES:
        return True, OK
    return False, BAD_OEDEMA


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
# e-PPGBM's "Usia Saat Ukur": "1 Tahun - 3 Bulan - 12 Hari" (also th/bl/hr, English words)
_AGE_TEXT = re.compile(
    r"(?:(?P<y>[0-9]+)\s*(?:tahun|thn|th|years?|yrs?|y)\.?)?[\s,/-]*"
    r"(?:(?P<m>[0-9]+)\s*(?:bulan|bln|bl|months?|mos?|m)\.?)?[\s,/-]*"
    r"(?:(?P<d>[0-9]+)\s*(?:hari|hr|days?|d)\.?)?",
    re.IGNORECASE,
)


def _number_parser(
    non_positive: int | None, negative: int | None, age_text: bool = False
) -> Callable[[str], tuple[float, int]]:
    """Text -> (number, reason); a decimal comma is a decimal point."""

    def parse(text: str) -> tuple[float, int]:
        stripped = text.strip()
        if stripped.lower() in _MISSING_TEXTS:
            return math.nan, OK
        if _NUMBER.fullmatch(stripped):
            value = float(stripped.replace(",", "."))
        elif age_text and (match := _AGE_TEXT.fullmatch(stripped)) and any(match.groups()):
            years, months, days = (int(g) if g else 0 for g in match.group("y", "m", "d"))
            value = years * 12 + months + days / DAYS_PER_MONTH
        else:
            return math.nan, BAD_NUMBER
        if not math.isfinite(value):
            return math.nan, BAD_NUMBER
        if non_positive is not None and value <= 0:
            return math.nan, non_positive
        if negative is not None and value < 0:
            return math.nan, negative
        return value, OK

    return parse


_TIME_SUFFIX = (
    r"(?:[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?\s*"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2}|[AaPp][Mm])?)?"
)
_YMD = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})" + _TIME_SUFFIX)
# day first, Indonesia's order; a two-digit year is Excel's short date format (05/01/23)
_DMY = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})" + _TIME_SUFFIX)
_D_MONTH_Y = re.compile(r"([0-9]{1,2})[-/. ]+([A-Za-z]{3,9})\.?[-/. ]+([0-9]{4})" + _TIME_SUFFIX)
_COMPACT_YMD = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_EXCEL_SERIAL = re.compile(r"([0-9]{1,5})(?:[.,][0-9]+)?")
# Excel's day 0 is 1899-12-30 (serial 1 = 1900-01-01 after Lotus' leap-year bug); serials
# above 80000 (year 2119) are not dates a register holds.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MAX = 80_000
_EARLIEST = date(1900, 1, 1)
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
# month names and abbreviations, Indonesian and English, by their first three letters
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "peb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "aug": 8,
    "sep": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
    "dec": 12,
}


def _date_parser(today: date) -> Callable[[str], tuple[int, int]]:
    """Text -> (days since 1970-01-01, reason); dd/mm/yyyy is Indonesia's order."""

    def parse(text: str) -> tuple[int, int]:
        stripped = text.strip()
        if stripped.lower() in _MISSING_TEXTS:
            return NAT_DAYS, OK
        parts: tuple[int, int, int] | None = None
        if match := _YMD.fullmatch(stripped):
            parts = int(match[1]), int(match[3]), int(match[4])
        elif match := _DMY.fullmatch(stripped):
            # a short year is 20yy: registers of children under five hold no 19yy dates, and a
            # 20yy in the future is rejected rather than quietly read as a century earlier
            year = int(match[4]) + (2000 if len(match[4]) == 2 else 0)
            parts = year, int(match[3]), int(match[1])
        elif match := _D_MONTH_Y.fullmatch(stripped):
            month = _MONTHS.get(match[2][:3].lower())
            if month is None:
                return NAT_DAYS, BAD_DATE
            parts = int(match[3]), month, int(match[1])
        elif match := _COMPACT_YMD.fullmatch(stripped):
            parts = int(match[1]), int(match[2]), int(match[3])
        elif match := _EXCEL_SERIAL.fullmatch(stripped):
            serial = int(match[1])
            if not 1 <= serial < _EXCEL_SERIAL_MAX:
                return NAT_DAYS, BAD_DATE
            day = _EXCEL_EPOCH + timedelta(days=serial)
            parts = day.year, day.month, day.day
        if parts is None:
            return NAT_DAYS, BAD_DATE
        try:
            day = date(*parts)
        except ValueError:
            return NAT_DAYS, IMPOSSIBLE_DATE
        if day < _EARLIEST:
            return NAT_DAYS, EARLY_DATE
        if day > today:
            return NAT_DAYS, FUTURE_DATE
        return day.toordinal() - _UNIX_ORDINAL, OK

    return parse


def _decode_cell(value: object) -> str | None:
    """A cell as text: bytes that are not UTF-8 are read as Windows-1252."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            # a stray Windows-1252 byte in an otherwise UTF-8 file
            return value.decode("cp1252", errors="replace")
    return str(value)


def as_text(column: pa.Array) -> pa.Array:
    """A binary or string column as validated UTF-8 text (large_string)."""
    if column.type == TEXT:
        return column
    try:
        return column.cast(TEXT)
    except pa.ArrowInvalid:
        pass
    # not all UTF-8: each distinct value decoded once (_decode_cell), the rows take theirs
    encoded = column.dictionary_encode()
    words = pa.array([_decode_cell(v) for v in encoded.dictionary.to_pylist()], TEXT)
    return words.take(encoded.indices)


@dataclass
class Parsed:
    """One canonical column of a block: values and a reason code per row (0 = fine)."""

    values: npt.NDArray[Any]
    reasons: npt.NDArray[np.uint8]


# Distinct values remembered per column; past this many (free text in a number column) the
# memory starts again.
_CACHE_LIMIT = 200_000


class DistinctParser:
    """Interprets a column through its distinct values, remembering them across blocks.

    The values already interpreted are kept as an arrow array, so a block's distinct values are
    looked up with one `index_in` and only the new ones reach Python.
    """

    def __init__(
        self, parse: Callable[[str], tuple[Any, int]], dtype: npt.DTypeLike, missing: object
    ) -> None:
        self.parse = parse
        self.dtype = dtype
        self.missing = missing
        self._reset()

    def _reset(self) -> None:
        self.known = pa.array([], pa.large_binary())
        # position 0 stands for an empty cell; known value i is at position i + 1
        self.values = np.array([self.missing], dtype=self.dtype)
        self.reasons = np.zeros(1, dtype=np.uint8)

    def apply(self, encoded: pa.DictionaryArray) -> Parsed:
        """Values and reason codes per row of a dictionary-encoded binary or string column."""
        keys = encoded.dictionary.cast(pa.large_binary())
        if len(self.known) + len(keys) > _CACHE_LIMIT:
            self._reset()
        found = pc.index_in(keys, value_set=self.known)
        if found.null_count:
            new = pc.filter(keys, pc.is_null(found))
            results = [self.parse(_decode_cell(key) or "") for key in new.to_pylist()]
            self.known = pa.concat_arrays([self.known, new])
            self.values = np.concatenate(
                [self.values, np.array([r[0] for r in results], dtype=self.dtype)]
            )
            self.reasons = np.concatenate(
                [self.reasons, np.array([r[1] for r in results], dtype=np.uint8)]
            )
            found = pc.index_in(keys, value_set=self.known)
        positions = found.to_numpy(zero_copy_only=False).astype(np.int64) + 1
        index = encoded.indices
        if index.null_count:
            # a null cell takes position 0 through the extra slot after the distinct values
            positions = np.append(positions, 0)
            index = index.fill_null(len(keys))
        row_values = pa.array(self.values[positions]).take(index).to_numpy(zero_copy_only=False)
        reasons = self.reasons[positions]
        if not reasons.any():
            return Parsed(row_values, np.zeros(len(index), dtype=np.uint8))
        return Parsed(row_values, pa.array(reasons).take(index).to_numpy(zero_copy_only=False))


# With more distinct values than half a block's rows (and at least this many), a column is
# parsed with vectorised arrow kernels instead of value by value (unrounded weights, times).
_HIGH_CARDINALITY = 1_000


class ColumnParser:
    """One canonical column's parser over the blocks of a file: through its distinct values
    while they are few; with `vectorised` (arrow kernels, None when a cell does not fit them)
    when nearly every value is distinct, which then is tried first on the next block."""

    def __init__(
        self,
        distinct: DistinctParser,
        vectorised: Callable[[pa.Array], Parsed | None] | None = None,
        strip_times: bool = False,
    ) -> None:
        self.distinct = distinct
        self.vectorised = vectorised
        self.strip_times = strip_times
        self.many_distinct = False

    def __call__(self, column: pa.Array) -> Parsed:
        if self.many_distinct and self.vectorised is not None:
            fast = self.vectorised(column)
            if fast is not None:
                return fast
        encoded = column.dictionary_encode()
        distinct = len(encoded.dictionary)
        self.many_distinct = distinct >= _HIGH_CARDINALITY and distinct * 2 > len(column)
        if self.many_distinct:
            fast = self.vectorised(column) if self.vectorised is not None else None
            if fast is not None:
                return fast
            if self.strip_times:
                # times of day make every value distinct: drop them, then count again
                text = pc.replace_substring_regex(
                    as_text(column), r"[ T][0-9]{1,2}[:.][0-9]{2}.*$", ""
                )
                encoded = text.dictionary_encode()
        return self.distinct.apply(encoded)


def _numbers_vectorised(text: pa.Array) -> npt.NDArray[np.float64] | None:
    """Plain decimal numbers (point or comma) parsed by arrow; None if any cell is not one."""
    try:
        plain: npt.NDArray[np.float64] = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        return plain
    except pa.ArrowInvalid:
        pass  # spaces or decimal commas: clean up and try once more
    trimmed = pc.utf8_trim_whitespace(text)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    try:
        numbers = pc.cast(pc.replace_substring(trimmed, ",", "."), pa.float64())
    except pa.ArrowInvalid:
        return None
    values: npt.NDArray[np.float64] = numbers.to_numpy(zero_copy_only=False)
    return values


def _number_column(
    non_positive: int | None, negative: int | None, age_text: bool = False
) -> ColumnParser:
    """A number column's parser: `non_positive` or `negative` is the reason a value <= 0 or
    < 0 is rejected for; `age_text` also reads e-PPGBM's "1 Tahun - 3 Bulan - 12 Hari"."""

    def vectorised(column: pa.Array) -> Parsed | None:
        numbers = _numbers_vectorised(as_text(column))
        if numbers is None:
            return None
        reasons = np.zeros(len(numbers), dtype=np.uint8)
        reasons[np.isinf(numbers)] = BAD_NUMBER
        with np.errstate(invalid="ignore"):
            if non_positive is not None:
                reasons[numbers <= 0] = non_positive
            if negative is not None:
                reasons[numbers < 0] = negative
        return Parsed(np.where(reasons == OK, numbers, np.nan), reasons)

    parse = _number_parser(non_positive, negative, age_text)
    return ColumnParser(DistinctParser(parse, np.float64, math.nan), vectorised)


def _date_column(today: date) -> ColumnParser:
    """A date column's parser; a date after `today` or before 1900 is rejected."""
    earliest = _EARLIEST.toordinal() - _UNIX_ORDINAL
    latest = today.toordinal() - _UNIX_ORDINAL

    def vectorised(column: pa.Array) -> Parsed | None:
        try:
            # arrow's ISO 8601 cast is strict: 2023-02-29 or 2023-1-5 fail the whole column
            stamps = pc.cast(as_text(column), pa.timestamp("s"))
        except pa.ArrowInvalid:
            return None
        present = stamps.is_valid().to_numpy(zero_copy_only=False)
        seconds = stamps.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        days = seconds // 86_400  # floor: the time of day does not count
        reasons = np.zeros(len(days), dtype=np.uint8)
        reasons[present & (days < earliest)] = EARLY_DATE
        reasons[present & (days > latest)] = FUTURE_DATE
        days[~present | (reasons != OK)] = NAT_DAYS
        return Parsed(days, reasons)

    distinct = DistinctParser(_date_parser(today), np.int64, NAT_DAYS)
    return ColumnParser(distinct, vectorised, strip_times=True)


def column_parsers(today: date) -> dict[str, ColumnParser]:
    """A fresh parser for each canonical column read as values (the rest are text), and one
    for a standing height read beside a length (STANDING_HEIGHT)."""
    return {
        "sex": ColumnParser(DistinctParser(_parse_sex, np.int8, 0)),
        "measure": ColumnParser(DistinctParser(_parse_measure, np.int8, MEASURE_UNKNOWN)),
        "oedema": ColumnParser(DistinctParser(_parse_oedema, np.bool_, False)),
        "birth_date": _date_column(today),
        "visit_date": _date_column(today),
        "age_months": _number_column(None, AGE_NEGATIVE, age_text=True),
        "weight_kg": _number_column(WEIGHT_NOT_POSITIVE, None),
        "height_cm": _number_column(HEIGHT_NOT_POSITIVE, None),
        STANDING_HEIGHT: _number_column(HEIGHT_NOT_POSITIVE, None),
    }


# First or last bytes of a value that may be whitespace to utf8_trim_whitespace: ASCII controls
# and space, DEL, and any byte of a multi-byte character (U+00A0, U+3000, ...). Generous on
# purpose: a value outside this set at both ends is certainly left as it is by trimming.
_MAYBE_SPACE = np.zeros(256, dtype=bool)
_MAYBE_SPACE[:0x21] = True
_MAYBE_SPACE[0x7F:] = True


def _value_ends(text: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]] | None:
    """First and last byte of every non-empty value, read from the buffers with numpy (no copy
    of the text); None if the array is not large_string."""
    if text.type != TEXT or len(text) == 0:
        return None
    buffers = text.buffers()
    if buffers[1] is None or buffers[2] is None:
        return None
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    return data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]


@functools.cache
def _missing_value_set() -> pa.Array:
    # built on first use: pa.array on a list loads pandas, which a streamed read puts off
    return pa.array(sorted(_TEXT_MISSING), pa.string())


def clean_text(text: pa.Array, child_id: bool) -> pa.Array:
    """Stripped text, NA for empty; a child_id also loses an Excel apostrophe and a '.0'."""
    ends = _value_ends(text)
    # the usual case, nothing to strip, costs two look-ups per value instead of a copy of all
    if ends is None or _MAYBE_SPACE[ends[0]].any() or _MAYBE_SPACE[ends[1]].any():
        text = pc.utf8_trim_whitespace(text)
    if child_id and len(text):
        if pc.any(pc.starts_with(text, "'")).as_py():
            text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"^'", ""))
        if pc.any(pc.ends_with(text, ".0")).as_py():
            # a NIK that went through a float column: "3372012345678901.0"
            text = pc.replace_substring_regex(text, r"^([0-9]+)\.0+$", r"\1")
    length = pc.binary_length(text)
    if not pc.any(pc.less_equal(length, _TEXT_MISSING_LONGEST)).as_py():
        return text
    # "", "-", "NA", "n/a", ... : no value (checked only where some value is that short)
    missing = pc.or_(pc.equal(length, 0), pc.is_in(text, value_set=_missing_value_set()))
    return pc.if_else(missing, pa.scalar(None, text.type), text)
