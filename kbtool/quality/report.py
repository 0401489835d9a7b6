"""The quality report: `quality_report` runs every check and returns a `QualityReport`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from kbtool.columns import READ_ZSCORES, require_columns
from kbtool.errors import UsageError
from kbtool.quality.cells import (
    GROUP_COLUMNS,
    MEASUREMENT_COLUMNS,
    PERIODS,
    Columns,
    number_cells,
    to_periods,
)
from kbtool.quality.checks import child_counts, row_counts
from kbtool.quality.findings import list_findings
from kbtool.quality.longitudinal import longitudinal_counts
from kbtool.quality.rating import rate_cells, score_rows
from kbtool.quality.table import TABLE_COLUMNS, assemble_table, period_column
from kbtool.quality.thresholds import ACCEPTABLE, CHECKS, PARENT_COLUMNS, PROBLEMATIC, RATINGS
from kbtool.words import Said, in_language, say
from kbtool.writing import WHO_REFERENCE, Provenance

# the method in English, as the provenance note says it after its "method: " label
METHOD = say("quality_method", "en").removeprefix("method: ")


@dataclass(frozen=True)
class QualityReport:
    """The quality report: figures, where to look first, and which cells are problems.

    `table`: per period, its groups (by label, "(unknown)" last) then "All"; columns `year` or
    `period` (if any), the group, TABLE_COLUMNS. `findings`: the rows rated acceptable or worse,
    worst first, with `reasons`. `cells`: each rated column's and the row's rating (None: not
    rated). `reasons`: each finding's reasons as Saids, for other languages (reasons_in).
    """

    table: pd.DataFrame
    findings: pd.DataFrame
    cells: dict[str, list[str | None]]
    by: str
    period: str | None
    reasons: list[list[Said]] = field(default_factory=list)

    def reasons_in(self, lang: str) -> list[str]:
        """Each finding's reasons in `lang`, joined as in `findings`."""
        return ["; ".join(in_language(said, lang) for said in row) for row in self.reasons]

    def problem_cells(self) -> dict[str, list[bool]]:
        """For each rated column, True where the cell is rated acceptable or problematic."""
        bad = {RATINGS[ACCEPTABLE], RATINGS[PROBLEMATIC]}
        return {column: [r in bad for r in values] for column, values in self.cells.items()}


def quality_report(
    frame: pd.DataFrame,
    *,
    by: str = "posyandu",
    period: str | None = None,
    child_key: str = "child_id",
    top: int = 10,
) -> QualityReport:
    """Data-quality and plausibility figures per period and group, rated in the SMART manner.

    `frame`: canonical measurements (kelurahan too for by="posyandu") with the columns of
    `kbtool.growth.compute_zscores(frame, full_precision=True)`. `period`: None (all together),
    "year" or "month" (undated rows form an "(unknown)" period). `top` caps the findings.
    docs/quality.md describes every column, threshold and source.
    """
    if by not in GROUP_COLUMNS:
        raise UsageError(f"--by must be one of {', '.join(GROUP_COLUMNS)}; got {by!r}")
    if period is not None and period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}; got {period!r}")
    if top < 0:
        raise UsageError(f"top must be 0 or more, got {top}")
    require_columns(frame, [child_key, by, *MEASUREMENT_COLUMNS, *READ_ZSCORES], zscores_hint=True)

    data = Columns.read(frame, child_key=child_key, by=by)
    visits = data.visits(frame, period)
    cells = number_cells(data, visits, period)
    # counts per cell and per period (the whole-area rows): over children (first: their visits
    # go before the rows are counted), rows, and consecutive visits (in the later visit's cell)
    parent = PARENT_COLUMNS.get(by)
    parent = parent if parent in frame.columns else None
    child_cell, child_period = child_counts(frame, data, cells, visits, period, parent)
    del visits
    cell = row_counts(frame, data, cells)
    visit_cell, visit_period = longitudinal_counts(frame, data, cells)
    cell.update(visit_cell)
    total = {name: to_periods(values, cells) for name, values in cell.items()}
    total.update(visit_period)  # distinct children do not add up over groups (children move)
    cell.update(child_cell)
    total.update(child_period)
    table = assemble_table(cell, total, cells, by, period)
    ratings, evidence = rate_cells(table)
    score_rows(table, ratings, evidence)
    period_name = period_column(period)
    findings, reasons = list_findings(table, ratings, by, period_name, top)
    table = table[[*([period_name] if period_name else []), by, *TABLE_COLUMNS]]
    cell_ratings: dict[str, list[str | None]] = {
        check.column: [None if code < 0 else RATINGS[code] for code in ratings[check.column]]
        for check in CHECKS
    }
    cell_ratings["rating"] = [None if pd.isna(r) else str(r) for r in table["rating"]]
    table.attrs.update(by=by, period=period, method=METHOD, reference=WHO_REFERENCE)
    return QualityReport(table, findings, cell_ratings, by, period, reasons)


def columns_needed(by: str) -> tuple[str, ...]:
    """The measurement columns quality_report reads grouping `by` (posyandu are compared with
    the rest of their kelurahan): only these are read from the store."""
    parent = PARENT_COLUMNS.get(by)
    measured = ("child_key", "sex", "birth_date", "visit_date", "weight_kg", "height_cm", "measure")
    scored = ("oedema", "age_days", "lenhei_cm", "position_flag", "haz", "haz_flag", "waz")
    flags = ("waz_flag", "whz", "whz_flag")
    return (*measured, *scored, *flags, by, *((parent,) if parent else ()))


def rated_at_least(report: QualityReport, level: str) -> pd.DataFrame:
    """The rows of the report's table rated `level` or worse (--fail-on)."""
    return report.table[report.table["rating"].isin(RATINGS[RATINGS.index(level) :])]


def provenance(
    report: QualityReport,
    origin: dict[str, object],
    sources: list[dict[str, object]],
    findings: Sequence[str | Mapping[str, str]],
    **options: object,
) -> Provenance:
    """Where a quality report came from: its options, sources, method and findings (each a
    line, or the line in each language: {"en": ..., "id": ...})."""
    return Provenance(
        command="quality",
        options={**origin, "by": report.by, **options},
        sources=sources,
        notes=[
            Said("quality_method"),
            *(Said("quality_look_first", line=line) for line in findings),
        ],
    )
