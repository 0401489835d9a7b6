"""Comma, semicolon or tab separated text, streamed through pyarrow.

The header is the first of the first lines that names the columns kbtool needs (exports often
start with a title); its most frequent separator is the file's. pyarrow parses the text from the
header on, every cell as text, on a thread of its own (kbtool.concurrency.ahead) while earlier
rows are converted. It numbers records, not lines, and skips a row whose number of fields is not
the header's: each row's physical line is counted from the header's line, over the line breaks
inside quoted values and the skipped rows. A skipped row short of its last cells (Excel leaves
their separators out) is read padded; the other skipped rows, one-field rows among them (a line
in another separator), are rejected.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kbtool.concurrency import ahead
from kbtool.errors import InputError
from kbtool.reading.canonical import CHUNK_ROWS, Block, BrokenRow
from kbtool.reading.headers import HEADER_SEARCH_LINES, find_header, is_blank_line, layout_of
from kbtool.reading.long_fields import CUT_PATTERN, FieldCutter, long_field_reason
from kbtool.reading.sources import READ_ERRORS, Source, Text, decode_prefix, describe
from kbtool.reading.values import TEXT
from kbtool.words import Said, indonesian_digits

# pyarrow's block sizes (bytes): a block must hold the longest row (a field is at most
# FIELD_LIMIT_BYTES); pyarrow's buffers are many times a block per column, so blocks stay small.
_MIN_BLOCK_BYTES = 1 << 20
_MAX_BLOCK_BYTES = 1 << 22
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELIMITERS = (",", ";", "\t")


class SkippedRow(NamedTuple):
    """A row pyarrow skipped (its number of fields is not the header's)."""

    record: int  # pyarrow's 1-based record number (the header is record 1)
    text: str
    fields: int
    breaks: int  # line breaks inside it


def count_line_breaks(text: str) -> int:
    """Line breaks in `text`: LF, CR and CRLF each count once."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def sniff_delimiter(line: str) -> str:
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


def _cell_options(columns: int) -> pacsv.ConvertOptions:
    """Every cell as text, never inferred (a NIK must not become a number), null only when
    empty ("NA" is echoed as written; the canonical columns read it as missing). The text is
    UTF-8 already (Text.as_utf8 checks or transcodes every block): not checked again."""
    count = max(2 * columns, columns + 256)  # generous: pyarrow may split a header differently
    return pacsv.ConvertOptions(
        column_types={f"f{i}": TEXT for i in range(count)},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        check_utf8=False,
    )


class _Header(NamedTuple):
    """Where a CSV's header is: its text's first lines (split), their starts, the header's index."""

    text: Text
    starts: list[int]
    lines: list[str]
    candidates: list[list[str]]
    header: int  # the header's index in lines


def _find_header(source: Source, overrides: Mapping[str, str]) -> _Header:
    """The header among a CSV's first lines; InputError when there is none."""
    text = decode_prefix(source)
    ends = itertools.islice(_LINE_BREAK.finditer(text.text), HEADER_SEARCH_LINES)
    starts = [0, *(match.end() for match in ends)]
    lines = [text.text[a:b].rstrip("\r\n") for a, b in itertools.pairwise(starts)]
    if source.stream is None and len(lines) < HEADER_SEARCH_LINES and starts[-1] < len(text.text):
        lines.append(text.text[starts[-1] :])  # the last line, known whole
    candidates = [_split_header(line, sniff_delimiter(line)) for line in lines]
    return _Header(text, starts, lines, candidates, find_header(candidates, overrides, source.name))


def check_csv_header(source: Source, overrides: Mapping[str, str]) -> None:
    """InputError, as csv_blocks would raise it, when the CSV has no usable header."""
    header = _find_header(source, overrides)
    layout_of(header.candidates[header.header], overrides, source.name)


def csv_blocks(source: Source, overrides: Mapping[str, str], batch_rows: int) -> Generator[Block]:
    """The blocks of a CSV source after its header, the first always (it carries the layout);
    InputError when the file cannot be read as CSV (possibly after earlier blocks)."""
    text, starts, lines, candidates, index = _find_header(source, overrides)
    delimiter = sniff_delimiter(lines[index])
    first_line = 1 + count_line_breaks(text.text[: starts[index]])
    if source.stream is None and not text.text[starts[index] + len(lines[index]) :].strip("\r\n"):
        # the header is the file's last line (pyarrow cannot read one line alone): no rows yet
        layout = layout_of(candidates[index], overrides, source.name)
        empty = [pa.chunked_array([], TEXT) for _ in layout.headers]
        yield Block(layout, empty, np.zeros(0, np.int64))
        return

    chunk_rows = min(max(batch_rows, 1), CHUNK_ROWS)
    line_bytes = max(len(source.prefix) / max(count_line_breaks(text.text), 1), 16.0)
    block_bytes = int(min(max(line_bytes * chunk_rows, _MIN_BLOCK_BYTES), _MAX_BLOCK_BYTES))
    skipped: list[SkippedRow] = []

    def on_invalid(row: Any) -> str:
        row_text = row.text or ""
        fields, breaks = int(row.actual_columns), count_line_breaks(row_text)
        skipped.append(SkippedRow(int(row.number), row_text, fields, breaks))
        return "skip"

    def chunks(reader: pacsv.CSVStreamingReader) -> Iterator[_Chunk]:
        """pyarrow's record batches gathered into chunks of about chunk_rows rows, each with
        the rows skipped by its end (on the parsing thread, where the handler runs)."""
        batches: list[pa.RecordBatch] = []
        for batch in reader:
            batches.append(batch)
            if sum(b.num_rows for b in batches) + len(skipped) >= chunk_rows:
                yield _chunk(batches, reader.schema, skipped)
                batches = []
        yield _chunk(batches, reader.schema, skipped)

    cutter = FieldCutter(delimiter)
    replaced: list[bool] = []  # (not empty once a block held U+FFFD)
    stream = text.as_utf8(
        source.bytes_from(text.offset(starts[index])),
        then=cutter,
        on_replaced=lambda: replaced.append(True),
    )
    parsed = None
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=block_bytes, autogenerate_column_names=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=_cell_options(len(candidates[index])),
        )
        parsed = ahead(chunks(reader), name="kbtool-csv")
        blocks = _blocks(parsed, first_line, delimiter, overrides, source.name, cutter)
        for number, block in enumerate(blocks):
            if number == 0 and text.note is not None:
                block.warnings.append(text.note)
            if replaced:
                block.warnings += _replaced_lines(block, source.name)
            yield block
    except READ_ERRORS as err:
        message = describe(err)
        # one record longer than a block: almost always a quote that is never closed
        hint = '; a quoted field seems never to end (an unbalanced " quote?)'
        hint = hint if "straddl" in message else ""
        raise InputError(f"{source.name}: cannot read as CSV ({message}){hint}") from err
    finally:
        if parsed is not None:
            parsed.close()  # stops the parsing thread before its stream closes
        stream.close()


# One chunk of a file: a text array per column, and the rows pyarrow skipped by its end.
_Chunk = tuple[list[pa.ChunkedArray], list[SkippedRow]]


def _chunk(batches: list[pa.RecordBatch], schema: pa.Schema, skipped: list[SkippedRow]) -> _Chunk:
    taken, skipped[:] = skipped[:], []
    return pa.Table.from_batches(batches, schema).columns, taken


def _blocks(
    chunks: Iterator[_Chunk],
    first_line: int,
    delimiter: str,
    overrides: Mapping[str, str],
    source: str,
    cutter: FieldCutter,
) -> Iterator[Block]:
    records = _Records(first_line)
    layout = None
    for cells, skipped in chunks:
        lines, located = records.place(_line_breaks(cells), skipped)
        first = layout is None
        if layout is None:  # the header: pyarrow's first row
            layout = layout_of([column[0].as_py() or "" for column in cells], overrides, source)
            cells, lines = [column.slice(1) for column in cells], lines[1:]
        width = len(layout.headers)
        padded_lines, padded_cells, located = _padded(located, width, delimiter)
        if len(padded_lines):
            order = np.argsort(np.concatenate([lines, padded_lines]), kind="stable")
            cells = [
                pa.chunked_array([*column.chunks, padded]).take(pa.array(order))
                for column, padded in zip(cells, padded_cells, strict=True)
            ]
            lines = np.concatenate([lines, padded_lines])[order]
        broken = _broken(located, width)
        if cutter.cuts:
            cells, lines, cut = _without_cut_fields(cells, lines, layout.headers)
            broken += cut
        if first or len(lines) or broken:
            first_padded = int(padded_lines[0]) if len(padded_lines) else None
            yield Block(layout, cells, lines, broken, first_padded)


def _line_breaks(cells: list[pa.ChunkedArray]) -> npt.NDArray[np.int64]:
    """The line breaks inside each row's values (quoted values may hold some)."""
    breaks = np.zeros(len(cells[0]), dtype=np.int64)
    for column in cells:
        data = [chunk.buffers()[2] for chunk in column.chunks]
        raw = [buffer.to_pybytes() for buffer in data if buffer is not None]  # (`in`: memchr)
        if any(b"\n" in part or b"\r" in part for part in raw):
            count = pc.subtract(
                pc.add(pc.count_substring(column, "\n"), pc.count_substring(column, "\r")),
                pc.count_substring(column, "\r\n"),
            )
            breaks += count.fill_null(0).to_numpy()
    return breaks


class _Records:
    """Physical lines of pyarrow's records as they stream past: record r (the header is
    record 1) is on the header's line + r - 1 + the line breaks inside the records before it."""

    def __init__(self, first_line: int) -> None:
        self.record = 1  # the first record not yet placed
        self.line = first_line  # and its line
        self.pending: list[SkippedRow] = []  # skipped rows not yet placed, by record

    def place(
        self, breaks: npt.NDArray[np.int64], skipped: list[SkippedRow]
    ) -> tuple[npt.NDArray[np.int64], list[tuple[int, SkippedRow]]]:
        """The lines of the next len(breaks) kept rows, given the line breaks inside each, and
        the skipped rows among them or right after them, with their lines (pyarrow may have
        reported skipped rows further on already: they wait)."""
        self.pending += skipped
        n = len(breaks)
        records = np.array([row.record for row in self.pending], dtype=np.int64)
        kept_before = records - self.record - np.arange(len(records))
        k = int(np.searchsorted(kept_before, n, side="right"))
        now, self.pending = self.pending[:k], self.pending[k:]
        is_skipped = np.zeros(n + k, dtype=bool)
        is_skipped[records[:k] - self.record] = True
        record_breaks = np.zeros(n + k, dtype=np.int64)
        record_breaks[~is_skipped] = breaks
        record_breaks[is_skipped] = [row.breaks for row in now]
        ends = np.cumsum(record_breaks + 1)  # lines from self.line to the end of each record
        lines = self.line + ends - record_breaks - 1
        self.record += n + k
        self.line += int(ends[-1]) if n + k else 0
        return lines[~is_skipped], list(zip(lines[is_skipped].tolist(), now, strict=True))


def _padded(
    located: list[tuple[int, SkippedRow]], width: int, delimiter: str
) -> tuple[npt.NDArray[np.int64], list[pa.Array], list[tuple[int, SkippedRow]]]:
    """The skipped rows that only lack cells at the end read with those cells empty (lines,
    cells), and the other skipped rows. Excel's CSV leaves out the separators of empty cells at
    a row's end; a row with a line break inside (an unclosed quote?), more fields than the
    header, or one field only (a line in another separator: "a;b;c" in a comma file) stays
    broken."""
    short = [
        i
        for i, (_, row) in enumerate(located)
        if 1 < row.fields < width and not row.breaks and not is_blank_line(row.text)
    ]
    if not short:
        return np.zeros(0, np.int64), [], located
    rows = [located[i][1] for i in short]
    data = "".join(row.text + delimiter * (width - row.fields) + "\n" for row in rows).encode()
    failed: set[int] = set()  # record numbers (1-based) pyarrow still cannot split

    def on_invalid(row: Any) -> str:
        failed.add(int(row.number))
        return "skip"

    try:
        table: pa.Table | None = pacsv.read_csv(
            io.BytesIO(data),
            # one block: a row longer than pyarrow's default block (1 MiB) would fail them all
            read_options=pacsv.ReadOptions(
                use_threads=False, autogenerate_column_names=True, block_size=len(data) + 1
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=_cell_options(width),
        )
    except READ_ERRORS:
        table = None
    if table is None or table.num_columns != width:  # (an open quote took the padding in)
        return np.zeros(0, np.int64), [], located
    read = {i for number, i in enumerate(short, start=1) if number not in failed}
    lines = np.array([located[i][0] for i in sorted(read)], dtype=np.int64)
    rest = [row for i, row in enumerate(located) if i not in read]
    return lines, [column.combine_chunks() for column in table.columns], rest


def _broken(located: list[tuple[int, SkippedRow]], width: int) -> list[BrokenRow]:
    """The skipped rows as rejects (blank lines are no rows)."""
    broken = []
    for line, row in located:
        if is_blank_line(row.text):
            continue
        reason = long_field_reason(row.text) or f"expected {width} fields, found {row.fields}"
        if row.breaks:
            last = line + row.breaks
            reason += f" (an unclosed quote joins lines {line}-{last}, {row.breaks + 1:,} lines,"
            reason += " into this row?)"
        text = row.text if len(row.text) <= 200 else row.text[:197] + "..."
        broken.append(BrokenRow(line, text, reason, row.breaks))
    return broken


def _without_cut_fields(
    cells: list[pa.ChunkedArray], lines: npt.NDArray[np.int64], headers: Sequence[str]
) -> tuple[list[pa.ChunkedArray], npt.NDArray[np.int64], list[BrokenRow]]:
    """The rows without a field cut for its length (long_fields), and those rows as rejects."""
    cut = np.zeros(len(lines), dtype=bool)
    broken = []
    for header, column in zip(headers, cells, strict=False):
        found = pc.match_substring_regex(column, CUT_PATTERN)
        found = found.fill_null(False).to_numpy(zero_copy_only=False)
        found &= ~cut  # a row is rejected once, for its first cut field
        for row in np.flatnonzero(found).tolist():
            reason = str(long_field_reason(column[row].as_py()))
            broken.append(BrokenRow(int(lines[row]), "", reason, 0, header))
        cut |= found
    if not cut.any():
        return cells, lines, []
    kept = pa.array(~cut)
    return [column.filter(kept) for column in cells], lines[~cut], broken


def _replaced_lines(block: Block, source: str) -> list[str]:
    """The lines of a block's rows with U+FFFD: bytes of a UTF-8 file that are not UTF-8."""
    lines = np.zeros(len(block.lines), dtype=bool)
    for column in block.cells:
        lines |= (
            pc.match_substring(column, "\ufffd").fill_null(False).to_numpy(zero_copy_only=False)
        )
    if not lines.any():
        return []
    found = block.lines[lines].tolist()
    if len(found) == 1:
        return [Said("not_utf8_line", file=source, line=found[0])]
    more = ", ..." if len(found) > 10 else ""
    shown = {
        "en": ", ".join(f"{line:,}" for line in found[:10]) + more,
        "id": ", ".join(indonesian_digits(f"{line:,}") for line in found[:10]) + more,
    }
    return [Said("not_utf8_lines", file=source, count=len(found), lines=shown)]
