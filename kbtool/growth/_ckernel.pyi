"""Type stub of the compiled z-score kernel (kbtool/growth/_ckernel.c)."""

from typing import Any

MAX_BLOCK_ROWS: int

def score(*args: Any) -> None:
    """Fill the out_* arrays for blocks start, start + stride, ... (see _ckernel.c)."""

def round2(values: Any, out: Any) -> None:
    """out = values rounded to 2 decimals as R's round(x, 2)."""
