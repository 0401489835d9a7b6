"""`kbtool import` and `kbtool sources`: add registers to the store, list what it holds."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click

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
from kbtool.errors import InputError, KbtoolError, OutputError, StoreError, UsageError
from kbtool.privacy import redact_text
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
    try:
        summary, failure = _import(inputs, store, allow_revert, wait, quiet, lang, reading)
    except Exception as err:
        if json_summary:
            _print_json(failure_summary(err, store))
        raise
    if json_summary:
        _print_json(summary)
    if failure is not None:
        raise failure


def _import(
    inputs: list[str], store: Path | None, allow_revert: bool, wait: float | None, quiet: bool,
    lang: str, reading: Reading,
) -> tuple[dict[str, Any], InputError | None]:  # fmt: skip
    """The import, told on stderr: its --json-summary, and the error to exit with when nothing
    landed (all rows rejected)."""
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
    for text, style in [] if quiet else import_lines(summary, lang):
        tell(text, style)
    failure = None
    if summary.rows_read and not summary.rows_stored and not summary.rows_duplicate:
        where = f" (see {summary.rejects_file})" if summary.rejects_file else ""
        rejected = f"all {summary.rows_read:,} rows were rejected{where}"
        failure = InputError(f"nothing imported: {rejected}")
    elif not summary.landed and any(s.status == "imported" for s in summary.sources):
        failure = InputError("nothing imported")
    if failure is not None:
        return {**failure_summary(failure, store), **summary.to_dict()}, failure
    return {"ok": True, "exit_code": 0, "error": None, **summary.to_dict()}, None


# --json-summary's error kinds, by the error's class (the first that matches)
_ERROR_KINDS = (
    (UsageError, "usage"),
    (click.exceptions.UsageError, "usage"),
    (InputError, "input"),
    (StoreError, "store"),
    (OutputError, "output"),
    (KbtoolError, "error"),
)


def failure_summary(err: BaseException, store: Path | None) -> dict[str, Any]:
    """--json-summary of an import that failed with `err`: ok false, the exit code and the
    error's kind and message, the line stderr shows (README, "kbtool import in a cron job");
    an internal error by its type only, as its text may quote a register's values."""
    kind = next((name for cls, name in _ERROR_KINDS if isinstance(err, cls)), "internal")
    if isinstance(err, KbtoolError):
        code, message = err.exit_code, str(err)
    elif isinstance(err, click.exceptions.ClickException):
        code, message = err.exit_code, err.format_message()
    else:
        code = 1
        message = f"internal error: {type(err).__name__} (run with --debug for the traceback)"
    return {
        "ok": False,
        "exit_code": code,
        "error": {"kind": kind, "message": redact_text(message)},
        "store": str(resolve_store_dir(store)),
        "import_id": None,
    }


def _print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


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
