"""Importing registers into the store, under its lock: stage every batch of every new file
(kbtool.store.stage), resolve duplicates and corrections one visit year at a time
(kbtool.store.resolve), commit (kbtool.store.commit). The rules are in docs/store-format.md.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kbtool import __version__
from kbtool.columns import REJECT_COLUMNS
from kbtool.concurrency import ahead
from kbtool.errors import InputError
from kbtool.places import load_aliases
from kbtool.privacy import KeyHasher, load_secret
from kbtool.reading import ReadBatch, ReadOptions, check_readable, iter_read
from kbtool.reading.sources import source_list
from kbtool.store import catalogue
from kbtool.store.commit import place, place_rejects, roll_forward
from kbtool.store.layout import Store, resolve_store_dir, store_lock
from kbtool.store.open import create_or_open, open_existing
from kbtool.store.resolve import Resolver
from kbtool.store.stage import Staging
from kbtool.writing import atomic_write, check_writable

# Rows per batch an import reads at most: a batch and what is built from it take about 0.8 KB a
# row at the peak, and reading, preparing and writing each hold one.
IMPORT_BATCH_ROWS = 250_000


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
    # of the duplicates: a measurement known under another child key (another layout)
    matched_across_keys: int = 0
    # of the duplicates: values a later import corrected, left as corrected (--allow-revert)
    reverts_skipped: int = 0
    size_bytes: int | None = None
    already_imported_by: str | None = None

    def counts(self) -> dict[str, int]:
        """The counts the catalogue records for this source."""
        return {name: int(getattr(self, name)) for name in catalogue.COUNT_FIELDS}


@dataclass
class ImportSummary:
    """An import's result: rows_read = rows_stored + rows_duplicate + rows_rejected (the counts
    as docs/store-format.md defines them); `import_id` None when nothing new was imported."""

    store: str
    import_id: str | None
    sources: list[SourceSummary]
    rejects_file: str | None = None
    unknown_kelurahan: list[str] = field(default_factory=list)
    unknown_kecamatan: list[str] = field(default_factory=list)
    nik_unusable: int = 0
    warnings: list[str] = field(default_factory=list)
    reverted_imports: dict[str, int] = field(default_factory=dict)
    leftovers_removed: int = 0
    seconds: float = 0.0

    def _total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.sources)

    rows_read = property(lambda self: self._total("rows_read"), doc="Rows read, new files.")
    rows_stored = property(lambda self: self._total("rows_stored"), doc="Rows written.")
    rows_duplicate = property(lambda self: self._total("rows_duplicate"), doc="Rows skipped.")
    rows_rejected = property(lambda self: self._total("rows_rejected"), doc="Rows rejected.")
    rows_without_key = property(lambda self: self._total("rows_without_key"))
    corrections = property(lambda self: self._total("corrections"), doc="Values replaced.")
    matched_across_keys = property(lambda self: self._total("matched_across_keys"))
    reverts_skipped = property(lambda self: self._total("reverts_skipped"))

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
            "matched_across_keys": self.matched_across_keys,
            "reverts_skipped": self.reverts_skipped,
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
# Called with "batch", "staged", "placed" and "committed" as an import reaches each point (tests
# kill the process there).
PhaseCallback = Callable[[str], None]


@dataclass
class SourceInput:
    """One input to import: a display name, its SHA-256 and its batches (read lazily)."""

    name: str
    sha256: str | Future[str]  # a Future while it is still being computed
    batches: Iterable[ReadBatch]
    size_bytes: int | None = None


SourceProvider = Callable[[Path], Iterable[SourceInput]]


def import_batches(
    sources: Iterable[SourceInput] | SourceProvider,
    store: str | Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    rejects_path: str | Path | None = None,
    allow_revert: bool = False,
    at_phase: PhaseCallback | None = None,
) -> ImportSummary:
    """Import sources into the store, completely or not at all; of a source whose SHA-256 the
    store holds nothing is used (its first batch may be read while the SHA-256 is computed).
    `sources` may be a function of the staging directory (to spool stdin there). Rows restoring
    a value a later import corrected are skipped unless `allow_revert`."""
    started, started_at = time.monotonic(), catalogue.now()
    opened = create_or_open(resolve_store_dir(store))
    with (
        store_lock(opened, timeout=lock_timeout, on_wait=on_wait),
        closing(catalogue.connect(opened.catalogue_file)) as connection,
    ):
        leftovers = roll_forward(opened, connection)
        job = _Import(opened, connection, progress, at_phase or (lambda phase: None))
        try:
            import_id, rejects = job.run(sources, started_at, allow_revert)
        finally:
            job.staging.close()
            shutil.rmtree(job.staging.root, ignore_errors=True)
    summary = ImportSummary(
        store=str(opened.root),
        import_id=import_id,
        sources=job.sources,
        rejects_file=None if rejects is None else str(opened.root / rejects),
        unknown_kelurahan=sorted(job.staging.unknown_kelurahan),
        unknown_kecamatan=sorted(job.staging.unknown_kecamatan),
        nik_unusable=job.nik_unusable,
        warnings=job.staging.warnings,
        reverted_imports=job.reverted_imports,
        leftovers_removed=leftovers,
        seconds=time.monotonic() - started,
    )
    if rejects_path is not None:
        _copy_rejects(summary.rejects_file, Path(rejects_path))
    if progress:
        progress(ImportProgress("done", None, summary.rows_read))
    return summary


class _Import:
    def __init__(
        self,
        store: Store,
        connection: sqlite3.Connection,
        progress: ProgressCallback | None,
        at_phase: PhaseCallback,
    ) -> None:
        self.store = store
        self.connection = connection
        self.import_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)
        root = store.staging_dir / self.import_id
        root.mkdir(parents=True)
        hasher = KeyHasher(load_secret(store.secret_file))
        self.staging = Staging(root, self.import_id, load_aliases(store.aliases_file), hasher)
        self.progress = progress
        self.at_phase = at_phase
        self.sources: list[SourceSummary] = []
        self.nik_unusable = 0
        self.reverted_imports: dict[str, int] = {}
        self.records_oedema: set[int] = set()  # sources with an oedema column, not all blank

    def run(
        self, sources: Iterable[SourceInput] | SourceProvider, started_at: str, allow_revert: bool
    ) -> tuple[str | None, str | None]:
        """Stage every new source, then resolve and commit; (import_id, rejects file) or Nones."""
        seen: set[str] = set()
        for source in sources(self.staging.root) if callable(sources) else sources:
            # the first batch is read while the file's SHA-256 is still being computed
            with closing(ahead(source.batches, lockstep=True, name="kbtool-read")) as batches:
                sha256 = source.sha256
                if not isinstance(sha256, str):
                    sha256 = sha256.result()
                summary = SourceSummary(
                    file=Path(source.name).name or source.name,
                    sha256=sha256,
                    status="imported",
                    size_bytes=source.size_bytes,
                )
                self.sources.append(summary)
                known = catalogue.known_sha256(self.connection, sha256)
                if known is not None or sha256 in seen:
                    summary.status = "already imported" if known else "repeated in this import"
                    summary.already_imported_by = known[0] if known else self.import_id
                    continue  # what was read of it is dropped
                seen.add(sha256)
                self._stage(batches, len(self.sources) - 1, summary)
        self.at_phase("staged")
        if not any(s.status == "imported" for s in self.sources):
            return None, None
        self._report("resolving")
        outcome = Resolver(
            self.store,
            self.connection,
            self.staging,
            len(self.sources),
            allow_revert=allow_revert,
            without_oedema=frozenset(range(len(self.sources))) - self.records_oedema,
        ).run()
        for position, summary in enumerate(self.sources):
            summary.rows_duplicate += int(outcome.duplicate[position])
            summary.rows_stored += int(outcome.stored[position])
            summary.corrections += int(outcome.corrections[position])
            summary.matched_across_keys += int(outcome.matched_across_keys[position])
            summary.reverts_skipped += int(outcome.reverts[position])
        self.reverted_imports = outcome.reverted_imports
        place(self.store, outcome.added)
        rejects = place_rejects(self.store, self.staging.rejects_path, self.import_id)
        self.at_phase("placed")
        self._report("committing")
        imported = [s for s in self.sources if s.status == "imported"]
        record = catalogue.ImportRecord(
            import_id=self.import_id,
            started_at=started_at,
            committed_at=catalogue.now(),
            kbtool_version=__version__,
            counts={f: sum(s.counts()[f] for s in imported) for f in catalogue.COUNT_FIELDS},
            rejects_file=rejects,
            sources=[(s.file, s.sha256, s.size_bytes, s.counts()) for s in imported],
            across_keys=outcome.across_keys,
            # held back as reverts: importable again, with --allow-revert
            reimport=[s.sha256 for s in imported if s.reverts_skipped],
        )
        catalogue.commit_import(
            self.connection, record, [e for _, e in outcome.added], outcome.removed
        )
        self.at_phase("committed")
        roll_forward(self.store, self.connection)
        return self.import_id, rejects

    def _stage(self, batches: Iterable[ReadBatch], src: int, summary: SourceSummary) -> None:
        """Prepare (on a thread) and write the source's batches, read on a thread of their own."""

        def prepared() -> Iterator[tuple[ReadBatch, Any, Any]]:
            for batch in batches:
                staged, keys = self.staging.prepare(batch, summary.file, summary.sha256)
                yield batch, staged, keys

        steps = ahead(prepared(), lockstep=True, name="kbtool-prepare")
        try:
            for batch, staged, keys in steps:
                summary.rows_read += int(batch.rows_read)
                summary.rows_rejected += int(batch.rows_read) - len(batch.rows)
                if batch.records_oedema:
                    self.records_oedema.add(src)
                if staged is not None:
                    summary.rows_without_key += keys.without_key
                    self.nik_unusable += keys.nik_present_unused
                    self.staging.write(staged, src)
                del batch, staged
                self._report("reading", summary)
                self.at_phase("batch")
        finally:
            steps.close()

    def _report(self, phase: str, summary: SourceSummary | None = None) -> None:
        if self.progress:
            rows = sum(s.rows_read for s in self.sources)
            self.progress(ImportProgress(phase, summary.file if summary else None, rows))


def collect_leftovers(
    store: str | Path | None = None,
    *,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
) -> int:
    """Finish or remove what interrupted imports left in the store (every import does this
    first). Returns the number of files removed; 0 when there is no store. It waits for a
    running import (`on_wait` is told why), at most `lock_timeout` seconds if given."""
    opened = open_existing(resolve_store_dir(store))
    if opened is None:
        return 0
    with (
        store_lock(opened, timeout=lock_timeout, on_wait=on_wait),
        closing(catalogue.connect(opened.catalogue_file)) as connection,
    ):
        return roll_forward(opened, connection)


def import_registers(
    inputs: str | Path | Sequence[str | Path],
    store: str | Path | None = None,
    *,
    read_options: ReadOptions | None = None,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    rejects_path: str | Path | None = None,
    allow_revert: bool = False,
) -> ImportSummary:
    """`kbtool import INPUT...`: read each file (or "-" for stdin) and import them as one.
    InputError for a file that cannot be read at all (nothing is imported), StoreError for the
    store's problems."""
    inputs = source_list(inputs)
    for item in inputs:
        if str(item) != "-" and Path(item).is_dir():
            raise InputError(f"{item}: is a directory; name the register files in it")
        if str(item) != "-" and not Path(item).is_file():
            raise InputError(f"{item}: file not found")
    if rejects_path is not None:  # refused now, not after the import landed
        check_writable(rejects_path)
    options = read_options or ReadOptions()
    for item in inputs:  # refused now, not after waiting for another import's lock
        if str(item) != "-":
            check_readable(item, options)
    options = replace(options, batch_rows=min(options.batch_rows, IMPORT_BATCH_ROWS))

    def provide(staging: Path) -> Iterator[SourceInput]:
        with ThreadPoolExecutor(1, thread_name_prefix="kbtool-sha256") as hashing:
            for item in inputs:
                path = _spool_stdin(staging / "stdin") if str(item) == "-" else Path(item)
                yield SourceInput(
                    name=str(item),
                    sha256=hashing.submit(source_identity, path, options.sheet),
                    batches=iter_read(path, options, name=str(item)),
                    size_bytes=path.stat().st_size,
                )

    return import_batches(
        provide,
        store,
        progress=progress,
        on_wait=on_wait,
        lock_timeout=lock_timeout,
        rejects_path=rejects_path,
        allow_revert=allow_revert,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def source_identity(path: Path, sheet: str | None) -> str:
    """What the store knows a source by: its SHA-256, then `#` and the sheet asked for by name,
    as each sheet of a workbook (one per month, say) is a register of its own."""
    return file_sha256(path) if sheet is None else f"{file_sha256(path)}#{sheet}"


def _spool_stdin(directory: Path) -> Path:
    """Copy stdin into the (private) staging directory so it can be hashed and read."""
    directory.mkdir(parents=True, exist_ok=True)
    stream = sys.stdin.buffer
    head = stream.read(4)
    path = directory / ("stdin.xlsx" if head.startswith(b"PK\x03\x04") else "stdin.csv")
    with open(path, "wb") as out:
        out.write(head)
        shutil.copyfileobj(stream, out, 1 << 20)
    return path


def _copy_rejects(stored: str | None, target: Path) -> None:
    """Write the import's rejects (or just the header) to the user's --rejects file, atomically."""
    data = Path(stored).read_bytes() if stored else (",".join(REJECT_COLUMNS) + "\n").encode()
    with atomic_write(target) as handle:  # an OSError becomes one line naming the file
        handle.write(data)
