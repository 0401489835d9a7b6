"""The one renderer/writer every command hands its result to.

A command builds a pandas DataFrame and a :class:`Provenance`, picks a format with
:func:`resolve_format` and calls :func:`write_result`; a command that computes its rows in
batches can hand them to :func:`write_batches` (csv, jsonl), which writes the same bytes as it
goes. Nothing else in kbtool writes results.

- Machine formats (csv, jsonl, json, parquet) are plain and stable: the frame's columns, in the
  frame's order, under the frame's names. The index is not written (reset it if it matters).
- csv/jsonl/json text: floats in shortest round-trip form (``74.2``, never ``74.19999999999999``),
  integer columns as integers, booleans as ``true``/``false``, dates as ``yyyy-mm-dd``, a missing
  value as an empty CSV cell or JSON ``null``. CSV quotes a cell only when it holds a comma, quote
  or line break (RFC 4180).
- Provenance travels with the formats that can carry it: a ``meta`` block in json, schema metadata
  key ``kbtool`` in parquet, an ``about`` sheet in xlsx.
- ``-`` or None means stdout; a file is written atomically (temporary file, fsync, rename), so a
  job killed mid-export never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from itertools import chain, islice
from pathlib import Path, PurePath
from typing import IO, Any, Literal, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.text import Text

from kbtool import __version__
from kbtool.columns import REJECT_COLUMNS
from kbtool.console import err_console
from kbtool.errors import OutputError, UsageError
from kbtool.formats import BINARY_FORMATS, FORMATS, check_destination, is_stdout
from kbtool.formats import STREAMED_FORMATS as STREAMED_FORMATS  # re-exported for the commands
from kbtool.formats import SUFFIX_FORMATS as SUFFIX_FORMATS
from kbtool.formats import resolve_format as resolve_format

WHO_REFERENCE = "WHO Child Growth Standards (2006)"
# Key of the provenance JSON in a Parquet file's schema metadata.
PARQUET_METADATA_KEY = b"kbtool"
# Rows per worksheet, header included (Microsoft, "Excel specifications and limits").
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    created: str = field(default_factory=_utc_now)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (paths, dates and enums become strings, tuples lists)."""
        plain: dict[str, Any] = _jsonable(asdict(self))
        return plain


def _jsonable(value: Any) -> Any:
    """``value`` with every part turned into something ``json.dumps`` accepts."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
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
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Choosing a format


# ---------------------------------------------------------------------------------------------
# Atomic files and stdout


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces ``path`` only when the ``with`` block completes.

    The data goes to a hidden temporary file in the same directory, is flushed and fsync'd, then
    renamed over ``path`` (``os.replace`` is atomic on POSIX and Windows). On any error the
    temporary file is removed, the old ``path`` is untouched, and an OSError becomes an
    OutputError with one readable line. A kill -9 can leave only the hidden ``.NAME.*.part``.
    A path that is not a regular file (``/dev/null``, a named pipe, ``/dev/stdout``) is written
    in place: renaming over it would replace the device or pipe with a plain file.
    """
    shown = str(path)
    # Write through a symlink to the file it names rather than replacing the link itself.
    target = Path(os.path.realpath(path))
    parent = target.parent
    if not parent.is_dir():
        missing = Path(shown).parent
        raise OutputError(f"cannot write {shown}: directory '{missing}' does not exist; create it")
    if target.is_dir():
        raise OutputError(f"cannot write {shown}: it is a directory")
    if target.exists() and not target.is_file():
        try:
            with open(target, "wb") as handle:
                yield handle
        except OSError as err:
            raise OutputError(f"cannot write {shown}: {err.strerror or err}") from err
        return
    mode = _new_file_mode(target)
    try:
        fd, temp_name = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as err:
        raise OutputError(f"cannot write {shown}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException as err:
        with suppress(OSError):
            os.unlink(temp_name)
        if isinstance(err, OSError):
            raise OutputError(f"cannot write {shown}: {err.strerror or err}") from err
        raise
    _fsync_directory(parent)


def _new_file_mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 minus the umask."""
    with suppress(OSError):
        return target.stat().st_mode & 0o7777
    # mkstemp creates 0600; os.umask is the only portable way to read the umask (set, restore).
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort (not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def handle_broken_pipe() -> NoReturn:
    """Exit quietly (status 0) after the reader of stdout went away (``kbtool ... | head -1``).

    Python's documented recipe (library/signal.html, "Note on SIGPIPE"): point stdout at devnull
    so the interpreter's final flush cannot raise a second BrokenPipeError, then exit. The reader
    chose to stop reading, which is not an error of ours, hence 0 (ripgrep does the same).
    """
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    raise SystemExit(0)


def _stdout_binary() -> IO[bytes]:
    sys.stdout.flush()  # keep anything already printed through the text layer in order
    buffer: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        raise OutputError("cannot write binary data: stdout has no byte stream")
    return buffer


def _is_broken_pipe(err: BaseException) -> bool:
    return isinstance(err, BrokenPipeError) or (
        isinstance(err, OSError) and err.errno == errno.EPIPE
    )


# ---------------------------------------------------------------------------------------------
# pandas -> Arrow


def frame_to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """The frame as an Arrow table, columns in order, index dropped (an Arrow table as is).

    A column Arrow cannot type (an object column mixing numbers and text) is written as text.
    """
    if isinstance(frame, pa.Table):
        return frame
    names = [str(name) for name in frame.columns]
    duplicates = sorted({name for name in names if names.count(name) > 1})
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


# ---------------------------------------------------------------------------------------------
# Text rendering: csv, json lines, and the cells of the table view
#
# Every column is rendered to text by Arrow kernels, never by a Python loop over rows. Most
# result columns take few distinct values (rounded z-scores, flags, dates, categories), so they
# are rendered through a small table of texts indexed by integer codes; the other columns are
# rendered slice by slice. A batch of rows is then assembled in one `take` over the texts of all
# columns, row-major, and the resulting string buffer is written as is. Arrow's float-to-string
# cast gives the shortest text that reads back to the same double.

_Strings = Literal["csv", "json", "plain"]


@dataclass(frozen=True)
class _Dialect:
    missing: str  # text of a missing value
    strings: _Strings  # how text cells are escaped
    finite_only: bool  # JSON has no inf: write null instead


_CSV = _Dialect(missing="", strings="csv", finite_only=False)
_JSON = _Dialect(missing="null", strings="json", finite_only=True)
_PLAIN = _Dialect(missing="", strings="plain", finite_only=False)

_STR = pa.large_string()
# A column whose values fall in at most this many integer codes is rendered through a table.
_LOOKUP_MAX = 1 << 16
# Decimal places tried for float columns: 0-3 covers rounded z-scores (2), weights and
# lengths (1-2 dp as measured); anything else is rendered value by value.
_DECIMAL_SCALES = (1.0, 10.0, 100.0, 1000.0)
# At most this share of a float column may lie beyond its table's range and be listed one by one.
_OUTLIER_SHARE = 0.01
# Doubles hold every integer up to 2**53 exactly (IEEE 754 binary64).
_EXACT_INT_LIMIT = 2.0**53
# Text columns with at most one distinct value in ten among their first rows are tabled.
_STRING_SAMPLE = 10_000
# Cells per assembled batch: bounds memory (~ tens of MB) whatever the frame's size.
_BATCH_CELLS = 2_000_000
# Bytes that force a CSV cell into quotes (RFC 4180 section 2).
_CSV_SPECIAL = r'[",\r\n]'
_CSV_SPECIAL_BYTES = b'",\r\n'
# Bytes a JSON string cannot hold as they are (RFC 8259 section 7).
_JSON_SPECIAL = bytes(range(0x20)) + b'"\\'
_JSON_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


@cache
def _text(value: str) -> pa.Scalar:
    # the same few affixes and missing-value texts, for every column of every batch
    return pa.scalar(value, _STR)


def _affix(texts: pa.Array, prefix: str, suffix: str) -> pa.Array:
    if not prefix and not suffix:
        return texts
    return pc.binary_join_element_wise(_text(prefix), texts, _text(suffix), _text(""))


def _may_contain(texts: pa.Array, special: bytes) -> bool:
    """False when no byte of ``special`` occurs in the texts' data: then no cell needs escaping.

    One pass over the raw bytes is far cheaper than a per-cell regex, and almost every column
    is clean; a hit (possibly in a null slot's bytes) only sends the column the careful way.
    """
    raw = _string_bytes(texts).tobytes()
    return len(raw.translate(None, special)) != len(raw)


def _quote_json(texts: pa.Array) -> pa.Array:
    """JSON string literals (RFC 8259 section 7): escape backslash, quote and control chars."""
    if _may_contain(texts, _JSON_SPECIAL):
        texts = pc.replace_substring(texts, "\\", "\\\\")
        texts = pc.replace_substring(texts, '"', '\\"')
        for code in range(0x20):
            char = chr(code)
            if pc.any(pc.match_substring(texts, char)).as_py():
                escaped = _JSON_ESCAPES.get(char, f"\\u{code:04x}")
                texts = pc.replace_substring(texts, char, escaped)
    return _affix(texts, '"', '"')


def _quote_csv(texts: pa.Array) -> pa.Array:
    """Quote the cells that need it, doubling their quotes; leave every other cell bare."""
    if not _may_contain(texts, _CSV_SPECIAL_BYTES):
        return texts
    special = pc.match_substring_regex(texts, _CSV_SPECIAL)
    if not pc.any(special).as_py():
        return texts
    quoted = _affix(pc.replace_substring(texts, '"', '""'), '"', '"')
    return pc.if_else(special, quoted, texts)


def _render_strings(values: pa.Array, dialect: _Dialect) -> pa.Array:
    texts = pc.cast(values, _STR)
    if dialect.strings == "csv":
        texts = _quote_csv(texts)
    elif dialect.strings == "json":
        texts = _quote_json(texts)
    return pc.fill_null(texts, _text(dialect.missing))


def _render_numbers(values: pa.Array, dialect: _Dialect) -> pa.Array:
    if pa.types.is_floating(values.type):
        # x + 0.0 turns -0.0 into 0.0 (IEEE 754 round-to-nearest): no "-0" for a rounded -0.001.
        values = pc.add(values, pa.scalar(0.0, values.type))
        missing = pc.is_nan(values)
        if dialect.finite_only:
            missing = pc.invert(pc.is_finite(values))
        values = pc.if_else(missing, pa.scalar(None, values.type), values)
    return pc.fill_null(pc.cast(values, _STR), _text(dialect.missing))


def _render_values(values: pa.Array, dialect: _Dialect) -> pa.Array:
    """Texts (no nulls) of an array of a type `_normalise` has already simplified."""
    kind = values.type
    if pa.types.is_null(kind):
        return pa.array([dialect.missing] * len(values), _STR)
    if pa.types.is_dictionary(kind):
        return _render_values(values.dictionary_decode(), dialect)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return _render_numbers(values, dialect)
    if pa.types.is_boolean(kind):
        return pc.fill_null(pc.cast(values, _STR), _text(dialect.missing))
    if pa.types.is_timestamp(kind):
        texts = pc.strftime(values, "%Y-%m-%dT%H:%M:%S%z" if kind.tz else "%Y-%m-%dT%H:%M:%S")
        return _render_strings(texts, dialect)
    try:
        return _render_strings(values, dialect)
    except pa.ArrowNotImplementedError as err:
        raise TypeError(f"cannot write a column of Arrow type {kind} as text") from err


def _normalise(values: pa.Array) -> pa.Array:
    """Dates as date32 (a datetime column holding only midnights is a date column)."""
    kind = values.type
    if pa.types.is_date64(kind):
        return values.cast(pa.date32())
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            days = values.cast(pa.date32(), safe=False)
            if pc.all(pc.equal(days.cast(kind), values)).as_py() is not False:
                return days
        # Whole seconds print without a ".000000" tail.
        with suppress(pa.ArrowInvalid):
            return values.cast(pa.timestamp("s", tz=kind.tz))
    return values


class _Lookup:
    """A column as codes into a small table of texts; the last text is the missing value."""

    def __init__(self, texts: pa.Array, codes: np.ndarray) -> None:
        self.texts = texts
        self.codes = codes

    def affix(self, prefix: str, suffix: str) -> tuple[str, str]:
        """Bake the affixes into the table (cheap: it is small); nothing is left to add."""
        self.texts = _affix(self.texts, prefix, suffix)
        return "", ""

    def piece(self, start: int, stop: int) -> tuple[pa.Array, np.ndarray]:
        return self.texts, self.codes[start:stop]


class _Direct:
    """A column rendered value by value, one batch at a time."""

    def __init__(self, values: pa.Array, dialect: _Dialect) -> None:
        self.values = values
        self.dialect = dialect

    def affix(self, prefix: str, suffix: str) -> tuple[str, str]:
        """Leave the affixes to the assembly: separate cells cost less than joining strings."""
        return prefix, suffix

    def piece(self, start: int, stop: int) -> tuple[pa.Array, np.ndarray]:
        texts = _render_values(self.values.slice(start, stop - start), self.dialect)
        return texts, np.arange(stop - start, dtype=np.int32)


def _with_missing(texts: pa.Array, dialect: _Dialect) -> pa.Array:
    return pa.concat_arrays([texts, pa.array([dialect.missing], _STR)])


def _all_missing(length: int, dialect: _Dialect) -> _Lookup:
    return _Lookup(pa.array([dialect.missing], _STR), np.zeros(length, np.int32))


def _lookup_from_range(
    values: pa.Array, table_values: Callable[[int, int], pa.Array], dialect: _Dialect
) -> _Lookup | None:
    """Integer-coded columns (ints, dates, booleans) whose range is small."""
    if pa.types.is_date32(values.type):
        values = values.cast(pa.int32())  # Arrow casts date32 only to its own storage type
    as_int = values.cast(pa.int64())
    bounds = pc.min_max(as_int).as_py()
    low, high = bounds["min"], bounds["max"]
    if low is None:  # nothing but missing values
        return _all_missing(len(values), dialect)
    if high - low >= _LOOKUP_MAX:
        return None
    texts = _render_values(table_values(low, high), dialect)
    codes = pc.fill_null(pc.subtract(as_int, low), high - low + 1).cast(pa.int32()).to_numpy()
    return _Lookup(_with_missing(texts, dialect), codes)


def _lookup_decimal_floats(values: pa.Array, dialect: _Dialect) -> _Lookup | None:
    """Floats that are all k / 10**d, most of them for a small range of integers k (rounded
    values); the few beyond the range (implausible measurements, a BMI from a height typed in
    metres) are listed after it.
    """
    x = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(x)
    all_finite = bool(finite.all())
    if not all_finite and np.isinf(x).any():
        return None
    present = x if all_finite else x[finite]
    if present.size == 0:
        return _all_missing(len(x), dialect)
    sample = present[:512]
    for scale in _DECIMAL_SCALES:
        if not np.array_equal(np.rint(sample * scale) / scale, sample):
            continue
        scaled = np.rint(present * scale)
        if not np.array_equal(scaled / scale, present):
            continue
        low, high = scaled.min(), scaled.max()
        if max(-low, high) >= _EXACT_INT_LIMIT:
            return None
        others = np.empty(0)
        outside: np.ndarray | None = None
        if high - low >= _LOOKUP_MAX:
            # the range: _LOOKUP_MAX integers around the first values' median, shrunk to fit
            centre = float(np.median(np.rint(sample * scale)))
            low = max(low, centre - _LOOKUP_MAX // 2)
            outside = (scaled < low) | (scaled > low + _LOOKUP_MAX - 1)
            if np.count_nonzero(outside) > _OUTLIER_SHARE * scaled.size:
                return None
            inside = scaled[~outside]
            low, high = inside.min(), inside.max()
            others, other_codes = np.unique(scaled[outside], return_inverse=True)
        # (low + i) / scale is exactly each value: same double, so same shortest text.
        table_values = np.concatenate([low + np.arange(high - low + 1), others]) / scale
        texts = _render_numbers(pa.array(table_values), dialect)
        present_codes = (scaled - low).astype(np.int32)
        if outside is not None:
            present_codes[outside] = high - low + 1 + other_codes
        if all_finite:
            codes = present_codes
        else:
            codes = np.full(len(x), len(table_values), dtype=np.int32)
            codes[finite] = present_codes
        return _Lookup(_with_missing(texts, dialect), codes)
    return None


def _encode_column(values: pa.Array, dialect: _Dialect) -> _Lookup | _Direct:
    values = _normalise(values)
    kind = values.type
    lookup: _Lookup | None = None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # Register columns (sex, position, posyandu, kelurahan) repeat a few names: a table.
        sample = values.slice(0, _STRING_SAMPLE)
        if pc.count_distinct(sample).as_py() * 10 <= len(sample):
            values = pc.dictionary_encode(values)
            kind = values.type
    if pa.types.is_dictionary(kind) and len(values.dictionary) <= _LOOKUP_MAX:
        texts = _render_values(_normalise(values.dictionary), dialect)
        codes = pc.fill_null(values.indices.cast(pa.int32()), len(texts)).to_numpy()
        lookup = _Lookup(_with_missing(texts, dialect), codes)
    elif pa.types.is_floating(kind):
        lookup = _lookup_decimal_floats(values, dialect)
    elif pa.types.is_integer(kind) and kind != pa.uint64():
        lookup = _lookup_from_range(
            values, lambda low, high: pa.array(range(low, high + 1), kind), dialect
        )
    elif pa.types.is_date32(kind):
        lookup = _lookup_from_range(
            values,
            lambda low, high: pa.array(np.arange(low, high + 1, dtype=np.int32)).cast(kind),
            dialect,
        )
    elif pa.types.is_boolean(kind):
        lookup = _lookup_from_range(
            values, lambda low, high: pa.array([bool(v) for v in range(low, high + 1)]), dialect
        )
    return lookup if lookup is not None else _Direct(values, dialect)


def _workers() -> int:
    # Arrow and numpy kernels release the GIL, so batches render in parallel threads; a few
    # workers are enough to keep the disk busy and bound memory.
    return max(1, min(4, os.cpu_count() or 1))


def _merge_lookups(first: _Lookup, second: _Lookup) -> _Lookup:
    """Two neighbouring columns as one: a table of every pair of texts, one code per pair."""
    size_a, size_b = len(first.texts), len(second.texts)
    left = pc.take(first.texts, pa.array(np.repeat(np.arange(size_a, dtype=np.int32), size_b)))
    right = pc.take(second.texts, pa.array(np.tile(np.arange(size_b, dtype=np.int32), size_a)))
    texts = pc.binary_join_element_wise(left, right, _text(""))
    codes = first.codes.astype(np.int32) * np.int32(size_b) + second.codes
    return _Lookup(texts, codes)


def _layout(
    encoded: Sequence[_Lookup | _Direct], affixes: Sequence[tuple[str, str]]
) -> list[_Lookup | _Direct | str]:
    """The cells of one output row, in order: a column, or a constant text (an affix).

    Neighbouring table-rendered columns are merged while their joint table stays small (two
    flags and a status make 3 x 3 x 5 texts), so each row needs fewer cells to assemble.
    """
    cells: list[_Lookup | _Direct | str] = []
    for column, (prefix, suffix) in zip(encoded, affixes, strict=True):
        prefix, suffix = column.affix(prefix, suffix)
        if prefix:
            cells.append(prefix)
        last = cells[-1] if cells else None
        if (
            isinstance(column, _Lookup)
            and isinstance(last, _Lookup)
            and len(last.texts) * len(column.texts) <= _LOOKUP_MAX
        ):
            cells[-1] = _merge_lookups(last, column)
        else:
            cells.append(column)
        if suffix:
            cells.append(suffix)
    return cells


def _iter_text_batches(
    table: pa.Table, dialect: _Dialect, affixes: Sequence[tuple[str, str]]
) -> Iterator[memoryview]:
    """The body text of ``table``, in batches of rows: each cell wrapped in its column's affixes.

    A batch is assembled by one `take` over the texts of every column (and of the affixes that
    could not be baked into a column's table), in row-major order of the cells.
    """
    if table.num_rows == 0 or table.num_columns == 0:
        return
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        encoded = list(
            pool.map(lambda column: _encode_column(column.combine_chunks(), dialect), table.columns)
        )
        layout = _layout(encoded, affixes)
        constants = list(dict.fromkeys(cell for cell in layout if isinstance(cell, str)))
        sources = [cell for cell in layout if not isinstance(cell, str)]
        # at least two batches per worker, so that a table of a streamed batch of rows (written
        # with write_batches) still keeps every worker busy
        per_worker = -(-table.num_rows // (2 * _workers()))
        batch_rows = max(1024, min(_BATCH_CELLS // len(layout), per_worker))

        def assemble(start: int) -> memoryview:
            stop = min(start + batch_rows, table.num_rows)
            pieces = [pa.array(constants, _STR)]
            base = len(constants)
            codes: dict[int, np.ndarray] = {}
            for source in sources:
                texts, source_codes = source.piece(start, stop)
                pieces.append(texts)
                codes[id(source)] = source_codes + base if base else source_codes
                base += len(texts)
            order = np.empty((stop - start, len(layout)), np.int32 if base < 2**31 else np.int64)
            for slot, cell in enumerate(layout):
                order[:, slot] = constants.index(cell) if isinstance(cell, str) else codes[id(cell)]
            cells = pc.take(pa.concat_arrays(pieces), pa.array(order.ravel()))
            return _string_bytes(cells)

        starts = iter(range(0, table.num_rows, batch_rows))
        # Ordered, with at most a few batches in flight, so memory stays bounded.
        pending = deque(pool.submit(assemble, start) for start in islice(starts, _workers() + 1))
        while pending:
            chunk = pending.popleft().result()
            for start in islice(starts, 1):
                pending.append(pool.submit(assemble, start))
            yield chunk


def _string_bytes(cells: pa.Array) -> memoryview:
    """The bytes a large_string array's cells span, concatenated (no copy)."""
    _, offsets_buffer, data = cells.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)
    first, last = offsets[cells.offset], offsets[cells.offset + len(cells)]
    if data is None or last == first:
        return memoryview(b"")
    return memoryview(data)[first:last]


def _write_csv_header(names: Sequence[str], sink: IO[bytes]) -> None:
    if not names:
        return
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(names)
    sink.write(header.getvalue().encode("utf-8"))


def _csv_body_batches(table: pa.Table) -> Iterator[memoryview]:
    if table.num_columns == 0:
        return iter(())
    last = table.num_columns - 1
    affixes = [("", "\n" if index == last else ",") for index in range(table.num_columns)]
    return _iter_text_batches(table, _CSV, affixes)


def _write_csv_body(table: pa.Table, sink: IO[bytes]) -> None:
    _write_csv_header(table.column_names, sink)
    for chunk in _csv_body_batches(table):
        sink.write(chunk)


def _json_affixes(names: Sequence[str], record_end: str) -> list[tuple[str, str]]:
    keys = [json.dumps(name, ensure_ascii=False) + ":" for name in names]
    affixes = [("," + key, "") for key in keys]
    affixes[0] = ("{" + keys[0], "")
    affixes[-1] = (affixes[-1][0], record_end)
    return affixes


def _jsonl_body_batches(table: pa.Table) -> Iterator[bytes | memoryview]:
    if table.num_columns == 0:
        return iter([b"{}\n" * table.num_rows])
    return _iter_text_batches(table, _JSON, _json_affixes(table.column_names, "}\n"))


def _write_jsonl_body(table: pa.Table, sink: IO[bytes]) -> None:
    for chunk in _jsonl_body_batches(table):
        sink.write(chunk)


def _write_json_document(table: pa.Table, sink: IO[bytes], provenance: Provenance) -> None:
    meta = json.dumps(provenance.to_dict(), ensure_ascii=False)
    sink.write(f'{{"meta": {meta},\n"data": ['.encode())
    if table.num_rows and table.num_columns == 0:
        sink.write(("\n" + ",\n".join(["{}"] * table.num_rows)).encode())
    elif table.num_rows:
        sink.write(b"\n")
        # Every record ends "},\n"; hold one batch back to drop the last record's comma.
        affixes = _json_affixes(table.column_names, "},\n")
        held: memoryview | None = None
        for chunk in _iter_text_batches(table, _JSON, affixes):
            if held is not None and len(held):
                sink.write(held)
            held = chunk
        if held is not None:
            sink.write(held[:-2])
    sink.write(b"\n]}\n")


# ---------------------------------------------------------------------------------------------
# Parquet and xlsx


def _write_parquet(table: pa.Table, sink: IO[bytes], provenance: Provenance) -> None:
    import pyarrow.parquet as pq  # ~20 ms of import that csv/jsonl runs need not pay

    metadata = dict(table.schema.metadata or {})
    metadata[PARQUET_METADATA_KEY] = json.dumps(provenance.to_dict()).encode()
    pq.write_table(table.replace_schema_metadata(metadata), sink)


def _excel_values(values: pa.Array) -> tuple[list[Any], str | None]:
    """Python values for xlsxwriter (missing -> None) and the number format the column needs."""
    values = _normalise(values)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    kind = values.type
    if pa.types.is_floating(kind):
        values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, kind))
    if pa.types.is_date32(kind):
        return values.to_pylist(), "yyyy-mm-dd"
    if pa.types.is_timestamp(kind):
        # Excel has no time zones: write the wall-clock time of the column's zone.
        naive = values.cast(pa.timestamp("us")) if kind.tz is None else pc.local_timestamp(values)
        return naive.to_pylist(), "yyyy-mm-dd hh:mm:ss"
    if (
        pa.types.is_floating(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    ):
        return values.to_pylist(), None
    return pc.cast(values, _STR).to_pylist(), None


def _column_width(name: str, values: pa.Array) -> int:
    """Characters wide: header or the longest of the first 1,000 values, within 8-50."""
    head = _render_values(_normalise(values.slice(0, 1000)), _PLAIN)
    longest = pc.max(pc.utf8_length(head)).as_py() if len(head) else 0
    return int(min(50, max(8, len(name), longest or 0) + 2))


def _write_xlsx(
    table: pa.Table,
    sink: IO[bytes],
    provenance: Provenance,
    extra_sheets: Mapping[str, pd.DataFrame],
) -> None:
    import xlsxwriter  # only xlsx output pays for the import

    sheets = [("data", table), *((name, frame_to_arrow(f)) for name, f in extra_sheets.items())]
    names = [name for name, _ in sheets] + ["about"]
    if len({name.lower() for name in names}) != len(names):
        raise ValueError(f"xlsx sheet names must be distinct; data and about are taken: {names}")
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
    formats: dict[str, Any] = {}
    for name, sheet in sheets:
        worksheet = workbook.add_worksheet(name)
        worksheet.write_row(0, 0, sheet.column_names, bold)
        worksheet.freeze_panes(1, 0)
        for index, column in enumerate(sheet.columns):
            values = column.combine_chunks()
            cells, number_format = _excel_values(values)
            cell_format = None
            if number_format is not None:
                if number_format not in formats:
                    formats[number_format] = workbook.add_format({"num_format": number_format})
                cell_format = formats[number_format]
            worksheet.write_column(1, index, cells, cell_format)
            worksheet.set_column(index, index, _column_width(sheet.column_names[index], values))
        if sheet.num_columns:
            worksheet.autofilter(0, 0, sheet.num_rows, sheet.num_columns - 1)
    _write_about_sheet(workbook.add_worksheet("about"), bold, provenance)
    workbook.close()


def _cell(value: Any) -> Any:
    """A provenance value as one xlsx cell: scalars as they are, anything else as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _write_about_sheet(worksheet: Any, bold: Any, provenance: Provenance) -> None:
    about = provenance.to_dict()
    rows: list[tuple[list[Any], bool]] = [
        (["key", "value"], True),
        (["command", about["command"]], False),
        (["kbtool version", about["kbtool_version"]], False),
        (["reference", about["reference"]], False),
        (["created", about["created"]], False),
    ]
    if about["options"]:
        rows += [([], False), (["option", "value"], True)]
        rows += [([key, _cell(value)], False) for key, value in about["options"].items()]
    if about["notes"]:
        rows += [([], False), (["notes"], True)]
        rows += [([note], False) for note in about["notes"]]
    if about["sources"]:
        keys = list(dict.fromkeys(key for source in about["sources"] for key in source))
        rows += [([], False), (["sources"], True), (keys, True)]
        rows += [([_cell(source.get(key)) for key in keys], False) for source in about["sources"]]
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
) -> None:
    total = len(frame)
    if row_styles is not None and len(row_styles) != total:
        raise ValueError(f"row_styles has {len(row_styles)} entries for {total} rows")
    shown = max(0, min(max_rows, total))
    if isinstance(frame, pa.Table):
        head = frame.slice(0, shown)
    else:
        head = frame_to_arrow(frame.iloc[:shown])
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, header_style="bold", title_style="bold")
    columns: list[list[str]] = []
    for name, column in zip(head.column_names, head.columns, strict=True):
        values = _normalise(column.combine_chunks())
        numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
        columns.append(_render_values(values, _PLAIN).to_pylist())
    styles = {name: list(seq) for name, seq in (cell_styles or {}).items()}
    for name, seq in styles.items():
        if len(seq) != total:
            raise ValueError(f"cell_styles[{name!r}] has {len(seq)} entries for {total} rows")
    for row in range(head.num_rows):
        cells = [
            Text(texts[row], style=(styles[name][row] or "") if name in styles else "")
            for name, texts in zip(head.column_names, columns, strict=True)
        ]
        table.add_row(*cells, style=row_styles[row] if row_styles is not None else None)
    Console(highlight=False).print(table)
    if total > head.num_rows:
        err_console.print(
            Text(
                f"showing {head.num_rows:,} of {total:,} rows; --format csv or -o FILE for all",
                style="dim",
            )
        )


# ---------------------------------------------------------------------------------------------
# The one entry point


def write_result(
    frame: pd.DataFrame | pa.Table,
    *,
    fmt: str,
    output: str | os.PathLike[str] | None,
    provenance: Provenance,
    title: str | None = None,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
    table_frame: pd.DataFrame | pa.Table | None = None,
    max_table_rows: int = 50,
    row_styles: Sequence[str | None] | None = None,
    cell_styles: Mapping[str, Sequence[str | None]] | None = None,
) -> None:
    """Write ``frame`` (a DataFrame or an Arrow table) as ``fmt`` to ``output`` (a path, or
    ``-``/None for stdout).

    ``fmt`` is one of FORMATS, normally from :func:`resolve_format`. ``provenance`` goes into
    json/parquet/xlsx. ``extra_sheets`` (xlsx only) follow the ``data`` sheet, before ``about``.
    The table view shows ``table_frame`` (default ``frame``; e.g. with translated headers), at
    most ``max_table_rows`` rows, with optional rich styles per row (``row_styles``, one per row
    of the shown frame) and per cell (``cell_styles``: column name -> one style per row).
    Files are replaced atomically; a closed stdout ends the program quietly.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_destination(fmt, output)
    try:
        if fmt == "table":
            _print_table(
                frame if table_frame is None else table_frame,
                title=title,
                max_rows=max_table_rows,
                row_styles=row_styles,
                cell_styles=cell_styles,
            )
            sys.stdout.flush()
            return
        table = frame_to_arrow(frame)

        def write(sink: IO[bytes]) -> None:
            if fmt == "csv":
                _write_csv_body(table, sink)
            elif fmt == "jsonl":
                _write_jsonl_body(table, sink)
            elif fmt == "json":
                _write_json_document(table, sink, provenance)
            elif fmt == "parquet":
                _write_parquet(table, sink, provenance)
            else:
                _write_xlsx(table, sink, provenance, extra_sheets or {})

        _deliver(fmt, output, write)
    except OSError as err:
        _raise_output_error(err, output)


def write_batches(
    frames: Iterable[pd.DataFrame | pa.Table],
    *,
    fmt: str,
    output: str | os.PathLike[str] | None,
) -> None:
    """Write a stream of frames with the same columns as one csv or jsonl result.

    The bytes are those :func:`write_result` writes for all the frames concatenated, but each
    frame is rendered and written as it arrives, so a long input never has to be held whole
    and its first rows reach a pipe while later ones are still being computed. The columns come
    from the first frame (a later frame with other columns is a ValueError). Files are replaced
    atomically, as with write_result; a closed stdout ends the program quietly.
    """
    if fmt not in STREAMED_FORMATS:
        raise ValueError(f"only {', '.join(sorted(STREAMED_FORMATS))} can be written in batches")
    check_destination(fmt, output)
    tables = (frame_to_arrow(frame) for frame in frames)
    try:
        first = next(tables, None)
        if first is None:
            raise ValueError("write_batches needs at least one frame (it names the columns)")
        if any(pa.types.is_timestamp(kind) for kind in first.schema.types):
            # whether a datetime column is written as dates depends on all its values at once
            first = pa.concat_tables([first, *tables])
        names = first.column_names

        def same_columns(table: pa.Table) -> pa.Table:
            if table.column_names != names:
                raise ValueError(f"a batch has columns {table.column_names}, not {names}")
            return table

        rest = (same_columns(table) for table in tables)

        def write(sink: IO[bytes]) -> None:
            bodies: Iterator[Iterable[bytes | memoryview]]
            if fmt == "csv":
                _write_csv_header(names, sink)
                bodies = (_csv_body_batches(table) for table in chain([first], rest))
            else:
                bodies = (_jsonl_body_batches(table) for table in chain([first], rest))
            for body in bodies:
                for chunk in body:
                    sink.write(chunk)

        _deliver(fmt, output, write)
    except OSError as err:
        _raise_output_error(err, output)


def _deliver(
    fmt: str, output: str | os.PathLike[str] | None, write: Callable[[IO[bytes]], None]
) -> None:
    """Run ``write`` on the destination: a file replaced atomically, or stdout."""
    if not is_stdout(output):
        assert output is not None
        with atomic_write(output) as handle:
            write(handle)
        return
    stdout = _stdout_binary()
    if fmt in BINARY_FORMATS:
        # Parquet and xlsx need to seek; build them in memory, then stream the bytes.
        staged = io.BytesIO()
        write(staged)
        stdout.write(staged.getbuffer())
    else:
        write(stdout)
    stdout.flush()


def _raise_output_error(err: OSError, output: str | os.PathLike[str] | None) -> NoReturn:
    if is_stdout(output) and _is_broken_pipe(err):
        handle_broken_pipe()
    if is_stdout(output):
        raise OutputError(f"cannot write to stdout: {err.strerror or err}") from err
    raise err


def write_rejects_csv(rejects: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write rejected rows as CSV with columns file, line, column, value, reason (atomically)."""
    missing = [name for name in REJECT_COLUMNS if name not in rejects.columns]
    if missing:
        raise ValueError(f"rejects frame lacks columns {missing}; it has {list(rejects.columns)}")
    table = frame_to_arrow(rejects.loc[:, list(REJECT_COLUMNS)])
    with atomic_write(path) as handle:
        _write_csv_body(table, handle)
