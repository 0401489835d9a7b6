"""Benchmark: the data-quality report on 10 million measurements.

Uses the cached store of the first half of bench_prevalence.py's generated visits (about 10
million measurements of Kota Metro, 2020-2024; built on first use). Times the library in-process
(store read of the columns quality needs, then quality_report by posyandu and year) and
`kbtool quality --store DIR -f csv` end to end, with peak memory.

Usage: python -m bench.bench_quality [ROWS]   (default 10,000,000)
Target (issue 5, 2 cores): < 10 s for 10M measurements.
"""

from __future__ import annotations

import os
import sys
import time

import pandas as pd

from bench.bench_prevalence import (
    DEFAULT_ROWS,
    completed_marker,
    ensure_store,
    kbtool_executable,
)
from bench.common import OUT, best_of, peak_rss_mb, record, time_command


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS // 2
    if rows == DEFAULT_ROWS // 2 and not completed_marker(rows).exists():
        ensure_store(DEFAULT_ROWS)  # the half-size store is a by-product of the full one
    store = ensure_store(rows)
    print(
        f"kbtool quality benchmark, store {store}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (shared machine: figures vary with load)"
    )

    from kbtool.quality import columns_needed, quality_report
    from kbtool.store import open_measurements

    columns = [*dict.fromkeys([*columns_needed("posyandu"), "kelurahan", "kecamatan"])]
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

    for by in ("posyandu", "kecamatan"):

        def library(frame: pd.DataFrame = frame, by: str = by) -> None:
            quality_report(frame, by=by, period="year", child_key="child_key")

        seconds = best_of(2, library)
        print(
            f"in-process, quality_report by {by} and year: {seconds:6.2f} s  "
            f"{n / seconds / 1e6:5.2f} M rows/s"
        )
    print(f"in-process peak RSS: {peak_rss_mb():,.0f} MB")
    del frame

    out = OUT / "quality_bench.csv"
    args = [kbtool_executable(), "quality", "--store", str(store), "-f", "csv"]
    best = time_command(
        "kbtool quality --store -f csv (by posyandu and year)", args, n, out, runs=2
    )
    record(
        f"`kbtool quality --store`, {n:,} measurements",
        f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
        "< 10 s",
        best.seconds < 10,
        f"python -m bench.bench_quality {rows}",
    )


if __name__ == "__main__":
    main()
