"""Helpers shared by the benchmarks: realistic generated registers and honest measurements."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.synthetic import generate_register, write_canonical_csv

OUT = Path(__file__).parent / "out"


def register_of(rows: int, seed: int = 7) -> pd.DataFrame:
    """A generated Kota Metro register of about `rows` visits (5 years, monthly visits)."""
    # ~0.075 visits per child and month-of-window over 5 years: tune the child count to the rows
    children = max(100, rows // 30)
    frame = generate_register(children, years=(2020, 2021, 2022, 2023, 2024), seed=seed)
    while len(frame) < rows:
        children = int(children * rows / max(len(frame), 1) * 1.05) + 1
        frame = generate_register(children, years=(2020, 2021, 2022, 2023, 2024), seed=seed)
    return frame.iloc[:rows].reset_index(drop=True)


def register_csv(rows: int) -> Path:
    """A canonical CSV of `rows` generated visits, cached in bench/out/."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"register_{rows}.csv"
    if not path.exists():
        write_canonical_csv(register_of(rows), path)
    return path


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children) in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float
    # user + system CPU time of the command: on a shared machine the wall time depends on the
    # other load, the CPU time much less
    cpu_seconds: float = float("nan")


def run_command(args: Sequence[str], *, stdout: Path | None = None) -> Timed:
    """Run a command to completion (stdout to a file or /dev/null); its wall time, peak RSS
    and CPU time.

    The peak RSS is measured with GNU time-like accounting: a fresh `python -c` wrapper waits
    for the command, so RUSAGE_CHILDREN of the wrapper is the command's own peak.
    """
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "out = open(sys.argv[1], 'wb')\n"
        "start = time.perf_counter()\n"
        "code = subprocess.call(sys.argv[2:], stdout=out)\n"
        "elapsed = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(f'{elapsed} {usage.ru_maxrss / 1024} {usage.ru_utime + usage.ru_stime} {code}')\n"
    )
    target = str(stdout) if stdout else os.devnull
    result = subprocess.run(
        [sys.executable, "-c", wrapper, target, *args], capture_output=True, text=True, check=True
    )
    elapsed, peak, cpu, code = result.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(args)} exited {code}: {result.stderr[-500:]}")
    return Timed(float(elapsed), float(peak), float(cpu))


# pyarrow alone reading a register CSV and writing its rows back as CSV: the floor under
# `kbtool zscore` CSV -> CSV on this machine (kbtool reads, scores and writes twice the columns).
PYARROW_CSV_COPY = (
    "import sys, pyarrow.csv as pcsv\n"
    "pcsv.write_csv(pcsv.read_csv(sys.argv[1]), sys.stdout.buffer)\n"
)


def pyarrow_csv_floor(csv: Path) -> Timed:
    """Run PYARROW_CSV_COPY on `csv` in a fresh interpreter, output to /dev/null."""
    return run_command([sys.executable, "-c", PYARROW_CSV_COPY, str(csv)])


def best_of(repeats: int, func: object) -> float:
    """The fastest of `repeats` timed calls of `func()` (the least disturbed by other load)."""
    assert callable(func)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def time_command(label: str, args: Sequence[str], rows: int, out: Path, runs: int) -> Timed:
    """Run a kbtool command `runs` times and print its best wall time, rows/s, CPU time and
    peak RSS, with the load average (wall times on a shared machine depend on it)."""
    times = [run_command(args, stdout=out) for _ in range(runs)]
    best = min(times, key=lambda t: t.seconds)
    print(
        f"end to end, {label}: {best.seconds:6.2f} s  {rows / best.seconds / 1e6:5.2f} M rows/s  "
        f"CPU {min(t.cpu_seconds for t in times):.2f} s  peak RSS {best.peak_rss_mb:,.0f} MB "
        f"(all runs: {', '.join(f'{t.seconds:.2f} s' for t in times)}; "
        f"load {os.getloadavg()[0]:.1f})"
    )
    print(f"rows written: {sum(1 for _ in out.open()) - 1:,}")
    return best


RESULTS = OUT / "results.json"


def record(figure: str, measured: str, target: str, met: bool, reproduce: str) -> None:
    """Keep a figure for docs/performance.md (python -m bench.table writes it): the latest
    measurement of each figure, with the load average it was taken under."""
    OUT.mkdir(exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[figure] = {
        "measured": measured,
        "target": target,
        "met": met,
        "reproduce": reproduce,
        "load": round(os.getloadavg()[0], 1),
    }
    RESULTS.write_text(json.dumps(results, indent=1))
