"""`kbtool zscore`: WHO z-scores appended to every row of posyandu registers."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:  # the command imports these when it runs, to keep `kbtool --help` fast
    import pandas as pd

    from kbtool.reading import ReadBatch, ReadOptions
    from kbtool.scoring import ScoredTable


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
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            help="Write this personal column all the same (a header, e.g. an internal record "
            "id you judge safe); a warning says so. Repeat as needed.",
            metavar="COLUMN",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Append WHO z-scores (HAZ, WAZ, WHZ, BMIZ), flags and Permenkes 2/2020 statuses to
    every row.

    Input columns keep their headers; the computed columns follow. Rejected rows are summarised
    on stderr (all of them with --rejects FILE).
    """
    # The format is settled and a single streamed file starts reading before the z-score
    # kernel and frames load: pyarrow parses it meanwhile, on a thread of its own.
    # `kbtool --help` and `--version` load none of this.
    from kbtool.reading import ReadOptions, parse_column_overrides
    from kbtool.writing import STREAMED_FORMATS, resolve_format

    lang = check_lang(lang)
    fmt = resolve_format(fmt, output)
    options = ReadOptions(column_overrides=parse_column_overrides(column or []), sheet=sheet)
    if fmt in STREAMED_FORMATS and len(inputs) == 1:
        from kbtool.streaming import read_ahead

        # csv and jsonl of one file are written batch by batch while the file is read
        batches = read_ahead(inputs[0], options)
        try:
            _stream_scores(
                inputs[0],
                options,
                full_precision=full_precision,
                lang=lang,
                fmt=fmt,
                output=output,
                rejects_path=rejects,
                batches=batches,
                keep=keep or [],
            )
        finally:
            batches.close()
        return
    from kbtool.commands.common import report_rows
    from kbtool.scoring import score_files
    from kbtool.writing import Provenance, write_result

    scored = score_files(inputs, options, full_precision=full_precision, lang=lang, keep=keep or [])
    _print_notes(scored)
    report_rows(
        "scored", scored.rows_read, scored.rows_scored, scored.rejects, rejects_path=rejects
    )
    _report_without_zscores(_WithoutZscores().add(scored.table), files=len(inputs))
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
    preview = _preview(scored.table) if fmt == "table" else None
    write_result(
        scored.table,
        fmt=fmt,
        output=output,
        provenance=provenance,
        title="WHO z-scores",
        table_frame=preview,
    )
    if preview is not None and len(preview.columns) < len(scored.table.columns):
        from kbtool.console import err_console

        err_console.print(
            f"showing {len(preview.columns)} of {len(scored.table.columns)} columns; "
            "--format csv or -o FILE for all",
            style="dim",
            markup=False,
        )


# The terminal's table: where each row comes from, its age and its z-scores, under short headers
# (all 26 columns of a row do not fit on a screen: values came out a letter a line).
PREVIEW_COLUMNS = {
    "age_days": "days",
    "haz": "haz",
    "haz_status": "haz status",
    "waz": "waz",
    "whz": "whz",
    "bmiz": "bmiz",
}
PREVIEW_FLAGS = {
    "position_flag": "pos",
    "haz_flag": "haz",
    "waz_flag": "waz",
    "whz_flag": "whz",
    "bmiz_flag": "bmiz",
}


def _preview(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of `table` the terminal shows: the register line (and file, if several),
    the age in days, the four z-scores, the stunting status, and the flags raised (pos: a
    standing measurement under 9 months)."""
    import pandas as pd

    view = pd.DataFrame(index=table.index)
    sources = table["source_file"].unique()
    if len(sources) > 1:
        view["file"] = table["source_file"].map({path: Path(str(path)).name for path in sources})
    view["line"] = table["source_line"]
    for name, label in PREVIEW_COLUMNS.items():
        view[label] = table[name]
    flags = pd.Series("", index=table.index, dtype=object)
    for name, label in PREVIEW_FLAGS.items():
        raised = table[name].fillna(0).astype(bool).to_numpy()
        flags = flags.where(~raised, flags + " " + label)
    view["flags"] = flags.str.strip()
    return view


def _stream_scores(
    source: str,
    options: ReadOptions,
    *,
    full_precision: bool,
    lang: str,
    fmt: str,
    output: str | None,
    rejects_path: Path | None,
    batches: Generator[ReadBatch, None, None],
    keep: list[str],
) -> None:
    """Score one file and write it as csv/jsonl a batch at a time; the summary follows.
    `batches` are the file's, already being read (kbtool.streaming.read_ahead)."""
    import pandas as pd

    from kbtool.commands.common import report_rows
    from kbtool.console import err_console
    from kbtool.scoring import iter_score_file
    from kbtool.writing import write_batches

    rows_read = rows_scored = 0
    rejects: list[pd.DataFrame] = []
    printed: set[str] = set()

    def tables() -> Iterator[pd.DataFrame]:
        nonlocal rows_read, rows_scored
        for index, scored in enumerate(
            iter_score_file(
                source,
                options,
                full_precision=full_precision,
                lang=lang,
                batches=batches,
                keep=keep,
            )
        ):
            if index == 0:  # every batch of a file has its columns and notes
                _print_notes(scored)
                printed.update(scored.warnings)
            for warning in scored.warnings:  # and a later batch may add its own (a stray quote)
                if warning not in printed:
                    printed.add(warning)
                    err_console.print(warning, markup=False, style="yellow")
            rows_read += scored.rows_read
            rows_scored += scored.rows_scored
            rejects.append(scored.rejects)
            without.add(scored.table)
            yield scored.table

    without = _WithoutZscores()
    write_batches(tables(), fmt=fmt, output=output)
    all_rejects = pd.concat(rejects, ignore_index=True) if len(rejects) > 1 else rejects[0]
    report_rows("scored", rows_read, rows_scored, all_rejects, rejects_path=rejects_path)
    _report_without_zscores(without, files=1)


class _WithoutZscores:
    """The scored rows that got none of the four z-scores (a template row, a totals row, a
    child without sex): not errors, but worth a line under the summary."""

    SHOWN = 3

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[str, int]] = []  # (file, line)

    def add(self, table: pd.DataFrame) -> _WithoutZscores:
        import numpy as np

        # on the columns' own arrays: selecting the four as a frame copies them (3.0 vs 5.4 ms
        # a batch of 250k rows, on the thread that writes)
        empty = np.ones(len(table), dtype=bool)
        for name in ("haz", "waz", "whz", "bmiz"):
            empty &= np.isnan(table[name].to_numpy(dtype=np.float64, na_value=np.nan))
        found = int(np.count_nonzero(empty))
        if found and len(self.first) < self.SHOWN:
            rows = table.loc[empty, ["source_file", "source_line"]].head(self.SHOWN)
            self.first += [(str(file), int(line)) for file, line in rows.itertuples(index=False)]
        self.count += found
        return self


def _report_without_zscores(without: _WithoutZscores, *, files: int) -> None:
    if not without.count:
        return
    from kbtool.console import err_console

    first = without.first[: without.SHOWN]
    if files > 1:
        shown = ", ".join(f"{file}:{line}" for file, line in first)
    else:
        shown = ("line " if len(first) == 1 else "lines ") + ", ".join(str(l) for _, l in first)
    more = ", ..." if without.count > len(first) else ""
    err_console.print(
        f"  {without.count:,} scored {'row has' if without.count == 1 else 'rows have'} no "
        f"z-score at all ({shown}{more}): a value they need is missing or out of range "
        "(sex, age, weight, length/height)",
        markup=False,
        style="yellow",
    )


def _print_notes(scored: ScoredTable) -> None:
    """The reader's warnings and what was withheld or renamed, on stderr."""
    from kbtool.console import err_console

    for warning in scored.warnings:
        err_console.print(warning, markup=False, style="yellow")
    if scored.withheld:
        err_console.print(
            "personal data not written (UU 27/2022): "
            + ", ".join(f"{header!r} ({what})" for header, what in scored.withheld.items())
            + "; source_file and source_line locate each row in its register; --keep COLUMN "
            "writes one you judge safe",
            markup=False,
        )
    for header in scored.kept:
        err_console.print(
            f"warning: writing {header!r} as asked (--keep): it looks like personal data "
            "(UU 27/2022); keep the output as private as the register",
            markup=False,
            style="yellow",
        )
    for original, renamed in scored.renamed.items():
        err_console.print(
            f"input column {original!r} is also a computed column: written as {renamed!r}",
            markup=False,
            style="yellow",
        )
