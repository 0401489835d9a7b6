"""r_round must round like R >= 4.0.0's round(), which WHO Anthro's classification relies on."""

from __future__ import annotations

import math

import numpy as np

from kbtool.growth.rounding import r_round


def test_r_documented_cases() -> None:
    """R 4.0.0 NEWS / ?round: round(0.15, 1) is 0.1 and round(2.5) is 2 (ties to even)."""
    assert r_round([0.15], 1)[0] == 0.1
    assert r_round([2.5, 3.5, -2.5, 0.5], 0).tolist() == [2.0, 4.0, -2.0, 0.0]


def test_nearest_candidate_not_scaled_value() -> None:
    """1.115 is stored as 1.11499999999999999112; R gives 1.11 where x*100 rounding gives 1.12."""
    assert r_round([1.115], 2)[0] == 1.11
    assert np.round(1.115 * 100) / 100 == 1.12  # the pitfall this function exists to avoid


def test_matches_decimal_rounding_away_from_ties() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0, 3, 5000)
    expected = [round(v, 2) for v in x]  # Python's correctly rounded decimal rounding
    assert r_round(x, 2).tolist() == expected


def test_nan_and_sign() -> None:
    out = r_round([math.nan, -1.234, 1.236], 2)
    assert math.isnan(out[0])
    assert out[1:].tolist() == [-1.23, 1.24]
