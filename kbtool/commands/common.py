"""Small stderr reports shared by the commands (stdout is for data only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kbtool.console import err_console
from kbtool.output import write_rejects_csv

# how many rejected rows are shown on stderr before pointing at --rejects
REJECTS_SHOWN = 5


def report_rows(
    verb: str,
    rows_read: int,
    accepted: int,
    rejects: pd.DataFrame,
    *,
    rejects_path: Path | None = None,
    quiet: bool = False,
) -> None:
    """One summary line (rows read = accepted + rejected), the first rejects, where the rest are."""
    if rejects_path is not None:
        write_rejects_csv(rejects, rejects_path)
    if quiet:
        return
    rejected = len(rejects)
    err_console.print(
        f"{rows_read:,} rows read: {accepted:,} {verb}, {rejected:,} rejected", markup=False
    )
    for record in rejects.head(REJECTS_SHOWN).itertuples(index=False):
        err_console.print(
            f"  {record.file}:{record.line}: column {record.column!r}: {record.reason}",
            markup=False,
            style="yellow",
        )
    if rejected > REJECTS_SHOWN:
        more = f"  ... and {rejected - REJECTS_SHOWN:,} more"
        hint = (
            f" (all in {rejects_path})" if rejects_path else " (write them all with --rejects FILE)"
        )
        err_console.print(more + hint, markup=False, style="yellow")
    elif rejected and rejects_path:
        err_console.print(f"  rejected rows written to {rejects_path}", markup=False)
