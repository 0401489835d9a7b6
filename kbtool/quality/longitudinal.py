"""The checks only a register allows: a child's consecutive visits compared (repeated
measurements on one day, lengths/heights that fall, heights copied, implausible weight changes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kbtool.arrays import FloatArray, Int32Array, IntArray
from kbtool.columns import child_blocks, child_day_order, flag_column, float_column
from kbtool.quality.cells import Cells, Columns
from kbtool.quality.counting import Counts, count, distinct_children
from kbtool.quality.thresholds import (
    HEIGHT_DECREASE_CM,
    REPEATED_SPAN_MONTHS,
    REPEATED_VISITS,
    VELOCITY_MAX_GAP_DAYS,
    WAZ_GAIN_LIMIT,
    WEIGHT_LOSS_SHARE,
)
from kbtool.visits import months_of

# the sorted visits are checked this many rows at a time (whole children): the temporaries of a
# block stay in cache and are reused, instead of a dozen row-sized arrays faulted in afresh
BLOCK_ROWS = 1 << 19


@dataclass(frozen=True)
class _VisitBlock:
    """Whole children's dated rows in child, visit date, row order: what the checks compare."""

    child: IntArray
    day: IntArray
    month: Int32Array  # months since 1970-01
    code: IntArray  # the row's cell
    lenhei: FloatArray  # NaN where missing or the HAZ is flagged
    height: FloatArray  # as recorded; NaN where missing
    weight: FloatArray  # NaN where missing, the WAZ is flagged or with oedema
    waz: FloatArray


def longitudinal_counts(frame: pd.DataFrame, data: Columns, cells: Cells) -> tuple[Counts, Counts]:
    """The counts per cell, and per period the children followed and copied (distinct: cells'
    counts do not add up to them). Dated rows in child, day, row order, in blocks of children."""
    dated = None if data.visit_known.all() else np.flatnonzero(data.visit_known)
    child = data.child if dated is None else data.child[dated]
    day = data.visit_day if dated is None else data.visit_day[dated]
    order = child_day_order(child, day)
    visit_rows = order if dated is None else dated[order]
    child, day = child[order], day[order]
    month = months_of(day)
    lenhei = np.where(flag_column(frame, "haz_flag"), np.nan, float_column(frame, "lenhei_cm"))
    # a bool column's own array comes back read-only (or shared): combined, not updated in place
    unusable = flag_column(frame, "waz_flag")
    if "oedema" in frame.columns:  # oedema adds weight that is not growth
        unusable = unusable | flag_column(frame, "oedema")
    weight = np.where(unusable, np.nan, float_column(frame, "weight_kg"))
    del unusable
    height, waz = float_column(frame, "height_cm"), float_column(frame, "waz")
    cell_sums: Counts = {}
    period_sums: Counts = {}
    for block in child_blocks(child, BLOCK_ROWS):
        rows = visit_rows[block]
        visit_block = _VisitBlock(
            child=child[block],
            day=day[block],
            month=month[block],
            code=cells.row_cell[rows],
            lenhei=lenhei[rows],
            height=height[rows],
            weight=weight[rows],
            waz=waz[rows],
        )
        block_cells, block_periods = _visit_counts(visit_block, cells)
        for sums, counts in ((cell_sums, block_cells), (period_sums, block_periods)):
            for name, values in counts.items():
                sums[name] = sums[name] + values if name in sums else values
    return cell_sums, period_sums


def _visit_counts(visits: _VisitBlock, cells: Cells) -> tuple[Counts, Counts]:
    """Per cell and per period, each check of docs/quality.md over whole children's visits: a
    usable visit against the one (or two) before, counted in the later visit's cell."""
    size = cells.n_cells
    child, day, code = visits.child, visits.day, visits.code
    counts: Counts = {}
    same = child[1:] == child[:-1]
    counts["duplicates"] = count(code[1:], size, same & (day[1:] == day[:-1]))

    keep = ~np.isnan(visits.lenhei)
    c, d, value, k = child[keep], day[keep], visits.lenhei[keep], code[keep]
    pair = (c[1:] == c[:-1]) & (d[1:] > d[:-1])
    counts["height_pairs"] = count(k[1:], size, pair)
    pair &= value[1:] < value[:-1] - HEIGHT_DECREASE_CM
    counts["height_decreases"] = count(k[1:], size, pair)

    keep = ~np.isnan(visits.height)
    c, month, value, k = child[keep], visits.month[keep], visits.height[keep], code[keep]
    third = np.zeros(c.size, dtype=np.bool_)  # a visit with two recorded heights before it
    copied = np.zeros(c.size, dtype=np.bool_)
    if c.size >= REPEATED_VISITS:
        # rows come by child: the same child two visits back is the child of the visit between
        third[2:] = c[2:] == c[:-2]
        copied[2:] = (
            third[2:]
            & (value[2:] == value[1:-1])
            & (value[1:-1] == value[:-2])
            & (month[2:] - month[:-2] >= REPEATED_SPAN_MONTHS)
        )
    period = cells.cell_period[k]
    periods: Counts = {}
    for name, mask in (("followed", third), ("copied", copied)):
        counts[name] = distinct_children(k, c, mask, size)
        periods[name] = distinct_children(period, c, mask, cells.n_periods)

    keep = ~np.isnan(visits.weight)
    c, d, value, k = child[keep], day[keep], visits.weight[keep], code[keep]
    waz = visits.waz[keep]
    gap = d[1:] - d[:-1]
    pair = (c[1:] == c[:-1]) & (gap > 0) & (gap <= VELOCITY_MAX_GAP_DAYS)
    counts["weight_pairs"] = count(k[1:], size, pair)
    with np.errstate(invalid="ignore"):  # a missing WAZ compares false: no rise
        pair &= (value[1:] < (1.0 - WEIGHT_LOSS_SHARE) * value[:-1]) | (
            waz[1:] - waz[:-1] > WAZ_GAIN_LIMIT
        )
    counts["weight_implausible"] = count(k[1:], size, pair)
    return counts, periods
