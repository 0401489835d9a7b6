"""The shape of a report: sections of blocks, which the HTML template and the workbook render.

A report is a list of `Section`s; each holds blocks (paragraphs, key figures, tables, figures,
lists) in the words of its language, and optionally the frame its workbook sheet holds. Any
result can become a section of its own (kbtool compare's is one) without a change to the
template or the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd


@dataclass(frozen=True)
class Paragraph:
    text: str
    tone: Literal["plain", "warning", "muted"] = "plain"
    kind: str = field(default="paragraph", init=False)


@dataclass(frozen=True)
class KeyFigure:
    """One big number: what it is, the number, and a line that qualifies it."""

    label: str
    value: str
    detail: str = ""
    tone: Literal["plain", "good", "bad"] = "plain"


@dataclass(frozen=True)
class KeyFigures:
    figures: list[KeyFigure]
    kind: str = field(default="key_figures", init=False)


@dataclass(frozen=True)
class Table:
    """A table of text cells. `key` names it for tests and links; `columns` says how each
    column is set: "num" (right-aligned figures), "text", "long" (text that wraps) or "code"
    (a checksum: monospace, broken anywhere); `row_classes` marks rows ("total", "muted",
    "warning" or "")."""

    key: str
    caption: str
    header: list[str]
    rows: list[list[str]]
    columns: list[str]
    row_classes: list[str] = field(default_factory=list)
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Figure:
    """A chart: `svg` is inline SVG markup kbtool drew itself (kbtool.report.charts)."""

    key: str
    title: str
    caption: str
    svg: str
    kind: str = field(default="figure", init=False)


@dataclass(frozen=True)
class Items:
    items: list[str]
    heading: str = ""
    kind: str = field(default="items", init=False)


Block = Paragraph | KeyFigures | Table | Figure | Items


@dataclass
class Section:
    """A titled part of the report; `sheet` is what its workbook sheet holds (machine columns,
    unrounded), None for none."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    sheet: pd.DataFrame | None = None
