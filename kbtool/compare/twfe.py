"""The two-way fixed-effects difference in differences: outcome on unit and year fixed effects
and treated x post, by OLS on child-year observations.

The regressors are constant within a unit and year, so the OLS on child-years equals the
weighted OLS on the unit-year means with the children counted as weights (the normal equations
only see the sums per cell). `twfe_fit` runs that regression with statsmodels; the randomization
test re-estimates it for thousands of reassignments at once with the Frisch-Waugh-Lovell form
in `twfe_coefficients`, on the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kbtool.arrays import FloatArray, IntArray
from kbtool.compare.observations import Panel

# draws handled at once in the vectorised re-estimation: (draws, units, years) arrays stay small
CHUNK = 1024


@dataclass(frozen=True)
class Cells:
    """The unit-year cells with children, as the regressions see them: weight (children), mean
    outcome, unit and year codes, the fixed-effect design F (unit dummies, year dummies but the
    first) and the pseudo-inverse of F'WF."""

    weight: FloatArray
    mean: FloatArray
    unit: IntArray
    year: IntArray
    fixed: FloatArray
    inverse: FloatArray

    @classmethod
    def of(cls, panel: Panel) -> Cells:
        unit, year = np.nonzero(panel.n > 0)
        units, years = panel.n.shape
        fixed = np.zeros((len(unit), units + years - 1))
        fixed[np.arange(len(unit)), unit] = 1.0
        later = year > 0
        fixed[np.flatnonzero(later), units + year[later] - 1] = 1.0
        weight = panel.n[unit, year]
        inverse = np.asarray(np.linalg.pinv(fixed.T @ (fixed * weight[:, None])), np.float64)
        return cls(weight, panel.mean()[unit, year], unit, year, fixed, inverse)

    def treated(self, since: FloatArray, years: list[int]) -> FloatArray:
        """treated x post of each cell: its year is on or after its unit's start year."""
        return (np.asarray(years, dtype=np.float64)[self.year] >= since[self.unit]).astype(float)

    def residualise(self, values: FloatArray) -> FloatArray:
        """`values` (cells, or cells x k) less their weighted projection on the fixed effects."""
        w = self.weight
        coef = self.inverse @ (self.fixed.T @ (w[:, None] * values.reshape(len(w), -1)))
        return (values.reshape(len(w), -1) - self.fixed @ coef).reshape(values.shape)


@dataclass(frozen=True)
class TwfeFit:
    """The treated x post coefficient and its cluster-robust (CR1, by unit) standard error."""

    estimate: float
    std_error: float


def twfe_fit(panel: Panel, since: FloatArray) -> TwfeFit:
    """OLS of the outcome on unit and year fixed effects and treated x post (statsmodels WLS on
    the unit-year means, weighted by children: the child-level OLS, see the module docstring)."""
    from statsmodels.regression.linear_model import WLS

    cells = Cells.of(panel)
    design = np.column_stack([cells.treated(since, panel.years), cells.fixed])
    # the unit dummies span the constant: telling statsmodels so spares it a rank check
    fit = WLS(cells.mean, design, weights=cells.weight, hasconst=True).fit(
        cov_type="cluster", cov_kwds={"groups": cells.unit}
    )
    # with very few units the cluster-robust variance can round below 0: NaN, not a warning
    # on the user's terminal (the bootstrap then sizes its search without it)
    with np.errstate(invalid="ignore"):
        std_error = float(fit.bse[0])
    return TwfeFit(float(fit.params[0]), std_error)


def twfe_coefficients(panel: Panel, since: FloatArray) -> FloatArray:
    """The treated x post coefficient for each row of `since` (draws x units of start years),
    all at once: by Frisch-Waugh-Lovell, beta = D'W y~ / (D'W D - f' (F'WF)^+ f) with y~ the
    outcome less its fixed effects and f = F'W D (a unit's and a year's treated children)."""
    cells = Cells.of(panel)
    units, years = panel.n.shape
    residual = np.zeros((units, years))
    residual[cells.unit, cells.year] = cells.residualise(cells.mean)
    year_values = np.asarray(panel.years, dtype=np.float64)
    estimates = np.empty(len(since))
    for start in range(0, len(since), CHUNK):
        post = year_values[None, None, :] >= since[start : start + CHUNK, :, None]
        treated = post * panel.n  # D times W per cell
        numerator = np.einsum("but,ut->b", treated, residual)
        f = np.concatenate([treated.sum(axis=2), treated.sum(axis=1)[:, 1:]], axis=1)
        denominator = treated.sum(axis=(1, 2)) - np.einsum("bi,ij,bj->b", f, cells.inverse, f)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = numerator / denominator
        scale = np.maximum(treated.sum(axis=(1, 2)), 1.0)
        estimates[start : start + CHUNK] = np.where(denominator > 1e-9 * scale, ratio, np.nan)
    return estimates
