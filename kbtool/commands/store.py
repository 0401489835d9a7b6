"""`kbtool store check` and `kbtool store repair`: find damaged store files, set them aside."""

from __future__ import annotations

import typer

from kbtool.commands.options import FormatOption, OutputOption, StoreOption

app = typer.Typer(
    help="Look after a store: check every file against the catalogue, repair what is damaged.",
    no_args_is_help=True,
)


def check(store: StoreOption = None, output: OutputOption = None, fmt: FormatOption = None) -> None:
    """Check every file of the store against its catalogue (exit code 1 when one is damaged).

    Lists each damaged file with its problem, the import that wrote it and that import's
    source files; `kbtool store repair` sets them aside.
    """
    from kbtool.commands.common import show_damaged
    from kbtool.store.check import check_store

    damaged = check_store(store)
    show_damaged(damaged, fmt=fmt, output=output, command="store check")
    if damaged:
        raise typer.Exit(1)


def repair(store: StoreOption = None) -> None:
    """Set damaged files aside (under damaged/ in the store) and say which files to import again.

    The rows of a damaged file are lost until its import's source files are imported again:
    those files are made importable again, and their rows kept in sound files count as
    duplicates.
    """
    from kbtool.commands.common import say_repaired
    from kbtool.store.check import repair_store

    say_repaired(repair_store(store))
