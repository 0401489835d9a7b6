"""Indonesian nutritional-status categories, Permenkes No. 2 Tahun 2020 (Standar Antropometri Anak).

Z-score intervals of Lampiran, Tabel "Kategori dan Ambang Batas Status Gizi Anak", applied to
z-scores rounded to 2 decimals as WHO Anthro does (r_round); a flagged z-score has its own label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

LANGUAGES = ("en", "id")


@dataclass(frozen=True)
class Scheme:
    """Categories of one indicator: upper bounds and whether each bound is inclusive."""

    # ascending (bound, inclusive): a z falls in the first category whose bound it does not exceed
    bounds: tuple[tuple[float, bool], ...]
    labels_en: tuple[str, ...]
    labels_id: tuple[str, ...]


# BB/PB, BB/TB (WHZ) and IMT/U (BMIZ) share the scale: gizi buruk < -3; gizi kurang -3 to < -2;
# gizi baik -2 to +1; berisiko gizi lebih > +1 to +2; gizi lebih > +2 to +3; obesitas > +3
_WASTING = Scheme(
    ((-3.0, False), (-2.0, False), (1.0, True), (2.0, True), (3.0, True)),
    ("severely wasted", "wasted", "normal", "possible risk of overweight", "overweight", "obese"),
    ("gizi buruk", "gizi kurang", "gizi baik", "berisiko gizi lebih", "gizi lebih", "obesitas"),
)
SCHEMES = {
    # TB/U, PB/U (HAZ): sangat pendek < -3; pendek -3 to < -2; normal -2 to +3; tinggi > +3
    "haz": Scheme(
        ((-3.0, False), (-2.0, False), (3.0, True)),
        ("severely stunted", "stunted", "normal", "tall"),
        ("sangat pendek", "pendek", "normal", "tinggi"),
    ),
    # BB/U (WAZ): sangat kurang < -3; kurang -3 to < -2; normal -2 to +1; risiko berat badan
    # lebih > +1
    "waz": Scheme(
        ((-3.0, False), (-2.0, False), (1.0, True)),
        ("severely underweight", "underweight", "normal", "risk of overweight"),
        (
            "berat badan sangat kurang",
            "berat badan kurang",
            "berat badan normal",
            "risiko berat badan lebih",
        ),
    ),
    "whz": _WASTING,
    "bmiz": _WASTING,
}

# the label of a z-score WHO flags as biologically implausible
FLAGGED_LABEL = {"en": "implausible", "id": "tidak wajar"}


def category_codes(z: npt.ArrayLike, scheme: Scheme) -> npt.NDArray[np.int8]:
    """Category index per z-score (0 = lowest category), -1 where z is NaN."""
    values = np.asarray(z, dtype=np.float64)
    # the category index is the number of bounds z passes (bounds ascend): z > an inclusive
    # bound, z >= an exclusive one; adding comparisons beats masked assignment ~3x on 1M rows
    codes = np.zeros(values.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for bound, inclusive in scheme.bounds:
            codes += (values > bound) if inclusive else (values >= bound)
    codes[np.isnan(values)] = -1
    return codes


def classify(
    z: npt.ArrayLike, indicator: str, *, flagged: npt.ArrayLike | None = None, lang: str = "en"
) -> pd.Categorical[str]:
    """Permenkes 2/2020 category of each (rounded) z-score, missing where z is NaN; "implausible"
    ("tidak wajar") where `flagged`: WHO excludes those values."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    scheme = SCHEMES[indicator]
    labels = list(scheme.labels_en if lang == "en" else scheme.labels_id)
    codes = category_codes(z, scheme)
    if flagged is not None:
        is_flagged = np.asarray(flagged, dtype=bool) & (codes >= 0)
        codes = np.where(is_flagged, len(labels), codes).astype(np.int8)
    labels.append(FLAGGED_LABEL[lang])
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels))
