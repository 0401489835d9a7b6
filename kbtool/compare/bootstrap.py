"""The wild cluster bootstrap of the treated x post coefficient, by unit, with the null imposed
(WCR), Rademacher weights: a p-value, and the 95% interval by test inversion, as R's
fwildclusterboot::boottest computes them (Roodman, MacKinnon, Nielsen and Webb 2019, "Fast and
wild", Stata Journal 19(1)).

For a hypothesis beta = r the bootstrap outcome is the restricted fit plus each unit's restricted
residuals times that unit's +-1 draw; its t-statistic against r is compared with the original
one. Everything is linear in r (the restricted residuals are M_F y - r M_F D), so the
t-statistic of every draw is a ratio of a linear function of r and the square root of a
quadratic one: p(r) costs one pass over the draws, and the interval's ends {r: p(r) = 0.05} are
found by bisection. Each draw's unit scores K v come from a units x units matrix K (Roodman et
al.'s algorithm), computed on the unit-year cells (see kbtool.compare.observations).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kbtool.arrays import FloatArray
from kbtool.compare.observations import Panel
from kbtool.compare.twfe import CHUNK, Cells

# R fwildclusterboot: a bootstrap p-value of 0.05 bounds the 95% interval
ALPHA = 0.05
# interval search: steps of the bracket (r = estimate +- se * 2^k) and bisection halvings
BRACKET_STEPS = 40
BISECTIONS = 60


@dataclass(frozen=True)
class BootstrapResult:
    """p-value of beta = 0, the 95% interval, the number of draws and whether they were every
    +-1 vector of the units (full enumeration, when 2^units <= the draws asked for)."""

    p_value: float
    ci_low: float
    ci_high: float
    draws: int
    enumerated: bool


def can_bound(units: int) -> bool:
    """Whether the bootstrap over `units` units can reject any effect at ALPHA: its p-value is
    at least 2 / 2^units (the draws of all +1 and all -1 reproduce the data), so with 5 units or
    fewer every effect is inside the interval."""
    return 2 / 2**units < ALPHA


def rademacher(units: int, draws: int, rng: np.random.Generator) -> tuple[FloatArray, bool]:
    """units x draws weights of +-1: all 2^units vectors when they are no more than `draws`
    (fwildclusterboot's full enumeration), else `draws` random ones."""
    if 2**units <= draws:
        every = np.array(list(itertools.product((1.0, -1.0), repeat=units)))
        return every.T.copy(), True
    return rng.integers(0, 2, size=(units, draws)).astype(np.float64) * 2 - 1, False


@dataclass(frozen=True)
class _Statistic:
    """What the t-statistics of the original fit and of every draw need, as functions of r."""

    estimate: float
    scale: float  # t(r) = (estimate - r) * scale
    numerator: tuple[FloatArray, FloatArray]  # per draw: a0.v - r a1.v
    squares: tuple[FloatArray, FloatArray, FloatArray]  # per draw: |K0 v|^2, K0v.K1v, |K1 v|^2
    # draws of all +1 or all -1: the data itself, |t*| = |t| for every r (counted exactly, as
    # rounding far from the estimate, or with two units, can break the tie)
    reproduces: npt.NDArray[np.bool_]

    def p_value(self, r: float) -> float:
        t = abs((self.estimate - r) * self.scale)
        a0, a1 = self.numerator
        s00, s01, s11 = self.squares
        top = np.abs(a0 - r * a1)
        bottom = np.sqrt(np.maximum(s00 - 2 * r * s01 + r * r * s11, 0.0))
        # |t*| >= |t|, without dividing (a draw with no variance has t* = +-inf)
        return float(np.mean((top >= t * bottom * (1 - 1e-12)) | self.reproduces))


def wild_cluster_bootstrap(
    panel: Panel, since: FloatArray, draws: int, seed: int | None, std_error: float
) -> BootstrapResult:
    """WCR bootstrap of the treated x post coefficient by unit (see the module docstring);
    `std_error` (the fit's cluster-robust one) sizes the first steps of the interval search."""
    statistic, used, enumerated = _statistic(panel, since, draws, np.random.default_rng(seed))
    low = _bound(statistic, -1.0, std_error)
    high = _bound(statistic, 1.0, std_error)
    return BootstrapResult(statistic.p_value(0.0), low, high, used, enumerated)


def _statistic(
    panel: Panel, since: FloatArray, draws: int, rng: np.random.Generator
) -> tuple[_Statistic, int, bool]:
    cells = Cells.of(panel)
    w, unit = cells.weight, cells.unit
    units = panel.n.shape[0]
    treated = cells.treated(since, panel.years)
    tilde = cells.residualise(treated)  # M_F D
    size = float(np.sum(w * tilde * tilde))  # S = D~'W D~
    u0 = cells.residualise(cells.mean)  # M_F y
    estimate = float(np.sum(w * tilde * u0) / size)
    residual = u0 - estimate * tilde  # M_X y
    scores = np.bincount(unit, weights=w * tilde * residual, minlength=units)
    scale = size / float(np.sqrt(np.sum(scores**2)))
    member = np.zeros((len(w), units))
    member[np.arange(len(w)), unit] = 1.0

    def k_matrix(values: FloatArray) -> FloatArray:
        """K[g, h]: unit g's score of the residuals M_X (values in unit h only)."""
        spread = member * values[:, None]
        projected = cells.residualise(spread)
        projected -= np.outer(tilde, (w * tilde) @ projected) / size  # M_X = M_F - D~ part
        return np.asarray(member.T @ ((w * tilde)[:, None] * projected), dtype=np.float64)

    k0, k1 = k_matrix(u0), k_matrix(tilde)
    a0 = np.bincount(unit, weights=w * tilde * u0, minlength=units)
    a1 = np.bincount(unit, weights=w * tilde * tilde, minlength=units)
    weights, enumerated = rademacher(units, draws, rng)
    chunks = []
    for start in range(0, weights.shape[1], CHUNK):
        v = weights[:, start : start + CHUNK]
        k0v, k1v = k0 @ v, k1 @ v
        sums = (np.sum(k0v * k0v, 0), np.sum(k0v * k1v, 0), np.sum(k1v * k1v, 0))
        chunks.append(np.vstack([a0 @ v, a1 @ v, *sums]))
    a0v, a1v, s00, s01, s11 = np.hstack(chunks)
    reproduces = np.all(weights == weights[:1], axis=0)
    statistic = _Statistic(estimate, scale, (a0v, a1v), (s00, s01, s11), reproduces)
    return statistic, weights.shape[1], enumerated


def _bound(statistic: _Statistic, direction: float, std_error: float) -> float:
    """The end of the interval on one side: the r where p(r) falls to ALPHA (inf when it never
    does within 2^BRACKET_STEPS standard errors)."""
    inside = statistic.estimate
    step = std_error if np.isfinite(std_error) and std_error > 0 else 1.0
    for k in range(BRACKET_STEPS):
        outside = statistic.estimate + direction * step * 2.0**k
        if statistic.p_value(outside) < ALPHA:
            break
        inside = outside
    else:
        return direction * np.inf
    for _ in range(BISECTIONS):
        middle = (inside + outside) / 2
        if statistic.p_value(middle) < ALPHA:
            outside = middle
        else:
            inside = middle
    return (inside + outside) / 2
