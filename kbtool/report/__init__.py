"""`kbtool report`: one HTML page a lurah can read on a phone, from kbtool's own results.

`assemble_report` (data) computes the results the report shows; `build_sections` (sections)
words them in one language as sections of blocks (model) with matplotlib figures (charts);
`render_html` (html) lays them out with a Jinja2 template. matplotlib and Jinja2 are imported
by these modules only, so other commands start without them.
"""

from kbtool.report.data import ReportData, ReportOptions, assemble_report, columns_needed
from kbtool.report.html import Page, render_html
from kbtool.report.model import Figure, Items, KeyFigure, KeyFigures, Paragraph, Section, Table
from kbtool.report.sections import build_sections, page_of

__all__ = [
    "Figure",
    "Items",
    "KeyFigure",
    "KeyFigures",
    "Page",
    "Paragraph",
    "ReportData",
    "ReportOptions",
    "Section",
    "Table",
    "assemble_report",
    "build_sections",
    "columns_needed",
    "page_of",
    "render_html",
]
