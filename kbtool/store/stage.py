"""Step 1 of an import: each batch in stored form (schema.stored_form) appended to a Parquet
file per (visit year, kecamatan) under staging/<import_id>/, with a compact index per visit
year that step 2 (kbtool.store.resolve) reads back. Nothing here touches the live store.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from kbtool.places import AliasTable
from kbtool.privacy import ChildKeys, KeyHasher, redact_rejects
from kbtool.reading import ReadBatch
from kbtool.store.schema import PARQUET_OPTIONS, StagedBatch, stored_form

# Open staged files at once; beyond this the least recently used is closed and a new part begun.
MAX_OPEN_WRITERS = 64
# Children whose keys are remembered between batches (about 250 bytes each in Python objects).
KEY_CACHE_ENTRIES = 500_000
# Canonical columns whose values identify a person: never written in clear, not even as rejects.
IDENTIFYING_COLUMNS = ("child_id", "name")

INDEX_SCHEMA = pa.schema(
    [
        ("key", pa.int64()),
        ("visit", pa.int64()),
        ("vhash", pa.int64()),
        ("seq", pa.int64()),
        ("file_no", pa.int32()),
        ("row_no", pa.int32()),
        ("src", pa.int32()),
        ("kind", pa.int8()),
    ]
)


@dataclass
class StagedFile:
    """A Parquet file written in staging: its number, area and partition, and rows so far."""

    file_no: int
    area: str
    year: int | None
    kecamatan: str | None
    path: Path
    rows: int = 0


class Staging:
    """The staged files of one import: Parquet writers per partition, raw index files per
    visit year, and the import's rejects (redacted) as CSV."""

    def __init__(self, root: Path, import_id: str, aliases: AliasTable, hasher: KeyHasher) -> None:
        self.root = root
        self.import_id = import_id
        self.aliases = aliases
        self.hasher = hasher
        self.files: list[StagedFile] = []
        self.index_years: set[int | None] = set()
        self.rejects_path = root / "rejects.csv"
        self.unknown_kelurahan: set[str] = set()
        self.unknown_kecamatan: set[str] = set()
        self.warnings: list[str] = []
        self._seq = 0
        self._key_cache: dict[bytes, bytes] = {}
        self._writers: OrderedDict[tuple[str, int | None, str | None], Any] = OrderedDict()

    def prepare(
        self, batch: ReadBatch, source_file: str, sha256: str
    ) -> tuple[StagedBatch | None, ChildKeys | None]:
        """A batch in stored form, grouped by partition, and its keys (None, None when every row
        was rejected); its rejects are appended to the import's rejects file."""
        # each names its file already: kept once, in order
        self.warnings = list(dict.fromkeys([*self.warnings, *batch.warnings]))
        if len(batch.rejects):
            mapped = batch.column_map
            identifying = [mapped[c] for c in IDENTIFYING_COLUMNS if c in mapped]
            redacted = redact_rejects(batch.rejects, [*IDENTIFYING_COLUMNS, *identifying])
            redacted["file"] = source_file
            redacted.to_csv(
                self.rejects_path, mode="a", header=not self.rejects_path.exists(), index=False
            )
        rows = batch.rows.reset_index(drop=True)
        if not len(rows):
            return None, None
        staged, keys, places = stored_form(
            rows, self.aliases, self.hasher, import_id=self.import_id, source_file=source_file,
            source_sha256=sha256, key_cache=self._key_cache, partition_order=True,
        )  # fmt: skip
        self.unknown_kelurahan |= places.unknown_kelurahan
        self.unknown_kecamatan |= places.unknown_kecamatan
        if len(self._key_cache) > KEY_CACHE_ENTRIES:
            self._key_cache.clear()  # start afresh rather than grow: hashing again is cheap
        return staged, keys

    def write(self, staged: StagedBatch, src: int) -> None:
        """Append a prepared batch (grouped by partition) and its index rows."""
        n = staged.table.num_rows
        kec = staged.kecamatan.astype("category")
        kec_codes = kec.cat.codes.to_numpy(dtype=np.int64) + 1  # 0: missing
        kec_names = [None, *map(str, kec.cat.categories)]
        group = (staged.year.astype(np.int64) + 1) * (len(kec_names) + 1) + kec_codes
        file_no = np.empty(n, dtype=np.int32)
        row_no = np.empty(n, dtype=np.int32)
        for start, end in runs(group):
            year, kecamatan = _year(staged.year[start]), kec_names[int(kec_codes[start])]
            part = staged.table.slice(start, end - start)
            number, first_row = self.append("measurements", year, kecamatan, part)
            file_no[start:end] = number
            row_no[start:end] = np.arange(first_row, first_row + end - start, dtype=np.int32)
        # seq is the reading order, whatever order the rows were grouped in
        position = np.arange(n, dtype=np.int64) if staged.order is None else staged.order
        index = pa.table(
            {
                "key": staged.table.column("child_key"),
                "visit": staged.visit_days,
                "vhash": staged.value_hash,
                "seq": self._seq + position.astype(np.int64),
                "file_no": file_no,
                "row_no": row_no,
                "src": np.full(n, src, dtype=np.int32),
                "kind": staged.table.column("child_key_kind"),
            },
            schema=INDEX_SCHEMA,
        )
        self._seq += n
        for start, end in runs(staged.year):  # grouped by year (partition order) already
            self._append_index(_year(staged.year[start]), index.slice(start, end - start))

    def new_file(self, area: str, year: int | None, kecamatan: str | None) -> StagedFile:
        """A fresh staged file path (not opened)."""
        staged = StagedFile(
            len(self.files), area, year, kecamatan, self.root / f"f{len(self.files):06d}.parquet"
        )
        self.files.append(staged)
        return staged

    def append(
        self, area: str, year: int | None, kecamatan: str | None, table: pa.Table
    ) -> tuple[int, int]:
        """Append rows to the partition's open file; its file number and first row number."""
        key = (area, year, kecamatan)
        if key in self._writers:
            self._writers.move_to_end(key)
        else:
            if len(self._writers) >= MAX_OPEN_WRITERS:
                oldest, _ = self._writers.popitem(last=False)[1]  # the least recently used
                oldest.close()
            file = self.new_file(area, year, kecamatan)
            writer = pq.ParquetWriter(file.path, table.schema, **PARQUET_OPTIONS)
            self._writers[key] = (writer, file)
        writer, staged = self._writers[key]
        first = staged.rows
        writer.write_table(table)
        staged.rows += table.num_rows
        return staged.file_no, first

    def close(self) -> None:
        """Close every open writer (the files stay) and forget the children's keys."""
        self._key_cache.clear()  # (no batch comes after: resolution needs the memory)
        for writer, _ in self._writers.values():
            writer.close()
        self._writers.clear()

    def read_index(self, year: int | None) -> dict[str, npt.NDArray[Any]]:
        """The index rows of one visit year, as written, column by column."""
        return {
            field.name: np.fromfile(
                self._index_path(year, field.name), field.type.to_pandas_dtype()
            )
            for field in INDEX_SCHEMA
        }

    def _append_index(self, year: int | None, table: pa.Table) -> None:
        """Index rows appended as raw native columns: the index lives only in staging, so it
        skips Parquet's encoding."""
        self.index_years.add(year)
        for name, column in zip(INDEX_SCHEMA.names, table.columns, strict=True):
            with open(self._index_path(year, name), "ab") as handle:
                for chunk in column.chunks:
                    handle.write(np.ascontiguousarray(chunk.to_numpy()).data)

    def _index_path(self, year: int | None, column: str) -> Path:
        return self.root / f"index-{'none' if year is None else year}.{column}"


def runs(values: npt.NDArray[Any]) -> list[tuple[int, int]]:
    """(start, end) of each run of equal neighbouring values; none in an empty array."""
    bounds = (np.flatnonzero(values[1:] != values[:-1]) + 1).tolist()
    return list(itertools.pairwise([0, *bounds, len(values)])) if len(values) else []


def _year(value: Any) -> int | None:
    return None if int(value) < 0 else int(value)
