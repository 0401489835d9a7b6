"""Small hand-made tables (--sasaran, --kbm): a CSV or a workbook sheet, read as text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kbtool.errors import InputError
from kbtool.reading import normalise_header

# Excel on Indonesian Windows saves CSV as Windows-1252; everything else is UTF-8
_ENCODINGS = ("utf-8-sig", "cp1252")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def read_small_table(path: str | Path, what: str) -> pd.DataFrame:
    """Every cell of a CSV (comma, semicolon or tab) or of a workbook's first sheet, as text
    stripped of spaces ("" when empty), the header as written. `what` names the option in
    errors."""
    shown = str(path)
    if not Path(path).is_file():
        raise InputError(f"{what} {shown}: no such file")
    try:
        if Path(path).suffix.lower() in _WORKBOOK_SUFFIXES:
            table = pd.read_excel(path, engine="calamine", dtype=str)
        else:
            table = _read_csv(path)
    except InputError:
        raise
    except Exception as err:  # pandas and calamine raise several unrelated types
        raise InputError(f"{what} {shown}: cannot read it as CSV or xlsx: {err}") from err
    table.columns = [str(c).strip() for c in table.columns]
    table = table.dropna(how="all")
    return table.fillna("").astype(str).apply(lambda column: column.str.strip())


def _read_csv(path: str | Path) -> pd.DataFrame:
    for encoding in _ENCODINGS:
        try:
            return pd.read_csv(
                path, sep=None, engine="python", dtype=str, encoding=encoding,
                skipinitialspace=True,
            )  # fmt: skip
        except UnicodeDecodeError:
            continue
    raise AssertionError("unreachable: cp1252 decodes any byte")  # pragma: no cover


def find_column(table: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The header of `table` that normalises to one of `names` (the first such), or None."""
    wanted = {normalise_header(name) for name in names}
    found = [c for c in table.columns if normalise_header(c) in wanted]
    return found[0] if found else None


def line_of(table: pd.DataFrame, index: object) -> int:
    """The file line of a table row (the header is line 1)."""
    return int(str(index)) + 2
