"""Benchmark: `kbtool audit` of a 1-million-row e-PPGBM export.

Writes (once, cached under bench/out/) an e-PPGBM-like export of about 1 million generated
visits of Kota Metro, 2020-2024, in which five posyandu computed their z-scores with a known
mistake (one each: age in completed months, no position correction, sex swapped, truncated,
stale age). Times, in-process, the reading (measurements_from_files with the recorded columns)
and audit_register apart, then `kbtool audit FILE -f csv` end to end, and with `--rows` (every
row and indicator written too), each with CPU time, peak RSS and the load average, and records
both for docs/performance.md (bench.common.record; python -m bench.table writes it).

Usage: python -m bench.bench_audit [ROWS]   (default 1,000,000)
Target (issue 16, 2 cores): 1M rows audited in under 15 s.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.bench_prevalence import kbtool_executable
from bench.common import OUT, peak_rss_mb, record, register_of, time_command

DEFAULT_ROWS = 1_000_000
TARGET_SECONDS = 15.0  # issue 16, on the 2-core machine
# one posyandu per mistake: each must come out named, the others at 100% agreement
MISTAKES = {
    "Posyandu Mawar 2": "age_in_completed_months",
    "Posyandu Kenanga 1": "no_position_correction",
    "Posyandu Asoka 1": "sex_swapped",
    "Posyandu Cempaka 5": "truncated",
    "Posyandu Tulip 2": "stale_age",
}


def export_csv(rows: int) -> Path:
    """The cached e-PPGBM-like export of `rows` generated visits, with MISTAKES."""
    from tests.synthetic import write_eppgbm_csv

    OUT.mkdir(exist_ok=True)
    path = OUT / f"eppgbm_audit_{rows}.csv"
    if not path.exists():
        partial = path.with_suffix(".part")
        write_eppgbm_csv(register_of(rows), partial, mistakes=MISTAKES)
        partial.rename(path)
    return path


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    path = export_csv(rows)
    print(
        f"kbtool audit benchmark, {path} ({path.stat().st_size / 1e6:,.0f} MB), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "(shared machine: figures vary with load)"
    )

    from kbtool.audit import RecordedColumns, audit_register, columns_needed
    from kbtool.commands.audit import BATCH_ROWS
    from kbtool.measurements import measurements_from_files
    from kbtool.reading import ReadOptions

    picker = RecordedColumns()
    tick, cpu = time.perf_counter(), time.process_time()
    options = ReadOptions(batch_rows=BATCH_ROWS)  # as the command reads
    frame = measurements_from_files(
        [path], options, columns=columns_needed("posyandu"), pick_headers=picker
    ).frame
    print(
        f"in-process, reading with the recorded columns: {time.perf_counter() - tick:6.2f} s  "
        f"(CPU {time.process_time() - cpu:.2f} s)  {len(frame):,} rows"
    )
    tick, cpu = time.perf_counter(), time.process_time()
    result = audit_register(frame, indicators=picker.indicators())
    print(
        f"in-process, audit_register by posyandu: {time.perf_counter() - tick:6.2f} s  "
        f"(CPU {time.process_time() - cpu:.2f} s)"
    )
    groups = result.table[result.table["posyandu"] != "All"]
    named = groups[groups["disagreements"] > 0].groupby("posyandu")["main_cause"].agg(set)
    print(f"  groups with disagreements and their cause: {dict(named)}")
    exact = named.to_dict() == {group: {cause} for group, cause in MISTAKES.items()}
    print(f"  exactly the posyandu with a mistake, each with its cause: {'yes' if exact else 'NO'}")
    print(f"in-process peak RSS: {peak_rss_mb():,.0f} MB")
    del frame, result

    executable = kbtool_executable()
    reproduce = f"python -m bench.bench_audit {rows}"
    size = f"{rows:,}-row e-PPGBM export ({path.stat().st_size / 1e6:,.0f} MB)"
    out = OUT / "audit_bench.csv"
    args = [executable, "audit", str(path), "-f", "csv"]
    best = time_command("kbtool audit FILE -f csv", args, rows, out, runs=2)
    record(
        f"`kbtool audit`, {size}, five posyandu with a mistake",
        f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
        f"< {TARGET_SECONDS:g} s, exactly the posyandu with a mistake named",
        best.seconds < TARGET_SECONDS and exact,  # a fast wrong audit does not meet it
        reproduce,
    )
    rows_file = OUT / "audit_bench_rows.csv"
    args = [executable, "audit", str(path), "-f", "csv", "--rows", str(rows_file)]
    best = time_command("kbtool audit FILE -f csv --rows ROWS.csv", args, rows, out, runs=1)
    record(
        f"`kbtool audit --rows` (every row and indicator written too), {size}",
        f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
        "none of its own",
        True,
        reproduce,
    )
    print(f"target: {rows:,} rows audited in under {TARGET_SECONDS:g} s (issue 16)")


if __name__ == "__main__":
    main()
