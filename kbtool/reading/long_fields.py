"""Fields too long to be register values, cut out of a CSV's bytes as they stream past.

A register value is a date, a number, a name or a short note. A field of megabytes (a file
pasted into a cell, a dump) is none of them, and pyarrow cannot parse a row longer than its
block: such a field is replaced by a mark holding its length, so its row is parsed, found by the
mark and rejected, and memory stays bounded (a field is held back until it ends or passes the
limit). A field here is a run of bytes without a separator or line break; a quoted field that
holds those is several runs. A run may begin a field or lie inside quotes, and it leaves the
parser inside quotes or not: the mark is written with the quotes that leave it the same way
from either start, so every later row is parsed as before.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

FIELD_LIMIT_BYTES = 1_000_000
# Stands for a cut field: ASCII's "substitute" character around the field's length in bytes.
CUT_MARK = "\x1a"
CUT_PATTERN = "\x1a([0-9]+)\x1a"
_CUT_LENGTH = re.compile(CUT_PATTERN)
_QUOTE = ord('"')
_LINE_BREAKS = (ord("\n"), ord("\r"))


def long_field_reason(text: str) -> str | None:
    """The reject reason of a cell or row holding a cut field, None when it holds none."""
    found = _CUT_LENGTH.search(text)
    if found is None:
        return None
    megabytes = int(found[1]) / 1e6
    return (
        f"a field of {megabytes:,.0f} MB: longer than any register value "
        f"(limit {FIELD_LIMIT_BYTES / 1e6:g} MB)"
    )


# Where pyarrow's parser stands in a field: at its start, in a field not quoted, inside quotes,
# or just past a quote inside quotes (it closes them, or is half of an escaped "").
START, PLAIN, QUOTED, QUOTE_READ = range(4)
# What a run that begins a field, and one inside quotes, is read from.
_FROM_EITHER = (START, QUOTED)


def after(state: int, chunk: bytes) -> int:
    """Where the parser stands after reading `chunk`, bytes without a separator or line break."""
    if state == PLAIN or not chunk:
        return state
    quote = np.frombuffer(chunk, np.uint8) == _QUOTE
    if state in (START, QUOTE_READ):  # a quote opens quotes, or ends an escaped ""
        if not quote[0]:
            return PLAIN
        quote = quote[1:]
        if not quote.size:
            return QUOTED
    # inside quotes: the first odd group of quotes closes them, unless nothing follows it
    edges = np.flatnonzero(np.diff(quote.astype(np.int8), prepend=0, append=0))
    odd = np.flatnonzero((edges[1::2] - edges[::2]) % 2)
    if not odd.size:
        return QUOTED
    return QUOTE_READ if edges[2 * odd[0] + 1] == quote.size else PLAIN


def marked(mark: bytes, ends: tuple[int, ...]) -> bytes:
    """The mark with the quotes that leave the parser inside quotes or not as the bytes it
    stands for did, read from a field's start and from inside quotes (`ends`); whatever bytes
    of the field were handed on before it (tests/test_reader_hostile.py checks every short
    sequence)."""
    inside = [end == QUOTED for end in ends]
    for shape in (mark, b'"' + mark, b'"' + mark + b'"'):
        if [after(state, shape) == QUOTED for state in _FROM_EITHER] == inside:
            return shape
    return mark  # (inside quotes from both starts cannot be)


class FieldCutter:
    """A pyarrow stream transform (UTF-8 bytes in and out) replacing each field longer than
    FIELD_LIMIT_BYTES by CUT_MARK, its length, CUT_MARK, with the quotes its quoting needs,
    after the bytes of it already handed on (less than the limit); `cuts` counts them."""

    def __init__(self, delimiter: str) -> None:
        self.stops = (ord(delimiter), *_LINE_BREAKS)
        self.length = 0  # bytes of the field under way so far
        self.held = b""  # the end of it not handed on yet (after a block with a long field)
        self.dropping = False  # it passed the limit: its further bytes are left out
        # where the bytes left out so far leave the parser, read from either start
        self.left_out: tuple[int, ...] = _FROM_EITHER
        self.cuts = 0

    def __call__(self, block: pa.Buffer | bytes) -> Any:
        """The next bytes to hand on; an empty block is the end of the stream."""
        if len(block) == 0:  # the field under way ends here
            rest = self._mark(self.length, self.left_out) if self.dropping else self.held
            self.length, self.held, self.dropping = 0, b"", False
            self.left_out = _FROM_EITHER
            return rest
        data = self.held + bytes(block)
        if self.held or self.dropping or self._may_hold_a_long_field(data):
            return self._cut(data)
        last = max(data.rfind(bytes([stop])) for stop in self.stops)
        self.length = len(data) - last - 1 if last >= 0 else self.length + len(data)
        return block  # (as it came: no copy)

    def _may_hold_a_long_field(self, data: bytes) -> bool:
        """Whether a field may pass the limit: the one under way is half of it already, or some
        half-limit window of `data` holds no separator or line break (if each does, every field
        is shorter than the limit)."""
        window = FIELD_LIMIT_BYTES // 2
        if self.length >= window:
            return True
        stops = [bytes([stop]) for stop in self.stops]
        return any(
            all(data.find(stop, start, start + window) < 0 for stop in stops)
            for start in range(0, len(data), window)
        )

    def _cut(self, data: bytes) -> bytes:
        """`data` with its long fields replaced by the mark; the field at its end held back
        while it may still pass the limit, left out once it does."""
        codes = np.frombuffer(data, np.uint8)
        stops = np.flatnonzero(np.isin(codes, self.stops))
        starts = np.concatenate([[0], stops + 1])
        ends = np.concatenate([stops, [len(data)]])
        lengths = ends - starts
        lengths[0] += self.length - len(self.held)  # (handed on or left out before)
        pieces, at = [], 0
        for i in np.flatnonzero(lengths > FIELD_LIMIT_BYTES).tolist():
            begun = self.left_out if i == 0 and self.dropping else _FROM_EITHER
            run = data[int(starts[i]) : int(ends[i])]
            left_out = tuple(after(state, run) for state in begun)
            pieces.append(data[at : int(starts[i])])
            at = int(ends[i])
            if at < len(data):
                pieces.append(self._mark(int(lengths[i]), left_out))
            else:  # it goes on: left out from here
                self.left_out = left_out
        last = int(starts[-1])
        self.length, self.dropping = int(lengths[-1]), bool(lengths[-1] > FIELD_LIMIT_BYTES)
        if self.dropping:
            self.held = b""
        elif self.length < FIELD_LIMIT_BYTES // 2:  # short: handed on, as the fast path does
            pieces.append(data[at:])
            self.held = b""
        else:
            pieces.append(data[at:last])
            self.held = data[last:]
        return b"".join(pieces)

    def _mark(self, length: int, ends: tuple[int, ...]) -> bytes:
        self.cuts += 1
        self.left_out = _FROM_EITHER
        return marked(f"{CUT_MARK}{length}{CUT_MARK}".encode(), ends)
