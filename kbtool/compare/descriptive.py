"""Prevalence per group (the programme's units, the others) and year, the unit as the cluster.

compute_prevalence with the group as a domain and the unit (kelurahan, posyandu, kecamatan) as
the cluster of a clustered design: children of one kelurahan resemble each other, so the
intervals are wider than a simple random sample's. Each group also gets the number of its units
with children that year and its change from the year before, in percentage points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kbtool.compare.groups import OTHERS, Programme, unit_key
from kbtool.prevalence import SampleDesign, compute_prevalence

GROUP_COLUMN = "group"


def with_groups(frame: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """The measurements that have a unit, with a `group` column: the programme's or OTHERS."""
    names = pd.Series(frame[programme.unit].array, dtype="str").str.strip()
    codes, uniques = pd.factorize(names)
    named = set(programme.keys())
    labels = np.array(
        [programme.group if unit_key(u, programme.unit) in named else OTHERS for u in uniques]
        + [""],
        dtype=object,
    )
    group = labels[codes]  # a missing unit (-1) gets ""
    known = (group != "") & names.fillna("").ne("").to_numpy()
    kept = frame[known].reset_index(drop=True)
    kept[GROUP_COLUMN] = pd.Series(group[known], dtype="str")
    return kept


def group_prevalence(
    frame: pd.DataFrame, programme: Programme, indicators: Sequence[str], min_n: int
) -> pd.DataFrame:
    """Prevalence per year and group of measurements that have a unit, the unit as cluster."""
    return compute_prevalence(
        with_groups(frame, programme),
        indicators=indicators,
        by=(GROUP_COLUMN,),
        min_n=min_n,
        child_key="child_key",
        design=SampleDesign(cluster=programme.unit),
    )


def describe(
    parts: Sequence[pd.DataFrame], programme: Programme, units: pd.DataFrame
) -> pd.DataFrame:
    """The prevalence of the parts (visit years) as one table, the programme's group first in
    each year, with `units` (units with children per group and year, from `units`: columns
    group, year, units) and `change_pp` after the percentage; no interval for one unit."""
    result = pd.concat(list(parts), ignore_index=True)
    several = "indicator" in result.columns
    pct = "pct" if several else f"{parts[0].attrs['indicators'][0]}_pct"
    order = result[GROUP_COLUMN].ne(programme.group).astype(int)
    result = result.assign(_order=order).sort_values(["year", "_order"], kind="stable")
    result = result.drop(columns="_order").merge(units, on=["year", GROUP_COLUMN], how="left")
    units_column = result.pop("units").fillna(0).astype("int64")
    result.insert(list(result.columns).index(GROUP_COLUMN) + 1, "units", units_column)
    keys = [GROUP_COLUMN, *(["indicator"] if several else [])]
    change = result[pct] - result.groupby(keys, sort=False)[pct].shift(1)
    result.insert(list(result.columns).index(pct) + 1, "change_pp", change)
    # one unit is one cluster: the spread between units, which the interval is made of, is
    # unknown (the formula gives a zero-width interval that reads as certainty)
    bounds = [c for c in result.columns if c.endswith(("ci_low", "ci_high"))]
    result.loc[result["units"] < 2, bounds] = np.nan
    result.attrs = dict(parts[0].attrs)
    return result.reset_index(drop=True)
