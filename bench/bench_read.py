"""Benchmark: reading a 1,000,000-row generated register as it arrives: UTF-8, Windows-1252 (one
kelurahan spelt with an accent, as Excel on Windows saves it) and gzip-compressed.

Prints, per file, `kbtool.reading.read_file` in this process (best wall time of three, its CPU
seconds across all threads) and `kbtool zscore FILE -f csv` end to end; the UTF-8 file also
piped through stdin (`cat FILE | kbtool zscore -`), which pyarrow reads as a stream. CPU seconds
are the steadier figure on a shared machine; the load average is printed with each line.
Usage: python bench/bench_read.py [ROWS]
"""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from bench.common import register_csv, run_command
from kbtool.reading import read_file


def variants(utf8: Path) -> list[Path]:
    """The register, a Windows-1252 copy with an accented kelurahan, and a gzip copy."""
    cp1252 = utf8.with_name(utf8.stem + "_cp1252.csv")
    if not cp1252.exists():
        text = utf8.read_text(encoding="utf-8").replace(",Mulyosari,", ",Mulyosarí,")
        cp1252.write_bytes(text.encode("cp1252"))
    compressed = utf8.with_name(utf8.name + ".gz")
    if not compressed.exists():
        compressed.write_bytes(gzip.compress(utf8.read_bytes(), compresslevel=6))
    return [utf8, cp1252, compressed]


def time_read(path: Path, repeats: int = 3) -> tuple[float, float, int]:
    """Best wall seconds of `repeats` reads, the CPU seconds of that read, and its rows."""
    best = (float("inf"), float("nan"), 0)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        batch = read_file(path)
        timing = (time.perf_counter() - wall, time.process_time() - cpu, batch.rows_read)
        best = min(best, timing)
    return best


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"kbtool reading benchmark, {rows:,} generated visits, {os.cpu_count()} cores")
    files = variants(register_csv(rows))
    for path in files:
        wall, cpu, read = time_read(path)
        print(
            f"read_file {path.name:32} {wall:6.2f} s  CPU {cpu:5.2f} s  {read / wall / 1e6:5.2f} "
            f"M rows/s  (load {os.getloadavg()[0]:.1f})"
        )
    kbtool = shutil.which("kbtool") or str(Path(sys.executable).with_name("kbtool"))
    commands = [([kbtool, "zscore", str(path), "-f", "csv"], path.name) for path in files]
    piped = f"cat {shlex.quote(str(files[0]))} | {shlex.quote(kbtool)} zscore - -f csv"
    commands.append((["sh", "-c", piped], f"{files[0].name} (stdin)"))
    for args, label in commands:
        timed = min((run_command(args) for _ in range(3)), key=lambda t: t.seconds)
        print(
            f"kbtool zscore {label:36} {timed.seconds:6.2f} s  CPU {timed.cpu_seconds:5.2f} s  "
            f"peak RSS {timed.peak_rss_mb:,.0f} MB  (load {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
