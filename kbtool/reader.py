"""Reading posyandu registers as they arrive (CSV/TSV/xlsx/stdin) into canonical columns.

INTERFACE STUB: the implementation is being written; the names and shapes below are the contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

# The canonical columns, in this order, as the reader returns them.
CANONICAL_COLUMNS = (
    "child_id",
    "name",
    "sex",
    "birth_date",
    "visit_date",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "posyandu",
    "kelurahan",
    "kecamatan",
    "puskesmas",
)

REJECT_COLUMNS = ("file", "line", "column", "value", "reason")


@dataclass(frozen=True)
class ReadOptions:
    """How to read: `column_overrides` maps a canonical name to an input header (--column)."""

    column_overrides: Mapping[str, str] = field(default_factory=dict)
    sheet: str | None = None
    keep_raw: bool = False
    batch_rows: int = 1_000_000
    today: date | None = None


@dataclass
class ReadBatch:
    """Accepted rows in canonical form, the rejected ones, and the count that reconciles them."""

    source: str
    rows: pd.DataFrame
    raw: pd.DataFrame | None
    rejects: pd.DataFrame
    rows_read: int
    column_map: dict[str, str]


def iter_read(source: str | Path, options: ReadOptions | None = None) -> Iterator[ReadBatch]:
    raise NotImplementedError


def read_file(source: str | Path, options: ReadOptions | None = None) -> ReadBatch:
    raise NotImplementedError


def read_files(sources: Sequence[str | Path], options: ReadOptions | None = None) -> ReadBatch:
    raise NotImplementedError
