"""Reading posyandu registers as they arrive (CSV/TSV/xlsx/stdin) into canonical columns.

Text (comma, semicolon or tab separated; UTF-8, UTF-16 with BOM or Windows-1252; gzip or not),
workbooks (xlsx, xls, ods through python-calamine) and `-` for stdin. Every row read comes out
once: accepted (`ReadBatch.rows`: CANONICAL_COLUMNS + SOURCE_COLUMNS, the line 1-based and
physical) or rejected with file, line, column, value and reason; blank lines are not rows. A
file that cannot be read at all raises `InputError` with one readable line.

Dtypes of `rows`: child_id, name, posyandu, kelurahan, kecamatan, puskesmas are pandas
`string[pyarrow]` (stripped, NA when missing; child_id is never a number); sex int8 (1 male,
2 female, 0 missing); birth_date and visit_date `datetime64[s]` at midnight (NaT missing);
age_months, weight_kg, height_cm float64 (NaN missing); measure int8 (`MEASURE_*` from
kbtool.columns); oedema bool; source_file string; source_line int64.

Data passes sources (bytes, encodings), csv (with long_fields) or workbooks, headers (which
column is which), values and canonical (cells into rows and rejects), and this module (frames).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from kbtool.errors import UsageError
from kbtool.reading.canonical import Converted, Converter
from kbtool.reading.csv import check_csv_header, csv_blocks
from kbtool.reading.headers import (
    check_override_names,
    header_aliases,
    normalise_header,
    parse_column_overrides,
)
from kbtool.reading.sources import Source, open_source, source_list
from kbtool.reading.values import AUTO, DATE_ORDERS
from kbtool.reading.workbooks import open_workbook, sheet_to_read, workbook_blocks

__all__ = [
    "ReadBatch",
    "ReadOptions",
    "check_readable",
    "header_aliases",
    "iter_read",
    "normalise_header",
    "parse_column_overrides",
    "read_file",
    "read_files",
]


@dataclass(frozen=True)
class ReadOptions:
    """How to read a register."""

    column_overrides: Mapping[str, str] = field(default_factory=dict)  # canonical -> header
    sheet: str | None = None  # a workbook's sheet (default: the first)
    keep_raw: bool = False  # also return the accepted rows' original cells
    batch_rows: int = 1_000_000  # about the rows of each `iter_read` batch
    today: date | None = None  # dates after it are in the future (default: date.today())
    # the order of day and month in 05/01/2023: "dmy", "mdy" or "auto" (values.DateOrder)
    date_format: str = AUTO


@dataclass
class ReadBatch:
    """Accepted rows in canonical form, the rejected ones, and the count that reconciles them:
    always `rows_read == len(rows) + len(rejects)`."""

    source: str
    rows: pd.DataFrame  # CANONICAL_COLUMNS + SOURCE_COLUMNS
    raw: pd.DataFrame | None  # (keep_raw) the same rows' original cells as text, same index
    rejects: pd.DataFrame  # REJECT_COLUMNS, one record per rejected row
    rows_read: int
    column_map: dict[str, str]  # each canonical column found -> the input header used
    warnings: list[str] = field(default_factory=list)  # notes for the user (two headers, ...)
    # the rows record oedema: the file has its column, not blank in every row (blank reads "no")
    records_oedema: bool = True


def iter_read(
    source: str | Path, options: ReadOptions | None = None, *, name: str | None = None
) -> Iterator[ReadBatch]:
    """Read one file (or `-` for stdin) in batches of about `options.batch_rows` rows, at least
    one, each reconciling on its own. InputError when the file cannot be read (possibly after
    earlier batches: the damage may lie far in); UsageError for an unknown --column name.
    `name` is what rows, warnings and errors call the file (default: `source`), for a copy read
    in its place (an import's copy of stdin is `-`)."""
    options = options or ReadOptions()
    parts: list[Converted] = []
    for part in _converted(source, options, name):
        parts.append(part)
        if sum(p.rows_read for p in parts) >= options.batch_rows:
            yield _assemble(parts)
            parts = []
    if parts:
        yield _assemble(parts)


def read_file(source: str | Path, options: ReadOptions | None = None) -> ReadBatch:
    """Read one whole file (or `-` for stdin) into a single ReadBatch; see `iter_read`."""
    return _assemble(list(_converted(source, options or ReadOptions())))


def read_files(
    sources: str | Path | Sequence[str | Path], options: ReadOptions | None = None
) -> ReadBatch:
    """Read several files (or one named alone) into one ReadBatch, concatenated in order;
    `source` joins their names with ", "; `column_map` is the first file's plus any column only
    later files have."""
    sources = source_list(sources)
    if not sources:
        raise UsageError("no input files given")
    options = options or ReadOptions()
    return _assemble([part for source in sources for part in _converted(source, options)])


def _converted(
    source: str | Path, options: ReadOptions, name: str | None = None
) -> Iterator[Converted]:
    """The blocks of one file converted, the first always; `name` as iter_read's."""
    check_override_names(options.column_overrides)
    if options.date_format not in DATE_ORDERS:
        raise UsageError(
            f"date format {options.date_format!r}: choose one of {', '.join(DATE_ORDERS)}"
        )
    opened = open_source(str(source))
    name = opened.name = str(source) if name is None else name
    check_sheet_option(opened, options.sheet)
    overrides = options.column_overrides
    if opened.is_workbook:
        blocks = workbook_blocks(opened, overrides, options.sheet, options.batch_rows)
    else:
        blocks = csv_blocks(opened, overrides, options.batch_rows)
    converter = Converter(name, options.today, options.keep_raw, options.date_format)
    try:
        for block in blocks:
            yield converter.convert(block)
    finally:
        blocks.close()
        opened.close()


def check_readable(source: str | Path, options: ReadOptions | None = None) -> None:
    """Raise, without reading its rows, what reading a file would raise before its first row:
    a file that cannot be opened, --sheet on a text file, a text file without a header naming
    the columns kbtool needs, a workbook that cannot be opened or lacks the sheet asked for (a
    workbook's header is checked when it is read: calamine parses a sheet whole)."""
    options = options or ReadOptions()
    check_override_names(options.column_overrides)
    opened = open_source(str(source))
    check_sheet_option(opened, options.sheet)
    try:
        if opened.is_workbook:
            with open_workbook(opened) as workbook:
                sheet_to_read(workbook, opened.name, options.sheet)
        else:
            check_csv_header(opened, options.column_overrides)
    finally:
        opened.close()


def check_sheet_option(opened: Source, sheet: str | None) -> None:
    """--sheet names a sheet of a workbook: with a text file it is a mistake (UsageError), not
    an option to ignore, as an import would know the file by 'sha256#SHEET' and no longer as
    already imported."""
    if sheet is not None and not opened.is_workbook:
        opened.close()
        raise UsageError(
            f"{opened.name}: --sheet {sheet!r} names a sheet of a workbook (xlsx, xls, ods), "
            "and this is a text file; leave --sheet out for it"
        )


def _assemble(parts: list[Converted]) -> ReadBatch:
    """Converted blocks, of one file or several in order, as one ReadBatch."""
    column_map: dict[str, str] = {}
    for part in parts:
        for name, header in part.layout.column_map.items():
            column_map.setdefault(name, header)
    raws = [part.raw for part in parts if part.raw is not None]
    warnings = (w for part in parts for w in (*part.layout.warnings, *part.warnings))
    return ReadBatch(
        source=", ".join(dict.fromkeys(part.source for part in parts)),
        rows=_to_pandas(pa.concat_tables([part.rows for part in parts])),
        raw=_to_pandas(pa.concat_tables(raws, promote_options="default")) if raws else None,
        rejects=_to_pandas(pa.concat_tables([part.rejects for part in parts])),
        rows_read=sum(part.rows_read for part in parts),
        column_map=column_map,
        warnings=list(dict.fromkeys(warnings)),
        records_oedema="oedema" in column_map and not all(p.oedema_blank for p in parts),
    )


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    strings = pd.StringDtype("pyarrow")  # every text column, NA for missing
    return table.to_pandas(types_mapper={pa.string(): strings, pa.large_string(): strings}.get)
