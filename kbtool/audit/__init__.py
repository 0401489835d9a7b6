"""Do a register's own z-scores and statuses agree with WHO's? Where, by how much, and why not.

e-PPGBM exports and kader spreadsheets carry the z-scores and Permenkes statuses their software
computed (columns: kbtool.audit.columns); kbtool recomputes each with WHO's method and compares
them (compare), names the known mistake that reproduces each disagreement (causes), counts the
prevalence both sides give (headline) and sums it all per year and group (summary).
"""

from __future__ import annotations

from kbtool.audit.causes import CAUSES
from kbtool.audit.columns import (
    INDICATORS,
    RECORDED_COLUMNS,
    RecordedColumns,
    looked_for,
    split_column_options,
)
from kbtool.audit.report import AuditResult, audit_register, recorded_indicators
from kbtool.audit.rows import ROW_COLUMNS
from kbtool.words import Said
from kbtool.writing import Provenance

# the measurement columns an audit reads besides its group column
MEASUREMENT_COLUMNS = (
    "child_key",
    "sex",
    "birth_date",
    "visit_date",
    "age_days",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "lenhei_cm",
    "oedema",
    *INDICATORS,
    "source_file",
    "source_line",
)
BY_CHOICES = ("posyandu", "kelurahan", "puskesmas", "kecamatan")


def columns_needed(by: str) -> tuple[str, ...]:
    """The columns measurements_from_files should give an audit by `by`."""
    return (*MEASUREMENT_COLUMNS, by, *RECORDED_COLUMNS)


def provenance(
    result: AuditResult,
    origin: dict[str, object],
    sources: list[dict[str, object]],
    recorded_columns: dict[str, dict[str, str]],
    rows: object = None,
) -> Provenance:
    """Where an audit came from: its options, the recorded columns read per file, the method."""
    return Provenance(
        command="audit",
        options={
            **origin,
            "by": result.by,
            "indicators": list(result.indicators),
            "recorded_columns": recorded_columns,
            "rows": None if rows is None else str(rows),
        },
        sources=sources,
        notes=[
            Said("audit_zscores"),
            Said("audit_causes", causes=", ".join(CAUSES)),
            Said("audit_prevalence"),
        ],
    )


__all__ = [
    "BY_CHOICES",
    "CAUSES",
    "INDICATORS",
    "RECORDED_COLUMNS",
    "ROW_COLUMNS",
    "AuditResult",
    "RecordedColumns",
    "audit_register",
    "columns_needed",
    "looked_for",
    "provenance",
    "recorded_indicators",
    "split_column_options",
]
