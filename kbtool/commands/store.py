"""`kbtool store check` and `kbtool store repair`: find damaged store files, set them aside."""

from __future__ import annotations

import typer

from kbtool.commands.common import tell
from kbtool.commands.options import LangOption, StoreOption, Writing, command
from kbtool.store import check_store, repair_store
from kbtool.views.store import damaged_frame, damaged_view, repaired_lines
from kbtool.words import say
from kbtool.writing import Provenance

HELP = "Look after a store: check every file against the catalogue, repair what is damaged."


@command
def check(store: StoreOption = None, *, writing: Writing) -> None:
    """Check every file of the store against its catalogue (exit code 1 when one is damaged).

    Lists each damaged file with its problem, the import that wrote it and that import's
    source files; `kbtool store repair` sets them aside.
    """
    damaged, lang = check_store(store), writing.lang
    if damaged or writing.format != "table":
        writing.write(
            damaged_frame(damaged),
            provenance=Provenance("store check"),
            table_frame=damaged_view(damaged, lang) if writing.format == "table" else None,
        )
    tell(say("damaged", lang, count=len(damaged)) if damaged else say("sound", lang))
    if damaged:
        raise typer.Exit(1)


def repair(store: StoreOption = None, lang: LangOption = "en") -> None:
    """Set damaged files aside (under damaged/ in the store) and say which files to import again.

    The rows of a damaged file are lost until its import's source files are imported again:
    those files are made importable again, and their rows kept in sound files count as
    duplicates.
    """
    for text, style in repaired_lines(repair_store(store), lang):
        tell(text, style)


# kbtool store's commands: name -> (function, short help)
SUBCOMMANDS = {
    "check": (check, "Check every store file."),
    "repair": (repair, "Set damaged files aside."),
}
