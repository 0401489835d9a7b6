"""An audit of a register's own z-scores and statuses: compare, explain, count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from kbtool.audit.causes import CAUSES, Causes, find_causes, kernel_inputs
from kbtool.audit.columns import INDICATORS, status_column, z_column
from kbtool.audit.compare import Comparison, compare_indicator
from kbtool.audit.rows import row_table
from kbtool.audit.summary import group_rows, summary_table
from kbtool.errors import UsageError
from kbtool.prevalence import TOTAL_LABEL


@dataclass(frozen=True)
class AuditResult:
    """`table`: the figures per year, group and indicator (kbtool.audit.summary); `cause_rows`:
    the same rows' disagreements per cause; `unrecognised`: each recorded text that is neither a
    value nor a mark of none (column, value, rows)."""

    table: pd.DataFrame
    cause_rows: pd.DataFrame
    unrecognised: pd.DataFrame
    by: str
    indicators: tuple[str, ...]
    frame: pd.DataFrame
    comparisons: tuple[Comparison, ...]
    causes: Causes

    def row_table(self, lang: str = "en") -> pd.DataFrame:
        """The comparison row by row (kbtool.audit.rows)."""
        return row_table(self.frame, self.comparisons, self.causes, self.by, lang)

    @cached_property
    def per_group(self) -> pd.DataFrame:
        """One line per year and group: its indicators' counts added up, the largest
        difference, stunting from HAZ, the cause of most disagreements."""
        table, by = self.table, self.by
        keys = ["year", by]
        counts = ["z_compared", "z_agree", "status_compared", "status_agree", "disagreements"]
        grouped = table.groupby(keys, sort=False, dropna=False)
        lines = grouped[counts].sum()
        lines["rows"] = grouped["rows"].first()
        lines["max_abs_diff"] = grouped["max_abs_diff"].max()
        if "haz" in self.indicators:
            stunting = table[table["indicator"] == "haz"].set_index(keys)
            for column in ("register_pct", "who_pct", "difference_points"):
                lines[column] = stunting[column]
        causes = self.cause_rows.groupby(keys, sort=False, dropna=False)[list(CAUSES)].sum()
        per_cause = causes.to_numpy()
        main = per_cause.argmax(axis=1)
        lines["main_cause"] = np.asarray(CAUSES, dtype=object)[main]
        lines["main_cause_rows"] = per_cause[np.arange(len(main)), main]
        lines["stale_date"] = grouped["stale_date"].first()
        return lines.reset_index()

    def per_group_worst_first(self) -> pd.DataFrame:
        """per_group's lines to show: per year, the whole area first, then the groups with a
        disagreement, the largest share of disagreements first."""
        lines, by = self.per_group, self.by
        share = lines["disagreements"] / (lines["z_compared"] + lines["status_compared"]).clip(1)
        is_total = lines[by].astype(str) == TOTAL_LABEL
        shown = lines[is_total | (lines["disagreements"] > 0)].assign(_share=share, _total=is_total)
        year = shown["year"].astype("Float64").fillna(np.inf)
        return (
            shown.assign(_year=year)
            .sort_values(["_year", "_total", "_share", by], ascending=[True, False, False, True])
            .drop(columns=["_share", "_total", "_year"])
            .reset_index(drop=True)
        )

    def agreeing_groups(self) -> tuple[int, int]:
        """How many groups (year and name) agree with WHO on every value compared, of how many."""
        lines = self.per_group
        groups = lines[lines[self.by].astype(str) != TOTAL_LABEL]
        return int((groups["disagreements"] == 0).sum()), len(groups)


def recorded_indicators(frame: pd.DataFrame) -> tuple[str, ...]:
    """The indicators the frame holds a recorded z-score or status of (any value)."""
    return tuple(
        i
        for i in INDICATORS
        if any(frame[c].notna().any() for c in (z_column(i), status_column(i)) if c in frame)
    )


def _chosen(indicators: str | Sequence[str]) -> tuple[str, ...]:
    """The z-scores named (one alone is a list of one, not of its letters), each once."""
    chosen = tuple(dict.fromkeys([indicators] if isinstance(indicators, str) else indicators))
    unknown = [i for i in chosen if i not in INDICATORS]
    if unknown:
        raise UsageError(
            f"indicators {', '.join(map(repr, unknown))}: not a z-score the audit compares; "
            f"choose from {', '.join(INDICATORS)}"
        )
    return chosen


def audit_register(
    frame: pd.DataFrame,
    *,
    by: str = "posyandu",
    indicators: str | Sequence[str] | None = None,
    child_key: str = "child_key",
) -> AuditResult:
    """Compare a register's own z-scores and statuses with WHO's, explain the disagreements,
    and count both sides' prevalence. `frame`: measurements (kbtool.measurements) with the
    recorded columns as text; `indicators`: default every one with a recorded value."""
    chosen = _chosen(indicators) if indicators is not None else recorded_indicators(frame)
    comparisons = tuple(compare_indicator(frame, indicator) for indicator in chosen)
    groups = group_rows(frame, by)
    causes = find_causes(comparisons, kernel_inputs(frame), groups.code)
    table, cause_rows = summary_table(
        frame, comparisons, causes, groups, by=by, child_key=child_key
    )
    return AuditResult(
        table=table,
        cause_rows=cause_rows,
        unrecognised=_unrecognised(comparisons),
        by=by,
        indicators=chosen,
        frame=frame,
        comparisons=comparisons,
        causes=causes,
    )


def _unrecognised(comparisons: Sequence[Comparison]) -> pd.DataFrame:
    records = [
        (column, text, rows)
        for c in comparisons
        for column, texts in (
            (z_column(c.indicator), c.z_parsed.unreadable_texts),
            (status_column(c.indicator), c.status_parsed.unrecognised_texts),
        )
        for text, rows in sorted(texts.items(), key=lambda item: -item[1])
    ]
    return pd.DataFrame(records, columns=["column", "value", "rows"])
