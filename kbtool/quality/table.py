"""The report's table: figures per cell and per period from the counts, in a stable layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kbtool.arrays import FloatArray
from kbtool.prevalence import TOTAL_LABEL, UNKNOWN_LABEL
from kbtool.quality.cells import Cells
from kbtool.quality.counting import Counts
from kbtool.quality.statistics import digit_preference_score, excess_test, ratio_test
from kbtool.quality.thresholds import EXPECTED_AGE_RATIO, EXPECTED_SEX_RATIO, HEAPING_EXPECTED_PCT

# The report's columns after the period and group columns, in order (part of the interface).
TABLE_COLUMNS = (
    "n_rows", "n_children",
    # completeness and implausible values, % of rows
    "missing_sex_pct", "missing_birth_date_pct", "missing_visit_date_pct", "missing_height_pct",
    "missing_weight_pct", "missing_position_pct", "birth_day_heaping_pct", "age_out_of_range_pct",
    "flagged_haz_pct", "flagged_waz_pct", "flagged_whz_pct", "position_flag_pct", "duplicate_pct",
    # the HAZ distribution of the children counted
    "n_haz", "mean_haz", "mean_haz_gap", "mean_haz_gap_p", "sd_haz", "skew_haz", "kurtosis_haz",
    # SMART's digit preference scores and ratio tests
    "dps_height", "dps_weight", "sex_ratio", "sex_ratio_p", "age_ratio", "age_ratio_p",
    # consecutive visits
    "height_decrease_pct", "height_repeated_pct", "weight_velocity_pct",
    "score", "rating",
)  # fmt: skip


# each percentage column: (count, denominator); the ratings need the denominators as well
_SHARES = {
    "missing_sex_pct": ("missing_sex", "n_rows"),
    "missing_birth_date_pct": ("missing_birth_date", "n_rows"),
    "missing_visit_date_pct": ("missing_visit_date", "n_rows"),
    "missing_height_pct": ("missing_height", "n_rows"),
    "missing_weight_pct": ("missing_weight", "n_rows"),
    "missing_position_pct": ("missing_position", "with_height"),
    "birth_day_heaping_pct": ("heaped", "with_birth"),
    "age_out_of_range_pct": ("age_out_of_range", "with_age"),
    "flagged_haz_pct": ("flagged_haz", "with_haz"),
    "flagged_waz_pct": ("flagged_waz", "with_waz"),
    "flagged_whz_pct": ("flagged_whz", "with_whz"),
    "position_flag_pct": ("position_flagged", "with_height"),
    "duplicate_pct": ("duplicates", "n_rows"),
    "height_decrease_pct": ("height_decreases", "height_pairs"),
    "height_repeated_pct": ("copied", "followed"),
    "weight_velocity_pct": ("weight_implausible", "weight_pairs"),
}


def _table_values(counts: Counts, expected_age_ratio: FloatArray) -> dict[str, Any]:
    """The report's figures from one level's counts, plus the hidden counts ratings rest on."""
    sex_ratio, sex_p = ratio_test(counts["boys"], counts["girls"], EXPECTED_SEX_RATIO)
    age_ratio, age_p = ratio_test(counts["age_young"], counts["age_old"], expected_age_ratio)
    n_rows = counts["n_rows"]
    empty = np.full(n_rows.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {
            column: np.where(counts[whole] > 0, 100.0 * counts[part] / counts[whole], np.nan)
            for column, (part, whole) in _SHARES.items()
        }
    counted = ("n_rows", "n_children", "n_haz", "mean_haz", "sd_haz", "skew_haz", "kurtosis_haz")
    return {  # in any order: the report picks TABLE_COLUMNS
        **{name: counts[name] for name in counted},
        **shares,
        "mean_haz_gap": counts.get("mean_haz_gap", empty),
        "mean_haz_gap_p": counts.get("mean_haz_gap_p", empty),
        "dps_height": digit_preference_score(counts["digits_height"]),
        "dps_weight": digit_preference_score(counts["digits_weight"]),
        "sex_ratio": sex_ratio,
        "sex_ratio_p": sex_p,
        "age_ratio": age_ratio,
        "age_ratio_p": age_p,
        # hidden: what the ratings and the sentences rest on (dropped from the table)
        **{f"_{whole}": counts[whole] for _, whole in _SHARES.values() if whole != "n_rows"},
        "_heaping_p": excess_test(
            counts["heaped"], counts["with_birth"], HEAPING_EXPECTED_PCT / 100.0
        ),
        "_height_values": counts["digits_height"].sum(axis=1),
        "_weight_values": counts["digits_weight"].sum(axis=1),
        "_n_sex": counts["boys"] + counts["girls"],
        "_n_age": counts["age_young"] + counts["age_old"],
        "_expected_age_ratio": expected_age_ratio,
        "_n_gap": counts.get("n_gap", np.zeros(n_rows.shape)),
        "_parent": counts.get("parent", np.full(n_rows.shape, "", dtype=object)),
    }


def period_column(period: str | None) -> str | None:
    """The table's period column: "year", "period" (months), or None without periods."""
    return None if period is None else ("year" if period == "year" else "period")


def assemble_table(
    cell_counts: Counts, total_counts: Counts, cells: Cells, by: str, period: str | None
) -> pd.DataFrame:
    """Group rows then the whole-area row of each period, in period order, with hidden columns."""
    # the whole area against SMART's expected age ratio; each group against its whole area
    total_values = _table_values(total_counts, np.full(cells.n_periods, EXPECTED_AGE_RATIO))
    area_ratio = np.asarray(total_values["age_ratio"], dtype=np.float64)
    usable = np.isfinite(area_ratio) & (area_ratio > 0)
    cell_expected = np.where(usable, area_ratio, EXPECTED_AGE_RATIO)[cells.cell_period]
    cell_values = _table_values(cell_counts, cell_expected)
    group_text = np.asarray([*cells.group_labels, UNKNOWN_LABEL], dtype=object)
    groups = {  # the unknown group after the others
        "_period": cells.cell_period,
        "_order": np.where(cells.cell_group == len(cells.group_labels), 1, 0),
        by: group_text[cells.cell_group],
    }
    areas = {
        "_period": np.arange(cells.n_periods, dtype=np.int64),
        "_order": np.full(cells.n_periods, 2),
        by: np.full(cells.n_periods, TOTAL_LABEL, dtype=object),
    }
    parts = [pd.DataFrame({**groups, **cell_values}), pd.DataFrame({**areas, **total_values})]
    table = pd.concat(parts, ignore_index=True)
    table = table[table["n_rows"] > 0]
    table = table.sort_values(["_period", "_order", by], kind="stable", ignore_index=True)
    table = table.astype(dict.fromkeys(("n_rows", "n_children", "n_haz"), np.int64))
    table[by] = table[by].astype("str")
    period_name = period_column(period)
    if period_name is not None:
        labels = [cells.period_labels[p] for p in table["_period"].tolist()]
        column: Any
        if period != "year":
            column = pd.Series([UNKNOWN_LABEL if v is None else v for v in labels], dtype="str")
        elif None in labels:
            column = pd.array(labels, dtype="Int64")
        else:
            column = np.asarray(labels, dtype=np.int64)
        table.insert(0, period_name, column)
    return table
