"""Benchmark: `kbtool compare` on a generated register, by kelurahan and by posyandu.

Generates ROWS visits of Kota Metro over 2020-2024 (bench.common.register_of), prepares them as
the store holds them (z-scores, child keys), then times compare_groups in-process for a
staggered programme in a third of the kelurahan, and of the posyandu (more units: larger
bootstrap and randomization matrices). Prints each step's seconds and the load average.

Usage: python -m bench.bench_compare [ROWS]   (default 2,000,000)
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd

from bench.common import register_of
from kbtool.compare import compare_groups
from kbtool.compare.groups import Programme
from kbtool.growth import compute_zscores
from tests.synthetic import child_numbers, measure_codes

DEFAULT_ROWS = 2_000_000


def prepared(rows: int) -> pd.DataFrame:
    frame = register_of(rows)
    frame["measure"] = measure_codes(frame["measure"])
    frame["child_key"] = child_numbers(frame)
    for unit in ("kelurahan", "posyandu"):
        frame[unit] = frame[unit].astype(str)
    return pd.concat([frame, compute_zscores(frame)], axis=1)


def programme(frame: pd.DataFrame, unit: str) -> Programme:
    """A third of the units, half of them from 2022 and half from 2023."""
    names = sorted(frame[unit].unique())
    chosen = np.random.default_rng(1).permutation(names)[: len(names) // 3].tolist()
    since = tuple(2022 if i % 2 else 2023 for i in range(len(chosen)))
    return Programme(unit, "Kampung KB", tuple(chosen), since, "bench")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    started = time.perf_counter()
    frame = prepared(rows)
    print(f"prepared {len(frame):,} visits in {time.perf_counter() - started:.1f} s", flush=True)
    for unit in ("kelurahan", "posyandu"):
        chosen = programme(frame, unit)
        tick = time.perf_counter()
        result = compare_groups([frame], chosen)
        seconds = time.perf_counter() - tick
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"compare by {unit} ({len(result.assignment.units)} units, "
            f"{int(result.assignment.treated.sum())} treated, staggered): {seconds:.1f} s "
            f"(load average {load})",
            flush=True,
        )


if __name__ == "__main__":
    main()
