"""Kelurahan and kecamatan names: spelling variants, user aliases, unknown names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kbtool.errors import StoreError
from kbtool.places import (
    KOTA_METRO,
    builtin_aliases,
    facility_name,
    load_aliases,
    normalise_place_names,
    normalise_places,
    place_key,
)


def test_kota_metro_has_22_kelurahan_with_distinct_keys() -> None:
    names = [k for kelurahan in KOTA_METRO.values() for k in kelurahan]
    assert len(KOTA_METRO) == 5 and len(names) == 22
    assert len({place_key(n, "kelurahan") for n in names}) == 22


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Iringmulyo", "Iringmulyo"),
        ("Iring Mulyo", "Iringmulyo"),
        ("IRING MULYO", "Iringmulyo"),
        ("Iringmuljo", "Iringmulyo"),  # pre-1972 spelling
        ("Ganjaragung", "Ganjar Agung"),
        ("Tejoagung", "Tejo Agung"),
        ("KEL. METRO", "Metro"),
        ("Kelurahan Yosodadi", "Yosodadi"),
        ("kel.yosodadi", "Yosodadi"),
        ("Desa Purwoasri", "Purwoasri"),
        ("Purwosari", "Purwosari"),  # not to be confused with Purwoasri
        ("Sumbersari", "Sumbersari Bantul"),
        ("Soember Sari Bantul", "Sumbersari Bantul"),
        ("  hadimulyo   barat ", "Hadimulyo Barat"),
    ],
)
def test_kelurahan_variants(written: str, canonical: str) -> None:
    result = normalise_place_names(pd.Series([written]), "kelurahan", builtin_aliases())
    assert result.values.iloc[0] == canonical
    assert not result.unknown


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Kec. Metro Pusat", "Metro Pusat"),
        ("METRO  TIMUR", "Metro Timur"),
        ("metro-selatan", "Metro Selatan"),
    ],
)
def test_kecamatan_variants(written: str, canonical: str) -> None:
    result = normalise_place_names(pd.Series([written]), "kecamatan", builtin_aliases())
    assert result.values.iloc[0] == canonical


def test_unknown_names_pass_through_title_cased_and_reported() -> None:
    values = pd.Series(["KEL. SUKARAME  ii", "sukarame II", "Metro", None, "  "])
    result = normalise_place_names(values, "kelurahan", builtin_aliases())
    assert result.values.tolist()[:3] == ["Sukarame II", "Sukarame II", "Metro"]
    assert result.values.isna().tolist()[3:] == [True, True]
    assert result.unknown == frozenset({"Sukarame II"})


def test_missing_kecamatan_is_filled_from_a_known_kelurahan() -> None:
    places = normalise_places(
        pd.Series(["Iring Mulyo", "Sukarame", "Metro"]),
        pd.Series([None, None, "Kec Metro Pusat"], dtype=object),
        builtin_aliases(),
    )
    assert places.kelurahan.tolist() == ["Iringmulyo", "Sukarame", "Metro"]
    assert places.kecamatan.iloc[0] == "Metro Timur"
    assert pd.isna(places.kecamatan.iloc[1])
    assert places.kecamatan.iloc[2] == "Metro Pusat"
    assert places.unknown_kelurahan == frozenset({"Sukarame"})


def test_user_aliases_extend_and_override(tmp_path: Path) -> None:
    path = tmp_path / "aliases.csv"
    path.write_text(
        "kind,alias,name\n"
        "kelurahan,Sukarame Dua,Sukarame II\n"
        "kelurahan,Metro,Metro Kota\n"
        "kecamatan,Sukarame,Kec Sukarame Bandar Lampung\n"
        "\n",
        encoding="utf-8",
    )
    table = load_aliases(path)
    kelurahan = normalise_place_names(pd.Series(["SUKARAME-DUA", "Kel. Metro"]), "kelurahan", table)
    assert kelurahan.values.tolist() == ["Sukarame II", "Metro Kota"]
    assert not kelurahan.unknown
    kecamatan = normalise_place_names(pd.Series(["kecamatan sukarame"]), "kecamatan", table)
    assert kecamatan.values.tolist() == ["Kec Sukarame Bandar Lampung"]


def test_no_alias_file_is_fine_a_bad_one_is_not(tmp_path: Path) -> None:
    assert load_aliases(tmp_path / "missing.csv").names == builtin_aliases().names
    bad = tmp_path / "aliases.csv"
    bad.write_text("alias,name\nx,y\n", encoding="utf-8")
    with pytest.raises(StoreError, match="kind,alias,name"):
        load_aliases(bad)
    bad.write_text("kind,alias,name\ndesa,x,y\n", encoding="utf-8")
    with pytest.raises(StoreError, match="line 2"):
        load_aliases(bad)
    # the line a person finds in an editor, blank lines counted
    bad.write_text("kind,alias,name\n\nkelurahan,Metro,Metro Kota\n\ndesa,x,y\n", encoding="utf-8")
    with pytest.raises(StoreError, match="line 5:"):
        load_aliases(bad)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("POSYANDU BOUGENVILLE 3", "Posyandu Bougenville 3"),
        ("posyandu  mawar rw 05", "Posyandu Mawar RW 05"),
        ("Puskesmas Metro II", "Puskesmas Metro II"),
        ("UPTD PUSKESMAS YOSOMULYO", "UPTD Puskesmas Yosomulyo"),
        ("Posyandu Melati-1", "Posyandu Melati-1"),
        ("   ", None),
    ],
)
def test_facility_names_get_one_spelling(written: str, shown: str | None) -> None:
    assert facility_name(written) == shown
