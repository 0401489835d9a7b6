"""`kbtool growth`: stunting onset and recovery per kelurahan and year, from monthly HAZ."""

from __future__ import annotations

from typing import Annotated

from kbtool.commands.options import Source, Writing, by_option, command
from kbtool.dynamics import BY_CHOICES, columns_needed, compute_growth, provenance
from kbtool.views.growth import table_view, title

ByOption = Annotated[
    str,
    by_option(
        BY_CHOICES,
        "Group by kelurahan (default), kecamatan, posyandu or puskesmas; a whole-area "
        "row follows each year.",
    ),
]


@command
def growth(by: ByOption = "kelurahan", *, writing: Writing, source: Source) -> None:
    """Stunting dynamics per kelurahan and year: children who became stunted (onsets, of those
    at risk) and who recovered, each with Wilson 95% intervals and confirmed by the next
    measurement, and the mean change in HAZ per year. From each child's last valid HAZ of
    every month; pairs at most 183 days apart. Reads the store, or INPUT files (or '-').

    \b
    Examples:
      kbtool growth                                  # the store, per kelurahan and year
      kbtool growth register.csv --by posyandu -f csv
      kbtool growth -o growth.xlsx --lang id
    """
    lang = writing.lang
    # pairs cross years: the store is read whole, only these columns
    loaded = source.load(columns_needed(by), lang)
    result = compute_growth(loaded.whole(), by=by)
    view, styles = table_view(result, lang=lang)
    writing.write(
        result,
        provenance=provenance(result, loaded.origin, loaded.sources),
        title=title(lang),
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
    )
