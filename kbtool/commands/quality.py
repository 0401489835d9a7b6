"""`kbtool quality`: is this register trustworthy? Plausibility and data quality per group."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.common import tell
from kbtool.commands.options import QuietOption, Source, Writing, by_option, choice, command
from kbtool.quality import GROUP_COLUMNS, columns_needed, provenance, quality_report, rated_at_least
from kbtool.views.quality import (
    RATING_STYLES,
    explain,
    explain_view,
    failing_line,
    finding_lines,
    findings_sheet,
    table_view,
)
from kbtool.words import say
from kbtool.writing import Provenance

ByOption = Annotated[str, by_option(GROUP_COLUMNS, "Group by posyandu, kelurahan or kecamatan.")]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        help="year, month, or all (every measurement together, no period column).",
        metavar="PERIOD",
        callback=choice(("year", "month", "all")),
    ),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 (after writing the output) when any group, or a whole-area row, is rated "
        "this or worse: problematic, acceptable or good. For cron and CI.",
        metavar="RATING",
        callback=choice(("problematic", "acceptable", "good")),
    ),
]
ExplainOption = Annotated[
    bool,
    typer.Option("--explain", help="Print every rated figure, its limits and source, and exit."),
]


@command
def quality(
    by: ByOption = "posyandu",
    period: PeriodOption = "year",
    fail_on: FailOnOption = None,
    explain_only: ExplainOption = False,
    quiet: QuietOption = False,
    *,
    writing: Writing,
    source: Source,
) -> None:
    """Data quality and plausibility per group and period: completeness, WHO flags, digit
    preference, the HAZ distribution, sex and age ratios, heights that fall or repeat; a SMART
    penalty score and rating (--explain lists every threshold and its source).

    Machine formats carry the table, every column; the "where to look first" findings go to
    stderr, the json meta notes, the parquet metadata and an xlsx sheet "findings". On a
    terminal related figures share a column and problem cells are marked (! acceptable, !!
    problematic). Reads the store, or INPUT files (or '-') directly.

    \b
    Examples:
      kbtool quality --by kelurahan                 # the store, per kelurahan and year
      kbtool quality register.csv --period all -o quality.xlsx
      kbtool quality --fail-on problematic -q -f csv > /dev/null   # a cron check
    """
    lang = writing.lang
    if explain_only:
        sheet = explain(lang)
        view = explain_view(sheet, lang)
        writing.write(sheet, provenance=Provenance("quality"), table_frame=view)
        return
    loaded = source.load(columns_needed(by), lang, what="check", quiet=quiet)
    report = quality_report(
        loaded.whole(), by=by, period=None if period == "all" else period, child_key="child_key"
    )
    lines = finding_lines(report, lang)
    # the findings in each language: English in json and parquet, --lang's on the xlsx sheet
    english = finding_lines(report)
    findings = [{"en": en, "id": line} for en, line in zip(english, lines, strict=True)]
    about = provenance(
        report, loaded.origin, loaded.sources, findings, period=period, fail_on=fail_on
    )
    view, styles = table_view(report, lang=lang)
    writing.write(
        report.table,
        provenance=about,
        title="Data quality" if lang == "en" else "Kualitas data",
        table_frame=view,
        cell_styles=styles,
        max_table_rows=len(view),  # an aggregate: every group is shown
        extra_sheets={"findings": findings_sheet(report, lang)},
    )
    if not quiet:
        tell(say("findings" if lines else "no_findings", lang), "bold" if lines else None)
        for line, rating in zip(lines, report.findings["rating"], strict=True):
            tell(f"  {line}", RATING_STYLES.get(str(rating)))
    failing = rated_at_least(report, fail_on) if fail_on else report.table.iloc[:0]
    if len(failing):
        tell(failing_line(report, failing, str(fail_on), lang))
        raise typer.Exit(1)
