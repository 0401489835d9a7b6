"""Z-scores against WHO's own results (R anthro) and against hand-worked cases."""

from __future__ import annotations

import math
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
from kbtool.growth.tables import load_table
from tests.conftest import WHO_DATA

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


def test_blocks_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are computed in blocks; where the blocks are cut must not change the result."""
    from kbtool.growth import zscores

    inputs = pd.read_csv(WHO_DATA / "zscore_inputs.csv")
    measure = inputs["measure"].map({"l": MEASURE_LENGTH, "h": MEASURE_HEIGHT}).to_numpy()
    args = (inputs["sex"], inputs["age_days"], inputs["weight_kg"], inputs["height_cm"], measure)
    assert len(inputs) < zscores.BLOCK_ROWS
    whole = compute_zscore_arrays(*args)  # one block
    monkeypatch.setattr(zscores, "BLOCK_ROWS", 997)
    blocked = compute_zscore_arrays(*args)  # 21 blocks, the last one short
    for name in whole.__dataclass_fields__:
        assert np.array_equal(getattr(whole, name), getattr(blocked, name), equal_nan=True), name


def test_rounding_boundaries_round_as_libm_pow_does() -> None:
    """Weights whose WAZ sits on a rounding half-way point or a cut-off round as R's, whose `^`
    is the C library's pow (math.pow here; numpy's own SIMD pow on AVX-512 CPUs can differ in
    the last bit). Every day of the weight-for-age table, both sexes, at z = +-1.005, +-2.995,
    0.125 and +-3.0 (the switch to the restricted z): rounded exactly as R rounds the z of the
    C library's pow, unrounded within 1e-12 of it (the order of R's arithmetic kept).
    """
    import math

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
    # the z R anthro computes for these rows, with the C library's pow
    power = np.vectorize(math.pow)
    expected = (power(weight / m, l) - 1) / (s * l)
    for side in (1, -1):
        beyond = expected * side > 3
        lms = m[beyond], l[beyond], s[beyond]
        sd3 = lms[0] * power(1 + lms[1] * lms[2] * 3 * side, 1 / lms[1])
        sd2 = lms[0] * power(1 + lms[1] * lms[2] * 2 * side, 1 / lms[1])
        expected[beyond] = 3 * side + (weight[beyond] - sd3) / ((sd3 - sd2) * side)
    full = compute_zscore_arrays(sex, age, weight, full_precision=True).waz
    assert np.max(np.abs(full - expected)) < 1e-12
    rounded = compute_zscore_arrays(sex, age, weight).waz
    assert np.array_equal(rounded, r_round(expected, 2))


# --- rows made to reach every rule: unknown codes, edges of age and length ------------------


def branchy_rows(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Random rows over every case: unknown sex and age, ages given in months, negative ages,
    measures outside the tables, oedema, lengths with more than one decimal, weights far beyond
    +-3 SD."""
    rng = np.random.default_rng(seed)

    def some_missing(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(rows) < share, np.nan, values)

    age_days = some_missing(rng.uniform(-60, 2000, rows), 0.1)
    age_days[::5] = np.round(age_days[::5])
    lenhei = some_missing(rng.uniform(-1, 130, rows), 0.05)
    lenhei[::3] = np.round(lenhei[::3], 1)
    weight = some_missing(rng.lognormal(2.3, 0.5, rows), 0.05)
    weight[::11] = -weight[::11]
    return {
        "sex": rng.integers(0, 4, rows).astype(np.int8),
        "age_days": age_days,
        "weight_kg": weight,
        "lenhei_cm": lenhei,
        "measure": rng.integers(0, 3, rows).astype(np.int8),
        "oedema": rng.random(rows) < 0.05,
        "age_months": some_missing(rng.uniform(-2, 70, rows), 0.5),
    }


def edge_rows() -> dict[str, np.ndarray]:
    """Values at the edges of the rules, each with every sex and position code (-1 ... 3): ages
    a hair either side of a half day, -0.0, huge and infinite ages, unknown ages with and
    without an age in months, lengths at and a hair inside the table limits."""
    half = np.array([0.5, 1.5, 2.5, 270.5, 730.5, 1826.5])
    days = np.concatenate(
        [
            half,
            np.nextafter(half, 0),
            np.nextafter(half, 10_000),
            [0.0, -0.0, -0.5, -1e-300, 1e-300, 0.49999999999999994, 2.0**52 + 1, 2.0**60],
            [np.inf, -np.inf, 1826.0, 1827.0, 1856.0, 1857.0, 730.999, 731.0],
            [np.nan] * 4,
        ]
    )
    # where there is no age in days: an age in months, or none (a NaN among those of the days)
    months = np.full(days.size, np.nan)
    months[np.isnan(days)] = [8.9, 24.0, 59.99, np.nan]
    table_limits = [44.99999, 45.0, 45.05, 64.99, 65.0, 86.99999, 87.0, 109.99, 110.0, 110.00001]
    beyond = [119.95, 120.0, 120.0000001, 0.0, -0.0, 1e300, np.inf, np.nan]
    lengths = np.array([*table_limits, *beyond])
    codes = np.arange(-1, 4)
    day, length, sex, measure = (
        a.ravel() for a in np.meshgrid(np.arange(days.size), lengths, codes, codes)
    )
    rows = np.arange(day.size)
    return {
        "sex": sex.astype(np.int8),
        "age_days": days[day],
        "weight_kg": np.where(rows % 7 == 0, np.nan, 3.0 + length / 10),
        "lenhei_cm": length,
        "measure": measure.astype(np.int8),
        "oedema": rows % 4 == 0,
        "age_months": months[day],
    }


ROW_SETS = {"branchy": lambda: branchy_rows(50_000, seed=11), "edges": edge_rows}


def ages(rows: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Exact age in days and in months: from the days, else from the months (x 30.4375)."""
    days, months = rows["age_days"], rows["age_days"] / 30.4375
    if "age_months" in rows:
        from_months = np.isnan(days) & ~np.isnan(rows["age_months"])
        days = np.where(from_months, rows["age_months"] * 30.4375, days)
        months = np.where(from_months, rows["age_months"], months)
    return days, months


@pytest.mark.parametrize("full_precision", [False, True])
@pytest.mark.parametrize("with_months", [True, False])
def test_age_in_days_rounds_half_up_at_the_edges(full_precision: bool, with_months: bool) -> None:
    """The age in days is the exact age rounded half up (against numpy's floor), from the
    months where there are no days; negative and unknown ages have none."""
    rows = edge_rows()
    if not with_months:
        del rows["age_months"]
    result = compute_zscore_arrays(**rows, full_precision=full_precision)
    days, _ = ages(rows)
    with np.errstate(invalid="ignore"):
        whole = np.floor(days)
        expected = np.where(days >= 0, whole + (days - whole >= 0.5), np.nan)
    assert np.array_equal(result.age_days, expected, equal_nan=True)
    assert not np.signbit(result.age_days[days == 0]).any()  # -0.0 days: age +0.0, as floor gives
    if with_months:  # the rows without an age in days take it from the months, and are scored
        assert (np.isnan(rows["age_days"]) & ~np.isnan(result.haz)).any()


@pytest.mark.parametrize("row_set", ROW_SETS)
def test_each_zscore_is_given_exactly_where_who_rules_allow_it(row_set: str) -> None:
    """Each z-score is given where R anthro's rules allow it and withheld elsewhere: a known
    sex; age-based ones for ages 0-1826 days under 60 months; a positive weight and no oedema
    for WAZ, WHZ and BMIZ, a positive length/height for HAZ and BMIZ; WHZ on weight-for-length
    (45-110 cm) below 731 days and weight-for-height (65-120 cm) from 731 to 1856 days, by
    position or the 87 cm split when the age is unknown, never at a negative age."""
    rows = ROW_SETS[row_set]()
    result = compute_zscore_arrays(**rows, full_precision=True)
    days, months = ages(rows)
    age, lenhei = result.age_days, result.lenhei_cm  # both checked on their own elsewhere
    with np.errstate(invalid="ignore"):
        known_sex = np.isin(rows["sex"], (1, 2))
        weighed = known_sex & (rows["weight_kg"] > 0) & ~rows["oedema"]
        by_age = known_sex & (age >= 0) & (age <= 1826) & (months < 60)
        position = np.where(result.position_flag, MEASURE_UNKNOWN, rows["measure"])
        wfl = (lenhei >= 45) & (lenhei <= 110)
        wfh = (lenhei >= 65) & (lenhei <= 120)
        whz_by_age = np.where(age < 731, wfl, wfh) & (age <= 1856) & (months < 60)
        lying = (position == MEASURE_LENGTH) | ((position == MEASURE_UNKNOWN) & (lenhei < 87))
        standing = (position == MEASURE_HEIGHT) | ((position == MEASURE_UNKNOWN) & (lenhei >= 87))
        whz_without_age = np.isnan(days) & ((lying & wfl) | (standing & wfh))
        has_bmi = ~(np.isinf(rows["weight_kg"]) & np.isinf(lenhei))  # not inf kg over inf m²
        allowed = {
            "haz": by_age & (lenhei > 0),
            "waz": by_age & weighed,
            "bmiz": by_age & weighed & (lenhei > 0) & has_bmi,
            "whz": weighed & (np.where(days >= 0, whz_by_age, False) | whz_without_age),
        }
    for name, given in allowed.items():
        z = getattr(result, name)
        assert np.array_equal(~np.isnan(z), given), name
        assert given.any() and not given.all(), name  # the rows reach both sides


def test_flags_are_the_reported_zscores_beyond_who_limits() -> None:
    """Each flag is its z-score (as reported: rounded, or not with full precision) outside WHO's
    limits (HAZ -6..6, WAZ -6..5, WHZ and BMIZ -5..5), and every flag is raised somewhere;
    position_flag marks the standing measures under 9 months of age."""
    rows = branchy_rows(50_000, seed=5)
    limits = {"haz": (-6, 6), "waz": (-6, 5), "whz": (-5, 5), "bmiz": (-5, 5)}
    for full_precision in (False, True):
        result = compute_zscore_arrays(**rows, full_precision=full_precision)
        for name, (low, high) in limits.items():
            z, flag = getattr(result, name), getattr(result, f"{name}_flag")
            given = ~np.isnan(z)
            assert np.array_equal(flag[given], (z[given] < low) | (z[given] > high)), name
            assert flag[given].any() and (np.abs(z[given]) > 3).any(), name
            if not full_precision:
                assert np.array_equal(z[given], np.round(z[given], 2)), name
    days, months = ages(rows)
    with np.errstate(invalid="ignore"):
        expected = (rows["measure"] == MEASURE_HEIGHT) & (days >= 0) & (months < 9)
    assert np.array_equal(result.position_flag, expected) and expected.any()


def lms_z(y: float, l: float, m: float, s: float) -> float:
    """WHO (2006) ch. 7: the LMS z-score, restricted beyond +-3 SD, with libm's pow."""
    z = (math.pow(y / m, l) - 1) / (s * l)
    sd = lambda k: m * math.pow(1 + l * s * k, 1 / l)  # noqa: E731
    if z > 3:
        return 3 + (y - sd(3)) / (sd(3) - sd(2))
    if z < -3:
        return -3 + (y - sd(-3)) / (sd(-2) - sd(-3))
    return z


def lenhei_lms(sex: int, lenhei: float, on_length: bool) -> tuple[float, float, float]:
    """R anthro's weight-for-length/height L, M, S: joined at trunc(lenhei*10)/10 and the next
    0.1 cm, interpolated by (lenhei - low)/0.1 where that is > 0."""
    table = load_table("wfl" if on_length else "wfh")
    low = math.trunc(lenhei * 10) - table.first_index
    up = min(math.trunc(lenhei * 10 + 1) - table.first_index, table.size - 1)
    frac = (lenhei - math.trunc(lenhei * 10) / 10) / 0.1
    values = []
    for parameter in (table.l, table.m, table.s):
        at_low, at_up = float(parameter[sex, low]), float(parameter[sex, up])
        values.append(at_low + frac * (at_up - at_low) if frac > 0 else at_low)
    return values[0], values[1], values[2]


def test_weight_zscores_follow_the_lms_formula_row_by_row() -> None:
    """WAZ, BMIZ and WHZ of random rows, wherever given, equal WHO's formula evaluated one row
    at a time in plain Python (libm's pow), restricted z beyond +-3 SD included.

    Within 1e-9, as WHO parity: numpy's pow may differ from libm's in the last bit, which
    (p - 1)/(S*L) magnifies to ~1e-11 where S*L is small; a wrong table row or rule moves z by
    more than 1e-3. Relative 1e-12 for the huge z of lengths near 0 (BMI in the millions).
    """
    rows = branchy_rows(4_000, seed=17)
    result = compute_zscore_arrays(**rows, full_precision=True)
    wfa, bmifa = load_table("wfa"), load_table("bmifa")
    checked = dict.fromkeys(("waz", "bmiz", "whz"), 0)
    for i in range(len(rows["sex"])):
        sex, weight, age = int(rows["sex"][i]), float(rows["weight_kg"][i]), result.age_days[i]
        lenhei = float(result.lenhei_cm[i])
        expected = {}
        if not math.isnan(result.waz[i]):
            day = int(age)
            expected["waz"] = lms_z(weight, wfa.l[sex, day], wfa.m[sex, day], wfa.s[sex, day])
        if not math.isnan(result.bmiz[i]):
            bmi = weight / (lenhei / 100) ** 2
            lms = bmifa.l[sex, int(age)], bmifa.m[sex, int(age)], bmifa.s[sex, int(age)]
            assert result.bmi[i] == pytest.approx(bmi, rel=1e-15)
            expected["bmiz"] = lms_z(bmi, *lms)
        if not math.isnan(result.whz[i]):
            position = int(rows["measure"][i])
            on_length = (
                age < 731
                if not math.isnan(age)
                else position == MEASURE_LENGTH or (position == MEASURE_UNKNOWN and lenhei < 87)
            )
            expected["whz"] = lms_z(weight, *lenhei_lms(sex, lenhei, on_length))
        for name, value in expected.items():
            assert getattr(result, name)[i] == pytest.approx(value, rel=1e-12, abs=1e-9), (
                name,
                i,
            )
            checked[name] += 1
    assert min(checked.values()) > 200
