"""`kbtool report`: where to act, are we on track, can we trust the data: one HTML page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, cast

import typer

from kbtool.commands.common import report_loaded, tell
from kbtool.commands.options import (
    LangOption,
    Source,
    by_option,
    choice,
    command,
)
from kbtool.commands.prevalence import MinNOption, MonthsOption
from kbtool.commands.trend import TargetOption, parse_targets
from kbtool.compare import read_groups
from kbtool.errors import OutputError, UsageError
from kbtool.measurements import load_measurements
from kbtool.prevalence import DEFAULT_MIN_N
from kbtool.report import (
    ReportOptions,
    assemble_report,
    build_sections,
    columns_needed,
    page_of,
    render_html,
)
from kbtool.views.compare import note_lines
from kbtool.words import say
from kbtool.writing import Provenance, atomic_write, is_stdout, write_result

REPORT_FORMATS = ("html", "xlsx")

ReportOutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="The report file, e.g. report.html ('-' is stdout). Written atomically.",
        metavar="FILE",
    ),
]
ReportFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="html (the page) or xlsx (its tables, one sheet per section). Default: from the "
        "-o suffix, else html.",
        metavar="FORMAT",
        callback=choice(REPORT_FORMATS),
    ),
]
ReportByOption = Annotated[
    str,
    by_option(
        ("kecamatan", "kelurahan", "puskesmas", "posyandu"),
        "The groups of the trend panels and the indicators table: kecamatan, kelurahan, "
        "puskesmas or posyandu.",
    ),
]
TitleOption = Annotated[
    str | None,
    typer.Option(
        "--title",
        help="The area's name on top (default from the data, e.g. Kota Metro).",
        metavar="TEXT",
    ),
]
GroupsOption = Annotated[
    Path | None,
    typer.Option(
        "--groups",
        "-g",
        help="Add a section comparing a programme's units (Kampung KB) with the others, as "
        "kbtool compare --groups FILE does: its headline, event-study chart and effects.",
        metavar="FILE",
        dir_okay=False,
    ),
]
ChartsOption = Annotated[
    Path | None,
    typer.Option(
        "--charts",
        help="Also write every figure into this folder as SVG and PNG (for slides).",
        metavar="DIR",
        file_okay=False,
    ),
]


@command
def report(
    output: ReportOutputOption = None,
    fmt: ReportFormatOption = None,
    by: ReportByOption = "kecamatan",
    target: TargetOption = None,
    months: MonthsOption = None,
    min_n: MinNOption = DEFAULT_MIN_N,
    title: TitleOption = None,
    groups: GroupsOption = None,
    charts: ChartsOption = None,
    lang: LangOption = "en",
    *,
    source: Source,
) -> None:
    """A report people can read on a phone and print on A4: the latest stunting prevalence and
    where to act first, the trend against the target, every indicator, the data quality and
    the method. One self-contained HTML file (no network, no script); --format xlsx writes its
    tables instead. The figures are those of kbtool prevalence, trend and quality.

    \b
    Examples:
      kbtool report -o report.html --lang id          # the store
      kbtool report register.csv -o report.html --charts slides/
      kbtool report --target 14@2024 --target 14.2@2029 -o report.xlsx
      kbtool report register.csv --groups kampung_kb.csv -o report.html
    """
    read_options = source.of_files()
    if output is None:
        raise UsageError("name the report file with -o, e.g. -o report.html ('-' for stdout)")
    fmt = fmt or ("xlsx" if str(output).lower().endswith(".xlsx") else "html")
    _check_destination(output, charts)
    options = ReportOptions(
        by=by, targets=tuple(parse_targets(target)), min_n=min_n,
        months=tuple(cast("list[int]", months) or ()),
        title=title, programme=read_groups(groups) if groups is not None else None,
    )  # fmt: skip
    loaded = load_measurements(
        source.inputs,
        source.store,
        columns_needed(by, options.programme),
        read_options,
        by_year=True,
    )
    if loaded.measurements:
        report_loaded(loaded, source.rejects, "count", lang)
    data = assemble_report(loaded, options)
    if data.comparison is not None:
        for line in note_lines(data.comparison, lang):
            tell(line, "yellow")
    sections, figures = build_sections(data, lang)
    if fmt == "xlsx":
        about = Provenance(
            "report", {**loaded.origin, **options.as_dict(), "lang": lang}, loaded.sources
        )
        write_result(
            sections[0].sheet if sections[0].sheet is not None else data.stunting,
            fmt="xlsx",
            output=output,
            provenance=about,
            extra_sheets={s.key: s.sheet for s in sections[1:] if s.sheet is not None},
            data_sheet=sections[0].key,
            lang=lang,
        )
    else:
        _write_page(render_html(page_of(data, lang), sections), output)
    if charts is not None:
        for figure in figures:
            figure.save(charts)
    if not is_stdout(output):
        tell(say("report_written", lang, path=output))


def _check_destination(output: str, charts: Path | None) -> None:
    """Refuse early, before any work, a report into a folder that does not exist; create the
    --charts folder."""
    if not is_stdout(output):
        folder = Path(os.path.realpath(output)).parent
        if not folder.is_dir():
            raise OutputError(
                f"cannot write {output}: directory '{Path(output).parent}' does not exist; "
                "create it"
            )
    if charts is not None:
        try:
            charts.mkdir(exist_ok=True)
        except OSError as err:
            raise OutputError(f"--charts {charts}: {err.strerror or err}") from err


def _write_page(html: str, output: str) -> None:
    if is_stdout(output):
        typer.echo(html, nl=False)
        return
    with atomic_write(output) as handle:
        handle.write(html.encode("utf-8"))
