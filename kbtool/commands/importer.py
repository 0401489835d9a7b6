"""`kbtool import`: add posyandu registers to the local measurement store."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from kbtool.commands.options import (
    ColumnOption,
    FormatOption,
    InputsArg,
    OutputOption,
    QuietOption,
    RejectsOption,
    SheetOption,
    StoreOption,
)

if TYPE_CHECKING:
    from rich.progress import Progress

    from kbtool.store import ImportProgress, ImportSummary

# a progress bar appears only for imports that take longer than this (seconds)
PROGRESS_AFTER_SECONDS = 1.5


class _ProgressBar:
    """A rich progress bar on stderr, started lazily once an import has run for a while."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task: object = None

    def __call__(self, event: ImportProgress) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            if time.monotonic() - self.started < PROGRESS_AFTER_SECONDS:
                return
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            from kbtool.console import err_console

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.fields[rows]:,} rows"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("importing", rows=0)
        label = f"{event.phase} {event.source or ''}".strip()
        self.progress.update(self.task, description=label, rows=event.rows_read)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_summary(summary: ImportSummary) -> None:
    from kbtool.console import err_console

    def say(text: str, style: str | None = None) -> None:
        err_console.print(text, markup=False, style=style)

    for source in summary.sources:
        if source.status != "imported":
            say(f"{source.file}: {source.status}, nothing added ({source.sha256[:12]})")
            continue
        say(
            f"{source.file}: {source.rows_read:,} rows read = {source.rows_stored:,} stored"
            f" + {source.rows_duplicate:,} duplicates skipped + {source.rows_rejected:,} rejected"
            + (f" ({source.corrections:,} corrections)" if source.corrections else "")
        )
    if summary.landed:
        say(
            f"import {summary.import_id} into {summary.store}: {summary.rows_stored:,} stored, "
            f"{summary.rows_duplicate:,} duplicates skipped, {summary.rows_rejected:,} rejected"
        )
    if summary.matched_across_keys:
        say(
            f"{summary.matched_across_keys:,} of the duplicates repeat a measurement already known "
            "under another child key (the same visit date and values, e.g. the same register in "
            "another layout): counted once"
        )
    for import_id, rows in summary.reverted_imports.items():
        say(
            f"{rows:,} rows would restore values that import {import_id} corrected (an older "
            "export?): skipped, the corrected values stay; --allow-revert restores them",
            "yellow",
        )
    if summary.rows_without_key:
        say(
            f"{summary.rows_without_key:,} rows had no valid NIK, no other identifier and no "
            "name with a birth date: each was stored under a key of its own",
            "yellow",
        )
    if summary.unknown_kelurahan:
        say(
            "kelurahan not in the alias table (kept as written): "
            + ", ".join(sorted(summary.unknown_kelurahan)[:10])
            + (" ..." if len(summary.unknown_kelurahan) > 10 else "")
            + "; map them in aliases.csv in the store",
            "yellow",
        )
    for warning in summary.warnings:
        say(warning, "yellow")
    if summary.rows_rejected and summary.rejects_file:
        say(f"rejected rows (file, line, column, value, reason): {summary.rejects_file}")


def import_(
    inputs: InputsArg,
    store: StoreOption = None,
    column: ColumnOption = None,
    sheet: SheetOption = None,
    rejects: RejectsOption = None,
    json_summary: Annotated[
        bool,
        typer.Option("--json-summary", help="Print the summary as JSON on stdout."),
    ] = False,
    allow_revert: Annotated[
        bool,
        typer.Option(
            "--allow-revert",
            help="Let rows restore values that a later import corrected (an older export "
            "imported again); without it they are skipped with a warning.",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Import registers into the store: idempotent, atomic, NIK and names never stored.

    Importing a file again adds nothing; the same measurement in two files is stored once; a
    changed value for the same child and visit date replaces the earlier one, which stays
    traceable. Exit code 0 when the import landed (rejected rows are reported), 1 when nothing
    could be imported.
    """
    from kbtool.console import err_console, stderr_is_terminal
    from kbtool.errors import InputError
    from kbtool.reading import ReadOptions, parse_column_overrides
    from kbtool.store import import_registers

    options = ReadOptions(column_overrides=parse_column_overrides(column or []), sheet=sheet)
    bar = _ProgressBar(enabled=not quiet and stderr_is_terminal())

    def waiting(message: str) -> None:
        if not quiet:
            err_console.print(message, markup=False)

    try:
        summary = import_registers(
            inputs,
            store,
            read_options=options,
            progress=bar,
            on_wait=waiting,
            rejects_path=rejects,
            allow_revert=allow_revert,
        )
    finally:
        bar.close()
    if json_summary:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2, default=str) + "\n")
    if not quiet:
        _print_summary(summary)
    nothing_new = all(s.status != "imported" for s in summary.sources)
    if summary.rows_read and not summary.rows_stored and not summary.rows_duplicate:
        raise InputError(
            f"nothing imported: all {summary.rows_read:,} rows were rejected"
            + (f" (see {summary.rejects_file})" if summary.rejects_file else "")
        )
    if not summary.landed and not nothing_new:
        raise InputError("nothing imported")


def sources(
    store: StoreOption = None,
    output: OutputOption = None,
    fmt: FormatOption = None,
) -> None:
    """List the imports in the store: when, file, SHA-256, rows stored/skipped/rejected."""
    from kbtool.store import list_sources, resolve_store_dir
    from kbtool.writing import Provenance, resolve_format, write_result

    fmt = resolve_format(fmt, output)
    frame = list_sources(store)
    provenance = Provenance(command="sources", options={"store": str(resolve_store_dir(store))})
    write_result(frame, fmt=fmt, output=output, provenance=provenance, title="Imports")
