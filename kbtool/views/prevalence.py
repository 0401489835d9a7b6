"""A prevalence result as people read it: the table view and the xlsx method sheet.

In the table, "Sev." (S.p., sangat pendek) is severe stunting, HAZ < -3; "low precision" marks
groups of 25-49 children; groups under --min-n keep only n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.prevalence import TOTAL_LABEL, is_low_precision
from kbtool.views.words import note
from kbtool.writing import Provenance

HEADERS = {
    "en": {
        "year": "Year",
        "period": "Period",
        "kelurahan": "Kelurahan",
        "kecamatan": "Kecamatan",
        "posyandu": "Posyandu",
        "puskesmas": "Puskesmas",
        "sex": "Sex",
        "age_group": "Age",
        "n": "n",
        "stunted": "Stunted",
        "stunting_pct": "%",
        "stunting_ci": "95% CI",
        "severe_pct": "Sev. %",
        "severe_ci": "Sev. CI",
        "mean_haz": "Mean z",
        "sd_haz": "SD",
        "excluded": "Excl.",
        "note": "Note",
    },
    "id": {
        "year": "Tahun",
        "period": "Periode",
        "kelurahan": "Kelurahan",
        "kecamatan": "Kecamatan",
        "posyandu": "Posyandu",
        "puskesmas": "Puskesmas",
        "sex": "JK",
        "age_group": "Umur",
        "n": "n",
        "stunted": "Stunting",
        "stunting_pct": "%",
        "stunting_ci": "IK 95%",
        "severe_pct": "S.p. %",
        "severe_ci": "S.p. IK",
        "mean_haz": "Rerata z",
        "sd_haz": "SB",
        "excluded": "Dikecualikan",
        "note": "Catatan",
    },
}
LABELS = {
    "id": {
        TOTAL_LABEL: "Semua",
        "male": "laki-laki",
        "female": "perempuan",
        "(unknown)": "(tidak diketahui)",
    },
    "en": {},
}
NOTES = {
    "en": {"low": "low precision", "suppressed": "n<{min_n} hidden"},
    "id": {"low": "presisi rendah", "suppressed": "n<{min_n} disembunyikan"},
}


def in_language(result: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The result with its notes in `lang` (the columns keep their names: an interface)."""
    if lang == "en":
        return result
    translated = result.copy()
    translated["note"] = pd.Series(
        [note(str(text), lang) for text in result["note"].astype(object).fillna("")],
        index=result.index,
        dtype="str",
    )
    translated.attrs = dict(result.attrs)
    return translated


def _one_decimal(values: pd.Series) -> list[str]:
    return ["" if np.isnan(v) else f"{v:.1f}" for v in values.to_numpy(float, na_value=np.nan)]


def _interval(low: pd.Series, high: pd.Series) -> list[str]:
    return [
        "" if np.isnan(lo) else f"{lo:.1f}-{hi:.1f}"
        for lo, hi in zip(
            low.to_numpy(float, na_value=np.nan), high.to_numpy(float, na_value=np.nan), strict=True
        )
    ]


def table_view(result: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it, and a style per row (total bold, low precision dim)."""
    headers = HEADERS[lang]
    labels = LABELS[lang]
    figure_start = list(result.columns).index("n")
    key_columns = list(result.columns[:figure_start])
    view = pd.DataFrame(index=result.index)
    for column in key_columns:
        values = result[column].astype(object)
        view[headers.get(column, column)] = values.map(
            lambda v: labels.get(v, v) if isinstance(v, str) else v
        )
    view[headers["n"]] = result["n"]
    view[headers["stunted"]] = result["stunted"]
    view[headers["stunting_pct"]] = _one_decimal(result["stunting_pct"])
    view[headers["stunting_ci"]] = _interval(result["stunting_ci_low"], result["stunting_ci_high"])
    view[headers["severe_pct"]] = _one_decimal(result["severe_pct"])
    view[headers["severe_ci"]] = _interval(result["severe_ci_low"], result["severe_ci_high"])
    view[headers["mean_haz"]] = result["mean_haz"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    view[headers["sd_haz"]] = result["sd_haz"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    view[headers["excluded"]] = result["excluded"]

    suppressed = result["stunting_pct"].isna().to_numpy() & (result["n"].to_numpy() > 0)
    low = is_low_precision(result["n"].to_numpy()) & ~suppressed
    is_total = np.zeros(len(result), dtype=bool)
    for column in key_columns[1:]:
        is_total |= (result[column].astype(object) == TOTAL_LABEL).to_numpy()
    notes = np.array([note(str(t), lang) for t in result["note"].astype(object).fillna("")])
    notes = notes.astype(object)
    min_n = result.attrs.get("options", {}).get("min_n", 25)
    notes[suppressed] = NOTES[lang]["suppressed"].format(min_n=min_n)
    notes[low] = NOTES[lang]["low"]
    view[headers["note"]] = notes
    styles: list[str | None] = [
        "bold" if total else "dim" if (lo or sup) else None
        for total, lo, sup in zip(is_total, low, suppressed, strict=True)
    ]
    return view.reset_index(drop=True), styles


def method_sheet(provenance: Provenance) -> pd.DataFrame:
    """The xlsx sheet that states how the figures were made."""
    about = provenance.to_dict()
    rows = [
        ("indicator", "stunting: length/height-for-age z-score (HAZ) < -2; severe: HAZ < -3"),
        ("reference", about["reference"]),
        ("categories", "Permenkes No. 2 Tahun 2020 (pendek, sangat pendek)"),
        *(("method", note) for note in about.get("notes", [])),
        ("kbtool version", about["kbtool_version"]),
        ("created", about["created"]),
        *((f"option {key}", str(value)) for key, value in about.get("options", {}).items()),
        *(
            ("source", ", ".join(f"{k}={v}" for k, v in source.items()))
            for source in about.get("sources", [])
        ),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
