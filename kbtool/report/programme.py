"""The report's programme section (--groups): kbtool compare's result as people read it.

Its sentence, notes and effects table are kbtool.views.compare's, so the section says what
`kbtool compare` says on the same input; the event-study chart is drawn here.
"""

from __future__ import annotations

import pandas as pd

from kbtool.compare import Comparison
from kbtool.report.charts import Chart, event_study
from kbtool.report.model import Block, Figure, Items, Paragraph, Section, Table
from kbtool.views import prevalence as prevalence_view
from kbtool.views.compare import (
    TITLES,
    effects_view,
    groups_view,
    method_notes,
    note_lines,
    outcome_label,
    summary,
)

# notes that qualify the effect itself: shown as warnings
WARNING_NOTES = ("compare_weak", "compare_pre_trend")
TEXT_COLUMNS = 2  # the effects view's outcome and estimator; the groups view's year and group
CHART_WORDS = ("event_chart", "event_caption", "event_axis")


def programme_section(
    comparison: Comparison, words: dict[str, str], lang: str
) -> tuple[Section, list[Chart]]:
    """The section and its chart (none without start years)."""
    assignment = comparison.assignment
    treated = int(assignment.treated.sum())
    filled = {
        "group": assignment.group,
        "unit": assignment.unit,
        "treated": treated,
        "others": len(assignment.units) - treated,
    }
    blocks: list[Block] = [Paragraph(words["programme_intro"].format(**filled))]
    sentence = summary(comparison, lang)
    if sentence:
        blocks.append(Paragraph(sentence))
    charts = []
    if len(comparison.event_study):
        labels = {key: words[key].format(**filled) for key in CHART_WORDS}
        chart = event_study(_panels(comparison, lang), labels, lang)
        charts.append(chart)
        blocks.append(Figure(chart.key, chart.title, chart.caption, chart.svg()))
    for note, line in zip(comparison.notes, note_lines(comparison, lang), strict=True):
        blocks.append(Paragraph(line, "warning" if note.key in WARNING_NOTES else "muted"))
    if len(comparison.effects):
        effects = effects_view(comparison, lang)
        blocks.append(_table("effects", TITLES[lang]["effects"], effects))
    groups, _ = groups_view(comparison, lang)
    # up to the interval: the severe, z-score and exclusion columns are kbtool compare's
    shown = list(groups.columns).index(prevalence_view.HEADERS[lang]["ci"]) + 1
    blocks.append(_table("groups", TITLES[lang]["groups"], groups.iloc[:, :shown]))
    blocks.append(Items(method_notes(comparison, lang), words["programme_method"]))
    title = words["programme"].format(**filled)
    return Section("programme", title, blocks, comparison.effects), charts


def _table(key: str, caption: str, view: pd.DataFrame) -> Table:
    """A kbtool compare view as a table: its first TEXT_COLUMNS as text, the rest figures."""
    cells = view.astype(str).to_numpy().tolist()
    return Table(
        key,
        caption,
        [str(c) for c in view.columns],
        cells,
        ["text"] * TEXT_COLUMNS + ["num"] * (len(view.columns) - TEXT_COLUMNS),
    )


def _panels(comparison: Comparison, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """Each outcome's event-study estimates as the chart takes them."""
    table = comparison.event_study
    panels = []
    for name, rows in table.groupby("outcome", sort=False):
        effect = rows["did_pp"].fillna(rows["did_z"])
        frame = pd.DataFrame(
            {
                "event_time": rows["event_time"].astype(int),
                "effect": effect.astype(float),
                "low": rows["ci_low"].astype(float),
                "high": rows["ci_high"].astype(float),
            }
        )
        panels.append((outcome_label(str(name), lang), frame))
    return panels
