"""Options shared by several commands, defined once (like sqlite-utils' output_options).

Every option value is checked here, by a callback, so a wrong value always reads the same:
Click's "Invalid value for '--period': ..." and exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from kbtool.reading.values import DATE_ORDERS
from kbtool.writing import FORMATS


def choice(names: Sequence[str]) -> Callable[[str | None], str | None]:
    """A callback accepting one of `names` (any case)."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in names:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}")
        return value.lower()

    return check


def choices(names: Sequence[str]) -> Callable[[list[str] | None], list[str]]:
    """A callback accepting names of `names`, repeated or comma-separated, each once."""

    def check(values: list[str] | None) -> list[str]:
        chosen = [p.strip().lower() for v in values or () for p in v.split(",") if p.strip()]
        unknown = [name for name in chosen if name not in names]
        if unknown:
            raise typer.BadParameter(f"{', '.join(unknown)}: choose from {', '.join(names)}")
        if len(set(chosen)) != len(chosen):
            raise typer.BadParameter(f"{', '.join(chosen)} names one twice")
        return chosen

    return check


def _rejects_file(path: Path | None) -> Path | None:
    """--rejects names a file: `-` would be stdout, which carries the result."""
    if path is not None and str(path) == "-":
        raise typer.BadParameter("name a file; stdout (-) carries the result itself")
    return path


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
        metavar="FORMAT",
        callback=choice(FORMATS),
        show_default=False,
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write here instead of stdout ('-' is stdout). Files are written atomically.",
        metavar="FILE",
        show_default=False,
    ),
]
LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help="Language of what people read: en (English) or id (Bahasa Indonesia).",
        metavar="en|id",
        callback=choice(("en", "id")),
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
        "--sheet",
        help="xlsx: the sheet to read (default: the first).",
        metavar="NAME",
        show_default=False,
    ),
]
DateFormatOption = Annotated[
    str,
    typer.Option(
        "--date-format",
        help="Order of day and month in dates like 05/01/2023: dmy (day first, Indonesia's), "
        "mdy (month first, as US Excel writes), or auto: each date column's values decide, "
        "day first with a warning when they cannot. ISO 2023-01-05 is read either way.",
        metavar="|".join(DATE_ORDERS),
        callback=choice(DATE_ORDERS),
    ),
]
RejectsOption = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Also write every rejected row (file, line, column, value, reason) to this CSV.",
        metavar="FILE",
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
        metavar="DIR",
        show_default=False,
        file_okay=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (for cron).")
]
