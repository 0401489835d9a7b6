"""Are we on track? Each group's prevalence by year against targets, the WHO/UNICEF way.

`compute_trend` turns a yearly prevalence result (kbtool.prevalence.compute_prevalence with
period "year") into one row per group and indicator: the prevalence and n of every year, the
change, the average annual rate of reduction (AARR), and per target the AARR required to reach
it, the prevalence projected at the current AARR and a status. The method is that of the
WHO/UNICEF Global Nutrition Targets Tracking Tool (WHO, 2017 revision of the TEAM rules) and
UNICEF's technical note on the AARR; docs/trend.md states it with its sources.

Output conventions (part of the machine interface): the group columns, then `indicator`, then
`pct_<year>` and `n_<year>` per year, `first_year`, `last_year`, `change_pp`, `aarr`, a block
`target_pct`, `target_year`, `required_aarr`, `projected_pct`, `status` per target (suffixed
`_<year>` when there are several), and `note`. Rows follow the prevalence result's group order,
the whole-area row ("All") last, indicators in the order asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import FloatArray
from kbtool.errors import InputError, UsageError
from kbtool.prevalence import INDICATORS, NOTE_COLUMN, TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.words import Said
from kbtool.writing import Provenance

ON_TRACK, OFF_TRACK, INSUFFICIENT = "on track", "off track", "insufficient data"
TARGET_COLUMNS = ("target_pct", "target_year", "required_aarr", "projected_pct", "status")


@dataclass(frozen=True)
class Target:
    """A prevalence (in %) to reach by the end of a year."""

    pct: float
    year: int

    @classmethod
    def parse(cls, text: str) -> Target:
        """'14.2@2029' -> Target(14.2, 2029) (UsageError otherwise)."""
        match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*%?\s*@\s*(\d{4})\s*", text)
        pct = float(match[1].replace(",", ".")) if match else -1.0
        if match is None or not 0 < pct < 100:
            raise UsageError(
                f"--target {text!r}: write a prevalence in % above 0 and below 100 and a year, "
                "such as 14.2@2029"
            )
        return cls(pct, int(match[2]))

    def __str__(self) -> str:
        return f"{self.pct:g}@{self.year}"


# RPJMN 2025-2029 (Perpres No. 12 Tahun 2025): stunting prevalence 14.2% in 2029
DEFAULT_TARGETS = (Target(14.2, 2029),)


def compute_trend(
    prevalence: pd.DataFrame, targets: Sequence[Target] = DEFAULT_TARGETS
) -> pd.DataFrame:
    """One row per group and indicator of a yearly prevalence result: its trend against
    `targets` (see the module docstring; InputError for a result without rows). Years whose
    figures are suppressed or missing are left out of first/last year, change and AARR, and so
    are years at 0% from the AARR; `note` says so, and why an AARR or status could not be had.
    `attrs` keep the prevalence options and the targets."""
    if prevalence.attrs.get("period", "year") != "year" or "year" not in prevalence.columns:
        raise UsageError("a trend needs prevalence by year (period 'year')")
    if prevalence.empty:
        raise InputError("no trend to follow: no measurement in the years and months asked")
    targets = list(targets)
    years_of_targets = [t.year for t in targets]
    if not targets or len(set(years_of_targets)) != len(years_of_targets):
        raise UsageError(f"--target: give one target per year, got {', '.join(map(str, targets))}")
    long = _long_form(prevalence)
    keys = [c for c in long.columns if c not in ("year", "n", "pct")]
    years = sorted(int(y) for y in long["year"].unique())
    asked = prevalence.attrs.get("indicators") or list(INDICATORS)
    rows = _row_order(long[keys].drop_duplicates(), keys, asked)
    wide = long.set_index([*keys, "year"])[["pct", "n"]].unstack("year")
    index = pd.MultiIndex.from_frame(rows) if len(keys) > 1 else pd.Index(rows[keys[0]])
    wide = wide.reindex(index)
    pct = (
        cast(pd.DataFrame, wide["pct"]).reindex(columns=years).to_numpy(np.float64, na_value=np.nan)
    )
    n = cast(pd.DataFrame, wide["n"]).reindex(columns=years).fillna(0).to_numpy(dtype=np.int64)
    trend = rows.reset_index(drop=True)
    for i, year in enumerate(years):
        trend[f"pct_{year}"] = pct[:, i]
        trend[f"n_{year}"] = pd.array(n[:, i], dtype="Int64")
    figures = _figures(pct, np.asarray(years, dtype=np.float64))
    trend["first_year"] = pd.Series(figures.first_year).astype("Int64")
    trend["last_year"] = pd.Series(figures.last_year).astype("Int64")
    trend["change_pp"] = figures.change_pp
    trend["aarr"] = figures.aarr
    notes = [_year_notes(pct, n, years, prevalence.attrs.get("min_n"))]
    few_years = np.where(
        np.isnan(figures.last_pct),
        "no year with a prevalence",
        "fewer than two years with a prevalence above 0%: no AARR",
    )
    notes.append(np.where(figures.usable < 2, few_years, "").tolist())
    for target in targets:
        block = _against(target, figures)
        suffix = f"_{target.year}" if len(targets) > 1 else ""
        trend[f"target_pct{suffix}"] = target.pct
        trend[f"target_year{suffix}"] = target.year
        for name in TARGET_COLUMNS[2:]:
            trend[f"{name}{suffix}"] = block[name]
        notes.append(block[NOTE_COLUMN].tolist())
    trend[NOTE_COLUMN] = ["; ".join(p for p in parts if p) for parts in zip(*notes, strict=True)]
    kept = ("indicators", "by", "months", "min_n")
    trend.attrs.update({k: v for k, v in prevalence.attrs.items() if k in kept})
    trend.attrs["targets"] = [str(t) for t in targets]
    return trend


def _long_form(prevalence: pd.DataFrame) -> pd.DataFrame:
    """Group columns, indicator, year, n, pct: one row per group, indicator and year."""
    columns = list(prevalence.columns)
    groups = [c for c in columns[: columns.index("n")] if c not in ("year", "indicator")]
    if "indicator" in prevalence.columns:
        indicator, pct = prevalence["indicator"].astype(str), prevalence["pct"]
    else:
        name = prevalence.attrs.get("indicators", ["stunting"])[0]
        indicator, pct = pd.Series(name, index=prevalence.index), prevalence[f"{name}_pct"]
    long = prevalence[groups].astype(str)
    long["indicator"] = indicator
    long["year"] = prevalence["year"].astype(np.int64)
    long["n"] = prevalence["n"].astype(np.int64)
    long["pct"] = pct.to_numpy(dtype=np.float64, na_value=np.nan)
    return long


def _row_order(rows: pd.DataFrame, keys: list[str], indicators: Sequence[str]) -> pd.DataFrame:
    """Groups by label ("(unknown)" after the others), the whole-area row last; indicators in
    the order given (the order asked)."""
    groups = [k for k in keys if k != "indicator"]
    order = pd.DataFrame(index=rows.index)
    order["_total"] = (rows[groups] == TOTAL_LABEL).all(axis=1) if groups else True
    sort = ["_total"]
    for i, column in enumerate(groups):
        order[f"_unknown{i}"] = rows[column] == UNKNOWN_LABEL
        order[column] = rows[column]
        sort += [f"_unknown{i}", column]
    order["_indicator"] = rows["indicator"].map({name: i for i, name in enumerate(indicators)})
    sort.append("_indicator")
    return rows.loc[order.sort_values(sort, kind="stable").index, keys]


@dataclass(frozen=True)
class _Figures:
    """Per row: the first and last year with a prevalence (NaN: none), the change between them,
    the AARR and the number of years it rests on, and the last year's prevalence."""

    first_year: FloatArray
    last_year: FloatArray
    change_pp: FloatArray
    aarr: FloatArray
    usable: npt.NDArray[np.int64]
    last_pct: FloatArray


def _figures(pct: FloatArray, years: FloatArray) -> _Figures:
    """The trend figures of every row at once (rows: groups, columns: years)."""
    known = ~np.isnan(pct)
    some = known.any(axis=1)
    rows = np.arange(len(pct))
    first = np.argmax(known, axis=1)
    last = len(years) - 1 - np.argmax(known[:, ::-1], axis=1)
    first_year = np.where(some, years[first], np.nan)
    last_year = np.where(some, years[last], np.nan)
    last_pct = np.where(some, pct[rows, last], np.nan)
    change = np.where(some & (first != last), last_pct - pct[rows, first], np.nan)
    # ln(p) on year by least squares over the years above 0% (with two years: the line through
    # both, the two-point formula); AARR = 100 (1 - e^slope)
    usable = known & (np.nan_to_num(pct) > 0)
    count = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_p = np.where(usable, np.log(np.where(usable, pct, 1.0)), 0.0)
        mean_year = (usable * years).sum(axis=1) / count
        mean_log = log_p.sum(axis=1) / count
        spread = np.where(usable, years - mean_year[:, None], 0.0)
        slope = (spread * (log_p - mean_log[:, None])).sum(axis=1) / (spread**2).sum(axis=1)
    aarr = np.where(count >= 2, 100.0 * (1.0 - np.exp(slope)), np.nan)
    return _Figures(first_year, last_year, change, aarr, count, last_pct)


def _against(target: Target, figures: _Figures) -> dict[str, npt.NDArray[np.generic]]:
    """Required AARR, projected prevalence, status and note of every row against one target."""
    p = figures.last_pct
    years_left = target.year - figures.last_year
    ahead = years_left > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        required = np.where(
            ahead & (p > 0), 100.0 * (1.0 - (target.pct / p) ** (1.0 / years_left)), np.nan
        )
        projected = p * (1.0 - figures.aarr / 100.0) ** years_left
    projected = np.where(ahead, np.minimum(projected, 100.0), np.nan)  # a rise stops at 100%
    known = ~np.isnan(p)
    status = np.select(
        [known & (p <= target.pct), ~known, ~ahead, np.isnan(figures.aarr)],
        [ON_TRACK, INSUFFICIENT, OFF_TRACK, INSUFFICIENT],
        np.where(figures.aarr >= required, ON_TRACK, OFF_TRACK),
    )
    note = np.where(
        known & ~ahead,
        f"target year {target.year} not after the last year: its prevalence compared with the "
        "target",
        "",
    )
    return {
        "required_aarr": required,
        "projected_pct": projected,
        "status": status.astype(object),
        NOTE_COLUMN: note,
    }


def _year_notes(
    pct: FloatArray, n: npt.NDArray[np.int64], years: list[int], min_n: object
) -> list[str]:
    """Per row, the years left out and why: no children, suppressed, or 0%."""
    reasons = np.full(pct.shape, "", dtype=object)
    missing = np.isnan(pct)
    reasons[missing & (n == 0)] = "no children"
    reasons[missing & (n > 0)] = f"n < {min_n}" if min_n is not None else "no figures"
    reasons[pct == 0] = "0%"
    texts = []
    for row in reasons:  # one row per group: a short list of years
        left_out = [f"{year} ({why})" for year, why in zip(years, row, strict=True) if why]
        texts.append(f"left out: {', '.join(left_out)}" if left_out else "")
    return texts


def provenance(
    trend: pd.DataFrame, origin: dict[str, object], sources: list[dict[str, object]]
) -> Provenance:
    """Where a trend came from: its options, sources and method."""
    keys = ("indicators", "by", "months", "min_n", "targets")
    options = {key: trend.attrs[key] for key in keys if key in trend.attrs}
    return Provenance(
        command="trend",
        options={**origin, **options, "months": options.get("months") or None},
        sources=sources,
        notes=[Said("trend_method"), Said("trend_prevalence")],
    )
