"""Type stub of the compiled value hash (kbtool/store/_chash.c)."""

from typing import Any

def value_hash(*args: Any) -> None:
    """out[i] = the value hash of row i (see _chash.c)."""
