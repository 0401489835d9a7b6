"""Permenkes No. 2 Tahun 2020 categories at and around every cut-off."""

from __future__ import annotations

import math

import pytest

from kbtool.growth.categories import classify

# (indicator, z, English label, Indonesian label), cut-offs from Permenkes 2/2020 Tabel 1:
# "< -3 SD", "-3 SD sd < -2 SD", "-2 SD sd +3 SD" (inclusive), "> +3 SD" and so on
CASES = [
    ("haz", -3.01, "severely stunted", "sangat pendek"),
    ("haz", -3.0, "stunted", "pendek"),
    ("haz", -2.01, "stunted", "pendek"),
    ("haz", -2.0, "normal", "normal"),
    ("haz", 3.0, "normal", "normal"),
    ("haz", 3.01, "tall", "tinggi"),
    ("waz", -3.01, "severely underweight", "berat badan sangat kurang"),
    ("waz", -2.5, "underweight", "berat badan kurang"),
    ("waz", 1.0, "normal", "berat badan normal"),
    ("waz", 1.01, "risk of overweight", "risiko berat badan lebih"),
    ("whz", -3.01, "severely wasted", "gizi buruk"),
    ("whz", -2.01, "wasted", "gizi kurang"),
    ("whz", 1.0, "normal", "gizi baik"),
    ("whz", 1.01, "possible risk of overweight", "berisiko gizi lebih"),
    ("whz", 2.0, "possible risk of overweight", "berisiko gizi lebih"),
    ("whz", 2.01, "overweight", "gizi lebih"),
    ("whz", 3.0, "overweight", "gizi lebih"),
    ("whz", 3.01, "obese", "obesitas"),
    ("bmiz", -2.0, "normal", "gizi baik"),
    ("bmiz", 3.5, "obese", "obesitas"),
]


@pytest.mark.parametrize(("indicator", "z", "english", "indonesian"), CASES)
def test_cut_offs(indicator: str, z: float, english: str, indonesian: str) -> None:
    assert list(classify([z], indicator)) == [english]
    assert list(classify([z], indicator, lang="id")) == [indonesian]


def test_missing_and_flagged() -> None:
    out = list(classify([math.nan, -7.0, -7.0], "haz", flagged=[False, True, False]))
    assert pd_isna(out[0])
    assert out[1:] == ["implausible", "severely stunted"]


def pd_isna(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def test_unknown_language() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        classify([0.0], "haz", lang="fr")
