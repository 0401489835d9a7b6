"""Reading posyandu registers as they arrive (CSV/TSV/xlsx/stdin) into canonical columns.

One reader for every command. It accepts comma, semicolon and tab separated text (UTF-8 with or
without BOM, UTF-16 with BOM, Windows-1252, optionally gzip-compressed), Excel workbooks (xlsx,
xls, ods through python-calamine) and `-` for stdin, finds the header (the first of the first 20
lines that names the columns kbtool needs), maps Indonesian and e-PPGBM headers onto the
canonical columns and parses values column-wise with pyarrow:

* every accepted row comes out in `ReadBatch.rows` with exactly `CANONICAL_COLUMNS` plus
  `SOURCE_COLUMNS` (the file, and the 1-based physical line; the header is a line too);
* every rejected row comes out once in `ReadBatch.rejects` with file, line, column, value and
  reason; blank lines are not rows; `rows_read == len(rows) + len(rejects)` always;
* a file that cannot be read at all raises `InputError` with one readable line.

Dtypes of `rows`: child_id, name, posyandu, kelurahan, kecamatan, puskesmas are pandas
`string[pyarrow]` (stripped, NA when missing; child_id is never a number); sex int8 (1 male,
2 female, 0 missing); birth_date and visit_date `datetime64[s]` at midnight (NaT missing);
age_months, weight_kg, height_cm float64 (NaN missing); measure int8 (`MEASURE_LENGTH`,
`MEASURE_HEIGHT`, `MEASURE_UNKNOWN` from kbtool.columns); oedema bool; source_file string;
source_line int64.

The modules, in the order data passes them: sources (opening, gzip, encodings), csv and
workbooks (cells and lines, with skipped for the rows pyarrow skips), headers (which column is
which), values (cells into measurements), canonical and rejects (rows kept and rejected),
batches (pandas frames).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from kbtool.errors import UsageError
from kbtool.reading.batches import ReadBatch, ReadOptions, assemble, concat, empty_raw
from kbtool.reading.blocks import Block
from kbtool.reading.canonical import Converted, Converter, empty_rows
from kbtool.reading.csv import csv_blocks
from kbtool.reading.headers import (
    Layout,
    check_override_names,
    normalise_header,
    parse_column_overrides,
)
from kbtool.reading.rejects import empty_rejects
from kbtool.reading.sources import open_source
from kbtool.reading.workbooks import workbook_blocks

__all__ = [
    "ReadBatch",
    "ReadOptions",
    "iter_read",
    "normalise_header",
    "parse_column_overrides",
    "read_file",
    "read_files",
]


def iter_read(source: str | Path, options: ReadOptions | None = None) -> Iterator[ReadBatch]:
    """Read one file (or `-` for stdin) in batches of about `options.batch_rows` rows.

    Memory stays bounded by the batch size whatever the file's length. Every batch reconciles
    on its own (`rows_read == len(rows) + len(rejects)`); at least one batch is yielded. Raises
    InputError when the file cannot be read at all (possibly after earlier batches, if the
    damage is far into a large file) and UsageError for an unknown --column name.
    """
    options = options or ReadOptions()
    check_override_names(options.column_overrides)
    name = str(source)
    opened = open_source(name)
    try:
        if opened.kind == "workbook":
            blocks = workbook_blocks(opened, options)
        else:
            blocks = csv_blocks(opened, options)
        yield from _batches(blocks, name, options)
    finally:
        opened.close()


def read_file(source: str | Path, options: ReadOptions | None = None) -> ReadBatch:
    """Read one whole file (or `-` for stdin) into a single ReadBatch; see `iter_read`."""
    return concat(list(iter_read(source, options)))


def read_files(sources: Sequence[str | Path], options: ReadOptions | None = None) -> ReadBatch:
    """Read several files into one ReadBatch: rows, raw and rejects concatenated in order.

    `source` is the sources joined with ", "; `column_map` is the first file's mapping plus any
    column only later files have.
    """
    if not sources:
        raise UsageError("no input files given")
    return concat([read_file(source, options) for source in sources])


def _batches(blocks: Iterator[Block], source: str, options: ReadOptions) -> Iterator[ReadBatch]:
    """The converted blocks gathered into batches of at least `options.batch_rows` rows read."""
    converter = Converter(source, options.today, options.keep_raw)
    pending: list[Converted] = []
    pending_rows = 0
    layout: Layout | None = None
    yielded = False
    for block in blocks:
        layout = block.layout
        converted = converter.convert(block)
        pending.append(converted)
        pending_rows += converted.rows_read
        if pending_rows >= options.batch_rows:
            yield assemble(pending, source)
            yielded = True
            pending, pending_rows = [], 0
    if pending or not yielded:
        if not pending:
            layout = layout or Layout((), (), {}, ())
            raw = empty_raw(layout.raw_names) if options.keep_raw else None
            pending = [Converted(empty_rows(), raw, empty_rejects(), 0, layout)]
        yield assemble(pending, source)
