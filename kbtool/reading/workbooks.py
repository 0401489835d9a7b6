"""Excel and OpenDocument workbooks (xlsx, xls, ods) through python-calamine.

A sheet's cells become the text a CSV export would show (a numeric NIK its exact digits, a date
2023-01-05), column by column through arrow where a column holds one type; a row's line is its
sheet row.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.errors import InputError
from kbtool.reading.batches import ReadOptions
from kbtool.reading.blocks import TEXT, Block, no_lines
from kbtool.reading.headers import HEADER_SEARCH_LINES, find_header, layout_of
from kbtool.reading.sources import EXPECTED_FORMAT, Source, describe


def workbook_blocks(source: Source, options: ReadOptions) -> Iterator[Block]:
    """The blocks of a workbook's sheet (options.sheet, or the first), from the row after its
    header on; InputError when it cannot be read."""
    import python_calamine

    try:
        if source.path is not None and source.compression is None:
            workbook = python_calamine.CalamineWorkbook.from_path(str(source.path))
        else:
            data = io.BytesIO(source.everything())
            workbook = python_calamine.CalamineWorkbook.from_filelike(data)
    except Exception as err:  # calamine raises several unrelated types
        raise InputError(
            f"{source.name}: cannot read the workbook ({describe(err)}); {EXPECTED_FORMAT}"
        ) from err
    with workbook:
        sheets = list(workbook.sheet_names)
        if options.sheet is not None:
            if options.sheet not in sheets:
                raise InputError(
                    f"{source.name}: no sheet {options.sheet!r}; sheets: "
                    f"{', '.join(sheets) or '(none)'}"
                )
            sheet_name = options.sheet
        elif sheets:
            sheet_name = sheets[0]
        else:
            raise InputError(f"{source.name}: the workbook has no sheets")
        try:
            # skip_empty_area=False keeps row 1 of the sheet at index 0: line = sheet row
            cells = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as err:  # calamine's own error types
            raise InputError(
                f"{source.name}: cannot read sheet {sheet_name!r} ({describe(err)})"
            ) from err
    where = source.name if options.sheet is None else f"{source.name} (sheet {sheet_name})"
    if not cells:
        raise InputError(f"{where}: the sheet is empty; expected a header row")
    candidates = [[_cell_text(v) or "" for v in row] for row in cells[:HEADER_SEARCH_LINES]]
    header_index = find_header(candidates, options.column_overrides, where)
    layout = layout_of(candidates[header_index], options.column_overrides, where)
    width = len(layout.headers)
    step = max(options.batch_rows, 1)
    if header_index + 1 >= len(cells):
        yield Block(layout, [pa.array([], TEXT) for _ in range(width)], no_lines())
    for start in range(header_index + 1, len(cells), step):
        chunk = cells[start : start + step]
        # calamine's rows are rectangular; transposing with zip keeps the work in C
        transposed = list(zip(*chunk, strict=False))[:width]
        columns = [_workbook_column(values) for values in transposed]
        columns += [pa.nulls(len(chunk), TEXT)] * (width - len(columns))
        lines = np.arange(start + 1, start + 1 + len(chunk), dtype=np.int64)
        yield Block(layout, columns, lines)


# workbook column types whose arrow text form is what a CSV export shows (1, true, 2023-01-05)
_CAST_AS_TEXT = (pa.types.is_integer, pa.types.is_boolean, pa.types.is_date)


def _workbook_column(values: Sequence[object]) -> pa.Array:
    """One workbook column as text, typed columns converted by arrow rather than cell by cell."""
    cleaned = [None if v == "" else v for v in values]  # calamine gives "" for an empty cell
    try:
        column = pa.array(cleaned)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        column = None  # mixed types: text and numbers, dates typed as text, ...
    if column is None:
        pass
    elif pa.types.is_string(column.type) or pa.types.is_null(column.type):
        return column.cast(TEXT)
    elif pa.types.is_floating(column.type):
        # whole numbers as digits: a numeric NIK cell must give its exact digit string
        whole = pc.and_(pc.equal(pc.floor(column), column), pc.less(pc.abs(column), 1e17))
        digits = pc.cast(pc.cast(column, pa.int64(), safe=False), TEXT)
        return pc.if_else(whole, digits, pc.cast(column, TEXT))
    elif any(is_type(column.type) for is_type in _CAST_AS_TEXT):
        return pc.cast(column, TEXT)
    elif pa.types.is_timestamp(column.type):
        day = pc.cast(column, pa.date32())
        if pc.all(pc.equal(pc.cast(day, column.type), column)).as_py() is not False:
            return pc.cast(day, TEXT)
        return pc.cast(pc.strftime(column, "%Y-%m-%d %H:%M:%S"), TEXT)
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
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
