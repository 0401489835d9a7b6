"""Cell values into measurements: sex, position, oedema, numbers, ages, dates and text.

Each parser returns, per row, a value and a reason code (0: fine or missing). A column of plain
numbers or ISO dates is read by arrow's casts; any other is read through its distinct values
(a register has a few thousand distinct dates and weights however long it is), each interpreted
once in Python.
"""

from __future__ import annotations

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
from kbtool.reading.headers import STANDING_HEIGHT

# Text is arrow large_string end to end: pandas' string[pyarrow] stores exactly that, so the
# frames share the parsed buffers.
TEXT = pa.large_string()

# Why a row is rejected; index 0 is "no problem". Arrays of these codes are uint8.
REASONS = (
    "",
    "unparseable sex",
    "unparseable measure",
    "unparseable oedema",
    "unparseable number",
    "unparseable date",
    "impossible date",
    "date in the future",
    "date before 1900",
    "visit date before birth date",
    "height <= 0",
    "weight <= 0",
    "age_months < 0",
    "length and height both given, and they differ",
)
# (the codes, in the order of REASONS)
OK, BAD_SEX, BAD_MEASURE, BAD_OEDEMA, BAD_NUMBER, BAD_DATE, IMPOSSIBLE_DATE = range(7)
FUTURE_DATE, EARLY_DATE, VISIT_BEFORE_BIRTH, HEIGHT_NOT_POSITIVE, WEIGHT_NOT_POSITIVE = range(7, 12)
AGE_NEGATIVE, TWO_HEIGHTS = range(12, 14)

# Measurements in another unit than kbtool's (metres, grams): the range a child under five's
# values take in that unit (WHO Child Growth Standards 2006: length/height 45-130 cm, weight
# 1-40 kg at most). Column -> (the unit, lowest, highest, the unit expected).
OTHER_UNITS = {
    "height_cm": ("metres", 0.45, 1.30, "centimetres"),
    "weight_kg": ("grams", 1_000.0, 40_000.0, "kilograms"),
}

# Texts that mean "no value" in exports (Excel's #N/A, pandas' NaN, a dash typed by hand): what
# pyarrow and pandas read as null, and a few more.
_NULL_TEXTS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "-", "--", ".",
)  # fmt: skip
# In the columns read as values (numbers, dates, sex, ...) compared in lower case; in the text
# columns (NIK, names, places) as written: "Nan" or "Na" may be a name.
_MISSING_TEXTS = frozenset({"", "none", *(text.lower() for text in _NULL_TEXTS)})
_TEXT_MISSING = pa.array(_NULL_TEXTS, TEXT)

_MALE = "l,lk,laki,laki laki,lakilaki,laki2,pria,cowok,m,male,man,boy,1"
_FEMALE = "p,pr,pr.,perempuan,wanita,cewek,f,female,woman,girl,w,2"
_STANDING = "berdiri,standing,stand,h,height,tb,tinggi,tinggi badan,diukur berdiri"
_RECUMBENT = (
    "terlentang,telentang,berbaring,tidur,recumbent,lying,l,length,pb,panjang,panjang badan,"
    "diukur terlentang"
)
_YES = "y,ya,yes,1,true,t,ada,+"
_NO = "n,tidak,tdk,no,0,false,f,tidak ada,normal"


_SPACES = re.compile(r"[\s_\-]+")
_WHOLE_NUMBER = re.compile(r"([0-9]+)\.0+")


def _category(words: dict[str, Any], dtype: npt.DTypeLike, missing: Any, bad: int) -> ColumnParser:
    """A column of words (comma-separated lists -> their code), compared in lower case, spaces
    and dashes alike ("Laki-laki" is "laki laki"); "1.0" from a float column is "1"."""
    codes = {word: code for listed, code in words.items() for word in listed.split(",")}

    def parse(text: str) -> tuple[Any, int]:
        key = _SPACES.sub(" ", text.strip().lower()).strip()
        key = match.group(1) if (match := _WHOLE_NUMBER.fullmatch(key)) else key
        if key in _MISSING_TEXTS:
            return missing, OK
        return (codes[key], OK) if key in codes else (missing, bad)

    return ColumnParser(parse, dtype, missing)


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
# e-PPGBM's "Usia Saat Ukur": "1 Tahun - 3 Bulan - 12 Hari" (also th/bl/hr, English words)
_AGE_TEXT = re.compile(
    r"(?:(?P<y>[0-9]+)\s*(?:tahun|thn|th|years?|yrs?|y)\.?)?[\s,/-]*"
    r"(?:(?P<m>[0-9]+)\s*(?:bulan|bln|bl|months?|mos?|m)\.?)?[\s,/-]*"
    r"(?:(?P<d>[0-9]+)\s*(?:hari|hr|days?|d)\.?)?",
    re.IGNORECASE,
)


def _number_column(too_low: int, age: bool = False) -> ColumnParser:
    """A column of numbers, a decimal comma a decimal point; plain ones read by arrow's cast. A
    number below 0, or 0 but for an age, is `too_low`; an age may be written in years, months
    and days."""

    def parse(text: str) -> tuple[float, int]:
        stripped = text.strip()
        if stripped.lower() in _MISSING_TEXTS:
            return math.nan, OK
        if _NUMBER.fullmatch(stripped):
            value = float(stripped.replace(",", "."))
        elif age and (match := _AGE_TEXT.fullmatch(stripped)) and any(match.groups()):
            years, months, days = (int(g) if g else 0 for g in match.group("y", "m", "d"))
            value = years * 12 + months + days / DAYS_PER_MONTH
        else:
            return math.nan, BAD_NUMBER
        if not math.isfinite(value):
            return math.nan, BAD_NUMBER
        if value < 0 if age else value <= 0:
            return math.nan, too_low
        return value, OK

    def cast(text: pa.ChunkedArray) -> Parsed | None:
        try:
            numbers = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:  # spaces around, a decimal comma
            trimmed = pc.utf8_trim_whitespace(text)
            trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, TEXT), trimmed)
            try:
                numbers = pc.cast(pc.replace_substring(trimmed, ",", "."), pa.float64())
            except pa.ArrowInvalid:
                return None
        if pc.any(pc.is_nan(numbers)).as_py():
            return None  # "nan" and "NaN" are missing, "+nan" is no number: the parser knows
        values = numbers.to_numpy(zero_copy_only=False)
        reasons = np.zeros(len(values), dtype=np.uint8)
        with np.errstate(invalid="ignore"):
            reasons[values < 0 if age else values <= 0] = too_low
        reasons[np.isinf(values)] = BAD_NUMBER  # (-inf too: no number, as the parser says)
        return Parsed(np.where(reasons == OK, values, np.nan), reasons)

    return ColumnParser(parse, np.float64, math.nan, cast)


_TIME = (
    r"[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?\s*"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2}|[AaPp][Mm])?"
)
_YMD = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})(?:" + _TIME + ")?")
# day and month (in either order) then the year, two digits in Excel's short format (05/01/23)
_DMY = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?:" + _TIME + ")?")
_D_MONTH_Y = re.compile(r"([0-9]{1,2})[-/. ]+([A-Za-z]{3,9})\.?[-/. ]+([0-9]{4})(?:" + _TIME + ")?")
_COMPACT_YMD = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_EXCEL_SERIAL = re.compile(r"([0-9]{1,5})(?:[.,][0-9]+)?")
# Those dates with a time of day, for arrow's RE2 (no back references): a column of timestamps
# has as many distinct values as rows, its dates without the times far fewer.
_DATE_AND_TIME = (
    r"^(\s*(?:[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
    r"|[0-9]{1,2}[-/. ]+[A-Za-z]{3,9}\.?[-/. ]+[0-9]{4}))" + _TIME + r"\s*$"
)
# The orders of day and month in dates of three numbers (--date-format); AUTO: from the values.
AUTO, DAY_FIRST, MONTH_FIRST = "auto", "dmy", "mdy"
DATE_ORDERS = (AUTO, DAY_FIRST, MONTH_FIRST)
# the day and month of such a date, in the order written (arrow's RE2)
_TWO_NUMBERS = (
    r"^\s*(?P<first>[0-9]{1,2})[-/.](?P<second>[0-9]{1,2})[-/.](?:[0-9]{4}|[0-9]{2})(?:[^0-9]|$)"
)
# Excel's day 0 is 1899-12-30 (serial 1 = 1900-01-01 after Lotus' leap-year bug); serials
# above 80000 (year 2119) are not dates a register holds.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MAX = 80_000
_EARLIEST = date(1900, 1, 1)
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
# month names and abbreviations, Indonesian and English, by their first three letters
_MONTHS = {
    "jan": 1, "feb": 2, "peb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7,
    "agu": 8, "agt": 8, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "nop": 11,
    "des": 12, "dec": 12,
}  # fmt: skip


def _date_parser(today: date, order: str) -> Callable[[str], tuple[int, int]]:
    """Text -> (days since 1970-01-01, reason); `order` is DAY_FIRST (dd/mm/yyyy, Indonesia's)
    or MONTH_FIRST (mm/dd/yyyy) for dates of three numbers."""
    month_first = order == MONTH_FIRST

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
            first, second = int(match[1]), int(match[3])
            parts = (year, first, second) if month_first else (year, second, first)
        elif match := _D_MONTH_Y.fullmatch(stripped):
            month = _MONTHS.get(match[2][:3].lower())
            if month is None:
                return NAT_DAYS, BAD_DATE
            parts = int(match[3]), month, int(match[1])
        elif match := _COMPACT_YMD.fullmatch(stripped):
            parts = int(match[1]), int(match[2]), int(match[3])
        elif match := _EXCEL_SERIAL.fullmatch(stripped):
            if not 1 <= int(match[1]) < _EXCEL_SERIAL_MAX:
                return NAT_DAYS, BAD_DATE
            day = _EXCEL_EPOCH + timedelta(days=int(match[1]))
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


@dataclass
class Parsed:
    """One canonical column of a block: values and a reason code per row (0 = fine)."""

    values: npt.NDArray[Any]
    reasons: npt.NDArray[np.uint8]


# Distinct values remembered per column; past this many (free text in a number column) the
# memory starts again.
_CACHE_LIMIT = 200_000


class ColumnParser:
    """One canonical column's parser over the blocks of a file: `cast` (arrow, None when a cell
    does not fit it) first, else `parse` once per distinct value, remembered across blocks."""

    def __init__(
        self,
        parse: Callable[[str], tuple[Any, int]],
        dtype: npt.DTypeLike,
        missing: object,
        cast: Callable[[pa.ChunkedArray], Parsed | None] | None = None,
    ) -> None:
        self.parse, self.dtype, self.missing, self.cast = parse, dtype, missing, cast
        self.known: dict[str, tuple[Any, int]] = {}

    def __call__(self, text: pa.ChunkedArray) -> Parsed:
        if self.cast is not None and (parsed := self.cast(text)) is not None:
            return parsed
        encoded = self.encode(text)
        if len(self.known) > _CACHE_LIMIT:
            self.known = {}
        known, parse = self.known, self.parse
        words = encoded.dictionary.to_pylist()
        results = [known.get(word) or known.setdefault(word, parse(word)) for word in words]
        values = np.array([*(r[0] for r in results), self.missing], dtype=self.dtype)
        reasons = np.array([*(r[1] for r in results), OK], dtype=np.uint8)
        rows = encoded.indices.fill_null(len(results)).to_numpy()
        return Parsed(values[rows], reasons[rows])

    def encode(self, text: pa.ChunkedArray) -> pa.DictionaryArray:
        """A block's texts as their distinct values and an index per row."""
        return text.dictionary_encode().combine_chunks()


class DateOrder:
    """The order of day and month of one file's dates, shared by its date columns: the
    --date-format given, else the one a header names (`hint`: dd/mm/yyyy, mm/dd/yyyy), else
    the order most dates that read one way only show in the first block holding any, else
    day first, `assumed`. Once rows were read in it (`settle`) it stays; an assumed day first
    the values may confirm. Dates that read only the other way are rejected, and said."""

    def __init__(self, order: str) -> None:
        self.fixed = order != AUTO
        self.order: str | None = order if self.fixed else None
        self.hint: str | None = None
        self.assumed = self.named = self.settled = False
        self.day = self.month = 0  # dates seen that read only day first, only month first

    def see(self, distinct: pa.Array) -> bool:
        """Distinct texts of a date column, before they are parsed; whether any of them is a
        date of three numbers."""
        parts = pc.extract_regex(distinct, _TWO_NUMBERS)
        if parts.null_count == len(parts):
            return False
        # dates that read only day first (a first number over 12), only month first
        numbers = [pc.struct_field(parts, [i]).cast(pa.int16()) for i in (0, 1)]
        day, month = (pc.sum(pc.greater(n, 12).cast(pa.int64())).as_py() or 0 for n in numbers)
        self.day, self.month = self.day + day, self.month + month
        if self.fixed or (self.settled and not self.assumed):
            return True
        shown = None
        if self.day or self.month:
            shown = DAY_FIRST if self.day >= self.month else MONTH_FIRST
        if not self.settled:  # (settled means an order was taken)
            taken = self.hint or shown
            self.order = taken or DAY_FIRST
            self.assumed, self.named = taken is None, self.hint is not None
        elif shown == DAY_FIRST and day:
            self.assumed = False  # what was assumed, confirmed
        return True

    def settle(self) -> None:
        """Rows were read in the order taken: it stays."""
        self.settled = self.order is not None

    @property
    def contradicted(self) -> bool:
        """Whether some date seen reads only the other way than the order taken."""
        if self.fixed or self.order is None:
            return False
        return bool(self.month if self.order == DAY_FIRST else self.day)


class DateParser(ColumnParser):
    """A date column's parser, reading dates of three numbers in the file's DateOrder (day
    first until the order is taken); `dated`: it met such dates; `watching`: it tells the
    order the texts it parses."""

    def __init__(self, today: date, order: DateOrder) -> None:
        reads = order.order or DAY_FIRST
        parse = _date_parser(today, reads)
        super().__init__(parse, np.int64, NAT_DAYS, self._cast_iso)
        self.today, self.shared, self.reads = today, order, reads
        self.dated, self.watching = False, True

    def encode(self, text: pa.ChunkedArray) -> pa.DictionaryArray:
        """The distinct texts (of timestamps, without their times of day), shown to the
        DateOrder; the parser then reads in its order."""
        encoded = super().encode(text)
        distinct = len(encoded.dictionary)
        if distinct > 1_000 and 2 * distinct > len(text):
            # timestamps are all distinct: the dates without their times of day are not
            encoded = super().encode(pc.replace_substring_regex(text, _DATE_AND_TIME, r"\1"))
        if self.watching and self.shared.see(encoded.dictionary):
            self.dated = True
        if self.shared.order is not None and self.shared.order != self.reads:
            self.reads = self.shared.order
            self.parse = _date_parser(self.today, self.reads)
            self.known = {}
        return encoded

    def _cast_iso(self, text: pa.ChunkedArray) -> Parsed | None:
        """ISO dates from 1900 on (2023-01-05, and with a time 2023-01-05 10:30[:00]) read by
        arrow's cast; a date after `today` is rejected."""
        lengths = pc.min_max(pc.binary_length(text)).as_py()
        # (arrow also reads an hour alone, 2023-01-05 10, which the parser rejects)
        if lengths["min"] != lengths["max"] or lengths["min"] not in (10, 16, 19):
            return None
        try:  # strict: 2023-02-29 fails the whole column
            stamps = pc.cast(text, pa.date32() if lengths["min"] == 10 else pa.timestamp("s"))
        except pa.ArrowInvalid:
            return None
        days = pc.cast(pc.cast(stamps, pa.date32()), pa.int32())  # (a time of day floored)
        if pc.min(days).as_py() < _EARLIEST.toordinal() - _UNIX_ORDINAL:
            return None  # the parser tells the year 0 from the year 1899
        values = days.cast(pa.int64()).fill_null(NAT_DAYS).to_numpy()
        future = values > self.today.toordinal() - _UNIX_ORDINAL
        if not future.any():
            return Parsed(values, np.zeros(len(values), dtype=np.uint8))
        return Parsed(np.where(future, NAT_DAYS, values), (future * FUTURE_DATE).astype(np.uint8))


def column_parsers(today: date, dates: DateOrder) -> dict[str, ColumnParser]:
    """A fresh parser for each canonical column read as values (the rest are text), and one
    for a standing height read beside a length (STANDING_HEIGHT); the date columns read in
    the file's `dates` order."""
    positions = {_STANDING: MEASURE_HEIGHT, _RECUMBENT: MEASURE_LENGTH}
    return {
        "sex": _category({_MALE: SEX_MALE, _FEMALE: SEX_FEMALE}, np.int8, 0, BAD_SEX),
        "measure": _category(positions, np.int8, MEASURE_UNKNOWN, BAD_MEASURE),
        "oedema": _category({_YES: True, _NO: False}, np.bool_, False, BAD_OEDEMA),
        "birth_date": DateParser(today, dates),
        "visit_date": DateParser(today, dates),
        "age_months": _number_column(AGE_NEGATIVE, age=True),
        "weight_kg": _number_column(WEIGHT_NOT_POSITIVE),
        "height_cm": _number_column(HEIGHT_NOT_POSITIVE),
        STANDING_HEIGHT: _number_column(HEIGHT_NOT_POSITIVE),
    }


def _maybe_padded(text: pa.ChunkedArray) -> bool:
    """Whether a value may start or end with whitespace: its first or last byte is an ASCII
    space or control character, or part of a longer character (U+00A0, U+3000, ...). Looked
    up in the buffers: most columns need no trimming, and so no copy."""
    for chunk in text.chunks:
        offsets, data = chunk.buffers()[1:]
        if data is None or not data.size:
            continue
        offsets = np.frombuffer(offsets, np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data, np.uint8)
        # (an empty value points at a neighbour's byte: at worst a needless trim)
        ends = np.concatenate(
            [data[np.minimum(offsets[:-1], data.size - 1)], data[offsets[1:] - 1]]
        )
        if ((ends <= 0x20) | (ends >= 0x7F)).any():
            return True
    return False


def clean_text(text: pa.ChunkedArray, child_id: bool) -> pa.ChunkedArray:
    """Stripped text, NA for empty or a no-value text; a child_id also loses an Excel
    apostrophe and a '.0'."""
    if _maybe_padded(text):
        text = pc.utf8_trim_whitespace(text)
    if child_id and len(text):
        if pc.any(pc.starts_with(text, "'")).as_py():
            text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"^'", ""))
        if pc.any(pc.ends_with(text, ".0")).as_py():
            # a NIK that went through a float column: "3372012345678901.0"
            text = pc.replace_substring_regex(text, r"^([0-9]+)\.0+$", r"\1")
    length = pc.binary_length(text)
    if not pc.any(pc.less_equal(length, max(map(len, _NULL_TEXTS)))).as_py():
        return text  # (no value short enough to be "", "-", "NA", "n/a", ...)
    missing = pc.or_(pc.equal(length, 0), pc.is_in(text, value_set=_TEXT_MISSING))
    return pc.if_else(missing, pa.scalar(None, TEXT), text)
