"""What the register recorded: its z-score texts as numbers, its status texts as Permenkes
2/2020 categories. Each distinct text is parsed once, then looked up for every row."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kbtool.arrays import BoolArray, FloatArray
from kbtool.growth.categories import FLAGGED_LABEL, SCHEMES
from kbtool.growth.constants import Z_DECIMALS
from kbtool.growth.rounding import r_round

CodeArray = npt.NDArray[np.int8]

# status codes besides the categories (0 = the lowest category of the indicator's scheme)
MISSING = -1
UNRECOGNISED = -2
FLAGGED = 99  # "implausible" / "tidak wajar": WHO's flag, not a Permenkes category

# cell texts that mean "no value": blanks, dashes, N/A and the Indonesian words for none
MISSING_TEXTS = frozenset(
    {"", "-", "--", "—", "–", ".", "?", "n/a", "na", "#n/a", "null", "none", "nan", "tidak ada",
     "tdk ada", "kosong", "belum ada"}
)  # fmt: skip

# Labels registers use besides the Permenkes ones (kbtool.growth.categories), folded.
SYNONYMS: dict[str, dict[str, int]] = {
    "haz": {},
    # BB/U without its "berat badan" (BB) prefix
    "waz": {"sangat kurang": 0, "kurang": 1, "bb sangat kurang": 0, "bb kurang": 1, "bb normal": 2},
    # BB/TB and IMT/U "gizi normal": the category Permenkes 2/2020 calls gizi baik
    "whz": {"gizi normal": 2},
    "bmiz": {"gizi normal": 2},
}


@dataclass(frozen=True)
class RecordedZ:
    """A register's z-scores: rounded to 2 decimals as WHO's are, NaN where none or unreadable;
    `unreadable` marks text that is neither a number nor a mark of no value."""

    z: FloatArray
    unreadable: BoolArray
    unreadable_texts: dict[str, int]  # each unreadable text and its rows


@dataclass(frozen=True)
class RecordedStatus:
    """A register's statuses as category codes (MISSING, UNRECOGNISED or FLAGGED besides)."""

    code: CodeArray
    unrecognised_texts: dict[str, int]  # each unrecognised text and its rows


def _distinct(texts: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Series]:
    """Each row's code among the distinct texts (stripped), and those texts; a missing cell
    is the text "" (the last)."""
    codes, uniques = pd.factorize(texts)
    distinct = pd.Series([*map(str, uniques), ""], dtype="string").str.strip()
    return np.where(codes < 0, len(uniques), codes), distinct


def _counted(codes: npt.NDArray[np.intp], uniques: pd.Series, chosen: BoolArray) -> dict[str, int]:
    rows = np.bincount(codes, minlength=len(uniques))
    return {str(uniques[i]): int(rows[i]) for i in np.flatnonzero(chosen)}


def parse_z(texts: pd.Series) -> RecordedZ:
    """Recorded z-score texts ("-1,05", "-1.05", "−1.05") as numbers rounded to 2 decimals."""
    codes, uniques = _distinct(texts)
    cleaned = uniques.str.replace("\u2212", "-", regex=False).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    numbers[~np.isfinite(numbers)] = np.nan
    no_value = cleaned.str.lower().isin(MISSING_TEXTS).to_numpy(bool)
    unreadable = np.isnan(numbers) & ~no_value
    return RecordedZ(
        z=r_round(numbers, Z_DECIMALS)[codes],
        unreadable=unreadable[codes],
        unreadable_texts=_counted(codes, uniques, unreadable),
    )


def fold_label(text: str) -> str:
    """A status label reduced for matching: lowercase, words of letters, single spaces."""
    return " ".join(re.findall(r"[a-z]+", text.lower()))


def status_labels(indicator: str) -> dict[str, int]:
    """Folded label -> code: Permenkes 2/2020 in Indonesian and English, the flag, synonyms."""
    scheme = SCHEMES[indicator]
    labels = {
        fold_label(label): code
        for names in (scheme.labels_id, scheme.labels_en)
        for code, label in enumerate(names)
    }
    labels.update({fold_label(label): FLAGGED for label in FLAGGED_LABEL.values()})
    labels.update(SYNONYMS[indicator])
    return labels


def parse_status(texts: pd.Series, indicator: str) -> RecordedStatus:
    """Recorded status texts (any case, Indonesian or English) as category codes."""
    codes, uniques = _distinct(texts)
    labels = status_labels(indicator)
    folded = [fold_label(text) for text in uniques.tolist()]  # once per distinct text
    no_value = uniques.str.lower().isin(MISSING_TEXTS).to_numpy(bool)
    found = np.array([labels.get(text, UNRECOGNISED) for text in folded], dtype=np.int8)
    found[no_value] = MISSING
    return RecordedStatus(
        code=found[codes],
        unrecognised_texts=_counted(codes, uniques, found == UNRECOGNISED),
    )
