"""Tests for kbtool.quality: each statistic against scipy or a hand count on hand-built frames,
known defects injected into generated registers caught in the right group, clean registers not.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kbtool.errors import InputError, UsageError
from kbtool.growth import compute_zscores
from kbtool.quality import (
    CHECKS,
    EXPECTED_AGE_RATIO,
    HEAPING_EXPECTED_PCT,
    RATINGS,
    TABLE_COLUMNS,
    TOTAL_LABEL,
    UNKNOWN_LABEL,
    binomial_at_least,
    digit_preference_score,
    excess_test,
    quality_report,
    ratio_test,
)
from tests.synthetic import child_numbers, generate_register, inject_defects, measure_codes

BAD = {"acceptable", "problematic"}
FINE = {"excellent", "good"}


# --- hand-built frames -------------------------------------------------------------------------


def hand_frame(n: int, **columns: Any) -> pd.DataFrame:
    """n measurements in canonical columns with z-score columns, every value plausible unless
    given: one child per row, boys, 2 years old, HAZ 0, in posyandu "A" of kelurahan "K"."""
    visit = pd.to_datetime(columns.pop("visit_date", ["2024-03-15"] * n))
    birth = pd.to_datetime(columns.pop("birth_date", ["2022-03-10"] * n))
    height = np.asarray(columns.pop("height_cm", np.full(n, 87.3)), dtype=np.float64)
    data: dict[str, Any] = {
        "child_id": [f"c{i}" for i in range(n)],
        "sex": np.ones(n, dtype=np.int8),
        "birth_date": birth,
        "visit_date": visit,
        "weight_kg": np.full(n, 12.3),
        "height_cm": height,
        "measure": np.full(n, 2, dtype=np.int8),
        "oedema": np.zeros(n, dtype=bool),
        "posyandu": ["A"] * n,
        "kelurahan": ["K"] * n,
        "kecamatan": ["C"] * n,
        "age_days": (visit - birth).days.to_numpy(dtype=np.float64),
        "lenhei_cm": height,
        "haz": np.zeros(n),
        "haz_flag": np.zeros(n, dtype=np.int8),
        "waz": np.zeros(n),
        "waz_flag": np.zeros(n, dtype=np.int8),
        "whz": np.zeros(n),
        "whz_flag": np.zeros(n, dtype=np.int8),
        "position_flag": np.zeros(n, dtype=np.int8),
    }
    for name, values in columns.items():
        data[name] = values
    return pd.DataFrame(data)


def row_of(report: Any, group: str = "A") -> pd.Series:
    table = report.table
    return table[table[report.by] == group].iloc[0]


def position(report: Any, group: str) -> int:
    """The row number of a group in the table (and in report.cells)."""
    return int(np.flatnonzero(report.table[report.by].to_numpy() == group)[0])


def monthly(start: str, count: int, *, freq: str = "MS", day: int = 10) -> list[pd.Timestamp]:
    return [d + pd.Timedelta(days=day - 1) for d in pd.date_range(start, periods=count, freq=freq)]


# --- statistics against scipy and hand counts --------------------------------------------------


def test_digit_preference_score_is_smarts_formula_on_pearsons_chi_square() -> None:
    counts = np.array([30, 5, 7, 9, 4, 25, 6, 3, 6, 5])
    n, k = counts.sum(), counts.size
    chi2 = stats.chisquare(counts).statistic
    assert digit_preference_score(counts) == pytest.approx(100 * np.sqrt(chi2 / (n * (k - 1))))
    assert digit_preference_score(np.full(10, 7)) == 0.0  # no preference at all
    assert digit_preference_score([12, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(100.0)
    assert np.isnan(digit_preference_score(np.zeros(10)))


def test_dps_in_the_report_counts_the_tenths_digit_of_every_measurement() -> None:
    # whole numbers count as digit 0; 85.3 is 852.999... x 10 in binary and still digit 3
    heights = np.array([85.0] * 40 + [85.5] * 30 + [85.3] * 20 + [86.7] * 10 + [90.0] * 20)
    weights = np.round(np.linspace(8.0, 19.9, heights.size), 1)
    report = quality_report(hand_frame(heights.size, height_cm=heights, weight_kg=weights))
    digits = np.bincount([0] * 60 + [5] * 30 + [3] * 20 + [7] * 10, minlength=10)
    chi2 = stats.chisquare(digits).statistic
    expected = 100 * np.sqrt(chi2 / (heights.size * 9))
    assert row_of(report)["dps_height"] == pytest.approx(expected)
    weight_digits = np.bincount(np.round(weights * 10).astype(int) % 10, minlength=10)
    assert row_of(report)["dps_weight"] == pytest.approx(digit_preference_score(weight_digits))


@pytest.mark.parametrize(("boys", "girls"), [(60, 40), (25, 75), (500, 510), (7, 0)])
def test_sex_ratio_p_is_scipys_chi_square_against_one_to_one(boys: int, girls: int) -> None:
    ratio, p = ratio_test(boys, girls, 1.0)
    assert p == pytest.approx(stats.chisquare([boys, girls]).pvalue, rel=1e-12)
    assert ratio == (boys / girls if girls else np.inf)


def test_sex_ratio_chi_square_agrees_with_the_exact_binomial_test_on_large_samples() -> None:
    # the chi-square test is the normal approximation of the binomial test: at n = 1000 the two
    # p-values differ in the third decimal only
    _, p = ratio_test(530, 470, 1.0)
    assert p == pytest.approx(stats.binomtest(530, 1000, 0.5).pvalue, abs=0.005)


def test_sex_ratio_in_the_report_counts_each_child_once() -> None:
    sex = np.array([1] * 70 + [2] * 30, dtype=np.int8)
    frame = hand_frame(100, sex=sex)
    twice = pd.concat([frame, frame.assign(visit_date=pd.Timestamp("2024-04-15"))])
    row = row_of(quality_report(twice))
    assert row["n_children"] == 100
    assert row["sex_ratio"] == pytest.approx(70 / 30)
    assert row["sex_ratio_p"] == pytest.approx(stats.chisquare([70, 30]).pvalue)


def test_age_ratio_of_the_whole_area_is_tested_against_smarts_expected_ratio() -> None:
    # completed months: 6-29 young, 30-59 old; under 6 months counts in neither
    visit = pd.Timestamp("2024-06-30")
    months = [3] * 10 + [8] * 50 + [20] * 30 + [40] * 60 + [55] * 20
    birth = [visit - pd.Timedelta(days=round(m * 30.4375) + 5) for m in months]
    frame = hand_frame(len(months), birth_date=birth, visit_date=[visit] * len(months))
    frame["posyandu"] = np.where(np.arange(len(months)) % 2 == 0, "A", "B")
    report = quality_report(frame, by="posyandu")
    whole = row_of(report, TOTAL_LABEL)
    young, old = 80, 80
    share = EXPECTED_AGE_RATIO / (1 + EXPECTED_AGE_RATIO)
    expected = [160 * share, 160 * (1 - share)]
    assert whole["age_ratio"] == pytest.approx(young / old)
    assert whole["age_ratio_p"] == pytest.approx(
        stats.chisquare([young, old], f_exp=expected).pvalue
    )
    # a group is tested against its whole area's ratio (1.0 here), not SMART's 0.85
    a = row_of(report, "A")
    a_young = sum(1 for i, m in enumerate(months) if i % 2 == 0 and 6 <= m <= 29)
    a_old = sum(1 for i, m in enumerate(months) if i % 2 == 0 and 30 <= m <= 59)
    n = a_young + a_old
    assert a["age_ratio_p"] == pytest.approx(
        stats.chisquare([a_young, a_old], f_exp=[n / 2, n / 2]).pvalue
    )


def test_binomial_at_least_equals_scipy_stats_binomial_survival_function() -> None:
    """The quality report calls scipy.special (cheap to import) for binom.sf(k - 1, n, p).

    Exact equality: the report's p-values feed its ratings, which must not move by a bit; the
    edges k <= 0 (certain), k > n (impossible) and NaN follow scipy.stats.
    """
    rng = np.random.default_rng(5)
    n = rng.integers(1, 3000, 5000).astype(np.float64)
    k = np.floor(rng.random(n.size) * (n + 3)) - 1.0  # -1 .. n + 1: both edges included
    k[:3], n[3] = np.nan, np.nan
    for share in (0.02, 0.05, 0.2, 0.5):
        expected = stats.binom.sf(k - 1, n, share)
        assert np.array_equal(binomial_at_least(k, n, share), expected, equal_nan=True)


def test_birth_day_heaping_share_and_its_binomial_test() -> None:
    birth = ["2022-03-01"] * 30 + ["2022-03-15"] * 10 + ["2022-03-07"] * 60
    report = quality_report(hand_frame(100, birth_date=birth))
    assert row_of(report)["birth_day_heaping_pct"] == pytest.approx(40.0)
    p = excess_test(40, 100, HEAPING_EXPECTED_PCT / 100)
    assert p == pytest.approx(
        stats.binomtest(40, 100, HEAPING_EXPECTED_PCT / 100, alternative="greater").pvalue
    )
    assert report.cells["birth_day_heaping_pct"][0] == "problematic"


def test_haz_distribution_matches_scipy_on_one_valid_measurement_per_child() -> None:
    rng = np.random.default_rng(5)
    haz = np.round(rng.gamma(2.0, 0.7, 300) - 2.5, 2)  # skewed on purpose
    first = hand_frame(300, haz=haz, visit_date=["2024-01-10"] * 300)
    # a later visit of every child: flagged for the first 50 (so the January HAZ counts), and
    # with a different HAZ for the others (the latest valid one counts)
    later = haz + 0.5
    flagged = np.arange(300) < 50
    second = hand_frame(
        300,
        haz=np.where(flagged, 7.0, later),
        haz_flag=flagged.astype(np.int8),
        visit_date=["2024-02-10"] * 300,
    )
    counted = np.where(flagged, haz, later)
    row = row_of(quality_report(pd.concat([first, second], ignore_index=True)))
    assert row["n_haz"] == 300
    assert row["mean_haz"] == pytest.approx(counted.mean())
    assert row["sd_haz"] == pytest.approx(np.std(counted, ddof=1))
    assert row["skew_haz"] == pytest.approx(stats.skew(counted, bias=True))
    assert row["kurtosis_haz"] == pytest.approx(stats.kurtosis(counted, fisher=True, bias=True))


def test_whole_area_statistics_pool_the_groups() -> None:
    rng = np.random.default_rng(9)
    haz = rng.normal(-1.0, 1.1, 400)
    frame = hand_frame(400, haz=haz)
    frame["posyandu"] = np.where(np.arange(400) < 150, "A", "B")
    whole = row_of(quality_report(frame), TOTAL_LABEL)
    assert whole["sd_haz"] == pytest.approx(np.std(haz, ddof=1))
    assert whole["kurtosis_haz"] == pytest.approx(stats.kurtosis(haz))


def test_gap_to_the_rest_of_the_kelurahan_is_welchs_t_test() -> None:
    rng = np.random.default_rng(3)
    haz = {
        "A": rng.normal(-2.0, 1.0, 80),
        "B": rng.normal(-1.0, 1.2, 120),
        "D": rng.normal(-1, 1, 90),
    }
    frame = pd.concat(
        [hand_frame(len(v), haz=v).assign(posyandu=k) for k, v in haz.items()], ignore_index=True
    )
    frame["child_id"] = [f"c{i}" for i in range(len(frame))]
    report = quality_report(frame, by="posyandu")
    rest = np.concatenate([haz["B"], haz["D"]])
    welch = stats.ttest_ind(haz["A"], rest, equal_var=False)
    a = row_of(report, "A")
    assert a["mean_haz_gap"] == pytest.approx(haz["A"].mean() - rest.mean())
    assert a["mean_haz_gap_p"] == pytest.approx(welch.pvalue)
    assert report.cells["mean_haz_gap_p"][0] == "problematic"
    # kelurahan are not compared with their kecamatan: real differences
    assert quality_report(frame, by="kelurahan").table["mean_haz_gap"].isna().all()


def test_completeness_and_flag_shares() -> None:
    n = 200
    frame = hand_frame(
        n,
        sex=np.where(np.arange(n) < 10, 0, 1).astype(np.int8),
        height_cm=np.where(np.arange(n) < 20, np.nan, 87.3),
        measure=np.where(np.arange(n) < 60, 0, 2).astype(np.int8),
        haz_flag=np.where(np.arange(n) % 10 == 0, 1, 0).astype(np.int8),
        birth_date=[pd.NaT] * 5 + ["2022-03-10"] * (n - 5),
    )
    frame.loc[frame["height_cm"].isna(), ["haz", "lenhei_cm"]] = np.nan
    row = row_of(quality_report(frame))
    assert row["missing_sex_pct"] == pytest.approx(5.0)
    assert row["missing_height_pct"] == pytest.approx(10.0)
    assert row["missing_birth_date_pct"] == pytest.approx(2.5)
    assert row["missing_position_pct"] == pytest.approx(40 / 180 * 100)  # of measured heights
    # flags among computed HAZ: rows 0, 10 (no height) have no HAZ; 18 flagged of 180
    assert row["flagged_haz_pct"] == pytest.approx(18 / 180 * 100)


# --- longitudinal checks on hand-built children ------------------------------------------------


def test_height_decrease_counts_falls_over_one_and_a_half_cm_between_valid_visits() -> None:
    visits = monthly("2024-01-01", 6)
    lenhei = [80.0, 81.0, 79.4, 80.0, 78.5, 79.0]  # falls of 1.6 and exactly 1.5 cm
    frame = hand_frame(6, visit_date=visits, lenhei_cm=lenhei, height_cm=lenhei)
    frame["child_id"] = "one child"
    row = row_of(quality_report(frame))
    assert row["height_decrease_pct"] == pytest.approx(100 / 5)
    # a flagged measurement is skipped: the pair then runs from the visit before it
    flagged = frame.assign(haz_flag=np.array([0, 0, 1, 0, 0, 0], dtype=np.int8))
    assert row_of(quality_report(flagged))["height_decrease_pct"] == 0.0


def test_height_repeated_needs_three_identical_visits_spanning_two_calendar_months() -> None:
    copied = hand_frame(3, visit_date=monthly("2024-01-01", 3), height_cm=[80.2] * 3)
    copied["child_id"] = "copied"
    quick = hand_frame(
        3, visit_date=["2024-01-02", "2024-01-20", "2024-02-25"], height_cm=[80.2] * 3
    )
    quick["child_id"] = "within a month or so"
    growing = hand_frame(4, visit_date=monthly("2024-01-01", 4), height_cm=[80.2, 80.2, 80.9, 80.9])
    growing["child_id"] = "growing"
    two_visits = hand_frame(2, visit_date=monthly("2024-01-01", 2), height_cm=[80.2] * 2)
    two_visits["child_id"] = "seen twice"
    frame = pd.concat([copied, quick, growing, two_visits], ignore_index=True)
    row = row_of(quality_report(frame))
    assert row["height_repeated_pct"] == pytest.approx(100 / 3)  # of children seen 3+ times


def test_a_child_moving_back_and_forth_is_one_child_of_each_posyandu() -> None:
    visits = monthly("2024-01-01", 5)
    frame = hand_frame(5, visit_date=visits, height_cm=[80.0, 80.0, 80.0, 80.5, 80.5])
    frame["child_id"] = "mover"
    frame["posyandu"] = ["A", "A", "B", "A", "B"]
    report = quality_report(frame, by="posyandu")
    # B holds the copied third visit (March) and a fourth-or-later one (May): one child, copied
    assert row_of(report, "B")["height_repeated_pct"] == pytest.approx(100.0)
    assert row_of(report, "A")["height_repeated_pct"] == pytest.approx(0.0)
    assert row_of(report, TOTAL_LABEL)["height_repeated_pct"] == pytest.approx(100.0)


def test_weight_velocity_flags_big_losses_and_impossible_gains_within_three_months() -> None:
    visits = ["2024-01-10", "2024-02-10", "2024-03-10", "2024-08-10", "2024-09-10"]
    weight = [10.0, 8.9, 9.0, 7.0, 7.2]  # -11% in a month; -22% but over five months
    waz = [0.0, -0.9, -0.8, -2.5, 0.0]  # +2.5 z in a month
    frame = hand_frame(5, visit_date=visits, weight_kg=weight, waz=waz)
    frame["child_id"] = "one child"
    row = row_of(quality_report(frame))
    assert row["weight_velocity_pct"] == pytest.approx(100 * 2 / 3)  # 3 pairs within 92 days
    oedema = frame.assign(oedema=[False, True, False, False, False])
    # with oedema at the second visit: pairs (1, 3) and (4, 5), the second implausible
    assert row_of(quality_report(oedema))["weight_velocity_pct"] == pytest.approx(50.0)


def test_bool_flags_and_oedema_leave_the_callers_frame_as_it_was() -> None:
    """Flags a library caller holds as numpy bools (not kbtool's Int8) count the same, and
    oedema is combined with them without writing into the caller's waz_flag column."""
    visits = ["2024-01-10", "2024-02-10", "2024-03-10", "2024-08-10", "2024-09-10"]
    waz = [0.0, -0.9, -0.8, -2.5, 0.0]
    frame = hand_frame(5, visit_date=visits, weight_kg=[10.0, 8.9, 9.0, 7.0, 7.2], waz=waz)
    frame["child_id"] = "one child"
    frame["oedema"] = [False, True, False, False, False]
    as_int8 = row_of(quality_report(frame))
    flags = frame.assign(waz_flag=np.zeros(5, dtype=bool), haz_flag=np.zeros(5, dtype=bool))
    row = row_of(quality_report(flags))
    assert row["weight_velocity_pct"] == as_int8["weight_velocity_pct"] == pytest.approx(50.0)
    assert not flags["waz_flag"].any()


def test_duplicates_are_repeated_measurements_of_a_child_on_one_day() -> None:
    frame = hand_frame(4, visit_date=["2024-01-10", "2024-01-10", "2024-01-10", "2024-02-10"])
    frame["child_id"] = ["a", "a", "b", "a"]
    row = row_of(quality_report(frame))
    assert row["duplicate_pct"] == pytest.approx(25.0)
    assert row["n_children"] == 2


def test_visits_listed_group_by_group_are_compared_in_date_order() -> None:
    """One child measured monthly through 2024 in posyandu A (odd months) and B (even months),
    the rows listed A's first. In date order the lengths grow from 80.0 cm but for one fall of
    1.6 cm in March (A): A holds 5 of the 11 pairs of consecutive visits, B 6."""
    growth = [80.0, 81.0, 79.4, 80.0, 80.5, 81.0, 81.5, 82.0, 82.5, 83.0, 83.5, 84.0]
    listed = [*range(0, 12, 2), *range(1, 12, 2)]  # January, March, ... then February, ...
    visits = monthly("2024-01-01", 12)
    frame = hand_frame(
        12,
        visit_date=[visits[i] for i in listed],
        height_cm=[growth[i] for i in listed],
    )
    frame["child_id"] = "x"
    frame["posyandu"] = ["A"] * 6 + ["B"] * 6
    for rows in (frame, frame.iloc[::-1].reset_index(drop=True)):
        report = quality_report(rows, by="posyandu")
        assert row_of(report, "A")["height_decrease_pct"] == pytest.approx(100 / 5)
        assert row_of(report, "B")["height_decrease_pct"] == pytest.approx(0.0)
        assert row_of(report, TOTAL_LABEL)["height_decrease_pct"] == pytest.approx(100 / 11)


def test_a_repeated_measurement_counts_in_the_group_of_the_later_row() -> None:
    # in date order: A on 10 January, then B and A on 10 February (A's row comes later)
    frame = hand_frame(3, visit_date=["2024-02-10", "2024-01-10", "2024-02-10"])
    frame["child_id"] = "x"
    frame["posyandu"] = ["B", "A", "A"]
    report = quality_report(frame, by="posyandu")
    assert row_of(report, "A")["duplicate_pct"] == pytest.approx(50.0)
    assert row_of(report, "B")["duplicate_pct"] == pytest.approx(0.0)
    assert row_of(report, TOTAL_LABEL)["duplicate_pct"] == pytest.approx(100 / 3)


def test_rows_without_a_visit_date_are_not_visits_between_others() -> None:
    """January 10.0 kg and 80.0 cm, February 8.9 kg (11% lost) and 80.5 cm; between them in
    the file two undated rows of 5.0 kg and 70.0 cm, which are neither visits on one day nor
    visits between the two."""
    frame = hand_frame(
        4,
        visit_date=["2024-01-10", None, None, "2024-02-10"],
        weight_kg=[10.0, 5.0, 5.0, 8.9],
        waz=[0.0, -4.0, -4.0, -0.9],
        height_cm=[80.0, 70.0, 70.0, 80.5],
    )
    frame["child_id"] = "x"
    row = row_of(quality_report(frame))
    assert row["weight_velocity_pct"] == pytest.approx(100.0)  # one pair, implausible
    assert row["height_decrease_pct"] == pytest.approx(0.0)  # one pair, growing
    assert row["duplicate_pct"] == pytest.approx(0.0)


def test_row_counts_read_nullable_codes_and_flags_and_absent_columns() -> None:
    """Missing codes and flags count as unknown sex and as not flagged; without measure and
    position_flag columns every measured height lacks its position and none is flagged."""
    frame = hand_frame(
        4,
        sex=pd.array([1, None, 2, 0], dtype="Int8"),
        haz_flag=pd.array([True, None, False, False], dtype="boolean"),
        age_days=[-3.0, 2000.0, 100.0, np.nan],
        weight_kg=[1e12, 10.7 - 0.4, 12.3, 12.0],
    ).drop(columns=["measure", "position_flag"])
    row = row_of(quality_report(frame))
    assert row["missing_sex_pct"] == pytest.approx(50.0)
    assert row["flagged_haz_pct"] == pytest.approx(25.0)
    assert row["age_out_of_range_pct"] == pytest.approx(100 * 2 / 3)  # of the 3 known ages
    assert row["missing_position_pct"] == pytest.approx(100.0)
    assert row["position_flag_pct"] == pytest.approx(0.0)
    # tenths digits 0 (an absurd weight still has one), 3 (10.299999... as written), 3, 0
    chi2 = stats.chisquare([2, 0, 0, 2, 0, 0, 0, 0, 0, 0]).statistic
    assert row["dps_weight"] == pytest.approx(100 * np.sqrt(chi2 / (4 * 9)))


def test_numeric_child_keys_are_one_child_wherever_their_rows_are() -> None:
    frame = hand_frame(7, visit_date=monthly("2024-01-01", 7))
    frame["child_id"] = [7.0, 7.0, 3.0, 7.0, 3.0, np.nan, np.nan]  # missing: a child each
    assert row_of(quality_report(frame))["n_children"] == 4
    frame["child_id"] = [7, 7, 3, 7, 3, 5, 5]
    assert row_of(quality_report(frame))["n_children"] == 3


def test_the_report_does_not_depend_on_how_the_visits_are_split_into_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The consecutive visits are checked a block of whole children at a time; blocks of a
    few rows (many children cut at block ends) give the report of one block."""
    import kbtool.quality.longitudinal as longitudinal

    register, _ = inject_defects(clean_register(), "copied_heights", share=0.2, seed=4)
    listed = prepared(register)
    for frame in (listed, listed.sample(frac=1.0, random_state=6).reset_index(drop=True)):
        with monkeypatch.context() as patch:
            whole = quality_report(frame, by="posyandu", period="month", child_key="child_key")
            patch.setattr(longitudinal, "BLOCK_ROWS", 7)
            blocks = quality_report(frame, by="posyandu", period="month", child_key="child_key")
        pd.testing.assert_frame_equal(whole.table, blocks.table)
        assert whole.table["height_repeated_pct"].max() > 0


# --- the table ---------------------------------------------------------------------------------


def test_columns_rows_and_cells_are_stable() -> None:
    frame = hand_frame(
        6, visit_date=["2023-05-10", "2023-05-10", "2024-01-10", "2024-02-10", "2024-02-11", None]
    )
    frame["posyandu"] = ["B", "A", "A", None, "B", "A"]
    report = quality_report(frame, by="posyandu", period="year")
    table = report.table
    assert list(table.columns) == ["year", "posyandu", *TABLE_COLUMNS]
    labels = list(zip(table["year"].astype("object"), table["posyandu"], strict=True))
    assert labels == [
        (2023, "A"),
        (2023, "B"),
        (2023, TOTAL_LABEL),
        (2024, "A"),
        (2024, "B"),
        (2024, UNKNOWN_LABEL),
        (2024, TOTAL_LABEL),
        (pd.NA, "A"),  # the row without a visit date
        (pd.NA, TOTAL_LABEL),
    ]
    assert table["n_rows"].tolist() == [1, 1, 2, 1, 1, 1, 3, 1, 1]
    assert set(report.cells) == {c.column for c in CHECKS} | {"rating"}
    assert all(len(v) == len(table) for v in report.cells.values())
    assert table["rating"].isna().all()  # too few measurements to rate anything
    month = quality_report(frame, by="posyandu", period="month").table
    assert month["period"].tolist()[:3] == ["2023-05", "2023-05", "2023-05"]
    assert month["period"].iloc[-1] == UNKNOWN_LABEL
    whole = quality_report(frame).table
    assert "year" not in whole.columns
    assert whole["n_children"].iloc[-1] == 6  # the child measured on no known date too


def test_row_order_does_not_change_the_report() -> None:
    frame = prepared(clean_register())
    shuffled = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    one = quality_report(frame, by="kelurahan", period="year", child_key="child_key")
    two = quality_report(shuffled, by="kelurahan", period="year", child_key="child_key")
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(one.findings, two.findings)


def test_store_like_columns_work_too() -> None:
    # the store: child_key, boolean flags (missing where no z-score), categoricals, no name
    frame = prepared(clean_register()).drop(columns=["child_id", "name"])
    store = frame.copy()
    for flag in ("haz_flag", "waz_flag", "whz_flag", "position_flag"):
        store[flag] = store[flag].astype("boolean")
    store["child_key"] = store["child_key"].map(lambda k: f"key{k:06d}").astype("category")
    one = quality_report(frame, by="kecamatan", child_key="child_key").table
    two = quality_report(store, by="kecamatan", child_key="child_key").table
    pd.testing.assert_frame_equal(one, two)


def test_missing_columns_and_bad_options_are_clear_errors() -> None:
    frame = hand_frame(3)
    with pytest.raises(InputError, match="compute z-scores first"):
        quality_report(frame.drop(columns=["haz"]))
    with pytest.raises(InputError, match="'child_key' not found"):
        quality_report(frame, child_key="child_key")
    with pytest.raises(UsageError, match="--by"):
        quality_report(frame, by="puskesmas")
    with pytest.raises(UsageError, match="--period"):
        quality_report(frame, period="quarter")
    with pytest.raises(InputError, match="not dates"):
        quality_report(frame.assign(visit_date="2024-01-01"))


def test_blank_and_missing_child_keys_are_children_of_their_own() -> None:
    frame = hand_frame(4, visit_date=["2024-01-10"] * 4)
    frame["child_id"] = ["", None, "x", "x"]
    assert row_of(quality_report(frame))["n_children"] == 3


# --- generated registers: clean ones pass, known defects are caught where they are -------------


@cache
def clean_register() -> pd.DataFrame:
    """About 3,000 children measured monthly through 2023 (roughly 20,000 visits)."""
    return generate_register(3000, years=(2023,), seed=20240805)


def prepared(register: pd.DataFrame) -> pd.DataFrame:
    """A generated register as quality_report takes it: position codes, z-scores, child keys."""
    frame = register.copy()
    frame["measure"] = measure_codes(frame["measure"])
    frame["child_key"] = child_numbers(frame)
    return pd.concat([frame, compute_zscores(frame, full_precision=True)], axis=1)


def with_defect(column: str, value: str, kind: str, share: float) -> pd.DataFrame:
    """The clean register with one defect injected into the rows where column == value."""
    register = clean_register()
    inside = (register[column] == value).to_numpy()
    damaged, changed = inject_defects(register[inside], kind, share=share, seed=3)
    assert changed.any()
    return prepared(pd.concat([register[~inside], damaged]).sort_index())


@pytest.mark.parametrize("by", ["kecamatan", "kelurahan", "posyandu"])
def test_a_clean_register_is_rated_excellent_or_good(by: str) -> None:
    report = quality_report(prepared(clean_register()), by=by, child_key="child_key")
    ratings = report.table["rating"].dropna()
    assert len(ratings) > 0
    assert set(ratings) <= FINE, report.findings.to_string()
    assert report.findings.empty


def reasons_of(report: Any, group: str) -> str:
    findings = report.findings
    return str(findings[findings[report.by] == group]["reasons"].iloc[0])


def bad_rows(report: Any) -> pd.DataFrame:
    table = report.table
    return table[table["rating"].isin(BAD) & (table[report.by] != TOTAL_LABEL)]


def test_heaped_decimals_are_caught_in_their_kecamatan() -> None:
    frame = with_defect("kecamatan", "Metro Utara", "heaped_decimals", share=1.0)
    report = quality_report(frame, by="kecamatan", child_key="child_key")
    assert bad_rows(report)["kecamatan"].tolist() == ["Metro Utara"]
    row = row_of(report, "Metro Utara")
    assert row["dps_height"] == pytest.approx(100.0)  # every height a whole number
    assert report.cells["dps_height"][position(report, "Metro Utara")] == "problematic"
    assert report.cells["dps_weight"][position(report, "Metro Utara")] == "problematic"
    assert report.findings.iloc[0]["kecamatan"] == "Metro Utara"  # groups before the area
    assert "digit preference score of height 100" in reasons_of(report, "Metro Utara")


def test_copied_heights_are_caught_in_their_kecamatan() -> None:
    frame = with_defect("kecamatan", "Metro Barat", "copied_heights", share=0.5)
    report = quality_report(frame, by="kecamatan", child_key="child_key")
    assert bad_rows(report)["kecamatan"].tolist() == ["Metro Barat"]
    assert row_of(report, "Metro Barat")["height_repeated_pct"] > 10.0
    assert report.cells["height_repeated_pct"][position(report, "Metro Barat")] == "problematic"
    assert "identical height" in reasons_of(report, "Metro Barat")


def test_shrinking_children_are_caught_in_their_kecamatan() -> None:
    frame = with_defect("kecamatan", "Metro Timur", "shrinking", share=1.0)
    report = quality_report(frame, by="kecamatan", child_key="child_key")
    assert bad_rows(report)["kecamatan"].tolist() == ["Metro Timur"]
    assert row_of(report, "Metro Timur")["height_decrease_pct"] > 5.0
    assert report.cells["height_decrease_pct"][position(report, "Metro Timur")] == "problematic"
    assert "falls by more than 1.5 cm" in reasons_of(report, "Metro Timur")


def test_a_sex_imbalance_is_caught_in_its_kecamatan() -> None:
    frame = with_defect("kecamatan", "Metro Selatan", "sex_imbalance", share=1.0)
    report = quality_report(frame, by="kecamatan", child_key="child_key")
    assert bad_rows(report)["kecamatan"].tolist() == ["Metro Selatan"]
    row = row_of(report, "Metro Selatan")
    assert row["sex_ratio"] == np.inf  # every girl recorded as a boy
    assert report.cells["sex_ratio_p"][position(report, "Metro Selatan")] == "problematic"
    assert "only boys recorded" in reasons_of(report, "Metro Selatan")


def test_a_posyandu_with_a_short_length_board_is_caught_against_its_kelurahan() -> None:
    register = clean_register()
    sizes = register[register["kelurahan"] == "Iringmulyo"].groupby("posyandu", observed=True)
    target = str(sizes["child_id"].size().idxmax())  # the busiest of its eight posyandu
    frame = with_defect("posyandu", target, "skewed_posyandu", share=1.0)
    report = quality_report(frame, by="posyandu", child_key="child_key")
    assert bad_rows(report)["posyandu"].tolist() == [target]
    row = row_of(report, target)
    assert row["mean_haz_gap"] < -0.5
    assert report.cells["mean_haz_gap_p"][position(report, target)] == "problematic"
    assert "below the rest of Iringmulyo" in reasons_of(report, target)


def test_a_skewed_haz_distribution_is_caught_in_its_kecamatan() -> None:
    register = clean_register().copy()
    child = child_numbers(register)
    rng = np.random.default_rng(8)
    # a tenth of the children of one kecamatan measured 8-12 cm short every time (a folded
    # length mat): a long left tail of HAZ
    short = rng.random(int(child.max()) + 1) < 0.1
    inside = (register["kecamatan"] == "Metro Pusat").to_numpy() & short[child]
    loss = rng.uniform(8.0, 12.0, int(child.max()) + 1)[child]
    register.loc[inside, "height_cm"] = np.round(
        register.loc[inside, "height_cm"] - loss[inside], 1
    )
    report = quality_report(prepared(register), by="kecamatan", child_key="child_key")
    assert bad_rows(report)["kecamatan"].tolist() == ["Metro Pusat"]
    row = row_of(report, "Metro Pusat")
    at = position(report, "Metro Pusat")
    assert row["skew_haz"] < -0.6
    assert report.cells["skew_haz"][at] == "problematic"
    assert report.cells["sd_haz"][at] == "problematic"
    assert "skewness of HAZ" in reasons_of(report, "Metro Pusat")


def test_problem_cells_mark_acceptable_and_problematic_ratings() -> None:
    frame = with_defect("kecamatan", "Metro Utara", "heaped_decimals", share=1.0)
    report = quality_report(frame, by="kecamatan", child_key="child_key")
    problems = report.problem_cells()
    assert set(problems) == set(report.cells)
    for column, ratings in report.cells.items():
        assert problems[column] == [r in BAD for r in ratings]
        assert set(ratings) <= {*RATINGS, None}


@pytest.mark.parametrize("size", [1, 7, 40_000])
def test_packed_counts_match_one_bincount_per_condition(size: int) -> None:
    """Conditions packed as bits of one key count as a bincount per condition would; 11
    conditions need two flushes, and 40,000 codes leave room for fewer than 8 bits."""
    from kbtool.quality.counting import PackedCounts

    rng = np.random.default_rng(5)
    codes = rng.integers(0, size, 50_000).astype(np.int64)
    masks = {f"c{i}": rng.random(codes.size) < 0.1 * (i % 10) for i in range(11)}
    out: dict[str, Any] = {}
    packed = PackedCounts(codes, size, out)
    for name, mask in masks.items():
        packed.add(name, mask)
    packed.flush()
    assert packed.width < 8 if size == 40_000 else packed.width == 8
    for name, mask in masks.items():
        expected = np.bincount(codes[mask], minlength=size).astype(np.float64)
        np.testing.assert_array_equal(out[name], expected)
