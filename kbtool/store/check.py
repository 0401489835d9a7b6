"""Checking every file of a store against its catalogue, and setting damaged files aside.

A full disk, a cut copy or a file deleted by hand leaves a listed file missing, truncated or with
other rows than listed. `kbtool store repair` moves such files aside and makes their imports'
source files importable again, so that importing them again restores what was lost.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kbtool.errors import StoreError
from kbtool.store import catalogue
from kbtool.store.layout import Store, live_path, store_lock
from kbtool.store.open import require_store
from kbtool.store.schema import AREA_SCHEMAS
from kbtool.words import Said
from kbtool.writing import fsync_dir


@dataclass(frozen=True)
class DamagedFile:
    """A catalogue file that cannot be read as the catalogue describes it."""

    path: str
    import_id: str
    rows: int
    problem: str
    sources: tuple[str, ...]  # the files the import that wrote it read


def file_problem(root: Path, entry: catalogue.FileEntry, *, full: bool = False) -> str | None:
    """What is wrong with one live file, or None: missing, unreadable, other rows than the
    catalogue says; with `full`, every page decoded too."""
    path = live_path(root / entry.path)
    if not path.exists():
        return Said("store_missing")
    try:
        parquet = pq.ParquetFile(path)
        rows = parquet.metadata.num_rows
        if full:
            parquet.read()
    except (OSError, pa.ArrowException) as err:
        return Said(
            "store_unreadable", error=(str(err).strip() or type(err).__name__).splitlines()[0]
        )
    if rows != entry.rows:
        return Said("store_rows_differ", rows=rows, listed=entry.rows)
    return None


def check_store(store: str | Path | None = None) -> list[DamagedFile]:
    """Every damaged file of the store, each read whole (none: the store is sound)."""
    opened = require_store(store)
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        entries = [e for area in AREA_SCHEMAS for e in catalogue.live_files(connection, area)]
        return list(_damaged_files(opened.root, connection, entries, full=True))


def damaged_file_error(store: Store, entries: Sequence[catalogue.FileEntry]) -> StoreError:
    """The error for a read that failed: the first of `entries` found damaged named, with its
    import and how to recover; a plain error if each looks sound (a file replaced meanwhile)."""
    with closing(catalogue.connect(store.catalogue_file, readonly=True)) as connection:
        damaged = next(_damaged_files(store.root, connection, entries, full=False), None)
    if damaged is None:
        return StoreError("the store changed while it was being read; try again")
    return StoreError(
        f"the store file {damaged.path} is {damaged.problem}; it was written by "
        f"import {damaged.import_id} ({', '.join(damaged.sources) or 'no source'}). "
        "`kbtool store check` lists every damaged file; `kbtool store repair` sets "
        "them aside and says which files to import again"
    )


def read_store_file(
    store: Store, entry: catalogue.FileEntry, columns: Sequence[str] | None = None
) -> pa.Table:
    """One live file, or a StoreError naming it when it is damaged."""
    try:
        wanted = None if columns is None else list(columns)
        table = pq.read_table(live_path(store.root / entry.path), columns=wanted)
    except (OSError, pa.ArrowException) as err:
        raise damaged_file_error(store, [entry]) from err
    if table.num_rows != entry.rows:
        raise damaged_file_error(store, [entry])
    return table


def repair_store(store: str | Path | None = None) -> list[DamagedFile]:
    """Move every damaged file to damaged/ (out of the live store), drop it from the catalogue
    and make the source files of its import importable again; returns what was set aside."""
    opened = require_store(store)
    with store_lock(opened), closing(catalogue.connect(opened.catalogue_file)) as connection:
        damaged = check_store(opened.root)
        now = catalogue.now()
        for item in damaged:
            source = live_path(opened.root / item.path)
            # outside measurements/ and superseded/, which users' own tools read whole
            aside = opened.root / "damaged" / item.import_id / item.path
            if source.exists():
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, aside)
                fsync_dir(aside.parent)
            catalogue.set_aside(connection, item.path, item.import_id, item.problem, now)
    return damaged


def _damaged_files(
    root: Path,
    connection: sqlite3.Connection,
    entries: Sequence[catalogue.FileEntry],
    *,
    full: bool,
) -> Iterator[DamagedFile]:
    for entry in entries:
        problem = file_problem(root, entry, full=full)
        if problem is not None:
            sources = tuple(catalogue.source_files(connection, entry.import_id))
            yield DamagedFile(entry.path, entry.import_id, entry.rows, problem, sources)
