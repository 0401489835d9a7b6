"""Where to look first: the worst rows, with the reasons for their rating in words."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from kbtool.quality.cells import TOTAL_LABEL
from kbtool.quality.thresholds import (
    ACCEPTABLE,
    CHECKS,
    EXCELLENT,
    EXPECTED_AGE_RATIO,
    HEAPING_EXPECTED_PCT,
    RATINGS,
    Check,
    p_value_text,
)


def _reason(check: Check, code: int, row: pd.Series, by: str) -> str:
    """One short sentence: the figure, its rating and the limit it crossed."""
    value = float(row[check.column])
    rating = RATINGS[code]
    lim = check.limits
    if check.column == "sex_ratio_p":
        ratio = float(row["sex_ratio"])
        if np.isfinite(ratio) and ratio > 0:
            shown = f"sex ratio {ratio:.2f} boys per girl"
        else:
            shown = f"only {'boys' if ratio > 0 else 'girls'} recorded"
        return f"{shown}, p {p_value_text(value)} ({rating})"
    if check.column == "age_ratio_p":
        against = (
            f"SMART's {EXPECTED_AGE_RATIO:g}"
            if row[by] == TOTAL_LABEL
            else f"{row['_expected_age_ratio']:.2f} as in the whole area"
        )
        return (
            f"age ratio 6-29 / 30-59 months {row['age_ratio']:.2f} (expected {against}), "
            f"p {p_value_text(value)} ({rating})"
        )
    if check.column == "mean_haz_gap_p":
        gap = float(row["mean_haz_gap"])
        return (
            f"mean HAZ {abs(gap):.2f} {'below' if gap < 0 else 'above'} the rest of "
            f"{row['_parent']}, p {p_value_text(value)} ({rating}): a biased length board, "
            "or a real difference"
        )
    if check.kind == "share":  # one decimal more where it would read as equal to the limit
        equal = f"{value:.1f}" == f"{lim[code - 1]:.1f}"
        text = check.describe(value, 2 if equal else 1)
    else:
        text = check.describe(value)
    if check.kind == "heaping":
        return (
            f"{text} (expected {HEAPING_EXPECTED_PCT:.1f}%), "
            f"p {p_value_text(float(row['_heaping_p']))} ({rating})"
        )
    if check.kind in ("share", "upper"):
        unit = "%" if check.kind == "share" else ""
        return f"{text} ({rating}: more than {lim[code - 1]:g}{unit})"
    if check.kind == "abs":
        return f"{text} ({rating}: {lim[code - 1]:g} or more either way)"
    low, high = lim[code - 1]
    beyond = f"{high:g} or more" if value >= high else f"{low:g} or less"
    return f"{text} ({rating}: {beyond})"


def list_findings(
    table: pd.DataFrame, ratings: pd.DataFrame, by: str, period_name: str | None, top: int
) -> pd.DataFrame:
    """The rows rated acceptable or problematic, worst first (groups before the whole area
    within a rating, then by score), with their reasons in words."""
    columns = [*([period_name] if period_name else []), by, "rating", "score", "reasons"]
    code = table["rating"].map({r: i for i, r in enumerate(RATINGS)}).fillna(-1).astype(int)
    worst = table.assign(_code=code, _group=table["_order"] < 2)[code >= ACCEPTABLE]
    # worst rating first; within a rating the groups (where to go) before the whole area
    worst = worst.sort_values(["_code", "_group", "score"], ascending=False, kind="stable")
    worst = worst.head(top)
    codes = {check.column: ratings[check.column].to_numpy() for check in CHECKS}
    records = []
    for position in worst.index.to_numpy(dtype=np.int64):  # at most `top` rows
        row = cast(pd.Series, worst.loc[position])
        found = []
        for check in CHECKS:
            rating = int(codes[check.column][position])
            if rating > EXCELLENT:
                found.append((-rating, -check.points[rating], _reason(check, rating, row, by)))
        record = {column: row[column] for column in columns[:-1]}
        record["reasons"] = "; ".join(text for *_, text in sorted(found))
        records.append(record)
    findings = pd.DataFrame(records, columns=columns)
    if period_name == "year" and len(findings):
        findings[period_name] = findings[period_name].astype(table[period_name].dtype)
    findings["score"] = findings["score"].astype("Int64")
    return findings
