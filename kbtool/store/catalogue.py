"""The catalogue: a small sqlite database of imports, their sources and the live Parquet files.

sqlite rather than a manifest file because an import switches the set of live files in one
transaction that survives a kill or power loss (docs/store-format.md, The catalogue).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kbtool.errors import StoreError

# the rows an import, and each of its sources, read, stored, skipped and rejected
COUNT_FIELDS = (
    "rows_read",
    "rows_stored",
    "rows_duplicate",
    "rows_rejected",
    "rows_without_key",
    "corrections",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    import_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    kbtool_version TEXT NOT NULL,
{counts}
    rejects_file TEXT
);
CREATE TABLE IF NOT EXISTS sources (
    import_id TEXT NOT NULL REFERENCES imports(import_id),
    position INTEGER NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER,
{counts}
    PRIMARY KEY (import_id, position)
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    area TEXT NOT NULL CHECK (area IN ('measurements', 'superseded')),
    year INTEGER,
    kecamatan TEXT,
    import_id TEXT NOT NULL,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_partition ON files (area, year, kecamatan);
CREATE TABLE IF NOT EXISTS set_aside (
    path TEXT NOT NULL,  -- where the file was; it now lies under damaged/<import_id>/
    import_id TEXT NOT NULL,
    problem TEXT NOT NULL,
    set_aside_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reimport (  -- sources to read again though their SHA-256 is known
    sha256 TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS year_checks (
    year INTEGER PRIMARY KEY,  -- visit year; -1 for measurements without a visit date
    across_keys INTEGER NOT NULL  -- live measurements repeating another under another child key
);
CREATE INDEX IF NOT EXISTS sources_sha256 ON sources (sha256);
""".replace("{counts}", "\n".join(f"    {name} INTEGER NOT NULL," for name in COUNT_FIELDS))


@dataclass(frozen=True)
class FileEntry:
    """One live Parquet file: its path relative to the store root and its partition."""

    path: str
    area: str
    year: int | None
    kecamatan: str | None
    import_id: str
    rows: int
    bytes: int


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the catalogue with durable settings; `readonly` for stores the user cannot write."""
    try:
        target = f"{path.resolve().as_uri()}?mode=ro" if readonly else path
        connection = sqlite3.connect(target, uri=readonly, timeout=60)
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        if not readonly:  # a store made by an earlier kbtool gains the tables added since
            connection.executescript(_SCHEMA)
    except sqlite3.Error as err:
        raise StoreError(f"cannot open the store catalogue {path}: {err}") from err
    return connection


def now() -> str:
    """A time as the catalogue records it: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def create(path: Path, meta: dict[str, str]) -> None:
    """Create the catalogue's tables (connect does, idempotently) and record `meta`."""
    with closing(connect(path)) as connection, connection:
        connection.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(meta.items())
        )


def known_sha256(connection: sqlite3.Connection, sha256: str) -> tuple[str, str] | None:
    """(import_id, committed_at) of the import that stored a file with this SHA-256, if any;
    a file whose rows were all rejected does not count (it can be imported again, fixed)."""
    row = connection.execute(
        "SELECT s.import_id, i.committed_at FROM sources s JOIN imports i USING (import_id) "
        "WHERE s.sha256 = ? AND (s.rows_stored + s.rows_duplicate > 0 OR s.rows_read = 0) "
        "AND s.sha256 NOT IN (SELECT sha256 FROM reimport) "
        "ORDER BY i.committed_at LIMIT 1",
        (sha256,),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def live_files(
    connection: sqlite3.Connection, area: str = "measurements", year: int | str | None = "any"
) -> list[FileEntry]:
    """The committed files of an area, all or of one year (None: the files without a year)."""
    sql = "SELECT path, area, year, kecamatan, import_id, rows, bytes FROM files WHERE area = ?"
    params: list[object] = [area]
    if year != "any":
        sql += " AND year IS ?"
        params.append(year)
    sql += " ORDER BY path"
    return [FileEntry(*row) for row in connection.execute(sql, params)]


def all_paths(connection: sqlite3.Connection) -> set[str]:
    """Every file the catalogue references (data files and rejects files)."""
    rows = connection.execute(
        "SELECT path FROM files "
        "UNION SELECT rejects_file FROM imports WHERE rejects_file IS NOT NULL"
    )
    return {str(row[0]) for row in rows}


@dataclass(frozen=True)
class ImportRecord:
    """What an import's commit writes to the catalogue."""

    import_id: str
    started_at: str
    committed_at: str
    kbtool_version: str
    counts: dict[str, int]
    rejects_file: str | None
    sources: Sequence[tuple[str, str, int | None, dict[str, int]]]  # file, sha256, size, counts
    # per visit year the import touched (None: no visit date): see year_checks
    across_keys: dict[int | None, int] = field(default_factory=dict)
    # sources to read again next time though imported now (rows of theirs were held back)
    reimport: list[str] = field(default_factory=list)


def commit_import(
    connection: sqlite3.Connection,
    record: ImportRecord,
    added: Iterable[FileEntry],
    removed: Iterable[str],
) -> None:
    """The one atomic step of an import: record it and switch the live files, or do nothing."""
    with connection:
        connection.execute(
            "INSERT INTO imports (import_id, started_at, committed_at, kbtool_version, "
            + ", ".join(COUNT_FIELDS)
            + ", rejects_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.import_id,
                record.started_at,
                record.committed_at,
                record.kbtool_version,
                *(record.counts[f] for f in COUNT_FIELDS),
                record.rejects_file,
            ),
        )
        connection.executemany(
            "INSERT INTO sources (import_id, position, file, sha256, size_bytes, "
            + ", ".join(COUNT_FIELDS)
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (record.import_id, position, file, sha, size, *(counts[f] for f in COUNT_FIELDS))
                for position, (file, sha, size, counts) in enumerate(record.sources)
            ],
        )
        connection.executemany(
            "INSERT OR REPLACE INTO year_checks (year, across_keys) VALUES (?, ?)",
            [(-1 if year is None else year, n) for year, n in record.across_keys.items()],
        )
        connection.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in removed])
        connection.executemany(
            "DELETE FROM reimport WHERE sha256 = ?", [(sha,) for _, sha, _, _ in record.sources]
        )
        connection.executemany(
            "INSERT OR IGNORE INTO reimport (sha256) VALUES (?)",
            [(sha,) for sha in record.reimport],
        )
        connection.executemany(
            "INSERT INTO files (path, area, year, kecamatan, import_id, rows, bytes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(f.path, f.area, f.year, f.kecamatan, f.import_id, f.rows, f.bytes) for f in added],
        )


def across_keys(connection: sqlite3.Connection) -> tuple[int, list[int | None]]:
    """Live measurements that repeat another under another child key, as the imports recorded
    them, and the live years no import has checked (a store made by an earlier kbtool)."""
    # years as year_checks holds them: -1 for measurements without a visit date
    live = sorted(
        int(row[0])
        for row in connection.execute(
            "SELECT DISTINCT IFNULL(year, -1) FROM files WHERE area = 'measurements'"
        )
    )
    try:
        checked = dict(connection.execute("SELECT year, across_keys FROM year_checks").fetchall())
    except sqlite3.OperationalError:  # no such table: read-only, made by an earlier kbtool
        checked = {}
    found = sum(int(checked.get(year, 0)) for year in live)
    return found, [None if year == -1 else year for year in live if year not in checked]


def source_files(connection: sqlite3.Connection, import_id: str) -> list[str]:
    """The files an import read, in order."""
    rows = connection.execute(
        "SELECT file FROM sources WHERE import_id = ? ORDER BY position", (import_id,)
    )
    return [str(row[0]) for row in rows]


def set_aside(
    connection: sqlite3.Connection, path: str, import_id: str, problem: str, when: str
) -> None:
    """Drop a damaged file from the live files, record it, and let its import's sources be
    imported again (their rows in other files are then duplicates, the lost ones come back)."""
    with connection:
        connection.execute("DELETE FROM files WHERE path = ?", (path,))
        connection.execute(
            "INSERT INTO set_aside (path, import_id, problem, set_aside_at) VALUES (?, ?, ?, ?)",
            (path, import_id, problem, when),
        )
        connection.execute(
            "INSERT OR IGNORE INTO reimport (sha256) SELECT sha256 FROM sources "
            "WHERE import_id = ?",
            (import_id,),
        )
