"""Prevalence of the nutrition indicators per period and group, computed as WHO's R `anthro`.

`select_period_measurements` (selection): each child once per period and indicator;
`compute_prevalence` (compute): n, cases, percentages with 95% intervals, mean and SD of z, for
a simple random sample or a clustered, stratified, weighted design (design).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kbtool.prevalence.compute import (
    AGE_GROUP_BREAKS_MONTHS,
    AGE_GROUP_COLUMN,
    AGE_GROUP_LABELS,
    DEFAULT_MIN_N,
    FIGURE_COLUMNS,
    GENERIC_COLUMNS,
    INDICATORS,
    NOTE_COLUMN,
    TOTAL_LABEL,
    UNKNOWN_LABEL,
    Indicator,
    SampleDesign,
    age_groups,
    chosen_indicators,
    combine_parts,
    compute_prevalence,
    compute_prevalence_of_parts,
    counted_oedema,
    figure_columns,
    is_low_precision,
)
from kbtool.prevalence.design import prevalence_ci
from kbtool.prevalence.selection import PERIODS, SelectionResult, select_period_measurements
from kbtool.words import Said, terms
from kbtool.writing import Provenance

__all__ = [
    "AGE_GROUP_BREAKS_MONTHS",
    "AGE_GROUP_COLUMN",
    "AGE_GROUP_LABELS",
    "BY_CHOICES",
    "DEFAULT_MIN_N",
    "FIGURE_COLUMNS",
    "GENERIC_COLUMNS",
    "INDICATORS",
    "NOTE_COLUMN",
    "PERIODS",
    "TOTAL_LABEL",
    "UNKNOWN_LABEL",
    "Indicator",
    "SampleDesign",
    "SelectionResult",
    "age_groups",
    "chosen_indicators",
    "columns_needed",
    "combine_parts",
    "compute_prevalence",
    "compute_prevalence_of_parts",
    "counted_oedema",
    "figure_columns",
    "is_low_precision",
    "prevalence_ci",
    "provenance",
    "select_period_measurements",
]

SCORES = terms("words.scores")  # HAZ as Indonesian names it: TB/U
BY_CHOICES = ("kelurahan", "kecamatan", "posyandu", "puskesmas", "sex", "age_group", "year")


def columns_needed(
    by: str | Sequence[str],
    indicators: str | Sequence[str] = ("stunting",),
    design: SampleDesign | None = None,
) -> tuple[str, ...]:
    """The measurement columns compute_prevalence reads: only these are read from the store."""
    chosen = chosen_indicators(indicators)
    by = (by,) if isinstance(by, str) else by  # one column, not its letters
    scores = dict.fromkeys(c for i in chosen for c in (i.z, f"{i.z}_flag"))
    weight_based = any(i.weight_based for i in chosen)
    groups = [g for g in by if g not in ("year", AGE_GROUP_COLUMN)]
    columns = ["child_key", "visit_date", *scores, *(["oedema"] if weight_based else []), *groups]
    if AGE_GROUP_COLUMN in by or weight_based:  # oedema counts up to 1826 days of age
        columns.append("age_days")
    return tuple(dict.fromkeys([*columns, *(design.columns() if design else ())]))


def provenance(
    result: pd.DataFrame, origin: dict[str, object], sources: list[dict[str, object]]
) -> Provenance:
    """Where a prevalence result came from: its options, sources, selection rule and method."""
    keys = ("indicators", "by", "period", "months", "min_n", "total", "design")
    options = {key: result.attrs[key] for key in keys}
    chosen = [INDICATORS[name] for name in options["indicators"]]
    scores = list(dict.fromkeys(i.z.upper() for i in chosen))
    design = options["design"]
    sample = (
        Said("prevalence_cluster_design", design=", ".join(f"{k}={v}" for k, v in design.items()))
        if design
        else Said("prevalence_simple_sample")
    )
    notes: list[str] = [
        Said(
            "prevalence_selection",
            scores={lang: ", ".join(SCORES[lang][z] for z in scores) for lang in SCORES},
        ),
        Said("prevalence_method", sample=sample),
    ]
    return Provenance(
        command="prevalence",
        options={
            **origin,
            **options,
            "months": options["months"] or None,
            "design": design or None,
        },
        sources=sources,
        notes=notes,
    )
