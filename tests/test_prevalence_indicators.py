"""Every nutrition indicator and the survey designs against WHO's anthro_prevalence, by hand."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kbtool.errors import InputError, UsageError
from kbtool.prevalence import (
    GENERIC_COLUMNS,
    INDICATORS,
    SampleDesign,
    columns_needed,
    compute_prevalence,
    figure_columns,
)
from tests.conftest import WHO_DATA
from tests.test_prevalence import FIGURE_TOLERANCE, visits_with_haz

NAN = float("nan")
# WHO's indicator codes in the reference file, and which of ours reads each
WHO_INDICATORS = {
    "HA": ["stunting"],
    "WA": ["underweight"],
    "WH": ["wasting", "overweight"],
    "BMI": ["bmi_overweight"],
}
# the reference's column of our main and second percentage, per direction of the cut
UNDER = ("below2", "below3")
OVER = ("above2", "above3")
GROUPINGS = {
    ("kelurahan",): "Other grouping: ",
    ("age_group",): "Age group: ",
    ("sex",): "Sex: ",
    ("age_group", "sex"): "Age + sex: ",
}
# anthro's defect: under a cluster design a prevalence of exactly 1% gets the interval [1, 1]
WHO_ONE_PERCENT_DEFECT = {
    (2022, "2,8", "WH", "Age group: 00-05 mo", "above2"),
    (2023, "2,8", "BMI", "Age group: 36-47 mo", "below2"),
}


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    return visits_with_haz()


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(WHO_DATA / "prevalence_indicators_expected.csv", dtype={"months": str})


def _who_group(result: pd.DataFrame, by: tuple[str, ...]) -> pd.Series:
    """Our group labels written as anthro writes them ("Age + sex: 00-05 mo.Female")."""
    sexes = {"female": "Female", "male": "Male"}
    parts = [result[c].astype(str).map(lambda v: sexes.get(v, v)) for c in by]
    key = parts[0]
    for part in parts[1:]:
        key = key + "." + part
    return key.where(~key.str.fullmatch(r"All(\.All)*"), "").map(
        lambda k: f"{GROUPINGS[by]}{k}" if k else "All"
    )


@pytest.mark.parametrize("design", ["srs", "cluster=posyandu"])
@pytest.mark.parametrize("months", ["all", "2,8"])
@pytest.mark.parametrize("who_code", list(WHO_INDICATORS))
def test_parity_with_who_for_every_indicator_and_design(
    visits: pd.DataFrame, expected: pd.DataFrame, design: str, months: str, who_code: str
) -> None:
    """n exactly; percentages, bounds, mean and SD within 1e-6, per kelurahan, age group, sex,
    age and sex, and the whole area, except where WHO shows its 1% defect."""
    theirs = expected[
        (expected["design"] == design)
        & (expected["months"] == months)
        & (expected["indicator"] == who_code)
    ]
    sample = SampleDesign(cluster="posyandu") if design != "srs" else None
    checked = 0
    for name in WHO_INDICATORS[who_code]:
        indicator = INDICATORS[name]
        main, second = OVER if indicator.cut > 0 else UNDER
        for by in GROUPINGS:
            ours = compute_prevalence(
                visits,
                indicators=[name],
                by=by,
                months=None if months == "all" else [2, 8],
                min_n=0,
                total=True,
                child_key="child_id",
                design=sample,
            )
            ours["group"] = _who_group(ours, by)
            wanted = theirs[
                theirs["group"].str.startswith(GROUPINGS[by]) | (theirs["group"] == "All")
            ]
            both = wanted.merge(ours, on=["year", "group"], suffixes=("_who", ""))
            assert len(both) == len(wanted) == len(ours), (name, by)
            assert (both["n_who"] == both["n"]).all()
            columns = dict(zip(figure_columns(indicator), GENERIC_COLUMNS, strict=True))
            pairs = [
                (main, "pct"),
                (f"{main}_ll", "ci_low"),
                (f"{main}_ul", "ci_high"),
                (second, "second_pct"),
                (f"{second}_ll", "second_ci_low"),
                (f"{second}_ul", "second_ci_high"),
                ("mean", "mean_z"),
                ("sd", "sd_z"),
            ]
            ours_of = {generic: column for column, generic in columns.items()}
            for who_column, generic in pairs:
                defect = both.apply(
                    lambda row, c=who_column: (
                        (row["year"], months, who_code, row["group"], c[:6])
                        in WHO_ONE_PERCENT_DEFECT
                        and design != "srs"
                    ),
                    axis=1,
                )
                difference = (both[who_column] - both[ours_of[generic]]).abs()[~defect]
                assert difference.max() < FIGURE_TOLERANCE, (name, by, who_column)
                checked += len(difference)
    assert checked > 0


def test_who_defect_rows_are_real_and_ours_are_proper_intervals(
    visits: pd.DataFrame, expected: pd.DataFrame
) -> None:
    """Where anthro gives [1, 1] to a 1% prevalence, kbtool gives a logit interval around 1."""
    row = expected[
        (expected["year"] == 2022)
        & (expected["months"] == "2,8")
        & (expected["design"] == "cluster=posyandu")
        & (expected["indicator"] == "WH")
        & (expected["group"] == "Age group: 00-05 mo")
    ].iloc[0]
    assert row["above2"] == pytest.approx(1.0) and row["above2_ll"] == row["above2_ul"] == 1.0
    ours = compute_prevalence(
        visits,
        indicators=["overweight"],
        by=("age_group",),
        months=[2, 8],
        min_n=0,
        child_key="child_id",
        design=SampleDesign(cluster="posyandu"),
    )
    mine = ours[(ours["year"] == 2022) & (ours["age_group"] == "00-05 mo")].iloc[0]
    assert mine["overweight_pct"] == pytest.approx(1.0)
    assert 0 < mine["overweight_ci_low"] < 1 < mine["overweight_ci_high"]


# --- the design formulas by hand --------------------------------------------------------------


def _children(
    rows: list[tuple[str, float, str, str, float]], *, day: str = "2023-03-01"
) -> pd.DataFrame:
    """A frame of one visit per child: (child, HAZ, posyandu, puskesmas, weight)."""
    return pd.DataFrame(
        {
            "child_key": [r[0] for r in rows],
            "visit_date": pd.to_datetime([day] * len(rows)),
            "haz": [r[1] for r in rows],
            "haz_flag": False,
            "posyandu": [r[2] for r in rows],
            "puskesmas": [r[3] for r in rows],
            "bobot": [r[4] for r in rows],
            "kelurahan": "Metro",
        }
    )


def _survey_by_hand(
    y: list[float], psu: list[str], stratum: list[str], w: list[float], domain: list[bool]
) -> tuple[float, float, float]:
    """svyciprop(method = "logit") of a domain, written out: the weighted mean, Taylor
    linearised with-replacement variance over PSUs in strata (a lonely PSU centred at 0),
    degrees of freedom PSUs - strata; returns percent, lower, upper."""
    total_w = sum(wi for wi, d in zip(w, domain, strict=True) if d)
    p = sum(wi * yi for wi, yi, d in zip(w, y, domain, strict=True) if d) / total_w
    psu_total: dict[tuple[str, str], float] = defaultdict(float)
    for yi, ci, hi, wi, d in zip(y, psu, stratum, w, domain, strict=True):
        psu_total[(hi, ci)] += wi * (yi - p) / total_w if d else 0.0
    variance = 0.0
    for h in set(stratum):
        totals = [t for (hh, _), t in psu_total.items() if hh == h]
        if len(totals) == 1:
            variance += totals[0] ** 2
        else:
            mean = sum(totals) / len(totals)
            scale = len(totals) / (len(totals) - 1)
            variance += scale * sum((t - mean) ** 2 for t in totals)
    df = len(set(zip(stratum, psu, strict=True))) - len(set(stratum))
    t = stats.t.ppf(0.975, df)
    half = t * math.sqrt(variance) / (p * (1 - p))
    logit = math.log(p / (1 - p))
    return 100 * p, 100 / (1 + math.exp(-(logit - half))), 100 / (1 + math.exp(-(logit + half)))


def test_one_percent_under_a_cluster_design_is_a_proper_interval() -> None:
    """One stunted child of 100 in 5 posyandu: 1%, with the logit interval around it, not
    WHO's [1, 1]."""
    rows = [(f"c{i}", -2.5 if i == 0 else 0.0, f"P{i % 5}", "X", 1.0) for i in range(100)]
    frame = _children(rows)
    result = compute_prevalence(
        frame, by=("year",), min_n=0, child_key="child_key", design=SampleDesign("posyandu")
    )
    pct, low, high = _survey_by_hand(
        [1.0 if r[1] < -2 else 0.0 for r in rows],
        [r[2] for r in rows],
        ["all"] * 100,
        [1.0] * 100,
        [True] * 100,
    )
    got = result.iloc[0]
    assert got["stunting_pct"] == pytest.approx(1.0) == pytest.approx(pct)
    assert got["stunting_ci_low"] == pytest.approx(low, abs=1e-9)
    assert got["stunting_ci_high"] == pytest.approx(high, abs=1e-9)
    assert 0 < low < 1 < high < 100


def _design_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(240):
        puskesmas = f"S{i % 3}"
        # stratum S2 holds a single posyandu: a lonely PSU
        posyandu = "P-lonely" if puskesmas == "S2" else f"P{rng.integers(0, 6)}-{puskesmas}"
        haz = float(np.round(rng.normal(-1.2, 1.1), 2))
        rows.append((f"c{i}", haz, posyandu, puskesmas, float(rng.uniform(0.5, 3.0))))
    frame = _children(rows)
    frame["sex"] = np.where(rng.random(len(frame)) < 0.5, 1, 2)
    return frame


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_strata_weights_and_domains_match_the_formulas_by_hand(seed: int) -> None:
    frame = _design_frame(seed)
    design = SampleDesign(cluster="posyandu", strata="puskesmas", weights="bobot")
    result = compute_prevalence(
        frame, by=("sex",), min_n=0, total=True, child_key="child_key", design=design
    )
    y = (frame["haz"] < -2).astype(float).tolist()
    for _, row in result.iterrows():
        domain = [
            row["sex"] == "All" or {1: "male", 2: "female"}[s] == row["sex"] for s in frame["sex"]
        ]
        pct, low, high = _survey_by_hand(
            y,
            frame["posyandu"].tolist(),
            frame["puskesmas"].tolist(),
            frame["bobot"].tolist(),
            domain,
        )
        assert row["stunting_pct"] == pytest.approx(pct, abs=1e-9)
        assert row["stunting_ci_low"] == pytest.approx(low, abs=1e-9)
        assert row["stunting_ci_high"] == pytest.approx(high, abs=1e-9)
        chosen = frame[domain]
        mean = np.average(chosen["haz"], weights=chosen["bobot"])
        assert row["mean_haz"] == pytest.approx(mean, abs=1e-12)


def test_weights_scale_free_and_singleton_clusters_are_a_simple_random_sample() -> None:
    frame = _design_frame(4)
    weighted = compute_prevalence(
        frame, min_n=0, child_key="child_key", design=SampleDesign(weights="bobot")
    )
    frame["bobot2"] = frame["bobot"] * 7
    scaled = compute_prevalence(
        frame, min_n=0, child_key="child_key", design=SampleDesign(weights="bobot2")
    )
    pd.testing.assert_frame_equal(weighted.drop(columns=[]), scaled, check_exact=False, atol=1e-9)
    frame["own"] = frame["child_key"]
    simple = compute_prevalence(frame, min_n=0, child_key="child_key")
    singletons = compute_prevalence(
        frame, min_n=0, child_key="child_key", design=SampleDesign("own")
    )
    pd.testing.assert_frame_equal(simple, singletons, check_exact=False, atol=1e-9)


def test_a_period_with_one_cluster_is_a_simple_random_sample() -> None:
    """anthro passes one cluster as ids = ~1: each child its own unit."""
    frame = _design_frame(5)
    frame["posyandu"] = "P1"
    simple = compute_prevalence(frame, min_n=0, child_key="child_key")
    clustered = compute_prevalence(
        frame, min_n=0, child_key="child_key", design=SampleDesign("posyandu")
    )
    pd.testing.assert_frame_equal(simple, clustered, check_exact=False, atol=1e-9)


# --- indicators, selection, oedema ------------------------------------------------------------


def _visits(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {
        "haz": 0.0, "haz_flag": False, "waz": 0.0, "waz_flag": False, "whz": 0.0,
        "whz_flag": False, "bmiz": 0.0, "bmiz_flag": False, "oedema": False, "age_days": 400,
        "kelurahan": "Metro",
    }  # fmt: skip
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    return frame


def test_each_indicator_selects_its_own_latest_valid_measurement() -> None:
    """A child whose latest HAZ is flagged but WHZ valid counts for wasting by that visit,
    and for stunting by the earlier one."""
    frame = _visits(
        [
            {"child_key": "a", "visit_date": "2023-02-01", "haz": -2.5, "whz": 0.0},
            {"child_key": "a", "visit_date": "2023-08-01", "haz": -7.0, "haz_flag": True,
             "whz": -2.5},
            {"child_key": "b", "visit_date": "2023-08-01", "haz": 0.0, "whz": float("nan")},
        ]
    )  # fmt: skip
    result = compute_prevalence(
        frame, indicators=["stunting", "wasting"], by=("year",), min_n=0, child_key="child_key"
    )
    stunting, wasting = result.iloc[0], result.iloc[1]
    assert list(result["indicator"]) == ["stunting", "wasting"]
    assert (stunting["n"], stunting["cases"], stunting["excluded"]) == (2, 1, 0)
    assert (wasting["n"], wasting["cases"], wasting["excluded"]) == (1, 1, 1)
    assert list(result.columns) == ["year", "indicator", *GENERIC_COLUMNS, "note"]


@pytest.mark.parametrize("by", [("kelurahan",), ("kelurahan", "sex")])
def test_several_indicators_name_theirs_after_the_period_whatever_the_groups(
    by: tuple[str, ...],
) -> None:
    frame = _visits([{"child_key": "a", "visit_date": "2023-02-01", "sex": 1}])
    result = compute_prevalence(
        frame, indicators=["stunting", "wasting"], by=by, min_n=0, child_key="child_key"
    )
    assert list(result.columns) == ["year", "indicator", *by, *GENERIC_COLUMNS, "note"]


@pytest.mark.parametrize("name", list(INDICATORS))
def test_one_indicator_has_its_own_column_names(name: str) -> None:
    indicator = INDICATORS[name]
    frame = _visits(
        [
            {
                "child_key": "a",
                "visit_date": "2023-02-01",
                indicator.z: 3.5 if indicator.cut > 0 else -3.5,
            }
        ]
    )
    result = compute_prevalence(frame, indicators=[name], min_n=0, child_key="child_key")
    assert list(result.columns) == ["year", "kelurahan", *figure_columns(indicator), "note"]
    assert result.iloc[0][indicator.main] == 1 and result.iloc[0][indicator.second] == 1


def test_all_means_every_indicator_in_order() -> None:
    frame = _visits([{"child_key": "a", "visit_date": "2023-02-01"}])
    result = compute_prevalence(
        frame, indicators=["all"], by=("year",), min_n=0, child_key="child_key"
    )
    assert list(result["indicator"]) == list(INDICATORS)


def test_oedema_is_a_severe_case_of_the_weight_indicators_outside_mean_and_sd() -> None:
    frame = _visits(
        [
            {"child_key": "a", "visit_date": "2023-02-01", "oedema": True, "waz": NAN,
             "whz": NAN, "bmiz": NAN},
            {"child_key": "b", "visit_date": "2023-02-01", "haz": -1.0, "waz": 1.0, "whz": 2.5,
             "bmiz": 2.5},
            {"child_key": "c", "visit_date": "2023-02-01", "haz": -1.0, "waz": 0.5, "whz": 0.5,
             "bmiz": 0.5, "oedema": True, "age_days": 1900},
        ]
    )  # fmt: skip
    result = compute_prevalence(
        frame, indicators=["all"], by=("year",), min_n=0, child_key="child_key"
    ).set_index("indicator")
    # a: oedema counts as a severe case; c is past 1826 days, so its oedema does not count
    for name in ("underweight", "wasting"):
        assert (
            result.loc[name, "n"],
            result.loc[name, "cases"],
            result.loc[name, "second_cases"],
        ) == (3, 1, 1)
    assert result.loc["underweight", "mean_z"] == pytest.approx(0.75)  # b and c only
    # overweight: a in the denominator, not a case
    assert (result.loc["overweight", "n"], result.loc["overweight", "cases"]) == (3, 1)
    assert (result.loc["bmi_overweight", "n"], result.loc["bmi_overweight", "cases"]) == (3, 1)
    # stunting: oedema plays no part; a has HAZ 0
    assert (result.loc["stunting", "n"], result.loc["stunting", "cases"]) == (3, 0)


def test_columns_needed_follow_indicators_and_design() -> None:
    needed = columns_needed(("kelurahan",), ["wasting"], SampleDesign("posyandu", weights="w"))
    assert {"whz", "whz_flag", "oedema", "age_days", "posyandu", "w", "kelurahan"} <= set(needed)
    assert "haz" not in needed
    assert "oedema" not in columns_needed(("kelurahan",), ["stunting"])


# --- bad input --------------------------------------------------------------------------------


def test_unknown_indicator_names_the_value_and_the_choices() -> None:
    frame = _visits([{"child_key": "a", "visit_date": "2023-02-01"}])
    with pytest.raises(UsageError, match=r"stunted.*stunting, underweight"):
        compute_prevalence(frame, indicators=["stunted"], child_key="child_key")


def test_design_column_missing_empty_or_bad_weight_is_a_clear_error() -> None:
    frame = _design_frame(6)
    with pytest.raises(InputError, match="'klaster' not found"):
        compute_prevalence(frame, child_key="child_key", design=SampleDesign("klaster"))
    frame.loc[3, "posyandu"] = ""
    with pytest.raises(InputError, match="--cluster/--strata posyandu: 1 counted measurements"):
        compute_prevalence(frame, child_key="child_key", design=SampleDesign("posyandu"))
    for bad in (-1.0, "dua"):
        frame["w"] = 1.0
        frame["w"] = frame["w"].astype(object)
        frame.loc[5, "w"] = bad
        with pytest.raises(InputError, match=f"--weights w: 1 counted.*{bad}"):
            compute_prevalence(frame, child_key="child_key", design=SampleDesign(weights="w"))
