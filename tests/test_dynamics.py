"""Stunting dynamics (kbtool.dynamics, `kbtool growth`): hand-built histories where every count
is known, an independent child-by-child implementation of issue 15's definitions, the Wilson
and t intervals against their closed forms, and row order changing nothing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kbtool.dynamics import GROWTH_COLUMNS, compute_growth, mean_with_t_interval, wilson_percent
from kbtool.errors import InputError
from kbtool.growth.rounding import r_round
from tests.test_skdn import generated

COUNT_COLUMNS = [
    "children",
    "children_pairs",
    "at_risk",
    "onsets",
    "confirmed_onsets",
    "stunted_at_start",
    "recoveries",
    "confirmed_recoveries",
    "dhaz_children",
]


def histories(visits: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    """(child, kelurahan, visit date, HAZ) per row, as the store holds them."""
    frame = pd.DataFrame(visits, columns=["child_key", "kelurahan", "visit_date", "haz"])
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    frame["haz_flag"] = pd.array([False] * len(frame), dtype="boolean")
    frame["kelurahan"] = frame["kelurahan"].astype("category")
    return frame


def line(result: pd.DataFrame, year: int, group: str = "Metro") -> dict[str, Any]:
    found = result[(result["year"] == year) & (result["kelurahan"] == group)]
    assert len(found) == 1, (year, group, result)
    return dict(found.iloc[0])


def test_onsets_confirmed_and_not() -> None:
    """Child 1 goes -1.5, -2.2, -2.3: an onset, confirmed. Child 2 goes -1.5, -2.2, -1.8: an
    onset the next month does not confirm, then a recovery (unconfirmed: no next). Child 3
    stays at -1.0: at risk, no onset."""
    frame = histories(
        [
            *((1, "Metro", f"2024-0{m}-10", z) for m, z in ((1, -1.5), (2, -2.2), (3, -2.3))),
            *((2, "Metro", f"2024-0{m}-10", z) for m, z in ((1, -1.5), (2, -2.2), (3, -1.8))),
            *((3, "Metro", f"2024-0{m}-10", -1.0) for m in (1, 2, 3)),
        ]
    )
    got = line(compute_growth(frame), 2024)
    assert {k: got[k] for k in COUNT_COLUMNS[:8]} == {
        "children": 3,
        "children_pairs": 3,
        "at_risk": 3,
        "onsets": 2,
        "confirmed_onsets": 1,
        "stunted_at_start": 2,  # child 1 (-2.2 -> -2.3) and child 2 (-2.2 -> -1.8)
        "recoveries": 1,
        "confirmed_recoveries": 0,
    }
    assert got["incidence_pct"] == pytest.approx(200 / 3)
    assert got["recovery_pct"] == 50.0


def test_pairs_at_most_183_days_apart() -> None:
    """-1.0 in January, -2.5 in August (213 days): no pair, so no onset."""
    frame = histories([(1, "Metro", "2024-01-10", -1.0), (1, "Metro", "2024-08-10", -2.5)])
    got = line(compute_growth(frame), 2024)
    assert (got["children"], got["children_pairs"], got["onsets"]) == (1, 0, 0)
    assert got["dhaz_children"] == 1  # 213 days >= 90: a velocity all the same


def test_classified_on_haz_rounded_to_two_decimals() -> None:
    """-2.004 rounds to -2.00, not stunted; -2.006 to -2.01, stunted."""
    frame = histories(
        [
            (1, "Metro", "2024-01-10", -1.0),
            (1, "Metro", "2024-02-10", -2.004),
            (2, "Metro", "2024-01-10", -1.0),
            (2, "Metro", "2024-02-10", -2.006),
        ]
    )
    assert line(compute_growth(frame), 2024)["onsets"] == 1


def test_month_last_measurement_and_confirmation_in_the_next_year() -> None:
    """Two measurements in November: the later (-2.3) counts. The onset (Oct -1.8 -> Nov
    -2.3) is confirmed by January's -2.4, in the next year; January's pair counts in 2025."""
    frame = histories(
        [
            (1, "Metro", "2024-10-05", -1.8),
            (1, "Metro", "2024-11-02", -1.7),
            (1, "Metro", "2024-11-28", -2.3),
            (1, "Metro", "2025-01-15", -2.4),
        ]
    )
    result = compute_growth(frame)
    y2024, y2025 = line(result, 2024), line(result, 2025)
    assert (y2024["onsets"], y2024["confirmed_onsets"], y2024["children_pairs"]) == (1, 1, 1)
    assert (y2025["children_pairs"], y2025["stunted_at_start"], y2025["onsets"]) == (1, 1, 0)


def test_child_counts_in_the_group_of_the_latest_measurement() -> None:
    frame = histories(
        [
            (1, "Metro", "2024-01-10", -1.0),
            (1, "Metro", "2024-02-10", -2.5),
            (1, "Imopuro", "2024-03-10", -2.6),
        ]
    )
    result = compute_growth(frame)
    assert list(result["kelurahan"]) == ["Imopuro", "All"]
    assert line(result, 2024, "Imopuro")["onsets"] == 1


def test_velocity_of_children_measured_90_days_apart() -> None:
    """Child 1: -1.0 to -1.2 over 100 days: -0.2 / (100 / 365.25) = -0.7305 a year. Child 2:
    60 days apart, left out. Child 3: -2.0 to -1.5 over 365 days."""
    frame = histories(
        [
            (1, "Metro", "2024-01-01", -1.0),
            (1, "Metro", "2024-04-10", -1.2),
            (2, "Metro", "2024-01-01", -1.0),
            (2, "Metro", "2024-03-01", -3.0),
            (3, "Metro", "2024-01-01", -2.0),
            (3, "Metro", "2024-12-31", -1.5),
        ]
    )
    got = line(compute_growth(frame), 2024)
    values = [-0.2 / (100 / 365.25), 0.5 / (365 / 365.25)]
    assert got["dhaz_children"] == 2
    assert got["mean_dhaz_per_year"] == pytest.approx(np.mean(values))
    low, high = stats.t.interval(0.95, 1, loc=np.mean(values), scale=stats.sem(values))
    assert (got["dhaz_ci_low"], got["dhaz_ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_wilson_interval_against_its_closed_form() -> None:
    """Wilson (1927): (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    z = stats.norm.ppf(0.975)
    cases = np.array([0, 1, 7, 20, 30])
    n = np.array([30, 30, 30, 30, 30])
    pct, low, high = wilson_percent(cases, n)
    p = cases / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert np.allclose(pct, p * 100)
    assert np.allclose(low, (centre - half) * 100) and np.allclose(high, (centre + half) * 100)
    empty = wilson_percent(np.array([0]), np.array([0]))
    assert all(math.isnan(v[0]) for v in empty)


def test_t_interval_of_one_value_is_empty() -> None:
    mean, low, high, n = mean_with_t_interval(np.array([0.5, np.nan]), np.array([0, 0]), 1)
    assert (mean[0], n[0]) == (0.5, 1) and math.isnan(low[0]) and math.isnan(high[0])


# --- an independent implementation ------------------------------------------------------------


def reference_growth(frame: pd.DataFrame) -> pd.DataFrame:
    """Issue 15's growth definitions, child by child in plain Python (slow, obvious)."""
    valid = frame["haz"].notna() & ~frame["haz_flag"].fillna(0).astype(bool)
    kept = frame[valid]
    by_child: dict[int, dict[tuple[int, int], dict[str, Any]]] = {}
    records = zip(
        kept["child_key"].tolist(),
        kept["visit_date"].tolist(),
        kept["haz"].tolist(),
        kept["kelurahan"].tolist(),
        strict=True,
    )
    ordered = sorted(enumerate(records), key=lambda r: (r[1][0], r[1][1], r[0]))
    for _, (child, visit, haz, group) in ordered:
        month = (visit.year, visit.month)
        entry = {"date": visit.date(), "year": visit.year, "haz": float(haz), "group": str(group)}
        by_child.setdefault(int(child), {})[month] = entry
    cells: dict[tuple[int, str], dict[str, Any]] = {}
    for months in by_child.values():
        entries = [months[m] for m in sorted(months)]
        stunted = [float(r_round(e["haz"], 2)) < -2 for e in entries]
        years: dict[int, dict[str, Any]] = {}
        for i, entry in enumerate(entries):
            year = years.setdefault(entry["year"], {"flags": set(), "entries": []})
            year["entries"].append(entry)
            if i == 0 or (entry["date"] - entries[i - 1]["date"]).days > 183:
                continue
            flags = year["flags"]
            flags.add("children_pairs")
            confirmed = (
                i + 1 < len(entries) and (entries[i + 1]["date"] - entry["date"]).days <= 183
            )
            if not stunted[i - 1]:
                flags.add("at_risk")
                if stunted[i]:
                    flags.add("onsets")
                    if confirmed and stunted[i + 1]:
                        flags.add("confirmed_onsets")
            else:
                flags.add("stunted_at_start")
                if not stunted[i]:
                    flags.add("recoveries")
                    if confirmed and not stunted[i + 1]:
                        flags.add("confirmed_recoveries")
        for year_number, year in years.items():
            first, last = year["entries"][0], year["entries"][-1]
            days = (last["date"] - first["date"]).days
            velocity = (last["haz"] - first["haz"]) / (days / 365.25) if days >= 90 else None
            for group in (last["group"], "All"):
                cell = cells.setdefault((year_number, group), {"velocities": []})
                cell["children"] = cell.get("children", 0) + 1
                for flag in year["flags"]:
                    cell[flag] = cell.get(flag, 0) + 1
                if velocity is not None:
                    cell["velocities"].append(velocity)
    rows = []
    for (year_number, group), cell in cells.items():
        velocities = cell.pop("velocities")
        rows.append(
            {
                "year": year_number,
                "kelurahan": group,
                **{name: cell.get(name, 0) for name in COUNT_COLUMNS[:-1]},
                "dhaz_children": len(velocities),
                "mean_dhaz_per_year": np.mean(velocities) if velocities else np.nan,
            }
        )
    order = ["year", "_all", "kelurahan"]
    result = pd.DataFrame(rows).assign(_all=lambda d: d["kelurahan"] == "All")
    return result.sort_values(order).drop(columns="_all").reset_index(drop=True)


def test_equals_an_independent_implementation() -> None:
    frame = generated(400, seed=44, years=(2022, 2023, 2024))
    ours = compute_growth(frame)
    theirs = reference_growth(frame)
    assert list(ours.columns) == ["year", "kelurahan", *GROWTH_COLUMNS]
    assert len(ours) > 30
    pd.testing.assert_frame_equal(
        ours[theirs.columns.drop("mean_dhaz_per_year")],
        theirs.drop(columns="mean_dhaz_per_year"),
        check_dtype=False,
    )
    assert np.allclose(ours["mean_dhaz_per_year"], theirs["mean_dhaz_per_year"], equal_nan=True)


def test_row_order_changes_nothing() -> None:
    frame = generated(150, seed=8)
    result = compute_growth(frame)
    shuffled = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_growth(shuffled), result)
    assert (result["onsets"] <= result["at_risk"]).all()
    assert (result["confirmed_onsets"] <= result["onsets"]).all()
    assert (result["recoveries"] <= result["stunted_at_start"]).all()
    assert (result["at_risk"] + result["stunted_at_start"] >= result["children_pairs"]).all()


def test_empty_frame() -> None:
    frame = histories([])
    result = compute_growth(frame)
    assert result.empty and list(result.columns) == ["year", "kelurahan", *GROWTH_COLUMNS]


def test_a_frame_without_visit_dates_is_a_clear_error() -> None:
    frame = pd.DataFrame({"child_key": [1], "haz": [0.0], "haz_flag": [False], "kelurahan": ["a"]})
    with pytest.raises(InputError, match="'visit_date' not found"):
        compute_growth(frame, by="kelurahan")
