"""Type stub of the compiled quality passes (kbtool/_cquality.c)."""

from typing import Any

def longitudinal(*args: Any) -> None:
    """Per-cell and per-period longitudinal counts (see _cquality.c)."""

def row_counts(*args: Any) -> None:
    """Per-code row counts and tenths digits (see _cquality.c)."""

def visit_order(*args: Any) -> None:
    """The known rows in child, visit day, row order (see _cquality.c)."""
