"""Benchmark: writing a scored register as csv and jsonl (kbtool.writing.write_batches).

Scores bench_zscore's generated register once, in-process, into the batches `kbtool zscore`
writes, then times write_batches of them to a file, against pyarrow.csv.write_csv of the same
rows (which kbtool cannot use: it quotes every text cell) and against pyarrow alone reading the
register and writing its rows back as CSV (the floor under `kbtool zscore`). Best wall and CPU
time of the runs, with the load average. Usage: python -m bench.bench_writing [ROWS]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import partial

import pyarrow as pa
import pyarrow.csv as pcsv

from bench.common import OUT, pyarrow_csv_floor, register_csv
from kbtool.concurrency import cores
from kbtool.scoring import iter_score_file
from kbtool.writing import frame_to_arrow, write_batches

RUNS = 5


def timed(write: Callable[[], None]) -> str:
    """`write` run RUNS times: its best wall and best CPU seconds."""
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        write()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    runs = " ".join(f"{wall:.2f}" for wall in walls)
    return f"{min(walls):5.2f} s (CPU {min(cpus):5.2f} s; all runs {runs})"


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    csv = register_csv(rows)
    frames = [scored.table for scored in iter_score_file(csv)]
    columns = len(frames[0].columns)
    print(f"kbtool writing benchmark, {rows:,} scored rows x {columns} columns, {cores()} cores")
    for fmt in ("csv", "jsonl"):
        out = OUT / f"written.{fmt}"
        result = timed(partial(write_batches, frames, fmt=fmt, output=out))
        size = out.stat().st_size / 1e6
        print(f"write_batches {fmt:5} ({size:,.0f} MB):       {result}")
    table = pa.concat_tables(frame_to_arrow(frame) for frame in frames)
    out = OUT / "written_by_pyarrow.csv"
    print(f"pyarrow.csv.write_csv, same rows:     {timed(partial(pcsv.write_csv, table, out))}")
    floor = min(pyarrow_csv_floor(csv).seconds for _ in range(3))
    print(f"pyarrow read + write of the register: {floor:5.2f} s (wall, a fresh interpreter)")
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine: figures vary with load)")


if __name__ == "__main__":
    main()
