"""The floor under `kbtool import` on this machine: pyarrow alone copying a register CSV into
Parquet, with no kbtool code at all (bench_import runs it beside the import and prints both).

The CSV is read in 16 MiB blocks and its batches go, alternately, to two writer threads, each
writing a Parquet file of the CSV's own columns (zstd level 1, as the store): both cores busy, as
in the store, which writes a file per year and kecamatan. The store's files have 34 columns where
these have 13, and the import computes everything in them, so the import cannot be faster than
this. Usage: python -m bench.import_floor CSV OUTDIR
"""

from __future__ import annotations

import queue
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

WRITERS = 2


def copy_to_parquet(csv: Path, out: Path) -> int:
    """Rows copied from `csv` into WRITERS Parquet files in `out`."""
    reader = pcsv.open_csv(
        csv,
        read_options=pcsv.ReadOptions(block_size=1 << 24),
        convert_options=pcsv.ConvertOptions(column_types={"child_id": pa.string()}),
    )
    batches: list[queue.Queue[pa.RecordBatch | None]] = [
        queue.Queue(maxsize=2) for _ in range(WRITERS)
    ]
    failures: list[BaseException] = []

    def write(number: int) -> None:
        ended = False  # the end marker taken: the queue has nothing more to drain
        try:
            with pq.ParquetWriter(
                out / f"part{number}.parquet",
                reader.schema,
                compression="zstd",
                compression_level=1,
            ) as writer:
                while (batch := batches[number].get()) is not None:
                    writer.write_batch(batch)
                ended = True
        except BaseException as err:  # reported by the main thread, which stops reading
            failures.append(err)
            while not ended:  # take what the reader still puts, up to the end marker
                ended = batches[number].get() is None

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    rows = 0
    try:
        for number, batch in enumerate(reader):
            if failures:
                break
            batches[number % WRITERS].put(batch)
            rows += batch.num_rows
    finally:
        for pending in batches:
            pending.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return rows


def main() -> None:
    csv, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    print(copy_to_parquet(csv, out))


if __name__ == "__main__":
    main()
