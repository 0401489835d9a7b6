"""Step 3 of an import: place the new files (fsynced, under hidden `.pending` names), commit one
catalogue transaction, then roll forward (final names, replaced files deleted). A kill anywhere
leaves the roll forward to the next import (docs/store-format.md, Import semantics: Atomic).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kbtool.concurrency import cores
from kbtool.errors import StoreError
from kbtool.store import catalogue
from kbtool.store.layout import Store, pending_path
from kbtool.writing import fsync_dir, fsync_file


def place(store: Store, added: list[tuple[Path, catalogue.FileEntry]]) -> None:
    """Make the staged files durable and move them next to their final names, hidden."""
    try:  # fsyncs of different files overlap on the disk
        with ThreadPoolExecutor(cores()) as pool:
            list(pool.map(fsync_file, [staged for staged, _ in added]))
    except OSError as err:
        raise StoreError(f"cannot write the import's files to disk: {err}") from err
    directories = set()
    for staged, entry in added:
        target = pending_path(store.root / entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        directories.add(target.parent)
    for directory in directories:
        fsync_dir(directory)


def place_rejects(store: Store, staged: Path, import_id: str) -> str | None:
    """Move the import's rejects file into rejects/ (its path in the store), if it has one."""
    if not staged.exists():
        return None
    store.rejects_dir.mkdir(exist_ok=True)
    relative = f"rejects/{import_id}.csv"
    fsync_file(staged)
    os.replace(staged, store.root / relative)
    fsync_dir(store.rejects_dir)
    return relative


def roll_forward(store: Store, connection: sqlite3.Connection) -> int:
    """Bring the directories in line with the catalogue: listed files out of hiding, unlisted
    ones (replaced, or left by a killed import) and staging deleted. Under the store lock.
    Returns the number of files removed."""
    listed = catalogue.all_paths(connection)
    for relative in listed:
        visible = store.root / relative
        hidden = pending_path(visible)
        if hidden.exists():
            os.replace(hidden, visible)
            fsync_dir(visible.parent)
    removed = 0
    for child in store.staging_dir.glob("*"):  # (glob and rglob find nothing in a missing dir)
        removed += sum(1 for p in child.rglob("*") if p.is_file()) if child.is_dir() else 1
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    for area in (store.measurements_dir, store.superseded_dir, store.rejects_dir):
        for path in sorted(p for p in area.rglob("*") if p.suffix in _OURS and p.is_file()):
            if path.relative_to(store.root).as_posix() not in listed:
                path.unlink(missing_ok=True)
                removed += 1
                remove_empty_dirs(store, path.parent)
    return removed


# what kbtool writes in measurements/, superseded/ and rejects/
_OURS = {".parquet", ".pending", ".tmp", ".csv"}


def remove_empty_dirs(store: Store, directory: Path) -> None:
    """Remove empty partition directories up to (not including) the area directory."""
    stops = {store.measurements_dir, store.superseded_dir, store.root}
    while directory not in stops and directory.is_relative_to(store.root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
