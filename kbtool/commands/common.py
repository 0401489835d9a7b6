"""What the analysis commands share: stderr reports (stdout is for data only), loading data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kbtool.console import err_console
from kbtool.privacy import redact_rejects
from kbtool.writing import write_rejects_csv

if TYPE_CHECKING:
    from kbtool.store.check import DamagedFile

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
    """One summary line (rows read = accepted + rejected), the first rejects, where the rest are.

    Rejected values pass through kbtool.privacy.redact_rejects: no personal value is shown or
    written, whichever command rejected the row."""
    rejects = redact_rejects(rejects)
    if rejects_path is not None:
        write_rejects_csv(rejects, rejects_path)
    if quiet:
        return
    rejected = len(rejects)
    err_console.print(
        f"{rows_read:,} rows read: {accepted:,} {verb}, {rejected:,} rejected", markup=False
    )
    for record in rejects.head(REJECTS_SHOWN).itertuples(index=False):
        # a row that could not be split into columns has no column to name
        column = f"column {record.column!r}: " if isinstance(record.column, str) else ""
        err_console.print(
            f"  {record.file}:{record.line}: {column}{record.reason}",
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


def load_measurements(
    inputs: list[str] | None,
    store: Path | None,
    columns: tuple[str, ...],
    *,
    column: list[str] | None = None,
    sheet: str | None = None,
    rejects: Path | None = None,
) -> tuple[pd.DataFrame, list[dict[str, object]], dict[str, object]]:
    """The measurements an analysis reads: from INPUT files when given, else from the store.

    Files go through the preparation an import does (kbtool.measurements), so both give the same
    figures. Returns the frame (only `columns`), the sources for provenance, and where the data
    came from (an option to record).
    """
    from kbtool.errors import UsageError

    if inputs:
        from kbtool.measurements import measurements_from_files
        from kbtool.reading import ReadOptions, parse_column_overrides

        options = ReadOptions(column_overrides=parse_column_overrides(column or []), sheet=sheet)
        loaded = measurements_from_files(inputs, options, columns=columns)
        report_rows(
            "measurements",
            loaded.rows_read,
            loaded.rows_read - len(loaded.rejects),
            loaded.rejects,
            rejects_path=rejects,
        )
        if loaded.matched_across_keys:
            err_console.print(
                f"{loaded.matched_across_keys:,} measurements of a later file repeat one of an "
                "earlier file under another child key (the same visit date and values: the same "
                "register in another layout?): counted once",
                markup=False,
            )
        return loaded.frame, loaded.sources, {"inputs": list(inputs)}
    if column or sheet or rejects:
        raise UsageError("--column, --sheet and --rejects apply to INPUT files, not the store")

    from kbtool.store import list_sources, open_measurements, resolve_store_dir
    from kbtool.store.read import duplicates_across_keys

    frame = open_measurements(store, columns=list(dict.fromkeys(columns)))
    doubtful = duplicates_across_keys(store)
    if doubtful:
        err_console.print(
            f"warning: the store holds {doubtful:,} measurements that repeat another's visit "
            "date and values under another child key (the same register imported in two "
            "layouts by an earlier kbtool?): some children may be counted twice; importing the "
            "registers into a new store counts each once",
            markup=False,
            style="yellow",
        )
    sources: list[dict[str, object]] = [
        {"file": str(row.file), "sha256": str(row.sha256), "imported_at": str(row.imported_at)}
        for row in list_sources(store).itertuples(index=False)
    ]
    return frame, sources, {"store": str(resolve_store_dir(store))}


def note_undated(frame: pd.DataFrame, what: str) -> None:
    """Say on stderr when there is nothing to `what` (count, check), or when measurements
    without a visit date are left out of every period."""
    if not len(frame):
        err_console.print(f"nothing to {what}: no measurement was read", markup=False)
        return
    undated = int(frame["visit_date"].isna().sum())
    if undated == len(frame):
        err_console.print(
            f"warning: no measurement has a visit date, so there is nothing to {what} per "
            "period; map the visit date with --column visit_date=NAME",
            markup=False,
            style="yellow",
        )
    elif undated:
        err_console.print(
            f"{undated:,} measurements without a visit date belong to no period: left out",
            markup=False,
            style="yellow",
        )


def show_damaged(
    damaged: list[DamagedFile], *, fmt: str | None, output: str | None, command: str
) -> None:
    """The damaged files of a store as a result (one row each); a line on stderr either way."""
    from kbtool.writing import Provenance, resolve_format, write_result

    chosen = resolve_format(fmt, output)
    frame = pd.DataFrame(
        {
            "path": [d.path for d in damaged],
            "problem": [d.problem for d in damaged],
            "rows": [d.rows for d in damaged],
            "import_id": [d.import_id for d in damaged],
            "sources": ["; ".join(d.sources) for d in damaged],
        }
    )
    if damaged or chosen != "table":
        write_result(frame, fmt=chosen, output=output, provenance=Provenance(command=command))
    err_console.print(
        f"{len(damaged)} damaged files; `kbtool store repair` sets them aside"
        if damaged
        else "every file of the store is sound",
        markup=False,
    )


def say_repaired(damaged: list[DamagedFile]) -> None:
    """What `kbtool store repair` set aside and which files to import again, on stderr."""
    if not damaged:
        err_console.print("every file of the store is sound: nothing to repair", markup=False)
        return
    for item in damaged:
        err_console.print(
            f"set aside {item.path} ({item.problem}, {item.rows:,} rows) of import "
            f"{item.import_id}",
            markup=False,
        )
    sources = sorted({source for item in damaged for source in item.sources})
    err_console.print(
        "import these files again to restore the rows set aside (their other rows are "
        "duplicates): " + ", ".join(sources),
        markup=False,
        style="yellow",
    )
