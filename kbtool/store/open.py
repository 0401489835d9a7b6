"""Creating a store on first use and opening an existing one (version check)."""

from __future__ import annotations

import secrets
from pathlib import Path

from kbtool import __version__
from kbtool.errors import StoreError
from kbtool.privacy import create_secret
from kbtool.store import catalogue
from kbtool.store.layout import (
    FORMAT_VERSION,
    Store,
    check_can_create,
    read_format_version,
    resolve_store_dir,
    store_lock,
)
from kbtool.writing import atomic_write


def open_existing(root: Path) -> Store | None:
    """The store at `root` after checking its format version; None if none was created there."""
    store = Store(root)
    if not store.exists():
        return None
    read_format_version(store)
    return store


def require_store(store: str | Path | None) -> Store:
    """The existing store at `store` (--store, $KBTOOL_STORE or the default), or StoreError."""
    root = resolve_store_dir(store)
    opened = open_existing(root)
    if opened is None:
        raise StoreError(
            f"there is no measurement store at {root}; import registers first with "
            "`kbtool import FILE` (or point --store / KBTOOL_STORE at an existing store)"
        )
    return opened


def create_or_open(root: Path) -> Store:
    """Open the store at `root`, creating it (mode 0700) under the lock if there is none yet:
    FORMAT_VERSION is written last, so a store either exists completely or is created again."""
    existing = open_existing(root)
    if existing is not None:
        return existing
    check_can_create(root)
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise StoreError(f"cannot create the store directory {root}: {err}") from err
    store = Store(root)
    with store_lock(store):
        if open_existing(root) is not None:
            return store
        if not store.secret_file.exists():
            create_secret(store.secret_file)
        catalogue.create(
            store.catalogue_file,
            {
                "format_version": str(FORMAT_VERSION),
                "store_id": secrets.token_hex(8),
                "created_at": catalogue.now(),
                "created_by": f"kbtool {__version__}",
            },
        )
        for directory in (store.measurements_dir, store.superseded_dir, store.rejects_dir):
            directory.mkdir(exist_ok=True)
        with atomic_write(store.format_file) as handle:
            handle.write(f"{FORMAT_VERSION}\n".encode("ascii"))
    return store
