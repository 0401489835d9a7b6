"""An SKDN result and the follow-up list as people read them: the SKDN letters in both
languages, other words in --lang, a D/S or N/D under its programme target marked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kbtool.views import labelled, made_how
from kbtool.views.numbers import number_as_typed, numbers
from kbtool.views.prevalence import LABELS
from kbtool.words import terms
from kbtool.writing import ABOUT, Provenance

# docs/skdn.md: D/S 85% (Kemenkes, Rencana Aksi Pembinaan Gizi Masyarakat); N/D 80% (SPM,
# Kepmenkes 1457/2003, in Depkes' Standar Pemantauan Pertumbuhan Balita 2006)
TARGET_D_S = 85.0
TARGET_N_D = 80.0
BELOW_TARGET = "yellow"

HEADERS = terms("groups.headers", "skdn.headers")
# the report's own words, in both languages
LETTERS = {
    "d_s": "D/S %",
    "n_d": "N/D %",
    "n_d_assessed": "N/(D-O-B) %",
    "t_d": "T/D %",
    "t2_d": "2T/D %",
    "bgm_d": "BGM/D %",
    "s": "S",
    "d": "D",
    "b": "B",
    "o": "O",
    "n": "N",
    "t": "T",
    "t2": "2T",
    "bgm": "BGM",
}
VALUES = {
    "en": {"file": "file", "register": "register", True: "yes", False: ""},
    "id": {"file": "berkas", "register": "register", True: "ya", False: ""},
}
DEFINITIONS = terms("skdn.definitions")  # what each letter counts


def _header(column: str, lang: str) -> str:
    words = HEADERS[lang]
    if column in LETTERS:
        return LETTERS[column]
    for kind in ("weight", "date"):
        if column.startswith(f"{kind}_") and column[len(kind) + 1 :].isdigit():
            return words[kind].format(i=column[len(kind) + 1 :])
    return words.get(column, column)


def table_view(result: pd.DataFrame, *, lang: str = "en") -> tuple[pd.DataFrame, dict[str, list]]:
    """The SKDN table as people read it, and cell styles marking ratios under target."""
    view = pd.DataFrame(index=result.index)
    labels = LABELS[lang]
    for column in result.columns:
        values, header = result[column], _header(column, lang)
        if column.endswith(("_s", "_d", "_d_assessed")):
            view[header] = numbers(values, lang)
        elif column == "s_source":
            view[header] = values.map(VALUES[lang]).astype(object)
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            view[header] = labelled(values, labels)
        else:
            view[header] = values
    styles = {
        _header("d_s", lang): _below(result["d_s"], TARGET_D_S),
        _header("n_d", lang): _below(result["n_d"], TARGET_N_D),
    }
    return view.reset_index(drop=True), styles


def _below(values: pd.Series, target: float) -> list[str | None]:
    numbers = values.to_numpy(float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return [BELOW_TARGET if v < target else None for v in numbers]


def list_view(result: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """The follow-up list as people read it."""
    view = pd.DataFrame(index=result.index)
    for column in result.columns:
        values, header = result[column], _header(column, lang)
        if column == result.attrs.get("by"):  # "(unknown)" in --lang's words
            view[header] = labelled(values, LABELS[lang])
        elif values.dtype == np.bool_:
            view[header] = values.map(VALUES[lang]).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(values.dtype):
            view[header] = values.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_float_dtype(values.dtype):  # weights, as many digits as recorded
            view[header] = ["" if pd.isna(v) else number_as_typed(v, lang) for v in values]
        else:
            view[header] = values
    return view.reset_index(drop=True)


def title(lang: str, *, follow_up: bool = False) -> str:
    if follow_up:
        if lang == "en":
            return "Follow-up list (2T, BGM, implausible weights)"
        return "Daftar tindak lanjut (2T, BGM, berat tidak wajar)"
    return "SKDN per month" if lang == "en" else "SKDN per bulan"


def method_sheet(provenance: Provenance, lang: str = "en") -> pd.DataFrame:
    """The xlsx sheet that states what each letter counts and how, in `lang`."""
    words = ABOUT[lang]
    rows = [*DEFINITIONS[lang].items(), *made_how(provenance.to_dict(), lang)]
    return pd.DataFrame(rows, columns=[words["item"], words["value"]])
