"""Options shared by several commands, defined once (like sqlite-utils' output_options)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kbtool.errors import UsageError

InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="Register files (CSV/TSV/xlsx); '-' reads standard input.",
        metavar="INPUT",
        show_default=False,
    ),
]
OptionalInputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Register files (CSV/TSV/xlsx) to read instead of the store; '-' reads stdin.",
        metavar="INPUT",
        show_default=False,
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table, csv, jsonl, json, parquet or xlsx. Default: from the -o suffix, else a "
        "table on a terminal and csv in a pipe.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write here instead of stdout ('-' is stdout). Files are written atomically.",
        show_default=False,
    ),
]
LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help="Language of labels: en (English) or id (Bahasa Indonesia).",
        case_sensitive=False,
    ),
]
ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        "-c",
        help="Map a column by hand: CANONICAL=HEADER, e.g. --column birth_date='Tgl Lahir'. "
        "Repeat as needed.",
        metavar="CANONICAL=HEADER",
        show_default=False,
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option(
        "--sheet", help="xlsx: the sheet to read (default: the first).", show_default=False
    ),
]


def _rejects_file(path: Path | None) -> Path | None:
    """--rejects names a file: `-` would be stdout, which carries the result."""
    if path is not None and str(path) == "-":
        raise typer.BadParameter("name a file; stdout (-) carries the result itself")
    return path


RejectsOption = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Also write every rejected row (file, line, column, value, reason) to this CSV.",
        show_default=False,
        dir_okay=False,
        callback=_rejects_file,
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory. Default: $KBTOOL_STORE, else the user data directory.",
        show_default=False,
        file_okay=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (for cron).")
]

LANGS = ("en", "id")


def check_lang(lang: str) -> str:
    """Validate --lang."""
    lang = lang.lower()
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang
