"""Small hand-made tables (--sasaran, --kbm): a CSV or a workbook sheet, read as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from kbtool.errors import InputError
from kbtool.reading import normalise_header
from kbtool.reading.csv import sniff_delimiter
from kbtool.reading.headers import HEADER_SEARCH_LINES, unique_names
from kbtool.reading.sources import read_text

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

# whether a row of cells is the header a table is looked for by
HeaderTest = Callable[[Sequence[str]], bool]


def read_small_table(path: str | Path, what: str, header: HeaderTest | None = None) -> pd.DataFrame:
    """Every cell of a CSV (comma, semicolon or tab) or of a workbook's first sheet, as text
    stripped of spaces ("" when empty), blank rows left out. The header is the first of the
    first 20 rows that `header` accepts (exports start with a title, as registers do), else
    the first row that is not blank. The index is each row's line in the file (1-based).
    `what` names the option in errors."""
    shown = str(path)
    if not Path(path).is_file():
        raise InputError(f"{what} {shown}: no such file")
    try:
        if Path(path).suffix.lower() in _WORKBOOK_SUFFIXES:
            sheet = pd.read_excel(path, engine="calamine", dtype=str, header=None)
            rows = sheet.fillna("").astype(str).to_numpy().tolist()
        else:
            rows = _csv_rows(path, header)
    except Exception as err:  # pandas, calamine and csv raise several unrelated types
        raise InputError(f"{what} {shown}: cannot read it as CSV or xlsx: {err}") from err
    rows = [[str(cell).strip() for cell in row] for row in rows]
    filled = [line for line, row in enumerate(rows, start=1) if any(row)]
    if not filled:
        return pd.DataFrame()
    tried = [line for line in filled[:HEADER_SEARCH_LINES] if header and header(rows[line - 1])]
    start = (tried or filled)[0]
    names = list(unique_names(rows[start - 1]))
    lines = [line for line in filled if line > start]
    for line in lines:
        if any(rows[line - 1][len(names) :]):
            raise InputError(f"{what} {shown}, line {line}: more cells than the header has")
    cells = [(rows[line - 1] + [""] * len(names))[: len(names)] for line in lines]
    return pd.DataFrame(cells, columns=names, index=lines, dtype=str)


def _csv_rows(path: str | Path, header: HeaderTest | None) -> list[list[str]]:
    """The rows of a CSV, split at the delimiter of its header line (the first line `header`
    accepts, else the first line)."""
    text = read_text(str(path))
    lines = [line for line in text.splitlines()[:HEADER_SEARCH_LINES] if line.strip()]
    delimiters = [sniff_delimiter(line) for line in lines]
    found = [
        d for line, d in zip(lines, delimiters, strict=True) if header and header(_cells(line, d))
    ]
    delimiter = (found or delimiters or [","])[0]
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _cells(line: str, delimiter: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter), [])]


def find_column(headers: Iterable[str], names: Sequence[str]) -> str | None:
    """The header (of a table's columns, or a row of cells) that normalises to one of `names`
    (the first such), or None."""
    wanted = {normalise_header(name) for name in names}
    return next((c for c in headers if normalise_header(c) in wanted), None)


def whole_number(text: str) -> int | None:
    """A cell's whole number ("800", "800.0", "800,0"), None when it holds none."""
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def line_of(index: object) -> int:
    """The file line of a table row (read_small_table indexes rows by line)."""
    return int(str(index))
