"""The quality report's tests and estimators on counts and sums per group: scipy.special, the
functions scipy.stats' chi2, beta and binom evaluate, without scipy.stats' ~1 s import."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from kbtool.arrays import FloatArray, IntArray


def digit_preference_score(counts: npt.ArrayLike) -> FloatArray:
    """SMART's digit preference score of the counts of each final digit (last axis): 100 x
    sqrt(chi2 / (n (k - 1))), Pearson's chi2 against equal frequencies of k digits (WHO MONICA,
    Kuulasmaa et al. 1998; nipnTK digitPreference); NaN where n = 0."""
    table = np.asarray(counts, dtype=np.float64)
    k = table.shape[-1]
    n = table.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n / k
        chi2 = ((table - expected[..., None]) ** 2).sum(axis=-1) / expected
        return np.asarray(100.0 * np.sqrt(chi2 / (n * (k - 1))), dtype=np.float64)


def ratio_test(
    first: npt.ArrayLike, second: npt.ArrayLike, expected_ratio: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """first / second, and the p-value of Pearson's chi-square test against `expected_ratio`
    (scipy.stats.chisquare, R's prop.test(correct = FALSE)): SMART's sex and age ratio tests.
    NaN where both counts are 0."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    expected = np.asarray(expected_ratio, dtype=np.float64)
    n = a + b
    share = expected / (1.0 + expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_a = n * share
        expected_b = n * (1.0 - share)
        chi2 = (a - expected_a) ** 2 / expected_a + (b - expected_b) ** 2 / expected_b
        p = np.where(n > 0, special.chdtrc(1, chi2), np.nan)  # stats.chi2.sf(chi2, 1)
        ratio = np.where(n > 0, a / b, np.nan)
    return np.asarray(ratio, dtype=np.float64), np.asarray(p, dtype=np.float64)


def excess_test(observed: npt.ArrayLike, n: npt.ArrayLike, expected_share: float) -> FloatArray:
    """One-sided binomial p-value of observing at least `observed` of `n` at `expected_share`:
    scipy.stats.binomtest(..., alternative="greater").pvalue for whole arrays; NaN where n = 0."""
    k = np.asarray(observed, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    p = binomial_at_least(k, np.maximum(total, 1), expected_share)
    return np.asarray(np.where(total > 0, p, np.nan), dtype=np.float64)


def binomial_at_least(k: npt.ArrayLike, n: npt.ArrayLike, share: float) -> FloatArray:
    """P(X >= k) for X ~ Binomial(n, share), scipy.stats.binom.sf(k - 1, n, share) to the last
    bit: the incomplete beta I_share(k, n - k + 1), as Boost evaluates it; NaN where k or n is."""
    hits = np.asarray(k, dtype=np.float64)
    trials = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        tail = special.betainc(np.maximum(hits, 1.0), np.maximum(trials - hits + 1.0, 1.0), share)
    tail = np.where(hits <= 0, 1.0, np.where(hits > trials, 0.0, tail))
    return np.asarray(np.where(np.isnan(hits) | np.isnan(trials), np.nan, tail), dtype=np.float64)


def power_sums(codes: IntArray, x: FloatArray, size: int, shift: float) -> FloatArray:
    """Per code: n and the sums of (x - shift)^1..4, shape (size, 5). Sums add up over codes,
    so the whole area's moments come from its groups' without reading the values again."""
    sums = np.empty((size, 5))
    sums[:, 0] = np.bincount(codes, minlength=size)
    deviation = x - shift
    power = deviation.copy()
    for k in range(1, 5):
        sums[:, k] = np.bincount(codes, weights=power, minlength=size)
        if k < 4:
            power *= deviation
    return sums


def moments(sums: FloatArray, shift: float) -> dict[str, FloatArray]:
    """n, mean, SD (divisor n - 1, R's sd()), skewness and excess kurtosis from power sums about
    `shift` (the overall mean, which keeps them well conditioned): scipy.stats.skew and kurtosis
    with bias=True, as nipnTK's skewKurt, which mwana's SMART plausibility check uses."""
    n = sums[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        r1, r2, r3, r4 = (sums[:, k] / n for k in range(1, 5))
        m2 = r2 - r1**2
        m3 = r3 - 3 * r1 * r2 + 2 * r1**3
        m4 = r4 - 4 * r1 * r3 + 6 * r1**2 * r2 - 3 * r1**4
        spread = np.where(m2 > 1e-12 * np.maximum(r2, 1.0), m2, np.nan)  # identical values: 0
        sd = np.where(n > 1, np.sqrt(np.maximum(m2, 0.0) * n / (n - 1)), np.nan)
        skew = np.where(n > 2, m3 / spread**1.5, np.nan)
        kurtosis = np.where(n > 3, m4 / spread**2 - 3.0, np.nan)
    return {
        "n_haz": n,
        "mean_haz": r1 + shift,
        "sd_haz": sd,
        "skew_haz": skew,
        "kurtosis_haz": kurtosis,
    }


def share_lower_bound(k: FloatArray, n: FloatArray, confidence: float) -> FloatArray:
    """One-sided lower confidence bound of a share k / n (Clopper-Pearson), for k >= 1:
    scipy.stats.beta.ppf(1 - confidence, k, n - k + 1)."""
    return np.asarray(special.betaincinv(k, n - k + 1.0, 1.0 - confidence))


def dps_p_value(dps: FloatArray, n: FloatArray, digits: int) -> FloatArray:
    """The p-value of the chi-square test behind a digit preference score of n values with
    `digits` possible digits (digit_preference_score solved for chi2)."""
    return np.asarray(special.chdtrc(digits - 1, (dps / 100.0) ** 2 * n * (digits - 1)))
