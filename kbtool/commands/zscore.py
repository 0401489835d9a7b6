"""`kbtool zscore`: WHO z-scores appended to every row of posyandu registers."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.options import (
    ColumnOption,
    FormatOption,
    InputsArg,
    LangOption,
    OutputOption,
    RejectsOption,
    SheetOption,
    check_lang,
)


def zscore(
    inputs: InputsArg,
    output: OutputOption = None,
    fmt: FormatOption = None,
    full_precision: Annotated[
        bool,
        typer.Option(
            "--full-precision",
            help="Unrounded z-scores (default: rounded to 2 decimals like WHO Anthro; flags "
            "and statuses use the rounded values).",
        ),
    ] = False,
    lang: LangOption = "en",
    column: ColumnOption = None,
    sheet: SheetOption = None,
    rejects: RejectsOption = None,
) -> None:
    """Append WHO z-scores (HAZ, WAZ, WHZ, BMIZ), flags and Permenkes 2/2020 statuses to
    every row.

    Input columns keep their headers; the computed columns follow. Rejected rows are summarised
    on stderr (all of them with --rejects FILE).
    """
    # imported here so that `kbtool --help` and `--version` start without pandas and pyarrow
    from kbtool.commands.common import note_first_compile, report_rows
    from kbtool.console import err_console
    from kbtool.output import Provenance, resolve_format, write_result
    from kbtool.reader import ReadOptions, parse_column_overrides
    from kbtool.scoring import score_files

    lang = check_lang(lang)
    fmt = resolve_format(fmt, output)
    options = ReadOptions(column_overrides=parse_column_overrides(column or []), sheet=sheet)
    note_first_compile()
    scored = score_files(inputs, options, full_precision=full_precision, lang=lang)
    for warning in scored.warnings:
        err_console.print(warning, markup=False, style="yellow")
    if scored.withheld:
        err_console.print(
            f"personal data not written (UU 27/2022): {', '.join(scored.withheld)}; "
            "source_file and source_line locate each row in its register",
            markup=False,
        )
    for original, renamed in scored.renamed.items():
        err_console.print(
            f"input column {original!r} is also a computed column: written as {renamed!r}",
            markup=False,
            style="yellow",
        )
    report_rows(
        "scored", scored.rows_read, scored.rows_scored, scored.rejects, rejects_path=rejects
    )
    provenance = Provenance(
        command="zscore",
        options={"full_precision": full_precision, "lang": lang, "format": fmt},
        sources=scored.sources,
        notes=[
            "z-scores: WHO Child Growth Standards (2006), computed with the rules of WHO's R "
            "package anthro (WHO Anthro); statuses: Permenkes No. 2 Tahun 2020",
            "z-scores rounded to 2 decimals as WHO Anthro does"
            if not full_precision
            else "z-scores unrounded (--full-precision); statuses use 2-decimal values",
        ],
    )
    write_result(scored.table, fmt=fmt, output=output, provenance=provenance, title="WHO z-scores")
