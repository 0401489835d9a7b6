"""The measurement store: a durable, private, idempotent local home for every import.

A directory of hive-partitioned Parquet files (measurements/year=YYYY/kecamatan=NAME/) plus a
sqlite catalogue of imports and live files; the format is described in docs/store-format.md.

Library entry points (the CLI calls each in one line):

* `import_registers(paths, store, read_options=...)` -> ImportSummary (`kbtool import`);
* `import_batches(sources, store)` for callers that already hold ReadBatch iterators;
* `open_measurements(store, columns, filters)` -> DataFrame (`kbtool prevalence`, `quality`);
* `list_sources(store)` -> DataFrame (`kbtool sources`).
"""

import importlib
from typing import TYPE_CHECKING, Any

from kbtool.store.layout import FORMAT_VERSION, STORE_ENV, Store, resolve_store_dir
from kbtool.store.read import (
    SOURCE_COLUMNS,
    list_sources,
    measurements_dataset,
    open_measurements,
    open_superseded,
    read_measurements_table,
)
from kbtool.store.schema import MEASUREMENT_COLUMNS, MEASUREMENT_SCHEMA

if TYPE_CHECKING:
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

# The import machinery (reader, child keys, staging: ~0.15 s of imports) loads on first use, so
# the commands that only read the store (prevalence, quality, sources) start without it.
_INGEST_NAMES = frozenset(
    {
        "ImportProgress",
        "ImportSummary",
        "SourceInput",
        "SourceSummary",
        "collect_leftovers",
        "file_sha256",
        "import_batches",
        "import_registers",
    }
)


def __getattr__(name: str) -> Any:
    if name in _INGEST_NAMES or name == "ingest":
        # import_module, not `from kbtool.store import ingest`: that would ask this hook again
        ingest = importlib.import_module("kbtool.store.ingest")
        return ingest if name == "ingest" else getattr(ingest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMAT_VERSION",
    "MEASUREMENT_COLUMNS",
    "MEASUREMENT_SCHEMA",
    "SOURCE_COLUMNS",
    "STORE_ENV",
    "ImportProgress",
    "ImportSummary",
    "SourceInput",
    "SourceSummary",
    "Store",
    "collect_leftovers",
    "file_sha256",
    "import_batches",
    "import_registers",
    "list_sources",
    "measurements_dataset",
    "open_measurements",
    "open_superseded",
    "read_measurements_table",
    "resolve_store_dir",
]
