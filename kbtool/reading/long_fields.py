"""Fields too long to be register values, cut out of a CSV's bytes as they stream past.

A register value is a date, a number, a name or a short note. A field of megabytes (a file
pasted into a cell, a dump) is none of them, and pyarrow cannot parse a row longer than its
block: such a field is replaced by a mark holding its length, so its row is parsed, found by the
mark and rejected, and memory stays bounded (a field is held back until it ends or passes the
limit). A field here is a run of bytes without a separator or line break; a quoted field that
holds those is several runs. The quotes opening and closing a run stay around its mark, and the
quote of an escaped pair split where the cut begins is kept too, so every later row is quoted
as before.
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
_QUOTE = b'"'
_QUOTES_AND_BLANKS = b'" \t'  # around a quoted field's value: kept, so its quoting reads alike
_KEPT_AROUND = 16  # bytes of them kept at most on either side (a field of blanks is cut too)
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


class FieldCutter:
    """A pyarrow stream transform (UTF-8 bytes in and out) replacing each field longer than
    FIELD_LIMIT_BYTES by CUT_MARK, its length, CUT_MARK (after the bytes of it already handed
    on, at most half the limit); `cuts` counts them."""

    def __init__(self, delimiter: str) -> None:
        self.stops = (ord(delimiter), *_LINE_BREAKS)
        self.length = 0  # bytes of the field under way so far
        self.held = b""  # the end of it not handed on yet (after a block with a long field)
        self.dropping = False  # it passed the limit: its further bytes are left out
        self.quotes = 0  # quotes among the bytes left out so far
        self.tail = b""  # the quotes and blanks those bytes end with (a closing may go on)
        self.handed = False  # some of the field under way was handed on (not only its quotes)
        self.cuts = 0

    def __call__(self, block: pa.Buffer | bytes) -> Any:
        """The next bytes to hand on; an empty block is the end of the stream."""
        if len(block) == 0:  # the field under way ends here
            inner = self.quotes - self.tail.count(_QUOTE) if self.handed else 0
            rest = self._mark(self.length, inner) + self.tail if self.dropping else self.held
            self.length, self.held, self.dropping, self.quotes = 0, b"", False, 0
            self.handed, self.tail = False, b""
            return rest
        data = self.held + bytes(block)
        if self.held or self.dropping or self._may_hold_a_long_field(data):
            return self._cut(data)
        last = max(data.rfind(bytes([stop])) for stop in self.stops)
        self.length = len(data) - last - 1 if last >= 0 else self.length + len(data)
        self.handed = self.length > 0
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
        begun = self.length - len(self.held)  # bytes of the first field handed on or left out
        lengths[0] += begun
        pieces, at = [], 0
        for i in np.flatnonzero(lengths > FIELD_LIMIT_BYTES).tolist():
            run = data[int(starts[i]) : int(ends[i])]
            pieces.append(data[at : int(starts[i])])
            going_on = i == 0 and begun > 0  # (a field begun before this data)
            if not going_on:  # the quotes opening a quoted field, kept as they are
                opening = run[: len(run) - len(run.lstrip(_QUOTES_AND_BLANKS))][:_KEPT_AROUND]
                pieces.append(opening)
                run = run[len(opening) :]
            left_out = self.quotes if going_on else 0
            handed = going_on and self.handed
            closing = run[len(run.rstrip(_QUOTES_AND_BLANKS)) :]
            if going_on and len(closing) == len(run):
                closing = self.tail + closing  # (it began in the bytes left out)
            closing = closing[-_KEPT_AROUND:]
            at = int(ends[i])
            if at == len(data):  # it goes on: left out from here
                self.quotes, self.handed = left_out + run.count(_QUOTE), handed
                self.tail = closing
                continue
            inner = left_out + run.count(_QUOTE) - closing.count(_QUOTE)
            pieces.append(self._mark(int(lengths[i]), inner if handed else 0) + closing)
            self.quotes, self.tail = 0, b""
        last = int(starts[-1])
        self.length, self.dropping = int(lengths[-1]), bool(lengths[-1] > FIELD_LIMIT_BYTES)
        if last > 0 and not self.dropping:
            self.handed = False  # a field begun in this data: nothing of it handed on yet
        if self.dropping:
            self.held = b""
        elif self.length < FIELD_LIMIT_BYTES // 2:  # short: on as the fast path hands it
            pieces.append(data[at:])
            self.held = b""
            self.handed = self.handed or len(data) > last
        else:
            pieces.append(data[at:last])
            self.held = data[last:]
        return b"".join(pieces)

    def _mark(self, length: int, quotes: int) -> bytes:
        """The mark of a cut field, after a quote when the quotes it leaves out after a part
        handed on are odd in number: the one pairing the last quote handed on (an escaped quote
        split in two; in a field not quoted, a quote there is a plain character)."""
        self.cuts += 1
        return _QUOTE * (quotes % 2) + f"{CUT_MARK}{length}{CUT_MARK}".encode()
