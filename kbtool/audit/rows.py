"""The comparison row by row (--rows): every register row and audited indicator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.audit.causes import CAUSES, Causes
from kbtool.audit.columns import status_column
from kbtool.audit.compare import Comparison
from kbtool.growth.categories import SCHEMES

# the columns, in order; the group's column follows source_line
ROW_COLUMNS = (
    "source_file",
    "source_line",
    "indicator",
    "recorded_z",
    "recorded_status",
    "who_z",
    "who_status",
    "z_agrees",
    "status_agrees",
    "cause",
)


def row_table(
    frame: pd.DataFrame,
    comparisons: Sequence[Comparison],
    causes: Causes,
    by: str,
    lang: str = "en",
) -> pd.DataFrame:
    """Each row of `frame` with each indicator in turn: the recorded z-score and status (as
    written), WHO's, whether each agrees (empty where not compared) and the cause of a
    disagreement. No personal column: the file and line say which register row it is."""
    n, k = len(frame), len(comparisons)
    row = np.repeat(np.arange(n), k)
    columns = {
        "source_file": frame["source_file"].take(row).array,
        "source_line": frame["source_line"].to_numpy()[row],
        by: frame[by].take(row).array,
        "indicator": pd.Categorical.from_codes(
            np.tile(np.arange(k), n), categories=pd.Index([c.indicator for c in comparisons])
        ),
        "recorded_z": _side_by_side([c.recorded.z for c in comparisons]),
        "recorded_status": _recorded_statuses(frame, comparisons),
        "who_z": _side_by_side([c.who.z for c in comparisons]),
        "who_status": _who_statuses(comparisons, lang),
        "z_agrees": _where(
            _side_by_side([c.z_agrees for c in comparisons]),
            _side_by_side([c.z_compared for c in comparisons]),
        ),
        "status_agrees": _where(
            _side_by_side([c.status_agrees for c in comparisons]),
            _side_by_side([c.status_compared for c in comparisons]),
        ),
        "cause": pd.Categorical.from_codes(
            _side_by_side([causes.cause[c.indicator] for c in comparisons]),
            categories=pd.Index(CAUSES),
        ),
    }
    return pd.DataFrame(columns, columns=[*ROW_COLUMNS[:2], by, *ROW_COLUMNS[2:]])


def _side_by_side(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """One value per row and indicator: row 0's indicators, then row 1's, ..."""
    return np.stack(arrays, axis=1).reshape(-1) if arrays else np.zeros(0, np.int64)


def _recorded_statuses(
    frame: pd.DataFrame, comparisons: Sequence[Comparison]
) -> pd.api.extensions.ExtensionArray:
    """The status texts as written (stripped), row by row and indicator by indicator."""
    n = len(frame)
    empty = pd.Series(index=frame.index, dtype="string")  # an indicator without statuses
    texts = [frame.get(status_column(c.indicator), empty).astype("string") for c in comparisons]
    stacked = pd.concat(texts or [empty.iloc[:0]], ignore_index=True)
    # the columns one after another: row r's indicator i is at i * n + r
    position = _side_by_side([np.arange(n) + i * n for i in range(len(comparisons))])
    return stacked.take(position).str.strip().array


def _who_statuses(comparisons: Sequence[Comparison], lang: str) -> pd.Categorical[str]:
    """WHO's Permenkes categories, one categorical over every indicator's labels."""
    labels = {
        c.indicator: list(getattr(SCHEMES[c.indicator], f"labels_{lang}")) for c in comparisons
    }
    names = list(dict.fromkeys(label for found in labels.values() for label in found))
    codes = []
    for c in comparisons:
        into_names = np.array([names.index(label) for label in labels[c.indicator]])
        codes.append(np.where(c.who.code < 0, -1, into_names[np.maximum(c.who.code, 0)]))
    return pd.Categorical.from_codes(_side_by_side(codes), categories=pd.Index(names))


def _where(values: npt.NDArray[Any], known: npt.NDArray[Any]) -> pd.arrays.BooleanArray:
    """Booleans, missing where not `known`."""
    is_known = known.astype(bool)
    return pd.arrays.BooleanArray(values.astype(bool) & is_known, ~is_known)
