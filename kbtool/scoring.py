"""Z-scores for register files: read -> normalise -> z-scores, keeping the input columns.

NIK and names are personal data of children (UU 27/2022): kbtool never writes them in clear, so
the columns read as `child_id` or `name`, and those that carry parents' names, NIKs, addresses or
phone numbers, are left out of the result. `source_file` and `source_line` say which register row
each result row belongs to, so the register itself stays the place to look a child up.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kbtool.concurrency import ahead
from kbtool.growth import ZSCORE_COLUMNS, compute_zscores
from kbtool.growth.zscores import load_kernel
from kbtool.reading import ReadBatch, ReadOptions, normalise_header, read_files
from kbtool.streaming import STREAM_BATCH_ROWS as STREAM_BATCH_ROWS  # re-exported
from kbtool.streaming import read_ahead

# columns written in front of the computed ones, to find each row in its register
SOURCE_COLUMNS = ("source_file", "source_line")

# e-PPGBM and posyandu headers (normalised) of other personal data in registers
PERSONAL_HEADERS = frozenset(
    normalise_header(name)
    for name in (
        "nama_ortu",
        "nama_orang_tua",
        "nama_ibu",
        "nama_ayah",
        "nik_ortu",
        "nik_ibu",
        "nik_ayah",
        "no_kk",
        "nomor_kk",
        "alamat",
        "no_hp",
        "no_telp",
        "telepon",
        "hp",
    )
)


@dataclass
class ScoredTable:
    """Every accepted input row with its computed columns, plus what was rejected and why.

    `table` holds the input columns under their own headers (less personal data, listed in
    `withheld`), then SOURCE_COLUMNS and ZSCORE_COLUMNS; an input header that collides with one
    of those is renamed `<name>_input` (listed in `renamed`).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    sources: list[dict[str, object]]
    withheld: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_scored(self) -> int:
        return len(self.table)


def personal_columns(headers: Sequence[str], column_map: dict[str, str]) -> list[str]:
    """The input headers holding personal data: the child's NIK and name, parents' data."""
    identifiers = {column_map.get("child_id"), column_map.get("name")}
    return [
        header
        for header in headers
        if header in identifiers or normalise_header(header) in PERSONAL_HEADERS
    ]


def score_files(
    sources: Sequence[str | Path],
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
) -> ScoredTable:
    """Read register files with the shared reader and append WHO z-scores to every row."""
    options = replace(options or ReadOptions(), keep_raw=True)
    loading = start_loading_kernel()
    batch = read_files(sources, options)
    loading.join()
    return _score_batch(batch, sources, full_precision=full_precision, lang=lang)


def iter_score_file(
    source: str | Path,
    options: ReadOptions | None = None,
    *,
    full_precision: bool = False,
    lang: str = "en",
    batch_rows: int | None = None,
    batches: Generator[ReadBatch, None, None] | None = None,
) -> Iterator[ScoredTable]:
    """score_files for one file, a batch of about `batch_rows` (STREAM_BATCH_ROWS) rows at a time.

    The batches, concatenated, are score_files' result: their tables hold the same columns (the
    file has one header), their rejects and row counts add up. Reading and scoring run on two
    threads, ahead of the caller, which writes the batch before (the reader, the z-score kernel
    and the writers spend most of their time in numpy, compiled and Arrow code that releases the
    GIL); the reader carries on while the kernel loads. `batches`, when given, are the file's
    batches already being read (kbtool.streaming.read_ahead of the same source and options);
    this generator closes them when it ends.
    """
    loading = start_loading_kernel()
    if batches is None:
        batches = read_ahead(source, options, batch_rows=batch_rows)

    def scored() -> Iterator[ScoredTable]:
        for batch in batches:
            loading.join()
            yield _score_batch(batch, [source], full_precision=full_precision, lang=lang)

    results = ahead(scored(), depth=1, name="kbtool-score-ahead")
    try:
        yield from results
    finally:
        results.close()  # stops the scoring thread first: it is the reader's consumer
        batches.close()


def start_loading_kernel() -> threading.Thread:
    """Load the compiled z-score kernel on a thread (numba: ~1 s from its disk cache; the C
    kernel: at once), so that it is ready by the time the first rows are read; join the thread
    before computing.

    One thread per process: later calls return the first one (a command can start it before
    its own imports, and the scoring functions find it under way).
    """
    global _kernel_loading
    with _kernel_loading_lock:
        if _kernel_loading is None:
            _kernel_loading = threading.Thread(
                target=_load_quietly, name="kbtool-load-kernel", daemon=True
            )
            _kernel_loading.start()
        return _kernel_loading


def _load_quietly() -> None:
    """load_kernel, its error left to the first computation, which raises it again on the
    command's own thread (a thread's uncaught error would print a traceback)."""
    with contextlib.suppress(Exception):  # raised again where the kernel is used
        load_kernel()


_kernel_loading: threading.Thread | None = None
_kernel_loading_lock = threading.Lock()


def _score_batch(
    batch: ReadBatch, sources: Sequence[str | Path], *, full_precision: bool, lang: str
) -> ScoredTable:
    scores = compute_zscores(batch.rows, full_precision=full_precision, lang=lang)
    raw = batch.raw if batch.raw is not None else pd.DataFrame(index=batch.rows.index)
    withheld = personal_columns(list(raw.columns), batch.column_map)
    raw = raw.drop(columns=withheld)
    computed = (*SOURCE_COLUMNS, *ZSCORE_COLUMNS)
    renamed = {name: f"{name}_input" for name in raw.columns if name in computed}
    located = batch.rows.loc[:, list(SOURCE_COLUMNS)]
    table = pd.concat([raw.rename(columns=renamed), located, scores], axis=1)
    table = table.reset_index(drop=True)
    rejects = batch.rejects.copy()
    if len(rejects):
        # a rejected cell of a personal column is reported without its value
        rejects.loc[rejects["column"].isin(withheld), "value"] = "(withheld)"
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
        renamed=renamed,
        warnings=list(batch.warnings),
    )
