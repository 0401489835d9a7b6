"""`kbtool import` and `kbtool sources`: add registers to the store, list what it holds."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer

from kbtool.commands.common import tell
from kbtool.commands.options import (
    InputsArg,
    LangOption,
    QuietOption,
    Reading,
    StoreOption,
    Writing,
    command,
)
from kbtool.console import err_console, stderr_is_terminal
from kbtool.errors import InputError
from kbtool.store import ImportProgress, import_registers, list_sources, resolve_store_dir
from kbtool.views.store import import_lines, sources_view
from kbtool.writing import Provenance

# a progress bar appears only for imports that take longer than this (seconds)
PROGRESS_AFTER_SECONDS = 1.5

JsonSummaryOption = Annotated[
    bool, typer.Option("--json-summary", help="Print the summary as JSON on stdout.")
]
AllowRevertOption = Annotated[
    bool,
    typer.Option(
        "--allow-revert",
        help="Let rows restore values that a later import corrected (an older export imported "
        "again); without it they are skipped with a warning.",
    ),
]

WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait",
        help="Give up (exit 1) when another import still holds the store after this many "
        "seconds (0: do not wait). Default: wait until it has finished.",
        metavar="SECONDS",
        min=0,
    ),
]


@command
def import_(
    inputs: InputsArg,
    store: StoreOption = None,
    json_summary: JsonSummaryOption = False,
    allow_revert: AllowRevertOption = False,
    wait: WaitOption = None,
    quiet: QuietOption = False,
    lang: LangOption = "en",
    *,
    reading: Reading,
) -> None:
    """Import registers into the store: idempotent, atomic, NIK and names never stored.

    Importing a file again adds nothing; the same measurement in two files (in two layouts,
    too) is stored once; a changed value for the same child and visit date replaces the earlier
    one, which stays traceable. Exit code 0 when the import landed (rejected rows are
    reported), 1 when nothing could be imported.

    \b
    Examples:
      kbtool import eppgbm_januari.xlsx eppgbm_februari.xlsx
      kbtool import /data/incoming/*.csv --quiet --wait 600 --json-summary > import.json
    """
    bar = _ProgressBar(enabled=not quiet and stderr_is_terminal())
    try:
        summary = import_registers(
            inputs,
            store,
            read_options=reading.options(),
            progress=bar,
            on_wait=None if quiet else tell,
            lock_timeout=wait,
            rejects_path=reading.rejects,
            allow_revert=allow_revert,
        )
    finally:
        bar.close()
    if json_summary:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2, default=str) + "\n")
    for text, style in [] if quiet else import_lines(summary, lang):
        tell(text, style)
    if summary.rows_read and not summary.rows_stored and not summary.rows_duplicate:
        where = f" (see {summary.rejects_file})" if summary.rejects_file else ""
        raise InputError(f"nothing imported: all {summary.rows_read:,} rows were rejected{where}")
    if not summary.landed and any(s.status == "imported" for s in summary.sources):
        raise InputError("nothing imported")


@command
def sources(store: StoreOption = None, *, writing: Writing) -> None:
    """List the imports in the store: when, file, SHA-256, rows stored/skipped/rejected."""
    frame, lang = list_sources(store), writing.lang
    writing.write(
        frame,
        provenance=Provenance("sources", options={"store": str(resolve_store_dir(store))}),
        title="Imports" if lang == "en" else "Impor",
        table_frame=sources_view(frame, lang) if writing.format == "table" else None,
    )


class _ProgressBar:
    """A rich progress bar on stderr, started once an import has run for a while."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, event: ImportProgress) -> None:
        if not self.enabled or time.monotonic() - self.started < PROGRESS_AFTER_SECONDS:
            return
        if self.progress is None:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
        self.progress.update(self.task, description=label, rows=event.rows_read)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
