"""Reading posyandu registers as they arrive (CSV/TSV/xlsx/stdin) into canonical columns.

One reader for every command. It accepts comma, semicolon and tab separated text (UTF-8 with or
without BOM, UTF-16 with BOM, Windows-1252, optionally gzip-compressed), Excel workbooks (xlsx,
xls, ods through python-calamine) and `-` for stdin, finds the header (the first of the first 20
lines that names the columns kbtool needs), maps Indonesian and e-PPGBM headers onto the
canonical columns and parses values column-wise with pyarrow:

* every accepted row comes out in `ReadBatch.rows` with exactly `CANONICAL_COLUMNS` plus
  `source_file` and `source_line` (the 1-based physical line; the header is a line too);
* every rejected row comes out once in `ReadBatch.rejects` with file, line, column, value and
  reason; blank lines are not rows; `rows_read == len(rows) + len(rejects)` always;
* a file that cannot be read at all raises `InputError` with one readable line.

Dtypes of `rows`: child_id, name, posyandu, kelurahan, kecamatan, puskesmas are pandas
`string[pyarrow]` (stripped, NA when missing; child_id is never a number); sex int8 (1 male,
2 female, 0 missing); birth_date and visit_date `datetime64[s]` at midnight (NaT missing);
age_months, weight_kg, height_cm float64 (NaN missing); measure int8 (`MEASURE_LENGTH`,
`MEASURE_HEIGHT`, `MEASURE_UNKNOWN` from kbtool.growth.zscores); oedema bool; source_file
string; source_line int64.

Speed: the CSV is parsed by pyarrow in blocks; each column is dictionary-encoded and only its
distinct values are interpreted in Python (a register has a few thousand distinct dates and
weights however long it is), with a vectorised path for columns that are nearly all distinct.
"""

from __future__ import annotations

import codecs
import copy
import csv
import functools
import gzip
import io
import math
import os
import queue
import re
import stat
import sys
import threading
import unicodedata
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kbtool.columns import (
    CANONICAL_COLUMNS,
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
)
from kbtool.errors import InputError, UsageError
from kbtool.growth.constants import DAYS_PER_MONTH

if TYPE_CHECKING:  # pandas loads with the first batch (_to_pandas)
    import pandas as pd

# Text is handled as arrow large_string end to end: pandas' string[pyarrow] stores exactly that,
# so the frames share the parsed buffers instead of copying every text column once more.
_TEXT = pa.large_string()

# ---------------------------------------------------------------------------------------------
# Header aliases
# ---------------------------------------------------------------------------------------------

# Strong aliases: a header that normalises to one of these is that column. Spellings come from
# e-PPGBM exports (Kemenkes), posyandu registers (KMS/SIP books) and common English layouts.
_STRONG_ALIASES: dict[str, tuple[str, ...]] = {
    "child_id": (
        "nik",
        "no_nik",
        "nomor_nik",
        "nik_anak",
        "nik_balita",
        "id_anak",
        "id_balita",
        "child_id",
        "kode_anak",
    ),
    "name": ("nama", "nama_anak", "nama_balita", "nama_lengkap", "name", "child_name"),
    "sex": (
        "jk",
        "j_k",
        "jenis_kelamin",
        "jns_kelamin",
        "jenis_kel",
        "kelamin",
        "l_p",
        "sex",
        "gender",
    ),
    "birth_date": (
        "tgl_lahir",
        "tanggal_lahir",
        "tgllahir",
        "tgl_lhr",
        "tanggal_lahir_anak",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "dob",
    ),
    "visit_date": (
        "tanggal_pengukuran",
        "tgl_pengukuran",
        "tgl_ukur",
        "tanggal_ukur",
        "tanggal_penimbangan",
        "tgl_penimbangan",
        "tgl_timbang",
        "tanggal_timbang",
        "tanggal_kunjungan",
        "tgl_kunjungan",
        "visit_date",
        "date_of_visit",
        "measurement_date",
        "date_of_measurement",
    ),
    "age_months": (
        "umur_bulan",
        "usia_bulan",
        "umur_bln",
        "usia_bln",
        "umur_dalam_bulan",
        "usia_dalam_bulan",
        "age_months",
        "age_in_months",
    ),
    "weight_kg": (
        "berat",
        "bb",
        "berat_badan",
        "bb_kg",
        "berat_kg",
        "berat_badan_kg",
        "weight",
        "weight_kg",
    ),
    "height_cm": (
        "tinggi",
        "tb",
        "pb",
        "tb_pb",
        "pb_tb",
        "tinggi_badan",
        "panjang_badan",
        "tinggi_panjang_badan",
        "tinggi_cm",
        "tb_cm",
        "pb_cm",
        "tinggi_badan_cm",
        "panjang_badan_cm",
        "height",
        "height_cm",
        "length",
        "length_cm",
        "lenhei",
        "lenhei_cm",
    ),
    "measure": (
        "cara_ukur",
        "cara_pengukuran",
        "posisi",
        "posisi_ukur",
        "posisi_pengukuran",
        "measure",
        "position",
    ),
    "oedema": ("edema", "oedema", "udema", "bengkak"),
    "posyandu": ("posyandu", "nama_posyandu"),
    "kelurahan": (
        "desa_kel",
        "desa_kelurahan",
        "kelurahan_desa",
        "kel_desa",
        "kelurahan",
        "desa",
        "kel",
        "village",
    ),
    "kecamatan": ("kec", "kecamatan", "district", "subdistrict"),
    "puskesmas": (
        "puskesmas",
        "pukesmas",
        "nama_puskesmas",
        "pkm",
        "health_centre",
        "health_center",
    ),
}

# Weak aliases: generic words used only when no strong alias names that column. e-PPGBM's
# "Usia Saat Ukur" ("1 Tahun - 3 Bulan - 12 Hari") is an age; "BB/U", "TB/U", "BB/TB" are
# status columns and deliberately match nothing (they normalise to bbu, tbu, bbtb).
_WEAK_ALIASES: dict[str, tuple[str, ...]] = {
    "child_id": ("id",),
    "visit_date": ("tanggal", "tgl", "date"),
    "age_months": ("umur", "usia", "bulan", "age", "usia_saat_ukur", "umur_saat_ukur"),
    "height_cm": ("panjang",),
}


def normalise_header(text: str) -> str:
    """A header reduced for matching: lowercase, accents stripped, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.lower() if ch.isalnum())


def _alias_lookup(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, names in aliases.items():
        for alias in names:
            lookup[normalise_header(alias)] = canonical
    return lookup


_STRONG_LOOKUP = _alias_lookup(_STRONG_ALIASES)
_WEAK_LOOKUP = _alias_lookup(_WEAK_ALIASES)

# ---------------------------------------------------------------------------------------------
# Options and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadOptions:
    """How to read: `column_overrides` maps a canonical name to an input header (--column).

    `sheet` picks a workbook sheet (default: the first); `keep_raw` also returns the accepted
    rows' original cells; `batch_rows` is about how many rows each `iter_read` batch holds;
    `today` is the date after which a date counts as in the future (default: date.today()).
    """

    column_overrides: Mapping[str, str] = field(default_factory=dict)
    sheet: str | None = None
    keep_raw: bool = False
    batch_rows: int = 1_000_000
    today: date | None = None


@dataclass
class ReadBatch:
    """Accepted rows in canonical form, the rejected ones, and the count that reconciles them.

    `rows` has CANONICAL_COLUMNS + SOURCE_COLUMNS; `raw` (with ReadOptions.keep_raw) the same
    rows' original cells under their original headers, as text, index-aligned with `rows`;
    `rejects` has REJECT_COLUMNS, one record per rejected row; `column_map` maps each canonical
    column found to the input header used; `warnings` are notes for the user (e.g. two headers
    for one column). Always `rows_read == len(rows) + len(rejects)`.
    """

    source: str
    rows: pd.DataFrame
    raw: pd.DataFrame | None
    rejects: pd.DataFrame
    rows_read: int
    column_map: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def parse_column_overrides(specs: Iterable[str]) -> dict[str, str]:
    """`--column CANONICAL=HEADER` options as a mapping; a malformed one raises UsageError."""
    overrides: dict[str, str] = {}
    for spec in specs:
        canonical, sep, header = spec.partition("=")
        if not sep or not canonical.strip() or not header.strip():
            raise UsageError(f"--column {spec!r}: expected CANONICAL=HEADER, e.g. sex=JK")
        overrides[canonical.strip()] = header.strip()
    _check_override_names(overrides)
    return overrides


def iter_read(source: str | Path, options: ReadOptions | None = None) -> Iterator[ReadBatch]:
    """Read one file (or `-` for stdin) in batches of about `options.batch_rows` rows.

    Memory stays bounded by the batch size whatever the file's length. Every batch reconciles
    on its own (`rows_read == len(rows) + len(rejects)`); at least one batch is yielded. Raises
    InputError when the file cannot be read at all (possibly after earlier batches, if the
    damage is far into a large file) and UsageError for an unknown --column name.
    """
    options = options or ReadOptions()
    _check_override_names(options.column_overrides)
    name = "-" if str(source) == "-" else str(source)
    opened = _open_source(name)
    try:
        if opened.kind == "workbook":
            blocks: Iterator[_Block] = _workbook_blocks(opened, options)
        else:
            blocks = _csv_blocks(opened, options)
        yield from _batches(blocks, name, options)
    finally:
        opened.close()


def read_file(source: str | Path, options: ReadOptions | None = None) -> ReadBatch:
    """Read one whole file (or `-` for stdin) into a single ReadBatch; see `iter_read`."""
    return _concat(list(iter_read(source, options)))


def read_files(sources: Sequence[str | Path], options: ReadOptions | None = None) -> ReadBatch:
    """Read several files into one ReadBatch: rows, raw and rejects concatenated in order.

    `source` is the sources joined with ", "; `column_map` is the first file's mapping plus any
    column only later files have.
    """
    if not sources:
        raise UsageError("no input files given")
    return _concat([read_file(source, options) for source in sources])


# ---------------------------------------------------------------------------------------------
# Opening a source: stdin, gzip, encoding, CSV or workbook
# ---------------------------------------------------------------------------------------------

# How much of a file is looked at to choose format, encoding, delimiter and header line.
_PREFIX_BYTES = 1 << 20
_HEADER_SEARCH_LINES = 20
_ZIP_MAGIC = b"PK\x03\x04"  # xlsx and ods are zip archives
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_GZIP_MAGIC = b"\x1f\x8b"
# pyarrow block sizes (bytes): a block must hold the longest row
_MIN_BLOCK_BYTES = 1 << 20
_MAX_BLOCK_BYTES = 1 << 22
_EXPECTED_FORMAT = "expected a CSV (comma, semicolon or tab separated) or an xlsx workbook"


@dataclass
class _Opened:
    name: str
    kind: str  # "csv" or "workbook"
    prefix: bytes  # the first bytes (decompressed)
    rest: IO[bytes] | None  # the stream after `prefix`, None when prefix is everything
    path: Path | None  # a plain uncompressed file on disk: pyarrow may read it natively
    handles: list[IO[bytes]]

    def close(self) -> None:
        for handle in reversed(self.handles):
            handle.close()


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Read until `size` bytes or end of stream (pipes may return less per read)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _open_source(name: str) -> _Opened:
    handles: list[IO[bytes]] = []
    path: Path | None
    if name == "-":
        stream: IO[bytes] = sys.stdin.buffer
        path = None
    else:
        path = Path(name)
        try:
            stream = path.open("rb")
        except FileNotFoundError as err:
            raise InputError(f"{name}: file not found") from err
        except IsADirectoryError as err:
            raise InputError(f"{name}: is a directory; {_EXPECTED_FORMAT}") from err
        except OSError as err:
            raise InputError(f"{name}: cannot open ({err.strerror or err})") from err
        handles.append(stream)
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            path = None  # a pipe such as <(zcat ...): read once, as a stream

    try:
        prefix = _read_up_to(stream, _PREFIX_BYTES)
        if prefix.startswith(_GZIP_MAGIC):
            path = None
            stream = gzip.GzipFile(fileobj=_ChainedStream([prefix], stream), mode="rb")  # type: ignore[assignment]
            handles.append(stream)
            prefix = _read_up_to(stream, _PREFIX_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        for handle in handles:
            handle.close()
        raise InputError(f"{name}: cannot read ({err})") from err
    rest = stream if len(prefix) == _PREFIX_BYTES else None
    kind = "workbook" if prefix.startswith((_ZIP_MAGIC, _OLE_MAGIC)) else "csv"
    return _Opened(name, kind, prefix, rest, path, handles)


class _ChainedStream(io.RawIOBase):
    """A read-only byte stream over a few byte strings followed by another stream."""

    def __init__(self, chunks: Sequence[bytes], rest: IO[bytes] | None) -> None:
        super().__init__()
        self._chunks = [chunk for chunk in chunks if chunk]
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while self._chunks:
            head = self._chunks[0]
            size = min(len(head), len(view))
            view[:size] = head[:size]
            if size == len(head):
                self._chunks.pop(0)
            else:
                self._chunks[0] = head[size:]
            return size
        if self._rest is None:
            return 0
        data = self._rest.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


def _windows_1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252", errors="replace"), err.end


_UTF8_OR_1252 = "kbtool-utf8-or-cp1252"
codecs.register_error(_UTF8_OR_1252, _windows_1252_fallback)


class _TranscodedStream(io.RawIOBase):
    """The UTF-8 bytes of a text stream decoded incrementally.

    pyarrow gets valid UTF-8 whatever the file holds: Windows-1252 and UTF-16 are converted, and
    in a UTF-8 file a stray Windows-1252 byte (one row typed on another machine) becomes its
    character instead of failing the whole read. Pure-ASCII chunks of UTF-8 and Windows-1252
    files are passed through untouched, so a plain file costs one `isascii` scan.
    """

    _CHUNK = 1 << 22

    def __init__(
        self,
        first_text: str,
        decoder: codecs.IncrementalDecoder,
        rest: IO[bytes] | None,
        ascii_passthrough: bool,
    ) -> None:
        super().__init__()
        self._pending = first_text.encode("utf-8")
        self._offset = 0
        self._decoder = decoder
        self._rest = rest
        self._done = rest is None
        self._ascii_passthrough = ascii_passthrough

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` whole unless the text ends: pyarrow takes each read as a block, and
        a short one (the few bytes left of a decoded chunk) could cut a row into three."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if self._offset >= len(self._pending):
                if self._done:
                    break
                self._next_chunk()
                continue
            size = min(len(view) - filled, len(self._pending) - self._offset)
            view[filled : filled + size] = memoryview(self._pending)[
                self._offset : self._offset + size
            ]
            self._offset += size
            filled += size
        return filled

    def _next_chunk(self) -> None:
        assert self._rest is not None
        data = self._rest.read(self._CHUNK)
        if not data:
            self._done = True
        if self._ascii_passthrough and data.isascii() and not self._decoder.getstate()[0]:
            self._pending = data
        else:
            self._pending = self._decoder.decode(data, final=self._done).encode("utf-8")
        self._offset = 0


@dataclass(frozen=True)
class _TextLayout:
    """What the first bytes of a CSV say: the encoding and the text they decode to."""

    encoding: str  # "utf-8" (with or without BOM), "cp1252" or "utf-16"
    text: str  # the prefix decoded
    decoder: codecs.IncrementalDecoder  # its state after `text`, to decode the rest


def _decode_prefix(opened: _Opened) -> _TextLayout:
    prefix = opened.prefix
    at_end = opened.rest is None
    decoder: codecs.IncrementalDecoder
    if not prefix.strip():
        raise InputError(f"{opened.name}: empty file; {_EXPECTED_FORMAT} with a header line")
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with BOM, tab separated
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        return _TextLayout("utf-16", decoder.decode(prefix, final=at_end), decoder)
    if b"\x00" in prefix:
        raise InputError(f"{opened.name}: not a text file (binary data); {_EXPECTED_FORMAT}")
    bom = len(codecs.BOM_UTF8) if prefix.startswith(codecs.BOM_UTF8) else 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix[bom:], final=at_end)
    except UnicodeDecodeError:
        # not UTF-8: Windows-1252, what Excel on Indonesian Windows writes as "CSV"
        decoder = codecs.getincrementaldecoder("cp1252")(errors="replace")
        return _TextLayout("cp1252", decoder.decode(prefix[bom:], final=at_end), decoder)
    decoder = codecs.getincrementaldecoder("utf-8")(errors=_UTF8_OR_1252)
    return _TextLayout("utf-8", decoder.decode(prefix[bom:], final=at_end), decoder)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELIMITERS = (",", ";", "\t")


def _count_line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; tab outside quotes."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    # ties prefer tab, then semicolon: a comma is likelier to be part of a header's text
    return max(reversed(_DELIMITERS), key=lambda d: counts[d])


def _split_header(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a cell over csv's field limit (128 KiB): no header, whatever it is
        return line.split(delimiter)


# ---------------------------------------------------------------------------------------------
# Matching headers to canonical columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """How a file's columns map onto the canonical ones."""

    headers: tuple[str, ...]  # as written
    raw_names: tuple[str, ...]  # unique, non-empty names for `raw`
    columns: dict[str, int]  # canonical -> column index
    warnings: tuple[str, ...]
    # a register with length and height in two columns (PB, TB): columns["height_cm"] is the
    # length's, this the standing height's; see _Converter._join_heights
    standing_height: int | None = None

    @property
    def column_map(self) -> dict[str, str]:
        return {name: self.headers[index] for name, index in self.columns.items()}

    def position(self, name: str) -> int:
        """The column index of a canonical name, or of STANDING_HEIGHT."""
        if name == STANDING_HEIGHT and self.standing_height is not None:
            return self.standing_height
        return self.columns[name]


# The name, among the parsed columns, of a separate standing-height column (TB beside PB).
STANDING_HEIGHT = "standing_height_cm"
# Headers that name recumbent length, or standing height, alone (normalised): a register with
# one of each gets both read, each value with its position (_split_height).
_LENGTH_HEADERS = frozenset(
    normalise_header(h)
    for h in ("pb", "pb_cm", "panjang_badan", "panjang_badan_cm", "length", "length_cm")
)
_HEIGHT_HEADERS = frozenset(
    normalise_header(h)
    for h in ("tb", "tb_cm", "tinggi_badan", "tinggi_badan_cm", "height", "height_cm", "tinggi")
)


def _split_height(keys: Sequence[str], positions: list[int]) -> tuple[int, int] | None:
    """(length, standing height) positions when the headers matched as height_cm are one
    length-only header (PB, Panjang Badan) and one height-only header (TB, Tinggi Badan)."""
    lengths = [p for p in positions if keys[p] in _LENGTH_HEADERS]
    heights = [p for p in positions if keys[p] in _HEIGHT_HEADERS]
    if len(lengths) == 1 and len(heights) == 1:
        return lengths[0], heights[0]
    return None


# a unit or format in brackets at the end of a header, "Berat (kg)", "Tgl Lahir (dd/mm/yyyy)"
_TRAILING_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
# the notes that say what kbtool reads in a column anyway: "Tinggi (m)", "Berat (gram)" or
# "Umur (tahun)" are not matched (their numbers would be read as cm, kg, months)
_UNIT_NOTES = {
    "weight_kg": {"kg"},
    "height_cm": {"cm"},
    "age_months": {"bulan", "bln", "month", "months"},
}


def _note_fits(canonical: str, note: str) -> bool:
    """Whether a bracketed note (normalised) agrees with what `canonical` holds: its unit, or
    any day/month/year pattern for a date (dd/mm/yyyy; hh/bb/tttt in Indonesian)."""
    if canonical in ("birth_date", "visit_date"):
        return bool(note) and set(note) <= set("dmyhbt")
    return note in _UNIT_NOTES.get(canonical, ())


def _bare_header(header: str) -> tuple[str, str]:
    """A header's normalised name without a trailing bracketed note, and the note (normalised;
    both empty when there is none)."""
    note = _TRAILING_NOTE.search(header)
    if note is None:
        return "", ""
    return normalise_header(header[: note.start()]), normalise_header(note.group())


_MINIMUM_HINT = (
    "expected at least sex and weight or height (e.g. JK, Berat, Tinggi); "
    "map one with --column sex=NAME"
)


def _check_override_names(overrides: Mapping[str, str]) -> None:
    for canonical in overrides:
        if canonical not in CANONICAL_COLUMNS:
            raise UsageError(
                f"--column {canonical}={overrides[canonical]}: unknown column {canonical!r}; "
                f"canonical columns: {', '.join(CANONICAL_COLUMNS)}"
            )


def _printable(text: str, limit: int = 40) -> str:
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def _columns_seen(headers: Sequence[str], limit: int = 30) -> str:
    shown = [_printable(h) or "(empty)" for h in headers[:limit]]
    more = f", ... ({len(headers)} columns)" if len(headers) > limit else ""
    return (", ".join(shown) + more) if shown else "(none)"


def _unique_names(headers: Sequence[str]) -> tuple[str, ...]:
    """Headers made unique for a DataFrame: empty -> column_N, repeats -> NAME.1, NAME.2."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for position, header in enumerate(headers, start=1):
        base = header if header.strip() else f"column_{position}"
        name = base
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen.setdefault(name, 0)
        names.append(name)
    return tuple(names)


def _match_columns(
    headers: Sequence[str], overrides: Mapping[str, str], source: str
) -> tuple[dict[str, int], list[str], str | None, int | None]:
    """Map canonical columns to header positions; returns (columns, warnings, problem,
    the standing height's position when length and height have a column each)."""
    columns: dict[str, int] = {}
    standing: int | None = None
    claimed: set[int] = set()
    normalised = [normalise_header(h) for h in headers]
    for canonical, wanted in overrides.items():
        position = next((i for i, h in enumerate(headers) if h == wanted), None)
        if position is None:
            key = normalise_header(wanted)
            position = next((i for i, h in enumerate(normalised) if key and h == key), None)
        if position is None:
            return (
                columns,
                [],
                (
                    f"column {wanted!r} (from --column {canonical}={wanted}) not found; "
                    f"columns seen: {_columns_seen(headers)}"
                ),
                None,
            )
        columns[canonical] = position
        claimed.add(position)
    warnings: list[str] = []
    # a header with its unit or date format after it, "Berat (kg)", "Tanggal Lahir
    # (dd/mm/yyyy)", is also looked up without it
    bare = [_bare_header(h) for h in headers]
    keys = list(normalised)  # each header's key as matched: without its note when that fits
    for lookup in (_STRONG_LOOKUP, _WEAK_LOOKUP):
        found: dict[str, list[int]] = {}
        for position, (key, (bare_key, note)) in enumerate(zip(normalised, bare, strict=True)):
            match = lookup.get(key)
            if match is None and bare_key:
                match = lookup.get(bare_key)
                match = match if match is not None and _note_fits(match, note) else None
                keys[position] = bare_key
            if match is not None and match not in columns and position not in claimed:
                found.setdefault(match, []).append(position)
        for match, positions in found.items():
            split = _split_height(keys, positions) if match == "height_cm" else None
            if split is not None:
                # PB and TB: each value is read with the position its column names
                length, standing = split
                positions = [length, *(p for p in positions if p not in split)]
                claimed.add(standing)
                warnings.append(
                    f"{source}: length and height in two columns: {headers[length]!r} read as "
                    f"recumbent length, {headers[standing]!r} as standing height"
                )
            columns[match] = positions[0]
            claimed.add(positions[0])
            if len(positions) > 1:
                others = ", ".join(repr(headers[p]) for p in positions[1:])
                warnings.append(
                    f"{source}: {match} read from {headers[positions[0]]!r}, ignoring "
                    f"{others}; choose another with --column {match}=NAME"
                )
    problem = None
    if "sex" not in columns or ("weight_kg" not in columns and "height_cm" not in columns):
        what = "no recognisable columns" if not columns else "not enough recognisable columns"
        problem = f"{what}; columns seen: {_columns_seen(headers)}; {_MINIMUM_HINT}"
    elif "age_months" not in columns and not {"birth_date", "visit_date"} <= columns.keys():
        missing = [name for name in ("birth_date", "visit_date") if name not in columns]
        warnings.append(
            f"{source}: no {' or '.join(m.replace('_', ' ') for m in missing)} column found, "
            "and no age column: without ages HAZ, WAZ and BMIZ stay empty; name the column "
            f"with --column {missing[0]}=NAME (columns seen: {_columns_seen(headers)})"
        )
    return columns, warnings, problem, standing


def _layout(headers: Sequence[str], overrides: Mapping[str, str], source: str) -> _Layout:
    columns, warnings, problem, standing = _match_columns(headers, overrides, source)
    if problem is not None:
        raise InputError(f"{source}: {problem}")
    ordered = {name: columns[name] for name in CANONICAL_COLUMNS if name in columns}
    return _Layout(tuple(headers), _unique_names(headers), ordered, tuple(warnings), standing)


def _is_blank_line(text: str) -> bool:
    return not text.strip(" \t\r\n\"',;\ufeff")


def _find_header(rows: Sequence[Sequence[str]], overrides: Mapping[str, str], source: str) -> int:
    """Index of the header among the first rows: the first that names the needed columns.

    e-PPGBM exports and hand-made registers often start with a title or a blank line. When no
    row qualifies, the first non-blank row's error is raised.
    """
    first: int | None = None
    for index, cells in enumerate(rows[:_HEADER_SEARCH_LINES]):
        if all(_is_blank_line(cell) for cell in cells):
            continue
        if first is None:
            first = index
        _, _, problem, _ = _match_columns(cells, overrides, source)
        if problem is None:
            return index
    if first is None:
        raise InputError(f"{source}: no header line found; {_EXPECTED_FORMAT}")
    _layout(rows[first], overrides, source)  # raises the first row's error
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Blocks: the cells of consecutive rows with their line numbers
# ---------------------------------------------------------------------------------------------


@dataclass
class _Block:
    """Consecutive data rows of one file: one arrow string array per file column."""

    layout: _Layout
    cells: list[pa.Array]
    lines: npt.NDArray[np.int64]
    # rows that could not be split into the header's columns: (line, text, reason, how many
    # lines after `line` an unclosed quote joined to it)
    broken: list[tuple[int, str, str, int]] = field(default_factory=list)
    # lines of the rows among `cells` that had fewer fields than the header (_short_rows)
    padded: list[int] = field(default_factory=list)


@dataclass
class _InvalidRow:
    record: int  # pyarrow's 1-based record number (the header is record 1)
    text: str
    fields: int
    breaks: int  # line breaks inside the record


class _LineCounter:
    """Physical line numbers of pyarrow's rows, as blocks stream past.

    pyarrow numbers records, not lines, and only for rows it skips (wrong number of fields).
    A row's line is the header's line + records before it + line breaks inside quoted values
    of the records before it. Skipped records are located among the kept ones by their number.
    """

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.kept = 0  # rows pyarrow returned so far (the header is row 0)
        self.kept_breaks = 0  # line breaks inside the values of those rows
        self.pending: list[_InvalidRow] = []  # skipped rows not yet attached to a block
        self.emitted = 0  # skipped rows already attached to a block
        self.emitted_breaks = 0  # line breaks inside those (only counts: their text is gone)

    def on_invalid(self, row: Any) -> str:
        """pyarrow's invalid_row_handler: note the row and skip it."""
        try:
            text = str(row.text or "")
            number = int(row.number) if row.number is not None else -1
            fields = int(row.actual_columns)
        except Exception:  # a handler that raises would abort the whole read
            text, number, fields = "", -1, 0
        self.pending.append(_InvalidRow(number, text, fields, _count_line_breaks(text)))
        return "skip"

    def lines(
        self, breaks: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], list[tuple[int, _InvalidRow]]]:
        """Lines of the next `len(breaks)` kept rows, and the skipped rows located by now."""
        n = len(breaks)
        # a snapshot: pyarrow's parsing thread (the prefetch) may be adding to the list
        pending = self.pending[:]
        records = np.array([row.record for row in pending], dtype=np.int64)
        # kept rows (the header included) before each pending skipped row
        before_kept = records - 1 - (self.emitted + np.arange(len(pending), dtype=np.int64))
        pending_breaks = np.array([row.breaks for row in pending], dtype=np.int64)
        kept_index = self.kept + np.arange(n, dtype=np.int64)
        # skipped rows located before each kept row, among the pending ones
        skipped = np.searchsorted(before_kept, kept_index, side="right")
        skipped_breaks = np.concatenate(([0], np.cumsum(pending_breaks)))
        breaks_before = np.cumsum(breaks) - breaks
        lines = (
            self.first_line
            + kept_index
            + self.emitted
            + skipped
            + self.kept_breaks
            + breaks_before
            + self.emitted_breaks
            + skipped_breaks[skipped]
        )
        # the skipped rows before the end of this block (after rows still to come: later)
        inside = np.maximum(before_kept - self.kept, 0)  # kept rows of this block before each
        beyond = np.flatnonzero(inside > n)
        count = int(beyond[0]) if beyond.size else len(pending)
        cumulative = np.concatenate(([0], np.cumsum(breaks)))
        located_lines = (
            self.first_line
            - 1
            + records[:count]
            + self.kept_breaks
            + cumulative[inside[:count]]
            + self.emitted_breaks
            + skipped_breaks[:count]
        )
        located = list(zip(located_lines.tolist(), pending[:count], strict=True))
        del self.pending[:count]  # (rows added meanwhile are after these)
        self.emitted += count
        self.emitted_breaks += int(pending_breaks[:count].sum())
        self.kept += n
        self.kept_breaks += int(breaks.sum())
        return lines.astype(np.int64), located

    def remaining(self) -> list[tuple[int, _InvalidRow]]:
        """Skipped rows after the last kept row."""
        located: list[tuple[int, _InvalidRow]] = []
        breaks = self.emitted_breaks
        for row in self.pending:
            located.append((self.first_line - 1 + row.record + self.kept_breaks + breaks, row))
            breaks += row.breaks
        self.emitted += len(self.pending)
        self.emitted_breaks = breaks
        self.pending = []
        return located


def _text_columns(
    cells: Sequence[pa.Array], n: int
) -> tuple[list[pa.Array], npt.NDArray[np.int64]]:
    """Binary columns as UTF-8 text, and the line breaks inside each row's values.

    One look at each column's data buffer answers both questions for most files: no CR/LF byte
    means no value spans lines, and pure ASCII is valid UTF-8, so the bytes can be viewed as
    text without validating them value by value.
    """
    texts: list[pa.Array] = []
    breaks = np.zeros(n, dtype=np.int64)
    for column in cells:
        buffers = column.buffers()
        data = buffers[2] if len(buffers) > 2 and buffers[2] is not None else None
        raw = data.to_pybytes() if data is not None else b""  # bytes.find is memchr-fast
        text = column.view(_TEXT) if raw.isascii() else _as_text(column)
        texts.append(text)
        if raw.find(b"\n") < 0 and raw.find(b"\r") < 0:
            continue
        count = (
            pc.count_substring(text, "\n").to_numpy(zero_copy_only=False)
            + pc.count_substring(text, "\r").to_numpy(zero_copy_only=False)
            - pc.count_substring(text, "\r\n").to_numpy(zero_copy_only=False)
        )
        breaks += np.nan_to_num(count.astype(np.float64)).astype(np.int64)
    return texts, breaks


def _csv_blocks(opened: _Opened, options: ReadOptions) -> Iterator[_Block]:
    text_layout = _decode_prefix(opened)
    text = text_layout.text
    # the header search looks at whole lines only (the last one may be cut by the prefix)
    lines_text: list[tuple[int, str]] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines_text.append((start, text[start : match.start()]))
        start = match.end()
        if len(lines_text) >= _HEADER_SEARCH_LINES:
            break
    else:
        if opened.rest is None and start < len(text):
            lines_text.append((start, text[start:]))
    candidates = [_split_header(line, _sniff_delimiter(line)) for _, line in lines_text]
    header_index = _find_header(candidates, options.column_overrides, opened.name)
    header_offset, header_text = lines_text[header_index]
    delimiter = _sniff_delimiter(header_text)
    first_line = 1 + _count_line_breaks(text[:header_offset])
    if opened.rest is None and header_offset + len(header_text) >= len(text.rstrip("\r\n")):
        # the header is the file's last line (pyarrow cannot read one line without a line
        # break): a register with no rows yet
        headers = _split_header(header_text, delimiter)
        only = _layout(headers, options.column_overrides, opened.name)
        yield _Block(only, [pa.nulls(0, _TEXT) for _ in headers], np.zeros(0, dtype=np.int64))
        return

    avg_line = max(len(opened.prefix) / max(_count_line_breaks(text), 1), 16.0)
    # blocks of at most 4 MiB (~40k rows): pyarrow's streaming reader keeps working buffers of
    # many times the block size per column, and small blocks let the prefetch thread overlap
    # parsing with conversion; per-block Python work stays small at this size. (16 MiB blocks
    # saved ~0.1 CPU-s per million rows but added ~0.4 GB to a 10M-row import's peak RSS.)
    block_rows = min(max(options.batch_rows, 1), 131_072)
    block_size = int(min(max(avg_line * block_rows, _MIN_BLOCK_BYTES), _MAX_BLOCK_BYTES))
    columns = len(_split_header(header_text, delimiter))

    # A UTF-8 file on disk is read by pyarrow natively (no Python, no GIL in the parse thread).
    # If a byte further on is not UTF-8 and sits in a row with the wrong number of fields,
    # pyarrow cannot hand that row to the handler: read again through the transcoding stream,
    # skipping what was already handed out.
    native = opened.path is not None and text_layout.encoding == "utf-8"
    yielded_rows = 0  # rows pyarrow returned (the header included) already handed out
    yielded_broken = 0  # skipped rows already handed out
    layout: _Layout | None = None
    while True:
        stream: Any
        if native:
            _install_quiet_handler_hook()
            assert opened.path is not None
            stream = pa.OSFile(str(opened.path))
            bom = len(codecs.BOM_UTF8) if opened.prefix.startswith(codecs.BOM_UTF8) else 0
            stream.seek(bom + len(text[:header_offset].encode("utf-8")))
        else:
            stream = _TranscodedStream(
                text[header_offset:],
                copy.deepcopy(text_layout.decoder),
                opened.rest,
                ascii_passthrough=text_layout.encoding != "utf-16",
            )
        counter = _LineCounter(first_line)
        record_batches: Generator[pa.RecordBatch, None, None] | None = None
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    use_threads=False, block_size=block_size, autogenerate_column_names=True
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=counter.on_invalid,
                ),
                convert_options=_convert_options(columns),
            )
            record_batches = _prefetch(reader)
            for record_batch in record_batches:
                if record_batch.num_rows == 0 and (layout is None or not counter.pending):
                    continue  # (a block of skipped rows only still hands them on)
                first_row, first_broken = counter.kept, counter.emitted
                cells, breaks = _text_columns(record_batch.columns, record_batch.num_rows)
                lines, located = counter.lines(breaks)
                if layout is None:
                    headers = [c[0].as_py() or "" for c in cells]
                    layout = _layout(headers, options.column_overrides, opened.name)
                # drop the header row and whatever an earlier attempt handed out already
                skip = max(yielded_rows - first_row, 1 if first_row == 0 else 0)
                if skip:
                    cells = [c.slice(skip) for c in cells]
                    lines = lines[skip:]
                located = located[max(yielded_broken - first_broken, 0) :]
                short, located = _short_rows(located, len(layout.headers), delimiter)
                cells, lines = _with_short_rows(cells, lines, short)
                if len(lines) or located or first_row == 0:  # the first block carries the layout
                    broken = _broken(located, len(layout.headers))
                    yield _Block(layout, cells, lines, broken, short.lines.tolist())
                # (a re-read counts from the start again: the marks only move forward)
                yielded_rows = max(yielded_rows, counter.kept)
                yielded_broken = max(yielded_broken, counter.emitted)
            if layout is None:  # pragma: no cover - the header line is always a row
                raise InputError(f"{opened.name}: no header line found; {_EXPECTED_FORMAT}")
            first_broken = counter.emitted
            remaining = counter.remaining()[max(yielded_broken - first_broken, 0) :]
            short, remaining = _short_rows(remaining, len(layout.headers), delimiter)
            tail = _broken(remaining, len(layout.headers))
            # the skipped rows after the last block pyarrow handed over: many, when the end
            # of a file is all short rows; they go on in blocks of block_rows rows
            empty = [pa.nulls(0, _TEXT) for _ in layout.headers]
            for start in range(0, len(short), block_rows):
                part = short.part(start, start + block_rows)
                last = part.lines[-1] if start + block_rows < len(short) else math.inf
                now = [row for row in tail if row[0] <= last]
                tail = tail[len(now) :]
                cells, lines = _with_short_rows(empty, np.zeros(0, dtype=np.int64), part)
                yield _Block(layout, cells, lines, now, part.lines.tolist())
            if tail:
                yield _Block(layout, empty, np.zeros(0, dtype=np.int64), tail)
            return
        except _READ_ERRORS as err:
            if native and _UNDECODABLE_ROW.search(str(err)):
                native = False
                continue
            raise _csv_error(opened.name, err) from err
        finally:
            if record_batches is not None:
                record_batches.close()  # stops the prefetch thread before its stream closes
            stream.close()


# With our handler, which always answers "skip", pyarrow reports a row with the wrong number of
# fields only when it could not decode the row's text to call the handler.
_UNDECODABLE_ROW = re.compile(r"CSV parse error: Row #\d+: Expected \d+ columns, got \d+")
_hook_installed = False


def _install_quiet_handler_hook() -> None:
    """Silence pyarrow's report of the row text it could not decode (the read is retried)."""
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        handler = getattr(unraisable.object, "__self__", None)
        if isinstance(handler, _LineCounter) and unraisable.exc_type is UnicodeDecodeError:
            return
        previous(unraisable)

    sys.unraisablehook = hook
    _hook_installed = True


def _convert_options(columns: int) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types=_binary_types(columns),
        # only an empty cell is null: "NA" or "n/a" is echoed as written (the canonical
        # columns read it as missing, _MISSING_TEXTS)
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )


def _binary_types(count: int) -> dict[str, pa.DataType]:
    # every cell as bytes, never inferred (a NIK must not become a number); UTF-8 is validated
    # per column later, with a cp1252 fallback. Generous: pyarrow may split a header differently.
    return {f"f{i}": pa.large_binary() for i in range(max(2 * count, count + 256))}


def _broken(
    located: list[tuple[int, _InvalidRow]], expected: int
) -> list[tuple[int, str, str, int]]:
    broken: list[tuple[int, str, str, int]] = []
    for line, row in located:
        if _is_blank_line(row.text):
            continue  # a line of spaces or delimiters only: blank, not a row
        reason = f"expected {expected} fields, found {row.fields}"
        if row.breaks:
            reason += (
                f" (an unclosed quote joins lines {line}-{line + row.breaks}, "
                f"{row.breaks + 1:,} lines, into this row?)"
            )
        text = row.text if len(row.text) <= 200 else row.text[:197] + "..."
        broken.append((line, text, reason, row.breaks))
    return broken


@dataclass
class _ShortRows:
    """Rows that only lack cells at the end, read: their lines and their cells, one array per
    header column (the missing cells null)."""

    lines: npt.NDArray[np.int64]
    cells: list[pa.Array]

    @classmethod
    def none(cls) -> _ShortRows:
        return cls(np.zeros(0, dtype=np.int64), [])

    def __len__(self) -> int:
        return len(self.lines)

    def part(self, start: int, stop: int) -> _ShortRows:
        return _ShortRows(
            self.lines[start:stop], [c.slice(start, stop - start) for c in self.cells]
        )


def _short_rows(
    located: list[tuple[int, _InvalidRow]], expected: int, delimiter: str
) -> tuple[_ShortRows, list[tuple[int, _InvalidRow]]]:
    """The skipped rows that only lack cells at the end, read with those cells empty, and the
    others.

    Excel, saving a sheet as CSV, leaves out the separators of empty cells at the end of rows,
    in groups set by its buffer (hand-edited files do the same): such a row is a row, its last
    cells empty. A row with a line break inside (an unclosed quote may have joined lines) or
    with more fields than the header stays broken. The rows, given the separators they lack,
    are parsed again by pyarrow with the reader's own options, all at once.
    """
    candidates = [
        (line, row)
        for line, row in located
        if 0 < row.fields < expected and not row.breaks and not _is_blank_line(row.text)
    ]
    if not candidates:
        return _ShortRows.none(), located
    text = "".join(row.text + delimiter * (expected - row.fields) + "\n" for _, row in candidates)
    data = text.encode("utf-8", "surrogatepass")
    failed: list[int] = []  # record numbers (1-based) pyarrow still could not split

    def on_invalid(row: Any) -> str:
        failed.append(int(row.number) if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            # one block: a row longer than pyarrow's default block (1 MiB) would fail them all
            read_options=pacsv.ReadOptions(
                use_threads=False, autogenerate_column_names=True, block_size=len(data) + 1
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=_convert_options(expected),
        )
    except _READ_ERRORS:
        return _ShortRows.none(), located
    if failed and -1 in failed:  # a row pyarrow could not number: leave them all broken
        return _ShortRows.none(), located
    kept = np.ones(len(candidates), dtype=bool)
    kept[np.array(failed, dtype=np.int64) - 1] = False
    short_lines = np.array([line for line, _ in candidates], dtype=np.int64)[kept]
    cells = [_as_text(column.combine_chunks()) for column in table.columns]
    taken = {id(row) for (_, row), keep in zip(candidates, kept.tolist(), strict=True) if keep}
    rest = [(line, row) for line, row in located if id(row) not in taken]
    return _ShortRows(short_lines, cells), rest


def _with_short_rows(
    cells: list[pa.Array], lines: npt.NDArray[np.int64], short: _ShortRows
) -> tuple[list[pa.Array], npt.NDArray[np.int64]]:
    """A block's cells and lines with the short rows put in their places."""
    if not len(short):
        return cells, lines
    all_lines = np.concatenate([lines, short.lines])
    order = np.argsort(all_lines, kind="stable")
    # rows after all of the block's (the tail of a file) are in order as they are
    in_order = not len(lines) or lines[-1] < short.lines[0]
    order_array = None if in_order else pa.array(order)
    merged = []
    for column, extra in zip(cells, short.cells, strict=True):
        joined = pa.concat_arrays([column.cast(_TEXT), extra])
        merged.append(joined if order_array is None else joined.take(order_array))
    return merged, all_lines[order]


# what reading a damaged file can raise (a truncated gzip raises EOFError or zlib.error)
_READ_ERRORS = (pa.ArrowException, OSError, EOFError, UnicodeError, ValueError, zlib.error)


def _csv_error(name: str, err: BaseException) -> InputError:
    message = _arrow_message(err)
    hint = ""
    if "straddl" in message:
        # one record longer than a block: almost always a quote that is never closed
        hint = '; a quoted field seems never to end (an unbalanced " quote?)'
    return InputError(f"{name}: cannot read as CSV ({message}){hint}")


def _arrow_message(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


# Blocks parsed ahead of the conversion (4 MiB each, ~10 MiB once parsed): a command that starts
# reading while it still imports (kbtool.streaming) gets this far before the GIL is free again.
_PREFETCH_BLOCKS = 8


def _prefetch(reader: Any) -> Generator[pa.RecordBatch, None, None]:
    """Batches of a pyarrow CSV reader, parsed one block ahead in a thread.

    pyarrow releases the GIL while parsing, so the next block is parsed on the second core
    while this one is converted. The reader's errors are re-raised here.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=_PREFETCH_BLOCKS)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in reader:
                while not stop.is_set():
                    try:
                        slots.put(("batch", batch), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as err:  # forwarded to the consumer
            slots.put(("error", err))

    worker = threading.Thread(target=produce, name="kbtool-csv-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


# ---------------------------------------------------------------------------------------------
# Workbooks (xlsx, xls, ods) through python-calamine
# ---------------------------------------------------------------------------------------------


def _workbook_blocks(opened: _Opened, options: ReadOptions) -> Iterator[_Block]:
    import python_calamine

    try:
        if opened.path is not None:
            workbook = python_calamine.CalamineWorkbook.from_path(str(opened.path))
        else:
            data = opened.prefix + (opened.rest.read() if opened.rest is not None else b"")
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as err:  # calamine raises several unrelated types
        raise InputError(
            f"{opened.name}: cannot read the workbook ({_arrow_message(err)}); {_EXPECTED_FORMAT}"
        ) from err
    with workbook:
        sheets = list(workbook.sheet_names)
        if options.sheet is not None:
            if options.sheet not in sheets:
                raise InputError(
                    f"{opened.name}: no sheet {options.sheet!r}; sheets: "
                    f"{', '.join(sheets) or '(none)'}"
                )
            sheet_name = options.sheet
        elif sheets:
            sheet_name = sheets[0]
        else:
            raise InputError(f"{opened.name}: the workbook has no sheets")
        try:
            # skip_empty_area=False keeps row 1 of the sheet at index 0: line = sheet row
            cells = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as err:  # calamine's own error types
            raise InputError(
                f"{opened.name}: cannot read sheet {sheet_name!r} ({_arrow_message(err)})"
            ) from err
    where = opened.name if options.sheet is None else f"{opened.name} (sheet {sheet_name})"
    if not cells:
        raise InputError(f"{where}: the sheet is empty; expected a header row")
    candidates = [[_cell_text(v) or "" for v in row] for row in cells[:_HEADER_SEARCH_LINES]]
    header_index = _find_header(candidates, options.column_overrides, where)
    layout = _layout(candidates[header_index], options.column_overrides, where)
    width = len(layout.headers)
    step = max(options.batch_rows, 1)
    if header_index + 1 >= len(cells):
        yield _Block(
            layout, [pa.array([], _TEXT) for _ in range(width)], np.zeros(0, dtype=np.int64)
        )
    for start in range(header_index + 1, len(cells), step):
        chunk = cells[start : start + step]
        # calamine's rows are rectangular; transposing with zip keeps the work in C
        transposed = list(zip(*chunk, strict=False))[:width]
        columns = [_workbook_column(values) for values in transposed]
        columns += [pa.nulls(len(chunk), _TEXT)] * (width - len(columns))
        lines = np.arange(start + 1, start + 1 + len(chunk), dtype=np.int64)
        yield _Block(layout, columns, lines)


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
        return column.cast(_TEXT)
    elif pa.types.is_floating(column.type):
        # whole numbers as digits: a numeric NIK cell must give its exact digit string
        whole = pc.and_(pc.equal(pc.floor(column), column), pc.less(pc.abs(column), 1e17))
        digits = pc.cast(pc.cast(column, pa.int64(), safe=False), _TEXT)
        return pc.if_else(whole, digits, pc.cast(column, _TEXT))
    elif any(is_type(column.type) for is_type in _CAST_AS_TEXT):
        return pc.cast(column, _TEXT)
    elif pa.types.is_timestamp(column.type):
        day = pc.cast(column, pa.date32())
        if pc.all(pc.equal(pc.cast(day, column.type), column)).as_py() is not False:
            return pc.cast(day, _TEXT)
        return pc.cast(pc.strftime(column, "%Y-%m-%d %H:%M:%S"), _TEXT)
    return pa.array([_cell_text(v) for v in cleaned], _TEXT)


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


# ---------------------------------------------------------------------------------------------
# Values: each distinct value is interpreted once, in Python; rows take the result by index
# ---------------------------------------------------------------------------------------------

# Reasons a row is rejected. Index 0 is "no problem"; arrays of these codes are uint8.
_OK = 0
_REASONS = (
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
(
    _,
    _BAD_SEX,
    _BAD_MEASURE,
    _BAD_OEDEMA,
    _BAD_NUMBER,
    _BAD_DATE,
    _IMPOSSIBLE_DATE,
    _FUTURE_DATE,
    _EARLY_DATE,
    _VISIT_BEFORE_BIRTH,
    _HEIGHT_NOT_POSITIVE,
    _WEIGHT_NOT_POSITIVE,
    _AGE_NEGATIVE,
    _TWO_HEIGHTS,
) = range(len(_REASONS))

# Texts that mean "no value" in exports (Excel's #N/A, pandas' NaN, a dash typed by hand).
# pyarrow's and pandas' own list (what they read as null), which kbtool's reading replaced
_NULL_TEXTS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
)  # fmt: skip
# In the columns read as values (numbers, dates, sex, ...), compared in lower case.
_MISSING_TEXTS = frozenset({"", "-", "--", "none", ".", *(text.lower() for text in _NULL_TEXTS)})
# In the text columns (NIK, names, places), as written: "Nan" or "Na" may be a name.
_TEXT_MISSING = frozenset({"-", "--", ".", *_NULL_TEXTS})
_TEXT_MISSING_LONGEST = max(len(text.encode()) for text in _TEXT_MISSING)

_MALE = frozenset(
    {
        "l",
        "lk",
        "laki",
        "laki laki",
        "lakilaki",
        "laki2",
        "pria",
        "cowok",
        "m",
        "male",
        "man",
        "boy",
        "1",
    }
)
_FEMALE = frozenset(
    {"p", "pr", "pr.", "perempuan", "wanita", "cewek", "f", "female", "woman", "girl", "w", "2"}
)
_STANDING = frozenset(
    {
        "berdiri",
        "standing",
        "stand",
        "h",
        "height",
        "tb",
        "tinggi",
        "tinggi badan",
        "diukur berdiri",
    }
)
_RECUMBENT = frozenset(
    {
        "terlentang",
        "telentang",
        "berbaring",
        "tidur",
        "recumbent",
        "lying",
        "l",
        "length",
        "pb",
        "panjang",
        "panjang badan",
        "diukur terlentang",
    }
)
_YES = frozenset({"y", "ya", "yes", "1", "true", "t", "ada", "+"})
_NO = frozenset({"n", "tidak", "tdk", "no", "0", "false", "f", "tidak ada", "normal"})

_SPACES = re.compile(r"[\s_\-]+")
_WHOLE_NUMBER = re.compile(r"([0-9]+)\.0+")


def _category_key(text: str) -> str:
    key = _SPACES.sub(" ", text.strip().lower()).strip()
    match = _WHOLE_NUMBER.fullmatch(key)  # "1.0" from a float column means 1
    return match.group(1) if match else key


def _parse_sex(text: str) -> tuple[int, int]:
    key = _category_key(text)
    if key in _MISSING_TEXTS:
        return 0, _OK
    if key in _MALE:
        return 1, _OK
    if key in _FEMALE:
        return 2, _OK
    return 0, _BAD_SEX


def _parse_measure(text: str) -> tuple[int, int]:
    key = _category_key(text)
    if key in _MISSING_TEXTS:
        return MEASURE_UNKNOWN, _OK
    if key in _STANDING:
        return MEASURE_HEIGHT, _OK
    if key in _RECUMBENT:
        return MEASURE_LENGTH, _OK
    return MEASURE_UNKNOWN, _BAD_MEASURE


def _parse_oedema(text: str) -> tuple[bool, int]:
    key = _category_key(text)
    if key in _MISSING_TEXTS or key in _NO:
        return False, _OK
    if key in _YES:
        return True, _OK
    return False, _BAD_OEDEMA


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
# e-PPGBM's "Usia Saat Ukur": "1 Tahun - 3 Bulan - 12 Hari" (also th/bl/hr, English words)
_AGE_TEXT = re.compile(
    r"(?:(?P<y>[0-9]+)\s*(?:tahun|thn|th|years?|yrs?|y)\.?)?[\s,/-]*"
    r"(?:(?P<m>[0-9]+)\s*(?:bulan|bln|bl|months?|mos?|m)\.?)?[\s,/-]*"
    r"(?:(?P<d>[0-9]+)\s*(?:hari|hr|days?|d)\.?)?",
    re.IGNORECASE,
)


def _number_parser(
    non_positive: int | None, negative: int | None, age_text: bool = False
) -> Callable[[str], tuple[float, int]]:
    def parse(text: str) -> tuple[float, int]:
        stripped = text.strip()
        if stripped.lower() in _MISSING_TEXTS:
            return math.nan, _OK
        if _NUMBER.fullmatch(stripped):
            value = float(stripped.replace(",", "."))
        elif age_text and (match := _AGE_TEXT.fullmatch(stripped)) and any(match.groups()):
            years, months, days = (int(g) if g else 0 for g in match.group("y", "m", "d"))
            value = years * 12 + months + days / DAYS_PER_MONTH
        else:
            return math.nan, _BAD_NUMBER
        if not math.isfinite(value):
            return math.nan, _BAD_NUMBER
        if non_positive is not None and value <= 0:
            return math.nan, non_positive
        if negative is not None and value < 0:
            return math.nan, negative
        return value, _OK

    return parse


_TIME_SUFFIX = (
    r"(?:[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?\s*"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2}|[AaPp][Mm])?)?"
)
_YMD = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})" + _TIME_SUFFIX)
# day first, Indonesia's order; a two-digit year is Excel's short date format (05/01/23)
_DMY = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})" + _TIME_SUFFIX)
_D_MONTH_Y = re.compile(r"([0-9]{1,2})[-/. ]+([A-Za-z]{3,9})\.?[-/. ]+([0-9]{4})" + _TIME_SUFFIX)
_COMPACT_YMD = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_EXCEL_SERIAL = re.compile(r"([0-9]{1,5})(?:[.,][0-9]+)?")
# Excel's day 0 is 1899-12-30 (serial 1 = 1900-01-01 after Lotus' leap-year bug); serials
# above 80000 (year 2119) are not dates a register holds.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MAX = 80_000
_EARLIEST = date(1900, 1, 1)
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
_NAT_DAYS = np.iinfo(np.int64).min
# month names and abbreviations, Indonesian and English, by their first three letters
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "peb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "aug": 8,
    "sep": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
    "dec": 12,
}


def _date_parser(today: date) -> Callable[[str], tuple[int, int]]:
    """Text -> (days since 1970-01-01, reason); dd/mm/yyyy is Indonesia's order."""

    def parse(text: str) -> tuple[int, int]:
        stripped = text.strip()
        if stripped.lower() in _MISSING_TEXTS:
            return _NAT_DAYS, _OK
        parts: tuple[int, int, int] | None = None
        if match := _YMD.fullmatch(stripped):
            parts = int(match[1]), int(match[3]), int(match[4])
        elif match := _DMY.fullmatch(stripped):
            # a short year is 20yy: registers of children under five hold no 19yy dates, and a
            # 20yy in the future is rejected rather than quietly read as a century earlier
            year = int(match[4]) + (2000 if len(match[4]) == 2 else 0)
            parts = year, int(match[3]), int(match[1])
        elif match := _D_MONTH_Y.fullmatch(stripped):
            month = _MONTHS.get(match[2][:3].lower())
            if month is None:
                return _NAT_DAYS, _BAD_DATE
            parts = int(match[3]), month, int(match[1])
        elif match := _COMPACT_YMD.fullmatch(stripped):
            parts = int(match[1]), int(match[2]), int(match[3])
        elif match := _EXCEL_SERIAL.fullmatch(stripped):
            serial = int(match[1])
            if not 1 <= serial < _EXCEL_SERIAL_MAX:
                return _NAT_DAYS, _BAD_DATE
            day = _EXCEL_EPOCH + timedelta(days=serial)
            parts = day.year, day.month, day.day
        if parts is None:
            return _NAT_DAYS, _BAD_DATE
        try:
            day = date(*parts)
        except ValueError:
            return _NAT_DAYS, _IMPOSSIBLE_DATE
        if day < _EARLIEST:
            return _NAT_DAYS, _EARLY_DATE
        if day > today:
            return _NAT_DAYS, _FUTURE_DATE
        return day.toordinal() - _UNIX_ORDINAL, _OK

    return parse


def _decode_cell(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            # a stray Windows-1252 byte in an otherwise UTF-8 file
            return value.decode("cp1252", errors="replace")
    return str(value)


def _as_text(column: pa.Array) -> pa.Array:
    """A binary or string column as validated UTF-8 text."""
    if column.type == _TEXT:
        return column
    try:
        return column.cast(_TEXT)
    except pa.ArrowInvalid:
        return pa.array([_decode_cell(v) for v in column.to_pylist()], _TEXT)


# With more distinct values than half a block's rows (and at least this many), a column is
# parsed with vectorised arrow kernels instead of value by value (unrounded weights, times).
_HIGH_CARDINALITY = 1_000
_CACHE_LIMIT = 200_000


class _DistinctParser:
    """Interprets a column through its distinct values, remembering them across blocks.

    The values already interpreted are kept as an arrow array, so a block's distinct values are
    looked up with one `index_in` and only the new ones reach Python.
    """

    def __init__(
        self, parse: Callable[[str], tuple[Any, int]], dtype: npt.DTypeLike, missing: object
    ) -> None:
        self.parse = parse
        self.dtype = dtype
        self.missing = missing
        self._reset()

    def _reset(self) -> None:
        self.known = pa.array([], pa.large_binary())
        # position 0 stands for an empty cell; known value i is at position i + 1
        self.values = np.array([self.missing], dtype=self.dtype)
        self.reasons = np.zeros(1, dtype=np.uint8)

    def __call__(self, column: pa.Array) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint8]]:
        return self.apply(column.dictionary_encode())

    def apply(self, encoded: pa.DictionaryArray) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint8]]:
        """Values and reason codes per row of a dictionary-encoded binary or string column."""
        keys = encoded.dictionary.cast(pa.large_binary())
        if len(self.known) + len(keys) > _CACHE_LIMIT:
            self._reset()
        found = pc.index_in(keys, value_set=self.known)
        if found.null_count:
            new = pc.filter(keys, pc.is_null(found))
            results = [self.parse(_decode_cell(key) or "") for key in new.to_pylist()]
            self.known = pa.concat_arrays([self.known, new])
            self.values = np.concatenate(
                [self.values, np.array([r[0] for r in results], dtype=self.dtype)]
            )
            self.reasons = np.concatenate(
                [self.reasons, np.array([r[1] for r in results], dtype=np.uint8)]
            )
            found = pc.index_in(keys, value_set=self.known)
        positions = found.to_numpy(zero_copy_only=False).astype(np.int64) + 1
        index = encoded.indices
        if index.null_count:
            # a null cell takes position 0 through the extra slot after the distinct values
            positions = np.append(positions, 0)
            index = index.fill_null(len(keys))
        row_values = pa.array(self.values[positions]).take(index).to_numpy(zero_copy_only=False)
        reasons = self.reasons[positions]
        if not reasons.any():
            return row_values, np.zeros(len(index), dtype=np.uint8)
        return row_values, pa.array(reasons).take(index).to_numpy(zero_copy_only=False)


def _numbers_vectorised(text: pa.Array) -> npt.NDArray[np.float64] | None:
    """Plain decimal numbers (point or comma) parsed by arrow; None if any cell is not one."""
    try:
        plain: npt.NDArray[np.float64] = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        return plain
    except pa.ArrowInvalid:
        pass  # spaces or decimal commas: clean up and try once more
    trimmed = pc.utf8_trim_whitespace(text)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    try:
        numbers = pc.cast(pc.replace_substring(trimmed, ",", "."), pa.float64())
    except pa.ArrowInvalid:
        return None
    values: npt.NDArray[np.float64] = numbers.to_numpy(zero_copy_only=False)
    return values


@dataclass
class _Parsed:
    """One canonical column of a block: values and a reason code per row (0 = fine)."""

    values: npt.NDArray[Any]
    reasons: npt.NDArray[np.uint8]


# The order in which a row's problems are named: canonical, a standing height after the height.
_HEIGHT_AT = CANONICAL_COLUMNS.index("height_cm") + 1
_CHECK_ORDER = (*CANONICAL_COLUMNS[:_HEIGHT_AT], STANDING_HEIGHT, *CANONICAL_COLUMNS[_HEIGHT_AT:])


class _Converter:
    """Turns blocks of cells into canonical arrow columns, reasons and rejects."""

    def __init__(self, source: str, options: ReadOptions) -> None:
        self.source = source
        self.options = options
        self.today = today = options.today or date.today()
        self.many_distinct: dict[str, bool] = {}
        self.said_padded = False
        self.parsers: dict[str, _DistinctParser] = {
            "sex": _DistinctParser(_parse_sex, np.int8, 0),
            "measure": _DistinctParser(_parse_measure, np.int8, MEASURE_UNKNOWN),
            "oedema": _DistinctParser(_parse_oedema, np.bool_, False),
            "birth_date": _DistinctParser(_date_parser(today), np.int64, _NAT_DAYS),
            "visit_date": _DistinctParser(_date_parser(today), np.int64, _NAT_DAYS),
            "age_months": _DistinctParser(
                _number_parser(None, _AGE_NEGATIVE, age_text=True), np.float64, math.nan
            ),
            "weight_kg": _DistinctParser(
                _number_parser(_WEIGHT_NOT_POSITIVE, None), np.float64, math.nan
            ),
            "height_cm": _DistinctParser(
                _number_parser(_HEIGHT_NOT_POSITIVE, None), np.float64, math.nan
            ),
            # a TB column beside PB (_join_heights): heights, with distinct values of its own
            STANDING_HEIGHT: _DistinctParser(
                _number_parser(_HEIGHT_NOT_POSITIVE, None), np.float64, math.nan
            ),
        }

    def parse(self, name: str, column: pa.Array, parser_name: str | None = None) -> _Parsed:
        """One canonical column of a block, through its distinct values when they are few.
        `parser_name` picks another column's parser, with its own memory (default: `name`)."""
        key = parser_name or name
        parser = self.parsers[key]
        if self.many_distinct.get(key):
            # the previous block was nearly all distinct: try the vectorised path first
            fast = self._vectorised(name, column)
            if fast is not None:
                return fast
        encoded = column.dictionary_encode()
        distinct = len(encoded.dictionary)
        many = distinct >= _HIGH_CARDINALITY and distinct * 2 > len(column)
        self.many_distinct[key] = many
        if many:
            fast = self._vectorised(name, column)
            if fast is not None:
                return fast
            if parser.dtype is np.int64:
                # times of day make every value distinct: drop them, then count again
                text = pc.replace_substring_regex(
                    _as_text(column), r"[ T][0-9]{1,2}[:.][0-9]{2}.*$", ""
                )
                encoded = text.dictionary_encode()
        values, reasons = parser.apply(encoded)
        return _Parsed(values, reasons)

    def _vectorised(self, name: str, column: pa.Array) -> _Parsed | None:
        """Plain numbers or ISO dates parsed by arrow kernels; None if any cell is not one."""
        dtype = self.parsers[name].dtype
        if dtype is np.float64:
            numbers = _numbers_vectorised(_as_text(column))
            return None if numbers is None else self._checked_numbers(name, numbers)
        if dtype is np.int64:
            try:
                # arrow's ISO 8601 cast is strict: 2023-02-29 or 2023-1-5 fail the whole column
                stamps = pc.cast(_as_text(column), pa.timestamp("s"))
            except pa.ArrowInvalid:
                return None
            present = stamps.is_valid().to_numpy(zero_copy_only=False)
            seconds = stamps.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            days = seconds // 86_400  # floor: the time of day does not count
            reasons = np.zeros(len(days), dtype=np.uint8)
            reasons[present & (days < _EARLIEST.toordinal() - _UNIX_ORDINAL)] = _EARLY_DATE
            reasons[present & (days > self.today.toordinal() - _UNIX_ORDINAL)] = _FUTURE_DATE
            days[~present | (reasons != _OK)] = _NAT_DAYS
            return _Parsed(days, reasons)
        return None

    def _checked_numbers(self, name: str, numbers: npt.NDArray[np.float64]) -> _Parsed:
        reasons = np.zeros(len(numbers), dtype=np.uint8)
        reasons[np.isinf(numbers)] = _BAD_NUMBER
        with np.errstate(invalid="ignore"):
            if name == "weight_kg":
                reasons[numbers <= 0] = _WEIGHT_NOT_POSITIVE
            elif name == "height_cm":
                reasons[numbers <= 0] = _HEIGHT_NOT_POSITIVE
            else:
                reasons[numbers < 0] = _AGE_NEGATIVE
        numbers = np.where(reasons == _OK, numbers, np.nan)
        return _Parsed(numbers, reasons)

    def convert(self, block: _Block) -> _Converted:
        layout = block.layout
        n = len(block.lines)
        # a row whose cells are all empty is a blank line (";;;;" from Excel), not a row
        if any(column.null_count == 0 for column in block.cells):
            blank = np.zeros(n, dtype=bool)
        else:
            has_cell = np.zeros(n, dtype=bool)
            for column in block.cells:
                if column.null_count < n:
                    has_cell |= column.is_valid().to_numpy(zero_copy_only=False)
            blank = ~has_cell

        parsed: dict[str, _Parsed] = {}
        for name in self.parsers:  # (STANDING_HEIGHT is no column's: _join_heights reads it)
            if name in layout.columns:
                parsed[name] = self.parse(name, block.cells[layout.columns[name]])
        if layout.standing_height is not None:
            self._join_heights(block, parsed)
        birth, visit = parsed.get("birth_date"), parsed.get("visit_date")
        if birth is not None and visit is not None:
            before = (
                (visit.values < birth.values)
                & (visit.values != _NAT_DAYS)
                & (birth.values != _NAT_DAYS)
                & (visit.reasons == _OK)
            )
            visit.reasons = np.where(before, _VISIT_BEFORE_BIRTH, visit.reasons).astype(np.uint8)

        # the first problem per row, in canonical column order; later ones are listed as "also"
        checked = [
            name
            for name in _CHECK_ORDER
            if name in parsed and (name in layout.columns or name == STANDING_HEIGHT)
        ]
        first = np.full(n, -1, dtype=np.int64)
        problems = np.zeros(n, dtype=np.uint32)
        for position, name in enumerate(checked):
            bad = parsed[name].reasons != _OK
            first[(first < 0) & bad] = position
            problems |= bad.astype(np.uint32) << position
        rejected = (first >= 0) & ~blank
        accepted = ~rejected & ~blank

        columns = self._canonical(block, parsed, accepted)
        raw = None
        if self.options.keep_raw:
            keep = None if accepted.all() else pa.array(accepted)
            raw = pa.table(
                {
                    name: cell if keep is None else cell.filter(keep)
                    for name, cell in zip(layout.raw_names, block.cells, strict=True)
                }
            )
        rejects = self._rejects(block, parsed, checked, first, problems, rejected)
        rows_read = int(np.count_nonzero(~blank)) + len(block.broken)
        # a stray quote can swallow the rest of a file into one rejected row: said aloud (a
        # rejected row with a quoted line break of its own reads the same, hence "perhaps")
        joined = [
            f"{self.source}: lines {line}-{line + breaks} ({breaks + 1:,} lines) were read as one "
            f"row, rejected: a quoted cell opened at line {line} runs to line {line + breaks}, "
            "perhaps a quote never closed; fix it and read the file again"
            for line, _, _, breaks in block.broken
            if breaks
        ]
        if block.padded and not self.said_padded:
            # said once a file, at the first: the same words in every batch print once
            self.said_padded = True
            joined.append(
                f"{self.source}: rows with fewer fields than the header, the first at line "
                f"{block.padded[0]}, were read with their missing last cells empty (as Excel "
                "writes rows whose last cells are empty); if the file was cut short, check them"
            )
        return _Converted(columns, raw, rejects, rows_read, layout, joined)

    def _join_heights(self, block: _Block, parsed: dict[str, _Parsed]) -> None:
        """Length (PB) and standing height (TB) in two columns: height_cm takes the one filled
        in, and its position when the measure column does not say; a row with both, unequal,
        is rejected. The standing height's problems are its own column's (STANDING_HEIGHT)."""
        assert block.layout.standing_height is not None
        length = parsed["height_cm"]
        standing = self.parse(
            "height_cm", block.cells[block.layout.standing_height], parser_name=STANDING_HEIGHT
        )
        has_length = ~np.isnan(length.values)
        has_height = ~np.isnan(standing.values)
        both = has_length & has_height
        reasons = standing.reasons.copy()
        reasons[both & (length.values != standing.values) & (reasons == _OK)] = _TWO_HEIGHTS
        parsed[STANDING_HEIGHT] = _Parsed(standing.values, reasons)
        values = np.where(has_length, length.values, standing.values)
        parsed["height_cm"] = _Parsed(values, length.reasons)
        named = np.where(
            has_length & ~both,
            MEASURE_LENGTH,
            np.where(has_height & ~both, MEASURE_HEIGHT, MEASURE_UNKNOWN),
        ).astype(np.int8)
        measure = parsed.get("measure")
        if measure is None:
            parsed["measure"] = _Parsed(named, np.zeros(len(named), dtype=np.uint8))
        else:  # the measure recorded wins; the column only fills in where none was
            recorded = np.where(measure.values == MEASURE_UNKNOWN, named, measure.values)
            parsed["measure"] = _Parsed(recorded.astype(np.int8), measure.reasons)

    def _canonical(
        self, block: _Block, parsed: dict[str, _Parsed], accepted: npt.NDArray[np.bool_]
    ) -> pa.Table:
        layout = block.layout
        count = int(np.count_nonzero(accepted))
        everything = count == len(accepted)
        keep = pa.array(accepted)
        arrays: dict[str, pa.Array] = {}
        for name in CANONICAL_COLUMNS:
            if name in parsed:
                values = parsed[name].values
                arrays[name] = _arrow_values(name, values if everything else values[accepted])
            elif name in layout.columns:
                text = _as_text(block.cells[layout.columns[name]])
                text = text if everything else text.filter(keep)
                arrays[name] = _clean_text(text, child_id=name == "child_id")
            else:
                arrays[name] = _missing_column(name, count)
        arrays["source_file"] = pa.array([self.source], _TEXT).take(
            pa.array(np.zeros(count, dtype=np.int64))
        )
        lines = block.lines if everything else block.lines[accepted]
        arrays["source_line"] = pa.array(lines, pa.int64())
        return pa.table(arrays)

    def _rejects(
        self,
        block: _Block,
        parsed: dict[str, _Parsed],
        checked: list[str],
        first: npt.NDArray[np.int64],
        problems: npt.NDArray[np.uint32],
        rejected: npt.NDArray[np.bool_],
    ) -> pa.Table:
        layout = block.layout
        rows = np.flatnonzero(rejected)
        headers = [layout.headers[layout.position(name)] for name in checked]
        files: list[str] = []
        lines: list[int] = []
        column_names: list[str | None] = []
        values: list[str | None] = []
        reasons: list[str] = []
        if rows.size:
            row_first = first[rows]
            row_problems = problems[rows]
            # "(also: ...)" depends only on which columns are bad: build it per distinct set
            masks, inverse = np.unique(row_problems, return_inverse=True)
            suffixes = []
            for mask in masks.tolist():
                bits = [i for i in range(len(checked)) if mask >> i & 1]
                suffixes.append(
                    f" (also: {', '.join(headers[i] for i in bits[1:])})" if len(bits) > 1 else ""
                )
            cell_values = np.empty(rows.size, dtype=object)
            row_reasons = np.empty(rows.size, dtype=np.uint8)
            for position, name in enumerate(checked):
                hit = np.flatnonzero(row_first == position)
                if hit.size == 0:
                    continue
                text = _as_text(block.cells[layout.position(name)]).take(pa.array(rows[hit]))
                cell_values[hit] = text.to_pylist()
                row_reasons[hit] = parsed[name].reasons[rows[hit]]
            files = [self.source] * rows.size
            lines = block.lines[rows].tolist()
            column_names = [headers[i] for i in row_first.tolist()]
            values = cell_values.tolist()
            reasons = [
                _REASONS[r] + suffixes[s]
                for r, s in zip(row_reasons.tolist(), inverse.tolist(), strict=True)
            ]
        for line, text, reason, _ in block.broken:
            files.append(self.source)
            lines.append(line)
            column_names.append(None)
            values.append(text)
            reasons.append(reason)
        table = pa.table(
            {
                "file": pa.array(files, pa.string()),
                "line": pa.array(lines, pa.int64()),
                "column": pa.array(column_names, pa.string()),
                "value": pa.array(values, pa.string()),
                "reason": pa.array(reasons, pa.string()),
            }
        )
        if block.broken:
            table = table.sort_by("line")
        return table


def _arrow_values(name: str, values: npt.NDArray[Any]) -> pa.Array:
    if name in ("birth_date", "visit_date"):
        missing = values == _NAT_DAYS
        seconds = np.where(missing, 0, values) * 86_400
        return pa.array(seconds, type=pa.timestamp("s"), mask=missing)
    if name in ("sex", "measure"):
        return pa.array(values, pa.int8())
    if name == "oedema":
        return pa.array(values, pa.bool_())
    return pa.array(values, pa.float64())


# First or last bytes of a value that may be whitespace to utf8_trim_whitespace: ASCII controls
# and space, DEL, and any byte of a multi-byte character (U+00A0, U+3000, ...). Generous on
# purpose: a value outside this set at both ends is certainly left as it is by trimming.
_MAYBE_SPACE = np.zeros(256, dtype=bool)
_MAYBE_SPACE[:0x21] = True
_MAYBE_SPACE[0x7F:] = True


def _value_ends(text: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]] | None:
    """First and last byte of every non-empty value, read from the buffers with numpy (no copy
    of the text); None if the array is not large_string."""
    if text.type != _TEXT or len(text) == 0:
        return None
    buffers = text.buffers()
    if buffers[1] is None or buffers[2] is None:
        return None
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    return data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]


@functools.cache
def _missing_value_set() -> pa.Array:
    # built on first use: pa.array on a list loads pandas, which a streamed read puts off
    return pa.array(sorted(_TEXT_MISSING), pa.string())


def _clean_text(text: pa.Array, child_id: bool) -> pa.Array:
    """Stripped text, NA for empty; a child_id also loses an Excel apostrophe and a '.0'."""
    ends = _value_ends(text)
    # the usual case, nothing to strip, costs two look-ups per value instead of a copy of all
    if ends is None or _MAYBE_SPACE[ends[0]].any() or _MAYBE_SPACE[ends[1]].any():
        text = pc.utf8_trim_whitespace(text)
    if child_id and len(text):
        if pc.any(pc.starts_with(text, "'")).as_py():
            text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"^'", ""))
        if pc.any(pc.ends_with(text, ".0")).as_py():
            # a NIK that went through a float column: "3372012345678901.0"
            text = pc.replace_substring_regex(text, r"^([0-9]+)\.0+$", r"\1")
    length = pc.binary_length(text)
    if not pc.any(pc.less_equal(length, _TEXT_MISSING_LONGEST)).as_py():
        return text
    # "", "-", "NA", "n/a", ... : no value (checked only where some value is that short)
    missing = pc.or_(pc.equal(length, 0), pc.is_in(text, value_set=_missing_value_set()))
    return pc.if_else(missing, pa.scalar(None, text.type), text)


def _missing_column(name: str, count: int) -> pa.Array:
    if name in ("birth_date", "visit_date"):
        return pa.nulls(count, pa.timestamp("s"))
    if name in ("sex", "measure"):
        return pa.array(np.zeros(count, dtype=np.int8))
    if name == "oedema":
        return pa.array(np.zeros(count, dtype=bool))
    if name in ("age_months", "weight_kg", "height_cm"):
        return pa.array(np.full(count, np.nan))
    return pa.nulls(count, _TEXT)


@dataclass
class _Converted:
    rows: pa.Table
    raw: pa.Table | None
    rejects: pa.Table
    rows_read: int
    layout: _Layout
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    # pandas loads here, on the reading thread, when the first batch is ready: a command can
    # start reading (pyarrow parsing, which needs no GIL) while its main thread still imports
    import pandas as pd

    # every text column: pandas' string[pyarrow] (NA for missing)
    string_dtype = pd.StringDtype("pyarrow")

    def string_type(arrow_type: pa.DataType) -> Any:
        return string_dtype if arrow_type in (pa.string(), pa.large_string()) else None

    return table.to_pandas(types_mapper=string_type)


def _batches(blocks: Iterator[_Block], source: str, options: ReadOptions) -> Iterator[ReadBatch]:
    converter = _Converter(source, options)
    pending: list[_Converted] = []
    pending_rows = 0
    layout: _Layout | None = None
    yielded = False
    for block in blocks:
        layout = block.layout
        converted = converter.convert(block)
        pending.append(converted)
        pending_rows += converted.rows_read
        if pending_rows >= options.batch_rows:
            yield _assemble(pending, source)
            yielded = True
            pending, pending_rows = [], 0
    if pending or not yielded:
        if not pending:
            empty = _Converted(
                _empty_rows(),
                _empty_raw(layout) if options.keep_raw else None,
                _empty_rejects(),
                0,
                layout or _Layout((), (), {}, ()),
            )
            pending = [empty]
        yield _assemble(pending, source)


def _assemble(parts: list[_Converted], source: str) -> ReadBatch:
    layout = parts[-1].layout
    rows = _to_pandas(pa.concat_tables([p.rows for p in parts]))
    raw = None
    if parts[0].raw is not None:
        raw = _to_pandas(pa.concat_tables([p.raw for p in parts if p.raw is not None]))
    rejects = _to_pandas(pa.concat_tables([p.rejects for p in parts]))
    return ReadBatch(
        source=source,
        rows=rows,
        raw=raw,
        rejects=rejects,
        rows_read=sum(p.rows_read for p in parts),
        column_map=layout.column_map,
        warnings=[*layout.warnings, *(warning for part in parts for warning in part.warnings)],
    )


def _empty_rows() -> pa.Table:
    arrays = {name: _missing_column(name, 0) for name in CANONICAL_COLUMNS}
    arrays["source_file"] = pa.array([], _TEXT)
    arrays["source_line"] = pa.array([], pa.int64())
    return pa.table(arrays)


def _empty_raw(layout: _Layout | None) -> pa.Table:
    names = layout.raw_names if layout is not None else ()
    return pa.table({name: pa.array([], _TEXT) for name in names})


def _empty_rejects() -> pa.Table:
    return pa.table(
        {
            "file": pa.array([], pa.string()),
            "line": pa.array([], pa.int64()),
            "column": pa.array([], pa.string()),
            "value": pa.array([], pa.string()),
            "reason": pa.array([], pa.string()),
        }
    )


def _concat(batches: list[ReadBatch]) -> ReadBatch:
    if len(batches) == 1:
        return batches[0]
    import pandas as pd

    column_map: dict[str, str] = {}
    warnings: list[str] = []
    sources: list[str] = []
    for batch in batches:
        for name, header in batch.column_map.items():
            column_map.setdefault(name, header)
        warnings.extend(w for w in batch.warnings if w not in warnings)
        if batch.source not in sources:
            sources.append(batch.source)
    raws = [b.raw for b in batches if b.raw is not None]
    return ReadBatch(
        source=", ".join(sources),
        rows=pd.concat([b.rows for b in batches], ignore_index=True),
        raw=pd.concat(raws, ignore_index=True) if raws else None,
        rejects=pd.concat([b.rejects for b in batches], ignore_index=True),
        rows_read=sum(b.rows_read for b in batches),
        column_map=column_map,
        warnings=warnings,
    )
