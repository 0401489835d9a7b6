"""Reading the store back: measurements for `kbtool prevalence`/`quality`, imports for `sources`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from kbtool.errors import StoreError
from kbtool.privacy import KEY_KIND_NIK
from kbtool.store import catalogue, dedup
from kbtool.store.check import damaged_file_error, read_store_file, stored_days
from kbtool.store.layout import Store, live_path
from kbtool.store.open import require_store
from kbtool.store.schema import (
    DICTIONARY_COLUMNS,
    MEASUREMENT_SCHEMA,
    PARTITION_SCHEMA,
    SUPERSEDED_SCHEMA,
)

SOURCE_COLUMNS = (
    "imported_at",
    "import_id",
    "file",
    "sha256",
    "size_bytes",
    "rows_read",
    "rows_stored",
    "rows_duplicate",
    "rows_rejected",
    "rows_without_key",
    "corrections",
)

Filters: TypeAlias = ds.Expression | Sequence[Any] | None

# A concurrent import deletes the files it replaced after its commit; a reader holding the older
# file list retries with the new one.
_READ_ATTEMPTS = 3


def _dataset_schema(area: str) -> pa.Schema:
    base = MEASUREMENT_SCHEMA if area == "measurements" else SUPERSEDED_SCHEMA
    return pa.schema(list(base) + list(PARTITION_SCHEMA))


def measurements_dataset(
    store: str | Path | None = None, *, area: str = "measurements"
) -> ds.Dataset:
    """The committed Parquet files of the store as one pyarrow dataset (hive-partitioned).

    `area` "superseded" gives the rows replaced by corrections. Only files the catalogue lists
    are read, so an import in progress or interrupted is never seen. String columns with few
    distinct values come back dictionary-encoded.
    """
    opened = require_store(store)
    return _dataset(opened, area, _live_files(opened, area))


def _live_files(opened: Store, area: str) -> list[catalogue.FileEntry]:
    if area not in ("measurements", "superseded"):
        raise ValueError("area must be 'measurements' or 'superseded'")
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        return catalogue.live_files(connection, area)


def _dataset(opened: Store, area: str, files: list[catalogue.FileEntry]) -> ds.Dataset:
    file_format = ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(dictionary_columns=list(DICTIONARY_COLUMNS))
    )
    return ds.dataset(
        [str(live_path(opened.root / f.path)) for f in files],
        schema=_dataset_schema(area),
        format=file_format,
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
        partition_base_dir=str(opened.root / area),
    )


_Read = TypeVar("_Read")


def _reading(store: str | Path | None, area: str, read: Callable[[ds.Dataset], _Read]) -> _Read:
    """`read` of the store's dataset; retried with a fresh file list when a concurrent import
    replaced files under it, and a StoreError naming the damaged file when one is."""
    opened = require_store(store)
    files: list[catalogue.FileEntry] = []
    failure: Exception | None = None
    for _ in range(_READ_ATTEMPTS):
        files = _live_files(opened, area)
        try:
            return read(_dataset(opened, area, files))
        except (OSError, pa.ArrowException) as err:  # a listed file missing or unreadable
            failure = err
    raise damaged_file_error(opened, files) from failure


def _expression(filters: Filters) -> ds.Expression | None:
    if filters is None or isinstance(filters, ds.Expression):
        return filters
    if len(filters) == 0:
        return None
    return pq.filters_to_expression(list(filters))


def _types(arrow_type: pa.DataType) -> Any:
    # nullable booleans stay booleans (not object); age_days and the year partition are nullable
    # integers whether or not this selection happens to hold a missing value
    if arrow_type == pa.bool_():
        return pd.BooleanDtype()
    if arrow_type == pa.int16():
        return pd.Int16Dtype()
    if arrow_type == pa.int32():
        return pd.Int32Dtype()
    return None


def read_measurements_table(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
    *,
    area: str = "measurements",
) -> pa.Table:
    """The stored measurements as an Arrow table (see open_measurements)."""
    expression = _expression(filters)
    wanted = None if columns is None else list(columns)

    def read(dataset: ds.Dataset) -> pa.Table:
        if wanted is not None:
            _check_columns(dataset, wanted)
        table = dataset.to_table(columns=wanted, filter=expression)
        if "kecamatan" in table.column_names:
            index = table.column_names.index("kecamatan")
            table = table.set_column(
                index, "kecamatan", pc.dictionary_encode(table.column("kecamatan"))
            )
        return table

    return _reading(store, area, read)


def open_measurements(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
) -> pd.DataFrame:
    """The store's live measurements as a DataFrame, reading only what is asked for.

    `columns` selects columns (MEASUREMENT_COLUMNS, including the partition columns `year` and
    `kecamatan`); `filters` is a pyarrow expression or pandas-style filters such as
    ``[("year", "in", [2023, 2024]), ("kecamatan", "=", "Metro Pusat")]``, and partitions that
    cannot match are not read. Text columns come back as categoricals, dates as datetime64[ms],
    flags as nullable booleans, `age_days` and `year` as nullable integers. Raises StoreError
    when there is no store.
    """
    return measurements_frame(read_measurements_table(store, columns, filters))


def _check_columns(dataset: ds.Dataset, columns: Sequence[str]) -> None:
    names = list(dataset.schema.names)
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise StoreError(
            f"the store has no column {', '.join(map(repr, unknown))}; columns: {', '.join(names)}"
        )


def measurements_frame(table: pa.Table) -> pd.DataFrame:
    """Measurements in the store's Arrow layout as the DataFrame open_measurements returns;
    the table's buffers are released column by column as the frame is built."""
    frame = table.to_pandas(
        date_as_object=False, types_mapper=_types, self_destruct=True, split_blocks=True
    )
    # hand the allocator's cached pages back to the system, so the caller's numpy work (a
    # different allocator) does not stack on top of them
    pa.default_memory_pool().release_unused()
    return frame


def open_superseded(
    store: str | Path | None = None,
    columns: Sequence[str] | None = None,
    filters: Filters = None,
) -> pd.DataFrame:
    """Rows replaced by corrections, with `superseded_by_import` naming the import that did it."""
    table = read_measurements_table(store, columns, filters, area="superseded")
    return table.to_pandas(date_as_object=False, types_mapper=_types)


def list_sources(store: str | Path | None = None) -> pd.DataFrame:
    """Every imported file, oldest first: when, file, SHA-256 and its row counts.

    Raises StoreError when there is no store there.
    """
    opened = require_store(store)
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        rows = connection.execute(
            "SELECT i.committed_at, s.import_id, s.file, s.sha256, s.size_bytes, "
            + ", ".join(f"s.{c}" for c in catalogue.COUNT_FIELDS)
            + " FROM sources s JOIN imports i USING (import_id) "
            "ORDER BY i.committed_at, s.import_id, s.position"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS))
    frame["imported_at"] = pd.to_datetime(frame["imported_at"], utc=True)
    for name in SOURCE_COLUMNS[5:]:
        frame[name] = frame[name].astype("int64")
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    return frame


_MATCHING_COLUMNS = ["child_key", "child_key_kind", "visit_date", "value_hash"]


def duplicates_across_keys(store: str | Path | None = None) -> int:
    """Live measurements that repeat another's visit date and measured values under another
    child key (the same register imported in two layouts by an earlier kbtool, say). Imports
    record the count per year; years no import has checked are counted here."""
    opened = require_store(store)
    with closing(catalogue.connect(opened.catalogue_file, readonly=True)) as connection:
        found, unchecked = catalogue.across_keys(connection)
        entries = [
            entry
            for year in unchecked
            for entry in catalogue.live_files(connection, "measurements", year)
        ]
    for year in unchecked:
        parts = [
            read_store_file(
                opened, entry, ["child_key", "child_key_kind", "visit_date", "value_hash"]
            )
            for entry in entries
            if entry.year == year
        ]
        if not parts:
            continue
        table = pa.concat_tables(parts)
        found += dedup.count_across_keys(
            dedup.Measured(
                visit=stored_days(table.column("visit_date")),
                vhash=table.column("value_hash").to_numpy(),
                key=table.column("child_key").to_numpy(),
                kind=table.column("child_key_kind").to_numpy(),
            ),
            KEY_KIND_NIK,
        )
    return found
