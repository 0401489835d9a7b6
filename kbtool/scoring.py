"""Z-scores for register files: read -> normalise -> z-scores, keeping the input columns.

NIK and names are personal data of children (UU 27/2022): kbtool never writes them in clear, so
the columns read as `child_id` or `name`, and those that carry parents' names, NIKs, addresses or
phone numbers, are left out of the result. `source_file` and `source_line` say which register row
each result row belongs to, so the register itself stays the place to look a child up.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kbtool.concurrency import ahead
from kbtool.growth import ZSCORE_COLUMNS, compute_zscores
from kbtool.privacy import personal_columns, redact_rejects
from kbtool.reading import ReadBatch, ReadOptions, read_files
from kbtool.streaming import STREAM_BATCH_ROWS as STREAM_BATCH_ROWS  # re-exported
from kbtool.streaming import read_ahead

# columns written in front of the computed ones, to find each row in its register
SOURCE_COLUMNS = ("source_file", "source_line")


@dataclass
class ScoredTable:
    """Every accepted input row with its computed columns, plus what was rejected and why.

    `table` holds the input columns under their own headers (less personal data: `withheld`
    maps each such header to what it holds; `kept` lists those kept as asked), then
    SOURCE_COLUMNS and ZSCORE_COLUMNS; an input header that collides with one of those is
    renamed `<name>_input` (listed in `renamed`).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    sources: list[dict[str, object]]
    withheld: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_scored(self) -> int:
        return len(self.table)


def score_files(
    sources: Sequence[str | Path],
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
    keep: Sequence[str] = (),
) -> ScoredTable:
    """Read register files with the shared reader and append WHO z-scores to every row.

    Personal columns are left out (kbtool.privacy.personal_columns) but those named in `keep`.
    """
    options = replace(options or ReadOptions(), keep_raw=True)
    batch = read_files(sources, options)
    return _score_batch(batch, sources, full_precision=full_precision, lang=lang, keep=keep)


def iter_score_file(
    source: str | Path,
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
    batch_rows: int | None = None,
    batches: Generator[ReadBatch, None, None] | None = None,
    keep: Sequence[str] = (),
) -> Iterator[ScoredTable]:
    """score_files for one file, a batch of about `batch_rows` (STREAM_BATCH_ROWS) rows at a time.

    The batches, concatenated, are score_files' result: their tables hold the same columns (the
    file has one header), their rejects and row counts add up. Reading and scoring run on two
    threads, ahead of the caller, which writes the batch before (the reader, the z-scores and
    the writers spend most of their time in numpy and Arrow code that releases the GIL).
    `batches`, when given, are the file's batches already being read (kbtool.streaming.read_ahead
    of the same source and options); this generator closes them when it ends.
    """
    if batches is None:
        batches = read_ahead(source, options, batch_rows=batch_rows)

    def scored() -> Iterator[ScoredTable]:
        personal: tuple[dict[str, str], list[str]] | None = None  # decided on the first batch
        for batch in batches:
            result = _score_batch(
                batch,
                [source],
                full_precision=full_precision,
                lang=lang,
                keep=keep,
                personal=personal,
            )
            personal = result.withheld, result.kept
            yield result

    results = ahead(scored(), depth=1, name="kbtool-score-ahead")
    try:
        yield from results
    finally:
        results.close()  # stops the scoring thread first: it is the reader's consumer
        batches.close()


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
    raw = raw.drop(columns=[c for c in withheld if c in raw.columns])
    computed = (*SOURCE_COLUMNS, *ZSCORE_COLUMNS)
    renamed = {name: f"{name}_input" for name in raw.columns if name in computed}
    located = batch.rows.loc[:, list(SOURCE_COLUMNS)]
    table = pd.concat([raw.rename(columns=renamed), located, scores], axis=1)
    table = table.reset_index(drop=True)
    rejects = redact_rejects(batch.rejects, withheld)
    if len(sources) == 1:
        per_file = [{"file": str(sources[0]), "rows_read": batch.rows_read}]
    else:
        per_file = [
            {
                "file": str(source),
                "rows_read": int((batch.rows["source_file"] == str(source)).sum())
                + int((batch.rejects["file"] == str(source)).sum()),
            }
            for source in sources
        ]
    return ScoredTable(
        table=table,
        rejects=rejects,
        rows_read=batch.rows_read,
        sources=per_file,
        withheld=withheld,
        kept=kept,
        renamed=renamed,
        warnings=list(batch.warnings),
    )
