"""The measurement store: hive-partitioned Parquet files plus a sqlite catalogue of imports and
live files (docs/store-format.md). `import_registers` fills it, `open_measurements` reads it.
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
