"""The words of `kbtool report`, in English and Bahasa Indonesia, and how its numbers are written
(Indonesian: decimal comma, thousands dot)."""

from __future__ import annotations

from kbtool.views.numbers import number as written
from kbtool.words import terms

WORDS = terms("report.words")
MONTH_NAMES = terms("report.month_names")  # keys "1" to "12"


def number(value: float, lang: str, decimals: int = 1, sign: bool = False) -> str:
    """A number as the page writes it: thousands grouped, a minus sign, not a hyphen."""
    return written(value, lang, decimals, sign=sign, grouped=True).replace("-", "−")


def percent(value: float, lang: str) -> str:
    """'21.3%' / '21,3%'; "" for NaN."""
    text = number(value, lang)
    return f"{text}%" if text else ""


def interval(low: float, high: float, lang: str) -> str:
    """'19.3–23.4' / '19,3–23,4'; "" when unknown."""
    shown_low, shown_high = number(low, lang), number(high, lang)
    return f"{shown_low}–{shown_high}" if shown_low and shown_high else ""


def count(value: float, lang: str) -> str:
    """A whole number with thousands separators."""
    return number(value, lang, decimals=0)
