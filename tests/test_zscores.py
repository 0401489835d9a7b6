"""Z-scores against WHO's own results (R anthro) and against hand-worked cases."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kbtool.growth import (
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
    compute_zscore_arrays,
    compute_zscores,
    r_round,
)
from kbtool.growth.zscores import KERNELS
from tests.conftest import WHO_DATA


@pytest.fixture(autouse=True, params=KERNELS)
def kernel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test here runs on both kernels: the C extension and the numba fallback."""
    from kbtool.growth import zscores

    name = request.param
    if name == "c" and importlib.util.find_spec("kbtool.growth._ckernel") is None:
        pytest.skip("the C kernel was not built in this installation")
    monkeypatch.setenv("KBTOOL_KERNEL", name)
    zscores.kernel_name.cache_clear()
    assert zscores.kernel_name() == name
    yield name
    zscores.kernel_name.cache_clear()


PAIRS = [
    ("haz", "zlen", "flen"),
    ("waz", "zwei", "fwei"),
    ("whz", "zwfl", "fwfl"),
    ("bmiz", "zbmi", "fbmi"),
]


def who_case(directory: Path, *, full_precision: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    inputs = pd.read_csv(directory / "zscore_inputs.csv")
    expected = pd.read_csv(directory / "zscore_expected.csv")
    assert (inputs["row"] == expected["row"]).all()
    canonical = pd.DataFrame(
        {
            "sex": inputs["sex"],
            "birth_date": pd.to_datetime(inputs["birth_date"]),
            "visit_date": pd.to_datetime(inputs["visit_date"]),
            "weight_kg": inputs["weight_kg"],
            "height_cm": inputs["height_cm"],
            "measure": inputs["measure"].map({"l": MEASURE_LENGTH, "h": MEASURE_HEIGHT}),
        }
    )
    return compute_zscores(canonical, full_precision=full_precision), expected


def test_a_pyarrow_table_gives_the_same_zscores_as_who() -> None:
    """compute_zscores takes an Arrow table too (dates as date32, codes as int8)."""
    inputs = pd.read_csv(WHO_DATA / "zscore_inputs.csv")
    expected = pd.read_csv(WHO_DATA / "zscore_expected.csv")
    table = pa.table(
        {
            "sex": pa.array(inputs["sex"], pa.int8()),
            "birth_date": pa.array(pd.to_datetime(inputs["birth_date"]).dt.date, pa.date32()),
            "visit_date": pa.array(pd.to_datetime(inputs["visit_date"]).dt.date, pa.date32()),
            "weight_kg": pa.array(inputs["weight_kg"], pa.float64()),
            "height_cm": pa.array(inputs["height_cm"], pa.float64()),
            "measure": pa.array(
                inputs["measure"].map({"l": MEASURE_LENGTH, "h": MEASURE_HEIGHT}), pa.int8()
            ),
        }
    )
    got = compute_zscores(table, full_precision=True)
    assert len(got) == len(expected)
    for ours, who, flag in PAIRS:
        assert np.allclose(got[ours], expected[who], atol=1e-9, rtol=0, equal_nan=True)
        assert (got[f"{ours}_flag"].fillna(0) == expected[flag].fillna(0)).all()


def assert_who_parity(directory: Path) -> None:
    got, want = who_case(directory, full_precision=True)
    # the expected file prints 15 significant digits, so 1e-9 is far above print noise yet far
    # below any rule difference (a wrong table row or correction moves z by > 1e-3)
    for ours, who, flag in PAIRS:
        a, b = got[ours].to_numpy(float), want[who].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), f"{ours}: empty on one side only"
        both = ~np.isnan(a)
        assert np.max(np.abs(a[both] - b[both])) < 1e-9, ours
        assert (got[f"{ours}_flag"].to_numpy(float)[both] == want[flag].to_numpy(float)[both]).all()
        assert got[f"{ours}_flag"].isna().to_numpy().tolist() == (~both).tolist()
    lenhei = got["lenhei_cm"].to_numpy(float)
    assert np.nanmax(np.abs(lenhei - want["clenhei"].to_numpy(float))) < 1e-9


def test_who_parity_full_precision() -> None:
    """Every z-score and flag equals R anthro's on the 20,000 reference rows (copy in tests/)."""
    assert_who_parity(WHO_DATA)


def test_who_parity_rounded_like_who_anthro() -> None:
    """Default output: WHO's values rounded the way R rounds, exactly, flags on the rounded z."""
    got, want = who_case(WHO_DATA, full_precision=False)
    limits = {"haz": (-6, 6), "waz": (-6, 5), "whz": (-5, 5), "bmiz": (-5, 5)}
    for ours, who, _flag in PAIRS:
        expected = r_round(want[who].to_numpy(float), 2)
        a = got[ours].to_numpy(float)
        assert np.array_equal(a, expected, equal_nan=True), ours
        low, high = limits[ours]
        valid = ~np.isnan(expected)
        flags = (expected[valid] < low) | (expected[valid] > high)
        assert (got[f"{ours}_flag"].to_numpy(float)[valid] == flags).all()


def test_shared_reference_unchanged(shared_who: Path) -> None:
    """The copy under tests/ is the shared reference; parity holds on ../shared itself too."""
    for name in ("zscore_inputs.csv", "zscore_expected.csv"):
        assert (shared_who / name).read_bytes() == (WHO_DATA / name).read_bytes()
    assert_who_parity(shared_who)


def one(**kwargs: object) -> dict[str, float]:
    """Run the kernel on a single child; return the arrays' first values."""
    arrays = {k: np.asarray([v]) for k, v in kwargs.items()}
    result = compute_zscore_arrays(full_precision=True, **arrays)
    return {name: getattr(result, name)[0] for name in result.__dataclass_fields__}


def test_hand_worked_haz_at_birth() -> None:
    """Boy, day 0, 50.0 cm lying: WHO lhfa boys day 0 has L=1, M=49.8842, S=0.03795, so
    z = (50/49.8842 - 1)/0.03795 = 0.0611706... (WHO 2006, ch. 7 LMS formula)."""
    r = one(sex=1, age_days=0, lenhei_cm=50.0, measure=MEASURE_LENGTH)
    assert r["haz"] == pytest.approx((50 / 49.8842 - 1) / 0.03795, abs=1e-12)
    assert r["haz"] == pytest.approx(0.06117, abs=1e-5)


def test_hand_worked_restricted_waz() -> None:
    """Boy, day 0, 1.5 kg: WHO wfa boys day 0 L=0.3487, M=3.3464, S=0.14602. The plain z is below
    -3, so WHO's restricted form applies: z = -3 + (y - SD3neg)/(SD2neg - SD3neg) with
    SDk = M(1 + L*S*k)^(1/L) (WHO 2006, ch. 7, 'restricted application of the LMS method')."""
    l, m, s, y = 0.3487, 3.3464, 0.14602, 1.5
    plain = ((y / m) ** l - 1) / (l * s)
    assert plain < -3
    sd = lambda k: m * (1 + l * s * k) ** (1 / l)  # noqa: E731
    expected = -3 + (y - sd(-3)) / (sd(-2) - sd(-3))
    r = one(sex=1, age_days=0, weight_kg=y)
    assert r["waz"] == pytest.approx(expected, abs=1e-12)
    assert r["waz"] != pytest.approx(plain, abs=1e-3)


@pytest.mark.parametrize(
    ("age", "measure", "height", "expected"),
    [
        (730, MEASURE_HEIGHT, 80.0, 80.7),  # standing under 731 days: +0.7 cm
        (731, MEASURE_HEIGHT, 80.0, 80.0),  # standing from 731 days: as measured
        (731, MEASURE_LENGTH, 80.0, 79.3),  # lying from 731 days: -0.7 cm
        (730, MEASURE_LENGTH, 80.0, 80.0),
        (900, MEASURE_UNKNOWN, 80.0, 80.0),  # unknown position changes nothing
        (273, MEASURE_HEIGHT, 65.0, 65.0),  # standing under 9 months: implausible, no correction
        (274, MEASURE_HEIGHT, 65.0, 65.7),  # 274 / 30.4375 = 9.0018 months: corrected
    ],
)
def test_position_correction(age: int, measure: int, height: float, expected: float) -> None:
    """R anthro adjust_lenhei and the c9mo rule (9 months = 273.94 days)."""
    r = one(sex=2, age_days=age, lenhei_cm=height, measure=measure)
    assert r["lenhei_cm"] == pytest.approx(expected, abs=1e-12)
    assert bool(r["position_flag"]) == (age < 274 and measure == MEASURE_HEIGHT)


def test_age_rounding_and_months() -> None:
    """Fractional days round half up; months convert as months x 30.4375 (R anthro age_to_days)."""
    assert one(sex=1, age_days=10.5, weight_kg=4.0)["age_days"] == 11
    assert one(sex=1, age_days=10.49, weight_kg=4.0)["age_days"] == 10
    # 12 months = 365.25 days -> 365 (.25 rounds down); 2 months = 60.875 -> 61
    assert one(sex=1, age_months=12.0, weight_kg=9.0)["age_days"] == 365
    assert one(sex=1, age_months=2.0, weight_kg=5.0)["age_days"] == 61
    # the date-based age wins over the months column where both exist
    assert one(sex=1, age_days=100, age_months=2.0, weight_kg=5.0)["age_days"] == 100


def test_age_limits() -> None:
    """Age-based z-scores for 0-1826 days only (age in months < 60); negative age: none."""
    assert not math.isnan(one(sex=1, age_days=1826, lenhei_cm=110.0)["haz"])
    assert math.isnan(one(sex=1, age_days=1827, lenhei_cm=110.0)["haz"])
    negative = one(sex=1, age_days=-1, lenhei_cm=60.0, weight_kg=6.0)
    assert all(math.isnan(negative[k]) for k in ("haz", "waz", "whz", "bmiz"))
    assert math.isnan(one(sex=1, age_months=60.0, weight_kg=18.0)["waz"])


def test_oedema_suppresses_weight_indicators() -> None:
    r = one(sex=1, age_days=400, weight_kg=9.0, lenhei_cm=75.0, oedema=True)
    assert not math.isnan(r["haz"])
    assert all(math.isnan(r[k]) for k in ("waz", "whz", "bmiz"))


def test_whz_table_choice_without_age() -> None:
    """Age unknown: by position, else length < 87 cm uses weight-for-length (R anthro)."""
    lying = one(sex=1, weight_kg=11.0, lenhei_cm=86.0)
    standing = one(sex=1, weight_kg=11.0, lenhei_cm=86.0, measure=MEASURE_HEIGHT)
    at_split = one(sex=1, weight_kg=12.0, lenhei_cm=87.0)
    with_height = one(sex=1, weight_kg=12.0, lenhei_cm=87.0, measure=MEASURE_HEIGHT)
    assert lying["whz"] != standing["whz"]
    assert at_split["whz"] == with_height["whz"]
    assert math.isnan(lying["haz"])


def test_whz_interpolates_between_tenths() -> None:
    """A length with two decimals interpolates L, M, S between the neighbouring 0.1 cm rows."""
    low = one(sex=2, age_days=300, weight_kg=8.0, lenhei_cm=70.1)
    high = one(sex=2, age_days=300, weight_kg=8.0, lenhei_cm=70.2)
    mid = one(sex=2, age_days=300, weight_kg=8.0, lenhei_cm=70.15)
    assert min(low["whz"], high["whz"]) < mid["whz"] < max(low["whz"], high["whz"])
    assert mid["whz"] == pytest.approx((low["whz"] + high["whz"]) / 2, abs=2e-3)


def test_whz_out_of_table_range() -> None:
    assert math.isnan(one(sex=1, age_days=100, weight_kg=2.0, lenhei_cm=44.9)["whz"])
    assert not math.isnan(one(sex=1, age_days=100, weight_kg=2.0, lenhei_cm=45.0)["whz"])
    assert math.isnan(one(sex=1, age_days=1000, weight_kg=8.0, lenhei_cm=64.9)["whz"])


def test_missing_values_leave_only_dependent_scores_empty() -> None:
    r = one(sex=2, age_days=500, weight_kg=9.5)
    assert not math.isnan(r["waz"])
    assert all(math.isnan(r[k]) for k in ("haz", "whz", "bmiz", "bmi"))
    unknown_sex = one(sex=0, age_days=500, weight_kg=9.5, lenhei_cm=78.0)
    assert all(math.isnan(unknown_sex[k]) for k in ("haz", "waz", "whz", "bmiz"))


def test_flags_and_statuses_in_frame() -> None:
    frame = pd.DataFrame(
        {
            "sex": [1, 1, 1],
            "birth_date": pd.to_datetime(["2022-01-01"] * 3),
            "visit_date": pd.to_datetime(["2023-01-01"] * 3),
            "weight_kg": [9.6, 9.6, np.nan],
            "height_cm": [75.7, 50.0, 65.0],
            "measure": [MEASURE_LENGTH] * 3,
        }
    )
    out = compute_zscores(frame, lang="id")
    assert out["haz_flag"].tolist()[:2] == [0, 1]  # 50 cm at 1 year: z far below -6
    assert out["haz_status"].tolist()[:2] == ["normal", "tidak wajar"]
    assert pd.isna(out["waz_flag"].iloc[2]) and pd.isna(out["waz_status"].iloc[2])


def test_blocks_and_threads_give_the_same_result(
    kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel cuts rows into blocks run on several threads; the result must not change."""
    from kbtool.growth import zscores

    inputs = pd.read_csv(WHO_DATA / "zscore_inputs.csv")
    measure = inputs["measure"].map({"l": MEASURE_LENGTH, "h": MEASURE_HEIGHT}).to_numpy()
    args = (inputs["sex"], inputs["age_days"], inputs["weight_kg"], inputs["height_cm"], measure)
    monkeypatch.setattr(zscores, "cores", lambda: 2)
    whole = compute_zscore_arrays(*args)
    monkeypatch.setattr(zscores, "BLOCK_ROWS", 997)
    if kernel == "c":
        monkeypatch.setattr(zscores, "cores", lambda: 1)
        blocked = compute_zscore_arrays(*args)
    else:
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            blocked = compute_zscore_arrays(*args)
        finally:
            numba.set_num_threads(threads)
    for name in whole.__dataclass_fields__:
        assert np.array_equal(getattr(whole, name), getattr(blocked, name), equal_nan=True), name


def test_rounding_boundaries_round_as_libm_pow_does() -> None:
    """Weights whose WAZ/BMIZ sits on a rounding half-way point or a cut-off round as with libm.

    The kernel's vectorised pow differs from libm's in the last bits; rows whose z is that near
    a multiple of 0.005 must be recomputed with libm's pow (kbtool.growth._kernel). Every day of
    the weight-for-age table, both sexes, at z = +-1.005, +-2.995, 0.125 and +-3.0 (the switch to
    the restricted z): the rounded z must equal R-style rounding of numpy's (libm's) z, and the
    unrounded z must be within 1e-10 of it (the kernel's documented bound).
    """
    from kbtool.growth.tables import load_table

    wfa = load_table("wfa")
    days = np.arange(wfa.size, dtype=float)
    targets = np.array([1.005, -1.005, 2.995, -2.995, 0.125, 3.0, -3.0])
    sex = np.repeat([1, 2], wfa.size * targets.size)
    age = np.tile(np.repeat(days, targets.size), 2)
    z0 = np.tile(targets, 2 * wfa.size)
    col = age.astype(int)
    l, m, s = wfa.l[sex, col], wfa.m[sex, col], wfa.s[sex, col]
    weight = m * (1 + l * s * z0) ** (1 / l)
    # numpy's power is libm's pow: the z R anthro computes for these rows
    expected = ((weight / m) ** l - 1) / (s * l)
    beyond = np.abs(expected) > 3
    assert not beyond.any() or np.abs(expected[beyond]).max() < 3 + 1e-9
    full = compute_zscore_arrays(sex, age, weight, full_precision=True).waz
    inside = ~beyond
    assert np.max(np.abs(full[inside] - expected[inside])) < 1e-10
    rounded = compute_zscore_arrays(sex, age, weight).waz
    assert np.array_equal(rounded[inside], r_round(expected[inside], 2))


def test_round_2_decimals_is_r_round() -> None:
    """The compiled rounding used for output columns equals r_round(x, 2), ties included."""
    from kbtool.growth.zscores import round_2_decimals

    rng = np.random.default_rng(3)
    values = np.concatenate(
        [
            rng.normal(0, 3, 100_000),
            np.round(rng.normal(0, 3, 10_000), 3),  # many x.xx5 ties
            [np.nan, 0.0, -0.0, 1.005, 2.675, -2.675, 1e300],
        ]
    )
    assert np.array_equal(round_2_decimals(values), r_round(values, 2), equal_nan=True)


def test_kernel_cache_is_detected_after_first_use() -> None:
    """Commands warn about the one-off compile only while numba's cache is missing (the C
    kernel is compiled when kbtool is installed)."""
    from kbtool.growth.zscores import kernel_is_compiled

    compute_zscore_arrays(np.array([1]), np.array([10.0]), np.array([4.0]))
    assert kernel_is_compiled()
