"""`kbtool prevalence`: stunting prevalence by kelurahan and year, WHO's method."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.options import (
    ColumnOption,
    FormatOption,
    LangOption,
    OptionalInputsArg,
    OutputOption,
    RejectsOption,
    SheetOption,
    StoreOption,
    check_lang,
)

# the measurement columns prevalence needs (plus the --by columns, and age_days for age_group:
# not read otherwise, 100 MB fewer on 20 million measurements)
NEEDED_COLUMNS = ("child_key", "visit_date", "haz", "haz_flag")
BY_CHOICES = ("kelurahan", "kecamatan", "posyandu", "puskesmas", "sex", "age_group", "year")
PERIOD_CHOICES = ("year", "quarter", "month")


def parse_by(values: list[str] | None) -> tuple[str, ...]:
    """--by kelurahan --by sex, or --by kelurahan,sex; default kelurahan."""
    from kbtool.errors import UsageError

    names = [part.strip() for value in values or ["kelurahan"] for part in value.split(",")]
    names = [name for name in names if name]
    unknown = [name for name in names if name not in BY_CHOICES]
    if unknown:
        raise UsageError(
            f"--by {', '.join(unknown)}: not a grouping; choose from {', '.join(BY_CHOICES)}"
        )
    return tuple(names)


def parse_months(value: str | None) -> tuple[int, ...] | None:
    """--months 2,8 -> (2, 8)."""
    from kbtool.errors import UsageError

    if value is None:
        return None
    try:
        months = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--months expects month numbers such as 2,8, got {value!r}") from None
    if not months or any(not 1 <= month <= 12 for month in months):
        raise UsageError(f"--months expects month numbers 1-12 such as 2,8, got {value!r}")
    return months


def prevalence(
    inputs: OptionalInputsArg = None,
    store: StoreOption = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Group by kelurahan (default), kecamatan, posyandu, puskesmas, sex, age_group; "
            "repeat or comma-separate; 'year' alone gives the whole-area total.",
            show_default=False,
        ),
    ] = None,
    period: Annotated[
        str, typer.Option("--period", help="year, quarter or month.", case_sensitive=False)
    ] = "year",
    months: Annotated[
        str | None,
        typer.Option(
            "--months",
            help="Only these calendar months, e.g. 2,8 (bulan timbang: February and August).",
            show_default=False,
        ),
    ] = None,
    min_n: Annotated[
        int,
        typer.Option(
            "--min-n",
            help="Suppress figures of groups with fewer children (25-49 are marked low precision "
            "in the table). 0 shows everything.",
            min=0,
        ),
    ] = 25,
    total: Annotated[
        bool, typer.Option("--total/--no-total", help="Add a whole-area row per period.")
    ] = True,
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
    """
    from kbtool.commands.common import load_measurements, note_undated
    from kbtool.errors import UsageError
    from kbtool.prevalence import METHOD, SELECTION_RULE, compute_prevalence
    from kbtool.writing import Provenance, resolve_format, write_result

    lang = check_lang(lang)
    groups = parse_by(by)
    period = period.lower()
    if period not in PERIOD_CHOICES:
        raise UsageError(f"--period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}")
    month_list = parse_months(months)
    fmt = resolve_format(fmt, output)
    needed = (
        *NEEDED_COLUMNS,
        *(g for g in groups if g not in ("year", "age_group")),
        *(("age_days",) if "age_group" in groups else ()),
    )

    frame, sources, origin = load_measurements(
        inputs, store, needed, column=column, sheet=sheet, rejects=rejects
    )
    note_undated(frame, "count")
    result = compute_prevalence(
        frame,
        by=groups,
        period=period,
        months=month_list,
        min_n=min_n,
        total=total,
        child_key="child_key",
    )
    provenance = Provenance(
        command="prevalence",
        options={
            **origin,
            "by": list(groups),
            "period": period,
            "months": list(month_list) if month_list else None,
            "min_n": min_n,
            "total": total,
        },
        sources=sources,
        notes=[f"selection: {SELECTION_RULE}", f"method: {METHOD}"],
    )
    from kbtool.prevalence_view import method_sheet, table_view

    view, styles = table_view(result, lang=lang)
    write_result(
        result,
        fmt=fmt,
        output=output,
        provenance=provenance,
        title="Stunting prevalence" if lang == "en" else "Prevalensi stunting",
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
        extra_sheets={"method": method_sheet(provenance)},
    )
