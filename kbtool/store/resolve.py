"""Step 2 of an import: each visit year's staged index against the key columns of the year's
live files, decided by kbtool.store.dedup; staged and stored files rewritten without the rows
that do not go live, those moved to superseded/, crowded partitions compacted. Nothing here
touches the live store: step 3 (kbtool.store.commit) does.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kbtool.arrays import BoolArray, IndexArray, IntArray
from kbtool.concurrency import ahead, cores
from kbtool.privacy import KEY_KIND_NIK
from kbtool.store import catalogue, dedup
from kbtool.store.check import read_store_file
from kbtool.store.layout import Store
from kbtool.store.schema import (
    AREA_SCHEMAS,
    MEASUREMENT_SCHEMA,
    PARQUET_OPTIONS,
    SUPERSEDED_SCHEMA,
    constant_column,
    with_oedema,
)
from kbtool.store.stage import Staging, runs

# A partition with more live files than this is rewritten as one file by the import that adds to it.
MAX_FILES_PER_PARTITION = 16
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
# Characters a directory name cannot hold on some system, or that hive readers would misread.
_UNSAFE_IN_PARTITION = set('/\\%=?*:"<>|')


@dataclass
class Outcome:
    """Per source (by position): what became of its rows; the files to add at commit (staged
    path -> entry) and the catalogue paths to drop; and what the store looks like."""

    duplicate: IntArray
    stored: IntArray
    corrections: IntArray
    matched_across_keys: IntArray
    reverts: IntArray
    reverted_imports: dict[str, int] = field(default_factory=dict)  # import -> rows not reverted
    across_keys: dict[int | None, int] = field(default_factory=dict)  # per visit year, after
    added: list[tuple[Path, catalogue.FileEntry]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Split:
    """A Parquet file of the year being resolved and what becomes of its rows: kept whole
    (`keep` None), or the rows `keep` written to `target` (None when there are none) and the
    rows `moved` read out for superseded/."""

    source: Path
    year: int | None
    kecamatan: str | None
    rows: int
    keep: IntArray | None = None
    target: Path | None = None
    moved: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    entry: catalogue.FileEntry | None = None  # a stored file: named when it is damaged

    def run(self, store: Store) -> pa.Table | None:
        """Write the kept rows to `target`; the moved rows, or None when there are none."""
        if self.entry is not None:
            table = read_store_file(store, self.entry)
        else:
            table = pq.read_table(self.source, schema=MEASUREMENT_SCHEMA)
        if self.target is not None and self.keep is not None:
            pq.write_table(table.take(pa.array(self.keep)), self.target, **PARQUET_OPTIONS)
        return table.take(pa.array(self.moved)) if len(self.moved) else None


@dataclass(frozen=True)
class _Matched:
    """A year's staged index decided against the year's live rows, before reverts."""

    column: dict[str, npt.NDArray[Any]]
    incoming: dedup.Rows
    stored_file: IntArray
    stored_row: IntArray
    measured: dedup.Rows  # every live row of the year
    stored_at: IndexArray  # each stored row's position in `measured`
    decided: dedup.Resolution
    across: IndexArray  # new rows known under another key


class Resolver:
    """Resolves the staged rows of one import against the store, year by year."""

    def __init__(
        self,
        store: Store,
        connection: sqlite3.Connection,
        staging: Staging,
        sources: int,
        *,
        allow_revert: bool = False,
        without_oedema: frozenset[int] = frozenset(),
    ) -> None:
        self.store = store
        self.connection = connection
        self.staging = staging
        self.import_id = staging.import_id
        self.allow_revert = allow_revert
        self.without_oedema = without_oedema  # sources not recording oedema
        self.outcome = Outcome(*np.zeros((5, sources), dtype=np.int64))  # five counts per source
        self._final_seq = 0

    def run(self) -> Outcome:
        """Resolve every staged year, then compact the partitions touched."""
        self.staging.close()  # the staged files are read back whole
        pa.default_memory_pool().release_unused()  # what staging freed, before two years at once
        years = sorted(self.staging.index_years, key=lambda y: -1 if y is None else y)
        # read on the connection's own thread; the catalogue does not change until the commit
        files = {y: catalogue.live_files(self.connection, "measurements", y) for y in years}
        matched = (self._match(y, files[y]) for y in years)
        if not any(files.values()):
            # years new to the store: the next one is matched on a thread while this one is
            # counted (with stored rows read and rewritten, two years at once take too much memory)
            matched = ahead(matched, lockstep=True, name="kbtool-resolve")
        touched: set[tuple[int | None, str | None]] = set()
        try:
            for year, match in zip(years, matched, strict=True):
                touched |= self._resolve_year(year, files[year], match)
        finally:
            matched.close()
        self.staging.close()
        for staged in self.staging.files:
            if staged.area == "superseded":
                self._add(staged.path, "superseded", staged.year, staged.kecamatan, staged.rows)
        self._compact(touched)
        return self.outcome

    def _match(self, year: int | None, files: list[catalogue.FileEntry]) -> _Matched:
        """The year's index decided against its live files (no catalogue access: any thread)."""
        column = self.staging.read_index(year)
        incoming = dedup.Rows(
            column["key"], column["visit"], column["vhash"], column["kind"], column["src"]
        )
        measured, stored_at, stored_file, stored_row = self._stored_index(files, incoming.key)
        unrecorded = np.isin(column["src"], list(self.without_oedema))
        restated, restated_across = dedup.restated_without_oedema(
            incoming, unrecorded, measured, KEY_KIND_NIK
        )
        stored = measured.take(stored_at)
        decided = dedup.resolve(incoming, stored, seq=column["seq"], skip=restated)
        # a new measurement the store (or an earlier file) already holds under another key
        new = np.flatnonzero((decided.status == dedup.LIVE) & (decided.replaces < 0))
        found = dedup.matched_across_keys(
            incoming.take(new), measured, KEY_KIND_NIK, unrecorded[new]
        )
        across = new[found]
        across = np.sort(np.concatenate([across, np.flatnonzero(restated_across)]))
        return _Matched(
            column, incoming, stored_file, stored_row, measured, stored_at, decided, across
        )

    def _resolve_year(
        self, year: int | None, files: list[catalogue.FileEntry], matched: _Matched
    ) -> set[tuple[int | None, str | None]]:
        column, incoming, decided = matched.column, matched.incoming, matched.decided
        decided.status[matched.across] = dedup.DUPLICATE
        reverts = self._reverts(year, incoming, decided)
        decided.status[reverts] = dedup.DUPLICATE
        decided.replaces[reverts] = -1
        self._count(column["src"], decided, matched.across, reverts)
        self.outcome.across_keys[year] = _across_keys_after(matched)

        live = decided.status == dedup.LIVE
        moved_in_import = decided.status == dedup.SUPERSEDED
        touched: set[tuple[int | None, str | None]] = set()
        splits = self._staged_splits(year, column, live, moved_in_import, touched)
        # stored files that lose rows to corrections: rewritten, the rows moved to superseded/
        replaced = decided.replaces[decided.replaces >= 0]
        for position, rows_out in _rows_by_file(
            matched.stored_file[replaced], matched.stored_row[replaced]
        ).items():
            entry = files[position]
            kept = np.delete(np.arange(entry.rows, dtype=np.int64), rows_out)
            self.outcome.removed.append(entry.path)
            touched.add((entry.year, entry.kecamatan))
            partition = (self.store.root / entry.path, entry.year, entry.kecamatan)
            splits.append(self._rewrite(*partition, kept, rows_out, entry))
        self._run_splits(splits)
        return touched

    def _staged_splits(
        self,
        year: int | None,
        column: dict[str, npt.NDArray[Any]],
        live: BoolArray,
        moved_in_import: BoolArray,
        touched: set[tuple[int | None, str | None]],
    ) -> list[_Split]:
        """The year's staged files: kept as they are, or rewritten without the rows that do not
        go live (those superseded within the import moved out)."""
        file_no, row_no = column["file_no"], column["row_no"]
        count = len(self.staging.files)
        live_count = np.bincount(file_no[live], minlength=count)
        moved_count = np.bincount(file_no[moved_in_import], minlength=count)
        live_rows = moved_rows = None
        splits = []
        # the files staged from the batches (rewrites made from here on are not among them)
        staged_by_batches = [
            f for f in self.staging.files[:count] if f.year == year and f.area == "measurements"
        ]
        for staged in staged_by_batches:
            touched.add((staged.year, staged.kecamatan))
            partition = (staged.path, staged.year, staged.kecamatan)
            if live_count[staged.file_no] == staged.rows:
                splits.append(_Split(*partition, staged.rows))
                continue
            if live_count[staged.file_no] == 0 and moved_count[staged.file_no] == 0:
                continue
            if live_rows is None:  # row numbers only once some file must be rewritten
                live_rows = _rows_by_file(file_no[live], row_no[live])
                moved_rows = _rows_by_file(file_no[moved_in_import], row_no[moved_in_import])
            assert moved_rows is not None
            none = np.empty(0, dtype=np.int64)
            kept, moved = live_rows.get(staged.file_no, none), moved_rows.get(staged.file_no, none)
            splits.append(self._rewrite(*partition, kept, moved))
        return splits

    def _rewrite(
        self,
        source: Path,
        year: int | None,
        kecamatan: str | None,
        kept: IntArray,
        moved: IntArray,
        entry: catalogue.FileEntry | None = None,
    ) -> _Split:
        """A file rewritten with only the rows `kept` (into a new staged file, none when no row
        is kept), the rows `moved` read out for superseded/."""
        target = self.staging.new_file("measurements", year, kecamatan).path if len(kept) else None
        return _Split(source, year, kecamatan, len(kept), kept, target, moved, entry)

    def _run_splits(self, splits: list[_Split]) -> None:
        """The rewrites on every core (Parquet encoding releases the GIL); what they add to the
        plan and to superseded/ is recorded in order."""
        with ThreadPoolExecutor(cores(), thread_name_prefix="kbtool-rewrite") as pool:
            results = [
                None if split.keep is None else pool.submit(split.run, self.store)
                for split in splits
            ]
            try:
                for split, result in zip(splits, results, strict=True):
                    moved = None if result is None else result.result()
                    written = split.source if split.keep is None else split.target
                    if written is not None:
                        self._add(written, "measurements", split.year, split.kecamatan, split.rows)
                    if moved is not None:
                        by = constant_column(self.import_id, moved.num_rows)
                        moved = moved.append_column(
                            SUPERSEDED_SCHEMA.field("superseded_by_import"), by
                        )
                        self.staging.append("superseded", split.year, split.kecamatan, moved)
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the import fails: start no more rewrites
                raise

    def _count(
        self,
        src: npt.NDArray[np.int32],
        decided: dedup.Resolution,
        across: IndexArray,
        reverts: IndexArray,
    ) -> None:
        size = len(self.outcome.stored)
        moved = decided.status == dedup.SUPERSEDED
        outcome = self.outcome
        outcome.duplicate += np.bincount(src[decided.status == dedup.DUPLICATE], minlength=size)
        outcome.stored += np.bincount(src[(decided.status == dedup.LIVE) | moved], minlength=size)
        # corrections are credited to the source whose row won
        outcome.corrections += np.bincount(src[decided.replaces >= 0], minlength=size)
        outcome.corrections += np.bincount(decided.credit_src[moved], minlength=size)
        outcome.matched_across_keys += np.bincount(src[across], minlength=size)
        outcome.reverts += np.bincount(src[reverts], minlength=size)

    def _reverts(
        self, year: int | None, incoming: dedup.Rows, decided: dedup.Resolution
    ) -> IndexArray:
        """Corrections that would restore a value a later import superseded (an older export
        imported again): left out, and counted per superseding import, unless allowed."""
        corrections = np.flatnonzero(decided.replaces >= 0)
        if self.allow_revert or not corrections.size:
            return np.empty(0, dtype=np.intp)
        files = catalogue.live_files(self.connection, "superseded", year)
        if not files:
            return np.empty(0, dtype=np.intp)
        wanted_columns = [*dedup.KEY_COLUMNS, "superseded_by_import"]
        old = pa.concat_tables([read_store_file(self.store, e, wanted_columns) for e in files])
        by = old.column("superseded_by_import").to_pandas().astype(str).to_numpy()
        earlier = _frame(dedup.Rows.of(old), by=by).drop_duplicates(_SAME, keep="last")
        rows = incoming.take(corrections)
        wanted = _frame(rows, row=corrections)
        assert rows.src is not None
        unrecorded = np.isin(rows.src, list(self.without_oedema))
        if unrecorded.any():  # a file without oedema restores a superseded "yes" row as well
            yes = wanted[unrecorded].assign(vhash=with_oedema(rows.vhash[unrecorded]))
            wanted = pd.concat([wanted, yes], ignore_index=True)
        found = wanted.merge(earlier, on=_SAME).drop_duplicates("row", keep="last")
        reverted = self.outcome.reverted_imports
        for by, count in found.groupby("by").size().items():
            reverted[str(by)] = reverted.get(str(by), 0) + int(count)
        return np.sort(found["row"].to_numpy()).astype(np.intp)

    def _stored_index(
        self, files: list[catalogue.FileEntry], incoming_children: IntArray
    ) -> tuple[dedup.Rows, IndexArray, IntArray, IntArray]:
        """Key columns of every live row of the year; the positions of those whose child occurs
        in the import, with each one's file (position in `files`) and row number."""
        tables = [read_store_file(self.store, entry, dedup.KEY_COLUMNS) for entry in files]
        empty = MEASUREMENT_SCHEMA.empty_table()
        every = dedup.Rows.of(pa.concat_tables(tables) if tables else empty)
        matched = np.flatnonzero(pd.Index(every.key).isin(incoming_children))
        lengths = np.array([t.num_rows for t in tables], dtype=np.int64)
        file_no = np.repeat(np.arange(len(tables), dtype=np.int64), lengths)
        row_no = np.arange(len(every.key), dtype=np.int64) - np.repeat(
            np.cumsum(lengths) - lengths, lengths
        )
        return every, matched, file_no[matched], row_no[matched]

    def _compact(self, touched: set[tuple[int | None, str | None]]) -> None:
        """Rewrite a partition as one file once it has more than MAX_FILES_PER_PARTITION."""
        for area, schema in AREA_SCHEMAS.items():
            for year, kecamatan in sorted(touched, key=lambda p: (p[0] or -1, p[1] or "")):
                partition = (area, year, kecamatan)
                existing = [
                    e
                    for e in catalogue.live_files(self.connection, area, year)
                    if e.kecamatan == kecamatan and e.path not in self.outcome.removed
                ]
                new = [
                    (p, e)
                    for p, e in self.outcome.added
                    if (e.area, e.year, e.kecamatan) == partition
                ]
                if len(existing) + len(new) <= MAX_FILES_PER_PARTITION:
                    continue
                tables = [read_store_file(self.store, e) for e in existing]
                tables += [pq.read_table(p) for p, _ in new]
                merged = self.staging.new_file(*partition)
                with pq.ParquetWriter(merged.path, schema, **PARQUET_OPTIONS) as writer:
                    for table in tables:
                        writer.write_table(table.cast(schema))
                self.outcome.removed.extend(e.path for e in existing)
                self.outcome.added = [(p, e) for p, e in self.outcome.added if (p, e) not in new]
                self._add(merged.path, *partition, sum(t.num_rows for t in tables))

    def _add(
        self, staged: Path, area: str, year: int | None, kecamatan: str | None, rows: int
    ) -> None:
        if rows == 0:
            return
        self._final_seq += 1
        name = f"part-{self.import_id}-{self._final_seq:05d}.parquet"
        entry = catalogue.FileEntry(
            path=f"{area}/{partition_dir(year, kecamatan)}/{name}",
            area=area,
            year=year,
            kecamatan=kecamatan,
            import_id=self.import_id,
            rows=rows,
            bytes=staged.stat().st_size,
        )
        self.outcome.added.append((staged, entry))


def partition_dir(year: int | None, kecamatan: str | None) -> str:
    """Hive directory of a partition, e.g. year=2024/kecamatan=Metro Pusat."""
    year_part = HIVE_NULL if year is None else str(year)
    if kecamatan is None:
        return f"year={year_part}/kecamatan={HIVE_NULL}"
    # percent-encode only what must be (pyarrow, DuckDB and Spark decode it); keep spaces
    encoded = "".join(
        quote(ch, safe="") if ch in _UNSAFE_IN_PARTITION or ord(ch) < 32 else ch for ch in kecamatan
    )
    return f"year={year_part}/kecamatan={encoded}"


def _across_keys_after(matched: _Matched) -> int:
    """dedup.count_across_keys over the year's live rows once the import is committed: the
    stored rows less those corrected, and the incoming rows that go live."""
    decided = matched.decided
    corrected = matched.stored_at[decided.replaces[decided.replaces >= 0]]
    kept = matched.measured.take(np.delete(np.arange(len(matched.measured.key)), corrected))
    live = matched.incoming.take(decided.status == dedup.LIVE)
    names = ("key", "visit", "vhash", "kind")
    rows = dedup.Rows(*(np.concatenate([getattr(kept, n), getattr(live, n)]) for n in names))
    return dedup.count_across_keys(rows, KEY_KIND_NIK)


# rows alike in these (of the frames _frame makes) are one measurement with the same values
_SAME = ["key", "visit", "vhash"]


def _frame(rows: dedup.Rows, **extra: npt.NDArray[Any]) -> pd.DataFrame:
    """The measurements and values of `rows` as a DataFrame, with `extra` columns."""
    return pd.DataFrame({"key": rows.key, "visit": rows.visit, "vhash": rows.vhash, **extra})


def _rows_by_file(file_no: npt.NDArray[Any], row_no: npt.NDArray[Any]) -> dict[int, IntArray]:
    """Row numbers (below 2**32) grouped by file number, in order: one sort of both packed."""
    packed = np.sort((np.asarray(file_no, dtype=np.int64) << 32) | row_no)
    files, rows = packed >> 32, packed & 0xFFFFFFFF
    return {int(files[start]): rows[start:end] for start, end in runs(files)}
