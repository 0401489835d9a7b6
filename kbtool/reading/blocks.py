"""What a file format hands on to conversion: consecutive rows as text cells, with their lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kbtool.reading.headers import Layout

# Text is arrow large_string end to end: pandas' string[pyarrow] stores exactly that, so the
# frames share the parsed buffers instead of copying every text column once more.
TEXT = pa.large_string()


class BrokenRow(NamedTuple):
    """A row that could not be split into the header's fields, rejected as a whole."""

    line: int
    text: str
    reason: str
    breaks: int  # line breaks inside it: an unclosed quote may have joined lines to it


@dataclass
class Block:
    """Consecutive data rows of one file: one arrow text array per file column, and each row's
    1-based physical line (the header is a line too)."""

    layout: Layout
    cells: list[pa.Array]
    lines: npt.NDArray[np.int64]
    broken: list[BrokenRow] = field(default_factory=list)
    # lines of the rows among `cells` that had fewer fields than the header, read padded
    padded: list[int] = field(default_factory=list)


def no_lines() -> npt.NDArray[np.int64]:
    """The lines of a block without rows."""
    return np.zeros(0, dtype=np.int64)
