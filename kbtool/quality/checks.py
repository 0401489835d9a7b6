"""The cross-sectional checks: what the rows (row_counts) and the children (child_counts) of
each cell and period show."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray, IntArray
from kbtool.columns import (
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    calendar_parts,
    code_column,
    dense_codes,
    flag_column,
    float_column,
    value_codes,
)
from kbtool.growth.constants import DAYS_PER_MONTH, MAX_AGE_DAYS
from kbtool.prevalence import UNKNOWN_LABEL
from kbtool.prevalence.design import t_p_value
from kbtool.prevalence.selection import Visits, valid_z
from kbtool.quality.cells import Cells, Columns, to_periods
from kbtool.quality.counting import Counts, PackedCounts, count, distinct_children
from kbtool.quality.statistics import moments, power_sums
from kbtool.quality.thresholds import (
    AGE_RATIO_OLD_MONTHS,
    AGE_RATIO_YOUNG_MONTHS,
    DPS_DIGITS,
    HEAPING_DAYS,
)


def row_counts(frame: pd.DataFrame, data: Columns, cells: Cells) -> Counts:
    """Per-cell counts of rows: missing values, WHO flags (of the z-scores computed), position
    (of the heights measured), ages out of range, and the tenths digits of height and weight."""
    codes, size = cells.row_cell, cells.n_cells
    cell: Counts = {"n_rows": count(codes, size)}
    packed = PackedCounts(codes, size, cell)
    sex = code_column(frame, "sex")
    packed.add("missing_sex", (sex != 1) & (sex != 2))
    del sex
    packed.add("missing_birth_date", ~data.birth_known)
    packed.add("missing_visit_date", ~data.visit_known)
    height = float_column(frame, "height_cm")
    has_height = ~np.isnan(height)
    packed.add("with_height", has_height)
    no_position = has_height
    if "measure" in frame.columns:
        measure = code_column(frame, "measure")
        no_position = has_height & (measure != MEASURE_LENGTH) & (measure != MEASURE_HEIGHT)
        del measure
    packed.add("missing_position", no_position)
    del no_position
    if "position_flag" in frame.columns:
        packed.add("position_flagged", has_height & flag_column(frame, "position_flag"))
    weight = float_column(frame, "weight_kg")
    packed.add("missing_weight", np.isnan(weight))
    age = float_column(frame, "age_days")
    packed.add("with_age", ~np.isnan(age))
    with np.errstate(invalid="ignore"):  # NaN compares false: a missing age is not out of range
        packed.add("age_out_of_range", (age < 0) | (age > MAX_AGE_DAYS))
    del age
    for indicator in ("haz", "waz", "whz"):
        computed = ~np.isnan(float_column(frame, indicator))
        packed.add(f"with_{indicator}", computed)
        packed.add(f"flagged_{indicator}", computed & flag_column(frame, f"{indicator}_flag"))
    packed.flush()
    cell.setdefault("position_flagged", np.zeros(size))
    cell["missing_height"] = cell["n_rows"] - cell["with_height"]  # exact: whole numbers
    cell["digits_height"] = _digit_counts(codes, size, height)
    cell["digits_weight"] = _digit_counts(codes, size, weight)
    return cell


def _digit_counts(codes: IntArray, size: int, values: FloatArray) -> FloatArray:
    """Per code, how many values end in each tenths digit, shape (size, DPS_DIGITS): floor(10 x
    |value| + 1e-6) mod 10, the slack for binary floats (85.3 x 10 = 852.9999...)."""
    present = ~np.isnan(values)
    tenths = np.abs(values) * 10.0
    tenths += 1e-6
    np.minimum(tenths, 1e9, out=tenths)
    np.copyto(tenths, 0.0, where=~present)  # no NaN reaches the integer conversion
    digit = tenths.astype(np.int32)  # truncation is floor for values >= 0
    del tenths
    digit %= DPS_DIGITS
    digit[~present] = DPS_DIGITS
    key = codes * (DPS_DIGITS + 1)
    key += digit
    del digit
    counts = np.bincount(key, minlength=size * (DPS_DIGITS + 1))
    return counts.reshape(size, DPS_DIGITS + 1)[:, :DPS_DIGITS].astype(np.float64)


def child_counts(
    frame: pd.DataFrame,
    data: Columns,
    cells: Cells,
    visits: Visits,
    period: str | None,
    parent: str | None,
) -> tuple[Counts, Counts]:
    """Per cell and per period, the children counted as prevalence counts them (_chosen_rows):
    their number, HAZ distribution, sexes, ages and birth days; with a `parent` column, each
    group's mean HAZ against the rest of its parent area."""
    chosen, counted = _chosen_rows(frame, data, visits, period)
    chosen_cell = cells.row_cell[chosen]
    cell: Counts = {"n_children": count(chosen_cell, cells.n_cells)}
    total: Counts = {"n_children": count(cells.row_period[chosen], cells.n_periods)}
    undated = np.flatnonzero(~data.visit_known)
    if undated.size and period is None:
        # without periods, only children never measured on a known date are missing
        dated_child = np.zeros(int(data.child.max()) + 1, dtype=np.bool_)
        dated_child[data.child[chosen]] = True
        undated = undated[~dated_child[data.child[undated]]]
    if undated.size:
        # rows without a visit date are in no period of the selection: their children are
        # counted in the "(unknown)" period (or the only one), once per group and in the area
        undated = undated[np.argsort(data.child[undated], kind="stable")]
        child = data.child[undated]
        everyone = np.ones(undated.size, dtype=np.bool_)
        cell["n_children"] += distinct_children(
            cells.row_cell[undated], child, everyone, cells.n_cells
        )
        total["n_children"] += distinct_children(
            cells.row_period[undated], child, everyone, cells.n_periods
        )

    sex = code_column(frame, "sex")[chosen]
    with np.errstate(invalid="ignore"):
        months = np.floor(float_column(frame, "age_days")[chosen] / DAYS_PER_MONTH)
    young = (months >= AGE_RATIO_YOUNG_MONTHS[0]) & (months <= AGE_RATIO_YOUNG_MONTHS[1])
    old = (months >= AGE_RATIO_OLD_MONTHS[0]) & (months <= AGE_RATIO_OLD_MONTHS[1])
    day_of_month, _, _ = calendar_parts(data.birth_day[chosen])
    heaped = np.isin(day_of_month, HEAPING_DAYS)  # -1 where unknown
    # each chosen row is in one cell: the whole-area counts are sums of the cells'
    size = cells.n_cells
    named = (
        ("boys", sex == 1),
        ("girls", sex == 2),
        ("age_young", young),
        ("age_old", old),
        ("with_birth", data.birth_known[chosen]),
        ("heaped", heaped),
    )
    packed = PackedCounts(chosen_cell, size, cell)
    for name, mask in named:
        packed.add(name, mask)
    packed.flush()
    for name, _ in named:
        total[name] = to_periods(cell[name], cells)
    valid_haz = float_column(frame, "haz")[chosen[counted]]
    shift = float(valid_haz.mean()) if valid_haz.size else 0.0
    sums = power_sums(chosen_cell[counted], valid_haz, size, shift)
    cell.update(moments(sums, shift))
    total.update(moments(to_periods(sums, cells), shift))
    if parent is not None:
        parent_codes, uniques = value_codes(frame[parent])
        labels = [*map(str, uniques), f"{UNKNOWN_LABEL} {parent}"]
        own = np.where(parent_codes < 0, len(labels) - 1, parent_codes)[chosen]
        cell.update(_gap_to_parent(cells, cell, chosen_cell[counted], own[counted], labels))
    return cell, total


def _chosen_rows(
    frame: pd.DataFrame, data: Columns, visits: Visits, period: str | None
) -> tuple[IntArray, BoolArray]:
    """Frame positions of one measurement per child and period, as prevalence chooses (without a
    period: over all dated visits), and whether its HAZ is valid."""
    if period is None and visits.slots:
        child = data.child if visits.rows is None else data.child[visits.rows]
        visits = replace(visits, slot=child, slots=int(child.max()) + 1)
    picked = visits.pick(valid_z(frame, "haz", "haz_flag"))
    # rows in frame order, each with a "valid HAZ" bit below it: later gathers then stream
    # through memory instead of jumping
    tagged = picked.rows * 2 + picked.counted
    tagged.sort()
    return tagged >> 1, (tagged & 1).astype(np.bool_)


def _gap_to_parent(
    cells: Cells, cell: Counts, counted_cell: IntArray, counted_parent: IntArray, parents: list[str]
) -> Counts:
    """Each group's mean HAZ minus that of the rest of its parent area (that of most of its
    children), and Welch's p-value; from the groups' sums, as squared deviations pool exactly."""
    size = cells.n_cells
    n_parents = len(parents)
    own_parent = np.zeros(size, dtype=np.int64)
    if counted_cell.size:
        pairs, counts = np.unique(counted_cell * n_parents + counted_parent, return_counts=True)
        pair_cell = pairs // n_parents
        order = np.lexsort((counts, pair_cell))  # the most frequent parent last in each cell
        pairs, pair_cell = pairs[order], pair_cell[order]
        last = np.r_[pair_cell[1:] != pair_cell[:-1], True]
        own_parent[pair_cell[last]] = pairs[last] % n_parents

    n = cell["n_haz"]
    mean = np.where(n > 0, cell["mean_haz"], 0.0)
    squares = np.where(n > 1, cell["sd_haz"] ** 2 * (n - 1), 0.0)
    area, _ = dense_codes(cells.cell_period * n_parents + own_parent, cells.n_periods * n_parents)
    n_area = np.bincount(area, weights=n)[area]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_area = (np.bincount(area, weights=n * mean) / np.bincount(area, weights=n))[area]
        between = n * (mean - mean_area) ** 2
        squares_area = np.bincount(area, weights=squares + between)[area]
        n_rest = n_area - n
        mean_rest = (n_area * mean_area - n * mean) / n_rest
        squares_rest = squares_area - squares - between - n_rest * (mean_rest - mean_area) ** 2
        a = squares / (n - 1) / n  # squared standard errors of the two means
        b = np.maximum(squares_rest, 0.0) / (n_rest - 1) / n_rest
        t = (mean - mean_rest) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n - 1) + b**2 / (n_rest - 1))  # Welch-Satterthwaite
        p = t_p_value(t, df)
    testable = (n > 1) & (n_rest > 1) & np.isfinite(p)
    return {
        "mean_haz_gap": np.where(testable, mean - mean_rest, np.nan),
        "mean_haz_gap_p": np.where(testable, p, np.nan),
        "n_gap": np.where(testable, np.minimum(n, n_rest), 0.0),
        "parent": np.asarray(parents, dtype=object)[own_parent],
    }
