"""Reading the store back: measurements for `kbtool prevalence`/`quality`, imports for `sources`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from kbtool.errors import StoreError
from kbtool.privacy import KEY_KIND_NIK
from kbtool.store import catalogue, dedup
from kbtool.store.check import damaged_file_error, read_store_file
from kbtool.store.layout import Store, live_path
from kbtool.store.open import require_store
from kbtool.store.schema import AREA_SCHEMAS, DICTIONARY_COLUMNS, PARTITION_SCHEMA

# the columns of list_sources: when, which import, which file, and the import's counts
IMPORT_COLUMNS = (
    "imported_at",
    "import_id",
    "file",
    "sha256",
    "size_bytes",
    *catalogue.COUNT_FIELDS,
)

Filters: TypeAlias = ds.Expression | Sequence[Any] | None

# A concurrent import deletes the files it replaced after its commit; a reader holding the older
# file list retries with the new one.
_READ_ATTEMPTS = 3

_MS_PER_DAY = 86_400_000


def _live_files(opened: Store, area: str) -> list[catalogue.FileEntry]:
    if area not in AREA_SCHEMAS:
        raise ValueError("area must be 'measurements' or 'superseded'")
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        return catalogue.live_files(connection, area)


def _dataset(opened: Store, area: str, files: list[catalogue.FileEntry]) -> ds.Dataset:
    """The listed files of an area as one hive-partitioned dataset (an import in progress is
    never seen); string columns with few distinct values come back dictionary-encoded."""
    file_format = ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(dictionary_columns=list(DICTIONARY_COLUMNS))
    )
    return ds.dataset(
        [str(live_path(opened.root / f.path)) for f in files],
        schema=pa.schema([*AREA_SCHEMAS[area], *PARTITION_SCHEMA]),
        format=file_format,
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
        partition_base_dir=str(opened.root / area),
    )


_Read = TypeVar("_Read")


def _reading(
    store: str | Path | None,
    area: str,
    columns: Sequence[str] | None,
    filters: Filters,
    read: Callable[[ds.Dataset, list[str], ds.Expression | None], _Read],
) -> _Read:
    """`read` of the store's dataset, the columns checked and the filters as an expression;
    retried with a fresh file list when a concurrent import replaced files under it, and a
    StoreError naming the damaged file when one is."""
    expression = _expression(filters)
    opened = require_store(store)
    files: list[catalogue.FileEntry] = []
    failure: Exception | None = None
    for _ in range(_READ_ATTEMPTS):
        files = _live_files(opened, area)
        try:
            dataset = _dataset(opened, area, files)
            checked = _check_columns(dataset, columns)
            _check_filter(dataset, expression)
            return read(dataset, checked, expression)
        except (OSError, pa.ArrowException) as err:  # a listed file missing or unreadable
            failure = err
    raise damaged_file_error(opened, files) from failure


def _check_filter(dataset: ds.Dataset, expression: ds.Expression | None) -> None:
    """StoreError when the filter names a column the store has not, or compares one with a
    value of another type: the caller's mistake, which reading again would not cure."""
    if expression is None:
        return
    try:
        dataset.scanner(columns=[], filter=expression)  # binds the filter; reads nothing
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
        why = str(err).splitlines()[0]
        raise StoreError(
            f"the filter {expression} does not fit the store ({why}); "
            f"columns: {', '.join(dataset.schema.names)}"
        ) from err


def _expression(filters: Filters) -> ds.Expression | None:
    """pandas-style filters as an expression: a list of (column, op, value), or one alone."""
    if filters is None or isinstance(filters, ds.Expression):
        return filters
    if isinstance(filters, tuple) and filters and isinstance(filters[0], str):
        filters = [filters]  # one filter named alone
    if isinstance(filters, str) or len(filters) == 0:
        if filters:
            raise StoreError(
                f"filters {filters!r}: give (column, op, value) tuples, e.g. "
                '[("year", "==", 2024)], or a pyarrow expression'
            )
        return None
    try:
        return pq.filters_to_expression(list(filters))
    except (TypeError, ValueError) as err:
        raise StoreError(f"filters {filters!r}: {err}") from err


# nullable booleans stay booleans (not object); age_days and the year partition are nullable
# integers whether or not this selection happens to hold a missing value
_types = {
    pa.bool_(): pd.BooleanDtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
}.get


def read_measurements_table(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
    *,
    area: str = "measurements",
) -> pa.Table:
    """The stored measurements as an Arrow table (see open_measurements)."""

    def read(dataset: ds.Dataset, columns: list[str], expression: ds.Expression | None) -> pa.Table:
        table = dataset.to_table(columns=columns, filter=expression)
        if "kecamatan" not in table.column_names:
            return table
        index = table.column_names.index("kecamatan")
        return table.set_column(index, "kecamatan", pc.dictionary_encode(table.column(index)))

    return _reading(store, area, columns, filters, read)


def open_measurements(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
) -> pd.DataFrame:
    """The store's live measurements as a DataFrame, reading only what is asked for.

    `columns` are of MEASUREMENT_COLUMNS; `filters` a pyarrow expression or pandas-style filters
    (``[("year", "in", [2023, 2024])]``): partitions that cannot match are not read. Text comes
    back as categoricals, dates as datetime64[ms], flags as nullable booleans, `age_days` and
    `year` as nullable integers. The frame is filled batch by batch into arrays allocated once,
    so memory peaks at the frame plus a few batches. Raises StoreError when there is no store.
    """
    return _reading(store, "measurements", columns, filters, _stream_frame)


class _ColumnFiller:
    """One output column, preallocated, filled from Arrow batches in order."""

    def __init__(self, field: pa.Field, n: int) -> None:
        self.type = field.type
        self.mask: npt.NDArray[np.bool_] | None = None
        self.categories: dict[object, int] | None = None
        if pa.types.is_dictionary(field.type) or pa.types.is_string(field.type):
            self.categories = {}
            self.values = np.empty(n, dtype=np.int32)
        elif pa.types.is_date32(field.type):
            self.values = np.empty(n, dtype="datetime64[ms]")
        else:
            self.values = np.empty(n, dtype=field.type.to_pandas_dtype())
            if pa.types.is_boolean(field.type) or field.type in (pa.int16(), pa.int32()):
                self.mask = np.empty(n, dtype=bool)

    def fill(self, start: int, column: pa.Array) -> None:
        end = start + len(column)
        if self.categories is None:
            if not self._fill_from_buffers(start, end, column):
                self.values[start:end] = column.to_numpy(zero_copy_only=False)
            return
        if self._fill_constant(start, end, column):
            return
        encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
        # few distinct values per batch: map each to its code in the whole frame
        categories = self.categories
        codes = [categories.setdefault(v, len(categories)) for v in encoded.dictionary.to_pylist()]
        lookup = np.array([*codes, -1], dtype=np.int32)
        raw = encoded.indices
        # without nulls the indices are read in place (no filled copy of the batch)
        indices = (raw.fill_null(-1) if raw.null_count else raw).to_numpy(zero_copy_only=False)
        self.values[start:end] = lookup[indices]

    def _fill_from_buffers(self, start: int, end: int, column: pa.Array) -> bool:
        """Fill a batch of booleans, numbers or dates straight from its Arrow buffers (numpy
        unpacks the bitmaps for a fraction of what pyarrow's to_numpy/fill_null cost a call);
        False (nothing done) for other types and for integers with missing values but no mask."""
        arrow_type = column.type
        is_date = pa.types.is_date32(arrow_type)
        is_float = pa.types.is_floating(arrow_type)
        integers = pa.types.is_integer(arrow_type) and not (column.null_count and self.mask is None)
        if not (is_date or is_float or integers or pa.types.is_boolean(arrow_type)):
            return False
        validity, data = column.buffers()[:2]
        missing = ~_bits(validity, column.offset, len(column)) if column.null_count else None
        if pa.types.is_boolean(arrow_type):
            values = _bits(data, column.offset, len(column))
        else:
            dtype = np.int32 if is_date else arrow_type.to_pandas_dtype()
            values = np.frombuffer(data, dtype=dtype, count=column.offset + len(column))
            values = values[column.offset :]
        target = self.values[start:end]
        if is_date:
            as_ms = target.view(np.int64)
            np.multiply(values, _MS_PER_DAY, out=as_ms, dtype=np.int64)
            if missing is not None:
                as_ms[missing] = np.iinfo(np.int64).min  # NaT
            return True
        target[:] = values
        if self.mask is not None:
            self.mask[start:end] = False if missing is None else missing
        if missing is not None:
            # NaN in float columns (as to_numpy gives); False/0 under a mask (as fill_null)
            target[missing] = np.nan if self.mask is None else 0
        return True

    def _fill_constant(self, start: int, end: int, column: pa.Array) -> bool:
        """Fill a text batch holding one value throughout (a partition column such as
        kecamatan, one value per file): one comparison pass instead of hashing every row."""
        if not (pa.types.is_string(column.type) and len(column) and column.null_count == 0):
            return False
        assert self.categories is not None
        first = column[0].as_py()
        if not pc.all(pc.equal(column, first)).as_py():
            return False
        self.values[start:end] = self.categories.setdefault(first, len(self.categories))
        return True

    def result(self) -> Any:
        if self.categories is not None:
            return pd.Categorical.from_codes(
                self.values, categories=pd.Index(list(self.categories))
            )
        if self.mask is not None:
            if pa.types.is_boolean(self.type):
                return pd.arrays.BooleanArray(self.values.astype(bool, copy=False), self.mask)
            return pd.arrays.IntegerArray(self.values, self.mask)
        return self.values


def _bits(buffer: pa.Buffer, offset: int, length: int) -> npt.NDArray[np.bool_]:
    """`length` bits of an Arrow bitmap (least significant bit first) from bit `offset`."""
    packed = np.frombuffer(buffer, dtype=np.uint8, count=(offset + length + 7) // 8)
    bits = np.unpackbits(packed, count=offset + length, bitorder="little")
    return bits[offset:].view(np.bool_)


def _check_columns(dataset: ds.Dataset, columns: Sequence[str] | None) -> list[str]:
    names = list(dataset.schema.names)
    if columns is None:
        return names
    if isinstance(columns, str):
        columns = [columns]  # one column named alone
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise StoreError(
            f"the store has no column {', '.join(map(repr, unknown))}; columns: {', '.join(names)}"
        )
    return list(columns)


def _stream_frame(
    dataset: ds.Dataset, columns: list[str], expression: ds.Expression | None
) -> pd.DataFrame:
    n = dataset.count_rows(filter=expression)
    fillers = {name: _ColumnFiller(dataset.schema.field(name), n) for name in columns}
    start = 0
    checked: set[str] = set()
    scanner = dataset.scanner(
        columns=columns,
        filter=expression,
        batch_readahead=2,
        fragment_readahead=1,
        # column chunks read as they are decoded, not prefetched whole (the allocator keeps
        # prefetched ranges cached): less memory at the same speed
        fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
    )
    for tagged in scanner.scan_batches():
        batch = tagged.record_batch
        _require_written(tagged.fragment, batch, checked)
        for name in columns:
            fillers[name].fill(start, batch.column(name))
        start += batch.num_rows
    if start != n:  # the files changed between counting and reading
        raise FileNotFoundError("the store's files changed while being read")
    # the decoded batches are gone: hand the allocator's cached pages back to the system, so
    # the caller's numpy work (a different allocator) does not stack on top of them
    pa.default_memory_pool().release_unused()
    return pd.DataFrame({name: fillers[name].result() for name in columns}, copy=False)


def _require_written(fragment: ds.Fragment, batch: pa.RecordBatch, checked: set[str]) -> None:
    """A column read as all missing may be one the batch's file lacks (written by an older
    kbtool): figures would be silently wrong, so such a file is named instead."""
    if fragment.path in checked:
        return
    empty = [name for name in batch.column_names if batch.column(name).null_count == len(batch)]
    if not empty or not len(batch):
        return
    checked.add(fragment.path)
    held = set(fragment.physical_schema.names) | set(PARTITION_SCHEMA.names)
    lacking = [c for c in empty if c not in held]
    if lacking:
        raise StoreError(
            f"{Path(fragment.path).name} in the store was written by an older kbtool and "
            f"lacks {', '.join(lacking)}: import the registers again into a new store "
            "(kbtool import FILE... --store NEW_DIR) and read that one"
        )


def measurements_frame(table: pa.Table) -> pd.DataFrame:
    """Measurements in the store's Arrow layout as the DataFrame open_measurements returns."""
    return table.to_pandas(
        date_as_object=False, types_mapper=_types, self_destruct=True, split_blocks=True
    )


def open_superseded(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
) -> pd.DataFrame:
    """Rows replaced by corrections, with `superseded_by_import` naming the import that did it."""
    return measurements_frame(read_measurements_table(store, columns, filters, area="superseded"))


def list_sources(store: str | Path | None = None) -> pd.DataFrame:
    """Every imported file, oldest first: when, file, SHA-256 and its row counts; StoreError
    when there is no store there."""
    opened = require_store(store)
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        rows = connection.execute(
            "SELECT i.committed_at, s.import_id, s.file, s.sha256, s.size_bytes, "
            + ", ".join(f"s.{c}" for c in catalogue.COUNT_FIELDS)
            + " FROM sources s JOIN imports i USING (import_id) "
            "ORDER BY i.committed_at, s.import_id, s.position"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=list(IMPORT_COLUMNS))
    frame["imported_at"] = pd.to_datetime(frame["imported_at"], utc=True)
    # typed when empty too: an empty store's table has the columns of any other
    text = dict.fromkeys(("import_id", "file", "sha256"), "str")
    counts = {"size_bytes": "Int64"} | dict.fromkeys(catalogue.COUNT_FIELDS, "int64")
    return frame.astype({"imported_at": "datetime64[us, UTC]"} | text | counts)


def duplicates_across_keys(store: str | Path | None = None) -> int:
    """Live measurements that repeat another's visit date and measured values under another
    child key (the same register imported in two layouts by an earlier kbtool, say). Imports
    record the count per year; years no import has checked are counted here."""
    opened = require_store(store)
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        found, unchecked = catalogue.across_keys(connection)
        # every unchecked year has live files: the years come from them
        by_year = [catalogue.live_files(connection, "measurements", year) for year in unchecked]
    for entries in by_year:
        parts = [read_store_file(opened, entry, dedup.KEY_COLUMNS) for entry in entries]
        found += dedup.count_across_keys(dedup.Rows.of(pa.concat_tables(parts)), KEY_KIND_NIK)
    return found


def year_counts(store: str | Path | None = None) -> dict[int | None, int]:
    """Live measurements per visit year (None: undated), from the catalogue alone."""
    counts: dict[int | None, int] = {}
    for entry in _live_files(require_store(store), "measurements"):
        counts[entry.year] = counts.get(entry.year, 0) + entry.rows
    return counts


def open_year(
    store: str | Path | None, year: int | None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """open_measurements of one visit year's partition (None: the undated measurements)."""
    field = ds.field("year")
    return open_measurements(store, columns, field.is_null() if year is None else field == year)
