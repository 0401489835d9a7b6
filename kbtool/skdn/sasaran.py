"""S from a file (--sasaran): how many children under five each group should weigh.

A CSV or xlsx with a group column (named as --by: posyandu, kelurahan, ...; or `group`), a
`year` or `month` column (tahun, bulan; months as 2024-01, 01/2024, or 1-12 / Januari beside a
year) and a `sasaran` column, as e-PPGBM's sasaran export and hand-made tables have them: the
header may follow title lines, and a total row (`Total`, `Jumlah`) is left out. A year's
sasaran holds for each of its months; rows of one group and month add up (a table per sex or RW,
say). Group names are matched to the register's as place names are (kbtool.places).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbtool.arrays import IntArray
from kbtool.columns import month_number
from kbtool.errors import InputError
from kbtool.places import PLACE_KINDS, builtin_aliases, facility_name, place_key
from kbtool.reading import header_aliases, normalise_header
from kbtool.skdn.tables import find_column, line_of, read_small_table, whole_number

# a group's headers: the register's own words for it (kbtool.reading.header_aliases), these,
# and a word for any group
_MORE_GROUP_HEADERS = {"kelurahan": ("nama_desa", "nama_kelurahan")}
_ANY_GROUP = ("group", "kelompok", "wilayah")
_SASARAN_HEADERS = (
    "sasaran", "jumlah_sasaran", "sasaran_balita", "jumlah_sasaran_balita", "jumlah_balita", "s",
)  # fmt: skip
# the group cell of an export's total row
_TOTAL_NAMES = ("total", "jumlah", "grand_total", "total_keseluruhan", "jumlah_total")
_YEAR_HEADERS = ("year", "tahun", "thn")
_MONTH_HEADERS = ("month", "bulan", "periode", "bln")

# month names in Indonesian and English, and their usual abbreviations
_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "february", "feb", "pebruari"),
            ("maret", "march", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("agustus", "august", "agu", "agt", "aug", "ags"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov", "nop", "nopember"),
            ("desember", "december", "des", "dec"),
        ),
        start=1,
    )
    for name in names
}
# 2024-01, 2024/1, or a date a workbook wrote for the month (2024-01-01 00:00:00)
_YEAR_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.]\s*(\d{1,2})(?:[-/.]\d{1,2}(?:[ t].*)?)?\s*$")
_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{4})\s*$")


@dataclass(frozen=True)
class Sasaran:
    """The targets of a --sasaran file, one entry per group and month (a year's row gives
    twelve)."""

    source: str
    names: list[str]  # group names as the file writes them
    months: IntArray  # months since January 1970
    counts: IntArray


def read_sasaran(path: str | Path, by: str) -> Sasaran:
    """The sasaran file at `path`, its groups being `by` (see the module docstring)."""
    group_headers = (*(header_aliases(by) or (by,)), *_MORE_GROUP_HEADERS.get(by, ()), *_ANY_GROUP)

    def is_header(cells: Sequence[str]) -> bool:
        return all(
            find_column(cells, names) is not None
            for names in (group_headers, _SASARAN_HEADERS, (*_YEAR_HEADERS, *_MONTH_HEADERS))
        )

    table = read_small_table(path, "--sasaran", header=is_header)
    group = find_column(table.columns, group_headers)
    count = find_column(table.columns, _SASARAN_HEADERS)
    year = find_column(table.columns, _YEAR_HEADERS)
    month = find_column(table.columns, _MONTH_HEADERS)
    if group is None or count is None or (year is None and month is None):
        raise InputError(
            f"--sasaran {path}: expected a {by} (or group) column, a year or month column and "
            f"a sasaran column; columns seen: {', '.join(table.columns) or '(none)'}"
        )
    names: list[str] = []
    months: list[int] = []
    counts: list[int] = []
    totals = {normalise_header(name) for name in _TOTAL_NAMES}
    records = table.to_dict("records")
    for index, record in zip(table.index, records, strict=True):  # groups, not measurements
        where = f"--sasaran {path}, line {line_of(index)}"
        name = record[group]
        if normalise_header(name) in totals:
            continue
        if not name:
            raise InputError(f"{where}: no {by} name")
        first, last = _months_of_row(
            record[year] if year else "", record[month] if month else "", where
        )
        names += [name] * (last - first + 1)
        months += range(first, last + 1)
        counts += [_count(record[count], where)] * (last - first + 1)
    return Sasaran(
        str(path), names, np.asarray(months, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    )


def _months_of_row(year_text: str, month: str, where: str) -> tuple[int, int]:
    """The first and last month (since January 1970) a row's sasaran holds for."""
    month_text = month.lower()
    if not month_text:
        first = month_number(_year(year_text, where), 1)
        return first, first + 11
    value: int | None
    if found := _YEAR_MONTH.match(month_text):
        year, value = int(found[1]), int(found[2])
    elif found := _MONTH_YEAR.match(month_text):
        year, value = int(found[2]), int(found[1])
    elif year_text:
        value = _MONTH_NAMES.get(month_text) or whole_number(month_text)
        year = _year(year_text, where)
    else:
        raise InputError(f"{where}: month {month_text!r} is not a month such as 2024-01")
    number = _month_number(year, value, where, month_text)
    return number, number


def _month_number(year: int, month: int | None, where: str, text: str) -> int:
    if month is None or not 1 <= month <= 12 or not 1970 <= year <= 2200:
        raise InputError(f"{where}: month {text!r} is not a month such as 2024-01")
    return month_number(year, month)


def _year(text: str, where: str) -> int:
    value = whole_number(text)
    if value is None or not 1970 <= value <= 2200:
        raise InputError(f"{where}: year {text!r} is not a year such as 2024")
    return value


def _count(raw: str, where: str) -> int:
    """A sasaran: a whole number >= 0 (thousands separators dropped: "1.234", "1,234")."""
    digits = re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", raw)
    value = whole_number(digits) if digits else None
    if value is None or value < 0:
        raise InputError(f"{where}: sasaran {raw!r} is not a whole number >= 0")
    return value


def group_key(name: str, by: str) -> str:
    """A group name reduced for matching: a place's key after the built-in aliases
    (kbtool.places), a facility's name in one spelling, case-folded."""
    if by in PLACE_KINDS:
        key = place_key(name, by)
        known = builtin_aliases().names[by].get(key)
        return place_key(known, by) if known is not None else key
    return (facility_name(name) or "").casefold()


def match_groups(sasaran: Sasaran, labels: Sequence[str], by: str) -> IntArray:
    """The register group (index into `labels`) of each sasaran entry, -1 where none; an
    InputError when no name of the file is one of the register's, naming a few of each."""
    keys = {group_key(label, by): code for code, label in enumerate(labels)}
    distinct = list(dict.fromkeys(sasaran.names))
    codes = {name: keys.get(group_key(name, by), -1) for name in distinct}
    if distinct and labels and all(code < 0 for code in codes.values()):
        raise InputError(
            f"--sasaran {sasaran.source}: none of its {by} names is one of the register's: "
            f"the file has {few(distinct)}; the register has {few(list(labels))}; write the "
            f"names as the register does, or choose the grouping with --by"
        )
    return np.asarray([codes[name] for name in sasaran.names], dtype=np.int64)


def unmatched_names(sasaran: Sasaran, matched: IntArray) -> list[str]:
    """The file's group names that are none of the register's."""
    return list(dict.fromkeys(n for n, c in zip(sasaran.names, matched, strict=True) if c < 0))


def few(names: list[str], shown: int = 5) -> str:
    """A few names, quoted, and how many more there are."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(repr(n) for n in names[:shown]) + more
