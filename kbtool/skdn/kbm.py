"""KBM (kenaikan berat badan minimal): the least monthly weight gain that counts as N (naik).

The built-in table is the Buku KIA's (Kemenkes RI, Buku Kesehatan Ibu dan Anak, 2023 edition:
the "KBM (gr)" row of the weighing record beside the KMS), by the child's age in completed
months. `--kbm FILE` replaces it with a table of the same shape.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kbtool.errors import InputError
from kbtool.skdn.tables import find_column, line_of, read_small_table, whole_number

# Buku KIA (Kemenkes RI 2023), KBM in grams by completed month: 0-1: 800, 2: 900, 3: 800,
# 4: 600, 5: 500, 6-7: 400, 8-10: 300, 11 and older: 200
BUKU_KIA_GRAMS = (800, 800, 900, 800, 600, 500, 400, 400, 300, 300, 300, 200)
BUKU_KIA_NAME = "Buku KIA (Kemenkes RI 2023): KBM by age in completed months"

_AGE_HEADERS = ("age_months", "umur", "umur_bulan", "usia", "usia_bulan", "bulan", "age")
_GAIN_HEADERS = ("kbm_g", "kbm", "kbm_gram", "kbm_gr", "gram", "min_gain_g")


@dataclass(frozen=True)
class KbmTable:
    """KBM in grams by age in completed months: `grams[m]` from month m on; the last entry
    holds for every older age."""

    name: str
    grams: tuple[int, ...]

    def at(self, age_months: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
        """The KBM of each age in completed months (ages below 0 take month 0's)."""
        table = np.asarray(self.grams, dtype=np.int32)
        return table[np.clip(age_months, 0, len(table) - 1)]

    def rows(self) -> list[dict[str, int]]:
        """The table as `age_months`, `kbm_g` rows, for a result's metadata."""
        return [{"age_months": m, "kbm_g": g} for m, g in enumerate(self.grams)]


BUKU_KIA = KbmTable(BUKU_KIA_NAME, BUKU_KIA_GRAMS)


def read_kbm(path: str | Path) -> KbmTable:
    """A KBM table from a CSV or xlsx of two columns, the age in completed months from which a
    row holds (`age_months`, or umur/usia) and the KBM in grams (`kbm_g`, or kbm): a row holds
    up to the next row's age, the last for every older age; the first must be month 0."""
    table = read_small_table(path, "--kbm")
    age_column = find_column(table.columns, _AGE_HEADERS)
    gain_column = find_column(table.columns, _GAIN_HEADERS)
    if age_column is None or gain_column is None:
        raise InputError(
            f"--kbm {path}: expected the columns age_months and kbm_g (age in completed months "
            f"and minimum gain in grams); columns seen: {', '.join(table.columns)}"
        )
    ages: list[int] = []
    grams: list[int] = []
    for index, age, gain in zip(table.index, table[age_column], table[gain_column], strict=True):
        where = f"--kbm {path}, line {line_of(index)}"
        ages.append(_whole_number(age, where, "age_months"))
        grams.append(_whole_number(gain, where, "kbm_g"))
    if not ages or ages[0] != 0 or any(b <= a for a, b in itertools.pairwise(ages)):
        raise InputError(
            f"--kbm {path}: ages must start at 0 and increase from row to row; got {ages}"
        )
    expanded = np.repeat(grams, np.diff([*ages, ages[-1] + 1]))
    return KbmTable(f"{path} (--kbm)", tuple(int(g) for g in expanded))


def _whole_number(text: str, where: str, column: str) -> int:
    value = whole_number(text)
    if value is None or value < 0:
        raise InputError(f"{where}: {column} {text!r} is not a whole number >= 0")
    return value
