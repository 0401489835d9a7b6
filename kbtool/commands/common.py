"""What the analysis commands share: stderr reports (stdout is for data only), loading data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kbtool.console import err_console
from kbtool.output import write_rejects_csv

# how many rejected rows are shown on stderr before pointing at --rejects
REJECTS_SHOWN = 5


def note_first_compile(quiet: bool = False) -> None:
    """Tell the user why the first z-score run after installing takes ~20 s longer."""
    from kbtool.growth.zscores import kernel_is_compiled

    if not quiet and not kernel_is_compiled():
        err_console.print(
            "preparing the z-score kernel for this machine (first run only, about 20 s)...",
            markup=False,
            style="dim",
        )


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

        note_first_compile()
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
        return loaded.frame, loaded.sources, {"inputs": list(inputs)}
    if column or sheet or rejects:
        raise UsageError("--column, --sheet and --rejects apply to INPUT files, not the store")

    from kbtool.store import list_sources, open_measurements, resolve_store_dir

    frame = open_measurements(store, columns=list(dict.fromkeys(columns)))
    sources: list[dict[str, object]] = [
        {"file": str(row.file), "sha256": str(row.sha256), "imported_at": str(row.imported_at)}
        for row in list_sources(store).itertuples(index=False)
    ]
    return frame, sources, {"store": str(resolve_store_dir(store))}
