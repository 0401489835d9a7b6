"""What a read is asked for (ReadOptions) and what it gives (ReadBatch): converted blocks joined
into pandas frames, and batches of several files joined into one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from kbtool.reading.blocks import TEXT
from kbtool.reading.canonical import Converted

if TYPE_CHECKING:  # pandas loads with the first batch (_to_pandas)
    import pandas as pd


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


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    # pandas loads here, on the reading thread, when the first batch is ready: a command can
    # start reading (pyarrow parsing, which needs no GIL) while its main thread still imports
    import pandas as pd

    # every text column: pandas' string[pyarrow] (NA for missing)
    string_dtype = pd.StringDtype("pyarrow")

    def string_type(arrow_type: pa.DataType) -> Any:
        return string_dtype if arrow_type in (pa.string(), pa.large_string()) else None

    return table.to_pandas(types_mapper=string_type)


def assemble(parts: list[Converted], source: str) -> ReadBatch:
    """One batch of converted blocks of `source`, as pandas frames."""
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


def empty_raw(names: tuple[str, ...]) -> pa.Table:
    """The raw cells of no rows, under `names`."""
    return pa.table({name: pa.array([], TEXT) for name in names})


def concat(batches: list[ReadBatch]) -> ReadBatch:
    """Batches (of one file or several) as one: frames concatenated in order, `source` the
    sources joined with ", ", `column_map` the first's plus any column only later ones have."""
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
