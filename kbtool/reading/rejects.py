"""Why a row is rejected, and the reject table: one record per rejected row with its file, line,
column, value and reason (kbtool.columns.REJECT_COLUMNS).

A row's first problem, in canonical column order, names the column; the others are listed after
the reason as "(also: ...)".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kbtool.columns import REJECT_COLUMNS
from kbtool.reading.blocks import BrokenRow

# Reasons a row is rejected. Index 0 is "no problem"; arrays of these codes are uint8.
OK = 0
REASONS = (
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
    BAD_SEX,
    BAD_MEASURE,
    BAD_OEDEMA,
    BAD_NUMBER,
    BAD_DATE,
    IMPOSSIBLE_DATE,
    FUTURE_DATE,
    EARLY_DATE,
    VISIT_BEFORE_BIRTH,
    HEIGHT_NOT_POSITIVE,
    WEIGHT_NOT_POSITIVE,
    AGE_NEGATIVE,
    TWO_HEIGHTS,
) = range(len(REASONS))

_TYPES = (pa.string(), pa.int64(), pa.string(), pa.string(), pa.string())


def first_problems(
    reasons: Sequence[npt.NDArray[np.uint8]], rows: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]]:
    """Per row, the position (in `reasons`) of its first bad column, -1 when none, and a bit
    mask of all its bad columns."""
    first = np.full(rows, -1, dtype=np.int64)
    problems = np.zeros(rows, dtype=np.uint32)
    for position, codes in enumerate(reasons):
        bad = codes != OK
        first[(first < 0) & bad] = position
        problems |= bad.astype(np.uint32) << position
    return first, problems


def reject_table(
    source: str,
    lines: npt.NDArray[np.int64],
    headers: Sequence[str],
    cells: Sequence[pa.Array],
    reasons: Sequence[npt.NDArray[np.uint8]],
    problems: tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]],
    rejected: npt.NDArray[np.bool_],
    broken: Sequence[BrokenRow],
) -> pa.Table:
    """The rejects of a block: its `rejected` rows, each named by its first bad column (`headers`,
    `cells` as text and `reasons` are per checked column, `problems` from first_problems), and
    the rows that could not be split into fields; ordered by line."""
    first, bad_columns = problems
    rows = np.flatnonzero(rejected)
    files: list[str] = []
    row_lines: list[int] = []
    column_names: list[str | None] = []
    values: list[str | None] = []
    texts: list[str] = []
    if rows.size:
        row_first = first[rows]
        # "(also: ...)" depends only on which columns are bad: built once per distinct set
        masks, inverse = np.unique(bad_columns[rows], return_inverse=True)
        suffixes = []
        for mask in masks.tolist():
            bits = [i for i in range(len(headers)) if mask >> i & 1]
            suffixes.append(
                f" (also: {', '.join(headers[i] for i in bits[1:])})" if len(bits) > 1 else ""
            )
        cell_values = np.empty(rows.size, dtype=object)
        row_reasons = np.empty(rows.size, dtype=np.uint8)
        for position, (column, codes) in enumerate(zip(cells, reasons, strict=True)):
            hit = np.flatnonzero(row_first == position)
            if hit.size:
                cell_values[hit] = column.take(pa.array(rows[hit])).to_pylist()
                row_reasons[hit] = codes[rows[hit]]
        files = [source] * rows.size
        row_lines = lines[rows].tolist()
        column_names = [headers[i] for i in row_first.tolist()]
        values = cell_values.tolist()
        texts = [
            REASONS[r] + suffixes[s]
            for r, s in zip(row_reasons.tolist(), inverse.tolist(), strict=True)
        ]
    for row in broken:
        files.append(source)
        row_lines.append(row.line)
        column_names.append(None)
        values.append(row.text)
        texts.append(row.reason)
    columns = (files, row_lines, column_names, values, texts)
    table = pa.table(
        [pa.array(c, t) for c, t in zip(columns, _TYPES, strict=True)], names=REJECT_COLUMNS
    )
    return table.sort_by("line") if broken else table


def empty_rejects() -> pa.Table:
    """A reject table without rows."""
    return pa.table([pa.array([], t) for t in _TYPES], names=REJECT_COLUMNS)
