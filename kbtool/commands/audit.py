"""`kbtool audit`: do the register's own z-scores and statuses agree with WHO's? Where and why
not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kbtool.audit import (
    BY_CHOICES,
    RecordedColumns,
    audit_register,
    columns_needed,
    provenance,
    split_column_options,
)
from kbtool.commands.common import report_loaded, tell
from kbtool.commands.options import (
    InputsArg,
    Reading,
    Writing,
    a_file,
    bad_option,
    by_option,
    command,
)
from kbtool.errors import UsageError
from kbtool.measurements import load_measurements
from kbtool.views.audit import finding_lines, headline_lines, table_view, title, unrecognised_lines
from kbtool.words import say
from kbtool.writing import format_of_suffix, write_result

# sentences on stderr, one per group with a disagreement, before pointing at the table
FINDINGS_SHOWN = 20
# rows the reader holds at a time: it keeps every cell of a batch as text for the recorded
# columns, so a smaller batch than the default keeps 1M e-PPGBM rows under 1 GB (bench_audit)
BATCH_ROWS = 250_000


ByOption = Annotated[
    str, by_option(BY_CHOICES, "Group by posyandu, kelurahan, puskesmas or kecamatan.")
]
RowsOption = Annotated[
    Path | None,
    typer.Option(
        "--rows",
        help="Also write the comparison row by row (file, line, group, indicator, recorded and "
        "WHO z-score and status, cause) to FILE: csv, jsonl, json, parquet or xlsx by its "
        "suffix. No names or NIK.",
        metavar="FILE",
        dir_okay=False,
        callback=a_file,
    ),
]


@command
def audit(
    inputs: InputsArg,
    by: ByOption = "posyandu",
    rows: RowsOption = None,
    *,
    writing: Writing,
    reading: Reading,
) -> None:
    """Check the z-scores and statuses a register computed itself (e-PPGBM's ZS TB/U, TB/U,
    ZS BB/U, BB/U, ZS BB/TB, BB/TB; haz, haz_status, ...) against WHO's.

    Per group and year, and for the whole area: how many agree (z-scores rounded to 2
    decimals, Permenkes 2/2020 statuses), the mean and largest difference, the stunting
    prevalence the register's statuses give beside WHO's, and the known mistake that
    reproduces the disagreements (age in completed months, no 0.7 cm position correction,
    sex swapped, truncated, a boundary value, ages computed at another date). Map a column
    by hand with --column recorded_haz=NAME (recorded_haz_status, recorded_waz, ...).

    \b
    Examples:
      kbtool audit eppgbm_export.csv
      kbtool audit register.xlsx --by kelurahan --rows disagreements.csv --lang id
      kbtool audit kader.csv --column recorded_haz='Z TB' --column recorded_haz_status=Status -f csv
    """
    lang = writing.lang
    rows_format = _rows_format(rows) if rows is not None else None
    reader_columns, recorded = split_column_options(reading.column or [])
    recorded_columns = RecordedColumns(recorded)
    loaded = load_measurements(
        inputs,
        None,
        columns_needed(by),
        replace(replace(reading, column=reader_columns).options(), batch_rows=BATCH_ROWS),
        pick_headers=recorded_columns,
    )
    report_loaded(loaded, reading.rejects, "audit", lang)
    result = audit_register(loaded.whole(), by=by, indicators=recorded_columns.indicators())
    about = provenance(result, loaded.origin, loaded.sources, recorded_columns.found, rows)
    headline = headline_lines(result, lang)
    groups = finding_lines(result, lang)
    not_understood = unrecognised_lines(result, recorded_columns.headers(), lang)
    view, styles = table_view(result, lang=lang)
    writing.write(
        result.table,
        provenance=about,
        title=title(result, lang),
        table_frame=view,
        row_styles=styles,
        max_table_rows=len(view),  # only the groups with a disagreement, and the whole area
        extra_sheets={"findings": pd.DataFrame({"finding": headline + groups + not_understood})},
    )
    if rows is not None and rows_format is not None:
        write_result(result.row_table(lang), fmt=rows_format, output=str(rows), provenance=about)
    _tell_findings(headline, groups, not_understood, result.agreeing_groups(), lang)


def _rows_format(rows: Path) -> str:
    """--rows FILE's format, from its suffix alone (--format chooses the main output's)."""
    try:
        return format_of_suffix(rows, "name the file with one of")
    except UsageError as err:
        raise bad_option("--rows", str(err)) from err


def _tell_findings(
    headline: list[str],
    groups: list[str],
    not_understood: list[str],
    agreeing: tuple[int, int],
    lang: str,
) -> None:
    """The findings on stderr: the headline, the first groups, how many agree."""
    for line in headline:
        tell(line, "bold")
    for line in groups[:FINDINGS_SHOWN]:
        tell(f"  {line}")
    if len(groups) > FINDINGS_SHOWN:
        tell(say("audit_more", lang, count=len(groups) - FINDINGS_SHOWN))
    if agreeing[0]:
        tell(say("audit_agreeing", lang, count=agreeing[0], total=agreeing[1]), "dim")
    for line in not_understood:
        tell(line, "yellow")
