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
from kbtool.words import Said, terms
from kbtool.writing import Provenance

# the Buku KIA's table as each language names it: {language: name}
BUKU_KIA_NAMES = {lang: names["buku_kia"] for lang, names in terms("skdn.kbm_names").items()}

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
    # the Buku KIA's table named in each language; a --kbm file by its own name
    kbm_name = BUKU_KIA_NAMES if attrs.get("kbm") == BUKU_KIA.name else attrs.get("kbm")
    kbm = ", ".join(f"{row['age_months']}: {row['kbm_g']} g" for row in attrs.get("kbm_table", []))
    notes: list[str] = [
        Said("skdn_weighing"),
        Said("skdn_s"),
        Said("skdn_letters"),
        Said("skdn_kbm_table", kbm=kbm_name, table=kbm)
        if kbm
        else Said("skdn_kbm_named", kbm=kbm_name),
    ]
    return Provenance(
        command="skdn",
        options={k: v for k, v in options.items() if v is not None},
        sources=sources,
        notes=notes,
    )
