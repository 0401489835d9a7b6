"""The measurement store: a durable, private, idempotent local home for every import.

A directory of hive-partitioned Parquet files (measurements/year=YYYY/kecamatan=NAME/) plus a
sqlite catalogue of imports and live files; the format is described in docs/store-format.md.
`import_registers` imports files (`kbtool import`), `import_batches` batches already read;
`open_measurements` reads the store back (`kbtool prevalence`, `quality`), `list_sources` lists
its imports (`kbtool sources`), `check_store` and `repair_store` look after it.
"""

from kbtool.store.check import DamagedFile, check_store, repair_store
from kbtool.store.ingest import (
    ImportProgress,
    ImportSummary,
    SourceInput,
    SourceSummary,
    collect_leftovers,
    file_sha256,
    import_batches,
    import_registers,
)
from kbtool.store.layout import FORMAT_VERSION, STORE_ENV, Store, resolve_store_dir
from kbtool.store.read import (
    IMPORT_COLUMNS,
    duplicates_across_keys,
    list_sources,
    open_measurements,
    open_superseded,
    open_year,
    read_measurements_table,
    year_counts,
)
from kbtool.store.schema import MEASUREMENT_COLUMNS, MEASUREMENT_SCHEMA

__all__ = [
    "FORMAT_VERSION",
    "IMPORT_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "MEASUREMENT_SCHEMA",
    "STORE_ENV",
    "DamagedFile",
    "ImportProgress",
    "ImportSummary",
    "SourceInput",
    "SourceSummary",
    "Store",
    "check_store",
    "collect_leftovers",
    "duplicates_across_keys",
    "file_sha256",
    "import_batches",
    "import_registers",
    "list_sources",
    "open_measurements",
    "open_superseded",
    "open_year",
    "read_measurements_table",
    "repair_store",
    "resolve_store_dir",
    "year_counts",
]
