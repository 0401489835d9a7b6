"""Benchmark: `kbtool skdn --store` and `kbtool growth --store` on 20 million measurements.

Uses the cached store of bench_prevalence.py (bench/out/store_20000000, built there when
missing; a symlink to another worktree's store works too, it is only read). For each command:
the library in-process (store read, then the computation, wall and CPU seconds, peak memory of a
fresh process), then the command end to end, CSV to a file, best of a few runs with its CPU time
and peak RSS. The load average is printed with each figure: the machine is shared. The end to
end figures are recorded for docs/performance.md (python -m bench.table).

Usage: python -m bench.bench_skdn_growth [ROWS]   (default 20,000,000)
Targets (issue 15, 2 cores): each command under 15 s and 2 GB.
"""

from __future__ import annotations

import os
import sys

from bench.bench_prevalence import DEFAULT_ROWS, ensure_store, kbtool_executable
from bench.common import OUT, record, run_command, time_command

# issue 15, on 2 shared cores: each command end to end
TARGET_SECONDS = 15
TARGET_RSS_MB = 2048

# the library, in a fresh interpreter so that its peak RSS is its own
LIBRARY = """
import resource, sys, time
from kbtool.store import open_measurements
if sys.argv[2] == "skdn":
    from kbtool.skdn import columns_needed, compute_skdn as compute
    columns = columns_needed("posyandu")
else:
    from kbtool.dynamics import columns_needed, compute_growth as compute
    columns = columns_needed("kelurahan")
wall, cpu = time.perf_counter(), time.process_time()
frame = open_measurements(sys.argv[1], columns=list(columns))
read = time.perf_counter() - wall, time.process_time() - cpu
wall, cpu = time.perf_counter(), time.process_time()
result = compute(frame)
done = time.perf_counter() - wall, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{len(frame)} {read[0]} {read[1]} {done[0]} {done[1]} {peak} {len(result)}")
"""


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    store = ensure_store(rows)
    print(f"kbtool skdn / growth benchmark, store {store}, {os.cpu_count()} cores")
    for command in ("skdn", "growth"):
        out = OUT / f"{command}_library.txt"
        run_command([sys.executable, "-c", LIBRARY, str(store), command], stdout=out)
        n, read_s, read_cpu, compute_s, compute_cpu, peak, result_rows = out.read_text().split()
        print(
            f"in-process {command}: store read ({n} measurements) {float(read_s):.2f} s "
            f"(CPU {float(read_cpu):.2f} s), compute {float(compute_s):.2f} s "
            f"(CPU {float(compute_cpu):.2f} s), {result_rows} result rows, peak RSS "
            f"{float(peak):,.0f} MB (load {os.getloadavg()[0]:.1f})"
        )
        args = [kbtool_executable(), command, "--store", str(store), "-f", "csv"]
        best = time_command(
            f"kbtool {command} --store -f csv", args, int(n), OUT / f"{command}.csv", 3
        )
        record(
            f"`kbtool {command} --store`, {int(n):,} measurements",
            f"{best.seconds:.2f} s (CPU {best.cpu_seconds:.2f} s), RSS {best.peak_rss_mb:,.0f} MB",
            f"< {TARGET_SECONDS} s, < {TARGET_RSS_MB // 1024} GB",
            best.seconds < TARGET_SECONDS and best.peak_rss_mb < TARGET_RSS_MB,
            f"python -m bench.bench_skdn_growth {rows}",
        )
    print(f"targets: each < {TARGET_SECONDS} s, < {TARGET_RSS_MB // 1024} GB RSS (issue 15)")


if __name__ == "__main__":
    main()
