"""The kader's follow-up list (`kbtool skdn --list`): who to visit or refer this month.

One row per child and month with 2T (two months without the KBM gain: refer), BGM (below the
KMS red line) or an implausible weight (WHO-flagged, a weight typed in grams, say: correct the
register). No name, NIK or child key: `source_file` and `source_line` find the child in the
register, at the implausible weight when the month has one, else at the weighing counted; the
register's own name column is added only when asked for (`names`), from input files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.arrays import IntArray
from kbtool.columns import child_codes, float_column, require_columns
from kbtool.growth.constants import DAYS_PER_MONTH
from kbtool.skdn.counts import MonthRange, month_range, result_attrs
from kbtool.skdn.kbm import BUKU_KIA, KbmTable
from kbtool.skdn.weighings import (
    Weighings,
    classify_weighings,
    implausible_weights,
    weighing_sequence,
)
from kbtool.visits import (
    MonthlySequence,
    group_codes,
    label_column,
    month_label,
    monthly_sequence,
)

# the weights shown of each listed child: the last three months weighed
WEIGHTS_SHOWN = 3
LIST_SOURCE_COLUMNS = ("source_file", "source_line")


def followup_columns(by: str) -> list[str]:
    """The list's columns, in order (without the optional name column)."""
    weights = [f"{kind}_{i}" for i in range(1, WEIGHTS_SHOWN + 1) for kind in ("weight", "date")]
    return [
        by,
        "month",
        "age_months",
        "t2",
        "bgm",
        "implausible",
        *weights,
        "implausible_weight",
        *LIST_SOURCE_COLUMNS,
    ]


def followup_list(
    frame: pd.DataFrame,
    *,
    by: str = "posyandu",
    first_month: str | None = None,
    last_month: str | None = None,
    kbm: KbmTable = BUKU_KIA,
    child_key: str = "child_key",
    names: str | None = None,
) -> pd.DataFrame:
    """The follow-up list of the months `first_month` to `last_month` (default: every month
    with a measurement); see the module docstring. `weight_1` to `weight_3` (and their dates) are
    the child's last three counted weighings up to the month, newest first: `date_1` says
    whether the month has one. `names` names a frame column to echo (the register's names)."""
    require_columns(frame, [by, *LIST_SOURCE_COLUMNS, *([names] if names else [])])
    # the sequences' child codes, made once: a row without a key is a child of its own
    child = child_codes(frame[child_key])
    sequence = weighing_sequence(frame, child_key=child_key, child=child)
    span = month_range(sequence.months_seen, first_month, last_month)
    codes, labels = group_codes(frame[by])
    flagged = [
        _flagged(classify_weighings(frame, part, codes, kbm), child, span)
        for part in sequence.blocks()
    ]
    listed = _with_implausible(frame, pd.concat(flagged, ignore_index=True), child, span, child_key)
    month = listed["_month"].to_numpy(dtype=np.int64)
    last = _last_entry(sequence, listed["child"].to_numpy(dtype=np.int64), month)
    shown = _entries_shown(sequence, last)
    # a sequence index of -1 picks the pad: row -1, "none"
    rows = np.append(sequence.rows, -1)
    wrong = listed["_wrong"].to_numpy(dtype=np.int64)
    pointed = np.where(wrong >= 0, wrong, rows[shown[:, 0]])
    age_days = float_column(frame, "age_days")
    result = pd.DataFrame(
        {
            by: label_column(codes[pointed], labels),
            "month": pd.Series([month_label(int(m)) for m in month], dtype="str"),
            "age_months": np.floor(age_days[pointed] / DAYS_PER_MONTH).astype(np.int64),
            "t2": listed["t2"].to_numpy(dtype=np.bool_),
            "bgm": listed["bgm"].to_numpy(dtype=np.bool_),
            "implausible": wrong >= 0,
        }
    )
    weight = float_column(frame, "weight_kg")
    for back in range(WEIGHTS_SHOWN):
        entry = shown[:, back]
        row = rows[entry]
        result[f"weight_{back + 1}"] = np.where(entry >= 0, weight[row], np.nan)
        dates = frame["visit_date"].iloc[row].reset_index(drop=True)
        result[f"date_{back + 1}"] = dates.where(pd.Series(entry >= 0))
    result["implausible_weight"] = np.where(wrong >= 0, weight[wrong], np.nan)
    for column in [*LIST_SOURCE_COLUMNS, *([names] if names else [])]:
        result[column] = pd.Series(frame[column].array.take(pointed))
    result["_month"] = month
    result = result.sort_values(["_month", by, *LIST_SOURCE_COLUMNS], kind="stable")
    result = result.drop(columns="_month").reset_index(drop=True)
    result.attrs.update(result_attrs(by, span, kbm), names=bool(names))
    return result


def _flagged(weighings: Weighings, child: IntArray, span: MonthRange) -> pd.DataFrame:
    """Child (code) and month of the weighings with 2T or BGM in the months reported."""
    sequence = weighings.sequence
    inside = (sequence.month >= span.first) & (sequence.month <= span.last)
    pick = (weighings.twice_not_gained | weighings.red_line) & inside
    return pd.DataFrame(
        {
            "child": child[sequence.rows[pick]],
            "_month": sequence.month[pick],
            "t2": weighings.twice_not_gained[pick],
            "bgm": weighings.red_line[pick],
        }
    )


def _with_implausible(
    frame: pd.DataFrame, flagged: pd.DataFrame, child: IntArray, span: MonthRange, child_key: str
) -> pd.DataFrame:
    """The flagged weighings and the child-months with an implausible weight, one row per
    child and month, with the row of the month's last implausible weight (-1: none)."""
    wrong = monthly_sequence(frame, implausible_weights(frame), child_key=child_key, child=child)
    inside = (wrong.month >= span.first) & (wrong.month <= span.last)
    rows = wrong.rows[inside]
    implausible = pd.DataFrame(
        {"child": child[rows], "_month": wrong.month[inside], "_wrong": rows}
    )
    listed = flagged.merge(implausible, on=["child", "_month"], how="outer")
    listed[["t2", "bgm"]] = listed[["t2", "bgm"]].fillna(False)
    listed["_wrong"] = listed["_wrong"].fillna(-1)
    return listed


def _last_entry(sequence: MonthlySequence, child: IntArray, month: IntArray) -> IntArray:
    """For each listed child (code) and month, the child's last counted weighing up to that
    month, as an index into the sequence; -1 when there is none."""
    if not len(sequence) or not len(month):
        return np.full(len(month), -1, dtype=np.int64)
    low = int(sequence.month.min()) - 1
    span = int(sequence.month.max()) - low + 1
    # entries come in child, month order, so child * span + month rises along the sequence
    ordered = sequence.child.astype(np.int64) * span + (sequence.month - low)
    wanted = child * span + np.clip(month - low, 0, span - 1)
    found = np.searchsorted(ordered, wanted, side="right") - 1
    found_child = np.append(sequence.child, -1)[found]
    return np.where((found >= 0) & (found_child == child), found, -1).astype(np.int64)


def _entries_shown(sequence: MonthlySequence, last: IntArray) -> IntArray:
    """The sequence indices of the weights shown for each listed row (-1: none), newest first:
    `last` and the child's entries before it."""
    child = np.append(sequence.child, -1)
    shown = np.full((len(last), WEIGHTS_SHOWN), -1, dtype=np.int64)
    for back in range(WEIGHTS_SHOWN):
        entry = last - back
        same = (last >= 0) & (entry >= 0) & (child[np.maximum(entry, 0)] == child[last])
        shown[:, back] = np.where(same, entry, -1)
    return shown
