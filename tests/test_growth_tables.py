"""The shipped WHO tables: checksums, shape, and values checked against WHO's published tables."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from kbtool.growth.tables import TABLE_NAMES, load_table, table_sha256


def manifest() -> dict[str, str]:
    text = (files("kbtool.growth") / "data" / "SHA256SUMS").read_text()
    return {name: digest for digest, name in (line.split() for line in text.splitlines())}


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_checksum_matches_manifest(name: str) -> None:
    assert table_sha256(name) == manifest()[f"{name}.csv"]


def test_manifest_covers_every_table() -> None:
    assert sorted(manifest()) == sorted(f"{name}.csv" for name in TABLE_NAMES)


@pytest.mark.parametrize(
    ("name", "first", "count"),
    [("lhfa", 0, 1827), ("wfa", 0, 1827), ("bmifa", 0, 1827), ("wfl", 450, 651), ("wfh", 650, 551)],
)
def test_table_extent(name: str, first: int, count: int) -> None:
    """Daily tables cover days 0-1826; WFL 45-110 cm and WFH 65-120 cm by 0.1 cm (WHO 2006)."""
    table = load_table(name)
    assert table.first_index == first
    assert table.size == count
    for sex in (1, 2):
        assert not np.isnan(table.m[sex]).any()
    assert np.isnan(table.m[0]).all()


# (table, sex, index, L, M, S) read off WHO's published expanded tables
# (lhfa_boys_z_exp.txt, wfa_girls_z_exp.txt, wfl_boys_z_exp.txt, wfh_girls_z_exp.txt,
# bmi_boys_z_exp.txt ...), WHO Child Growth Standards (2006)
WHO_VALUES = [
    ("lhfa", 1, 0, 1.0, 49.8842, 0.03795),
    ("lhfa", 2, 0, 1.0, 49.1477, 0.0379),
    ("lhfa", 1, 1826, 1.0, 109.9593, 0.04214),
    ("wfa", 1, 0, 0.3487, 3.3464, 0.14602),
    ("wfa", 2, 0, 0.3809, 3.2322, 0.14171),
    ("wfa", 2, 1826, -0.3518, 18.2179, 0.14821),
    ("wfl", 1, 450, -0.3521, 2.441, 0.09182),
    ("wfh", 2, 650, -0.3833, 7.2402, 0.09113),
    ("bmifa", 1, 0, -0.3053, 13.4069, 0.0956),
]


@pytest.mark.parametrize(("name", "sex", "index", "l", "m", "s"), WHO_VALUES)
def test_values_match_who(name: str, sex: int, index: int, l: float, m: float, s: float) -> None:
    table = load_table(name)
    column = index - table.first_index
    assert (table.l[sex, column], table.m[sex, column], table.s[sex, column]) == (l, m, s)


def test_tables_load_once() -> None:
    assert load_table("wfa") is load_table("wfa")


def test_unknown_table() -> None:
    with pytest.raises(ValueError, match="unknown WHO table"):
        load_table("hcfa")


def test_length_for_age_l_is_one() -> None:
    """HAZ is computed as (y/M - 1)/S (kbtool.growth.zscores): the LMS z with L = 1, which is
    WHO's length/height-for-age L on every day (WHO 2006: no skewness in length)."""
    lhfa = load_table("lhfa")
    assert (lhfa.l[1:] == 1.0).all()
