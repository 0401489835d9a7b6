"""`kbtool compare`: did stunting fall faster where the programme runs?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kbtool.commands.common import tell
from kbtool.commands.options import Source, Writing, choice, command
from kbtool.commands.prevalence import IndicatorOption, MinNOption
from kbtool.compare import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    Comparison,
    columns_needed,
    compare_groups,
    read_groups,
)
from kbtool.prevalence import DEFAULT_MIN_N
from kbtool.views.compare import (
    TITLES,
    effects_view,
    event_view,
    groups_view,
    note_lines,
    said_method,
    said_notes,
    summary,
)
from kbtool.writing import Provenance

TABLES = ("effects", "groups", "event_study")

GroupsOption = Annotated[
    Path,
    typer.Option(
        "--groups",
        "-g",
        help="CSV or xlsx with a unit column (kelurahan, posyandu or kecamatan: the unit the "
        "programme was assigned to), group (e.g. 'Kampung KB') and optionally since (the "
        "year it started there). Units not listed are the comparison group.",
        metavar="FILE",
        dir_okay=False,
    ),
]
TableOption = Annotated[
    str,
    typer.Option(
        "--table",
        help="The table machine formats write: effects (the difference in differences), "
        "groups (prevalence per group and year) or event_study. xlsx holds all three.",
        metavar="TABLE",
        callback=choice(TABLES),
    ),
]
DrawsOption = Annotated[
    int, typer.Option("--draws", help="Wild bootstrap draws.", metavar="N", min=99)
]
SeedOption = Annotated[
    int,
    typer.Option(
        "--seed", help="Seed of the bootstrap and the random re-assignments.", metavar="N"
    ),
]


@command
def compare(
    groups_file: GroupsOption = ...,  # type: ignore[assignment]
    indicator: IndicatorOption = None,
    table: TableOption = "effects",
    draws: DrawsOption = DEFAULT_DRAWS,
    seed: SeedOption = DEFAULT_SEED,
    min_n: MinNOption = DEFAULT_MIN_N,
    *,
    writing: Writing,
    source: Source,
) -> None:
    """Did stunting fall faster where the programme runs? Its units against the others.

    Prevalence per group and year (the unit as cluster); the difference in differences on
    child-years with unit and year fixed effects, a wild cluster bootstrap interval and a
    randomization p-value; Callaway & Sant'Anna's estimate when starts are staggered; an
    event study by years since the start; the same for mean HAZ. docs/compare.md explains
    the method and its limits. Reads the store, or INPUT files (or '-') directly.

    \b
    Examples:
      kbtool compare --groups kampung_kb.csv                  # the store
      kbtool compare register.csv --groups kampung_kb.csv -f csv
      kbtool compare --groups kampung_kb.csv --table event_study -f csv
      kbtool compare --groups kampung_kb.csv -o compare.xlsx --lang id
    """
    lang = writing.lang
    programme = read_groups(groups_file)
    indicators = tuple(indicator or ()) or ("stunting",)
    needed = columns_needed(programme, indicators)
    # child-years lie within a visit year: the store is read one year at a time
    loaded = source.load(needed, lang, by_year=True)
    comparison = compare_groups(
        loaded.frames(), programme, indicators=indicators, draws=draws, seed=seed, min_n=min_n
    )
    about = Provenance(
        command="compare",
        options={**loaded.origin, **comparison.options, "table": table},
        sources=loaded.sources,
        notes=[*said_method(comparison), *said_notes(comparison)],
    )
    tables = comparison.tables()
    if writing.format == "table":
        _write_views(comparison, tables, about, writing)
    else:
        extra = {name: frame for name, frame in tables.items() if name != table}
        writing.write(tables[table], provenance=about, extra_sheets=extra)
    for line in note_lines(comparison, lang):
        tell(line, "yellow")
    if sentence := summary(comparison, lang):
        tell(sentence, "bold")


def _write_views(
    comparison: Comparison, tables: dict[str, pd.DataFrame], about: Provenance, writing: Writing
) -> None:
    """The terminal's tables: the groups always, the effects and event study when estimated."""
    lang = writing.lang
    views = {
        "groups": groups_view(comparison, lang),
        "effects": (effects_view(comparison, lang), None),
        "event_study": (event_view(comparison, lang), None),
    }
    for name, (view, styles) in views.items():
        if len(tables[name]) or name == "groups":
            writing.write(
                tables[name],
                provenance=about,
                title=TITLES[lang][name],
                table_frame=view,
                row_styles=styles,
                max_table_rows=len(view),
            )
