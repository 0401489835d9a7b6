"""Excel and OpenDocument workbooks (xlsx, xls, ods) through python-calamine.

A sheet's cells become the text a CSV export would show (a numeric NIK its exact digits, a date
2023-01-05), column by column through arrow where a column holds one type; a row's line is its
sheet row.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.errors import InputError
from kbtool.reading.canonical import CHUNK_ROWS, Block
from kbtool.reading.headers import HEADER_SEARCH_LINES, find_header, layout_of
from kbtool.reading.sources import EXPECTED_FORMAT, Source, describe
from kbtool.reading.values import TEXT


def workbook_blocks(
    source: Source, overrides: Mapping[str, str], sheet: str | None, batch_rows: int
) -> Generator[Block]:
    """The blocks of a workbook's sheet (`sheet`, or the first), from the row after its header
    on, the first always; InputError when it cannot be read."""
    with open_workbook(source) as workbook:
        sheet_name = sheet_to_read(workbook, source.name, sheet)
        try:
            # skip_empty_area=False keeps row 1 of the sheet at index 0: line = sheet row
            cells = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as err:  # calamine's own error types
            message = f"{source.name}: cannot read sheet {sheet_name!r} ({describe(err)})"
            raise InputError(message) from err
    where = source.name if sheet is None else f"{source.name} (sheet {sheet_name})"
    if not cells:
        raise InputError(f"{where}: the sheet is empty; expected a header row")
    candidates = [[_cell_text(v) or "" for v in row] for row in cells[:HEADER_SEARCH_LINES]]
    header = find_header(candidates, overrides, where)
    layout = layout_of(candidates[header], overrides, where)
    width = len(layout.headers)
    if header + 1 == len(cells):
        yield Block(layout, [pa.chunked_array([], TEXT)] * width, np.zeros(0, dtype=np.int64))
    rows = min(max(batch_rows, 1), CHUNK_ROWS)
    for start in range(header + 1, len(cells), rows):
        chunk = cells[start : start + rows]
        # calamine's rows are rectangular; transposing with zip keeps the work in C
        columns = [_workbook_column(values) for values in list(zip(*chunk, strict=False))[:width]]
        columns += [pa.nulls(len(chunk), TEXT)] * (width - len(columns))
        columns = [pa.chunked_array([column]) for column in columns]
        lines = np.arange(start + 1, start + 1 + len(chunk), dtype=np.int64)
        yield Block(layout, columns, lines)


def open_workbook(source: Source) -> Any:
    """The workbook (python_calamine's CalamineWorkbook, a context manager); InputError when it
    cannot be opened. Its sheets are parsed when asked for, not here."""
    import python_calamine

    try:
        if source.path is not None and source.compression is None:
            return python_calamine.CalamineWorkbook.from_path(str(source.path))
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source.everything()))
    except Exception as err:  # calamine raises several unrelated types
        raise InputError(
            f"{source.name}: cannot read the workbook ({describe(err)}); {EXPECTED_FORMAT}"
        ) from err


def sheet_to_read(workbook: Any, name: str, sheet: str | None) -> str:
    """The name of the sheet to read (`sheet`, or the first); InputError when there is none."""
    sheets = list(workbook.sheet_names)
    if sheet is not None and sheet not in sheets:
        shown = ", ".join(sheets) or "(none)"
        raise InputError(f"{name}: no sheet {sheet!r}; sheets: {shown}")
    if not sheets:
        raise InputError(f"{name}: the workbook has no sheets")
    return sheets[0] if sheet is None else sheet


def _workbook_column(values: Sequence[object]) -> pa.Array:
    """One workbook column as text, typed columns converted by arrow rather than cell by cell."""
    cleaned = [None if v == "" else v for v in values]  # calamine gives "" for an empty cell
    try:
        column = pa.array(cleaned)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed: text and numbers, dates as text, ...
        return pa.array([_cell_text(v) for v in cleaned], TEXT)
    kind = column.type
    if pa.types.is_floating(kind):
        # whole numbers as digits: a numeric NIK cell must give its exact digit string
        whole = pc.and_(pc.equal(pc.floor(column), column), pc.less(pc.abs(column), 1e17))
        digits = pc.cast(pc.cast(column, pa.int64(), safe=False), TEXT)
        return pc.if_else(whole, digits, pc.cast(column, TEXT))
    if pa.types.is_timestamp(kind):
        day = pc.cast(column, pa.date32())
        if pc.all(pc.equal(pc.cast(day, kind), column)).as_py() is not False:
            return pc.cast(day, TEXT)
        return pc.cast(pc.strftime(column, "%Y-%m-%d %H:%M:%S"), TEXT)
    # types whose arrow text form is what a CSV export shows (text, 1, true, 2023-01-05)
    if kind in (pa.string(), pa.null(), pa.int64(), pa.bool_(), pa.date32()):
        return pc.cast(column, TEXT)
    return pa.array([_cell_text(v) for v in cleaned], TEXT)


def _cell_text(value: object) -> str | None:
    """A workbook cell as the text a CSV export would show; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            # whole numbers as digits: a numeric NIK cell must give its exact digit string
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
