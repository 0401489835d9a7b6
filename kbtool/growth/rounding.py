"""Rounding to a number of decimals exactly as R's `round()` (R >= 4.0.0) does it.

WHO Anthro and R `anthro` round z-scores with R's `round(z, 2)` and classify on the result, so
matching WHO at the cut-offs means rounding like R: take the two decimal candidates on either side
of x and keep the nearer one, the even one on an exact tie (R's src/nmath/fround.c). numpy's
`np.round` scales by 100 first, which turns some values below a half into exact halves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def r_round(values: npt.ArrayLike, digits: int) -> npt.NDArray[np.float64]:
    """Round each value to `digits` decimals like R's `round(x, digits)`; NaN stays NaN."""
    x = np.asarray(values, dtype=np.float64)
    pow10 = 10.0**digits
    scaled = x * pow10
    # Away from a half, the nearer candidate is plain rint(x * 10^d) / 10^d; only values whose
    # scaled fraction sits within 1e-6 of .5 need R's exact comparison of the two candidates.
    rounded = np.rint(scaled) / pow10
    with np.errstate(invalid="ignore"):
        near_half = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    if near_half.any():
        rounded[near_half] = _r_round_exact(x[near_half], pow10)
    return rounded


def _r_round_exact(x: npt.NDArray[np.float64], pow10: float) -> npt.NDArray[np.float64]:
    """R's fround.c: keep the nearer of the two decimal candidates, the even one on a tie."""
    sign = np.where(x < 0, -1.0, 1.0)
    ax = np.abs(x)
    x10 = ax * pow10
    i10 = np.floor(x10)
    down = i10 / pow10
    up = np.ceil(x10) / pow10
    dist_up = up - ax
    dist_down = ax - down
    take_up = (dist_up < dist_down) | ((dist_up == dist_down) & (np.fmod(i10, 2.0) == 1.0))
    return np.asarray(sign * np.where(take_up, up, down), dtype=np.float64)


def rounds_below(values: npt.ArrayLike, cut: float, digits: int) -> npt.NDArray[np.bool_]:
    """Whether each value, rounded as R's round(x, digits), is below `cut` (a value with at most
    `digits` decimals): only values within a unit of the last digit of `cut` are rounded, the
    others are far enough from it to be classified as they are. NaN is not below."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        below = x < cut
        near = np.flatnonzero(np.abs(x - cut) < 10.0**-digits)
    below[near] = r_round(x[near], digits) < cut
    return below
