"""Options shared by several commands, defined once, and the groups most commands take whole
(how INPUT files are read, where the result goes). Values are checked by callbacks, so a wrong
one always reads the same: Click's "Invalid value for '--period': ..." and exit code 2."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_type_hints

import pandas as pd
import pyarrow as pa
import typer

from kbtool.commands.common import report_loaded
from kbtool.measurements import Loaded, load_measurements
from kbtool.reading import ReadOptions, parse_column_overrides
from kbtool.reading.values import AUTO, DATE_ORDERS
from kbtool.writing import FORMATS, resolve_format, write_result

F = TypeVar("F", bound=Callable[..., Any])


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
        if unknown := [name for name in chosen if name not in names]:
            raise typer.BadParameter(f"{', '.join(unknown)}: choose from {', '.join(names)}")
        if len(set(chosen)) != len(chosen):
            raise typer.BadParameter(f"{', '.join(chosen)} names one twice")
        return chosen

    return check


def bad_option(option: str, message: str) -> typer.BadParameter:
    """A wrong value found in a command's body, named as Click names an option ('--target')."""
    return typer.BadParameter(message, param_hint=f"'{option}'")


# a command's own options naming a file it reads besides INPUT (compare's and report's
# --groups, skdn's --sasaran and --kbm): no output may replace them either
READ_FILE_OPTIONS = ("groups_file", "groups", "sasaran", "kbm")


def refuse_inputs_as_outputs(inputs: Sequence[str] | None, **outputs: object) -> None:
    """An output (option name: path, `--` spelt `_`) that is one of the INPUT files is refused:
    writing it would replace the register, whose names and NIK no output carries."""
    files = [Path(name) for name in inputs or () if name != "-" and Path(name).is_file()]
    for option, output in outputs.items():
        target = Path(str(output)) if output is not None and str(output) != "-" else None
        if target is not None and any(target.is_file() and target.samefile(f) for f in files):
            raise bad_option(
                "--" + option.replace("_", "-"),
                f"{target} is a file this command reads; writing it would replace it: "
                "name another file",
            )


def by_option(names: Sequence[str], help: str) -> Any:
    """--by GROUP, one of `names`: what a result's rows are grouped by."""
    return typer.Option("--by", help=help, metavar="GROUP", callback=choice(names))


def a_file(path: Path | None) -> Path | None:
    """A callback refusing `-` where a file is asked for: stdout carries the result."""
    if path is not None and str(path) == "-":
        raise typer.BadParameter("name a file; stdout (-) carries the result itself")
    return path


InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="Register files (CSV/TSV/xlsx); '-' reads standard input.", metavar="INPUT"
    ),
]
OptionalInputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Register files (CSV/TSV/xlsx) to read instead of the store; '-' reads stdin.",
        metavar="INPUT",
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
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write here instead of stdout ('-' is stdout). Files are written atomically.",
        metavar="FILE",
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
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option("--sheet", help="xlsx: the sheet to read (default: the first).", metavar="NAME"),
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
        dir_okay=False,
        callback=a_file,
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory. Default: $KBTOOL_STORE, else the user data directory.",
        metavar="DIR",
        file_okay=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (for cron).")
]


@dataclass(frozen=True)
class Reading:
    """How INPUT files are read (--column, --sheet, --date-format) and where the rows they
    reject are listed (--rejects)."""

    column: ColumnOption = None
    sheet: SheetOption = None
    date_format: DateFormatOption = AUTO
    rejects: RejectsOption = None

    def options(self) -> ReadOptions:
        """The reader's options."""
        overrides = parse_column_overrides(self.column or [])
        return ReadOptions(
            column_overrides=overrides, sheet=self.sheet, date_format=self.date_format
        )


@dataclass(frozen=True)
class Source(Reading):
    """Reading, plus where the measurements come from: INPUT files, else the store (--store)."""

    inputs: OptionalInputsArg = None
    store: StoreOption = None

    def of_files(self, **more: object) -> ReadOptions:
        """The reader's options; without INPUT files (the store) these options, and `more`
        (option name: value), are refused, as --store is with them."""
        if self.inputs and self.store:
            raise bad_option("--store", "reads the store, not INPUT files: give one or the other")
        given: dict[str, object] = {"--column": self.column, "--sheet": self.sheet}
        given |= {"--rejects": self.rejects, "--date-format": self.date_format != AUTO, **more}
        for name, value in given.items():
            if value and not self.inputs:
                raise bad_option(name, "applies to INPUT files, not the store")
        return self.options()

    def load(
        self, columns: Sequence[str], lang: str, *, by_year: bool = False, what: str = "count",
        quiet: bool = False,
    ) -> Loaded:  # fmt: skip
        """The measurements (only `columns`; by_year: one frame per visit year), and what
        people should hear about them on stderr."""
        options = self.of_files()
        loaded = load_measurements(self.inputs, self.store, columns, options, by_year=by_year)
        report_loaded(loaded, self.rejects, what, lang, quiet)
        return loaded


@dataclass(frozen=True)
class Writing:
    """Where the result goes (-o), as what (-f) and in which language (--lang). The format is
    resolved when the group is made, so a wrong one is refused before any work."""

    lang: LangOption = "en"
    output: OutputOption = None
    fmt: FormatOption = None
    format: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", resolve_format(self.fmt, self.output))

    def write(self, result: pd.DataFrame | pa.Table, **details: Any) -> None:
        """writing.write_result to this output, format and language."""
        write_result(result, fmt=self.format, output=self.output, lang=self.lang, **details)


def command(function: F) -> F:
    """A command whose parameters include option groups (dataclasses of options: Reading, Source,
    Writing, ...): Typer sees each group's options after the command's own, and the command is
    called with the group."""
    signature = inspect.signature(function, eval_str=True)
    given = signature.parameters.values()
    groups: dict[str, Any] = {p.name: p.annotation for p in given if is_dataclass(p.annotation)}
    own = [p for p in given if p.name not in groups]
    added = {name: _options(group) for name, group in groups.items()}

    @functools.wraps(function)
    def run(**values: Any) -> Any:
        for name, group in groups.items():
            values[name] = group(**{p.name: values.pop(p.name) for p in added[name]})
        made = values.values()
        source = next((v for v in made if isinstance(v, Source)), None)
        inputs = values.get("inputs", source.inputs if source else None)
        writing = next((v for v in made if isinstance(v, Writing)), None)
        reading = next((v for v in made if isinstance(v, Reading)), None)
        if list(inputs or ()).count("-") > 1:
            raise typer.BadParameter(
                "standard input can be read once: name '-' once", param_hint="INPUT"
            )
        read = [*(inputs or ()), *(str(values[o]) for o in READ_FILE_OPTIONS if values.get(o))]
        refuse_inputs_as_outputs(
            read,
            output=writing.output if writing else values.get("output"),  # report has its own
            rejects=reading.rejects if reading else None,
            rows=values.get("rows"),  # audit --rows
        )
        return function(**values)

    parameters = [*own, *(p for options in added.values() for p in options)]
    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


def _options(group: type) -> list[inspect.Parameter]:
    """A group's fields that are options, as the keyword parameters Typer reads."""
    hints = get_type_hints(group, include_extras=True)
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter(f.name, keyword, default=f.default, annotation=hints[f.name])
        for f in fields(group)
        if f.init
    ]
