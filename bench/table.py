"""Write docs/performance.md from the figures the benchmarks recorded (bench/out/results.json).

Usage: run the benchmarks (python -m bench.bench_zscore, bench_import, bench_prevalence,
bench_quality, ...), then python -m bench.table.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bench.common import RESULTS

DOC = Path(__file__).parent.parent / "docs" / "performance.md"
HEADER = """# Performance

Measured by the scripts in `bench/` on generated registers of Kota Metro (`tests/synthetic.py`),
on a machine with {cores} cores shared with other work: wall times vary with the load average
(given per row), so each figure is the best of several runs. `python -m bench.table` rewrites
this table from the latest run of each benchmark.

| figure | measured | target | met | load | reproduce |
| --- | --- | --- | --- | --- | --- |
"""


# the table's order: the commands as the README lists them
ORDER = ("zscore", "import", "prevalence", "quality", "report", "audit", "skdn", "growth")


def _command(figure: str) -> int:
    named = re.search(r"`kbtool (\w+)", figure)
    return ORDER.index(named[1]) if named and named[1] in ORDER else len(ORDER)


def _rows(results: dict[str, dict[str, object]]) -> dict[str, str]:
    """Table rows by figure: the recorded results, over the rows the table already holds (a
    fresh clone that reran one benchmark keeps the others' last figures)."""
    rows = {}
    for line in DOC.read_text().splitlines() if DOC.exists() else ():
        cells = line.split(" | ")
        if len(cells) == 6 and line.startswith("| `kbtool"):
            rows[cells[0].removeprefix("| ")] = line + "\n"
    for figure, row in results.items():
        met = "yes" if row["met"] else "**no**"
        rows[figure] = (
            f"| {figure} | {row['measured']} | {row['target']} | {met} | {row['load']} | "
            f"`{row['reproduce']}` |\n"
        )
    return rows


def main() -> None:
    results = json.loads(RESULTS.read_text())
    lines = [HEADER.format(cores=os.cpu_count())]
    rows = _rows(results)
    lines += [rows[figure] for figure in sorted(rows, key=_command)]
    DOC.write_text("".join(lines))
    print(f"wrote {DOC} ({len(results)} figures of this run, {len(rows)} in all)")


if __name__ == "__main__":
    main()
