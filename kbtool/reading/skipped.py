"""The rows pyarrow skips because their field count is not the header's: where they are, which
are read after all, and which are rejected.

pyarrow numbers records, not lines, and hands a skipped row to a handler with its record number
and text. LineCounter turns both into physical lines as blocks stream past; a row short of its
last cells (Excel leaves their separators out) is parsed again, padded; the rest are broken rows.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from kbtool.reading.blocks import TEXT, BrokenRow
from kbtool.reading.headers import is_blank_line
from kbtool.reading.sources import READ_ERRORS
from kbtool.reading.values import as_text


def count_line_breaks(text: str) -> int:
    """Line breaks in `text`: LF, CR and CRLF each count once."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def cell_options(columns: int) -> pacsv.ConvertOptions:
    """pyarrow's conversion for a file of `columns` columns: every cell as bytes, never inferred
    (a NIK must not become a number; UTF-8 is checked per column later), null only when empty."""
    # generous: pyarrow may split a header differently
    count = max(2 * columns, columns + 256)
    return pacsv.ConvertOptions(
        column_types={f"f{i}": pa.large_binary() for i in range(count)},
        # "NA" or "n/a" is echoed as written (the canonical columns read it as missing)
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )


@dataclass
class InvalidRow:
    """A row pyarrow skipped, as its handler was told of it."""

    record: int  # pyarrow's 1-based record number (the header is record 1)
    text: str
    fields: int
    breaks: int  # line breaks inside the record


class LineCounter:
    """Physical line numbers of pyarrow's rows, as blocks stream past.

    pyarrow numbers records, not lines, and only for rows it skips (wrong number of fields).
    A row's line is the header's line + records before it + line breaks inside quoted values
    of the records before it. Skipped records are located among the kept ones by their number.
    """

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.kept = 0  # rows pyarrow returned so far (the header is row 0)
        self.kept_breaks = 0  # line breaks inside the values of those rows
        self.pending: list[InvalidRow] = []  # skipped rows not yet attached to a block
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
        self.pending.append(InvalidRow(number, text, fields, count_line_breaks(text)))
        return "skip"

    def lines(
        self, breaks: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], list[tuple[int, InvalidRow]]]:
        """Lines of the next `len(breaks)` kept rows, and the skipped rows located by now."""
        n = len(breaks)
        # a snapshot: pyarrow's parsing thread (kbtool.concurrency.ahead) may be adding to it
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

    def remaining(self) -> list[tuple[int, InvalidRow]]:
        """Skipped rows after the last kept row."""
        located: list[tuple[int, InvalidRow]] = []
        breaks = self.emitted_breaks
        for row in self.pending:
            located.append((self.first_line - 1 + row.record + self.kept_breaks + breaks, row))
            breaks += row.breaks
        self.emitted += len(self.pending)
        self.emitted_breaks = breaks
        self.pending = []
        return located


# With our handler, which always answers "skip", pyarrow reports a row with the wrong number of
# fields only when it could not decode the row's text to call the handler.
UNDECODABLE_ROW = re.compile(r"CSV parse error: Row #\d+: Expected \d+ columns, got \d+")
_hook_installed = False


def quiet_undecodable_rows() -> None:
    """Silence pyarrow's report of the row text it could not decode (the read is retried)."""
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        handler = getattr(unraisable.object, "__self__", None)
        if isinstance(handler, LineCounter) and unraisable.exc_type is UnicodeDecodeError:
            return
        previous(unraisable)

    sys.unraisablehook = hook
    _hook_installed = True


def broken_rows(located: list[tuple[int, InvalidRow]], expected: int) -> list[BrokenRow]:
    """The located skipped rows as rejects (blank lines are no rows)."""
    broken: list[BrokenRow] = []
    for line, row in located:
        if is_blank_line(row.text):
            continue  # a line of spaces or delimiters only: blank, not a row
        reason = f"expected {expected} fields, found {row.fields}"
        if row.breaks:
            reason += (
                f" (an unclosed quote joins lines {line}-{line + row.breaks}, "
                f"{row.breaks + 1:,} lines, into this row?)"
            )
        text = row.text if len(row.text) <= 200 else row.text[:197] + "..."
        broken.append(BrokenRow(line, text, reason, row.breaks))
    return broken


@dataclass
class ShortRows:
    """Rows that only lack cells at the end, read: their lines and their cells, one array per
    header column (the missing cells null)."""

    lines: npt.NDArray[np.int64]
    cells: list[pa.Array]

    @classmethod
    def none(cls) -> ShortRows:
        return cls(np.zeros(0, dtype=np.int64), [])

    def __len__(self) -> int:
        return len(self.lines)

    def part(self, start: int, stop: int) -> ShortRows:
        return ShortRows(self.lines[start:stop], [c.slice(start, stop - start) for c in self.cells])


def short_rows(
    located: list[tuple[int, InvalidRow]], expected: int, delimiter: str
) -> tuple[ShortRows, list[tuple[int, InvalidRow]]]:
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
        if 0 < row.fields < expected and not row.breaks and not is_blank_line(row.text)
    ]
    if not candidates:
        return ShortRows.none(), located
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
            convert_options=cell_options(expected),
        )
    except READ_ERRORS:
        return ShortRows.none(), located
    if failed and -1 in failed:  # a row pyarrow could not number: leave them all broken
        return ShortRows.none(), located
    kept = np.ones(len(candidates), dtype=bool)
    kept[np.array(failed, dtype=np.int64) - 1] = False
    short_lines = np.array([line for line, _ in candidates], dtype=np.int64)[kept]
    cells = [as_text(column.combine_chunks()) for column in table.columns]
    taken = {id(row) for (_, row), keep in zip(candidates, kept.tolist(), strict=True) if keep}
    rest = [(line, row) for line, row in located if id(row) not in taken]
    return ShortRows(short_lines, cells), rest


def with_short_rows(
    cells: list[pa.Array], lines: npt.NDArray[np.int64], short: ShortRows
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
        joined = pa.concat_arrays([column.cast(TEXT), extra])
        merged.append(joined if order_array is None else joined.take(order_array))
    return merged, all_lines[order]
