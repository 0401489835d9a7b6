"""`kbtool zscore`: WHO z-scores appended to every row of posyandu registers."""

from __future__ import annotations

from typing import Annotated

import typer

from kbtool.commands.common import report_rows, tell
from kbtool.commands.options import InputsArg, Reading, Writing, command
from kbtool.scoring import ScoredTable, Tally, iter_score_file, provenance, score_files
from kbtool.views.zscore import PREVIEW_WORDS, notes, preview, without_zscores
from kbtool.writing import STREAMED_FORMATS, write_batches

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
    ),
]


@command
def zscore(
    inputs: InputsArg,
    full_precision: FullPrecisionOption = False,
    keep: KeepOption = None,
    *,
    writing: Writing,
    reading: Reading,
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
    fmt, output, lang = writing.format, writing.output, writing.lang
    options = reading.options()
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
        writing.write(
            scored.table,
            provenance=provenance(scored, full_precision, lang, fmt),
            title=PREVIEW_WORDS[lang]["title"],
            table_frame=preview(scored.table, lang) if fmt == "table" else None,
            total_columns=len(scored.table.columns),
        )
    rejected = tally.all_rejects()
    report_rows(
        "scored",
        tally.rows_read,
        tally.rows_scored,
        rejected,
        rejects_path=reading.rejects,
        lang=lang,
    )
    if line := without_zscores(tally, len(inputs), lang):
        tell(line, "yellow")
