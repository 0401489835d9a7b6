"""The report's figures, drawn with matplotlib's object API on the Agg canvas (no display, no
pyplot state): a ranked dot-and-whisker chart, the priority quadrant, the area's trend with the
path to the target, and small multiples per group.

Each figure becomes inline SVG for the page (text as paths, so every phone shows the same
letters and no font is fetched; element ids made unique per figure) and, with --charts, an SVG
and a PNG file. Figures too tall for an A4 page are split: at most ROWS_PER_CHART kelurahan and
PANELS_PER_CHART panels each.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, ScalarFormatter
from matplotlib.typing import RcKeyType

from kbtool.arrays import FloatArray
from kbtool.trend import Target
from kbtool.views.report import count, percent
from kbtool.words import indonesian_digits

# a kelurahan row is 0.27 in: 25 rows and the axes, printed 15 cm wide, fit on an A4 page
ROWS_PER_CHART = 25
PANELS_PER_CHART = 8
PANEL_COLUMNS = 2  # two panels a row stay legible on a phone
WIDTH_IN = 4.6  # a phone's width at about 1 px per point: text at its nominal size
PNG_DPI = 200

PRIORITY_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#4d7ea8"}  # ColorBrewer RdBu, colour-blind safe
AREA_COLOUR, TARGET_COLOUR, BAND_COLOUR = "#555555", "#1a9850", "#9ecae1"
QUADRANT_COLOUR = "#fde0dc"
BAND: dict[str, Any] = {"color": BAND_COLOUR, "alpha": 0.6, "lw": 0}  # a 95% interval
VALUE_LABEL: dict[str, Any] = {"textcoords": "offset points", "ha": "center", "fontsize": 8.5}
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "kbtool",  # the same figure gives the same SVG
    "text.parse_math": False,  # a "$" in a place name is text
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "legend.fontsize": 9,
}


@dataclass
class Chart:
    """One figure of the report: `key` names its files, `title` and `caption` its words."""

    key: str
    title: str
    caption: str
    figure: Figure

    def svg(self) -> str:
        """Inline SVG: no XML prologue, no fixed size (it scales to its box), ids prefixed."""
        buffer = io.StringIO()
        with rc_context(STYLE):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None})
        text = buffer.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
        text = text.replace("<svg", f'<svg role="img" aria-label="{_attribute(self.title)}"', 1)
        prefix = f"{self.key}-"
        text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', text)
        text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", text)
        return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', text)

    def save(self, directory: Path) -> list[Path]:
        """Write KEY.svg and KEY.png into `directory`."""
        paths = [directory / f"{self.key}.svg", directory / f"{self.key}.png"]
        with rc_context(STYLE):
            self.figure.savefig(paths[0], format="svg", metadata={"Date": None})
            self.figure.savefig(paths[1], format="png", dpi=PNG_DPI)
        return paths


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _figure(height_in: float) -> Figure:
    return Figure(figsize=(WIDTH_IN, height_in), layout="constrained")


class _IndonesianTicks(ScalarFormatter):
    """matplotlib's tick numbers as Indonesian writes them: 0,05 and 2,5."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return indonesian_digits(super().__call__(x, pos))


def _chart(key: str, title: str, caption: str, figure: Figure, lang: str) -> Chart:
    """A chart whose tick numbers (where matplotlib writes them) are written as `lang` does."""
    if lang == "id":
        for axes in figure.axes:
            for axis in (axes.xaxis, axes.yaxis):
                if type(axis.get_major_formatter()) is ScalarFormatter:
                    axis.set_major_formatter(_IndonesianTicks())
    return Chart(key, title, caption, figure)


def _upper_limit(*values: float) -> float:
    """An axis end a little above the largest value, on a multiple of 5."""
    top = float(np.nanmax(np.asarray(values, dtype=np.float64), initial=0.0))  # all NaN: 0
    return float(max(5.0, np.ceil(top * 1.05 / 5.0) * 5.0))


def where_to_act(
    places: pd.DataFrame,
    area_pct: float,
    target: Target,
    words: dict[str, str],
    lang: str,
) -> list[Chart]:
    """Ranked dots and 95% whiskers of the places' prevalence (columns kelurahan, n,
    stunting_pct, stunting_ci_low, stunting_ci_high, priority; highest first), with the area's
    prevalence and the target as vertical lines; split every ROWS_PER_CHART places."""
    top = _upper_limit(places["stunting_ci_high"].max(), area_pct, target.pct)
    charts = []
    for start in range(0, len(places), ROWS_PER_CHART):
        chunk = places.iloc[start : start + ROWS_PER_CHART]
        with rc_context(STYLE):
            figure = _figure(1.1 + 0.28 * len(chunk))
            axes = figure.add_subplot()
            y = np.arange(len(chunk))[::-1]
            colours = [PRIORITY_COLOURS[int(p)] for p in chunk["priority"]]
            axes.hlines(
                y, chunk["stunting_ci_low"], chunk["stunting_ci_high"], colors=colours, lw=1.6
            )
            axes.scatter(chunk["stunting_pct"], y, c=colours, s=26, zorder=3)
            axes.axvline(area_pct, color=AREA_COLOUR, ls="--", lw=1, label=words["area_line"])
            axes.axvline(
                target.pct, color=TARGET_COLOUR, ls=":", lw=1.6, label=words["target_line"]
            )
            names = [
                f"{name} ({count(n, lang)})"
                for name, n in zip(chunk["kelurahan"], chunk["n"], strict=True)
            ]
            axes.set_yticks(y, labels=names)
            axes.set_ylim(-0.7, len(chunk) - 0.3)
            axes.set_xlim(0, top)
            axes.set_xlabel(words["pct_axis"])
            axes.grid(axis="x", color="#e5e5e5", lw=0.6)
            axes.set_axisbelow(True)
            figure.legend(loc="outside upper center", ncols=2)
        suffix = f"-{start // ROWS_PER_CHART + 1}" if len(places) > ROWS_PER_CHART else ""
        charts.append(
            _chart(
                f"where-to-act{suffix}", words["where_chart"], words["where_caption"], figure, lang
            )
        )
    return charts


def priority_quadrant(
    places: pd.DataFrame, area_pct: float, mean_stunted: float, words: dict[str, str], lang: str
) -> Chart:
    """Prevalence against the number of stunted children, split at the area's prevalence and
    the average number per place; the places of the first-priority quadrant are named."""
    with rc_context(STYLE):
        figure = _figure(3.6)
        axes = figure.add_subplot()
        colours = [PRIORITY_COLOURS[int(p)] for p in places["priority"]]
        right = _upper_limit(places["stunted"].max(), mean_stunted)
        top = _upper_limit(places["stunting_pct"].max(), area_pct)
        axes.fill_between([mean_stunted, right], area_pct, top, color=QUADRANT_COLOUR, zorder=0)
        quadrant = Patch(facecolor=QUADRANT_COLOUR, label=words["first_priority"])
        figure.legend(handles=[quadrant], loc="outside upper right")
        axes.scatter(places["stunted"], places["stunting_pct"], c=colours, s=30, zorder=3)
        axes.axhline(area_pct, color=AREA_COLOUR, ls="--", lw=1)
        axes.axvline(mean_stunted, color=AREA_COLOUR, ls="--", lw=1)
        first = places[places["priority"] == 1]
        # the names in a column right of the plot, in the dots' order, each joined to its dot:
        # beside the dots they crowd where the first-priority places meet the lines
        heights = _spread(first["stunting_pct"].to_numpy(float) / top, gap=0.075)
        for name, x, y, height in zip(
            first["kelurahan"], first["stunted"], first["stunting_pct"], heights, strict=True
        ):
            axes.annotate(
                name, (x, y), xytext=(1.03, height), textcoords="axes fraction", va="center",
                fontsize=8.5, annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.6, "shrinkB": 3},
            )  # fmt: skip
        axes.set_xlim(0, right)
        axes.set_ylim(0, top)
        axes.set_xlabel(words["count_axis"])
        axes.set_ylabel(words["pct_axis"])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    title, caption = words["quadrant_chart"], words["quadrant_caption"]
    return _chart("priority-quadrant", title, caption, figure, lang)


def _spread(heights: FloatArray, gap: float) -> FloatArray:
    """Label heights (0-1) as near the given ones as keeping `gap` between neighbours allows,
    pushed up from the lowest, then down from 1 when the top one would pass it."""
    order = np.argsort(heights, kind="stable")
    placed = np.clip(heights[order], 0.0, 1.0)
    for i in range(1, len(placed)):  # a dozen labels at most: one per kelurahan
        placed[i] = max(placed[i], placed[i - 1] + gap)
    placed -= max(0.0, placed[-1] - 1.0) if len(placed) else 0.0
    spread = np.empty_like(placed)
    spread[order] = placed
    return spread


def area_trend(
    area: pd.DataFrame, aarr: float, targets: list[Target], words: dict[str, str], lang: str
) -> Chart:
    """The area's prevalence by year (columns year, pct, low, high) with its 95% band, each
    target, the path from the last year to it, and where the current AARR leads."""
    known = area.dropna(subset=["pct"])
    if known.empty:  # every year under --min-n: the targets alone, no path to them
        last_year, last_pct = int(area["year"].max()), float("nan")
    else:
        last_year, last_pct = int(known["year"].iloc[-1]), float(known["pct"].iloc[-1])
    ahead = [t for t in targets if t.year > last_year]
    end = max([last_year, *(t.year for t in ahead)])
    with rc_context(STYLE):
        figure = _figure(3.2)
        axes = figure.add_subplot()
        axes.fill_between(area["year"], area["low"], area["high"], label=words["ci"], **BAND)
        axes.plot(area["year"], area["pct"], "o-", color="#08519c", lw=1.8, label=words["observed"])
        for year, pct in zip(known["year"], known["pct"], strict=True):
            axes.annotate(percent(pct, lang), (year, pct), xytext=(0, 7), **VALUE_LABEL)
        for number, target in enumerate(targets):
            axes.plot([target.year], [target.pct], "D", color=TARGET_COLOUR, ms=6, zorder=3)
            point = (target.year, target.pct)
            label = percent(target.pct, lang)
            axes.annotate(label, point, xytext=(0, -13), color=TARGET_COLOUR, **VALUE_LABEL)
            if target in ahead:
                axes.plot(
                    [last_year, target.year],
                    [last_pct, target.pct],
                    "--",
                    color=TARGET_COLOUR,
                    lw=1.3,
                    label=words["path"] if number == len(targets) - 1 else None,
                )
        if ahead and not np.isnan(aarr):
            years = np.arange(last_year, end + 1)
            pace = np.minimum(last_pct * (1 - aarr / 100.0) ** (years - last_year), 100.0)
            axes.plot(years, pace, ":", color=AREA_COLOUR, lw=1.3, label=words["pace"])
        axes.set_xlim(area["year"].min() - 0.4, end + 0.4)
        axes.set_ylim(0, _upper_limit(area["high"].max(), *(t.pct for t in targets)))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(words["pct_axis"])
        axes.grid(axis="y", color="#e5e5e5", lw=0.6)
        axes.legend(loc="lower left", ncols=2)
    return _chart("area-trend", words["area_chart"], words["area_caption"], figure, lang)


def small_multiples(
    groups: pd.DataFrame, area: pd.DataFrame, group: str, words: dict[str, str], lang: str
) -> list[Chart]:
    """One panel per group (columns `group`, year, pct, low, high), on one y scale, with the
    area's line in grey; PANELS_PER_CHART panels a figure."""
    names = list(dict.fromkeys(groups[group]))
    top = _upper_limit(groups["high"].max(), area["pct"].max())
    years = (area["year"].min() - 0.3, area["year"].max() + 0.3)
    charts = []
    for start in range(0, len(names), PANELS_PER_CHART):
        chunk = names[start : start + PANELS_PER_CHART]
        rows = -(-len(chunk) // PANEL_COLUMNS)
        with rc_context(STYLE):
            figure = _figure(0.4 + 1.75 * rows)
            grid = figure.subplots(rows, PANEL_COLUMNS, sharex=True, sharey=True, squeeze=False)
            for axes in grid.flat[len(chunk) :]:
                axes.set_visible(False)
            for axes in grid.flat[max(0, len(chunk) - PANEL_COLUMNS) : len(chunk)]:
                axes.xaxis.set_tick_params(labelbottom=True)  # each column's last: the years
            for axes, name in zip(grid.flat, chunk, strict=False):
                _panel(axes, groups[groups[group] == name], area, name, words, lang)
                axes.set_ylim(0, top)
                axes.set_xlim(*years)
                axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
                axes.tick_params(labelsize=8.5)
        suffix = f"-{start // PANELS_PER_CHART + 1}" if len(names) > PANELS_PER_CHART else ""
        title, caption = words["multiples_chart"], words["multiples_caption"]
        charts.append(_chart(f"trend-by-{group}{suffix}", title, caption, figure, lang))
    return charts


def _panel(
    axes: Any, rows: pd.DataFrame, area: pd.DataFrame, name: str, words: dict[str, str], lang: str
) -> None:
    axes.plot(area["year"], area["pct"], color="#bbbbbb", lw=1.2)
    known = rows.dropna(subset=["pct"])
    if known.empty:
        axes.set_title(name, loc="left")
        axes.text(
            0.5,
            0.5,
            words["too_few_panel"],
            transform=axes.transAxes,
            ha="center",
            color=AREA_COLOUR,
        )
        return
    axes.fill_between(rows["year"], rows["low"], rows["high"], **BAND)
    axes.plot(rows["year"], rows["pct"], "o-", color="#08519c", lw=1.5, ms=3.5)
    latest = rows.loc[rows["year"] == area["year"].max(), "pct"]
    shown = percent(float(latest.iloc[0]), lang) if len(latest) else ""
    axes.set_title(f"{name}  {shown}", loc="left")  # the latest year's, if it has a figure
    axes.grid(axis="y", color="#e5e5e5", lw=0.6)


def event_study(panels: list[tuple[str, pd.DataFrame]], words: dict[str, str], lang: str) -> Chart:
    """One panel per outcome (a title and columns event_time, effect, low, high): each year's
    effect relative to the year before the start (0 there by definition) with its 95% interval
    (an unbounded one dashed across the panel, none where there is none), a line at no effect
    and one where the programme starts."""
    with rc_context(STYLE):
        figure = _figure(0.5 + 2.3 * len(panels))
        grid = figure.subplots(len(panels), 1, sharex=True, squeeze=False)
        for axes, (title, rows) in zip(grid.flat, panels, strict=True):
            axes.axhline(0, color=AREA_COLOUR, lw=0.9)
            axes.axvline(-0.5, color=TARGET_COLOUR, ls=":", lw=1.4)
            ends = rows[["low", "high"]].to_numpy(np.float64)
            known = rows[np.isfinite(ends).all(axis=1)]
            axes.vlines(known["event_time"], known["low"], known["high"], colors="#08519c", lw=1.6)
            for event_time in rows.loc[np.isinf(ends).any(axis=1), "event_time"]:
                axes.axvline(event_time, color="#08519c", ls="--", lw=1.2)  # unbounded
            axes.plot(rows["event_time"], rows["effect"], "o", color="#08519c", ms=5, zorder=3)
            axes.set_title(title, loc="left")
            axes.grid(axis="y", color="#e5e5e5", lw=0.6)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(words["event_axis"])
    return _chart("event-study", words["event_chart"], words["event_caption"], figure, lang)
