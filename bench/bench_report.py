"""Benchmark: `kbtool report --store` on 20 million stored measurements.

Uses bench_prevalence.py's cached store of 20 million generated visits (built on first use;
bench/out/store_20000000 may be a symlink to a store built elsewhere: the report only reads
it). Times the steps in-process (reading and computing, the sections with their charts, the
HTML), then `kbtool report --store DIR -o FILE` end to end, with CPU seconds, peak memory and
the load average (the machine is shared: wall times vary with the load, CPU times less).

Usage: python -m bench.bench_report [ROWS]   (default 20,000,000)
Target (issue 18, 2 cores): < 20 s for 20M measurements. The figure is recorded for
docs/performance.md (python -m bench.table).
"""

from __future__ import annotations

import os
import sys
import time

from bench.bench_prevalence import DEFAULT_ROWS, ensure_store, kbtool_executable
from bench.common import OUT, peak_rss_mb, record, run_command

TARGET_SECONDS = 20  # issue 18, on 2 cores


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    store = ensure_store(rows)
    print(
        f"kbtool report benchmark, store {store}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (shared machine: figures vary with load)"
    )

    from kbtool.measurements import load_measurements
    from kbtool.report import (
        Page,
        ReportOptions,
        assemble_report,
        build_sections,
        columns_needed,
        render_html,
    )

    steps: list[tuple[str, float, float]] = []
    tick, cpu = time.perf_counter(), time.process_time()

    def step(name: str) -> None:
        nonlocal tick, cpu
        now, now_cpu = time.perf_counter(), time.process_time()
        steps.append((name, now - tick, now_cpu - cpu))
        tick, cpu = now, now_cpu

    loaded = load_measurements(None, store, columns_needed("kecamatan"), by_year=True)
    data = assemble_report(loaded, ReportOptions())
    step("read the store by year, prevalence x2, trend, quality of the latest year")
    sections, _ = build_sections(data, "en")
    step("sections and their charts (matplotlib, SVG)")
    html = render_html(Page("en", "bench", "", ""), sections)
    step(f"HTML ({len(html) / 1e6:.1f} MB)")
    for name, seconds, cpu_seconds in steps:
        print(f"in-process, {name}: {seconds:6.2f} s ({cpu_seconds:.2f} CPU s)")
    print(f"in-process, {loaded.measurements:,} measurements; peak RSS {peak_rss_mb():,.0f} MB")
    del data, sections, html

    out = OUT / "report_bench.html"
    args = [kbtool_executable(), "report", "--store", str(store), "-o", str(out)]
    runs = [run_command(args) for _ in range(3)]
    best = min(runs, key=lambda run: run.seconds)
    print(
        f"end to end, kbtool report --store -o report.html: best {best.seconds:.2f} s, "
        f"CPU {best.cpu_seconds:.2f} s, peak RSS {best.peak_rss_mb:,.0f} MB "
        f"(all runs: {', '.join(f'{run.seconds:.2f} s' for run in runs)}; "
        f"load {os.getloadavg()[0]:.1f})"
    )
    print(f"report: {out.stat().st_size / 1e6:.1f} MB; target: < 20 s (issue 18)")
    record(
        f"`kbtool report --store`, {loaded.measurements:,} measurements",
        f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
        "< 20 s",
        best.seconds < TARGET_SECONDS,
        f"python -m bench.bench_report {rows}",
    )


if __name__ == "__main__":
    main()
