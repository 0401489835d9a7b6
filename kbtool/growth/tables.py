"""The WHO Child Growth Standards (2006) daily LMS tables shipped as package data, loaded once
into dense arrays by sex and by age in days or length/height in tenths of a centimetre."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from kbtool.arrays import FloatArray

TABLE_NAMES = ("lhfa", "wfa", "wfl", "wfh", "bmifa")
Power = Callable[[FloatArray, FloatArray], FloatArray]


@dataclass(frozen=True)
class LmsTable:
    """One indicator's LMS parameters, shape (3, n): row 0 unused, 1 male, 2 female, NaN where
    WHO gives none; column 0 is `first_index` (day 0, or 450 / 650 tenths of a cm)."""

    name: str
    first_index: int
    l: FloatArray
    m: FloatArray
    s: FloatArray

    @property
    def size(self) -> int:
        return int(self.l.shape[1])


def sd_curve(
    m: FloatArray, l: FloatArray, s: FloatArray, k: float, power: Power = np.power
) -> FloatArray:
    """WHO's k-th SD curve, M * (1 + L*S*k)^(1/L), as R `anthro` computes it."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return m * power(1 + l * s * k, 1 / l)


def table_sha256(name: str) -> str:
    """SHA-256 of the shipped CSV of table `name`, to compare with data/SHA256SUMS."""
    data = (files("kbtool.growth") / "data" / f"{name}.csv").read_bytes()
    return hashlib.sha256(data).hexdigest()


@cache
def load_table(name: str) -> LmsTable:
    """Load one table (`lhfa`, `wfa`, `wfl`, `wfh` or `bmifa`) into dense arrays, once."""
    if name not in TABLE_NAMES:
        raise ValueError(f"unknown WHO table {name!r}; known: {', '.join(TABLE_NAMES)}")
    path = files("kbtool.growth") / "data" / f"{name}.csv"
    with path.open("r", encoding="utf-8") as stream:
        header = stream.readline().strip().split(",")
        # numpy's C parser: float() of each field, ~20x faster than csv.DictReader
        values = np.loadtxt(stream, delimiter=",", dtype=np.float64, ndmin=2)
    fields = ("sex", "index", "l", "m", "s")
    sex, index, *parameters = (values[:, header.index(field)] for field in fields)
    # lengths are stored as "45.0"; their index is the whole number of tenths of a centimetre
    by_length = name in ("wfl", "wfh")
    keys = np.rint(index * 10).astype(np.int64) if by_length else index.astype(np.int64)
    first = int(keys.min())
    lms = np.full((3, 3, int(keys.max()) - first + 1), np.nan)
    lms[:, sex.astype(np.int64), keys - first] = parameters
    return LmsTable(name=name, first_index=first, l=lms[0], m=lms[1], s=lms[2])
