"""Benchmark: prevalence from a store of 20 million measurements.

Builds (once, cached under bench/out/) a store of about 20 million generated visits of Kota Metro
over 2020-2024, through `kbtool import`'s own library call (import_registers) in chunks of whole
children, keeping the store of the first half (about 10 million) for bench_quality.py. Then times
`kbtool prevalence --store DIR -f csv` (stunting) and `--indicator all --cluster posyandu` end
to end, and the library (store read, then compute_prevalence) in-process, with peak memory.

Usage: python -m bench.bench_prevalence [ROWS]   (default 20,000,000; a smaller ROWS builds its
own, smaller store and scales nothing: the figures are for the rows it says)
Targets (2 cores, 20M measurements): stunting < 5 s and < 1.5 GB RSS (issue 4); every
indicator with posyandu clusters < 10 s and < 1.5 GB (issue 14).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import OUT, best_of, peak_rss_mb, record, time_command

YEARS = (2020, 2021, 2022, 2023, 2024)
# the generator gives a child about 17 visits within a 5-year window (measured: 167,398 visits
# of 10,000 children drawn); a little margin, then the frame is cut to the rows asked for
VISITS_PER_CHILD = 16
# rows per import: one import of 1M rows peaks near 1 GB (measured), so a few million at a time
CHUNK_ROWS = 2_000_000
DEFAULT_ROWS = 20_000_000


def store_dir(rows: int) -> Path:
    """Where the cached store of `rows` generated measurements lives."""
    return OUT / f"store_{rows}"


def completed_marker(rows: int) -> Path:
    # beside the store, not inside it: the store directory holds only what kbtool writes
    return OUT / f"store_{rows}.complete"


def _build(rows: int) -> None:
    """Generate ~`rows` visits and import them in chunks; snapshot the store at half the rows."""
    from kbtool.store import import_registers
    from tests.synthetic import child_numbers, generate_register, write_canonical_csv

    started = time.perf_counter()
    frame = generate_register(max(100, rows // VISITS_PER_CHILD), years=YEARS, seed=7)
    frame = frame.iloc[:rows]
    child = child_numbers(frame)
    print(
        f"  generated {len(frame):,} visits of {child.max() + 1:,} children "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    # rows come ordered by child: cut only where the child changes, so no child spans imports
    starts = np.r_[0, np.flatnonzero(np.diff(child)) + 1]
    targets = np.arange(CHUNK_ROWS, len(frame), CHUNK_ROWS)
    inner = starts[np.minimum(np.searchsorted(starts, targets), len(starts) - 1)]
    cuts = sorted({0, *inner[inner > 0].tolist(), len(frame)})
    half, full = store_dir(rows // 2), store_dir(rows)
    for location in (half, full):
        shutil.rmtree(location, ignore_errors=True)
    chunk_file = OUT / "chunk.csv"
    target = half
    for number, (lo, hi) in enumerate(itertools.pairwise(cuts), start=1):
        if target == half and lo >= rows // 2:
            shutil.copytree(half, full)  # the first half is also the 10M store
            completed_marker(rows // 2).write_text(f"{lo} rows\n")
            target = full
        tick = time.perf_counter()
        write_canonical_csv(frame.iloc[lo:hi], chunk_file)
        summary = import_registers([chunk_file], target)
        print(
            f"  import {number}/{len(cuts) - 1}: {summary.rows_stored:,} stored in "
            f"{time.perf_counter() - tick:.0f} s",
            flush=True,
        )
        # the next chunk reuses the file name: a fresh SHA-256, so nothing is skipped
    if target == half:
        shutil.copytree(half, full)
    chunk_file.unlink(missing_ok=True)
    completed_marker(rows).write_text(f"{len(frame)} rows\n")
    print(f"  store built in {time.perf_counter() - started:.0f} s", flush=True)


def ensure_store(rows: int) -> Path:
    """The cached store of `rows` measurements, built (in a child process, so this process's
    peak memory stays the benchmark's own) when missing."""
    if not completed_marker(rows).exists():
        OUT.mkdir(exist_ok=True)
        print(f"building a store of {rows:,} generated measurements (minutes; cached)", flush=True)
        builder = multiprocessing.get_context("spawn").Process(target=_build, args=(rows,))
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            raise SystemExit(f"building the store failed (exit {builder.exitcode})")
    return store_dir(rows)


def kbtool_executable() -> str:
    return shutil.which("kbtool") or str(Path(sys.executable).with_name("kbtool"))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    store = ensure_store(rows)
    print(
        f"kbtool prevalence benchmark, store {store}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (shared machine: figures vary with load)"
    )

    from kbtool.prevalence import columns_needed, compute_prevalence
    from kbtool.store import open_measurements

    columns = list(columns_needed(("kelurahan",)))
    tick, cpu_tick = time.perf_counter(), time.process_time()
    frame = open_measurements(store, columns=columns)
    read_seconds = time.perf_counter() - tick
    # CPU seconds (all threads) beside the wall time: on a shared machine the wall time is
    # mostly other people's load, the CPU time is this code's cost
    read_cpu = time.process_time() - cpu_tick
    n = len(frame)
    print(
        f"in-process, store read ({len(columns)} columns): {read_seconds:6.2f} s  "
        f"({read_cpu:.2f} CPU s)  {n / read_seconds / 1e6:5.1f} M rows/s  ({n:,} measurements)"
    )

    def library(frame: pd.DataFrame = frame) -> None:
        compute_prevalence(frame, by=("kelurahan",), period="year", child_key="child_key")

    seconds = best_of(3, library)
    print(
        f"in-process, compute_prevalence by kelurahan and year: {seconds:6.2f} s  "
        f"{n / seconds / 1e6:5.1f} M rows/s"
    )
    print(f"in-process peak RSS: {peak_rss_mb():,.0f} MB")
    del frame

    out = OUT / "prevalence_bench.csv"
    args = [kbtool_executable(), "prevalence", "--store", str(store), "-f", "csv"]
    stunting = time_command("kbtool prevalence --store -f csv", args, n, out, runs=3)
    every = [*args, "--indicator", "all", "--cluster", "posyandu"]
    everything = time_command(
        "kbtool prevalence --store --indicator all --cluster posyandu", every, n, out, runs=3
    )
    print("targets: stunting < 5 s, all indicators with clusters < 10 s; both < 1.5 GB RSS")
    for label, best, limit in (
        ("stunting", stunting, 5),
        ("`--indicator all --cluster posyandu`", everything, 10),
    ):
        record(
            f"`kbtool prevalence --store`, {label}, {n:,} measurements",
            f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
            f"< {limit} s, < 1.5 GB",
            best.seconds < limit and best.peak_rss_mb < 1536,
            f"python -m bench.bench_prevalence {rows}",
        )


if __name__ == "__main__":
    main()
