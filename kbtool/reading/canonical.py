"""Blocks of text cells into canonical rows (kbtool.columns), the rows' original cells, and the
rejected rows, each with its file, line, column, value and reason.

A row is rejected for its first problem in canonical column order, the others listed after the
reason as "(also: ...)"; a row whose cells are all empty is a blank line, not a row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.columns import (
    CANONICAL_COLUMNS,
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
    NAT_DAYS,
    REJECT_COLUMNS,
    SOURCE_COLUMNS,
)
from kbtool.reading.headers import STANDING_HEIGHT, Layout
from kbtool.reading.values import (
    DAY_FIRST,
    MONTH_FIRST,
    OK,
    OTHER_UNITS,
    REASONS,
    TEXT,
    TWO_HEIGHTS,
    VISIT_BEFORE_BIRTH,
    DateOrder,
    DateParser,
    Parsed,
    clean_text,
    column_parsers,
)
from kbtool.words import READER_WORDS, Said, indonesian_digits

# The order in which a row's problems are named: canonical, a standing height after the height.
_HEIGHT_AT = CANONICAL_COLUMNS.index("height_cm") + 1
_CHECK_ORDER = (*CANONICAL_COLUMNS[:_HEIGHT_AT], STANDING_HEIGHT, *CANONICAL_COLUMNS[_HEIGHT_AT:])
_REJECT_TYPES = (pa.string(), pa.int64(), pa.string(), pa.string(), pa.string())
_DATE_COLUMNS = ("birth_date", "visit_date")
# Rows converted at a time (at most), from a CSV or a workbook alike (the first block holding
# day/month dates decides their order): small per-call costs, few cells parsed ahead.
CHUNK_ROWS = 65_536
# a header's pattern of a date, day (dd, Indonesian hh) before month (mm, bb) or after, year last
_NAMED_ORDERS = (
    (re.compile(r"\b(?:dd?|hh?)\s*[-/. ]?\s*(?:mm?|bb?)\s*[-/. ]?\s*(?:yy|tt)"), DAY_FIRST),
    (re.compile(r"\b(?:mm?|bb?)\s*[-/. ]?\s*(?:dd?|hh?)\s*[-/. ]?\s*(?:yy|tt)"), MONTH_FIRST),
)


class BrokenRow(NamedTuple):
    """A row that could not be split into the header's fields, rejected as a whole."""

    line: int
    text: str
    reason: str
    breaks: int  # line breaks inside it: an unclosed quote may have joined lines to it
    column: str | None = None  # the header of the field that broke it, when one did


@dataclass
class Block:
    """Consecutive rows of one file: a text array per file column, each row's 1-based physical
    line (the header is a line too), the rows that could not be split, and the line of the first
    row read with its missing last cells empty, and what people should hear about its bytes."""

    layout: Layout
    cells: list[pa.ChunkedArray]
    lines: npt.NDArray[np.int64]
    broken: list[BrokenRow] = field(default_factory=list)
    first_padded: int | None = None
    warnings: list[str] = field(default_factory=list)  # about its bytes (the encoding)


@dataclass
class Converted:
    """One block converted: canonical rows, their raw cells, rejects, and the rows read."""

    source: str
    rows: pa.Table
    raw: pa.Table | None
    rejects: pa.Table
    rows_read: int
    layout: Layout
    warnings: list[str]
    # the file has an oedema column but left it blank in every row of the block: blank reads
    # "no", which the file did not record (an import must not take it as a correction)
    oedema_blank: bool = False


class Converter:
    """Turns the blocks of one file into canonical rows and rejects; the parsers remember
    distinct values from block to block."""

    def __init__(self, source: str, today: date | None, keep_raw: bool, date_format: str) -> None:
        self.source = source
        self.keep_raw = keep_raw
        self.dates = DateOrder(date_format)
        self.parsers = column_parsers(today or date.today(), self.dates)
        # what is said once a file, the same words in every batch: "short_rows", "unit NAME", ...
        self.said: set[str] = set()

    def convert(self, block: Block) -> Converted:
        layout, cells, n = block.layout, block.cells, len(block.lines)
        columns = layout.columns
        if self.dates.hint is None:
            headers = [layout.headers[columns[name]] for name in _DATE_COLUMNS if name in columns]
            self.dates.hint = next(filter(None, map(_named_order, headers)), None)
        order = self.dates.order
        parsed = {
            name: p(cells[columns[name]]) for name, p in self.parsers.items() if name in columns
        }
        if self.dates.order != order:  # taken in this block, maybe after a column was read
            self._read_dates_again(block, parsed)
        self.dates.settle()
        if STANDING_HEIGHT in parsed:
            _join_heights(parsed)
        birth, visit = parsed.get("birth_date"), parsed.get("visit_date")
        if birth is not None and visit is not None:
            present = (visit.values != NAT_DAYS) & (birth.values != NAT_DAYS)
            before = (visit.values < birth.values) & present & (visit.reasons == OK)
            visit.reasons[before] = VISIT_BEFORE_BIRTH

        checked = [name for name in _CHECK_ORDER if name in parsed and name in columns]
        first_bad = np.full(n, -1, dtype=np.int64)
        bad_columns = np.zeros(n, dtype=np.uint32)  # bit i: checked[i] is bad
        for position, name in enumerate(checked):
            bad = parsed[name].reasons != OK
            first_bad[(first_bad < 0) & bad] = position
            bad_columns |= bad.astype(np.uint32) << position
        blank = _blank_rows(cells, n)
        rejected = (first_bad >= 0) & ~blank
        accepted = ~rejected & ~blank

        units = self._other_units(block.layout, parsed)
        rows = self._canonical(block, parsed, accepted)
        raw = None
        if self.keep_raw:
            raw = _kept(pa.table(cells, names=list(layout.raw_names)), accepted)
        rejects = self._rejects(block, checked, parsed, first_bad, bad_columns, rejected)
        rows_read = n - int(np.count_nonzero(blank)) + len(block.broken)
        warnings = [*self._warnings(block), *units]
        oedema_blank = "oedema" in columns and not _holds_text(cells[columns["oedema"]])
        return Converted(self.source, rows, raw, rejects, rows_read, layout, warnings, oedema_blank)

    def _canonical(
        self, block: Block, parsed: dict[str, Parsed], accepted: npt.NDArray[np.bool_]
    ) -> pa.Table:
        n = len(accepted)
        arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
        for name in CANONICAL_COLUMNS:
            if name in parsed:
                arrays[name] = _arrow_values(name, parsed[name].values)
            elif name in self.parsers:
                parser = self.parsers[name]
                arrays[name] = _arrow_values(name, np.full(n, parser.missing, dtype=parser.dtype))
            elif name in block.layout.columns:
                text = block.cells[block.layout.columns[name]]
                arrays[name] = clean_text(text, child_id=name == "child_id")
            else:
                arrays[name] = pa.nulls(n, TEXT)
        file_column, line_column = SOURCE_COLUMNS
        arrays[file_column] = pa.repeat(pa.scalar(self.source, TEXT), n)
        arrays[line_column] = pa.array(block.lines)
        return _kept(pa.table(arrays), accepted)

    def _rejects(
        self,
        block: Block,
        checked: Sequence[str],
        parsed: dict[str, Parsed],
        first_bad: npt.NDArray[np.int64],
        bad_columns: npt.NDArray[np.uint32],
        rejected: npt.NDArray[np.bool_],
    ) -> pa.Table:
        """The rejected rows, each named by its first bad column, and the broken rows; by line."""
        rows = np.flatnonzero(rejected)
        first = first_bad[rows]
        headers = [block.layout.headers[block.layout.columns[name]] for name in checked]
        values = np.empty(rows.size, dtype=object)
        codes = np.zeros(rows.size, dtype=np.uint8)
        for position, name in enumerate(checked):
            hit = first == position
            if hit.any():
                cells = block.cells[block.layout.columns[name]]
                values[hit] = cells.take(pa.array(rows[hit])).to_pylist()
                codes[hit] = parsed[name].reasons[rows[hit]]
        # "(also: ...)" depends only on which columns are bad: made once per distinct set
        masks, which = np.unique(bad_columns[rows], return_inverse=True)
        also = []
        for mask in masks.tolist():
            others = [headers[i] for i in range(len(headers)) if mask >> i & 1][1:]
            also.append(f" (also: {', '.join(others)})" if others else "")
        reasons = [
            REASONS[c] + also[i] for c, i in zip(codes.tolist(), which.tolist(), strict=True)
        ]
        columns = (
            [self.source] * (rows.size + len(block.broken)),
            [*block.lines[rows].tolist(), *(row.line for row in block.broken)],
            [*(headers[i] for i in first.tolist()), *(row.column for row in block.broken)],
            [*values.tolist(), *(row.text for row in block.broken)],
            [*reasons, *(row.reason for row in block.broken)],
        )
        arrays = [pa.array(c, t) for c, t in zip(columns, _REJECT_TYPES, strict=True)]
        table = pa.table(arrays, names=REJECT_COLUMNS)
        return table.sort_by("line") if block.broken else table

    def _warnings(self, block: Block) -> list[str]:
        # a stray quote can swallow the rest of a file into one rejected row: said aloud (a
        # rejected row with a quoted line break of its own reads the same, hence "perhaps")
        said: list[str] = [
            Said(
                "joined_rows",
                file=self.source,
                first=row.line,
                last=row.line + row.breaks,
                count=row.breaks + 1,
            )
            for row in block.broken
            if row.breaks
        ]
        said += self._date_orders(block.layout) + block.warnings
        if block.first_padded is not None and "short_rows" not in self.said:
            self.said.add("short_rows")
            said.append(Said("short_rows", file=self.source, line=block.first_padded))
        return said

    def _other_units(self, layout: Layout, parsed: dict[str, Parsed]) -> list[str]:
        """Once a file, per column: that most of its values fit another unit (OTHER_UNITS).
        Said, not converted: the user knows which unit the register used."""
        said: list[str] = []
        for name, (unit, lowest, highest, expected) in OTHER_UNITS.items():
            if name not in parsed or f"unit {name}" in self.said:
                continue
            values = parsed[name].values
            filled = int(np.count_nonzero(~np.isnan(values)))
            fit = int(np.count_nonzero((values >= lowest) & (values <= highest)))
            if fit and 2 * fit > filled:
                self.said.add(f"unit {name}")
                span = f"{lowest:g}-{highest:g}"
                said.append(
                    Said(
                        "other_unit",
                        file=self.source,
                        header=layout.headers[layout.columns[name]],
                        fit=fit,
                        filled=filled,
                        unit=READER_WORDS[unit],
                        range={"en": span, "id": indonesian_digits(span)},
                        expected=READER_WORDS[expected],
                    )
                )
        return said

    def _read_dates_again(self, block: Block, parsed: dict[str, Parsed]) -> None:
        """The block's date columns in the order the block itself showed (the columns share
        one order, and the first may be read before the second showed it)."""
        for name in _DATE_COLUMNS:
            parser = self.parsers[name]
            if name in parsed and isinstance(parser, DateParser):
                parser.watching = False  # (its texts were counted once already)
                parsed[name] = parser(block.cells[block.layout.columns[name]])
                parser.watching = True

    def _date_orders(self, layout: Layout) -> list[str]:
        """Once a file, per date column: the order of day and month when the values chose it
        (month first) or could not (day first assumed); and once, dates that contradict it."""
        said: list[str] = []
        dates = self.dates
        for name in _DATE_COLUMNS:
            parser = self.parsers[name]
            if f"dates {name}" in self.said or not getattr(parser, "dated", False):
                continue  # (said once; a column of ISO dates or none has no order to tell)
            header = layout.headers[layout.columns[name]]
            if dates.assumed:
                said.append(Said("dates_either_way", file=self.source, header=header))
            elif dates.order == MONTH_FIRST and not (dates.fixed or dates.named):
                said.append(Said("dates_month_first", file=self.source, header=header))
            self.said.add(f"dates {name}")
        if dates.contradicted and "dates_contradicted" not in self.said:
            self.said.add("dates_contradicted")
            shown = DAY_FIRST if dates.order == MONTH_FIRST else MONTH_FIRST
            said.append(
                Said(
                    "dates_contradicted",
                    file=self.source,
                    shown=READER_WORDS[shown],
                    part=READER_WORDS["first" if shown == DAY_FIRST else "second"],
                    read=READER_WORDS[str(dates.order)],
                    code=shown,
                )
            )
        return said


def _named_order(header: str) -> str | None:
    """The order of day and month a header names: "Tgl Lahir (dd/mm/yyyy)", "(hh-bb-tttt)",
    "(mm/dd/yy)"; None when it names none (or the year first, as ISO's yyyy-mm-dd)."""
    return next((order for named, order in _NAMED_ORDERS if named.search(header.lower())), None)


def _join_heights(parsed: dict[str, Parsed]) -> None:
    """Length (PB) and standing height (TB) in two columns: height_cm takes the one filled in,
    and its position when the measure column does not say; a row with both, unequal, is
    rejected. The standing height's problems are its own column's (STANDING_HEIGHT)."""
    length, standing = parsed["height_cm"], parsed[STANDING_HEIGHT]
    has_length, has_height = ~np.isnan(length.values), ~np.isnan(standing.values)
    both = has_length & has_height
    differ = both & (length.values != standing.values) & (standing.reasons == OK)
    standing.reasons = np.where(differ, TWO_HEIGHTS, standing.reasons).astype(np.uint8)
    length.values = np.where(has_length, length.values, standing.values)
    named = np.select(
        [has_length & ~both, has_height & ~both], [MEASURE_LENGTH, MEASURE_HEIGHT], MEASURE_UNKNOWN
    ).astype(np.int8)
    measure = parsed.get("measure")
    if measure is None:
        parsed["measure"] = Parsed(named, np.zeros(len(named), dtype=np.uint8))
    else:  # the measure recorded wins; the columns only fill in where none was
        measure.values = np.where(measure.values == MEASURE_UNKNOWN, named, measure.values)


def _kept(table: pa.Table, accepted: npt.NDArray[np.bool_]) -> pa.Table:
    return table if accepted.all() else table.filter(pa.array(accepted))


def _holds_text(column: pa.ChunkedArray) -> bool:
    """Whether any cell holds more than white space (the first cells nearly always tell)."""
    if column.null_count == len(column):
        return False
    return any(
        pc.any(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(part)), 0)).as_py()
        for part in (column.slice(0, 1024), column)
    )


def _blank_rows(cells: list[pa.ChunkedArray], n: int) -> npt.NDArray[np.bool_]:
    """Rows whose cells are all empty: a blank line (";;;;" from Excel), not a row."""
    blank = np.ones(n, dtype=bool)
    for column in cells:
        if column.null_count == 0:
            return np.zeros(n, dtype=bool)
        if column.null_count < n:
            blank &= column.is_null().to_numpy(zero_copy_only=False)
    return blank


def _arrow_values(name: str, values: npt.NDArray[np.generic]) -> pa.Array:
    if name in _DATE_COLUMNS:  # day numbers, NAT_DAYS missing
        return pa.array(values.view("datetime64[D]").astype("datetime64[s]"), from_pandas=True)
    return pa.array(values)
