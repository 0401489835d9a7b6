"""Prevalence against WHO's results (R anthro), the CI formula by hand, the selection rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH
from kbtool.errors import InputError, UsageError
from kbtool.growth.zscores import compute_zscore_arrays
from kbtool.prevalence import (
    FIGURE_COLUMNS,
    age_groups,
    compute_prevalence,
    is_low_precision,
    prevalence_ci,
    select_period_measurements,
)
from tests.conftest import SHARED_WHO, WHO_DATA

# The expected file prints 15 significant digits (R's write.csv), so for values up to 100 the
# printed figure itself is only good to about 1e-13; 1e-6 is the acceptance tolerance
# and still catches any real difference (a wrong N, df or rounding moves figures by > 1e-3).
FIGURE_TOLERANCE = 1e-6

EXPECTED_TO_OURS = {
    "prevalence": "stunting_pct",
    "ci_low": "stunting_ci_low",
    "ci_high": "stunting_ci_high",
    "severe_prevalence": "severe_pct",
    "severe_ci_low": "severe_ci_low",
    "severe_ci_high": "severe_ci_high",
    "mean_haz": "mean_haz",
    "sd_haz": "sd_haz",
}


def visits_with_haz() -> pd.DataFrame:
    """posyandu_visits.csv with its z-scores (HAZ, WAZ, WHZ, BMIZ) and flags computed by
    kbtool's kernel at full precision."""
    visits = pd.read_csv(
        WHO_DATA / "posyandu_visits.csv",
        dtype={"child_id": str},
        parse_dates=["birth_date", "visit_date"],
    )
    age_days = (visits["visit_date"] - visits["birth_date"]).dt.days.to_numpy(dtype=float)
    measure = visits["measure"].map({"l": MEASURE_LENGTH, "h": MEASURE_HEIGHT}).to_numpy()
    z = compute_zscore_arrays(
        visits["sex"].to_numpy(),
        age_days,
        visits["weight_kg"].to_numpy(),
        visits["height_cm"].to_numpy(),
        measure,
        full_precision=True,
    )
    scores = {name: getattr(z, name) for name in ("haz", "waz", "whz", "bmiz")}
    flags = {f"{name}_flag": getattr(z, f"{name}_flag") for name in scores}
    return visits.assign(**scores, **flags, age_days=z.age_days)


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    return visits_with_haz()


def test_copies_equal_shared_reference() -> None:
    """The test copies are the shared WHO reference files, byte for byte (when ../shared exists)."""
    if not (SHARED_WHO / "prevalence_expected.csv").exists():
        pytest.skip("../shared/who-reference is not present")
    for name in (
        "posyandu_visits.csv",
        "prevalence_expected.csv",
        "prevalence_indicators_expected.csv",
    ):
        assert (WHO_DATA / name).read_bytes() == (SHARED_WHO / name).read_bytes()


def test_parity_with_who_anthro_prevalence(visits: pd.DataFrame) -> None:
    """Per kelurahan and year, and the All row per year, equal R anthro_prevalence's results."""
    expected = pd.read_csv(WHO_DATA / "prevalence_expected.csv")
    ours = compute_prevalence(visits, by=("kelurahan",), period="year", min_n=0, total=True)
    merged = expected.merge(
        ours,
        left_on=["year", "group"],
        right_on=["year", "kelurahan"],
        how="outer",
        suffixes=("_who", ""),
        indicator=True,
    )
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both"]
    assert len(merged) == len(expected) == 46
    assert (merged["n_who"] == merged["n"]).all()
    for theirs, column in EXPECTED_TO_OURS.items():
        who_name = f"{theirs}_who" if theirs == column else theirs
        difference = (merged[who_name] - merged[column]).abs()
        assert difference.max() < FIGURE_TOLERANCE, (column, difference.max())
    # the counts behind the percentages are whole children
    stunted = merged["prevalence"] * merged["n"] / 100
    assert np.allclose(stunted, merged["stunted"].astype(float), atol=1e-9)
    assert (merged["note"] == "").all()


def test_parity_counts_reconcile(visits: pd.DataFrame) -> None:
    """Every child measured in a year is counted or excluded exactly once that year."""
    ours = compute_prevalence(visits, min_n=0, total=True)
    groups = ours[ours["kelurahan"] != "All"]
    per_year = (groups["n"] + groups["excluded"]).groupby(groups["year"]).sum()
    children = visits.groupby(visits["visit_date"].dt.year)["child_id"].nunique()
    assert per_year.to_dict() == children.to_dict()
    totals = ours[ours["kelurahan"] == "All"].set_index("year")
    assert (totals["n"] == groups.groupby("year")["n"].sum()).all()


def test_year_alone_is_the_whole_area_total(visits: pd.DataFrame) -> None:
    by_year = compute_prevalence(visits, by=("year",), min_n=0)
    assert list(by_year.columns) == ["year", *FIGURE_COLUMNS, "note"]
    with_total = compute_prevalence(visits, min_n=0, total=True)
    all_rows = with_total[with_total["kelurahan"] == "All"].drop(columns="kelurahan")
    pd.testing.assert_frame_equal(
        by_year.reset_index(drop=True),
        all_rows.reset_index(drop=True),
        check_exact=False,
        rtol=0,
        atol=1e-12,  # totals pooled from groups vs read directly: rounding noise only
    )
    assert compute_prevalence(visits, by=(), min_n=0).equals(by_year)


def test_columns_and_order(visits: pd.DataFrame) -> None:
    result = compute_prevalence(visits, by=("kecamatan", "kelurahan"), total=True)
    assert list(result.columns) == ["year", "kecamatan", "kelurahan", *FIGURE_COLUMNS, "note"]
    quarterly = compute_prevalence(visits, by=("sex",), period="quarter")
    assert list(quarterly.columns) == ["period", "sex", *FIGURE_COLUMNS, "note"]
    assert set(quarterly["sex"]) == {"male", "female"}
    # sorted by period, then group, the total row last in its period
    assert result["year"].is_monotonic_increasing
    for _, block in result.groupby("year"):
        assert block["kecamatan"].iloc[-1] == "All" and block["kelurahan"].iloc[-1] == "All"
        body = block.iloc[:-1]
        keys = list(zip(body["kecamatan"], body["kelurahan"], strict=True))
        assert keys == sorted(keys)


# --- the confidence interval -------------------------------------------------------------------


def test_ci_hand_worked_example() -> None:
    """n = 50 children, 10 stunted, in a period of N = 200 children (R/prevalence-simple.R).

    r = 10/50 = 0.2; logit(r) = ln(0.2/0.8) = ln(0.25) = -1.3862943611198906
    var = 1 / (n r (1-r)) = 1 / (50 x 0.2 x 0.8) = 1/8 = 0.125
    se = sqrt(N/(N-1) x var) = sqrt(200/199 x 0.125) = 0.3544406025041679
    t = qt(0.975, df = 199) = 1.9719565442517533
    low = plogis(-1.3862943611198906 - 0.3544406025041679 x 1.9719565442517533)
        = plogis(-2.0852358267765188) = 0.11054012426091187 -> 11.054012426091187 %
    high = plogis(-0.6873528954632623) = 0.3346221933080791 -> 33.46221933080791 %
    """
    pct, low, high = prevalence_ci(10, 50, 200)
    # written out independently of kbtool with scipy
    t = stats.t.ppf(0.975, 199)
    se = math.sqrt(200 / 199 * (1 / (50 * 0.2 * 0.8)))
    assert float(pct) == pytest.approx(20.0, abs=1e-12)
    assert float(low) == pytest.approx(100 * special.expit(math.log(0.25) - se * t), abs=1e-12)
    assert float(high) == pytest.approx(100 * special.expit(math.log(0.25) + se * t), abs=1e-12)
    # and the hand-worked figures above (printed to 17 digits, so 1e-9 is generous)
    assert float(low) == pytest.approx(11.054012426091187, abs=1e-9)
    assert float(high) == pytest.approx(33.46221933080791, abs=1e-9)
    assert float(t) == pytest.approx(1.9719565442517533, abs=1e-12)


def test_ci_at_zero_and_hundred_percent() -> None:
    pct, low, high = prevalence_ci([0, 30, 0], [30, 30, 0], [100, 100, 100])
    assert (pct[0], low[0], high[0]) == (0.0, 0.0, 0.0)
    assert (pct[1], low[1], high[1]) == (100.0, 100.0, 100.0)
    assert np.isnan([pct[2], low[2], high[2]]).all()  # no child: no figure


def test_ci_uses_period_total_not_group_size() -> None:
    """The same group inside a larger period gets a narrower t (more degrees of freedom)."""
    _, low_small, _ = prevalence_ci(10, 50, 50)
    _, low_large, _ = prevalence_ci(10, 50, 5000)
    assert float(low_small) < float(low_large)


# --- selection ---------------------------------------------------------------------------------


def measurements(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """A frame of (child_id, visit_date, haz, haz_flag, kelurahan) rows."""
    frame = pd.DataFrame(rows, columns=["child_id", "visit_date", "haz", "haz_flag", "kelurahan"])
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    return frame


def test_flagged_latest_visit_falls_back_to_earlier_valid_one() -> None:
    frame = measurements(
        [
            ("a", "2023-03-01", -2.5, False, "X"),
            ("a", "2023-06-01", -7.0, True, "X"),  # latest, flagged
            ("a", "2023-09-01", np.nan, False, "X"),  # later still, HAZ not computable
        ]
    )
    selection = select_period_measurements(frame)
    assert selection.selected["haz"].tolist() == [-2.5]
    assert selection.selected["period"].tolist() == [2023]
    assert selection.excluded.empty
    result = compute_prevalence(frame, min_n=0)
    assert result[["n", "stunted", "excluded"]].values.tolist() == [[1, 1, 0]]


def test_selection_by_another_z_score_picks_its_own_latest_valid_visit() -> None:
    """select_period_measurements(z_column=, flag_column=) chooses by that z-score: the
    latest visit with a valid WAZ, where HAZ would choose another."""
    frame = measurements(
        [
            ("a", "2023-03-01", -2.5, False, "X"),
            ("a", "2023-06-01", -1.0, False, "X"),
        ]
    )
    frame["waz"] = [-1.5, -6.5]
    frame["waz_flag"] = [False, True]  # the later WAZ is flagged
    by_haz = select_period_measurements(frame).selected
    by_waz = select_period_measurements(frame, z_column="waz", flag_column="waz_flag").selected
    assert by_haz["haz"].tolist() == [-1.0]
    assert by_waz["waz"].tolist() == [-1.5]


def test_child_in_two_years_counts_once_in_each() -> None:
    frame = measurements(
        [
            ("a", "2022-11-01", -1.0, False, "X"),
            ("a", "2022-12-01", -2.1, False, "X"),
            ("a", "2023-01-05", -1.5, False, "X"),
            ("a", "2023-02-05", -1.2, False, "X"),
        ]
    )
    selected = select_period_measurements(frame).selected.sort_values("period")
    assert selected[["period", "haz"]].values.tolist() == [[2022, -2.1], [2023, -1.2]]
    result = compute_prevalence(frame, min_n=0)
    assert result[["year", "n", "stunted"]].values.tolist() == [[2022, 1, 1], [2023, 1, 0]]


def test_rows_without_a_child_key_are_a_child_each() -> None:
    """A blank key, like a missing one, names no child: each such row is a child of its own,
    as quality counts them (two blank rows are not one child measured twice)."""
    frame = measurements(
        [
            ("", "2023-03-01", -2.5, False, "X"),
            ("  ", "2023-06-01", -2.6, False, "X"),
            (None, "2023-06-01", 0.0, False, "X"),
            ("a", "2023-09-01", 0.0, False, "X"),
        ]
    )
    result = compute_prevalence(frame, min_n=0)
    assert result[["n", "stunted"]].values.tolist() == [[4, 2]]


def test_child_without_valid_haz_is_excluded_in_its_latest_group() -> None:
    frame = measurements(
        [
            ("a", "2023-01-01", -1.0, False, "X"),
            ("b", "2023-02-01", np.nan, False, "X"),
            ("b", "2023-05-01", 6.5, True, "Y"),  # latest: moved to Y, still invalid
        ]
    )
    selection = select_period_measurements(frame)
    assert selection.excluded[["child_id", "kelurahan"]].values.tolist() == [["b", "Y"]]
    result = compute_prevalence(frame, min_n=0, total=True)
    assert result[["kelurahan", "n", "excluded"]].values.tolist() == [
        ["X", 1, 0],
        ["Y", 0, 1],
        ["All", 1, 1],
    ]
    y_row = result[result["kelurahan"] == "Y"].iloc[0]
    assert np.isnan(y_row["stunting_pct"]) and y_row["note"] == "no child with a valid HAZ"


def test_child_who_moved_counts_where_measured_last() -> None:
    frame = measurements(
        [
            ("a", "2023-01-01", -2.5, False, "X"),
            ("a", "2023-11-01", -2.4, False, "Y"),
        ]
    )
    result = compute_prevalence(frame, min_n=0)
    assert result[["kelurahan", "n"]].values.tolist() == [["Y", 1]]


def test_same_day_twice_later_row_wins() -> None:
    frame = measurements(
        [
            ("a", "2023-04-01", -1.0, False, "X"),
            ("a", "2023-04-01", -3.5, False, "X"),
        ]
    )
    assert select_period_measurements(frame).selected["haz"].tolist() == [-3.5]


def test_months_filter_keeps_only_bulan_timbang() -> None:
    frame = measurements(
        [
            ("a", "2023-02-10", -2.5, False, "X"),
            ("a", "2023-08-10", -1.0, False, "X"),
            ("a", "2023-11-10", -3.5, False, "X"),  # outside February/August
            ("b", "2023-05-10", -2.5, False, "X"),  # never measured in February/August
        ]
    )
    selection = select_period_measurements(frame, months=[2, 8])
    assert selection.selected[["child_id", "haz"]].values.tolist() == [["a", -1.0]]
    assert selection.months == (2, 8)
    only_february = select_period_measurements(frame, months=[2])
    assert only_february.selected["haz"].tolist() == [-2.5]
    with pytest.raises(UsageError):
        select_period_measurements(frame, months=[13])


def test_quarter_and_month_labels() -> None:
    frame = measurements(
        [
            ("a", "2023-02-10", -2.5, False, "X"),
            ("a", "2023-03-31", -1.0, False, "X"),
            ("a", "2023-04-01", -3.5, False, "X"),
            ("a", "2024-12-31", -0.5, False, "X"),
        ]
    )
    quarters = select_period_measurements(frame, period="quarter").selected
    assert sorted(zip(quarters["period"].astype(str), quarters["haz"], strict=True)) == [
        ("2023-Q1", -1.0),
        ("2023-Q2", -3.5),
        ("2024-Q4", -0.5),
    ]
    months = compute_prevalence(frame, by=(), period="month", min_n=0)
    assert months["period"].tolist() == ["2023-02", "2023-03", "2023-04", "2024-12"]
    assert months["n"].tolist() == [1, 1, 1, 1]


def test_classification_on_rounded_haz() -> None:
    """WHO classifies the rounded z: -2.004 -> -2.00 is not stunted, -2.006 -> -2.01 is;
    -3.0001 -> -3.00 is not severely stunted, -3.006 -> -3.01 is; the mean is of rounded values."""
    frame = measurements(
        [
            ("a", "2023-01-01", -2.004, False, "X"),
            ("b", "2023-01-01", -2.006, False, "X"),
            ("c", "2023-01-01", -3.0001, False, "X"),
            ("d", "2023-01-01", -3.006, False, "X"),
        ]
    )
    result = compute_prevalence(frame, min_n=0)
    assert result[["n", "stunted", "severe"]].values.tolist() == [[4, 3, 1]]
    assert result["mean_haz"].iloc[0] == pytest.approx((-2.00 - 2.01 - 3.00 - 3.01) / 4)


def test_missing_child_key_counts_each_row_as_a_child() -> None:
    frame = measurements(
        [
            (None, "2023-01-01", -1.0, False, "X"),
            (None, "2023-02-01", -1.0, False, "X"),
        ]
    )
    assert compute_prevalence(frame, min_n=0)["n"].tolist() == [2]


# --- suppression, groups, errors ---------------------------------------------------------------


def many_children(kelurahan: str, count: int, haz: float = -2.5) -> list[tuple[Any, ...]]:
    return [(f"{kelurahan}{i}", "2023-06-01", haz, False, kelurahan) for i in range(count)]


def test_small_groups_are_suppressed() -> None:
    frame = measurements(many_children("X", 24) + many_children("Y", 25))
    result = compute_prevalence(frame, total=True).set_index("kelurahan")
    small = result.loc["X"]
    assert small["n"] == 24 and small["note"] == "n < 25: figures suppressed"
    for column in FIGURE_COLUMNS:
        if column not in ("n", "excluded"):
            assert pd.isna(small[column]), column
    assert result.loc["Y", "stunting_pct"] == 100.0 and result.loc["Y", "note"] == ""
    assert result.loc["All", "n"] == 49 and result.loc["All", "stunted"] == 49
    shown = compute_prevalence(frame, min_n=0).set_index("kelurahan")
    assert shown.loc["X", "stunting_pct"] == 100.0 and shown.loc["X", "note"] == ""
    hidden = compute_prevalence(frame, min_n=50)
    assert hidden["stunting_pct"].isna().all()
    assert hidden["note"].tolist() == ["n < 50: figures suppressed"] * 2


def test_low_precision_marking() -> None:
    assert is_low_precision([0, 24, 25, 49, 50, 1000]).tolist() == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]


def test_missing_group_value_is_unknown_and_sorted_last() -> None:
    frame = measurements(
        [
            ("a", "2023-01-01", -1.0, False, None),
            ("b", "2023-01-01", -1.0, False, "  "),
            ("c", "2023-01-01", -1.0, False, "X"),
        ]
    )
    result = compute_prevalence(frame, min_n=0, total=True)
    assert result[["kelurahan", "n"]].values.tolist() == [["X", 1], ["(unknown)", 2], ["All", 3]]


def test_age_group_boundaries() -> None:
    """R anthro: cut(age_days / 30.4375, c(0, 6, 12, 24, 36, 48, 60), right = FALSE).

    182 days = 5.98 months -> "00-05 mo"; 183 days = 6.01 months -> "06-11 mo";
    365 days = 11.99 -> "06-11 mo"; 366 = 12.02 -> "12-23 mo"; 1826 = 59.99 -> "48-59 mo";
    1827 = 60.02 and negative ages -> none.
    """
    groups = age_groups([0, 182, 183, 365, 366, 730, 731, 1826, 1827, -1, np.nan])
    assert list(groups.astype(object)[:8]) == [
        "00-05 mo",
        "00-05 mo",
        "06-11 mo",
        "06-11 mo",
        "12-23 mo",
        "12-23 mo",
        "24-35 mo",
        "48-59 mo",
    ]
    assert groups.isna()[8:].all()


def test_by_age_group_uses_the_measurement_used() -> None:
    frame = measurements(
        [
            ("a", "2023-01-01", -1.0, False, "X"),
            ("a", "2023-12-01", -1.0, False, "X"),  # used: 183 days old
            ("b", "2023-06-01", -1.0, False, "X"),  # 182 days old
        ]
    )
    frame["age_days"] = [-151.0, 183.0, 182.0]
    result = compute_prevalence(frame, by=("age_group",), min_n=0)
    assert result[["age_group", "n"]].values.tolist() == [["00-05 mo", 1], ["06-11 mo", 1]]


def test_unknown_options_and_columns_are_clear_errors() -> None:
    frame = measurements([("a", "2023-01-01", -1.0, False, "X")])
    with pytest.raises(UsageError, match="period"):
        compute_prevalence(frame, period="week")
    with pytest.raises(InputError, match="posyandu"):
        compute_prevalence(frame, by=("posyandu",))
    with pytest.raises(InputError, match="age_days"):
        compute_prevalence(frame, by=("age_group",))
    with pytest.raises(UsageError, match="twice"):
        compute_prevalence(frame, by=("kelurahan", "kelurahan"))
    with pytest.raises(InputError, match="visit_date"):
        compute_prevalence(frame.assign(visit_date="2023-01-01"))


def test_no_measurement_gives_an_empty_table_with_the_columns() -> None:
    frame = measurements([("a", "2023-01-01", -1.0, False, "X")])
    result = compute_prevalence(frame, months=[6], total=True)
    assert result.empty
    assert list(result.columns) == ["year", "kelurahan", *FIGURE_COLUMNS, "note"]


def test_selection_with_categorical_and_integer_keys() -> None:
    """Child keys as the store may hold them: categorical, or non-dense integers."""
    base = measurements(
        [
            ("k1", "2023-01-01", -1.0, False, "X"),
            ("k1", "2023-05-01", -2.5, False, "X"),
            ("k2", "2023-03-01", -3.5, False, "X"),
        ]
    )
    for keys in (
        base["child_id"].astype("category"),
        pd.Series([10**15, 10**15, 7]),
        pd.Series([3, 3, 0]),
    ):
        frame = base.assign(child_id=keys, kelurahan=base["kelurahan"].astype("category"))
        result = compute_prevalence(frame, min_n=0)
        assert result[["n", "stunted", "severe"]].values.tolist() == [[2, 2, 1]]


def visits_in_runs(seed: int, n_children: int = 300) -> pd.DataFrame:
    """Generated visits stored as a store holds them: each child's visits side by side (runs
    that cross years and months), some children again further down, some HAZ flagged or
    missing, some visits on the same day."""
    rng = np.random.default_rng(seed)
    n_rows = 4000
    child = np.sort(rng.integers(0, n_children, n_rows))
    strays = rng.random(n_rows) < 0.1
    child[strays] = rng.integers(0, n_children, int(strays.sum()))
    day = rng.integers(0, 3 * 365, n_rows)
    haz = rng.normal(-1, 1.5, n_rows)
    haz[rng.random(n_rows) < 0.15] = np.nan
    return pd.DataFrame(
        {
            "child_id": (child * 7_919_000_000_003 - 10**18).astype(np.int64),
            "visit_date": pd.Timestamp("2022-01-01") + pd.to_timedelta(day, unit="D"),
            "haz": haz,
            "haz_flag": rng.random(n_rows) < 0.1,
            "kelurahan": rng.choice(["A", "B", "C"], n_rows),
            "row": np.arange(n_rows),
        }
    )


def latest_valid_by_groupby(frame: pd.DataFrame, period: str) -> tuple[list[int], list[int]]:
    """The selection rule written the slow, obvious way: sort, then the last row per group."""
    dates = frame["visit_date"].dt
    label = {"year": dates.year, "quarter": dates.to_period("Q"), "month": dates.to_period("M")}
    data = frame.assign(
        period=label[period],
        valid=frame["haz"].notna() & ~frame["haz_flag"],
    )
    last = data.sort_values(["valid", "visit_date", "row"]).groupby(["child_id", "period"]).tail(1)
    return sorted(last.loc[last["valid"], "row"]), sorted(last.loc[~last["valid"], "row"])


@pytest.mark.parametrize("period", ["year", "quarter", "month"])
@pytest.mark.parametrize(("seed", "children"), [(1, 300), (2, 300), (3, 20_000)])
def test_selection_matches_a_groupby(period: str, seed: int, children: int) -> None:
    """Integer keys, text keys and rows in any order choose the same rows as the obvious
    groupby; with a child or two a row, most (child, period) pairs hold nothing."""
    frame = visits_in_runs(seed, children)
    selected, excluded = latest_valid_by_groupby(frame, period)
    as_integers = select_period_measurements(frame, period=period, columns=["row"])
    assert sorted(as_integers.selected["row"]) == selected
    assert sorted(as_integers.excluded["row"]) == excluded
    as_text = select_period_measurements(
        frame.assign(child_id=frame["child_id"].astype(str)), period=period, columns=["row"]
    )
    pd.testing.assert_frame_equal(as_text.selected, as_integers.selected)
    pd.testing.assert_frame_equal(as_text.excluded, as_integers.excluded)
    # no runs at all; the same day twice now breaks the other way (the later row wins)
    shuffled = frame.sample(frac=1, random_state=seed).assign(row=np.arange(len(frame)))
    selected, excluded = latest_valid_by_groupby(shuffled, period)
    shuffled_selection = select_period_measurements(shuffled, period=period, columns=["row"])
    assert sorted(shuffled_selection.selected["row"]) == selected
    assert sorted(shuffled_selection.excluded["row"]) == excluded


def test_runs_do_not_join_children_without_a_key() -> None:
    """Rows without a key next to each other are each a child of their own."""
    frame = measurements(
        [
            (None, "2023-01-01", -2.5, False, "X"),
            (None, "2023-02-01", -1.0, False, "X"),
            ("a", "2023-03-01", -3.5, False, "X"),
            ("a", "2023-04-01", -1.0, False, "X"),
        ]
    )
    for keys in (frame["child_id"], pd.array([pd.NA, pd.NA, 5, 5], dtype="Int64")):
        result = compute_prevalence(frame.assign(child_id=keys), min_n=0)
        assert result[["n", "stunted", "severe"]].values.tolist() == [[3, 1, 0]]
