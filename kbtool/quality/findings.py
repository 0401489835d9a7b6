"""Where to look first: the worst rows, with the reasons for their rating in words."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from kbtool.prevalence import TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.quality.thresholds import (
    ACCEPTABLE,
    CHECKS,
    EXCELLENT,
    EXPECTED_AGE_RATIO,
    HEAPING_EXPECTED_PCT,
    HEIGHT_DECREASE_CM,
    RATINGS,
    Check,
    dps_shown,
)
from kbtool.words import QUALITY_WORDS, RATING_WORDS, Said, indonesian_digits


def _reason(check: Check, code: int, row: pd.Series, by: str) -> Said:
    """One short sentence: the figure, its rating and the limit it crossed."""
    value = float(row[check.column])
    rating = RATING_WORDS[RATINGS[code]]
    limit = check.limits[code - 1]
    if check.column == "sex_ratio_p":
        ratio = float(row["sex_ratio"])
        if np.isfinite(ratio) and ratio > 0:
            return Said("quality_sex_ratio", ratio=ratio, p=_p(value), rating=rating)
        sex = QUALITY_WORDS["boys" if ratio > 0 else "girls"]
        return Said("quality_one_sex", sex=sex, p=_p(value), rating=rating)
    if check.column == "age_ratio_p":
        whole = row[by] == TOTAL_LABEL
        key = "quality_age_ratio_smart" if whole else "quality_age_ratio_area"
        expected = EXPECTED_AGE_RATIO if whole else float(row["_expected_age_ratio"])
        ratio = float(row["age_ratio"])
        return Said(key, ratio=ratio, expected=expected, p=_p(value), rating=rating)
    if check.column == "mean_haz_gap_p":
        gap = float(row["mean_haz_gap"])
        direction = QUALITY_WORDS["below" if gap < 0 else "above"]
        parent = _place(str(row["_parent"]))
        return Said(
            "quality_haz_gap", gap=abs(gap), direction=direction, parent=parent, p=_p(value),
            rating=rating,
        )  # fmt: skip
    # the figure in words; a share gets one decimal more where it would read as equal to the limit
    close = check.kind == "share" and f"{value:.1f}" == f"{limit:.1f}"
    shown = float(dps_shown(value)) if check.kind == "upper" else value
    decimals = 2 if close else 1
    text = Said(f"quality_{check.column}", value=shown, decimals=decimals, cm=HEIGHT_DECREASE_CM)
    if check.kind == "heaping":
        p = _p(float(row["_heaping_p"]))
        return Said("quality_heaping", text=text, expected=HEAPING_EXPECTED_PCT, p=p, rating=rating)
    if check.kind in ("share", "upper"):
        unit = "%" if check.kind == "share" else ""
        return Said("quality_more_than", text=text, rating=rating, limit=limit, unit=unit)
    if check.kind == "abs":
        return Said("quality_either_way", text=text, rating=rating, limit=limit)
    low, high = limit
    if value >= high:
        return Said("quality_or_more", text=text, rating=rating, limit=high)
    return Said("quality_or_less", text=text, rating=rating, limit=low)


def _place(label: str) -> str | dict[str, str]:
    """A group's label, in each language where it is "(unknown) kelurahan"."""
    unknown = f"{UNKNOWN_LABEL} "
    if not label.startswith(unknown):
        return label
    return {"en": label, "id": f"{label.removeprefix(unknown)} yang tidak diketahui"}


def _p(p: float) -> dict[str, str]:
    """A p-value as a reason gives it, in each language ("= 0.012" / "= 0,012")."""
    text = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    return {"en": text, "id": indonesian_digits(text)}


def list_findings(
    table: pd.DataFrame, ratings: pd.DataFrame, by: str, period_name: str | None, top: int
) -> tuple[pd.DataFrame, list[list[Said]]]:
    """The rows rated acceptable or problematic, worst first (groups before the whole area
    within a rating, then by score), with their reasons in words (in English; and each row's
    as Saids, for other languages)."""
    columns = [*([period_name] if period_name else []), by, "rating", "score", "reasons"]
    code = table["rating"].map({r: i for i, r in enumerate(RATINGS)}).fillna(-1).astype(int)
    worst = table.assign(_code=code, _group=table["_order"] < 2)[code >= ACCEPTABLE]
    # worst rating first; within a rating the groups (where to go) before the whole area
    worst = worst.sort_values(["_code", "_group", "score"], ascending=False, kind="stable")
    worst = worst.head(top)
    codes = {check.column: ratings[check.column].to_numpy() for check in CHECKS}
    records = []
    reasons: list[list[Said]] = []
    for position in worst.index.to_numpy(dtype=np.int64):  # at most `top` rows
        row = cast(pd.Series, worst.loc[position])
        found = []
        for check in CHECKS:
            rating = int(codes[check.column][position])
            if rating > EXCELLENT:
                found.append((-rating, -check.points[rating], _reason(check, rating, row, by)))
        reasons.append([text for *_, text in sorted(found)])
        record = {column: row[column] for column in columns[:-1]}
        records.append({**record, "reasons": "; ".join(reasons[-1])})
    findings = pd.DataFrame(records, columns=columns)
    if period_name == "year" and len(findings):
        findings[period_name] = findings[period_name].astype(table[period_name].dtype)
    findings["score"] = findings["score"].astype("Int64")
    return findings, reasons
