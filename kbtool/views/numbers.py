"""Numbers as each language writes them: 21.5 and 1,521 in English, 21,5 and 1.521 in Bahasa
Indonesia. Terminal tables and the report use these; machine formats keep plain numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from kbtool.words import indonesian_digits


def number(
    value: float | None, lang: str, decimals: int = 1, *, sign: bool = False, grouped: bool = False
) -> str:
    """One number with `decimals` places (thousands grouped if asked); "" when missing."""
    if value is None or pd.isna(value):
        return ""
    text = f"{value:{'+' if sign else ''}{',' if grouped else ''}.{decimals}f}"
    return indonesian_digits(text) if lang == "id" else text


def number_as_typed(value: float, lang: str) -> str:
    """A number with the digits it has (10.25 stays 10.25, 14.0 is 14)."""
    text = f"{value:.15g}"  # (:g would write 1234567 as 1.23457e+06)
    return indonesian_digits(text) if lang == "id" else text


def numbers(
    values: pd.Series | Iterable[float | None],
    lang: str,
    decimals: int | Sequence[int] = 1,
    *,
    sign: bool = False,
) -> list[str]:
    """Each value as `number` writes it, with one number of decimals or one per value."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    floats = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    places = [decimals] * len(floats) if isinstance(decimals, int) else list(decimals)
    return [number(v, lang, int(d), sign=sign) for v, d in zip(floats, places, strict=True)]


def intervals(
    low: pd.Series | Iterable[float | None],
    high: pd.Series | Iterable[float | None],
    lang: str,
    decimals: int | Sequence[int] = 1,
    between: str = "-",
) -> list[str]:
    """Each row's interval ("20.2-30.5"; "" where it has none)."""
    return [
        f"{lo}{between}{hi}" if lo and hi else ""
        for lo, hi in zip(numbers(low, lang, decimals), numbers(high, lang, decimals), strict=True)
    ]
