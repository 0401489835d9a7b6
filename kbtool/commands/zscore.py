"""`kbtool zscore`: WHO z-scores appended to every row of posyandu registers."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.common import read_options, report_rows, tell
from kbtool.commands.options import (
    ColumnOption,
    DateFormatOption,
    FormatOption,
    InputsArg,
    LangOption,
    OutputOption,
    RejectsOption,
    SheetOption,
)
from kbtool.scoring import ScoredTable, Tally, iter_score_file, provenance, score_files
from kbtool.views.zscore import PREVIEW_WORDS, notes, preview, without_zscores
from kbtool.writing import STREAMED_FORMATS, resolve_format, write_batches, write_result

FullPrecisionOption = Annotated[
    bool,
    typer.Option(
        "--full-precision",
        help="Unrounded z-scores (default: rounded to 2 decimals like WHO Anthro; flags and "
        "statuses use the rounded values).",
    ),
]
KeepOption = Annotated[
    list[str] | None,
    typer.Option(
        "--keep",
        help="Write this personal column all the same (a header, e.g. an internal record id you "
        "judge safe); a warning says so. Repeat as needed.",
        metavar="COLUMN",
        show_default=False,
    ),
]


def zscore(
    inputs: InputsArg,
    output: OutputOption = None,
    fmt: FormatOption = None,
    full_precision: FullPrecisionOption = False,
    lang: LangOption = "en",
    column: ColumnOption = None,
    sheet: SheetOption = None,
    date_format: DateFormatOption = "auto",
    rejects: RejectsOption = None,
    keep: KeepOption = None,
) -> None:
    """Append WHO z-scores (HAZ, WAZ, WHZ, BMIZ), flags and Permenkes 2/2020 statuses to
    every row.

    Input columns keep their headers, less personal data (--keep); the computed columns follow.
    Rejected rows are summarised on stderr (all of them with --rejects FILE).

    \b
    Examples:
      kbtool zscore register.csv -o scores.xlsx
      kbtool zscore eppgbm.xlsx --sheet 'Data Pengukuran' --lang id -f csv > scores.csv
      cat register.csv | kbtool zscore - -f jsonl | head
    """
    fmt = resolve_format(fmt, output)
    options = read_options(column, sheet, date_format)
    settings = {"full_precision": full_precision, "lang": lang, "keep": keep or []}
    tally = Tally()

    def counted(scored: ScoredTable) -> ScoredTable:
        for message, style in notes(scored, lang):
            if tally.new([message]):
                tell(message, style)
        return tally.add(scored)

    if fmt in STREAMED_FORMATS and len(inputs) == 1:  # written batch by batch as it is read
        batches = iter_score_file(inputs[0], options, **settings)  # type: ignore[arg-type]
        write_batches((counted(s).table for s in batches), fmt=fmt, output=output)
    else:
        scored = counted(score_files(inputs, options, **settings))  # type: ignore[arg-type]
        write_result(
            scored.table,
            fmt=fmt,
            output=output,
            provenance=provenance(scored, full_precision, lang, fmt),
            title=PREVIEW_WORDS[lang]["title"],
            table_frame=preview(scored.table, lang) if fmt == "table" else None,
            lang=lang,
            total_columns=len(scored.table.columns),
        )
    rejected = tally.all_rejects()
    report_rows(
        "scored", tally.rows_read, tally.rows_scored, rejected, rejects_path=rejects, lang=lang
    )
    if line := without_zscores(tally, len(inputs), lang):
        tell(line, "yellow")
