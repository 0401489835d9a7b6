"""Comma, semicolon or tab separated text, streamed through pyarrow in blocks.

The header is the first of the first lines that names the columns kbtool needs (exports often
start with a title); its most frequent separator is the file's. pyarrow parses the rest, every
cell as bytes, on a thread of its own (kbtool.concurrency.ahead) while the previous block is
converted; each row keeps its physical line, quoted line breaks and skipped rows counted.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kbtool.concurrency import ahead
from kbtool.errors import InputError
from kbtool.reading.batches import ReadOptions
from kbtool.reading.blocks import TEXT, Block, no_lines
from kbtool.reading.headers import HEADER_SEARCH_LINES, Layout, find_header, layout_of
from kbtool.reading.skipped import (
    UNDECODABLE_ROW,
    LineCounter,
    broken_rows,
    cell_options,
    count_line_breaks,
    quiet_undecodable_rows,
    short_rows,
    with_short_rows,
)
from kbtool.reading.sources import EXPECTED_FORMAT, READ_ERRORS, Source, decode_prefix, describe
from kbtool.reading.values import as_text

# pyarrow block sizes (bytes): a block must hold the longest row
_MIN_BLOCK_BYTES = 1 << 20
_MAX_BLOCK_BYTES = 1 << 22
# Blocks parsed ahead of the conversion (4 MiB each, ~10 MiB once parsed): a command that starts
# reading while it still imports (kbtool.scoring) gets this far before the GIL is free again.
_PREFETCH_BLOCKS = 8

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELIMITERS = (",", ";", "\t")


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


def _first_lines(text: str, complete: bool) -> list[tuple[int, str]]:
    """(offset, text) of the first lines of `text`; the last only when it is known whole."""
    lines: list[tuple[int, str]] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append((start, text[start : match.start()]))
        start = match.end()
        if len(lines) >= HEADER_SEARCH_LINES:
            return lines
    if complete and start < len(text):
        lines.append((start, text[start:]))
    return lines


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
        text = column.view(TEXT) if raw.isascii() else as_text(column)
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


def csv_blocks(source: Source, options: ReadOptions) -> Iterator[Block]:
    """The blocks of a CSV source, from the row after its header on; InputError when the file
    cannot be read as CSV (possibly after earlier blocks)."""
    text = decode_prefix(source)
    lines_text = _first_lines(text.text, source.complete)
    candidates = [_split_header(line, sniff_delimiter(line)) for _, line in lines_text]
    header_index = find_header(candidates, options.column_overrides, source.name)
    header_offset, header_text = lines_text[header_index]
    delimiter = sniff_delimiter(header_text)
    headers = _split_header(header_text, delimiter)
    first_line = 1 + count_line_breaks(text.text[:header_offset])
    if source.complete and header_offset + len(header_text) >= len(text.text.rstrip("\r\n")):
        # the header is the file's last line (pyarrow cannot read one line without a line
        # break): a register with no rows yet
        only = layout_of(headers, options.column_overrides, source.name)
        yield Block(only, [pa.nulls(0, TEXT) for _ in headers], no_lines())
        return

    avg_line = max(len(source.prefix) / max(count_line_breaks(text.text), 1), 16.0)
    # blocks of at most 4 MiB (~40k rows): pyarrow's streaming reader keeps working buffers of
    # many times the block size per column, and small blocks let the parsing thread overlap
    # parsing with conversion; per-block Python work stays small at this size. (16 MiB blocks
    # saved ~0.1 CPU-s per million rows but added ~0.4 GB to a 10M-row import's peak RSS.)
    block_rows = min(max(options.batch_rows, 1), 131_072)
    block_size = int(min(max(avg_line * block_rows, _MIN_BLOCK_BYTES), _MAX_BLOCK_BYTES))
    reading = _Reading(source, options, first_line, delimiter, len(headers), block_rows)
    # A UTF-8 file on disk is read by pyarrow natively (no transcoding, no GIL in the parse
    # thread). If a byte further on is not UTF-8 and sits in a row with the wrong number of
    # fields, pyarrow cannot hand that row to the handler: read again, transcoded,
    # skipping what was already handed out.
    native = source.path is not None and text.encoding == "utf-8"
    offset = text.offset(header_offset)
    while True:
        try:
            stream = source.bytes_from(offset)
            encoding = "utf8"
            if native:
                quiet_undecodable_rows()
            else:
                stream, encoding = text.transcoded(stream)
            read_options = pacsv.ReadOptions(
                use_threads=False,
                block_size=block_size,
                autogenerate_column_names=True,
                encoding=encoding,
            )
            yield from reading.blocks(stream, read_options)
            return
        except READ_ERRORS as err:
            if native and UNDECODABLE_ROW.search(str(err)):
                native = False
                continue
            message = describe(err)
            # one record longer than a block: almost always a quote that is never closed
            hint = '; a quoted field seems never to end (an unbalanced " quote?)'
            hint = hint if "straddl" in message else ""
            raise InputError(f"{source.name}: cannot read as CSV ({message}){hint}") from err


class _Reading:
    """One CSV read through pyarrow, and what it handed out already: a re-read (after a byte
    pyarrow could not decode) counts rows from the start again and skips those."""

    def __init__(
        self,
        source: Source,
        options: ReadOptions,
        first_line: int,
        delimiter: str,
        columns: int,
        block_rows: int,
    ) -> None:
        self.source = source
        self.options = options
        self.first_line = first_line
        self.delimiter = delimiter
        self.columns = columns
        self.block_rows = block_rows
        self.layout: Layout | None = None
        self.yielded_rows = 0  # rows pyarrow returned (the header included) handed out
        self.yielded_broken = 0  # skipped rows handed out

    def blocks(self, stream: pa.NativeFile, read_options: pacsv.ReadOptions) -> Iterator[Block]:
        counter = LineCounter(self.first_line)
        record_batches = None
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=read_options,
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=counter.on_invalid,
                ),
                convert_options=cell_options(self.columns),
            )
            record_batches = ahead(reader, depth=_PREFETCH_BLOCKS, name="kbtool-csv-blocks")
            for record_batch in record_batches:
                block = self._block(record_batch, counter)
                if block is not None:
                    yield block
            yield from self._tail(counter)
        finally:
            if record_batches is not None:
                record_batches.close()  # stops the parsing thread before its stream closes
            stream.close()

    def _block(self, record_batch: pa.RecordBatch, counter: LineCounter) -> Block | None:
        if record_batch.num_rows == 0 and (self.layout is None or not counter.pending):
            return None  # (a block of skipped rows only still hands them on)
        first_row, first_broken = counter.kept, counter.emitted
        cells, breaks = _text_columns(record_batch.columns, record_batch.num_rows)
        lines, located = counter.lines(breaks)
        if self.layout is None:
            headers = [c[0].as_py() or "" for c in cells]
            self.layout = layout_of(headers, self.options.column_overrides, self.source.name)
        # drop the header row and whatever an earlier attempt handed out already
        skip = max(self.yielded_rows - first_row, 1 if first_row == 0 else 0)
        if skip:
            cells = [c.slice(skip) for c in cells]
            lines = lines[skip:]
        located = located[max(self.yielded_broken - first_broken, 0) :]
        width = len(self.layout.headers)
        short, located = short_rows(located, width, self.delimiter)
        cells, lines = with_short_rows(cells, lines, short)
        block = None
        if len(lines) or located or first_row == 0:  # the first block carries the layout
            broken = broken_rows(located, width)
            block = Block(self.layout, cells, lines, broken, short.lines.tolist())
        # (a re-read counts from the start again: the marks only move forward)
        self.yielded_rows = max(self.yielded_rows, counter.kept)
        self.yielded_broken = max(self.yielded_broken, counter.emitted)
        return block

    def _tail(self, counter: LineCounter) -> Iterator[Block]:
        """The skipped rows after the last block pyarrow handed over: many, when the end of a
        file is all short rows; they go on in blocks of block_rows rows."""
        layout = self.layout
        if layout is None:  # pragma: no cover - the header line is always a row
            raise InputError(f"{self.source.name}: no header line found; {EXPECTED_FORMAT}")
        first_broken = counter.emitted
        remaining = counter.remaining()[max(self.yielded_broken - first_broken, 0) :]
        short, remaining = short_rows(remaining, len(layout.headers), self.delimiter)
        tail = broken_rows(remaining, len(layout.headers))
        empty = [pa.nulls(0, TEXT) for _ in layout.headers]
        step = self.block_rows
        for start in range(0, len(short), step):
            part = short.part(start, start + step)
            last = part.lines[-1] if start + step < len(short) else math.inf
            now = [row for row in tail if row.line <= last]
            tail = tail[len(now) :]
            cells, lines = with_short_rows(empty, no_lines(), part)
            yield Block(layout, cells, lines, now, part.lines.tolist())
        if tail:
            yield Block(layout, empty, no_lines(), tail)
