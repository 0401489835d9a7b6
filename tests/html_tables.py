"""Read a report's HTML back: its tables by id, as header and rows of cell text (html.parser,
no browser), and the values of its key figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlTable:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, HtmlTable] = {}
        self.key_values: list[str] = []
        self._table: HtmlTable | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._value: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(str(found.get("id")), HtmlTable())
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "div" and found.get("class") == "value":
            self._value = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._in_head:
                self._table.header = self._row
            else:
                self._table.rows.append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None
        elif tag == "div" and self._value is not None:
            self.key_values.append("".join(self._value).strip())
            self._value = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._value is not None:
            self._value.append(data)


def read_report(html: str) -> tuple[dict[str, HtmlTable], list[str]]:
    """The tables (by their id) and the key figures' values of a report page."""
    reader = _Reader()
    reader.feed(html)
    return reader.tables, reader.key_values


def as_number(text: str, lang: str = "en") -> float:
    """A number as the report writes it ('1,521', '−3.3'; Indonesian '1.521', '21,3')."""
    text = text.replace("−", "-").rstrip("%")
    if lang == "id":
        text = text.replace(".", "").replace(",", ".")
    return float(text.replace(",", ""))
