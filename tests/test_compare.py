"""kbtool.compare: each estimator against a direct computation, and registers with a known
effect (or none)."""

from __future__ import annotations

import itertools
import warnings
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbtool.compare import compare_groups, read_groups
from kbtool.compare.bootstrap import wild_cluster_bootstrap
from kbtool.compare.groups import Programme
from kbtool.compare.observations import Panel
from kbtool.compare.randomization import assignment_count, randomization_test
from kbtool.compare.staggered import aggregate, group_time_effects
from kbtool.compare.twfe import twfe_coefficients, twfe_fit
from kbtool.errors import InputError
from kbtool.growth import compute_zscores
from kbtool.prevalence import select_period_measurements
from tests.synthetic import child_numbers, generate_register, measure_codes

# Kampung KB in 8 of Kota Metro's 22 kelurahan: five from 2023, three from 2024
PROGRAMME = {
    "Banjarsari": 2023,
    "Margodadi": 2023,
    "Purwoasri": 2023,
    "Purwosari": 2023,
    "Yosodadi": 2023,
    "Iringmulyo": 2024,
    "Metro": 2024,
    "Mulyosari": 2024,
}
YEARS = (2022, 2023, 2024)


def programme(starts: dict[str, int] | None = None) -> Programme:
    starts = PROGRAMME if starts is None else starts
    return Programme("kelurahan", "Kampung KB", tuple(starts), tuple(starts.values()), "test")


def prepared(register: pd.DataFrame) -> pd.DataFrame:
    """A generated register as the store holds it: position codes, z-scores, child keys."""
    frame = register.copy()
    frame["measure"] = measure_codes(frame["measure"])
    frame["child_key"] = child_numbers(frame)
    frame["kelurahan"] = frame["kelurahan"].astype(str)
    return pd.concat([frame, compute_zscores(frame)], axis=1)


@cache
def register(effect: float, seed: int = 7) -> pd.DataFrame:
    generated = generate_register(
        1500, years=YEARS, seed=seed, programme=PROGRAMME, programme_haz=effect
    )
    return prepared(generated)


def child_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Child-years as kbtool prevalence selects them, with treated x post, independently of
    kbtool.compare."""
    chosen = select_period_measurements(
        frame, child_key="child_key", columns=["child_key", "kelurahan", "haz"]
    ).selected
    since = chosen["kelurahan"].map(PROGRAMME).astype(float).fillna(np.inf).to_numpy()
    chosen["treated_post"] = (chosen["period"].to_numpy() >= since).astype(float)
    chosen["stunted"] = (chosen["haz"] < -2).astype(float) * 100
    return chosen


def lstsq_did(chosen: pd.DataFrame, outcome: str) -> float:
    """The OLS coefficient of treated x post with kelurahan and year dummies, by numpy."""
    design = np.column_stack(
        [
            chosen["treated_post"].to_numpy(),
            pd.get_dummies(chosen["kelurahan"]).to_numpy(float),
            pd.get_dummies(chosen["period"]).to_numpy(float)[:, 1:],
        ]
    )
    return float(np.linalg.lstsq(design, chosen[outcome].to_numpy(float), rcond=None)[0][0])


def test_did_pp_equals_the_child_level_ols() -> None:
    """The unit-year shortcut is the child-year OLS: equal within 1e-9 (points; observed
    differences are ~1e-13, floating-point sums in another order)."""
    frame = register(0.3)
    result = compare_groups([frame], programme(), draws=199)
    chosen = child_level(frame)
    twfe = {r["outcome"]: r for r in result.effects.to_dict("records") if r["estimator"] == "twfe"}
    assert abs(twfe["stunting"]["did_pp"] - lstsq_did(chosen, "stunted")) < 1e-9
    assert abs(twfe["mean_haz"]["did_z"] - lstsq_did(chosen, "haz")) < 1e-9
    assert twfe["stunting"]["child_years"] == len(chosen)


def test_known_effect_is_covered() -> None:
    """HAZ 0.3 z higher in the programme's kelurahan from their start: the mean-HAZ interval
    covers 0.3, and the stunting interval covers the change the shift made in this very register
    (the same register without the effect gives the counterfactual)."""
    result = compare_groups([register(0.3)], programme())
    effects = {(r["outcome"], r["estimator"]): r for r in result.effects.to_dict("records")}
    for estimator in ("twfe", "callaway_santanna"):
        haz = effects[("mean_haz", estimator)]
        assert haz["ci_low"] < 0.3 < haz["ci_high"], estimator
    with_effect, without = child_level(register(0.3)), child_level(register(0.0))
    merged = with_effect.merge(without, on=["child_key", "period"], suffixes=("", "_none"))
    treated = merged[merged["treated_post"] == 1]
    truth = (treated["stunted"] - treated["stunted_none"]).mean()
    stunting = effects[("stunting", "twfe")]
    assert truth < -3  # the shift moved children above -2: a real effect to find
    assert stunting["ci_low"] < truth < stunting["ci_high"]
    assert stunting["p_randomization"] < 0.05


def test_no_effect_randomization_rejects_at_its_level() -> None:
    """200 registers without an effect, generated as unit-year sums (all the estimator reads):
    the randomization test rejects at 5% in 2-9% of them. 12 kelurahan, 4 with the programme
    from the second year: every one of the 495 assignments is used."""
    rng = np.random.default_rng(20240817)
    units, years = 12, [2022, 2023, 2024]
    since = np.full(units, np.inf)
    rejected = 0
    for _ in range(200):
        base = rng.uniform(0.1, 0.4, units)[:, None] + np.array([0.0, -0.01, -0.02])
        n = rng.poisson(60, (units, len(years))).astype(np.float64) + 20
        cases = rng.binomial(n.astype(np.int64), base).astype(np.float64)
        cells = Panel([f"k{i}" for i in range(units)], years, n, cases * 100.0)
        since[:] = np.inf
        since[rng.choice(units, 4, replace=False)] = 2023
        test = randomization_test(since, partial(twfe_coefficients, cells), 1)
        assert test.exhaustive and test.assignments == 495
        rejected += test.p_value <= 0.05
    assert 4 <= rejected <= 18


def small_panel(seed: int = 3) -> tuple[pd.DataFrame, Panel, np.ndarray]:
    """8 kelurahan x 3 years of child-level 0/100 outcomes, 3 kelurahan treated from 2023 and
    one from 2024, with the panel of their sums."""
    rng = np.random.default_rng(seed)
    units, years = 8, [2022, 2023, 2024]
    since = np.array([2023, 2023, 2023, 2024] + [np.inf] * 4)
    n = rng.integers(15, 40, (units, len(years)))
    unit = np.repeat(np.arange(units * len(years)) // len(years), n.ravel())
    year = np.repeat(np.tile(years, units), n.ravel())
    level = rng.uniform(0.15, 0.35, units)[unit] - 0.05 * (year >= since[unit])
    children = pd.DataFrame(
        {"unit": unit, "year": year, "y": (rng.random(len(unit)) < level) * 100.0}
    )
    sums = children.groupby(["unit", "year"])["y"].agg(["size", "sum"])
    cells = Panel(
        [f"k{i}" for i in range(units)],
        years,
        sums["size"].to_numpy(float).reshape(units, len(years)),
        sums["sum"].to_numpy(float).reshape(units, len(years)),
    )
    return children, cells, since


def child_design(children: pd.DataFrame, since: np.ndarray) -> np.ndarray:
    treated = (children["year"].to_numpy() >= since[children["unit"].to_numpy()]).astype(float)
    return np.column_stack(
        [
            treated,
            pd.get_dummies(children["unit"]).to_numpy(float),
            pd.get_dummies(children["year"]).to_numpy(float)[:, 1:],
        ]
    )


def test_vectorised_coefficients_equal_the_library_fit_and_lstsq() -> None:
    children, cells, since = small_panel()
    other = since[::-1].copy()
    fast = twfe_coefficients(cells, np.vstack([since, other]))
    for row, assignment in zip(fast, (since, other), strict=True):
        direct = np.linalg.lstsq(child_design(children, assignment), children["y"], rcond=None)
        assert abs(row - direct[0][0]) < 1e-9
    assert abs(twfe_fit(cells, since).estimate - fast[0]) < 1e-9


def bootstrap_p(children: pd.DataFrame, since: np.ndarray, r: float) -> float:
    """The WCR bootstrap p-value of beta = r by brute force on child rows: every +-1 vector of
    the 8 kelurahan, a regression per draw, CR1 t-statistics (the small-sample factor cancels)."""
    x = child_design(children, since)
    y = children["y"].to_numpy()
    unit = children["unit"].to_numpy()
    pinv = np.linalg.pinv(x)

    def t_stat(values: np.ndarray, hypothesis: float) -> float:
        beta = pinv @ values
        residual = values - x @ beta
        scores = np.array([pinv[0, unit == g] @ residual[unit == g] for g in range(8)])
        return (beta[0] - hypothesis) / np.sqrt(np.sum(scores**2))

    restricted = np.linalg.lstsq(x[:, 1:], y - r * x[:, 0], rcond=None)[0]
    fitted = r * x[:, 0] + x[:, 1:] @ restricted
    residual = y - fitted
    original = abs(t_stat(y, r))
    draws = [
        abs(t_stat(fitted + residual * np.array(v)[unit], r))
        for v in itertools.product((1.0, -1.0), repeat=8)
    ]
    return float(np.mean(np.array(draws) >= original * (1 - 1e-12)))


def test_wild_bootstrap_equals_brute_force() -> None:
    """8 kelurahan: all 256 weight vectors, so both sides use the same draws. The p-value of 0
    is the brute-force one, and the interval's ends are where the brute-force p crosses 5%."""
    children, cells, since = small_panel()
    result = wild_cluster_bootstrap(cells, since, 9999, None, twfe_fit(cells, since).std_error)
    assert result.enumerated and result.draws == 256
    assert result.p_value == pytest.approx(bootstrap_p(children, since, 0.0), abs=1e-12)
    width = result.ci_high - result.ci_low
    for end, outward in ((result.ci_low, -1), (result.ci_high, 1)):
        assert bootstrap_p(children, since, end - outward * 0.01 * width) >= 0.05
        assert bootstrap_p(children, since, end + outward * 0.01 * width) < 0.05


def test_randomization_p_equals_brute_force() -> None:
    """All 280 placements of three 2023 and one 2024 start on 8 kelurahan, each re-estimated by
    lstsq: the share at least as far from 0 as the observed estimate."""
    children, cells, since = small_panel()
    assert assignment_count(since) == 8 * 7 * 6 // 6 * 5
    estimates = []
    for treated in itertools.permutations(range(8), 4):
        if list(treated[:3]) != sorted(treated[:3]):
            continue
        assignment = np.full(8, np.inf)
        assignment[list(treated[:3])] = 2023
        assignment[treated[3]] = 2024
        design = child_design(children, assignment)
        estimates.append(np.linalg.lstsq(design, children["y"], rcond=None)[0][0])
    observed = np.linalg.lstsq(child_design(children, since), children["y"], rcond=None)[0][0]
    expected = np.mean(np.abs(estimates) >= abs(observed) - 1e-9)
    result = randomization_test(since, lambda drawn: twfe_coefficients(cells, drawn), None)
    assert result.exhaustive and result.assignments == len(estimates) == 280
    assert result.p_value == pytest.approx(expected, abs=1e-12)


def test_group_time_effects_equal_four_means() -> None:
    """ATT(g, t) against units not yet treated, straight from the child rows (R did, universal
    base period), and the cohort-size weighted mean of the post-start effects."""
    children, cells, since = small_panel()
    cohort = since[children["unit"].to_numpy()]

    def mean(rows: np.ndarray, year: int) -> float:
        return float(children.loc[rows & (children["year"] == year).to_numpy(), "y"].mean())

    expected = {}
    for g, t in ((2023, 2023), (2023, 2024), (2024, 2022), (2024, 2024)):
        base = g - 1
        treated = cohort == g
        control = (cohort > max(t, base)) & ~treated
        expected[(g, t)] = (mean(treated, t) - mean(treated, base)) - (
            mean(control, t) - mean(control, base)
        )
    effects = group_time_effects(cells, since)
    got = {
        (int(g), int(t)): e
        for g, t, e in zip(effects.cohort, effects.year, effects.estimate[:, 0], strict=True)
    }
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    share = {g: (cohort == g).mean() for g in (2023, 2024)}
    post = [(2023, 2023), (2023, 2024), (2024, 2024)]
    simple = sum(share[g] * expected[(g, t)] for g, t in post) / sum(share[g] for g, _ in post)
    result = aggregate(effects, effects.year >= effects.cohort, cells, since)
    assert result.estimate == pytest.approx(simple, abs=1e-9)
    # the 2024 cohort is one kelurahan: its deviations from its own mean sum to 0, so the
    # spread between treated units, which the interval is made of, is unknown: no interval
    cells_of = zip(effects.cohort, effects.year, effects.units, strict=True)
    fewest = {(int(g), int(t)): u for g, t, u in cells_of}
    assert fewest == {(2023, 2023): 3, (2023, 2024): 3, (2024, 2022): 1, (2024, 2024): 1}
    assert np.isnan([result.ci_low, result.ci_high, result.p_value]).all()
    first_cohort = (effects.year >= effects.cohort) & (effects.cohort == 2023)
    early = aggregate(effects, first_cohort, cells, since)
    assert early.ci_low < early.estimate < early.ci_high


def test_event_study_reference_and_pre_period() -> None:
    result = compare_groups([register(0.0)], programme(), draws=199)
    stunting = result.event_study[result.event_study["outcome"] == "stunting"]
    assert stunting["event_time"].tolist() == [-2, -1, 0, 1]
    reference = stunting[stunting["event_time"] == -1].iloc[0]
    assert reference["did_pp"] == 0 and np.isnan(reference["ci_low"])
    assert {note.key for note in result.notes} & {"compare_parallel", "compare_pre_trend"}


def test_groups_table_per_group_and_year() -> None:
    result = compare_groups([register(0.0)], programme(), draws=199)
    groups = result.groups
    assert groups[["year", "group"]].values.tolist() == [
        [y, g] for y in YEARS for g in ("Kampung KB", "others")
    ]
    assert groups.loc[groups["group"] == "Kampung KB", "units"].tolist() == [8, 8, 8]
    assert np.isnan(groups["change_pp"].iloc[0])
    change = groups["stunting_pct"].iloc[2] - groups["stunting_pct"].iloc[0]
    assert groups["change_pp"].iloc[2] == pytest.approx(change)


def test_single_start_year_has_no_staggered_row() -> None:
    starts = dict.fromkeys(PROGRAMME, 2023)
    result = compare_groups([register(0.0)], programme(starts), draws=199)
    assert result.effects["estimator"].tolist() == ["twfe", "twfe"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_groups_matches_spellings(tmp_path: Path) -> None:
    groups = read_groups(
        write(tmp_path / "g.csv", "Kelurahan;Group;Since\nKEL. IRING MULYO;Kampung KB;2024\n")
    )
    assert groups.unit == "kelurahan" and groups.since == (2024,)
    assert groups.keys() == ["iringmulyo"]
    posyandu = read_groups(
        write(tmp_path / "p.csv", "Posyandu\tKelompok\tTahun Mulai\nPOSYANDU  MAWAR 1\tPMT\t2023\n")
    )
    assert posyandu.unit == "posyandu" and posyandu.group == "PMT"
    assert posyandu.keys() == ["posyandu mawar 1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kelurahan,group,tanggal\nMetro,KB,2023\n", "columns kbtool does not know: 'tanggal'"),
        ("group,since\nKB,2023\n", "a unit column"),
        ("kelurahan,group,since\nMetro,KB,soon\n", "since must be the year"),
        ("kelurahan,group\nMetro,KB\nMetro,PMT\n", "names 2 groups"),
        ("kelurahan,group\nMetro,KB\nmetro,KB\n", "listed twice"),
        # one column: the header is named whole, not split on a letter
        ("kelurahan\nMetro\n", r"header 'kelurahan'; a groups file has a unit column"),
    ],
)
def test_bad_groups_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_groups(write(tmp_path / "g.csv", text))


def test_since_outside_the_data() -> None:
    with pytest.raises(InputError, match="outside what the data can compare"):
        compare_groups([register(0.0)], programme({"Metro": 2022}), draws=199)


def test_several_indicators() -> None:
    """Each indicator in points, then the mean of each z-score once; the groups table keeps
    prevalence's columns with units after the group."""
    result = compare_groups(
        [register(0.0)], programme(), indicators=("stunting", "wasting", "overweight"), draws=199
    )
    outcomes = list(dict.fromkeys(result.effects["outcome"]))
    assert outcomes == ["stunting", "wasting", "overweight", "mean_haz", "mean_whz"]
    assert list(result.groups.columns[:5]) == ["year", "indicator", "group", "units", "n"]
    assert "change_pp" in result.groups.columns


def test_weak_inference_is_said() -> None:
    """Two kelurahan in the programme: fewer than 3 treated units."""
    result = compare_groups(
        [register(0.0)], programme({"Metro": 2023, "Margodadi": 2023}), draws=199
    )
    weak = [note for note in result.notes if note.key == "compare_weak"]
    assert weak and weak[0].values["treated"] == 2 and weak[0].values["units"] == 22


@pytest.mark.parametrize("units", [2, 3, 4, 5])
def test_few_units_bootstrap_rejects_no_effect(units: int) -> None:
    """With every +-1 vector of at most 5 kelurahan drawn, the all-(+1) and all-(-1) draws
    reproduce the data itself, so |t*| = |t| for every hypothesis r and p(r) >= 2 / 2^units
    >= 1/16 > 5%: no effect is rejected and the 95% interval is the whole line (it was
    '-70352.8 to inf', a floating-point artefact far out, and with 2 units a p of 0)."""
    rng = np.random.default_rng(units)
    n = rng.integers(50, 150, (units, 3)).astype(float)
    cells = Panel(
        [f"k{i}" for i in range(units)],
        [2022, 2023, 2024],
        n,
        np.round(n * rng.uniform(0.15, 0.35, n.shape)) * 100.0,
    )
    since = np.array([2023.0] + [np.inf] * (units - 1))
    result = wild_cluster_bootstrap(cells, since, 9999, 17, twfe_fit(cells, since).std_error)
    assert result.enumerated and result.draws == 2**units
    assert result.p_value >= 2 / 2**units
    assert result.ci_low == -np.inf and result.ci_high == np.inf


def test_one_unit_group_has_no_interval() -> None:
    """Kampung KB in one kelurahan: its children are one cluster, so the spread between
    kelurahan, which the clustered interval is made of, cannot be estimated. The interval was
    '33.0-33.0' (zero width, read as certainty); now it is empty, with a note, while the
    others (21 kelurahan) keep theirs."""
    result = compare_groups([register(0.0)], programme({"Metro": 2023}), draws=199)
    groups = result.groups
    single = groups["units"] == 1
    assert single.sum() == 3 and (groups.loc[single, "group"] == "Kampung KB").all()
    for column in ("stunting_ci_low", "stunting_ci_high", "severe_ci_low", "severe_ci_high"):
        assert groups.loc[single, column].isna().all()
        assert groups.loc[~single, column].notna().all()
    assert groups.loc[single, "stunting_pct"].notna().all()
    notes = [note for note in result.notes if note.key == "compare_one_unit"]
    assert notes and notes[0].values["group"] == "Kampung KB"


def test_few_units_fit_warns_nothing() -> None:
    """Two programme kelurahan and one other: statsmodels' cluster-robust variance comes out
    negative by rounding and numpy warned 'RuntimeWarning: invalid value encountered in sqrt'
    on the user's terminal, with a statsmodels source line. The fit is quiet; the standard
    error (it only sizes the interval search) is NaN or a number."""
    n = np.random.default_rng(2).integers(50, 150, (3, 3)).astype(float)
    for seed in range(20):
        total = np.round(n * np.random.default_rng(seed).uniform(0.15, 0.35, n.shape)) * 100
        cells = Panel(["a", "b", "c"], [2022, 2023, 2024], n, total)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            twfe_fit(cells, np.array([2023.0, 2023.0, np.inf]))


@pytest.mark.parametrize(
    ("before", "said"),
    [
        ([-3, -2], "years -3, -2 before the start: no 95% interval bounds the effect"),
        ([-2], "year -2 before the start: no 95% interval bounds the effect"),
    ],
)
def test_pre_trend_notes_name_one_year_or_several(before: list[int], said: str) -> None:
    """A note naming several years before the start said "year -3, -2 ... has": "years" for
    several, "year" for one, in English; Indonesian's "tahun" is both."""
    from kbtool.compare.comparison import _pre_trend_notes
    from kbtool.words import say

    times = [*before, -1, 0]
    table = pd.DataFrame(
        {
            "outcome": "stunting",
            "event_time": times,
            "ci_low": [-np.inf] * len(before) + [0.0, -1.0],
            "ci_high": [np.inf] * len(before) + [0.0, 1.0],
        }
    )
    notes = [n for n in _pre_trend_notes([table]) if n.key == "compare_pre_unknown"]
    assert len(notes) == 1
    assert said in say(notes[0].key, "en", **notes[0].values)
    years = ", ".join(map(str, before))
    assert f"tahun {years} sebelum mulai" in say(notes[0].key, "id", **notes[0].values)
