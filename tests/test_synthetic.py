"""The synthetic Kota Metro register: determinism, layout, geography, realism, e-PPGBM, defects."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from kbtool.columns import CANONICAL_COLUMNS
from kbtool.growth.constants import DAYS_PER_MONTH, LENGTH_BEFORE_DAYS, MAX_AGE_MONTHS
from kbtool.growth.zscores import ZScoreArrays, compute_zscore_arrays
from tests.synthetic import (
    DEFECT_KINDS,
    EPPGBM_COLUMNS,
    KELURAHAN,
    KOTA_METRO,
    child_numbers,
    generate_register,
    inject_defects,
    measure_codes,
    to_eppgbm,
    write_canonical_csv,
    write_eppgbm_csv,
    write_eppgbm_xlsx,
)

SAMPLES = Path(__file__).parent.parent / "data" / "samples"

# the 22 kelurahan of Kota Metro by kecamatan, as the brief (issue 2, section 6) lists them
EXPECTED_GEOGRAPHY = {
    "Metro Pusat": {"Metro", "Imopuro", "Hadimulyo Barat", "Hadimulyo Timur", "Yosomulyo"},
    "Metro Utara": {"Banjarsari", "Purwosari", "Purwoasri", "Karangrejo"},
    "Metro Barat": {"Mulyojati", "Mulyosari", "Ganjar Agung", "Ganjar Asri"},
    "Metro Timur": {"Iringmulyo", "Yosodadi", "Yosorejo", "Tejo Agung", "Tejosari"},
    "Metro Selatan": {"Rejomulyo", "Margorejo", "Margodadi", "Sumbersari Bantul"},
}


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    """A register large enough for prevalence by kelurahan (~50,000 rows, well under a second)."""
    return generate_register(4000)


@pytest.fixture(scope="module")
def zscores(register: pd.DataFrame) -> ZScoreArrays:
    return compute_zscore_arrays(
        sex=register["sex"].to_numpy(),
        age_days=age_days(register),
        weight_kg=register["weight_kg"].to_numpy(),
        lenhei_cm=register["height_cm"].to_numpy(),
        measure=measure_codes(register["measure"]),
        oedema=register["oedema"].to_numpy(),
    )


def age_days(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    return np.asarray((frame["visit_date"] - frame["birth_date"]).dt.days, dtype=np.float64)


def comma_numbers(column: pd.Series) -> npt.NDArray[np.float64]:
    """Decimal-comma text ("8,3") as numbers, NaN where empty."""
    text = column.astype(str).str.replace(",", ".", regex=False)
    return np.asarray(pd.to_numeric(text.where(text != "")), dtype=np.float64)


def normalised(text: pd.Series) -> pd.Series:
    """Case and spacing folded, as the store's alias table compares place names."""
    return text.astype(str).str.lower().str.replace(r"[^a-z]", "", regex=True)


def load_generate_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("samples_generate", SAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_same_frame_and_bytes(tmp_path: Path) -> None:
    # small: xlsxwriter writes cell by cell
    first = generate_register(30, seed=7)
    second = generate_register(30, seed=7)
    pd.testing.assert_frame_equal(first, second)
    for name, writer in (
        ("canonical.csv", write_canonical_csv),
        ("eppgbm.csv", write_eppgbm_csv),
        ("eppgbm.xlsx", write_eppgbm_xlsx),
    ):
        writer(first, tmp_path / f"a_{name}")
        writer(second, tmp_path / f"b_{name}")
        assert (tmp_path / f"a_{name}").read_bytes() == (tmp_path / f"b_{name}").read_bytes()


def test_another_seed_another_register() -> None:
    first = generate_register(120, seed=7)
    other = generate_register(120, seed=8)
    assert not first["height_cm"].head(50).equals(other["height_cm"].head(50))


def test_generate_script_is_deterministic(tmp_path: Path) -> None:
    script = load_generate_script()
    for out in ("a", "b"):
        assert script.main(["--out-dir", str(tmp_path / out), "--children", "40"]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [
        "eppgbm_metro_2024.csv",
        "eppgbm_metro_2024.xlsx",
        "posyandu_metro_2022_2024.csv",
    ]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_bundled_samples_match_the_generator(tmp_path: Path) -> None:
    """The files in data/samples are what generate.py writes today (regenerate if this fails)."""
    script = load_generate_script()
    register = generate_register(script.DEFAULT_CHILDREN, years=script.DEFAULT_YEARS)
    write_canonical_csv(register, tmp_path / "canonical.csv")
    one_year = register[register["visit_date"].dt.year == script.EPPGBM_YEAR]
    write_eppgbm_csv(one_year, tmp_path / "eppgbm.csv", mistakes=script.EPPGBM_MISTAKES)
    bundled = SAMPLES / "posyandu_metro_2022_2024.csv"
    assert bundled.read_bytes() == (tmp_path / "canonical.csv").read_bytes()
    assert (SAMPLES / "eppgbm_metro_2024.csv").read_bytes() == (
        tmp_path / "eppgbm.csv"
    ).read_bytes()
    # small enough to keep in the repository (the brief asks for under ~5 MB each)
    for path in SAMPLES.iterdir():
        if path.suffix in (".csv", ".xlsx"):
            assert path.stat().st_size < 5_000_000, path.name


# --- layout ---------------------------------------------------------------------------------


def test_canonical_columns_and_dtypes(register: pd.DataFrame) -> None:
    assert tuple(register.columns) == tuple(c for c in CANONICAL_COLUMNS if c != "age_months")
    assert register["sex"].dtype == np.int8
    assert set(register["sex"].unique()) == {1, 2}
    assert pd.api.types.is_datetime64_any_dtype(register["birth_date"])
    assert pd.api.types.is_datetime64_any_dtype(register["visit_date"])
    assert register["weight_kg"].dtype == np.float64
    assert register["height_cm"].dtype == np.float64
    assert set(register["measure"].unique()) == {"l", "h"}
    assert register["oedema"].dtype == bool
    # weights and heights carry one decimal at most
    for column in ("weight_kg", "height_cm"):
        values = register[column].dropna().to_numpy()
        assert np.allclose(values * 10, np.round(values * 10))


def test_age_months_column_on_request() -> None:
    frame = generate_register(60, include_age_months=True)
    assert tuple(frame.columns) == CANONICAL_COLUMNS
    expected = age_days(frame) / DAYS_PER_MONTH
    # age_months is rounded to 2 decimals
    assert np.abs(frame["age_months"].to_numpy() - expected).max() <= 0.005 + 1e-9


def test_empty_register_keeps_its_columns() -> None:
    frame = generate_register(0)
    assert len(frame) == 0
    assert tuple(frame.columns) == tuple(c for c in CANONICAL_COLUMNS if c != "age_months")


def test_canonical_csv_round_trip(tmp_path: Path) -> None:
    frame = generate_register(150)
    path = tmp_path / "register.csv"
    write_canonical_csv(frame, path)
    back = pd.read_csv(path, dtype={"child_id": str}, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(frame.columns)
    assert back["child_id"].fillna("").tolist() == frame["child_id"].astype(str).tolist()
    assert pd.to_datetime(back["visit_date"]).tolist() == frame["visit_date"].tolist()
    np.testing.assert_array_equal(back["weight_kg"].to_numpy(), frame["weight_kg"].to_numpy())
    np.testing.assert_array_equal(back["height_cm"].to_numpy(), frame["height_cm"].to_numpy())
    assert (back["oedema"] == "yes").tolist() == frame["oedema"].tolist()


# --- geography ------------------------------------------------------------------------------


def test_kota_metro_geography() -> None:
    assert {kec: set(kels) for kec, kels in KOTA_METRO.items()} == EXPECTED_GEOGRAPHY
    assert len(KELURAHAN) == 22
    posyandu = [p for kel in KELURAHAN for p in kel.posyandu]
    assert len(posyandu) == len(set(posyandu))
    for kel in KELURAHAN:
        assert 3 <= len(kel.posyandu) <= 8
        assert kel.puskesmas.startswith("Puskesmas ")
        # hand-typed spellings differ only in case and spacing
        for spelling in kel.spellings:
            assert normalised(pd.Series([spelling]))[0] == normalised(pd.Series([kel.name]))[0]


def test_register_places_are_consistent(register: pd.DataFrame) -> None:
    assert set(register["kelurahan"].unique()) == set().union(*EXPECTED_GEOGRAPHY.values())
    assert set(register["kecamatan"].unique()) == set(EXPECTED_GEOGRAPHY)
    places = register[["posyandu", "kelurahan", "kecamatan", "puskesmas"]].drop_duplicates()
    by_name = {kel.name: kel for kel in KELURAHAN}
    for posyandu, kelurahan, kecamatan, puskesmas in places.itertuples(index=False):
        kel = by_name[kelurahan]
        assert posyandu in kel.posyandu
        assert (kecamatan, puskesmas) == (kel.kecamatan, kel.puskesmas)


# --- children and visits ---------------------------------------------------------------------


def test_ages_are_under_five_at_every_visit(register: pd.DataFrame) -> None:
    days = age_days(register)
    assert days.min() >= 0
    assert (days / DAYS_PER_MONTH).max() < MAX_AGE_MONTHS
    assert set(register["visit_date"].dt.year.unique()) == {2022, 2023, 2024}


def test_only_the_years_asked_for() -> None:
    frame = generate_register(200, years=(2021, 2023))
    assert set(frame["visit_date"].dt.year.unique()) == {2021, 2023}


def test_visits_are_monthly(register: pd.DataFrame) -> None:
    child = child_numbers(register)
    frame = register.assign(child=child).sort_values(["child", "visit_date"])
    same_child = frame["child"].to_numpy()[1:] == frame["child"].to_numpy()[:-1]
    gaps = np.diff(frame["visit_date"].to_numpy()).astype("timedelta64[D]").astype(int)[same_child]
    # one posyandu day a month, sometimes moved by up to 3 days; shorter gaps only where a
    # child moved to a posyandu meeting on another day
    assert gaps.min() >= 1
    assert (gaps < 20).mean() < 0.01
    assert 25 <= np.median(gaps) <= 35
    visits_per_child_year = frame.groupby(["child", frame["visit_date"].dt.year]).size()
    assert 5 <= visits_per_child_year.mean() <= 11


def test_nik_like_child_ids(register: pd.DataFrame) -> None:
    per_child = register.groupby(child_numbers(register)).first()
    ids = per_child["child_id"].astype(str)
    valid = ids.str.fullmatch(r"\d{16}")
    assert ids[valid].str.startswith("1872").all()
    # about 3% without NIK and about 1% mistyped (15 or 17 digits)
    assert 0.015 <= (ids == "").mean() <= 0.05
    assert 0.003 <= ids.str.fullmatch(r"\d{15}|\d{17}").mean() <= 0.02
    # a valid NIK carries the birth date as DDMMYY, with 40 added to the day for girls
    birth = per_child.loc[valid, "birth_date"]
    day = birth.dt.day + 40 * (per_child.loc[valid, "sex"] == 2)
    expected = (
        day.map("{:02d}".format)
        + birth.dt.month.map("{:02d}".format)
        + (birth.dt.year % 100).map("{:02d}".format)
    )
    assert (ids[valid].str[6:12] == expected).all()
    assert ids[valid].is_unique


def test_names_look_indonesian(register: pd.DataFrame) -> None:
    names = register["name"].astype(str)
    assert names.str.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)*").all()
    assert not names.str.fullmatch(r"(\w+) \1").any()


# --- growth realism -------------------------------------------------------------------------


def latest_haz_per_child_year(register: pd.DataFrame, zscores: ZScoreArrays) -> pd.DataFrame:
    """Each child's latest valid HAZ per year, the selection kbtool prevalence uses (issue 4)."""
    frame = pd.DataFrame(
        {
            "child": child_numbers(register),
            "year": register["visit_date"].dt.year,
            "visit_date": register["visit_date"],
            "kelurahan": register["kelurahan"].astype(str),
            "haz": zscores.haz,
            "flag": zscores.haz_flag,
        }
    )
    valid = frame[frame["haz"].notna() & ~frame["flag"]]
    return valid.sort_values("visit_date").groupby(["child", "year"]).tail(1)


def test_stunting_prevalence_is_realistic(register: pd.DataFrame, zscores: ZScoreArrays) -> None:
    """About 20-28% stunted overall, 12-35% across kelurahan, falling year on year (the brief)."""
    latest = latest_haz_per_child_year(register, zscores)
    stunted = latest["haz"] < -2
    assert 0.18 <= stunted.mean() <= 0.30
    by_kelurahan = stunted.groupby(latest["kelurahan"]).mean()
    assert by_kelurahan.min() < 0.18
    assert by_kelurahan.max() > 0.28
    by_year = stunted.groupby(latest["year"]).mean()
    assert by_year[2024] < by_year[2022]
    # HAZ spread as in survey data (SD about 1.0-1.3)
    assert 0.85 <= latest["haz"].std() <= 1.4


def test_weight_follows_height(register: pd.DataFrame, zscores: ZScoreArrays) -> None:
    clean = ~np.isnan(zscores.haz) & ~np.isnan(zscores.waz) & ~zscores.haz_flag & ~zscores.waz_flag
    # WAZ correlates with HAZ in real data (about 0.6-0.7)
    assert np.corrcoef(zscores.haz[clean], zscores.waz[clean])[0, 1] > 0.5
    whz = zscores.whz[~np.isnan(zscores.whz) & ~zscores.whz_flag]
    assert -0.8 <= whz.mean() <= 0.0
    assert 0.02 <= (whz < -2).mean() <= 0.12


def test_measure_mostly_follows_age(register: pd.DataFrame) -> None:
    days = age_days(register)
    standing = (register["measure"] == "h").to_numpy()
    infant = days < LENGTH_BEFORE_DAYS
    # about 5% the other way, never standing under 9 months
    assert 0.02 <= standing[infant].mean() <= 0.08
    assert 0.02 <= (~standing[~infant]).mean() <= 0.08
    assert not standing[days / DAYS_PER_MONTH < 9].any()


def test_heights_never_shrink_beyond_noise() -> None:
    """Length-equivalent heights of one child only fall by measurement noise between visits."""
    frame = generate_register(1500, implausible_share=0.0)
    result = compute_zscore_arrays(
        sex=frame["sex"].to_numpy(),
        age_days=age_days(frame),
        lenhei_cm=frame["height_cm"].to_numpy(),
        measure=measure_codes(frame["measure"]),
    )
    # the kernel's lenhei is in the position expected for age; lying is 0.7 cm longer
    length_equivalent = result.lenhei_cm + np.where(result.age_days >= LENGTH_BEFORE_DAYS, 0.7, 0)
    child = child_numbers(frame)
    order = np.lexsort((frame["visit_date"].to_numpy(), child))
    same_child = child[order][1:] == child[order][:-1]
    change = np.diff(length_equivalent[order])[same_child]
    change = change[~np.isnan(change)]
    # noise SD 0.4 cm per reading: a fall of 3 cm would be more than 5 SD of a difference
    assert change.min() > -3.0
    assert (change < -1.5).mean() < 0.002


def test_a_few_implausible_values(register: pd.DataFrame, zscores: ZScoreArrays) -> None:
    flagged = zscores.haz_flag & ~np.isnan(zscores.haz)
    assert 0.001 <= flagged.mean() <= 0.01
    assert 0.0 < register["oedema"].mean() < 0.005
    assert 0.01 <= register["height_cm"].isna().mean() <= 0.03


# --- e-PPGBM layout -------------------------------------------------------------------------


def test_eppgbm_layout_round_trips_values(register: pd.DataFrame) -> None:
    frame = register.head(3000)
    export = to_eppgbm(frame)
    assert tuple(export.columns) == EPPGBM_COLUMNS
    assert export["No"].tolist() == list(range(1, len(frame) + 1))
    assert export["NIK"].astype(str).tolist() == frame["child_id"].astype(str).tolist()
    assert export["Nama"].astype(str).tolist() == frame["name"].astype(str).str.upper().tolist()
    assert export["JK"].astype(str).tolist() == frame["sex"].map({1: "L", 2: "P"}).tolist()
    for column, canonical in (("Tgl Lahir", "birth_date"), ("Tanggal Pengukuran", "visit_date")):
        text = export[column].astype(str)
        assert text.str.fullmatch(r"\d\d/\d\d/\d{4}").all()
        dates = pd.to_datetime(text, format="%d/%m/%Y")
        assert (dates.to_numpy() == frame[canonical].to_numpy()).all()
    for column, canonical in (("Berat", "weight_kg"), ("Tinggi", "height_cm")):
        text = export[column].astype(str)
        assert not text.str.contains(".", regex=False).any()
        np.testing.assert_array_equal(comma_numbers(text), frame[canonical].to_numpy())
    expected_position = frame["measure"].map({"l": "Terlentang", "h": "Berdiri"}).astype(str)
    assert export["Cara Ukur"].astype(str).tolist() == expected_position.tolist()
    # places: spelling varies (case, spacing) but folds back to the canonical names
    assert (normalised(export["Desa/Kel"]) == normalised(frame["kelurahan"])).all()
    assert (normalised(export["Kec"]) == normalised(frame["kecamatan"])).all()
    assert (export["Desa/Kel"].astype(str) != frame["kelurahan"].astype(str)).any()
    assert export["Kec"].astype(str).str.isupper().any()


def test_eppgbm_status_columns_are_not_measurements(register: pd.DataFrame) -> None:
    export = to_eppgbm(register.head(2000))
    haz = comma_numbers(export["ZS TB/U"])
    status = export["TB/U"].astype(str).to_numpy()
    assert (status[haz < -3] == "Sangat Pendek").all()
    assert (status[(haz >= -3) & (haz < -2)] == "Pendek").all()
    assert (status[np.isnan(haz)] == "").all()
    assert np.isnan(haz).sum() < len(haz)
    assert (
        export["Usia Saat Ukur"]
        .astype(str)
        .str.fullmatch(r"\d Tahun - \d{1,2} Bulan - \d{1,2} Hari")
        .all()
    )


def test_eppgbm_age_text_counts_calendar_months() -> None:
    """31 Jan 2020 to 1 Mar 2021: 1 year 1 month to 28 Feb 2021, then 1 day."""
    frame = generate_register(5).head(1).copy()
    frame["birth_date"] = pd.Timestamp("2020-01-31")
    frame["visit_date"] = pd.Timestamp("2021-03-01")
    export = to_eppgbm(frame)
    assert export["Usia Saat Ukur"].astype(str).iloc[0] == "1 Tahun - 1 Bulan - 1 Hari"


def test_eppgbm_csv_is_semicolon_separated(tmp_path: Path) -> None:
    frame = generate_register(100)
    path = tmp_path / "eppgbm.csv"
    write_eppgbm_csv(frame, path)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(";") == list(EPPGBM_COLUMNS)
    back = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    expected = to_eppgbm(frame).astype(str)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_eppgbm_xlsx_keeps_nik_as_text(tmp_path: Path) -> None:
    frame = generate_register(20)
    path = tmp_path / "eppgbm.xlsx"
    write_eppgbm_xlsx(frame, path)
    back = pd.read_excel(path, dtype=object, engine="calamine")
    assert list(back.columns) == list(EPPGBM_COLUMNS)
    niks = back["NIK"].dropna()
    assert all(isinstance(v, str) for v in niks)
    np.testing.assert_allclose(back["Berat"].astype(float), frame["weight_kg"].to_numpy())


# --- defects --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_register() -> pd.DataFrame:
    return generate_register(600, implausible_share=0.0, missing_height_share=0.0)


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_defects_change_only_the_rows_they_report(small_register: pd.DataFrame, kind: str) -> None:
    damaged, rows = inject_defects(small_register, kind, share=0.2, seed=1)
    assert rows.any()
    assert list(damaged.columns) == list(small_register.columns)
    pd.testing.assert_frame_equal(
        damaged[~rows].reset_index(drop=True),
        small_register[~rows].reset_index(drop=True),
    )
    before, after = small_register[rows], damaged[rows]
    if kind == "heaped_decimals":
        assert (after["height_cm"] == np.round(after["height_cm"])).all()
        assert (after["weight_kg"] * 2 == np.round(after["weight_kg"] * 2)).all()
    elif kind == "skewed_posyandu":
        np.testing.assert_allclose(after["height_cm"] - before["height_cm"], -3.0, atol=1e-9)
    elif kind == "sex_imbalance":
        assert (before["sex"] == 2).all() and (after["sex"] == 1).all()
    elif kind == "shrinking":
        assert ((before["height_cm"] - after["height_cm"]).between(2.0, 6.0)).all()
        assert child_numbers(damaged)[rows].size == np.unique(child_numbers(damaged)[rows]).size
    else:  # copied_heights: each copied height equals the one at the child's previous visit
        child = child_numbers(damaged)
        order = np.lexsort((damaged["visit_date"].to_numpy(), child))
        height = damaged["height_cm"].to_numpy()[order]
        copied = rows[order]
        assert not copied[np.r_[True, child[order][1:] != child[order][:-1]]].any()
        assert (height[1:][copied[1:]] == height[:-1][copied[1:]]).all()


def test_unknown_defect_kind() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown defect kind 'typos'")):
        inject_defects(generate_register(10), "typos")
