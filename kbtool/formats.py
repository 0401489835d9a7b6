"""The output formats and how a command chooses one (--format, the -o suffix, stdout).

Apart from kbtool.output so that a command can settle its format, and start reading its input,
before the writers (pandas, pyarrow, rich tables) have loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from kbtool.console import stdout_is_terminal
from kbtool.errors import UsageError

FORMATS = ("table", "csv", "jsonl", "json", "parquet", "xlsx")
BINARY_FORMATS = frozenset({"parquet", "xlsx"})
# Formats whose rows can be written batch by batch as they are computed (write_batches).
STREAMED_FORMATS = frozenset({"csv", "jsonl"})
# -o suffix -> format when --format is not given (.ndjson is the other common name for JSON lines).
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


def is_stdout(output: str | os.PathLike[str] | None) -> bool:
    """Whether `output` (a -o value) means stdout."""
    return output is None or str(output) == "-"


def resolve_format(fmt: str | None, output: str | os.PathLike[str] | None) -> str:
    """The output format: explicit ``--format``, else the ``-o`` suffix, else table/csv by stdout.

    Without ``--format`` and ``-o``, a terminal gets a table preview and a pipe gets CSV.
    Raises UsageError for a table to a file, an unknown suffix, or parquet/xlsx to a terminal.
    """
    to_stdout = is_stdout(output)
    if fmt is not None:
        chosen = fmt.strip().lower()
        if chosen not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    elif not to_stdout:
        suffix = Path(str(output)).suffix.lower()
        if suffix not in SUFFIX_FORMATS:
            machine = "|".join(name for name in FORMATS if name != "table")
            raise UsageError(
                f"cannot tell the format of {str(output)!r} from its suffix; "
                f"add --format {machine} or use one of {', '.join(SUFFIX_FORMATS)}"
            )
        chosen = SUFFIX_FORMATS[suffix]
    else:
        chosen = "table" if stdout_is_terminal() else "csv"
    check_destination(chosen, output)
    return chosen


def check_destination(fmt: str, output: str | os.PathLike[str] | None) -> None:
    """Refuse a table to a file, and a binary format to a terminal (UsageError)."""
    if fmt == "table" and not is_stdout(output):
        raise UsageError(
            f"the table format only prints to the terminal; to write {str(output)!r} use "
            "--format csv|jsonl|json|parquet|xlsx or a file name ending in one of those"
        )
    if fmt in BINARY_FORMATS and is_stdout(output) and stdout_is_terminal():
        raise UsageError(f"refusing to write {fmt} to a terminal; use -o FILE or pipe it")


__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "STREAMED_FORMATS",
    "SUFFIX_FORMATS",
    "check_destination",
    "is_stdout",
    "resolve_format",
]
