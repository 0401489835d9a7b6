"""Randomization inference: how unusual is the estimate among those the same data gives when the
programme is re-assigned among the units?

Every re-assignment keeps the number of units starting in each year (and the number never
starting); the p-value is the share of assignments whose estimate is at least as far from 0 as
the one observed (two-sided). All assignments are used when there are at most
EXHAUSTIVE_LIMIT of them, else RANDOM_DRAWS random ones plus the observed one (Young 2019,
"Channeling Fisher", QJE 134(2); Heß's ritest for Stata).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kbtool.arrays import FloatArray

EXHAUSTIVE_LIMIT = 10_000
RANDOM_DRAWS = 9_999
# estimates equal to the observed one up to rounding count as at least as extreme
TIES = 1e-9


@dataclass(frozen=True)
class RandomizationResult:
    """The p-value, the number of assignments it rests on (the observed one included) and
    whether they were all there are."""

    p_value: float
    assignments: int
    exhaustive: bool


def assignment_count(since: FloatArray) -> int:
    """How many distinct ways there are to give the units these start years."""
    _, counts = np.unique(since, return_counts=True)
    return math.factorial(len(since)) // math.prod(math.factorial(int(c)) for c in counts)


def assignments(since: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, bool]:
    """Start years per unit for each assignment (rows), the observed first: all distinct
    assignments when there are at most EXHAUSTIVE_LIMIT, else RANDOM_DRAWS permutations."""
    if assignment_count(since) <= EXHAUSTIVE_LIMIT:
        return _every_assignment(since), True
    drawn = rng.permuted(np.tile(since, (RANDOM_DRAWS, 1)), axis=1)
    return np.vstack([since, drawn]), False


def _every_assignment(since: FloatArray) -> FloatArray:
    """Every distinct placement of the start years on the units, the observed one first."""
    values, counts = np.unique(since, return_counts=True)
    rows: list[FloatArray] = []
    units = len(since)

    def place(level: int, free: tuple[int, ...], row: FloatArray) -> None:
        if level == len(values) - 1:
            row[list(free)] = values[level]
            rows.append(row.copy())
            return
        for chosen in itertools.combinations(free, int(counts[level])):
            row[list(chosen)] = values[level]
            place(level + 1, tuple(i for i in free if i not in chosen), row)

    place(0, tuple(range(units)), np.empty(units))
    every = np.array(rows)
    observed = int(np.flatnonzero((every == since).all(axis=1))[0])
    every[[0, observed]] = every[[observed, 0]]
    return every


def randomization_test(
    since: FloatArray,
    estimates_of: Callable[[FloatArray], FloatArray],
    seed: int | None,
) -> RandomizationResult:
    """The randomization p-value of the estimate `estimates_of` gives for the observed start
    years `since` (one per unit), against re-assignments (see the module docstring);
    `estimates_of` takes assignments x units start years and returns one estimate each."""
    drawn, exhaustive = assignments(since, np.random.default_rng(seed))
    estimates = estimates_of(drawn)
    observed = abs(estimates[0])
    if np.isnan(observed):
        return RandomizationResult(np.nan, len(drawn), exhaustive)
    extreme = np.abs(estimates) >= observed - TIES * max(1.0, observed)
    return RandomizationResult(float(np.mean(extreme)), len(drawn), exhaustive)
