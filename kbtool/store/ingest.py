"""Importing registers into the store: streaming, deduplicating, atomic, serialised.

An import runs in three steps, all under the store's exclusive lock:

1. Stage (streaming). Each batch from the reader gets its places normalised, child keys, z-scores
   and value hash, and is appended to a Parquet file per (year, kecamatan) under
   ``staging/<import_id>/``, with a compact index (key, visit date, value hash, order) per year.
   Memory holds one batch at a time. A background thread writes the staged files through to
   disk as they grow (`_Syncer`). When the file is large next to the store, the store's rows
   are loaded first (`dedup.StoredValues`), and the rows it holds as they are (duplicates
   whatever else the import holds) get index rows only, no staged values.
2. Resolve, one visit year at a time. The year's index is compared with the key columns of the
   year's live files (never the whole store): within the import the last row of a child and visit
   date wins; a row equal to a stored one is a duplicate; a different one is a correction that
   moves the stored row to ``superseded/``. Staged files with nothing to drop are kept as they
   are; others, and stored files that lost rows, are rewritten in staging. A partition with many
   files is compacted into one.
3. Commit. New files are fsynced and renamed to their final names, then one sqlite transaction
   records the import and switches the list of live files. Readers only read listed files, so
   until that transaction nothing has changed for them, and after it everything has. Files that
   are no longer listed are deleted afterwards; whatever a killed import left behind is deleted by
   the next one (`collect_garbage`).
"""

from __future__ import annotations

import csv
import io
import os
import queue
import secrets
import shutil
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kbtool import __version__
from kbtool.columns import REJECT_COLUMNS
from kbtool.concurrency import ahead, cores
from kbtool.errors import InputError, StoreError
from kbtool.places import AliasTable, load_aliases, normalise_places
from kbtool.privacy import KeyHasher, child_keys, load_secret
from kbtool.reading import ReadBatch, ReadOptions
from kbtool.store import catalogue, dedup
from kbtool.store.layout import (
    Store,
    fsync_dir,
    fsync_file,
    resolve_store_dir,
    store_lock,
    write_atomic,
)
from kbtool.store.open import create_or_open, open_existing
from kbtool.store.schema import (
    MEASUREMENT_SCHEMA,
    NAT_DAYS,
    PARQUET_OPTIONS,
    SUPERSEDED_SCHEMA,
    StagedBatch,
    build_batch,
    constant_column,
    load_kernels,
)

# Open staged files at once; beyond this the least recently used is closed and a new part begun.
MAX_OPEN_WRITERS = 64
# A partition with more live files than this is rewritten as one file by the import that adds to it.
MAX_FILES_PER_PARTITION = 16
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
# Children whose keys are remembered between batches (about 250 bytes each in Python objects).
KEY_CACHE_ENTRIES = 500_000
# Rows per batch an import reads at most: a batch and what is built from it take about 0.8 KB a
# row at the peak, so half a million rows keep a 10-million-row import near 1.1 GB of RSS (1.5 GB
# with the reader's default million, measured), at the same speed.
IMPORT_BATCH_ROWS = 500_000
# Stored rows up to which an import loads them all (16 bytes a row; 40 while being sorted) to
# leave out of staging the rows the store already holds (dedup.StoredValues). Above it, those
# are told apart when resolving only: the same result, with their values staged and dropped.
STORED_VALUES_MAX_ROWS = 16_000_000
# ... and only for a file that may hold a quarter as many rows as the store, counting this many
# bytes a row (fewer than any register takes): loading costs about 0.25 us a stored row, a row
# not staged saves about 1.5 us, so a monthly file into a large store is better off without.
STORED_VALUES_MIN_SHARE = 4
BYTES_PER_ROW_AT_LEAST = 80
REDACTED = "[redacted]"
# Canonical columns whose values identify a person: never written in clear, not even as rejects.
IDENTIFYING_COLUMNS = ("child_id", "name")

# Test hooks: pause at a named phase ("batch", "staged", "placed", "committed") after creating
# the marker file, so a test can kill -9 there or start a competing import.
TEST_PAUSE_ENV = "KBTOOL_TEST_PAUSE_AT"
TEST_MARKER_ENV = "KBTOOL_TEST_PAUSE_MARKER"
TEST_SECONDS_ENV = "KBTOOL_TEST_PAUSE_SECONDS"
# ... or until this file exists (a test releases the pause when it has seen what it waits for)
TEST_RELEASE_ENV = "KBTOOL_TEST_PAUSE_RELEASE"

_INDEX_SCHEMA = pa.schema(
    [
        ("key", pa.int64()),
        ("visit", pa.int64()),
        ("vhash", pa.int64()),
        ("seq", pa.int64()),
        ("file_no", pa.int32()),
        ("row_no", pa.int32()),
        ("src", pa.int32()),
    ]
)


@dataclass
class SourceSummary:
    """What happened to one input file."""

    file: str
    sha256: str
    status: str  # "imported", "already imported", "repeated in this import"
    rows_read: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    rows_without_key: int = 0
    corrections: int = 0
    reject_records: int = 0
    size_bytes: int | None = None
    already_imported_by: str | None = None

    def counts(self) -> dict[str, int]:
        """The counts the catalogue records for this source."""
        return {name: int(getattr(self, name)) for name in catalogue.COUNT_FIELDS}


@dataclass
class ImportSummary:
    """An import's result: rows_read = rows_stored + rows_duplicate + rows_rejected.

    `rows_stored` counts rows written (live, or superseded by a later row of the same import);
    `corrections` counts earlier values a row replaced; `rows_without_key` rows that had neither
    a valid NIK nor a name with a birth date. `import_id` is None when nothing new was imported.
    """

    store: str
    import_id: str | None
    sources: list[SourceSummary]
    rejects_file: str | None = None
    unknown_kelurahan: list[str] = field(default_factory=list)
    unknown_kecamatan: list[str] = field(default_factory=list)
    nik_unusable: int = 0
    warnings: list[str] = field(default_factory=list)
    leftovers_removed: int = 0
    seconds: float = 0.0

    def _total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.sources)

    @property
    def rows_read(self) -> int:
        """All data rows read from the new files."""
        return self._total("rows_read")

    @property
    def rows_stored(self) -> int:
        """Rows written to the store."""
        return self._total("rows_stored")

    @property
    def rows_duplicate(self) -> int:
        """Rows skipped because the same measurement was already stored or repeated."""
        return self._total("rows_duplicate")

    @property
    def rows_rejected(self) -> int:
        """Rows the reader rejected (see the rejects file)."""
        return self._total("rows_rejected")

    @property
    def rows_without_key(self) -> int:
        """Rows stored under a key of their own (no valid NIK, no name with birth date)."""
        return self._total("rows_without_key")

    @property
    def corrections(self) -> int:
        """Earlier values replaced by a changed value for the same child and visit date."""
        return self._total("corrections")

    @property
    def landed(self) -> bool:
        """True when the import committed (even if every row was a duplicate or rejected)."""
        return self.import_id is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (for --json-summary): totals, then per-file detail."""
        totals = {name: getattr(self, name) for name in catalogue.COUNT_FIELDS}
        return {
            "store": self.store,
            "import_id": self.import_id,
            **totals,
            "nik_unusable": self.nik_unusable,
            "warnings": list(self.warnings),
            "rejects_file": self.rejects_file,
            "unknown_kelurahan": list(self.unknown_kelurahan),
            "unknown_kecamatan": list(self.unknown_kecamatan),
            "leftovers_removed": self.leftovers_removed,
            "seconds": round(self.seconds, 3),
            "sources": [asdict(s) for s in self.sources],
        }


@dataclass(frozen=True)
class ImportProgress:
    """Reported after each batch and at each phase; the CLI draws a progress bar from it."""

    phase: str  # "reading", "resolving", "committing", "done"
    source: str | None
    rows_read: int


ProgressCallback = Callable[[ImportProgress], None]


@dataclass
class SourceInput:
    """One input to import: a display name, its SHA-256 and its batches (read lazily)."""

    name: str
    sha256: str
    batches: Iterable[ReadBatch]
    size_bytes: int | None = None


SourceProvider = Callable[[Path], Iterable[SourceInput]]


def new_import_id() -> str:
    """Sortable and unique: UTC time to the second plus 32 random bits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pause(phase: str) -> None:
    """Test hook: stop at `phase` (KBTOOL_TEST_PAUSE_AT) after touching the marker file."""
    if os.environ.get(TEST_PAUSE_ENV) != phase:
        return
    marker = os.environ.get(TEST_MARKER_ENV)
    if marker:
        Path(marker).touch()
    until = time.monotonic() + float(os.environ.get(TEST_SECONDS_ENV, "600"))
    release = os.environ.get(TEST_RELEASE_ENV)
    while time.monotonic() < until and not (release and Path(release).exists()):
        time.sleep(0.05)


# Characters a directory name cannot hold on some system, or that hive readers would misread.
_UNSAFE_IN_PARTITION = set('/\\%=?*:"<>|')


def _partition_value(text: str) -> str:
    """Percent-encode only what must be (pyarrow, DuckDB and Spark decode it); keep spaces."""
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode())
        if ch in _UNSAFE_IN_PARTITION or ord(ch) < 32
        else ch
        for ch in text
    )


def partition_dir(year: int | None, kecamatan: str | None) -> str:
    """Hive directory of a partition, e.g. year=2024/kecamatan=Metro Pusat."""
    year_part = HIVE_NULL if year is None else str(year)
    kec_part = HIVE_NULL if kecamatan is None else _partition_value(kecamatan)
    return f"year={year_part}/kecamatan={kec_part}"


# ---------------------------------------------------------------------------------------------
# staging


@dataclass
class _StagedFile:
    file_no: int
    area: str
    year: int | None
    kecamatan: str | None
    path: Path
    rows: int = 0


class _Worker:
    """One background thread running submitted calls in order (Parquet encoding releases the GIL,
    so writing overlaps with computing the next batch). The queue is short so memory stays
    bounded; an error is raised again by the next submit or by drain."""

    def __init__(self, depth: int = 2) -> None:
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kbtool-store-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                if task is None:
                    return
                if self._error is None:
                    task()
            except BaseException as err:  # handed to the importing thread
                self._error = err
            finally:
                self._tasks.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, task: Callable[[], None]) -> None:
        """Queue a call (blocks while the queue is full)."""
        self._raise()
        self._tasks.put(task)

    def drain(self) -> None:
        """Wait until every queued call has run; raise the first error."""
        self._tasks.join()
        self._raise()

    def stop(self) -> None:
        """Finish queued calls and end the thread (idempotent)."""
        if self._thread.is_alive():
            self._tasks.put(None)
            self._thread.join()


class _Syncer:
    """Writes staged files through to disk in the background while the import goes on.

    The commit fsyncs every file it adds, and its durability rests on that alone. Without this
    thread those fsyncs would write a whole import's files at the end (1.5 s of a 10-million-row
    import, measured): the kernel keeps them in memory until then. With it, the data is written
    while the next batches are computed, and the commit's fsyncs find little left to do. Linux
    reports a failed write-back to the first fsync only, so the first error is kept for the
    commit (`stop`).
    """

    def __init__(self) -> None:
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="kbtool-store-sync", daemon=True)
        self._thread.start()

    def request(self, paths: Iterable[Path]) -> None:
        """Have these files written to disk soon."""
        with self._lock:
            if not self._stopping:
                self._pending.update(paths)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                paths, self._pending = self._pending, set()
                self._wake.clear()
                stopping = self._stopping
            if stopping:
                return
            for path in sorted(paths):
                try:
                    fsync_file(path)
                except FileNotFoundError:
                    pass  # a staged file already replaced: nothing of it will be committed
                except OSError as err:
                    self._error = self._error or err

    def stop(self) -> OSError | None:
        """Drop what is still pending, wait for the file being written, end the thread; the
        first error an fsync met, if any."""
        with self._lock:
            self._stopping = True
            self._pending.clear()
        self._wake.set()
        self._thread.join()
        return self._error


class _IndexWriter:
    """Index rows of one visit year as one raw file of native values per column.

    The index lives only in staging (it is not part of the store), so it is written without
    Parquet's encoding: ~0.15 CPU-s per million rows less to write and read back.
    """

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        # closed by close(), which the staging calls for every index writer it opened
        self._files = {
            name: open(_index_path(prefix, name), "wb")  # noqa: SIM115
            for name in _INDEX_SCHEMA.names
        }

    def write(self, table: pa.Table) -> None:
        """Append the rows of a table with _INDEX_SCHEMA's columns (no nulls)."""
        for name, handle in self._files.items():
            for chunk in table.column(name).chunks:
                handle.write(np.ascontiguousarray(chunk.to_numpy()).data)

    def close(self) -> None:
        """Close the column files (they stay)."""
        for handle in self._files.values():
            handle.close()


def _index_path(prefix: Path, column: str) -> Path:
    return prefix.with_name(f"{prefix.name}.{column}")


def _read_index(prefixes: Sequence[Path]) -> dict[str, npt.NDArray[Any]]:
    """The index columns written by _IndexWriter under these prefixes, concatenated."""
    return {
        field.name: np.concatenate(
            [
                np.fromfile(_index_path(prefix, field.name), dtype=field.type.to_pandas_dtype())
                for prefix in prefixes
            ]
        )
        for field in _INDEX_SCHEMA
    }


class _Staging:
    """Parquet writers of the running import, one per partition, capped in number.

    Writes run on a background thread; `close` waits for them. With `grouped`, the writes of
    one batch (a slice per partition touched, and its index rows) wait for `flush` and go to the
    thread as one task: the importing thread hands over a batch at a time instead of waiting
    for a queue slot once per partition.
    """

    def __init__(self, root: Path, *, grouped: bool = False, syncer: _Syncer | None = None) -> None:
        self.root = root
        self.files: list[_StagedFile] = []
        self._syncer = syncer
        self._written: set[Path] = set()  # files appended to since the last flush
        self._open: OrderedDict[
            tuple[str, int | None, str | None], tuple[pq.ParquetWriter, _StagedFile]
        ] = OrderedDict()
        self._index_open: OrderedDict[int | None, _IndexWriter] = OrderedDict()
        self.index_files: dict[int | None, list[Path]] = {}
        self._worker = _Worker()
        self._grouped = grouped
        self._pending: list[Callable[[], None]] = []

    def _submit(self, task: Callable[[], None]) -> None:
        if self._grouped:
            self._pending.append(task)
        else:
            self._worker.submit(task)

    def flush(self) -> None:
        """Hand the writes collected since the last flush to the writer thread, as one task."""
        tasks, self._pending = self._pending, []
        written, self._written = self._written, set()
        if not tasks:
            return
        syncer = self._syncer

        def run_all() -> None:
            for task in tasks:
                task()
            if syncer is not None:
                syncer.request(written)

        # wait for the previous batch's writes first: one batch being written while the next
        # is built overlaps as well as a queue would, and holds one staged batch less in memory
        self._worker.drain()
        self._worker.submit(run_all)

    def new_file(self, area: str, year: int | None, kecamatan: str | None) -> _StagedFile:
        """A fresh staged file path (not opened)."""
        staged = _StagedFile(
            len(self.files), area, year, kecamatan, self.root / f"f{len(self.files):06d}.parquet"
        )
        self.files.append(staged)
        return staged

    def append(
        self, area: str, year: int | None, kecamatan: str | None, table: pa.Table
    ) -> tuple[int, int]:
        """Append rows to the partition's open file; returns (file_no, first row number)."""
        key = (area, year, kecamatan)
        entry = self._open.get(key)
        if entry is None:
            if len(self._open) >= MAX_OPEN_WRITERS:
                _, (old_writer, _) = self._open.popitem(last=False)
                self._submit(old_writer.close)
            staged = self.new_file(area, year, kecamatan)
            writer = pq.ParquetWriter(staged.path, table.schema, **PARQUET_OPTIONS)
            entry = (writer, staged)
            self._open[key] = entry
        else:
            self._open.move_to_end(key)
        writer, staged = entry
        first = staged.rows
        if self._grouped:
            self._written.add(staged.path)  # synced after the batch's writes (flush)
        self._submit(lambda: writer.write_table(table))
        staged.rows += table.num_rows
        return staged.file_no, first

    def append_index(self, year: int | None, table: pa.Table) -> None:
        """Append index rows of one visit year."""
        index = self._index_open.get(year)
        if index is None:
            if len(self._index_open) >= MAX_OPEN_WRITERS:
                _, old = self._index_open.popitem(last=False)
                self._submit(old.close)
            parts = self.index_files.setdefault(year, [])
            index = _IndexWriter(
                self.root / f"index-{'none' if year is None else year}-{len(parts)}"
            )
            parts.append(index.prefix)
            self._index_open[year] = index
        else:
            self._index_open.move_to_end(year)
        self._submit(lambda: index.write(table))

    def close(self) -> None:
        """Close every open writer (files stay) and wait for all writes."""
        self.flush()
        for writer, _ in self._open.values():
            self._worker.submit(writer.close)
        self._open.clear()
        for index_writer in self._index_open.values():
            self._worker.submit(index_writer.close)
        self._index_open.clear()
        self._worker.drain()
        if self._syncer is not None:  # the files' last rows and footers
            self._syncer.request(f.path for f in self.files)

    def stop(self) -> None:
        """End the writer thread (after close, or when abandoning the import)."""
        self._worker.stop()


def _redact_rejects(
    rejects: pd.DataFrame, column_map: dict[str, str], display_name: str
) -> pd.DataFrame:
    """Reject records safe to store: identifying values, whole lines and NIK-like runs blanked."""
    frame = pd.DataFrame(
        {
            c: (rejects[c] if c in rejects else pd.Series([None] * len(rejects)))
            for c in REJECT_COLUMNS
        }
    ).reset_index(drop=True)
    frame["file"] = display_name
    identifying = {c.casefold() for c in IDENTIFYING_COLUMNS}
    identifying |= {str(column_map[c]).casefold() for c in IDENTIFYING_COLUMNS if c in column_map}
    column = frame["column"].astype(object).where(frame["column"].notna(), "").astype(str)
    column = column.str.strip().str.casefold()
    # an identifying column, or no column at all: a broken line whose value is the whole line
    hide = (column.isin(identifying) | (column == "")).to_numpy()
    values = frame["value"].astype(object)
    reasons = frame["reason"].astype(object).where(frame["reason"].notna(), "").astype(str)
    if hide.any():
        # the reason may quote the value it rejects: remove it there too
        hidden_values = values[hide].astype(str).tolist()
        hidden_reasons = reasons[hide].tolist()
        scrubbed = pd.Series(
            [
                r.replace(v, REDACTED) if v else r
                for r, v in zip(hidden_reasons, hidden_values, strict=True)
            ],
            index=reasons.index[hide],
            dtype=object,
        )
        reasons = reasons.where(~hide, scrubbed)
        values = values.where(~hide, REDACTED)
    # a 16-digit run anywhere is a NIK until proven otherwise
    nik_like = r"\d[\d\s.\-]{14,}\d"
    frame["value"] = (
        values.astype(str).where(values.notna(), "").str.replace(nik_like, REDACTED, regex=True)
    )
    frame["reason"] = reasons.str.replace(nik_like, REDACTED, regex=True)
    return frame


# ---------------------------------------------------------------------------------------------
# the import


@dataclass(frozen=True)
class _Split:
    """A Parquet file of the year being resolved (`source_rows` rows) and what becomes of its
    rows: kept whole (`keep` None), or the rows `keep` (sorted row numbers; `rows` of them)
    written to `target` (None when there are none) and the rows `moved` read out for
    superseded/."""

    source: Path
    source_rows: int
    year: int | None
    kecamatan: str | None
    rows: int
    keep: npt.NDArray[np.int64] | None = None
    target: Path | None = None
    moved: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def run(self) -> pa.Table | None:
        """Write the kept rows to `target`; the moved rows, or None when there are none."""
        table = pq.read_table(self.source, schema=MEASUREMENT_SCHEMA)
        if table.num_rows != self.source_rows:
            raise StoreError(
                f"{self.source} holds {table.num_rows} rows where {self.source_rows} were "
                "expected: the store is damaged; restore it from a backup"
            )
        if self.target is not None and self.keep is not None:
            pq.write_table(table.take(pa.array(self.keep)), self.target, **PARQUET_OPTIONS)
        return table.take(pa.array(self.moved)) if len(self.moved) else None


@dataclass
class _Plan:
    """Files to add at commit (staged path -> entry) and catalogue paths to drop."""

    added: list[tuple[Path, catalogue.FileEntry]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class _Import:
    def __init__(
        self,
        store: Store,
        connection: Any,
        import_id: str,
        aliases: AliasTable,
        hasher: KeyHasher,
        progress: ProgressCallback | None,
    ) -> None:
        self.store = store
        self.connection = connection
        self.import_id = import_id
        self.aliases = aliases
        self.hasher = hasher
        self.progress = progress
        self.root = store.staging_dir / import_id
        self.root.mkdir(parents=True)
        self.syncer = _Syncer()
        self.staging = _Staging(self.root, grouped=True, syncer=self.syncer)
        self.sources: list[SourceSummary] = []
        self.seq = 0
        self.unknown_kelurahan: set[str] = set()
        self.unknown_kecamatan: set[str] = set()
        self.nik_unusable = 0
        self.warnings: list[str] = []
        self.key_cache: dict[bytes, bytes] = {}
        self._stored_values: dedup.StoredValues | None = None
        self._stored_values_loaded = False
        self.rejects_path = self.root / "rejects.csv"
        self.reject_records = 0
        self.final_seq = 0
        self._year_files: list[catalogue.FileEntry] = []  # live files of the year being resolved
        # the compiled kernels load (~1 s) while the first rows are read; joined before use.
        # Started with the first file to stage: a re-import of known files never loads them.
        self._kernels = threading.Thread(
            target=load_kernels, name="kbtool-load-kernels", daemon=True
        )

    def run(
        self, sources: Iterable[SourceInput] | SourceProvider, started_at: str
    ) -> tuple[str | None, str | None]:
        """Stage every new source, then resolve and commit; (import_id, rejects file) or Nones."""
        inputs = sources(self.root) if callable(sources) else sources
        seen: set[str] = set()
        for source in inputs:
            summary = SourceSummary(
                file=Path(source.name).name or source.name,
                sha256=source.sha256,
                status="imported",
                size_bytes=source.size_bytes,
            )
            self.sources.append(summary)
            known = catalogue.known_sha256(self.connection, source.sha256)
            if known is not None or source.sha256 in seen:
                summary.status = "already imported" if known else "repeated in this import"
                summary.already_imported_by = known[0] if known else self.import_id
                _close(source.batches)
                continue
            seen.add(source.sha256)
            self.stage_source(source, len(self.sources) - 1, summary)
        _pause("staged")
        if not any(s.status == "imported" for s in self.sources):
            return None, None
        plan = self.resolve()
        return self.import_id, self.commit(plan, started_at)

    # -- step 1 ------------------------------------------------------------------------------

    def stage_source(self, source: SourceInput, src: int, summary: SourceSummary) -> None:
        if self._kernels.ident is None:
            self._kernels.start()
        if not self._stored_values_loaded:
            # before the reader starts: sorting them takes 40 bytes a stored row for a moment
            rows_at_most = (source.size_bytes or 0) // BYTES_PER_ROW_AT_LEAST
            try:
                self._stored_values = self._load_stored_values(rows_at_most)
            except BaseException:
                _close(source.batches)
                raise
            self._stored_values_loaded = True
        batches = ahead(source.batches, lockstep=True)
        try:
            for batch in batches:
                self.stage_batch(batch, source, src, summary)
                # let go of the rows now, not when the next batch arrives: the reader thread
                # holds that one already, and the writer thread the last staged ones
                del batch
                if self.progress:
                    self.progress(ImportProgress("reading", summary.file, summary.rows_read))
                _pause("batch")
        finally:
            batches.close()

    def _load_stored_values(self, incoming_at_most: int) -> dedup.StoredValues | None:
        """The store's live rows as dedup.StoredValues; None when there are none, more than
        STORED_VALUES_MAX_ROWS, or more than STORED_VALUES_MIN_SHARE times `incoming_at_most`
        (the rows the first file may hold). Also None when a file cannot be read as the
        catalogue describes it: resolving reads only the years the import touches, and says
        so there if they are damaged."""
        files = catalogue.live_files(self.connection, "measurements")
        total = sum(entry.rows for entry in files)
        worth_it = min(STORED_VALUES_MAX_ROWS, STORED_VALUES_MIN_SHARE * incoming_at_most)
        if not files or total > worth_it:
            return None
        ident = np.empty(total, dtype=np.uint64)
        vhash = np.empty(total, dtype=np.int64)
        at = 0
        try:
            for entry in files:
                # memory-mapped: read into Arrow's pool, the files left ~200 MB behind at 10M rows
                table = pq.read_table(
                    self.store.root / entry.path,
                    columns=["child_key", "visit_date", "value_hash"],
                    memory_map=True,
                )
                end = at + table.num_rows
                if end > total:
                    return None
                key = table.column("child_key").to_numpy()
                ident[at:end] = dedup.packed_identity(key, _stored_days(table.column("visit_date")))
                vhash[at:end] = table.column("value_hash").to_numpy()
                at = end
        except (OSError, pa.ArrowException):
            return None
        if at != total:
            return None
        values = dedup.StoredValues.of(ident, vhash)
        del ident, vhash
        pa.default_memory_pool().release_unused()  # what reading the files took, for staging
        return values

    def stage_batch(
        self, batch: ReadBatch, source: SourceInput, src: int, summary: SourceSummary
    ) -> None:
        rows = batch.rows
        n = len(rows)
        summary.rows_read += int(batch.rows_read)
        summary.rows_rejected += int(batch.rows_read) - n
        for warning in getattr(batch, "warnings", []):
            note = f"{summary.file}: {warning}"
            if note not in self.warnings:
                self.warnings.append(note)
        if len(batch.rejects):
            redacted = _redact_rejects(batch.rejects, dict(batch.column_map), summary.file)
            redacted.to_csv(
                self.rejects_path, mode="a", header=not self.rejects_path.exists(), index=False
            )
            summary.reject_records += len(redacted)
            self.reject_records += len(redacted)
        if n == 0:
            return
        rows = rows.reset_index(drop=True)
        places = normalise_places(
            _column(rows, "kelurahan"), _column(rows, "kecamatan"), self.aliases
        )
        self.unknown_kelurahan |= places.unknown_kelurahan
        self.unknown_kecamatan |= places.unknown_kecamatan
        keys = child_keys(
            rows,
            places.kelurahan,
            self.hasher,
            source_sha256=source.sha256,
            key_cache=self.key_cache,
        )
        if len(self.key_cache) > KEY_CACHE_ENTRIES:
            self.key_cache.clear()  # start afresh rather than grow: hashing again is cheap
        summary.rows_without_key += keys.without_key
        self.nik_unusable += keys.nik_present_unused
        self._kernels.join()
        staged = build_batch(
            rows,
            keys,
            places.kelurahan,
            places.kecamatan,
            import_id=self.import_id,
            source_file=summary.file,
            source_sha256=source.sha256,
            partition_order=True,
        )
        held = None
        if self._stored_values is not None:
            held = self._stored_values.holds(
                staged.table.column("child_key").to_numpy(), staged.visit_days, staged.value_hash
            )
        self._write_partitions(staged, src, held)
        self.staging.flush()

    def _write_partitions(
        self, staged: StagedBatch, src: int, held: npt.NDArray[np.bool_] | None = None
    ) -> None:
        """Append the batch (grouped by partition by build_batch) and its index rows.

        Rows `held` (the store holds them as they are) get index rows only, with file and row
        number -1: they are duplicates, whatever the rest of the import holds (dedup.StoredValues).
        """
        n = staged.table.num_rows
        kec = staged.kecamatan.astype("category")
        kec_codes = kec.cat.codes.to_numpy(dtype=np.int64) + 1  # 0: missing
        kec_names = [None, *map(str, kec.cat.categories)]
        group = (staged.year.astype(np.int64) + 1) * (len(kec_names) + 1) + kec_codes
        bounds = np.flatnonzero(group[1:] != group[:-1]) + 1
        starts = np.concatenate([[0], bounds]).tolist()
        ends = np.concatenate([bounds, [n]]).tolist()
        file_no = np.empty(n, dtype=np.int32)
        row_no = np.empty(n, dtype=np.int32)
        for start, end in zip(starts, ends, strict=True):
            year_value = int(staged.year[start])
            year = None if year_value < 0 else year_value
            kecamatan = kec_names[int(kec_codes[start])]
            part = staged.table.slice(start, end - start)
            staged_rows = None if held is None else ~held[start:end]
            if staged_rows is not None and not staged_rows.all():
                file_no[start:end] = row_no[start:end] = -1
                if not staged_rows.any():
                    continue
                part = part.filter(pa.array(staged_rows))
                number, first_row = self.staging.append("measurements", year, kecamatan, part)
                file_no[start:end][staged_rows] = number
                row_no[start:end][staged_rows] = np.arange(
                    first_row, first_row + part.num_rows, dtype=np.int32
                )
                continue
            number, first_row = self.staging.append("measurements", year, kecamatan, part)
            file_no[start:end] = number
            row_no[start:end] = np.arange(first_row, first_row + end - start, dtype=np.int32)
        # seq is the reading order, whatever order the rows were grouped in
        position = np.arange(n, dtype=np.int64) if staged.order is None else staged.order
        seq = self.seq + position.astype(np.int64)
        self.seq += n
        index = pa.table(
            {
                "key": staged.table.column("child_key"),
                "visit": staged.visit_days,
                "vhash": staged.value_hash,
                "seq": seq,
                "file_no": file_no,
                "row_no": row_no,
                "src": np.full(n, src, dtype=np.int32),
            },
            schema=_INDEX_SCHEMA,
        )
        years = staged.year
        year_bounds = np.flatnonzero(years[1:] != years[:-1]) + 1
        if staged.order is None and len(np.unique(years)) != len(year_bounds) + 1:
            # rows not grouped by year: one filtered copy per year
            for year_value in np.unique(years).tolist():
                part = index.filter(pa.array(years == year_value))
                self.staging.append_index(None if year_value < 0 else int(year_value), part)
            return
        for start, end in zip(
            np.concatenate([[0], year_bounds]).tolist(),
            np.concatenate([year_bounds, [n]]).tolist(),
            strict=True,
        ):
            year_value = int(years[start])
            self.staging.append_index(
                None if year_value < 0 else year_value, index.slice(start, end - start)
            )

    # -- step 2 ------------------------------------------------------------------------------

    def resolve(self) -> _Plan:
        self._stored_values = None  # resolving loads what it needs year by year
        self.staging.close()
        self.staging.stop()
        plan = _Plan()
        superseded = _Staging(self.root / "superseded", syncer=self.syncer)
        superseded.root.mkdir()
        touched: set[tuple[int | None, str | None]] = set()
        try:
            for year in sorted(self.staging.index_files, key=lambda y: -1 if y is None else y):
                if self.progress:
                    self.progress(
                        ImportProgress("resolving", None, sum(s.rows_read for s in self.sources))
                    )
                touched |= self._resolve_year(year, plan, superseded)
            superseded.close()
        finally:
            superseded.stop()
        for staged in superseded.files:
            self._add(plan, staged.path, "superseded", staged.year, staged.kecamatan, staged.rows)
        self._compact(plan, touched)
        return plan

    def _final_path(self, area: str, year: int | None, kecamatan: str | None) -> str:
        self.final_seq += 1
        name = f"part-{self.import_id}-{self.final_seq:05d}.parquet"
        return f"{area}/{partition_dir(year, kecamatan)}/{name}"

    def _add(
        self,
        plan: _Plan,
        staged: Path,
        area: str,
        year: int | None,
        kecamatan: str | None,
        rows: int,
    ) -> None:
        if rows == 0:
            return
        entry = catalogue.FileEntry(
            path=self._final_path(area, year, kecamatan),
            area=area,
            year=year,
            kecamatan=kecamatan,
            import_id=self.import_id,
            rows=rows,
            bytes=staged.stat().st_size,
        )
        plan.added.append((staged, entry))

    def _resolve_year(
        self, year: int | None, plan: _Plan, superseded: _Staging
    ) -> set[tuple[int | None, str | None]]:
        # in staging order: dedup puts only rows of a repeated child and visit date in reading
        # order (seq), usually a handful, instead of sorting the year's index
        column = _read_index(self.staging.index_files[year])
        incoming = dedup.Incoming(
            key=column["key"],
            visit=column["visit"],
            vhash=column["vhash"],
            src=column["src"],
        )
        stored, stored_file, stored_row = self._stored_index(year, incoming.key)
        decided = dedup.resolve(incoming, stored, seq=column["seq"])
        if np.any((column["file_no"] < 0) & (decided.status != dedup.DUPLICATE)):
            # held rows are duplicates by dedup's rules: this is a bug, not bad input
            raise StoreError(
                "internal error: a row left out of staging as held by the store is not a "
                "duplicate of it; nothing was imported (please report this)"
            )
        live = decided.status == dedup.LIVE
        super_in_import = decided.status == dedup.SUPERSEDED
        replaces_stored = decided.replaces >= 0

        n_sources = len(self.sources)
        src = incoming.src
        dup_counts = np.bincount(src[decided.status == dedup.DUPLICATE], minlength=n_sources)
        stored_counts = np.bincount(src[live | super_in_import], minlength=n_sources)
        # corrections are credited to the source whose row won
        correction_counts = np.bincount(src[replaces_stored], minlength=n_sources)
        correction_counts += np.bincount(decided.credit_src[super_in_import], minlength=n_sources)
        for s, summary in enumerate(self.sources):
            summary.rows_duplicate += int(dup_counts[s])
            summary.rows_stored += int(stored_counts[s])
            summary.corrections += int(correction_counts[s])

        # staged files: keep as they are, or rewrite without the rows that do not go live
        touched: set[tuple[int | None, str | None]] = set()
        file_no = column["file_no"]
        row_no = column["row_no"]
        files = len(self.staging.files)
        live_count = np.bincount(file_no[live], minlength=files)
        super_count = np.bincount(file_no[super_in_import], minlength=files)
        year_files = [f for f in self.staging.files if f.year == year and f.area == "measurements"]
        live_by_file: dict[int, npt.NDArray[np.int64]] | None = None
        super_by_file: dict[int, npt.NDArray[np.int64]] = {}
        splits: list[_Split] = []
        for staged in year_files:
            touched.add((staged.year, staged.kecamatan))
            if live_count[staged.file_no] == staged.rows:
                splits.append(
                    _Split(staged.path, staged.rows, staged.year, staged.kecamatan, staged.rows)
                )
                continue
            if live_count[staged.file_no] == 0 and super_count[staged.file_no] == 0:
                continue
            if live_by_file is None:  # row numbers only once some file must be rewritten
                live_by_file = _rows_by_file(file_no[live], row_no[live])
                super_by_file = _rows_by_file(file_no[super_in_import], row_no[super_in_import])
            live_rows = live_by_file.get(staged.file_no, np.empty(0, dtype=np.int64))
            super_rows = super_by_file.get(staged.file_no, np.empty(0, dtype=np.int64))
            splits.append(
                _Split(
                    staged.path,
                    staged.rows,
                    staged.year,
                    staged.kecamatan,
                    len(live_rows),
                    keep=np.sort(live_rows),
                    target=self._rewritten(staged.year, staged.kecamatan, len(live_rows)),
                    moved=np.sort(super_rows),
                )
            )

        # stored files that lose rows to corrections: rewrite them, move the rows to superseded/
        s_file = stored_file[decided.replaces[replaces_stored]]
        s_row = stored_row[decided.replaces[replaces_stored]]
        removed_by_file = _rows_by_file(s_file, s_row)
        live_files = self._year_files
        for position, rows_out in removed_by_file.items():
            entry = live_files[position]
            if rows_out.max() >= entry.rows:
                raise StoreError(
                    f"{entry.path} holds more rows than its catalogue entry ({entry.rows}): the "
                    "store is damaged; restore it from a backup"
                )
            keep = np.ones(entry.rows, dtype=bool)
            keep[rows_out] = False
            plan.removed.append(entry.path)
            touched.add((entry.year, entry.kecamatan))
            kept = np.flatnonzero(keep)
            splits.append(
                _Split(
                    self.store.root / entry.path,
                    entry.rows,
                    entry.year,
                    entry.kecamatan,
                    len(kept),
                    keep=kept,
                    target=self._rewritten(entry.year, entry.kecamatan, len(kept)),
                    moved=np.sort(rows_out),
                )
            )

        # the rewrites run on every core (Parquet encoding releases the GIL); what they add to
        # the plan and to superseded/ is recorded here, in the order above
        with ThreadPoolExecutor(cores(), thread_name_prefix="kbtool-rewrite") as pool:
            results = [None if split.keep is None else pool.submit(split.run) for split in splits]
            try:
                for split, result in zip(splits, results, strict=True):
                    moved = None if result is None else result.result()
                    written = split.source if split.keep is None else split.target
                    if written is not None:
                        self._add(
                            plan, written, "measurements", split.year, split.kecamatan, split.rows
                        )
                    if split.target is not None:
                        self.syncer.request([split.target])
                    if moved is not None:
                        superseded.append(
                            "superseded",
                            split.year,
                            split.kecamatan,
                            _as_superseded(moved, self.import_id),
                        )
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the import fails: start no more rewrites
                raise
        return touched

    def _rewritten(self, year: int | None, kecamatan: str | None, rows: int) -> Path | None:
        """A new staged file for the rows a rewrite keeps; None when it keeps none."""
        return self.staging.new_file("measurements", year, kecamatan).path if rows else None

    def _stored_index(
        self, year: int | None, incoming_children: npt.NDArray[np.int64]
    ) -> tuple[dedup.Stored, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Key columns of the year's live rows whose child occurs in the import.

        Returns them with each row's file (position in self._year_files) and row number.
        """
        self._year_files = catalogue.live_files(self.connection, "measurements", year)
        parts: list[dict[str, npt.NDArray[Any]]] = []
        # the distinct children only when there are stored rows to match them with
        wanted = pd.Index(np.unique(incoming_children)) if self._year_files else pd.Index([])
        for position, entry in enumerate(self._year_files):
            table = pq.read_table(
                self.store.root / entry.path, columns=["child_key", "visit_date", "value_hash"]
            )
            keys = table.column("child_key").to_numpy()
            rows = np.flatnonzero(wanted.get_indexer(pd.Index(keys)) >= 0)
            if not rows.size:
                continue
            visit_days = _stored_days(table.column("visit_date"))
            parts.append(
                {
                    "key": keys[rows],
                    "visit": visit_days[rows],
                    "vhash": table.column("value_hash").to_numpy()[rows],
                    "file": np.full(rows.size, position, dtype=np.int64),
                    "row": rows.astype(np.int64),
                }
            )

        def joined(name: str, dtype: type) -> npt.NDArray[Any]:
            return np.concatenate([p[name] for p in parts]) if parts else np.empty(0, dtype=dtype)

        stored = dedup.Stored(
            key=joined("key", np.int64),
            visit=joined("visit", np.int64),
            vhash=joined("vhash", np.int64),
        )
        return stored, joined("file", np.int64), joined("row", np.int64)

    def _compact(self, plan: _Plan, touched: set[tuple[int | None, str | None]]) -> None:
        """Rewrite a partition as one file once it has more than MAX_FILES_PER_PARTITION."""
        removed = set(plan.removed)
        for area in ("measurements", "superseded"):
            for year, kecamatan in sorted(touched, key=lambda p: (p[0] or -1, p[1] or "")):
                existing = [
                    e
                    for e in catalogue.live_files(self.connection, area, year)
                    if e.kecamatan == kecamatan and e.path not in removed
                ]
                new = [
                    (path, e)
                    for path, e in plan.added
                    if e.area == area and e.year == year and e.kecamatan == kecamatan
                ]
                if len(existing) + len(new) <= MAX_FILES_PER_PARTITION:
                    continue
                schema = MEASUREMENT_SCHEMA if area == "measurements" else SUPERSEDED_SCHEMA
                merged = self.staging.new_file(area, year, kecamatan)
                total = 0
                with pq.ParquetWriter(merged.path, schema, **PARQUET_OPTIONS) as writer:
                    sources = [self.store.root / e.path for e in existing] + [p for p, _ in new]
                    for path in sources:
                        for batch in pq.ParquetFile(path).iter_batches(batch_size=1 << 20):
                            table = pa.Table.from_batches([batch]).cast(schema)
                            writer.write_table(table)
                            total += table.num_rows
                plan.removed.extend(e.path for e in existing)
                removed.update(e.path for e in existing)
                plan.added = [(p, e) for p, e in plan.added if (p, e) not in new]
                self._add(plan, merged.path, area, year, kecamatan, total)
                self.syncer.request([merged.path])

    # -- step 3 ------------------------------------------------------------------------------

    def commit(self, plan: _Plan, started_at: str) -> str | None:
        error = self.syncer.stop()
        try:
            if error is not None:
                raise error
            for staged, _ in plan.added:
                fsync_file(staged)
        except OSError as err:
            raise StoreError(f"cannot write the import's files to disk: {err}") from err
        rejects_file: str | None = None
        if self.rejects_path.exists():
            self.store.rejects_dir.mkdir(exist_ok=True)
            rejects_file = f"rejects/{self.import_id}.csv"
            fsync_file(self.rejects_path)
            os.replace(self.rejects_path, self.store.root / rejects_file)
            fsync_dir(self.store.rejects_dir)
        directories = set()
        for staged, entry in plan.added:
            target = self.store.root / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            directories.add(target.parent)
        for directory in directories:
            fsync_dir(directory)
        _pause("placed")
        if self.progress:
            self.progress(
                ImportProgress("committing", None, sum(s.rows_read for s in self.sources))
            )
        imported = [s for s in self.sources if s.status == "imported"]
        record = catalogue.ImportRecord(
            import_id=self.import_id,
            started_at=started_at,
            committed_at=_now(),
            kbtool_version=__version__,
            counts={
                name: sum(s.counts()[name] for s in imported) for name in catalogue.COUNT_FIELDS
            },
            rejects_file=rejects_file,
            sources=[(s.file, s.sha256, s.size_bytes, s.counts()) for s in imported],
        )
        catalogue.commit_import(self.connection, record, [e for _, e in plan.added], plan.removed)
        _pause("committed")
        for path in plan.removed:
            (self.store.root / path).unlink(missing_ok=True)
            _remove_empty_dirs(self.store, (self.store.root / path).parent)
        shutil.rmtree(self.root, ignore_errors=True)
        return rejects_file


def _stored_days(dates: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """A stored date column as day numbers, NAT_DAYS where missing (as the index holds them)."""
    days = dates.cast(pa.int32()).fill_null(-(2**31)).to_numpy().astype(np.int64)
    days[days == -(2**31)] = NAT_DAYS
    return days


def _rows_by_file(
    file_no: npt.NDArray[Any], row_no: npt.NDArray[Any]
) -> dict[int, npt.NDArray[np.int64]]:
    """Row numbers grouped by file number (vectorised: one sort, then slices)."""
    if len(file_no) == 0:
        return {}
    order = np.argsort(file_no, kind="stable")
    files = np.asarray(file_no)[order]
    rows = np.asarray(row_no, dtype=np.int64)[order]
    bounds = np.flatnonzero(np.diff(files)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(files)]])
    return {int(files[s]): rows[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)}


def _as_superseded(table: pa.Table, import_id: str) -> pa.Table:
    by = constant_column(import_id, table.num_rows)
    return table.append_column(SUPERSEDED_SCHEMA.field("superseded_by_import"), by)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _remove_empty_dirs(store: Store, directory: Path) -> None:
    """Remove empty partition directories up to (not including) the area directory."""
    stops = {store.measurements_dir, store.superseded_dir, store.root}
    while directory not in stops and directory.is_relative_to(store.root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def collect_garbage(store: Store, connection: Any) -> int:
    """Delete what an interrupted import left: staging, unlisted data and rejects files.

    Must run under the store lock. Returns the number of files removed.
    """
    removed = 0
    if store.staging_dir.exists():
        for child in store.staging_dir.iterdir():
            if child.is_dir():
                removed += sum(1 for p in child.rglob("*") if p.is_file())
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
                removed += 1
    listed = catalogue.all_paths(connection)
    for area, pattern in (
        (store.measurements_dir, "*.parquet"),
        (store.superseded_dir, "*.parquet"),
        (store.rejects_dir, "*.csv"),
    ):
        if not area.exists():
            continue
        for path in sorted(area.rglob(pattern)):
            relative = path.relative_to(store.root).as_posix()
            if relative not in listed:
                path.unlink(missing_ok=True)
                removed += 1
                _remove_empty_dirs(store, path.parent)
        for tmp in area.rglob("*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def collect_leftovers(
    store: str | Path | None = None,
    *,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
) -> int:
    """Remove what interrupted imports left in the store (every import does this first).

    Returns the number of files removed; 0 when there is no store.
    """
    opened = open_existing(resolve_store_dir(store))
    if opened is None:
        return 0
    with (
        store_lock(opened, timeout=lock_timeout, on_wait=on_wait),
        closing(catalogue.connect(opened.catalogue_file)) as connection,
    ):
        return collect_garbage(opened, connection)


def import_batches(
    sources: Iterable[SourceInput] | SourceProvider,
    store: str | Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    rejects_path: str | Path | None = None,
) -> ImportSummary:
    """Import sources (name, SHA-256 and ReadBatch iterator each) into the store, atomically.

    `sources` may also be a function of the import's staging directory returning them (used to
    spool stdin inside the store). A source whose SHA-256 the store already holds is not read.
    The import lands completely or not at all. `rejects_path` also receives the rejects CSV.
    """
    started = time.monotonic()
    started_at = _now()
    store_obj = create_or_open(resolve_store_dir(store))
    with (
        store_lock(store_obj, timeout=lock_timeout, on_wait=on_wait),
        closing(catalogue.connect(store_obj.catalogue_file)) as connection,
    ):
        leftovers = collect_garbage(store_obj, connection)
        aliases = load_aliases(store_obj.aliases_file)
        hasher = KeyHasher(load_secret(store_obj.secret_file))
        job = _Import(store_obj, connection, new_import_id(), aliases, hasher, progress)
        try:
            committed_id, rejects_file = job.run(sources, started_at)
        finally:
            job.staging.stop()
            job.syncer.stop()
            shutil.rmtree(job.root, ignore_errors=True)
    summary_out = ImportSummary(
        store=str(store_obj.root),
        import_id=committed_id,
        sources=job.sources,
        rejects_file=None if rejects_file is None else str(store_obj.root / rejects_file),
        unknown_kelurahan=sorted(job.unknown_kelurahan),
        unknown_kecamatan=sorted(job.unknown_kecamatan),
        nik_unusable=job.nik_unusable,
        warnings=job.warnings,
        leftovers_removed=leftovers,
        seconds=time.monotonic() - started,
    )
    if rejects_path is not None:
        _copy_rejects(summary_out.rejects_file, Path(rejects_path))
    if progress:
        progress(ImportProgress("done", None, summary_out.rows_read))
    return summary_out


def _close(batches: Iterable[ReadBatch]) -> None:
    close = getattr(batches, "close", None)
    if callable(close):
        close()


def _copy_rejects(stored: str | None, target: Path) -> None:
    """Write the import's rejects (or just the header) to the user's --rejects file, atomically."""
    if stored is not None:
        data = Path(stored).read_bytes()
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(REJECT_COLUMNS)
        data = buffer.getvalue().encode()
    try:
        write_atomic(target, data)
    except OSError as err:
        raise StoreError(f"cannot write the rejects file {target}: {err}") from err


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _spool_stdin(directory: Path) -> Path:
    """Copy stdin into the (private) staging directory so it can be hashed and read."""
    directory.mkdir(parents=True, exist_ok=True)
    stream = sys.stdin.buffer
    head = stream.read(4)
    suffix = ".xlsx" if head.startswith(b"PK\x03\x04") else ".csv"
    path = directory / f"stdin{suffix}"
    with open(path, "wb") as out:
        out.write(head)
        shutil.copyfileobj(stream, out, 1 << 20)
    return path


def import_registers(
    inputs: Sequence[str | Path],
    store: str | Path | None = None,
    *,
    read_options: ReadOptions | None = None,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    rejects_path: str | Path | None = None,
) -> ImportSummary:
    """`kbtool import INPUT...`: read each file (or "-" for stdin) and import them as one.

    Everything the shared reader accepts is accepted, with the same options. Raises InputError
    for a file that cannot be read at all (nothing is imported then) and StoreError for store
    problems.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    for item in inputs:
        if str(item) != "-" and not Path(item).is_file():
            raise InputError(f"{item}: no such file")

    def provide(staging: Path) -> Iterator[SourceInput]:
        for item in inputs:
            if str(item) == "-":
                path = _spool_stdin(staging / "stdin")
                name = "-"
            else:
                path = Path(item)
                name = str(item)
            batches = _lazy(path, read_options)
            yield SourceInput(
                name=name, sha256=file_sha256(path), batches=batches, size_bytes=path.stat().st_size
            )

    return import_batches(
        provide,
        store,
        progress=progress,
        on_wait=on_wait,
        lock_timeout=lock_timeout,
        rejects_path=rejects_path,
    )


def _lazy(path: Path, options: ReadOptions | None) -> Iterator[ReadBatch]:
    """The reader's batches, opened only when iterated: a file already imported is not read."""
    from kbtool import reading as reader

    options = options or reader.ReadOptions()
    options = replace(options, batch_rows=min(options.batch_rows, IMPORT_BATCH_ROWS))
    yield from reader.iter_read(path, options)


def open_store_for_reading(store: str | Path | None) -> Store | None:
    """The store at the resolved location, None when it was never created."""
    return open_existing(resolve_store_dir(store))
