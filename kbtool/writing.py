"""Every result kbtool writes: the formats, how a command chooses one, and the writers.

A command picks a format (:func:`resolve_format`) and hands a DataFrame or Arrow table with its
:class:`Provenance` to :func:`write_result`, or csv/jsonl batches to :func:`write_batches`
(the same bytes, written as they come). Nothing else in kbtool writes results.

- Machine formats (csv, jsonl, json, parquet) are plain and stable: the frame's columns, in the
  frame's order, under the frame's names. The index is not written (reset it if it matters).
- csv/jsonl/json text: floats in shortest round-trip form (``74.2``, never ``74.19999999999999``)
  and ``0`` for ``-0.0``, integers as integers, booleans as ``true``/``false``, dates as
  ``yyyy-mm-dd``, a missing value as an empty CSV cell or JSON ``null``. CSV quotes a cell only
  when it holds a comma, quote or line break (RFC 4180).
- Provenance travels in json, parquet and xlsx (:class:`Provenance`); a file is written
  atomically (:func:`atomic_write`), never left half-written by a killed job.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kbtool import __version__
from kbtool.columns import REJECT_COLUMNS
from kbtool.console import err_console, stdout_is_terminal
from kbtool.errors import OutputError, UsageError
from kbtool.words import in_language, say, terms

if TYPE_CHECKING:  # pandas is only handed in; pyarrow converts it
    import pandas as pd

# ---------------------------------------------------------------------------------------------
# Formats, and how a command chooses one

FORMATS = ("table", "csv", "jsonl", "json", "parquet", "xlsx")
_MACHINE = "|".join(FORMATS[1:])  # the formats a file can hold, as a message names them
BINARY_FORMATS = frozenset({"parquet", "xlsx"})
# Formats whose rows can be written batch by batch as they are computed (write_batches).
STREAMED_FORMATS = frozenset({"csv", "jsonl"})
# -o suffix -> format when --format is not given (.ndjson is the other common name for JSON lines).
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


def is_stdout(output: str | os.PathLike[str] | None) -> bool:
    """Whether `output` (a -o value) means stdout."""
    return output is None or str(output) == "-"


def resolve_format(fmt: str | None, output: str | os.PathLike[str] | None) -> str:
    """The output format: explicit ``--format``, else the ``-o`` suffix, else table/csv by stdout.

    Without ``--format`` and ``-o``, a terminal gets a table preview and a pipe gets CSV.
    Raises UsageError for a table to a file, an unknown suffix, or parquet/xlsx to a terminal.
    """
    if fmt is not None:
        chosen = fmt.strip().lower()
        if chosen not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    elif not is_stdout(output):
        chosen = format_of_suffix(str(output), f"add --format {_MACHINE} or use one of")
    else:
        chosen = "table" if stdout_is_terminal() else "csv"
    check_destination(chosen, output)
    return chosen


def format_of_suffix(path: str | os.PathLike[str], hint: str) -> str:
    """The format a file name's suffix says; UsageError naming the suffixes after `hint` (what
    the user can do) when it says none."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise UsageError(
            f"cannot tell the format of {str(path)!r} from its suffix; "
            f"{hint} {', '.join(SUFFIX_FORMATS)}"
        )
    return SUFFIX_FORMATS[suffix]


def check_destination(fmt: str, output: str | os.PathLike[str] | None) -> None:
    """Refuse a table to a file, and a binary format to a terminal (UsageError)."""
    if fmt == "table" and not is_stdout(output):
        raise UsageError(
            f"the table format only prints to the terminal; to write {str(output)!r} use "
            f"--format {_MACHINE} or a file name ending in one of those"
        )
    if fmt in BINARY_FORMATS and is_stdout(output) and stdout_is_terminal():
        raise UsageError(f"refusing to write {fmt} to a terminal; use -o FILE or pipe it")


# ---------------------------------------------------------------------------------------------
# Provenance

WHO_REFERENCE = "WHO Child Growth Standards (2006)"
# What the sheets that say how a result was made ("about", "method") call their rows and a
# source's keys, in each language.
ABOUT, SOURCE_KEYS = terms("writing.about"), terms("writing.source_keys")
# Key of the provenance JSON in a Parquet file's schema metadata.
PARQUET_METADATA_KEY = b"kbtool"


@dataclass
class Provenance:
    """Where a result came from: written into json ``meta``, parquet metadata and the xlsx sheet.

    ``options`` are the options the command ran with (name -> value, as the user would recognise
    them); ``sources`` one dict per input, e.g. ``{"file": name, "sha256": ..., "rows": n}``;
    ``notes`` free text such as the method and selection rule.
    """

    command: str
    options: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reference: str = WHO_REFERENCE
    kbtool_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (paths, dates and enums become strings, tuples lists)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    """``value`` with every part turned into something ``json.dumps`` accepts."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(item) for item in items]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return str(value)  # paths and anything else


# ---------------------------------------------------------------------------------------------
# Atomic files and stdout


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces ``path`` only when the ``with`` block completes.

    The data goes to a hidden ``.NAME.*.part`` file beside it, is fsync'd and renamed over
    ``path`` (``os.replace`` is atomic), and the rename made durable. On any error the temporary
    file is removed, ``path`` is untouched, and an OSError becomes a one-line OutputError. A
    symlink is followed; a path that is not a regular file (``/dev/null``, a named pipe) is
    written in place: renaming over it would replace the device or pipe with a plain file.
    """
    shown = str(path)
    target = check_writable(path)
    parent = target.parent
    try:
        if target.exists() and not target.is_file():
            with open(target, "wb") as handle:
                yield handle
            return
        mode = _new_file_mode(target)
        fd, temp_name = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, mode)
            os.replace(temp_name, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp_name)
            raise
    except OSError as err:
        raise OutputError(f"cannot write {shown}: {err.strerror or err}") from err
    fsync_dir(parent)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The file `path` names (a symlink followed), or OutputError when it cannot be written:
    its directory missing or not writable, or a directory there. Checked before work whose
    result would otherwise be lost."""
    shown = str(path)
    if _is_device_or_pipe(path):
        # /dev/stdout in a pipeline resolves to "pipe:[N]", a name that is no file: keep the path
        return Path(path)
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        missing = Path(shown).parent
        raise OutputError(f"cannot write {shown}: directory '{missing}' does not exist; create it")
    if target.is_dir():
        raise OutputError(f"cannot write {shown}: it is a directory")
    if not os.access(target.parent, os.W_OK):
        raise OutputError(f"cannot write {shown}: directory '{Path(shown).parent}' is not writable")
    return target


def _is_device_or_pipe(path: str | os.PathLike[str]) -> bool:
    """True when `path` (a symlink followed) is a device, a pipe or a socket: written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _new_file_mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 minus the umask."""
    with suppress(OSError):
        return target.stat().st_mode & 0o7777
    # mkstemp creates 0600; os.umask is the only portable way to read the umask (set, restore).
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a written file's data to disk (before anything points at it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or creation in directory `path` durable; best effort (not every platform
    can open a directory)."""
    with suppress(OSError):
        fsync_file(path)


def _stdout_binary() -> IO[bytes]:
    sys.stdout.flush()  # keep anything already printed through the text layer in order
    buffer: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        raise OutputError("cannot write binary data: stdout has no byte stream")
    return buffer


@contextmanager
def _stdout_errors() -> Iterator[None]:
    """On stdout, a closed pipe ends the program quietly and another OSError is one line.

    The reader stopping (``kbtool ... | head -1``) is not our error: exit 0, with stdout pointed
    at devnull so the final flush cannot raise again (Python's "Note on SIGPIPE" recipe).
    """
    try:
        yield
    except OSError as err:
        if isinstance(err, BrokenPipeError) or err.errno == errno.EPIPE:
            with suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            raise SystemExit(0) from None
        raise OutputError(f"cannot write to stdout: {err.strerror or err}") from err


def _deliver(
    fmt: str, output: str | os.PathLike[str] | None, write: Callable[[IO[bytes]], None]
) -> None:
    """Run ``write`` on the destination: a file replaced atomically, or stdout."""
    if not is_stdout(output):
        assert output is not None
        with atomic_write(output) as handle:
            write(handle)
        return
    with _stdout_errors():
        stdout = _stdout_binary()
        if fmt in BINARY_FORMATS:
            # Parquet and xlsx need to seek; build them in memory, then stream the bytes.
            staged = io.BytesIO()
            write(staged)
            stdout.write(staged.getbuffer())
        else:
            write(stdout)
        stdout.flush()


# ---------------------------------------------------------------------------------------------
# pandas -> Arrow


def frame_to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """The frame as an Arrow table, columns in order, index dropped (an Arrow table as is).

    A column Arrow cannot type (an object column mixing numbers and text) is written as text.
    """
    if isinstance(frame, pa.Table):
        return frame
    names = [str(name) for name in frame.columns]
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise ValueError(f"duplicate column names cannot be written: {', '.join(duplicates)}")
    renamed = frame.set_axis(names, axis=1)
    try:
        return pa.Table.from_pandas(renamed, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        arrays = []
        for name in names:
            series = renamed[name]
            try:
                arrays.append(pa.Array.from_pandas(series))
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                arrays.append(pa.Array.from_pandas(series.astype("string")))
        return pa.Table.from_arrays(arrays, names=names)


def _normalise(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Dates as date32 (a datetime column holding only midnights is a date column), datetimes
    in whole seconds when they are (no ".000000" tail). Judged on the whole column."""
    kind = values.type
    if pa.types.is_date64(kind):
        return values.cast(pa.date32())
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            days = values.cast(pa.date32(), safe=False)
            if pc.all(pc.equal(days.cast(kind), values)).as_py() is not False:
                return days
        with suppress(pa.ArrowInvalid):
            return values.cast(pa.timestamp("s", tz=kind.tz))
    return values


def _normalise_table(table: pa.Table) -> pa.Table:
    if not table.num_columns:  # from_arrays would lose the number of rows
        return table
    return pa.Table.from_arrays([_normalise(c) for c in table.columns], names=table.column_names)


# ---------------------------------------------------------------------------------------------
# Text: csv, json lines, and the cells of the table view and of xlsx column widths
#
# pyarrow.csv.write_csv quotes every text cell and writes -0, nan and "2024-01-01 10:30:00", so
# cells are made text here, by Arrow kernels on whole columns, and joined by one kernel a batch.

_STR = pa.large_string()


@cache
def _text(value: str) -> pa.Scalar:
    """A constant text as the kernels' string type (a plain str would be Arrow's `string`)."""
    return pa.scalar(value, _STR)


# Rows rendered at a time: fewer cost more calls per row, more hold more texts in memory.
_BATCH_ROWS = 262_144
_CSV_SPECIAL = r'[",\r\n]'  # a cell holding one of these is quoted (RFC 4180 section 2)
_JSON_SPECIAL = r'[\x00-\x1f"\\]'  # characters a JSON string escapes (RFC 8259 section 7)
# Backslash first, so that the escapes made after it are not escaped again.
_JSON_ESCAPES = {"\\": "\\\\", '"': '\\"'} | {
    chr(code): json.dumps(chr(code))[1:-1] for code in range(0x20)
}


def _quote_csv(texts: pa.Array) -> pa.Array:
    special = pc.match_substring_regex(texts, _CSV_SPECIAL)
    if not pc.any(special).as_py():
        return texts
    doubled = pc.replace_substring(texts, '"', '""')
    quoted = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
    return pc.if_else(special, quoted, texts)


def _quote_json(texts: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(texts, _JSON_SPECIAL)).as_py():
        for char, escaped in _JSON_ESCAPES.items():
            texts = pc.replace_substring(texts, char, escaped)
    return pc.binary_join_element_wise(_text('"'), texts, _text('"'), _text(""))


@dataclass(frozen=True)
class _Dialect:
    missing: str  # the text of a missing value
    quote: Callable[[pa.Array], pa.Array]  # text values -> cells
    finite_only: bool  # JSON has no inf: write null


_CSV = _Dialect(missing="", quote=_quote_csv, finite_only=False)
_JSON = _Dialect(missing="null", quote=_quote_json, finite_only=True)
_PLAIN = _Dialect(missing="", quote=lambda texts: texts, finite_only=False)


def _cells(values: pa.Array, dialect: _Dialect, prefix: str = "", suffix: str = "") -> pa.Array:
    """The text of each value of a `_normalise`d array between `prefix` and `suffix` (a JSON key,
    the end of a row): large strings, no nulls."""
    kind = values.type
    if pa.types.is_dictionary(kind):  # each distinct value rendered once, the missing one last
        texts = _cells(_normalise(values.dictionary), dialect, prefix, suffix)
        texts = pa.concat_arrays([texts, pa.array([prefix + dialect.missing + suffix], _STR)])
        cells = pc.take(texts, pc.fill_null(values.indices.cast(pa.int32()), len(texts) - 1))
        # take adds a validity bitmap; without it (there are no nulls) rows join faster
        return pa.LargeStringArray.from_buffers(len(cells), *cells.buffers()[1:])
    if not pa.types.is_nested(kind):
        # Register columns repeat few values (z-scores, flags, places): a dictionary.
        encoded = pc.dictionary_encode(values)
        if 2 * len(encoded.dictionary) < len(values):
            return _cells(encoded, dialect, prefix, suffix)
    if pa.types.is_floating(kind):
        values = pc.add(values, pa.scalar(0.0, kind))  # -0.0 + 0.0 is 0.0 (IEEE 754): no "-0"
        missing = pc.invert(pc.is_finite(values)) if dialect.finite_only else pc.is_nan(values)
        texts = pc.cast(pc.if_else(missing, pa.scalar(None, kind), values), _STR)
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_boolean(kind):
        texts = pc.cast(values, _STR)
    elif pa.types.is_timestamp(kind):
        pattern = "%Y-%m-%dT%H:%M:%S" + ("%z" if kind.tz else "")
        texts = dialect.quote(pc.cast(pc.strftime(values, pattern), _STR))
    else:
        try:
            texts = dialect.quote(pc.cast(values, _STR))
        except pa.ArrowNotImplementedError as err:
            raise TypeError(f"cannot write a column of Arrow type {kind} as text") from err
    texts = pc.fill_null(texts, _text(dialect.missing))
    if prefix or suffix:
        texts = pc.binary_join_element_wise(_text(prefix), texts, _text(suffix), _text(""))
    return texts


def _text_batches(
    table: pa.Table, dialect: _Dialect, row_start: str, row_end: str
) -> Iterator[pa.Buffer]:
    """The rows of a `_normalise`d table as text, a batch of rows at a time: each row is
    `row_start`, its cells (JSON: each after its key) joined by commas, `row_end`."""
    if table.num_columns == 0:  # rows without cells: nothing in csv, {} in json
        if dialect is _JSON and table.num_rows:
            yield pa.py_buffer((row_start + row_end).encode() * table.num_rows)
        return
    names = table.column_names
    keys = [
        json.dumps(name, ensure_ascii=False) + ":" if dialect is _JSON else "" for name in names
    ]
    prefixes = [row_start + keys[0], *keys[1:]]
    suffixes = [""] * (len(names) - 1) + [row_end]
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        columns = zip(batch.columns, prefixes, suffixes, strict=True)
        cells = [_cells(values, dialect, prefix, suffix) for values, prefix, suffix in columns]
        rows = pc.binary_join_element_wise(*cells, _text(","))
        # the rows end to end are the span of their data buffer: written without a copy
        offsets = np.frombuffer(rows.buffers()[1], np.int64)
        yield rows.buffers()[2][offsets[rows.offset] : offsets[rows.offset + len(rows)]]


def _write_csv_header(names: Sequence[str], sink: IO[bytes]) -> None:
    if names:
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(names)
        sink.write(header.getvalue().encode())


def _write_csv(table: pa.Table, sink: IO[bytes]) -> None:
    _write_csv_header(table.column_names, sink)
    _write_lines(_normalise_table(table), _CSV, sink)


def _write_lines(table: pa.Table, dialect: _Dialect, sink: IO[bytes]) -> None:
    """The rows of csv (after its header) or jsonl, each ending in a line break."""
    for text in _text_batches(table, dialect, *(("{", "}\n") if dialect is _JSON else ("", "\n"))):
        sink.write(text)


def _write_json_document(table: pa.Table, sink: IO[bytes], provenance: Provenance) -> None:
    meta = json.dumps(provenance.to_dict(), ensure_ascii=False)
    sink.write(f'{{"meta": {meta},\n"data": ['.encode())
    for number, text in enumerate(_text_batches(table, _JSON, ",\n{", "}")):
        sink.write(text if number else text[1:])  # no comma before the first record
    sink.write(b"\n]}\n")


# ---------------------------------------------------------------------------------------------
# Parquet and xlsx

# Rows per worksheet, header included (Microsoft, "Excel specifications and limits").
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384


def _write_parquet(table: pa.Table, sink: IO[bytes], provenance: Provenance) -> None:
    import pyarrow.parquet as pq  # an import that csv/jsonl runs need not pay

    metadata = dict(table.schema.metadata or {})
    metadata[PARQUET_METADATA_KEY] = json.dumps(provenance.to_dict()).encode()
    pq.write_table(table.replace_schema_metadata(metadata), sink)


def _excel_values(values: pa.Array) -> tuple[list[Any], str | None]:
    """Python values for xlsxwriter (missing -> None) and the number format the column needs."""
    values = _normalise(values)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    kind = values.type
    if pa.types.is_date32(kind):
        return values.to_pylist(), "yyyy-mm-dd"
    if pa.types.is_timestamp(kind):
        # Excel has no time zones: write the wall-clock time of the column's zone.
        naive = values.cast(pa.timestamp("us")) if kind.tz is None else pc.local_timestamp(values)
        return naive.to_pylist(), "yyyy-mm-dd hh:mm:ss"
    if pa.types.is_floating(kind):
        values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, kind))
    elif not (pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind)):
        values = pc.cast(values, _STR)
    return values.to_pylist(), None


def _column_width(name: str, values: pa.Array) -> int:
    """Characters wide: header or the longest of the first 1,000 values, within 8-50."""
    head = _cells(_normalise(values.slice(0, 1000)), _PLAIN)
    longest = pc.max(pc.utf8_length(head)).as_py() or 0  # None: no values
    return int(min(50, max(8, len(name), longest) + 2))


def _write_xlsx(
    table: pa.Table,
    sink: IO[bytes],
    provenance: Provenance,
    extra_sheets: Mapping[str, pd.DataFrame],
    data_sheet: str = "data",
    lang: str = "en",
) -> None:
    import xlsxwriter  # only xlsx output pays for the import

    sheets = [(data_sheet, table), *((name, frame_to_arrow(f)) for name, f in extra_sheets.items())]
    for name, sheet in sheets:
        if sheet.num_rows + 1 > XLSX_MAX_ROWS or sheet.num_columns > XLSX_MAX_COLUMNS:
            raise OutputError(
                f"the {name} sheet has {sheet.num_rows:,} rows x {sheet.num_columns:,} columns; "
                f"an xlsx sheet holds at most {XLSX_MAX_ROWS - 1:,} x {XLSX_MAX_COLUMNS:,}: "
                "use --format csv or parquet"
            )
    # Text stays text: no formulas from "=..." cells, no hyperlinks, no numbers from "007".
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(sink, options)
    bold = workbook.add_format({"bold": True})
    formats: dict[str | None, Any] = {None: None}  # number format -> its cell format
    for name, sheet in sheets:
        worksheet = workbook.add_worksheet(name)
        worksheet.write_row(0, 0, sheet.column_names, bold)
        worksheet.freeze_panes(1, 0)
        for index, column in enumerate(sheet.columns):
            values = column.combine_chunks()
            cells, number_format = _excel_values(values)
            if number_format not in formats:
                formats[number_format] = workbook.add_format({"num_format": number_format})
            worksheet.write_column(1, index, cells, formats[number_format])
            worksheet.set_column(index, index, _column_width(sheet.column_names[index], values))
        if sheet.num_columns:
            worksheet.autofilter(0, 0, sheet.num_rows, sheet.num_columns - 1)
    _write_about_sheet(workbook.add_worksheet("about"), bold, provenance, lang)
    workbook.close()


def _about_cell(value: Any) -> Any:
    """A provenance value as one xlsx cell: scalars as they are, anything else as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _write_about_sheet(worksheet: Any, bold: Any, provenance: Provenance, lang: str) -> None:
    """The sheet "about": the provenance, its labels and notes in `lang` (the option names and
    values, and what json and parquet keep, as they are)."""
    about = provenance.to_dict()
    words, source_keys = ABOUT[lang], SOURCE_KEYS[lang]
    rows: list[tuple[list[Any], bool]] = [
        ([words["key"], words["value"]], True),
        ([words["command"], about["command"]], False),
        ([words["version"], about["kbtool_version"]], False),
        ([words["reference"], about["reference"]], False),
        ([words["created"], about["created"]], False),
    ]
    if about["options"]:
        rows += [([], False), ([words["option"], words["value"]], True)]
        rows += [([key, _about_cell(value)], False) for key, value in about["options"].items()]
    if about["notes"]:
        rows += [([], False), ([words["notes"]], True)]
        rows += [([in_language(note, lang)], False) for note in about["notes"]]
    if about["sources"]:
        keys = list(dict.fromkeys(key for source in about["sources"] for key in source))
        rows += [([], False), ([words["sources"]], True)]
        rows += [([source_keys.get(key, key) for key in keys], True)]
        rows += [
            ([_about_cell(source.get(key)) for key in keys], False) for source in about["sources"]
        ]
    for number, (values, is_heading) in enumerate(rows):
        worksheet.write_row(number, 0, values, bold if is_heading else None)
    worksheet.set_column(0, 0, 24)
    worksheet.set_column(1, 1, 70)


# ---------------------------------------------------------------------------------------------
# The table view


def _print_table(
    frame: pd.DataFrame | pa.Table,
    *,
    title: str | None,
    max_rows: int,
    row_styles: Sequence[str | None] | None,
    cell_styles: Mapping[str, Sequence[str | None]] | None,
    lang: str,
    total_columns: int | None,
) -> None:
    """The rows on the terminal, never wrapping a cell: the leading columns that fit its width
    (the first always), and a line on stderr when some had to stay out (of `total_columns`, the
    result's, when the shown frame is a narrower view of it)."""
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    total = len(frame)
    if row_styles is not None and len(row_styles) != total:
        raise ValueError(f"row_styles has {len(row_styles)} entries for {total} rows")
    shown = max(0, min(max_rows, total))
    head = (
        frame.slice(0, shown) if isinstance(frame, pa.Table) else frame_to_arrow(frame.iloc[:shown])
    )
    texts = [_cells(_normalise(c.combine_chunks()), _PLAIN).to_pylist() for c in head.columns]
    console = Console(highlight=False)
    table = Table(title=title, box=box.SIMPLE_HEAD, header_style="bold", title_style="bold")
    unbounded = console.options.update(max_width=1 << 20)  # a measure not cut to the screen
    fitting = 0
    for name, column, cells in zip(head.column_names, head.columns, texts, strict=True):
        numeric = pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
        width = max([cell_len(name), *map(cell_len, cells)])
        table.add_column(
            name, justify="right" if numeric else "left", no_wrap=True, min_width=width
        )
        if fitting and Measurement.get(console, unbounded, table).minimum > console.width:
            table.columns.pop()  # the first column that does not fit, and those after it
            break
        fitting += 1
    styles = dict(cell_styles or {})
    for row in range(head.num_rows):
        cells = [
            Text(texts[i][row], style=(styles[name][row] or "") if name in styles else "")
            for i, name in enumerate(head.column_names[:fitting])
        ]
        table.add_row(*cells, style=row_styles[row] if row_styles is not None else None)
    console.print(table)
    columns = max(total_columns or 0, head.num_columns)
    for note, part, whole in (
        ("columns_shown", fitting, columns),
        ("rows_shown", head.num_rows, total),
    ):
        if part < whole:
            err_console.print(say(note, lang, shown=part, total=whole), style="dim", markup=False)


# ---------------------------------------------------------------------------------------------
# The entry points


def write_result(
    frame: pd.DataFrame | pa.Table,
    *,
    fmt: str,
    output: str | os.PathLike[str] | None,
    provenance: Provenance,
    title: str | None = None,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
    data_sheet: str = "data",
    table_frame: pd.DataFrame | pa.Table | None = None,
    max_table_rows: int = 50,
    row_styles: Sequence[str | None] | None = None,
    cell_styles: Mapping[str, Sequence[str | None]] | None = None,
    lang: str = "en",
    total_columns: int | None = None,
) -> None:
    """Write ``frame`` (a DataFrame or an Arrow table) as ``fmt`` (one of FORMATS) to
    ``output`` (a path, or ``-``/None for stdout); ``provenance`` goes into json/parquet/xlsx.

    xlsx: ``extra_sheets`` follow the first sheet (``data_sheet``), before ``about``. The table
    view shows ``table_frame`` (default ``frame``), at most ``max_table_rows`` rows, with rich
    styles per row (``row_styles``) and per cell (``cell_styles``: column -> one per row), its
    notes in ``lang``; ``total_columns`` says how many columns a narrower view stands for.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_destination(fmt, output)
    if fmt == "table":
        with _stdout_errors():
            _print_table(
                frame if table_frame is None else table_frame,
                title=title,
                max_rows=max_table_rows,
                row_styles=row_styles,
                cell_styles=cell_styles,
                lang=lang,
                total_columns=total_columns,
            )
            sys.stdout.flush()
        return
    table = frame_to_arrow(frame)

    def write(sink: IO[bytes]) -> None:
        if fmt == "csv":
            _write_csv(table, sink)
        elif fmt == "jsonl":
            _write_lines(_normalise_table(table), _JSON, sink)
        elif fmt == "json":
            _write_json_document(_normalise_table(table), sink, provenance)
        elif fmt == "parquet":
            _write_parquet(table, sink, provenance)
        else:
            _write_xlsx(table, sink, provenance, extra_sheets or {}, data_sheet, lang)

    _deliver(fmt, output, write)


def write_batches(
    frames: Iterable[pd.DataFrame | pa.Table],
    *,
    fmt: str,
    output: str | os.PathLike[str] | None,
) -> None:
    """Write frames with the same columns as one csv or jsonl result: the bytes write_result
    writes for them concatenated, but each frame written as it arrives, so a long input is never
    held whole and its first rows reach a pipe while later ones are computed. A frame whose
    columns differ from the first's is a ValueError."""
    if fmt not in STREAMED_FORMATS:
        raise ValueError(f"only {', '.join(sorted(STREAMED_FORMATS))} can be written in batches")
    check_destination(fmt, output)
    tables = (frame_to_arrow(frame) for frame in frames)
    first = next(tables, None)
    if first is None:
        raise ValueError("write_batches needs at least one frame (it names the columns)")
    if any(pa.types.is_timestamp(kind) for kind in first.schema.types):
        # whether a datetime column is written as dates depends on all its values at once
        first = pa.concat_tables([first, *tables])
    names = first.column_names

    def write(sink: IO[bytes]) -> None:
        if fmt == "csv":
            _write_csv_header(names, sink)
        for table in chain([first], tables):
            if table.column_names != names:
                raise ValueError(f"a batch has columns {table.column_names}, not {names}")
            _write_lines(_normalise_table(table), _CSV if fmt == "csv" else _JSON, sink)

    _deliver(fmt, output, write)


def write_rejects_csv(rejects: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write rejected rows as CSV with columns file, line, column, value, reason (atomically)."""
    missing = [name for name in REJECT_COLUMNS if name not in rejects.columns]
    if missing:
        raise ValueError(f"rejects frame lacks columns {missing}; it has {list(rejects.columns)}")
    with atomic_write(path) as handle:
        _write_csv(frame_to_arrow(rejects.loc[:, list(REJECT_COLUMNS)]), handle)
