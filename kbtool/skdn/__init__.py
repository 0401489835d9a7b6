"""SKDN: what a posyandu reports every month, from its register.

S (sasaran: children under five to weigh), D (ditimbang: weighed), and of D: B (baru, first
weighing), O (not weighed the month before), N (naik: gained the KBM), T (tidak naik), 2T (T
twice running), BGM (below the KMS red line). `compute_skdn` (counts) gives them per group and
month; `followup_list` (followup) names the weighings a kader should act on; weighings holds
the classification both count from, kbm the minimum-gain table, sasaran the --sasaran file.
"""

from __future__ import annotations

import pandas as pd

from kbtool.skdn.counts import (
    BY_CHOICES,
    COUNT_COLUMNS,
    RATIO_COLUMNS,
    check_month_order,
    compute_skdn,
    month_range,
    parse_month,
)
from kbtool.skdn.followup import followup_columns, followup_list
from kbtool.skdn.kbm import BUKU_KIA, KbmTable, read_kbm
from kbtool.skdn.sasaran import Sasaran, read_sasaran
from kbtool.skdn.weighings import WEIGHING_COLUMNS, classify_weighings, valid_weighings
from kbtool.writing import Provenance

__all__ = [
    "BUKU_KIA",
    "BY_CHOICES",
    "COUNT_COLUMNS",
    "RATIO_COLUMNS",
    "KbmTable",
    "Sasaran",
    "check_month_order",
    "classify_weighings",
    "columns_needed",
    "compute_skdn",
    "followup_columns",
    "followup_list",
    "month_range",
    "parse_month",
    "provenance",
    "read_kbm",
    "read_sasaran",
    "valid_weighings",
]


def columns_needed(by: str, *, follow_up: bool = False) -> tuple[str, ...]:
    """The measurement columns SKDN reads (the list also needs where each row came from)."""
    where = ("source_file", "source_line") if follow_up else ()
    return ("child_key", *WEIGHING_COLUMNS, by, *where)


def provenance(
    result: pd.DataFrame, origin: dict[str, object], sources: list[dict[str, object]]
) -> Provenance:
    """Where an SKDN result (or follow-up list) came from: its options, the KBM table in force,
    and the definitions counted with."""
    attrs = result.attrs
    options = {
        **origin,
        "by": attrs.get("by"),
        "from": attrs.get("from"),
        "to": attrs.get("to"),
        "kbm": attrs.get("kbm"),
        "sasaran": attrs.get("sasaran"),
    }
    kbm = ", ".join(f"{row['age_months']}: {row['kbm_g']} g" for row in attrs.get("kbm_table", []))
    notes = [
        "weighing: a positive weight with a computable, unflagged WAZ, age 0-1825 days; per "
        "child and calendar month the last weighing counts, in the group of that weighing",
        "S: from --sasaran where given, else children weighed in the 12 months ending with the "
        "month and under 1826 days old on its first day, in the group of their latest weighing",
        "B: first weighing in the register; O: not weighed the month before; N: weighed the "
        "month before and gained at least the KBM (weights rounded to 0.1 kg); T: did not; "
        "2T: T this month and the month before; BGM: WAZ (rounded to 2 decimals) < -3",
        f"KBM table in force ({attrs.get('kbm')}), by age in completed months "
        f"(floor(age in days / 30.4375)): {kbm}"
        if kbm
        else f"KBM table: {attrs.get('kbm')}",
    ]
    return Provenance(
        command="skdn",
        options={k: v for k, v in options.items() if v is not None},
        sources=sources,
        notes=notes,
    )
