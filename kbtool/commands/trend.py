"""`kbtool trend`: is each kelurahan on track to its stunting target?"""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.common import report_loaded
from kbtool.commands.options import Source, Writing, bad_option, command
from kbtool.commands.prevalence import Counting
from kbtool.errors import InputError, UsageError
from kbtool.measurements import load_measurements
from kbtool.prevalence import columns_needed
from kbtool.trend import DEFAULT_TARGETS, Target, compute_trend, provenance
from kbtool.views.trend import in_language, table_view, title


def parse_targets(values: list[str] | None) -> list[Target]:
    """--target values (none: the default), each checked."""
    try:
        return [Target.parse(v) for v in values] if values else list(DEFAULT_TARGETS)
    except UsageError as err:
        raise bad_option("--target", str(err).removeprefix("--target ")) from err


TargetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        help="A prevalence in % to reach by a year, PCT@YEAR (default 14.2@2029, the national "
        "stunting target of the RPJMN 2025-2029); repeat for several (14@2024 --target "
        "14.2@2029): a block of columns each, suffixed with the year.",
        metavar="PCT@YEAR",
    ),
]


@command
def trend(
    target: TargetOption = None,
    *,
    counting: Counting,
    writing: Writing,
    source: Source,
) -> None:
    """Prevalence by year per kelurahan and for the whole area, its average annual rate of
    reduction (AARR) and whether it is on track to the target, as the WHO/UNICEF Global
    Nutrition Targets Tracking Tool judges it (docs/trend.md).

    The yearly figures are kbtool prevalence's; years under --min-n children are left out of
    the AARR. Reads the store, or INPUT files (or '-') directly.

    \b
    Examples:
      kbtool trend                                   # the store, stunting by kelurahan
      kbtool trend register.csv --target 14@2024 --target 14.2@2029
      kbtool trend --by kecamatan --indicator all -o trend.xlsx --lang id
    """
    read_options = source.of_files()
    lang = writing.lang
    targets = parse_targets(target)
    needed = columns_needed(counting.groups, counting.indicators)
    loaded = load_measurements(source.inputs, source.store, needed, read_options, by_year=True)
    if (nothing := loaded.nothing_dated()) is not None:
        raise InputError(f"no trend to follow: {nothing}")
    report_loaded(loaded, source.rejects, "count", lang)
    result = compute_trend(counting.prevalence(loaded.frames(), period="year", total=True), targets)
    view, styles = table_view(result, lang=lang)
    writing.write(
        in_language(result, lang),
        provenance=provenance(result, loaded.origin, loaded.sources),
        title=title(result, lang),
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
    )
