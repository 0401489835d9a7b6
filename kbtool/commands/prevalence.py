"""`kbtool prevalence`: stunting prevalence by kelurahan and year, WHO's method."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.common import only_for_files, read_options, report_loaded
from kbtool.commands.options import (
    ColumnOption,
    FormatOption,
    LangOption,
    OptionalInputsArg,
    OutputOption,
    RejectsOption,
    SheetOption,
    StoreOption,
    choice,
    choices,
)
from kbtool.measurements import load_measurements
from kbtool.prevalence import (
    BY_CHOICES,
    DEFAULT_MIN_N,
    PERIODS,
    columns_needed,
    compute_prevalence,
    provenance,
)
from kbtool.views.prevalence import in_language, method_sheet, table_view
from kbtool.writing import resolve_format, write_result


def _months(value: str | None) -> list[int] | None:
    """--months 2,8 -> [2, 8]."""
    if value is None:
        return None
    try:
        months = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        months = []
    if not months or any(not 1 <= month <= 12 for month in months):
        raise typer.BadParameter(f"{value!r}: calendar months 1-12, such as 2,8")
    return months


ByOption = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        help="Group by kelurahan (default), kecamatan, posyandu, puskesmas, sex, age_group; "
        "repeat or comma-separate; 'year' alone gives the whole-area total.",
        metavar="GROUP",
        callback=choices(BY_CHOICES),
        show_default=False,
    ),
]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period", help="year, quarter or month.", metavar="PERIOD", callback=choice(PERIODS)
    ),
]
MonthsOption = Annotated[
    str | None,
    typer.Option(
        "--months",
        help="Only these calendar months, e.g. 2,8 (bulan timbang: February and August).",
        metavar="M,M",
        callback=_months,
        show_default=False,
    ),
]
MinNOption = Annotated[
    int,
    typer.Option(
        "--min-n",
        help="Suppress figures of groups with fewer children (25-49 are marked low precision "
        "in the table). 0 shows everything.",
        metavar="N",
        min=0,
    ),
]
TotalOption = Annotated[
    bool, typer.Option("--total/--no-total", help="Add a whole-area row per period.")
]


def prevalence(
    inputs: OptionalInputsArg = None,
    store: StoreOption = None,
    by: ByOption = None,
    period: PeriodOption = "year",
    months: MonthsOption = None,
    min_n: MinNOption = DEFAULT_MIN_N,
    total: TotalOption = True,
    lang: LangOption = "en",
    output: OutputOption = None,
    fmt: FormatOption = None,
    column: ColumnOption = None,
    sheet: SheetOption = None,
    rejects: RejectsOption = None,
) -> None:
    """Stunting prevalence (HAZ < -2) and severe stunting (HAZ < -3) per kelurahan and year.

    Each child counts once per period, by their latest measurement with a valid HAZ; 95%
    confidence intervals as WHO's anthro_prevalence. Reads the store, or INPUT files (or '-')
    directly without touching the store.

    \b
    Examples:
      kbtool prevalence                                  # the store, by kelurahan and year
      kbtool prevalence register.csv --by kecamatan,sex -f csv
      kbtool prevalence --months 2,8 --period year -o stunting.xlsx --lang id
    """
    only_for_files(inputs, **{"--column": column, "--sheet": sheet, "--rejects": rejects})
    fmt = resolve_format(fmt, output)
    groups = tuple(by or ()) or ("kelurahan",)
    loaded = load_measurements(inputs, store, columns_needed(groups), read_options(column, sheet))
    report_loaded(loaded, rejects, "count", lang)
    result = compute_prevalence(
        loaded.frame,
        by=groups,
        period=period,
        months=months,  # type: ignore[arg-type]  # the callback made it a list of months
        min_n=min_n,
        total=total,
        child_key="child_key",
    )
    about = provenance(result, loaded.origin, loaded.sources)
    view, styles = table_view(result, lang=lang)
    write_result(
        in_language(result, lang),
        fmt=fmt,
        output=output,
        provenance=about,
        title="Stunting prevalence" if lang == "en" else "Prevalensi stunting",
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
        extra_sheets={"method": method_sheet(about)},
        lang=lang,
    )
