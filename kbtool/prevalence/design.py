"""Means and proportions of domains of a survey sample, with Taylor-linearised variances, and
the logit intervals of a proportion (of such a sample, or of a simple random sample).

The formulas of the R `survey` package, as WHO's `anthro_prevalence` calls it: a design of
primary sampling units (PSUs) in strata with sampling weights, sampled with replacement
(svydesign(ids, strata, weights)); each group is a domain of the whole design, so a PSU without
children of the group still counts, with a total of zero. The variance of a domain mean is that
of the total of its linearised values u = w (x - mean) / sum(w) over the domain's rows:
n_h / (n_h - 1) * sum over the stratum's n_h PSUs of (PSU total - stratum mean)^2, summed over
strata; a stratum with one PSU contributes its total squared (survey.lonely.psu = "adjust",
which centres it on the mean of a linearised variable: 0). Degrees of freedom are those of the
whole design: PSUs minus strata. A PSU total needs only the domain's sums of w x and w in the
PSU, so everything past two np.bincount calls is on (domain, PSU) cells, not rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

# scipy.special, not scipy.stats: the same Student quantile (stats.t.ppf calls special.stdtrit)
# without scipy.stats' import time on every run
from scipy import special

from kbtool.arrays import FloatArray, IntArray

# R `anthro` prevalence_significance_level = 0.05: 95% intervals.
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class Design:
    """The design of rows, each in one sample (a year: a design of its own), by row, PSU and
    stratum codes; `simple`: every row its own PSU, one stratum, no weights."""

    sample: IntArray
    weight: FloatArray
    psu: IntArray
    psu_stratum: IntArray
    stratum_sample: IntArray
    simple: bool = False

    @classmethod
    def of(
        cls,
        sample: IntArray,
        weight: FloatArray,
        stratum: IntArray,
        psu: IntArray | None,
        simple: bool = False,
    ) -> Design:
        """A design from row codes; `stratum` and `psu` need not be compact, and a missing
        `psu` makes every row a PSU of its own."""
        stratum, strata = pd.factorize(stratum)
        stratum_sample = np.zeros(len(strata), dtype=np.int64)
        stratum_sample[stratum] = sample
        if psu is None:
            return cls(sample, weight, np.arange(len(sample)), stratum, stratum_sample, simple)
        psu, units = pd.factorize(psu)
        psu_stratum = np.zeros(len(units), dtype=np.int64)
        psu_stratum[psu] = stratum
        return cls(sample, weight, psu, psu_stratum, stratum_sample, simple)

    def degrees_of_freedom(self, samples: int) -> FloatArray:
        """PSUs minus strata, per sample."""
        psus = np.bincount(self.stratum_sample[self.psu_stratum], minlength=samples)
        strata = np.bincount(self.stratum_sample, minlength=samples)
        return (psus - strata).astype(np.float64)


def weighted_mean(
    values: FloatArray, domain: IntArray, domains: int, weight: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The weighted mean of `values` per domain (NaN values are in none), with the rows' w x
    and w and the domains' sum of w that its variance needs."""
    inside = ~np.isnan(values)
    w = np.where(inside, weight, 0.0)
    wx = w * np.where(inside, values, 0.0)
    total_w = total(domain, w, domains)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total(domain, wx, domains) / total_w
    return mean, wx, w, total_w


def domain_mean(
    values: FloatArray, domain: IntArray, domains: int, design: Design
) -> tuple[FloatArray, FloatArray]:
    """The weighted mean of `values` in each domain (NaN values are in none) and its variance.
    `domain` codes (0 .. domains-1) must lie within one sample each."""
    mean, wx, w, total_w = weighted_mean(values, domain, domains, design.weight)
    units = len(design.psu_stratum)
    cell, (sum_wx, sum_w) = _sums(domain * units + design.psu, domains * units, wx, w)
    cell_domain, cell_psu = cell // units, cell % units
    with np.errstate(invalid="ignore", divide="ignore"):
        totals = (sum_wx - mean[cell_domain] * sum_w) / total_w[cell_domain]
    return mean, _variance(totals, cell_domain, cell_psu, domains, design)


def _variance(
    totals: FloatArray, domain: IntArray, psu: IntArray, domains: int, design: Design
) -> FloatArray:
    """Var of each domain's total from its PSU totals (see the module docstring)."""
    strata = len(design.stratum_sample)
    stratum = design.psu_stratum[psu]
    cell, (sum1, sum2) = _sums(domain * strata + stratum, domains * strata, totals, totals**2)
    n_h = np.bincount(design.psu_stratum, minlength=strata).astype(np.float64)[cell % strata]
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = n_h / (n_h - 1) * (sum2 - sum1 * sum1 / n_h)
    by_stratum = np.where(n_h > 1, centred, sum2)  # a lonely PSU: its total squared ("adjust")
    return total(cell // strata, by_stratum, domains)


def _sums(key: IntArray, size: int, *values: FloatArray) -> tuple[IntArray, list[FloatArray]]:
    """The keys in use and the sums of each of `values` per key: a dense np.bincount when the
    key range is small, else over the factorised keys."""
    if size <= max(4 * key.size, 1 << 20):
        return np.arange(size, dtype=np.int64), [total(key, v, size) for v in values]
    codes, used = pd.factorize(key)
    return np.asarray(used, dtype=np.int64), [total(codes, v, len(used)) for v in values]


def total(key: npt.NDArray[np.integer], values: FloatArray, size: int) -> FloatArray:
    """The sum of `values` per key 0 .. size-1."""
    return np.asarray(np.bincount(key, weights=values, minlength=size), dtype=np.float64)


def logit_interval(
    p: FloatArray, variance: FloatArray, df: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """survey's svyciprop(method = "logit"): expit(logit(p) -/+ t_df * se / (p (1 - p))); 0
    gives [0, 0], 1 [1, 1] (WHO's code also gives 0.01 [1, 1], comparing a percentage with 1)."""
    safe = _interior(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        se_logit = np.sqrt(variance) / (safe * (1 - safe))
    return _logit_bounds(p, se_logit, df)


def prevalence_ci(
    cases: npt.ArrayLike, n: npt.ArrayLike, sample_size: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Prevalence and its 95% interval in percent for `cases` of `n` children, a domain of a
    simple random sample of `sample_size` (N) children, as R/prevalence-simple.R writes it:
    plogis(logit(r) -/+ t * sqrt(N/(N-1) / (n r (1-r)))), t on N - 1 degrees of freedom;
    r = 0 gives [0, 0], r = 1 [100, 100], n = 0 NaN throughout."""
    k, m, big_n = (np.asarray(a, dtype=np.float64) for a in (cases, n, sample_size))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = k / m
        safe = _interior(r)
        se_logit = np.sqrt(big_n / (big_n - 1) * (1 / (m * safe * (1 - safe))))
    low, high = _logit_bounds(r, se_logit, big_n - 1)
    return r * 100, low * 100, high * 100


def _interior(p: FloatArray) -> FloatArray:
    """p where 0 < p < 1, else 0.5: what a logit and its standard error are computed of."""
    return np.where((p > 0) & (p < 1), p, 0.5)


def t_quantile(df: npt.ArrayLike) -> FloatArray:
    """Student's t quantile of a two-sided CONFIDENCE_LEVEL interval on `df` degrees of freedom
    (NaN where df < 1)."""
    return np.asarray(special.stdtrit(df, 1 - (1 - CONFIDENCE_LEVEL) / 2))


def t_p_value(t: npt.ArrayLike, df: npt.ArrayLike) -> FloatArray:
    """Two-sided p-value of Student's t statistic `t` on `df` degrees of freedom:
    2 x stats.t.sf(|t|, df)."""
    return np.asarray(2.0 * special.stdtr(df, -np.abs(t)))


def _logit_bounds(
    p: FloatArray, se_logit: FloatArray, df: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """expit(logit(p) -/+ t_df * se_logit), the one logit interval of the simple and the
    clustered design; p of 0, 1 or NaN is its own bounds."""
    inner = (p > 0) & (p < 1)
    safe = _interior(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = t_quantile(df)
        centre = np.log(safe / (1 - safe))
        low = special.expit(centre - t * se_logit)
        high = special.expit(centre + t * se_logit)
    return np.where(inner, low, p), np.where(inner, high, p)
