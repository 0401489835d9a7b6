"""Benchmark: z-scores for 1,000,000 generated posyandu visits.

Prints the kernel's rows/s (all four indicators, in-process) and `kbtool zscore` end to end
(CSV in, CSV out), with peak memory. Usage: python bench/bench_zscore.py [ROWS]
Targets (issue 2, 2 cores): kernel >= 20M rows/s; end to end < 3 s for 1M rows.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

from bench.common import (
    best_of,
    peak_rss_mb,
    pyarrow_csv_floor,
    register_csv,
    register_of,
    run_command,
)
from kbtool.growth.frame import age_in_days
from kbtool.growth.zscores import compute_zscore_arrays
from kbtool.synthetic import measure_codes


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"kbtool zscore benchmark, {rows:,} generated visits, {os.cpu_count()} cores")
    frame = register_of(rows)
    arrays = dict(
        sex=frame["sex"].to_numpy(),
        age_days=age_in_days(frame["birth_date"], frame["visit_date"]),
        weight_kg=frame["weight_kg"].to_numpy(float),
        lenhei_cm=frame["height_cm"].to_numpy(float),
        measure=measure_codes(frame["measure"]),
        oedema=frame["oedema"].to_numpy(bool),
    )
    for full_precision in (False, True):

        def kernel(full_precision: bool = full_precision, arrays: dict = arrays) -> None:
            compute_zscore_arrays(**arrays, full_precision=full_precision)

        kernel()  # load the tables once
        seconds = best_of(5, kernel)
        label = "full precision" if full_precision else "rounded (default)"
        print(
            f"kernel, {label:17}: {seconds:6.3f} s  {rows / seconds / 1e6:6.2f} M rows/s  "
            f"(HAZ, WAZ, WHZ, BMIZ with flags)"
        )
    print(f"kernel process peak RSS: {peak_rss_mb():,.0f} MB")
    del frame, arrays

    csv = register_csv(rows)
    kbtool = shutil.which("kbtool") or str(Path(sys.executable).with_name("kbtool"))
    out = csv.with_suffix(".zscore.csv")
    times = [run_command([kbtool, "zscore", str(csv), "-f", "csv"], stdout=out) for _ in range(3)]
    best = min(times, key=lambda t: t.seconds)
    size = csv.stat().st_size / 1e6
    print(
        f"end to end, kbtool zscore {size:.0f} MB CSV -> CSV: {best.seconds:6.2f} s  "
        f"{rows / best.seconds / 1e6:5.2f} M rows/s  CPU {min(t.cpu_seconds for t in times):.2f} s"
        f"  peak RSS {best.peak_rss_mb:,.0f} MB (all runs: "
        f"{', '.join(f'{t.seconds:.2f} s' for t in times)}; load {os.getloadavg()[0]:.1f})"
    )
    written = sum(1 for _ in out.open()) - 1
    print(f"rows written: {written:,} (of {rows:,} read)")
    floor = min(pyarrow_csv_floor(csv).seconds for _ in range(3))
    print(
        f"floor, pyarrow alone reading the CSV and writing it back: {floor:6.2f} s; "
        f"kbtool zscore takes {best.seconds / floor:.1f}x (load {os.getloadavg()[0]:.1f})"
    )
    assert np.isfinite(best.seconds)


if __name__ == "__main__":
    main()
