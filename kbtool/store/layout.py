"""Where a store lives, what is in its directory, its format version and its lock."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import platformdirs

from kbtool.errors import StoreError

# Version of the on-disk layout described in docs/store-format.md. A kbtool that finds a higher
# number refuses the store rather than misread it; a lower one would be migrated.
FORMAT_VERSION = 1

STORE_ENV = "KBTOOL_STORE"

# What a directory may hold before FORMAT_VERSION exists: an interrupted creation, or aliases.csv
# written by the user ahead of the first import.
_CREATION_LEFTOVERS = {
    "FORMAT_VERSION.tmp",  # from a creation interrupted under an earlier kbtool
    "secret.key",
    "catalogue.sqlite",
    "catalogue.sqlite-journal",
    "lock",
    "aliases.csv",
    "measurements",
    "superseded",
    "rejects",
    "staging",
}
# atomic_write's temporary file of FORMAT_VERSION, left by a creation killed while writing it
_FORMAT_FILE_PART = ".FORMAT_VERSION.*.part"


@dataclass(frozen=True)
class Store:
    """A measurement store directory and the paths inside it (docs/store-format.md, Layout)."""

    root: Path

    format_file = property(lambda self: self.root / "FORMAT_VERSION")
    secret_file = property(lambda self: self.root / "secret.key")
    catalogue_file = property(lambda self: self.root / "catalogue.sqlite")
    lock_file = property(lambda self: self.root / "lock")
    aliases_file = property(lambda self: self.root / "aliases.csv")
    measurements_dir = property(lambda self: self.root / "measurements")
    superseded_dir = property(lambda self: self.root / "superseded")
    rejects_dir = property(lambda self: self.root / "rejects")
    staging_dir = property(lambda self: self.root / "staging")

    def exists(self) -> bool:
        """True once the store has been created completely (FORMAT_VERSION is written last)."""
        return bool(self.format_file.exists())


def resolve_store_dir(store: str | Path | None = None) -> Path:
    """The store directory: `store` if given, else $KBTOOL_STORE, else platformdirs'
    user_data_dir("kbtool") (~/.local/share/kbtool on Linux)."""
    chosen = str(store or "") or os.environ.get(STORE_ENV, "")
    return Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir("kbtool"))


def read_format_version(store: Store) -> int:
    """The store's format version, refusing a newer or unreadable one."""
    try:
        version = int(store.format_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise StoreError(
            f"{store.format_file} is unreadable; this does not look like a kbtool store"
        ) from err
    if version > FORMAT_VERSION:
        raise StoreError(
            f"the store {store.root} has format version {version}, newer than this kbtool "
            f"understands ({FORMAT_VERSION}); upgrade kbtool to use it"
        )
    if version < 1:
        raise StoreError(f"the store {store.root} has an invalid format version {version}")
    return version


def check_can_create(root: Path) -> None:
    """Refuse to turn a directory holding other things into a store."""
    if not root.exists():
        return
    if not root.is_dir():
        raise StoreError(f"the store location {root} is a file, not a directory")
    foreign = sorted(
        p.name
        for p in root.iterdir()
        if p.name not in _CREATION_LEFTOVERS and not fnmatch(p.name, _FORMAT_FILE_PART)
    )
    if foreign:
        raise StoreError(
            f"{root} is not a kbtool store and is not empty ({', '.join(foreign[:5])}); "
            "choose an empty or new directory with --store"
        )


def pending_path(path: Path) -> Path:
    """Where a new file waits for its import's commit: beside its final name, hidden from the
    tools that read the directories (a leading dot, and not a .parquet name)."""
    return path.with_name(f".{path.name}.pending")


def live_path(path: Path) -> Path:
    """A listed file: at its name, or still at its pending name after a commit whose last step
    was cut short (the next import finishes it)."""
    if path.exists():
        return path
    hidden = pending_path(path)
    return hidden if hidden.exists() else path


@contextlib.contextmanager
def store_lock(
    store: Store,
    *,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the store's exclusive lock (flock on `lock`), waiting for another import to finish:
    `on_wait` is told once, naming the holder's pid; after `timeout` seconds a StoreError (None:
    wait as long as it takes, so cron jobs queue up)."""
    try:
        import fcntl
    except ImportError as err:  # pragma: no cover - Windows
        raise StoreError("importing into a store needs a POSIX system (file locks)") from err
    try:
        store.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(store.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        if err.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise StoreError(
            f"the store {store.root} is not writable ({err.strerror}): importing needs write "
            "access; ask its owner, or import into a store of your own with --store DIR"
        ) from err
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, holder = 0.05, None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if holder is None:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    if on_wait is not None:
                        on_wait(
                            f"waiting for another import into {store.root} (pid {holder}) to finish"
                        )
                elif deadline is not None and time.monotonic() >= deadline:
                    raise StoreError(
                        f"the store {store.root} is still locked by another import "
                        f"(pid {holder}) after {timeout:g} s; try again when it has finished"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
