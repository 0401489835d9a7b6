"""The report as one self-contained HTML page: a Jinja2 template (package data) with
autoescaping, styles inline, figures as inline SVG; nothing is fetched and no script runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import groupby
from typing import cast

from kbtool.report.model import Block, Figure, Section

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Page:
    """What the page says above its sections."""

    lang: str
    title: str
    subtitle: str
    made: str


@dataclass(frozen=True)
class Figures:
    """Figures side by side where the screen is wide enough."""

    figures: list[Figure]
    kind: str = "figures"


def render_html(page: Page, sections: Sequence[Section]) -> str:
    """The page's HTML: every text escaped, every figure inline."""
    from jinja2 import Environment, StrictUndefined
    from markupsafe import Markup

    environment = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    # the SVG is kbtool's own drawing (kbtool.report.charts), not text from the data
    environment.filters["svg"] = Markup
    source = resources.files("kbtool.report").joinpath(TEMPLATE).read_text(encoding="utf-8")
    template = environment.from_string(source)
    laid_out = [(section, list(_side_by_side(section.blocks))) for section in sections]
    return template.render(page=page, sections=laid_out)


def _side_by_side(blocks: Sequence[Block]) -> Iterator[Block | Figures]:
    """The blocks, consecutive figures gathered into one Figures."""
    for is_figure, run in groupby(blocks, key=lambda block: isinstance(block, Figure)):
        if is_figure:
            yield Figures(cast(list[Figure], list(run)))
        else:
            yield from run
