"""Reading one register ahead, in batches, for the commands that write as they read.

Apart from kbtool.scoring (which needs pandas and the z-score frames) so that `kbtool zscore`
can start reading its file first: pyarrow parses on a thread of its own, without the GIL,
while the main thread still imports pandas and the writers (about 0.6 s).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

from kbtool.concurrency import ahead
from kbtool.reading import ReadBatch, ReadOptions, iter_read

# Rows per batch when a file is scored and written as it is read (iter_score_file). Measured on
# 1M rows, 2 shared cores, runs alternated (mean wall): 125k rows 4.56 s, 250k 4.35 s, 500k
# 4.69 s; reading the whole file first, 4.73 s. Smaller batches overlap more but pay more
# per-batch work, all of it sharing one GIL.
STREAM_BATCH_ROWS = 250_000
# Batches read ahead of the one being scored (the reader carries on while the rest loads);
# memory stays ~ (3 + this) batches: 1M rows peak at ~0.85 GB RSS (whole file: ~1.25 GB).
READ_AHEAD_BATCHES = 2


def stream_options(options: ReadOptions | None, batch_rows: int | None = None) -> ReadOptions:
    """The reader options of a streamed file: batches of `batch_rows` (STREAM_BATCH_ROWS), and
    the input columns kept to be written back."""
    rows = STREAM_BATCH_ROWS if batch_rows is None else batch_rows
    return replace(options or ReadOptions(), keep_raw=True, batch_rows=rows)


def read_ahead(
    source: str | Path, options: ReadOptions | None = None, *, batch_rows: int | None = None
) -> Generator[ReadBatch, None, None]:
    """The batches of `source` (kbtool.reading.iter_read with stream_options), read on a thread
    up to READ_AHEAD_BATCHES ahead of the consumer. Reading starts at once; close the generator
    to stop it."""
    return ahead(iter_read(source, stream_options(options, batch_rows)), depth=READ_AHEAD_BATCHES)
