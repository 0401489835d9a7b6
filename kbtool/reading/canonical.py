"""Blocks of text cells into canonical rows (kbtool.columns), the rows' original cells, and
rejects.

A row is rejected for the first problem among its canonical columns; a row whose cells are all
empty is a blank line, not a row. Everything here works on whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kbtool.columns import (
    CANONICAL_COLUMNS,
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
    NAT_DAYS,
    SOURCE_COLUMNS,
)
from kbtool.reading.blocks import TEXT, Block
from kbtool.reading.headers import STANDING_HEIGHT, Layout
from kbtool.reading.rejects import OK, TWO_HEIGHTS, VISIT_BEFORE_BIRTH, first_problems, reject_table
from kbtool.reading.values import Parsed, as_text, clean_text, column_parsers

# The order in which a row's problems are named: canonical, a standing height after the height.
_HEIGHT_AT = CANONICAL_COLUMNS.index("height_cm") + 1
_CHECK_ORDER = (*CANONICAL_COLUMNS[:_HEIGHT_AT], STANDING_HEIGHT, *CANONICAL_COLUMNS[_HEIGHT_AT:])


@dataclass
class Converted:
    """One block converted: canonical rows, their raw cells, rejects, and the count of rows."""

    rows: pa.Table
    raw: pa.Table | None
    rejects: pa.Table
    rows_read: int
    layout: Layout
    warnings: list[str] = field(default_factory=list)


class Converter:
    """Turns the blocks of one file into canonical columns, reasons and rejects; the parsers
    remember distinct values from block to block."""

    def __init__(self, source: str, today: date | None = None, keep_raw: bool = False) -> None:
        self.source = source
        self.keep_raw = keep_raw
        self.parsers = column_parsers(today or date.today())
        self.said_padded = False

    def convert(self, block: Block) -> Converted:
        layout = block.layout
        n = len(block.lines)
        blank = _blank_rows(block.cells, n)
        parsed: dict[str, Parsed] = {}
        for name, parse in self.parsers.items():  # (STANDING_HEIGHT: _join_heights reads it)
            if name in layout.columns:
                parsed[name] = parse(block.cells[layout.columns[name]])
        if layout.standing_height is not None:
            self._join_heights(block, parsed)
        birth, visit = parsed.get("birth_date"), parsed.get("visit_date")
        if birth is not None and visit is not None:
            before = (
                (visit.values < birth.values)
                & (visit.values != NAT_DAYS)
                & (birth.values != NAT_DAYS)
                & (visit.reasons == OK)
            )
            visit.reasons = np.where(before, VISIT_BEFORE_BIRTH, visit.reasons).astype(np.uint8)

        # the first problem per row, in canonical column order; later ones are listed as "also"
        checked = [
            name
            for name in _CHECK_ORDER
            if name in parsed and (name in layout.columns or name == STANDING_HEIGHT)
        ]
        reasons = [parsed[name].reasons for name in checked]
        problems = first_problems(reasons, n)
        rejected = (problems[0] >= 0) & ~blank
        accepted = ~rejected & ~blank

        rows = self._canonical(block, parsed, accepted)
        raw = None
        if self.keep_raw:
            keep = None if accepted.all() else pa.array(accepted)
            raw = pa.table(
                {
                    name: cell if keep is None else cell.filter(keep)
                    for name, cell in zip(layout.raw_names, block.cells, strict=True)
                }
            )
        positions = [layout.position(name) for name in checked]
        rejects = reject_table(
            self.source,
            block.lines,
            [layout.headers[p] for p in positions],
            [as_text(block.cells[p]) for p in positions],
            reasons,
            problems,
            rejected,
            block.broken,
        )
        rows_read = int(np.count_nonzero(~blank)) + len(block.broken)
        return Converted(rows, raw, rejects, rows_read, layout, self._warnings(block))

    def _warnings(self, block: Block) -> list[str]:
        # a stray quote can swallow the rest of a file into one rejected row: said aloud (a
        # rejected row with a quoted line break of its own reads the same, hence "perhaps")
        said = [
            f"{self.source}: lines {row.line}-{row.line + row.breaks} ({row.breaks + 1:,} lines) "
            f"were read as one row, rejected: a quoted cell opened at line {row.line} runs to "
            f"line {row.line + row.breaks}, perhaps a quote never closed; fix it and read the "
            "file again"
            for row in block.broken
            if row.breaks
        ]
        if block.padded and not self.said_padded:
            # said once a file, at the first: the same words in every batch print once
            self.said_padded = True
            said.append(
                f"{self.source}: rows with fewer fields than the header, the first at line "
                f"{block.padded[0]}, were read with their missing last cells empty (as Excel "
                "writes rows whose last cells are empty); if the file was cut short, check them"
            )
        return said

    def _join_heights(self, block: Block, parsed: dict[str, Parsed]) -> None:
        """Length (PB) and standing height (TB) in two columns: height_cm takes the one filled
        in, and its position when the measure column does not say; a row with both, unequal,
        is rejected. The standing height's problems are its own column's (STANDING_HEIGHT)."""
        assert block.layout.standing_height is not None
        length = parsed["height_cm"]
        standing = self.parsers[STANDING_HEIGHT](block.cells[block.layout.standing_height])
        has_length = ~np.isnan(length.values)
        has_height = ~np.isnan(standing.values)
        both = has_length & has_height
        reasons = standing.reasons.copy()
        reasons[both & (length.values != standing.values) & (reasons == OK)] = TWO_HEIGHTS
        parsed[STANDING_HEIGHT] = Parsed(standing.values, reasons)
        values = np.where(has_length, length.values, standing.values)
        parsed["height_cm"] = Parsed(values, length.reasons)
        named = np.where(
            has_length & ~both,
            MEASURE_LENGTH,
            np.where(has_height & ~both, MEASURE_HEIGHT, MEASURE_UNKNOWN),
        ).astype(np.int8)
        measure = parsed.get("measure")
        if measure is None:
            parsed["measure"] = Parsed(named, np.zeros(len(named), dtype=np.uint8))
        else:  # the measure recorded wins; the column only fills in where none was
            recorded = np.where(measure.values == MEASURE_UNKNOWN, named, measure.values)
            parsed["measure"] = Parsed(recorded.astype(np.int8), measure.reasons)

    def _canonical(
        self, block: Block, parsed: dict[str, Parsed], accepted: npt.NDArray[np.bool_]
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
                text = as_text(block.cells[layout.columns[name]])
                text = text if everything else text.filter(keep)
                arrays[name] = clean_text(text, child_id=name == "child_id")
            else:
                arrays[name] = missing_column(name, count)
        file_column, line_column = SOURCE_COLUMNS
        arrays[file_column] = pa.array([self.source], TEXT).take(
            pa.array(np.zeros(count, dtype=np.int64))
        )
        lines = block.lines if everything else block.lines[accepted]
        arrays[line_column] = pa.array(lines, pa.int64())
        return pa.table(arrays)


def _blank_rows(cells: list[pa.Array], n: int) -> npt.NDArray[np.bool_]:
    """Rows whose cells are all empty: a blank line (";;;;" from Excel), not a row."""
    if any(column.null_count == 0 for column in cells):
        return np.zeros(n, dtype=bool)
    has_cell = np.zeros(n, dtype=bool)
    for column in cells:
        if column.null_count < n:
            has_cell |= column.is_valid().to_numpy(zero_copy_only=False)
    blank: npt.NDArray[np.bool_] = ~has_cell
    return blank


def _arrow_values(name: str, values: npt.NDArray[Any]) -> pa.Array:
    if name in ("birth_date", "visit_date"):
        missing = values == NAT_DAYS
        seconds = np.where(missing, 0, values) * 86_400
        return pa.array(seconds, type=pa.timestamp("s"), mask=missing)
    if name in ("sex", "measure"):
        return pa.array(values, pa.int8())
    if name == "oedema":
        return pa.array(values, pa.bool_())
    return pa.array(values, pa.float64())


def missing_column(name: str, count: int) -> pa.Array:
    """A canonical column of `count` rows for a file without it: missing values (no sex,
    unknown position and no oedema are codes)."""
    if name in ("birth_date", "visit_date"):
        return pa.nulls(count, pa.timestamp("s"))
    if name in ("sex", "measure"):
        return pa.array(np.zeros(count, dtype=np.int8))
    if name == "oedema":
        return pa.array(np.zeros(count, dtype=bool))
    if name in ("age_months", "weight_kg", "height_cm"):
        return pa.array(np.full(count, np.nan))
    return pa.nulls(count, TEXT)


def empty_rows() -> pa.Table:
    """Canonical rows without rows."""
    arrays = {name: missing_column(name, 0) for name in CANONICAL_COLUMNS}
    file_column, line_column = SOURCE_COLUMNS
    arrays[file_column] = pa.array([], TEXT)
    arrays[line_column] = pa.array([], pa.int64())
    return pa.table(arrays)
