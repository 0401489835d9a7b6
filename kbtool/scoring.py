"""Z-scores for register files (`kbtool zscore`): every row with its WHO z-scores, flags and
Permenkes statuses, the register's own columns kept but its personal data.

NIK and names are personal data of children (UU 27/2022): those columns are left out, and
`source_file`, `source_line` point back to the register row. `iter_score_file` streams a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from kbtool.columns import SOURCE_COLUMNS
from kbtool.concurrency import ahead
from kbtool.growth import ZSCORE_COLUMNS, compute_zscores
from kbtool.privacy import personal_columns, redact_rejects
from kbtool.reading import ReadBatch, ReadOptions, iter_read, read_files
from kbtool.reading.sources import source_list
from kbtool.words import Said
from kbtool.writing import Provenance

# Rows per batch when a file is scored as it is read: smaller batches overlap reading, scoring
# and writing more, but pay more per-batch work under one GIL (250k measured best on 1M rows).
STREAM_BATCH_ROWS = 250_000
# Batches read ahead of the one being scored; memory stays at about (3 + this) batches.
READ_AHEAD_BATCHES = 2


@dataclass
class ScoredTable:
    """Every accepted row: its input columns (less `withheld` personal data, but those `kept`),
    SOURCE_COLUMNS and ZSCORE_COLUMNS (an input header among those `renamed` `<name>_input`);
    and what was rejected and why."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    sources: list[dict[str, object]]
    withheld: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    keep_unmatched: list[str] = field(default_factory=list)  # --keep names no header has

    @property
    def rows_scored(self) -> int:
        return len(self.table)


def score_files(
    sources: str | Path | Sequence[str | Path],
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
    keep: Sequence[str] = (),
) -> ScoredTable:
    """Read register files (or one named alone) and append WHO z-scores to every row; personal
    columns are left out (kbtool.privacy.personal_columns) but those named in `keep`."""
    sources = source_list(sources)
    batch = read_files(sources, replace(options or ReadOptions(), keep_raw=True))
    return _score_batch(batch, sources, full_precision=full_precision, lang=lang, keep=keep)


def iter_score_file(
    source: str | Path,
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
    batch_rows: int | None = None,
    keep: Sequence[str] = (),
) -> Iterator[ScoredTable]:
    """score_files for one file, a batch of about `batch_rows` rows at a time: the batches,
    concatenated, are score_files' result. Reading starts at once and runs, with the scoring,
    on threads of their own ahead of the caller (which writes the batch before)."""
    rows = batch_rows or STREAM_BATCH_ROWS
    options = replace(options or ReadOptions(), keep_raw=True, batch_rows=rows)
    batches = ahead(iter_read(source, options), depth=READ_AHEAD_BATCHES, name="kbtool-read")

    score = partial(_score_batch, sources=[source], full_precision=full_precision, lang=lang)

    def scored() -> Iterator[ScoredTable]:
        personal: tuple[dict[str, str], list[str]] | None = None  # decided on the first batch
        for batch in batches:
            result = score(batch, keep=keep, personal=personal)
            personal = result.withheld, result.kept
            yield result

    results = ahead(scored(), depth=1, name="kbtool-score")
    try:
        yield from results
    finally:
        results.close()  # stops the scoring thread first: it is the reader's consumer
        batches.close()


@dataclass
class Tally:
    """What the batches of a run add up to: rows read and scored, every reject, the rows that
    got no z-score at all (a template or totals row, a child without sex) and the first few of
    them, and the notes for people not yet handed out."""

    rows_read: int = 0
    rows_scored: int = 0
    rejects: list[pd.DataFrame] = field(default_factory=list)
    without_zscores: int = 0
    first_without: list[tuple[str, int]] = field(default_factory=list)
    said: set[str] = field(default_factory=set)

    SHOWN = 3

    def add(self, scored: ScoredTable) -> ScoredTable:
        """Count a batch in; returns it."""
        self.rows_read += scored.rows_read
        self.rows_scored += scored.rows_scored
        self.rejects.append(scored.rejects)
        table = scored.table
        empty = table[["haz", "waz", "whz", "bmiz"]].isna().all(axis=1).to_numpy()
        if empty.any() and len(self.first_without) < self.SHOWN:
            rows = table.loc[empty, list(SOURCE_COLUMNS)].head(self.SHOWN)
            self.first_without += [(str(f), int(line)) for f, line in rows.itertuples(index=False)]
        self.without_zscores += int(np.count_nonzero(empty))
        return scored

    def new(self, messages: Sequence[str]) -> list[str]:
        """The messages not handed out before (every batch of a file repeats its notes)."""
        fresh = [m for m in dict.fromkeys(messages) if m not in self.said]
        self.said.update(fresh)
        return fresh

    def all_rejects(self) -> pd.DataFrame:
        return (
            pd.concat(self.rejects, ignore_index=True) if len(self.rejects) > 1 else self.rejects[0]
        )


def _score_batch(
    batch: ReadBatch,
    sources: Sequence[str | Path],
    *,
    full_precision: bool,
    lang: str,
    keep: Sequence[str],
    personal: tuple[dict[str, str], list[str]] | None = None,
) -> ScoredTable:
    """One batch scored; `personal` is what an earlier batch of the file decided to withhold
    (every batch of a file has the same columns)."""
    scores = compute_zscores(batch.rows, full_precision=full_precision, lang=lang)
    raw = batch.raw if batch.raw is not None else pd.DataFrame(index=batch.rows.index)
    withheld, kept = personal or personal_columns(raw, batch.column_map, keep)
    headers = {str(name) for name in raw.columns} | set(batch.column_map)
    unmatched = [name for name in dict.fromkeys(keep) if name not in headers]
    raw = raw.drop(columns=[c for c in withheld if c in raw.columns])
    computed = (*SOURCE_COLUMNS, *ZSCORE_COLUMNS)
    renamed = {name: f"{name}_input" for name in raw.columns if name in computed}
    located = batch.rows.loc[:, list(SOURCE_COLUMNS)]
    table = pd.concat([raw.rename(columns=renamed), located, scores], axis=1)
    per_file = [{"file": str(sources[0]), "rows_read": batch.rows_read}]
    if len(sources) > 1:  # a file's rows read: its rows accepted plus rejected
        read = pd.concat([batch.rows["source_file"], batch.rejects["file"]]).value_counts()
        per_file = [{"file": str(s), "rows_read": int(read.get(str(s), 0))} for s in sources]
    return ScoredTable(
        table=table.reset_index(drop=True),
        rejects=redact_rejects(batch.rejects, withheld),
        rows_read=batch.rows_read,
        sources=per_file,
        withheld=withheld,
        kept=kept,
        renamed=renamed,
        warnings=list(batch.warnings),
        keep_unmatched=unmatched,
    )


def provenance(scored: ScoredTable, full_precision: bool, lang: str, fmt: str) -> Provenance:
    """Where a z-score result came from: the options, sources, reference and rounding."""
    return Provenance(
        command="zscore",
        options={"full_precision": full_precision, "lang": lang, "format": fmt},
        sources=scored.sources,
        notes=[
            Said("zscore_method"),
            Said("zscore_unrounded" if full_precision else "zscore_rounded"),
        ],
    )
