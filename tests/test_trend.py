"""kbtool.trend: AARR, required AARR, projection and status, on hand-made prevalence results."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kbtool.errors import InputError, UsageError
from kbtool.trend import Target, compute_trend


def prevalence(rows: list[tuple[int, str, int, float]], min_n: int = 25) -> pd.DataFrame:
    """A one-indicator yearly prevalence result as compute_prevalence gives it (year,
    kelurahan, n, stunted, stunting_pct): only the columns a trend reads."""
    frame = pd.DataFrame(rows, columns=["year", "kelurahan", "n", "stunting_pct"])
    frame.insert(3, "stunted", (frame["n"] * frame["stunting_pct"] / 100).round().astype("Int64"))
    frame.attrs.update({"indicators": ["stunting"], "period": "year", "min_n": min_n})
    return frame


def one(trend: pd.DataFrame, place: str) -> dict[str, Any]:
    """The trend row of a kelurahan."""
    rows = trend[trend["kelurahan"] == place].to_dict("records")
    assert len(rows) == 1
    return {str(k): v for k, v in rows[0].items()}


def test_two_years_by_the_two_point_formula() -> None:
    """30% in 2022, 24% in 2024: AARR = 100 (1 - 0.8^(1/2)) = 10.557; from 24% to 14.2% in
    the 5 years to 2029 needs 100 (1 - (14.2/24)^(1/5)) = 9.964 (worked by hand with a
    calculator); at 10.557 a year 24% becomes 24 * 0.8^2.5 = 13.738: on track."""
    trend = compute_trend(prevalence([(2022, "A", 100, 30.0), (2024, "A", 100, 24.0)]))
    row = one(trend, "A")
    assert row["first_year"] == 2022 and row["last_year"] == 2024
    assert row["change_pp"] == pytest.approx(-6.0)
    assert row["aarr"] == pytest.approx(10.557281, abs=1e-6)
    assert row["required_aarr"] == pytest.approx(9.964160, abs=1e-6)
    assert row["projected_pct"] == pytest.approx(13.738402, abs=1e-6)
    assert row["status"] == "on track"
    assert (row["target_pct"], row["target_year"]) == (14.2, 2029)


def test_three_years_by_least_squares_on_the_log() -> None:
    """Three or more years: b the least-squares slope of ln(p) on year (numpy.polyfit here,
    independently), AARR = 100 (1 - e^b)."""
    pct = [40.0, 31.0, 33.0, 25.0]
    years = [2021, 2022, 2023, 2024]
    trend = compute_trend(prevalence([(y, "A", 80, p) for y, p in zip(years, pct, strict=True)]))
    slope = np.polyfit(years, np.log(pct), 1)[0]
    row = one(trend, "A")
    assert row["aarr"] == pytest.approx(100 * (1 - math.exp(slope)), abs=1e-9)  # 12.61
    # from 25% in 2024 to 14.2% in 2029 needs 100 (1 - (14.2/25)^(1/5)) = 10.70 a year
    assert row["required_aarr"] == pytest.approx(10.696256, abs=1e-6)
    assert row["status"] == "on track"


def test_suppressed_and_zero_years_are_left_out_and_said_so() -> None:
    """A suppressed year (no figure) leaves first/last year and the AARR; a year at 0% leaves
    the AARR only (no logarithm), and the note names both."""
    rows = [
        (2021, "A", 10, float("nan")),  # n < 25: suppressed
        (2022, "A", 60, 20.0),
        (2023, "A", 60, 0.0),
        (2024, "A", 60, 16.0),
    ]
    row = one(compute_trend(prevalence(rows)), "A")
    assert row["first_year"] == 2022 and row["last_year"] == 2024
    assert row["change_pp"] == pytest.approx(-4.0)
    assert row["aarr"] == pytest.approx(100 * (1 - (16 / 20) ** 0.5))  # 2022 and 2024 only
    assert row["n_2021"] == 10 and np.isnan(row["pct_2021"])
    assert "2021 (n < 25)" in row["note"] and "2023 (0%)" in row["note"]


def test_one_year_is_insufficient_data() -> None:
    trend = compute_trend(prevalence([(2024, "A", 100, 21.0), (2024, "B", 100, 12.0)]))
    a, b = one(trend, "A"), one(trend, "B")
    assert np.isnan(a["aarr"]) and np.isnan(a["change_pp"])
    assert a["status"] == "insufficient data"
    assert "fewer than two years" in a["note"]
    assert b["status"] == "on track"  # already at or below the target


def test_a_group_without_figures_and_one_missing_from_the_last_year() -> None:
    rows = [
        (2023, "A", 50, 30.0),
        (2024, "A", 50, 25.0),
        (2023, "B", 40, 30.0),  # no child measured in 2024: no row that year
        (2023, "C", 5, float("nan")),
        (2024, "C", 6, float("nan")),
    ]
    trend = compute_trend(prevalence(rows))
    b, c = one(trend, "B"), one(trend, "C")
    assert b["n_2024"] == 0 and b["last_year"] == 2023
    assert "2024 (no children)" in b["note"]
    assert b["status"] == "insufficient data"
    assert pd.isna(c["first_year"]) and c["status"] == "insufficient data"
    assert "no year with a prevalence" in c["note"]


def test_already_below_the_target_is_on_track_even_when_rising() -> None:
    row = one(compute_trend(prevalence([(2022, "A", 90, 8.0), (2024, "A", 90, 12.0)])), "A")
    assert row["aarr"] < 0
    assert row["status"] == "on track"


def test_a_target_year_already_past_compares_the_last_prevalence() -> None:
    rows = [(2022, "A", 90, 30.0), (2024, "A", 90, 20.0), (2022, "B", 90, 16.0),
            (2024, "B", 90, 13.0)]  # fmt: skip
    trend = compute_trend(prevalence(rows), [Target(14.0, 2024)])
    assert one(trend, "A")["status"] == "off track"
    assert one(trend, "B")["status"] == "on track"
    assert np.isnan(one(trend, "A")["required_aarr"])
    assert np.isnan(one(trend, "A")["projected_pct"])
    assert "target year 2024 not after the last year" in one(trend, "A")["note"]


def test_several_targets_add_suffixed_blocks() -> None:
    rows = [(2022, "A", 90, 30.0), (2024, "A", 90, 24.0)]
    trend = compute_trend(prevalence(rows), [Target(14.0, 2024), Target(14.2, 2029)])
    assert list(trend.columns) == [
        "kelurahan", "indicator", "pct_2022", "n_2022", "pct_2024", "n_2024", "first_year",
        "last_year", "change_pp", "aarr",
        "target_pct_2024", "target_year_2024", "required_aarr_2024", "projected_pct_2024",
        "status_2024",
        "target_pct_2029", "target_year_2029", "required_aarr_2029", "projected_pct_2029",
        "status_2029", "note",
    ]  # fmt: skip
    assert trend["status_2024"].tolist() == ["off track"]
    assert trend["status_2029"].tolist() == ["on track"]


def test_rows_in_group_order_unknown_after_named_the_area_last() -> None:
    rows = [(2024, name, 50, 20.0) for name in ("All", "(unknown)", "Banjarsari", "Metro")]
    trend = compute_trend(prevalence(rows))
    assert trend["kelurahan"].tolist() == ["Banjarsari", "Metro", "(unknown)", "All"]


def test_a_projection_stops_at_100_percent() -> None:
    row = one(compute_trend(prevalence([(2023, "A", 60, 40.0), (2024, "A", 60, 80.0)])), "A")
    assert row["projected_pct"] == 100.0


@pytest.mark.parametrize(
    ("text", "target"), [("14.2@2029", Target(14.2, 2029)), (" 14,2% @ 2029", Target(14.2, 2029))]
)
def test_target_parse(text: str, target: Target) -> None:
    assert Target.parse(text) == target


@pytest.mark.parametrize("text", ["14.2", "0@2029", "100@2029", "14@29", "x@2029"])
def test_target_parse_refuses(text: str) -> None:
    with pytest.raises(UsageError, match=r"such as 14\.2@2029"):
        Target.parse(text)


def test_two_targets_for_one_year_refused() -> None:
    with pytest.raises(UsageError, match="one target per year"):
        compute_trend(prevalence([(2024, "A", 50, 20.0)]), [Target(14, 2029), Target(10, 2029)])


def test_a_result_without_rows_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no trend to follow"):
        compute_trend(prevalence([]))
