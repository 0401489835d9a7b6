"""What the commands say on stderr (stdout carries data only): the rows read and rejected,
what an analysis loaded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kbtool.console import err_console
from kbtool.errors import InputError
from kbtool.measurements import Loaded
from kbtool.privacy import redact_rejects
from kbtool.words import in_language, reason, say
from kbtool.writing import write_rejects_csv

# how many rejected rows are shown on stderr before pointing at --rejects
REJECTS_SHOWN = 5


def tell(text: str, style: str | None = None) -> None:
    """One message for people, on stderr."""
    err_console.print(text, markup=False, style=style)


def report_rows(
    what: str,
    rows_read: int,
    accepted: int,
    rejects: pd.DataFrame,
    *,
    rejects_path: Path | None = None,
    quiet: bool = False,
    lang: str = "en",
) -> None:
    """One summary line (rows read = accepted + rejected), the first rejects, where the rest
    are. Rejected values pass through kbtool.privacy.redact_rejects, whichever command."""
    rejects = redact_rejects(rejects)
    if rejects_path is not None:
        write_rejects_csv(rejects, rejects_path)
    if quiet:
        return
    total = len(rejects)
    tell(say("rows", lang, read=rows_read, accepted=accepted, what=say(what, lang), rejected=total))
    for record in rejects.head(REJECTS_SHOWN).itertuples(index=False):
        named = isinstance(record.column, str)  # a row not split into columns names none
        column = say("reject_column", lang, column=record.column) if named else ""
        tell(f"  {record.file}:{record.line}: {column}{reason(str(record.reason), lang)}", "yellow")
    if total > REJECTS_SHOWN:
        where = say("rejects_in", lang, path=rejects_path) if rejects_path else None
        more = say("more_rejects", lang, count=total - REJECTS_SHOWN)
        tell(more + (where or say("rejects_hint", lang)), "yellow")
    elif total and rejects_path:
        tell(say("rejects_written", lang, path=rejects_path))


def report_loaded(
    loaded: Loaded, rejects_path: Path | None, what: str, lang: str, quiet: bool = False
) -> None:
    """What people should hear about the measurements an analysis read (quiet: nothing, but
    the rejected rows are still written to `rejects_path`)."""
    for text in [] if quiet else loaded.warnings:
        tell(in_language(text, lang), "yellow")
    if loaded.rejects is not None:
        accepted = loaded.rows_read - len(loaded.rejects)
        report_rows(
            "measurements", loaded.rows_read, accepted, loaded.rejects, rejects_path=rejects_path,
            quiet=quiet, lang=lang,
        )  # fmt: skip
    if not loaded.measurements and loaded.rows_read:  # a broken export, not an empty one
        raise InputError(say("all_rejected", lang, read=loaded.rows_read, what=say(what, lang)))
    if quiet:
        return
    if loaded.without_key and what != "audit":  # audit compares rows, it counts no children
        tell(say("without_key_counted", lang, count=loaded.without_key), "yellow")
    if loaded.matched_across_keys:
        tell(say("matched_files", lang, count=loaded.matched_across_keys))
    if loaded.doubtful:
        tell(say("store_doubtful", lang, count=loaded.doubtful), "yellow")
    undated = loaded.undated
    if not loaded.measurements:
        tell(say("nothing_to", lang, what=say(what, lang)))
    elif undated == loaded.measurements:
        tell(say("undated_all", lang, what=say(what, lang)), "yellow")
    elif undated and what == "count":
        tell(say("undated_some", lang, count=undated), "yellow")
