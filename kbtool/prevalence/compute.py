"""Prevalence of the nutrition indicators per period and group, as WHO's `anthro_prevalence`.

Each child once per indicator and period (selection); figures on z rounded to 2 decimals; oedema
counts as a severe case of the weight-based indicators (WHO's z of -3.1), outside their mean and
SD. Each period is a sample, each group a domain of it, with R `survey`'s logit intervals (design).

Output conventions (part of the machine interface): group columns hold text labels, a missing
value "(unknown)"; the whole-area row of a period has "All" in every group column and comes
after the period's groups; `year` is an integer column, quarters and months "2023-Q1",
"2023-02".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import FloatArray, IntArray
from kbtool.columns import (
    blank_as_missing,
    factorize,
    flag_column,
    require_columns,
    value_codes,
)
from kbtool.errors import InputError, UsageError
from kbtool.growth.constants import DAYS_PER_MONTH, MAX_AGE_DAYS, Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import round_half_up_days
from kbtool.prevalence.design import (
    Design,
    domain_mean,
    logit_interval,
    prevalence_ci,
    weighted_mean,
)
from kbtool.prevalence.selection import Visits, check_months, prepare_visits, valid_z


@dataclass(frozen=True)
class Indicator:
    """One indicator: its z-score, cut-offs (under-nutrition z < cut, over-nutrition z > cut) and
    count columns. Weight-based ones count oedema as severe under-nutrition and in the
    denominator of over-nutrition (anthro_prevalence's z of -3.1)."""

    name: str
    z: str
    main: str
    second: str
    cut: float
    second_cut: float
    weight_based: bool

    def cases(self, z: FloatArray, oedema: npt.NDArray[np.bool_], cut: float) -> FloatArray:
        with np.errstate(invalid="ignore"):
            hit = (z < cut) | oedema if cut < 0 else (z > cut) & ~oedema
        return hit.astype(np.float64)


# WHO/UNICEF 2019 (JME) and Permenkes No. 2 Tahun 2020: TB/U pendek / sangat pendek, BB/U berat
# badan kurang / sangat kurang, BB/PB-BB/TB gizi kurang / buruk, gizi lebih / obesitas, IMT/U.
INDICATORS = {
    "stunting": Indicator("stunting", "haz", "stunted", "severe", -2.0, -3.0, False),
    "underweight": Indicator("underweight", "waz", "underweight", "severe", -2.0, -3.0, True),
    "wasting": Indicator("wasting", "whz", "wasted", "severe", -2.0, -3.0, True),
    "overweight": Indicator("overweight", "whz", "overweight", "obese", 2.0, 3.0, True),
    "bmi_overweight": Indicator("bmi_overweight", "bmiz", "overweight", "obese", 2.0, 3.0, True),
}
GENERIC_COLUMNS = (
    "n",
    "cases",
    "pct",
    "ci_low",
    "ci_high",
    "second_cases",
    "second_pct",
    "second_ci_low",
    "second_ci_high",
    "mean_z",
    "sd_z",
    "excluded",
)

# The Guide to DHS Statistics: estimates based on fewer than 25 unweighted cases are suppressed,
# those based on 25-49 cases are shown but marked as imprecise.
DEFAULT_MIN_N = 25
LOW_PRECISION_BELOW_N = 50
# R `anthro` anthro_age_groups: cut(age in months, c(0, 6, 12, 24, 36, 48, 60), right = FALSE).
AGE_GROUP_BREAKS_MONTHS = (0.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0)
AGE_GROUP_LABELS = ("00-05 mo", "06-11 mo", "12-23 mo", "24-35 mo", "36-47 mo", "48-59 mo")
AGE_GROUP_COLUMN = "age_group"
TOTAL_LABEL = "All"  # R `anthro` names its whole-sample row "All"
UNKNOWN_LABEL = "(unknown)"
SEX_LABELS = {1: "male", 2: "female"}  # sex codes as R `anthro` takes them
NOTE_COLUMN = "note"


def figure_columns(indicator: Indicator) -> tuple[str, ...]:
    """The figure columns of a one-indicator result, in order."""
    name, second, z = indicator.name, indicator.second, indicator.z
    figures = ("pct", "ci_low", "ci_high")
    return (
        "n",
        indicator.main,
        *(f"{name}_{figure}" for figure in figures),
        second,
        *(f"{second}_{figure}" for figure in figures),
        f"mean_{z}",
        f"sd_{z}",
        "excluded",
    )


FIGURE_COLUMNS = figure_columns(INDICATORS["stunting"])


@dataclass(frozen=True)
class SampleDesign:
    """Columns of the measurements that describe how they were sampled (--cluster, --strata,
    --weights); none: every period a simple random sample of its children."""

    cluster: str | None = None
    strata: str | None = None
    weights: str | None = None

    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.cluster, self.strata, self.weights) if c)


def compute_prevalence(
    frame: pd.DataFrame,
    *,
    indicators: str | Sequence[str] = ("stunting",),
    by: str | Sequence[str] = ("kelurahan",),
    period: str = "year",
    months: Iterable[int] | None = None,
    min_n: int = DEFAULT_MIN_N,
    total: bool = False,
    child_key: str = "child_id",
    design: SampleDesign | None = None,
) -> pd.DataFrame:
    """Prevalence of `indicators` per period and group, WHO's way (see the module docstring).

    `frame`: measurements with `child_key`, `visit_date`, z-scores and flags, `oedema` and
    `age_days` where known, the `by` and design columns. One indicator names its columns
    (figure_columns); several add an `indicator` column and use GENERIC_COLUMNS. Groups under
    `min_n` children keep `n` and `excluded` only, `note` says why; `total` adds a whole-area
    row per period; `attrs` record the options.
    """
    chosen = chosen_indicators(indicators)
    if isinstance(by, str):  # by="kelurahan" means one column, not its letters
        by = (by,)
    groups = [c for c in by if c != "year"]
    if len(set(groups)) != len(groups):
        raise UsageError(f"--by lists a column twice: {', '.join(by)}")
    if min_n < 0:
        raise UsageError(f"--min-n must be 0 or more, got {min_n}")
    design = design or SampleDesign()
    ages = ["age_days"] if AGE_GROUP_COLUMN in groups else []
    require_columns(frame, [*(g for g in groups if g != AGE_GROUP_COLUMN), *ages])
    require_columns(frame, design.columns())
    visits = prepare_visits(frame, period=period, months=months, child_key=child_key)
    by_score: dict[str, list[Indicator]] = {}
    for indicator in chosen:  # wasting and overweight share WHZ: one selection for both
        by_score.setdefault(indicator.z, []).append(indicator)
    figures: dict[str, pd.DataFrame] = {}
    for same_score in by_score.values():
        figures.update(_one_score(frame, visits, same_score, groups, total, design))
    parts = []
    for position, indicator in enumerate(chosen):
        part = figures[indicator.name]
        if len(chosen) > 1:
            part.columns = [*part.columns[: -len(GENERIC_COLUMNS)], *GENERIC_COLUMNS]
            part.insert(1, "indicator", indicator.name)  # after the period
        part["_indicator"] = position
        parts.append(part)
    keys = ["_period", "_total"]
    for i, column in enumerate(groups):
        keys += [f"_unknown{i}", column]
    result = pd.concat(parts, ignore_index=True)
    result = result.sort_values([*keys, "_indicator"], kind="stable", ignore_index=True)
    result = result.drop(columns=[c for c in result.columns if c.startswith("_")])
    _suppress(result, min_n, chosen[0] if len(chosen) == 1 else None)
    result.attrs.update(
        indicators=[i.name for i in chosen],
        period=period,
        months=list(check_months(months) or ()),
        by=list(by),
        min_n=min_n,
        total=total,
        design={k: v for k, v in vars(design).items() if v},
    )
    return result


def compute_prevalence_of_parts(parts: Iterable[pd.DataFrame], **options: Any) -> pd.DataFrame:
    """compute_prevalence of frames whose periods never span two of them (the store's visit
    years), one after the other: the result of one frame holding them all, in the memory of
    one part."""
    results = []
    for part in parts:
        results.append(compute_prevalence(part, **options))
        del part  # free this part before the next one is read
    return combine_parts(results)


def combine_parts(results: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """compute_prevalence results of parts whose periods never span two of them, as one."""
    found = [r for r in results if len(r)] or list(results[:1])
    combined = pd.concat(found, ignore_index=True) if len(found) > 1 else found[0]
    combined.attrs = dict(results[0].attrs)
    return combined


def chosen_indicators(names: str | Sequence[str]) -> list[Indicator]:
    """The indicators named ("all": every one), each once, in the order given; one named alone
    (a str) is a list of one, not of its letters."""
    names = [names] if isinstance(names, str) else list(names)
    names = list(INDICATORS) if names == ["all"] else names
    unknown = [n for n in names if n not in INDICATORS]
    if unknown or not names:
        raise UsageError(
            f"--indicator {', '.join(unknown)}: not an indicator; choose from "
            f"{', '.join(INDICATORS)} or all"
        )
    return [INDICATORS[n] for n in dict.fromkeys(names)]


def _one_score(
    frame: pd.DataFrame,
    visits: Visits,
    indicators: list[Indicator],
    groups: list[str],
    total: bool,
    sampled: SampleDesign,
) -> dict[str, pd.DataFrame]:
    """The figures of indicators of one z-score (one selection of children serves them all),
    with the helper `_` columns the sorting needs."""
    indicator = indicators[0]
    valid = valid_z(frame, indicator.z, f"{indicator.z}_flag")
    oedema = counted_oedema(frame) if indicator.weight_based else np.zeros(len(frame), dtype=bool)
    picked = visits.pick(valid | oedema)
    del valid
    periods = len(picked.period_labels)
    slot, slots, labels, decode = _group_ids(
        frame, groups, picked.rows, picked.period_code, periods
    )
    counted = picked.counted
    rows = picked.rows[counted]
    z = r_round(frame[indicator.z].to_numpy(dtype=np.float64, na_value=np.nan)[rows], Z_DECIMALS)
    ill = oedema[rows]
    del oedema
    z[ill] = np.nan  # outside the mean and SD; counted as a case below
    design = _design(frame, rows, picked.period_code[counted], sampled)
    figures: dict[str, list[pd.DataFrame]] = {i.name: [] for i in indicators}
    domains = [(slot[counted], slots, slot[~counted], False)] if groups else []
    if total or not groups:
        domains.append((picked.period_code[counted], periods, picked.period_code[~counted], True))
    for domain, size, excluded, is_total in domains:
        n = np.bincount(domain, minlength=size)
        left_out = np.bincount(excluded, minlength=size)
        seen = np.flatnonzero(n + left_out)
        if is_total:  # each group column's code of TOTAL_LABEL below
            period_code, codes = seen, [np.full(len(seen), len(text)) for text in labels]
        else:
            period_code, codes = decode(seen)
        keys = pd.DataFrame({"_period": period_code, "_total": int(is_total)})
        for i, column in enumerate(groups):
            text = np.asarray([*labels[i], TOTAL_LABEL, UNKNOWN_LABEL], dtype=object)
            keys[f"_unknown{i}"] = (codes[i] < 0).astype(np.int64)
            keys[column] = pd.Series(text[codes[i]], dtype="str")
        mean = weighted_mean(z, domain, size, design.weight)[0]
        sd = _sd(z, domain, size, design, mean)
        for one in indicators:
            cases = _case_figures(domain, size, n, z, ill, one, design, periods)
            part = keys.copy()
            values = [n, *cases, mean, sd, left_out]
            for name, column in zip(figure_columns(one), values, strict=True):
                part[name] = column[seen]
            figures[one.name].append(part)
    labels_of = np.asarray(picked.period_labels, dtype=object)
    name = "year" if visits.period == "year" else "period"
    results = {}
    for one in indicators:
        result = pd.concat(figures[one.name], ignore_index=True)
        values = labels_of[result["_period"].to_numpy(dtype=np.int64)]
        result.insert(0, name, pd.Series(values, dtype="int64" if name == "year" else "str"))
        results[one.name] = result.astype({one.main: "Int64", one.second: "Int64"})
    return results


def _case_figures(
    domain: IntArray,
    size: int,
    n: IntArray,
    z: FloatArray,
    oedema: npt.NDArray[np.bool_],
    indicator: Indicator,
    design: Design,
    periods: int,
) -> list[Any]:
    """Per domain, the cases with their percentage and interval at the main, then the second
    cut-off (figure_columns' order)."""
    df_period = np.zeros(size, dtype=np.int64)  # each domain's sample (period)
    df_period[domain] = design.sample
    df = design.degrees_of_freedom(periods)[df_period]
    figures: list[Any] = []
    for cut in (indicator.cut, indicator.second_cut):
        case = indicator.cases(z, oedema, cut)
        cases = np.bincount(domain, weights=case, minlength=size).astype(np.int64)
        if design.simple:  # the closed form of the same interval (R/prevalence-simple.R)
            sample_size = np.bincount(design.sample, minlength=periods)[df_period]
            pct, low, high = prevalence_ci(cases, n, sample_size)
        else:
            p, variance = domain_mean(case, domain, size, design)
            pct, (low, high) = p * 100, (bound * 100 for bound in logit_interval(p, variance, df))
        figures += [cases, pct, low, high]
    return figures


def _sd(z: FloatArray, domain: IntArray, size: int, design: Design, mean: FloatArray) -> FloatArray:
    """survey's svyvar: the weighted mean square deviation times m/(m - 1), m the rows."""
    known = ~np.isnan(z)
    slot, w = domain[known], design.weight[known]
    deviation = z[known] - mean[slot]
    m = np.bincount(slot, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        if design.simple:  # R's sd()
            squares = np.bincount(slot, weights=deviation * deviation, minlength=size)
            return np.where(m > 1, np.sqrt(squares / (m - 1)), np.nan)
        total_w = np.bincount(slot, weights=w, minlength=size)
        square = np.bincount(slot, weights=w * deviation**2, minlength=size) / total_w
        return np.where(m > 1, np.sqrt(square * m / (m - 1)), np.nan)


def _design(frame: pd.DataFrame, rows: IntArray, period: IntArray, sampled: SampleDesign) -> Design:
    """The design of the counted rows: each period a sample of its own."""
    weight = np.ones(len(rows))
    if sampled.weights:
        weight = _weights(frame[sampled.weights].iloc[rows], sampled.weights)
    stratum = period
    if sampled.strata:
        codes, count = _filled(frame, sampled.strata, rows)
        stratum = period * count + codes
    if not sampled.cluster:
        return Design.of(period, weight, stratum, None, simple=not sampled.columns())
    codes, count = _filled(frame, sampled.cluster, rows)
    psu = pd.factorize(stratum * count + codes)[0].astype(np.int64)
    # a period with one cluster is a simple random sample to anthro (ids = ~1): rows as PSUs
    first_psu = np.full(len(np.unique(period)) and int(period.max()) + 1, -1, dtype=np.int64)
    first_psu[period] = psu
    alone = ~np.bincount(period, weights=(psu != first_psu[period])).astype(bool)[period]
    psu = np.where(alone, psu.max(initial=-1) + 1 + np.arange(len(rows)), psu)  # none: empty
    return Design.of(period, weight, stratum, psu)


def _filled(frame: pd.DataFrame, column: str, rows: IntArray) -> tuple[IntArray, int]:
    """Codes of a design column's values at `rows` and their number; an empty cell is an
    error (R's survey refuses missing cluster or strata values)."""
    codes, uniques = value_codes(pd.Series(frame[column].array.take(rows)))
    empty = codes < 0
    if empty.any():
        where = ""
        if "source_line" in frame:
            lines = frame["source_line"].iloc[rows[empty][:3]].tolist()
            where = f" (lines {', '.join(map(str, lines))}, ...)"
        raise InputError(
            f"--cluster/--strata {column}: {int(empty.sum()):,} counted measurements have no "
            f"{column}{where}; fill it in, or choose another column"
        )
    return codes, len(uniques)


def _weights(values: pd.Series, column: str) -> FloatArray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(numbers) | (numbers < 0)
    if bad.any():
        shown = values.iloc[np.flatnonzero(bad)[:3]].astype(str).tolist()
        raise InputError(
            f"--weights {column}: {int(bad.sum()):,} counted measurements have a weight that is "
            f"negative or not a number ({', '.join(map(repr, shown))}); weights are numbers >= 0"
        )
    return numbers


def counted_oedema(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows whose oedema counts (anthro_prevalence: not past 1826 days of age)."""
    if "oedema" not in frame:
        return np.zeros(len(frame), dtype=bool)
    ill = flag_column(frame, "oedema")
    if "age_days" in frame:
        with np.errstate(invalid="ignore"):
            ill = ill & ~(frame["age_days"].to_numpy(np.float64, na_value=np.nan) > MAX_AGE_DAYS)
    return ill


def _age_group_codes(age_days: FloatArray) -> IntArray:
    months = round_half_up_days(np.where(age_days >= 0, age_days, np.nan)) / DAYS_PER_MONTH
    codes = np.searchsorted(AGE_GROUP_BREAKS_MONTHS, months, side="right").astype(np.int64) - 1
    with np.errstate(invalid="ignore"):
        inside = (months >= AGE_GROUP_BREAKS_MONTHS[0]) & (months < AGE_GROUP_BREAKS_MONTHS[-1])
    return np.where(inside, codes, -1)


def age_groups(age_days: npt.ArrayLike) -> pd.Categorical[str]:
    """WHO's age groups ("00-05 mo" ... "48-59 mo") for ages in days, as R `anthro` cuts them:
    age in days / 30.4375 on [0, 6), [6, 12), [12, 24), [24, 36), [36, 48), [48, 60)."""
    codes = _age_group_codes(np.asarray(age_days, dtype=np.float64))
    return pd.Categorical.from_codes(codes, categories=pd.Index(AGE_GROUP_LABELS), ordered=True)


def _sex_label(value: Any) -> str:
    try:
        return SEX_LABELS[int(value)] if float(value) in SEX_LABELS else str(value)
    except (TypeError, ValueError):
        return str(value)


def _group_ids(
    frame: pd.DataFrame,
    group_columns: Sequence[str],
    rows: IntArray,
    period_code: IntArray,
    n_periods: int,
) -> tuple[IntArray, int, list[list[str]], Any]:
    """One id per (period, group...) of the chosen rows, their range, each column's labels and
    a decoder from ids to (period code, [column codes, -1 = unknown]): mixed radix over the
    period and each column's codes shifted by one, compacted when the product is large."""
    group_id = period_code.astype(np.int64)
    radix: list[int] = []
    labels: list[list[str]] = []
    for column in group_columns:
        if column == AGE_GROUP_COLUMN:
            age = frame["age_days"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
            codes, column_labels = _age_group_codes(age), list(AGE_GROUP_LABELS)
        else:
            codes, values = factorize(pd.Series(frame[column].array.take(rows)))
            column_labels = [_sex_label(v) if column == "sex" else str(v) for v in values]
            codes = blank_as_missing(codes, column_labels)
        size = len(column_labels) + 1
        group_id = group_id * size + codes + 1
        radix.append(size)
        labels.append(column_labels)
    n_slots = n_periods * int(np.prod(radix, dtype=np.int64))
    uniques: IntArray | None = None
    if n_slots > max(4 * group_id.size, 1 << 20):
        compact, unique_ids = pd.factorize(group_id)
        group_id, uniques = compact.astype(np.int64), np.asarray(unique_ids, dtype=np.int64)
        n_slots = len(uniques)

    def decode(slot: IntArray) -> tuple[IntArray, list[IntArray]]:
        value = slot if uniques is None else uniques[slot]
        parts: list[IntArray] = []
        for size in reversed(radix):
            parts.append(value % size - 1)
            value = value // size
        return value, parts[::-1]

    return group_id, n_slots, labels, decode


def _suppress(result: pd.DataFrame, min_n: int, indicator: Indicator | None) -> None:
    """Empty the figures of groups under `min_n` children and say why in `note`."""
    n = result["n"].to_numpy()
    names = result["indicator"] if indicator is None else [indicator.name] * len(result)
    zs = np.asarray([INDICATORS[name].z.upper() for name in names], dtype=object)
    columns = GENERIC_COLUMNS if indicator is None else figure_columns(indicator)
    note = np.full(len(result), "", dtype=object)
    note[n == 0] = "no child with a valid " + zs[n == 0]
    suppressed = n < min_n
    note[suppressed] = f"n < {min_n}: figures suppressed"
    for column in columns[1:-1]:
        empty = pd.NA if result[column].dtype == "Int64" else np.nan
        result.loc[suppressed, column] = empty
    result[NOTE_COLUMN] = pd.Series(note, dtype="str")


def is_low_precision(n: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a group's figures rest on fewer than 50 children (marked in the table view)."""
    counts = np.asarray(n, dtype=np.float64)
    return (counts > 0) & (counts < LOW_PRECISION_BELOW_N)
