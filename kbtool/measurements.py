"""Measurements for analysis, from register files or the store, in the store's own columns.
Files are prepared as an import prepares them (stored_form), so both give the same figures;
their child keys use a secret of this run only, and mean nothing afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.columns import REJECT_COLUMNS
from kbtool.errors import InputError
from kbtool.places import builtin_aliases
from kbtool.privacy import KEY_KIND_NIK, SECRET_BYTES, KeyHasher
from kbtool.reading import ReadOptions, iter_read
from kbtool.reading.sources import source_list
from kbtool.store.dedup import KEY_COLUMNS, Rows, matched_across_keys, restated_without_oedema
from kbtool.store.read import measurements_frame
from kbtool.store.schema import (
    DICTIONARY_STRING,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_SCHEMA,
    stored_form,
)

# the reader's column of the register's names: read only when asked for by name
NAME_COLUMN = "name"

# names a file's header for each extra column, given its headers (as read) and the file's name;
# a column it leaves out is carried empty (measurements_from_files' pick_headers)
HeaderPicker = Callable[[Sequence[str], str], Mapping[str, str]]

# a stand-in for the file SHA-256 in row keys of children with neither NIK nor name: unique per
# file of this run is all a row key needs here
_RUN_SOURCE = "run-file-{index}"


def measurements_from_files(
    sources: str | Path | Sequence[str | Path],
    options: ReadOptions | None = None,
    *,
    columns: Sequence[str] | None = None,
    pick_headers: HeaderPicker | None = None,
) -> FileMeasurements:
    """Read register files (or one named alone) into the store's measurement columns (or just
    `columns`). Another column (a survey weight, say) is the file's column of that header (any
    case) as text, or the header `pick_headers` names for that file (none: empty); `name` is the
    register's name column, whatever its header (for `kbtool skdn --list --with-names` only)."""
    sources = source_list(sources)
    raw_columns = [c for c in columns or () if c not in (*MEASUREMENT_COLUMNS, NAME_COLUMN)]
    if raw_columns:
        options = replace(options or ReadOptions(), keep_raw=True)
    hasher = KeyHasher(secrets.token_bytes(SECRET_BYTES))
    aliases = builtin_aliases()
    tables: list[pa.Table] = []
    rejects: list[pd.DataFrame] = []
    summaries: list[dict[str, object]] = []
    rows_read = 0
    without_key = 0  # rows with no identifier: each is a child of its own
    warnings: dict[str, None] = {}
    records_oedema: set[int] = set()  # the files with an oedema column, not all blank
    for index, source in enumerate(sources):
        file_rows = 0
        for batch in iter_read(source, options):
            rows_read += batch.rows_read
            file_rows += batch.rows_read
            if batch.records_oedema:
                records_oedema.add(index)
            warnings.update(dict.fromkeys(batch.warnings))
            if len(batch.rejects):
                rejects.append(batch.rejects)
            rows = batch.rows
            if not len(rows):
                continue
            staged, keys, _ = stored_form(
                rows, aliases, hasher, import_id="(files)", source_file=str(source),
                source_sha256="", key_source=_RUN_SOURCE.format(index=index),
            )  # fmt: skip
            without_key += keys.without_key
            table = staged.table
            for name, values in _raw_cells(batch.raw, raw_columns, source, pick_headers).items():
                table = table.append_column(name, values)
            if columns is not None and NAME_COLUMN in columns:
                names = pa.array(rows[NAME_COLUMN].astype(object), pa.string(), from_pandas=True)
                table = table.append_column(NAME_COLUMN, names)
            # the partition columns, which the store keeps in its directory names
            table = table.append_column("year", pa.array(staged.year, pa.int32()))
            kecamatan = pa.array(staged.kecamatan.astype(object), pa.string())
            table = table.append_column("kecamatan", pc.dictionary_encode(kecamatan))
            if columns is not None:
                wanted = dict.fromkeys((*columns, *KEY_COLUMNS))
                table = table.select([c for c in wanted if c in table.column_names])
            tables.append(table.append_column("_file", pa.array(np.full(len(table), index))))
        summaries.append({"file": str(source), "rows_read": file_rows})
    matched = 0
    if tables:
        table = pa.concat_tables(tables, promote_options="permissive")
        # rows repeating another file's measurement under another key, or restating one but
        # for oedema, left out as an import leaves them out
        incoming = Rows.of(table, table.column("_file").to_numpy().astype(np.int32))
        stored = Rows.of(MEASUREMENT_SCHEMA.empty_table())
        unrecorded = ~np.isin(table.column("_file").to_numpy(), list(records_oedema))
        restated, across = restated_without_oedema(incoming, unrecorded, stored, KEY_KIND_NIK)
        again = matched_across_keys(incoming, stored, KEY_KIND_NIK, unrecorded) | across
        matched = int(again.sum())
        if (again | restated).any():
            table = table.filter(pa.array(~(again | restated)))
        keep = [c for c in table.column_names if c != "_file"]
        if columns is not None:
            keep = [c for c in keep if c in columns]
        frame = measurements_frame(table.select(keep))
    else:  # no measurement at all (a header-only file): an empty frame of the right types
        empty = MEASUREMENT_SCHEMA.empty_table()
        empty = empty.append_column("year", pa.array([], pa.int32()))
        empty = empty.append_column("kecamatan", pa.array([], DICTIONARY_STRING))
        for name in [*raw_columns, *(c for c in columns or () if c == NAME_COLUMN)]:
            empty = empty.append_column(name, pa.array([], pa.string()))
        frame = measurements_frame(empty if columns is None else empty.select(list(columns)))
    reject_frame = (
        pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    )
    return FileMeasurements(
        frame, summaries, {"inputs": list(sources)}, rows_read, reject_frame, matched,
        measurements=len(frame), undated=_undated(frame), warnings=list(warnings),
        without_key=without_key,
    )  # fmt: skip


def _raw_cells(
    raw: pd.DataFrame | None,
    names: Sequence[str],
    source: str | Path,
    pick_headers: HeaderPicker | None,
) -> dict[str, pa.Array]:
    """The file's own cells of the columns `names`, matched to its headers in any case (or as
    `pick_headers` names them)."""
    if not names or raw is None:
        return {}
    if pick_headers is None:
        by_name = {str(h).strip().lower(): str(h) for h in raw.columns}
        picked = {name: by_name.get(name.strip().lower()) for name in names}
    else:
        picked = dict(pick_headers([str(h) for h in raw.columns], str(source)))
    cells = {}
    for name in names:
        header = picked.get(name)
        if header is None and pick_headers is None:
            raise InputError(
                f"{source}: no column {name!r}; its columns: {', '.join(map(str, raw.columns))}"
            )
        cells[name] = (
            pa.nulls(len(raw), pa.string())
            if header is None
            else pa.array(raw[header], pa.string())
        )
    return cells


@dataclass
class Loaded:
    """The measurements an analysis reads, and what a person should hear about them. `frame` is
    None when the store is read one visit year at a time (`by_year`); `frames()` serves both."""

    frame: pd.DataFrame | None
    sources: list[dict[str, object]]
    origin: dict[str, object]  # where they came from, as an option of the run
    rows_read: int = 0
    rejects: pd.DataFrame | None = None  # files only
    # files only: rows of a later file dropped as a measurement an earlier file holds under
    # another key
    matched_across_keys: int = 0
    doubtful: int = 0  # the store only: measurements repeated under two keys
    measurements: int = 0
    undated: int = 0  # measurements without a visit date
    # (year, columns or None for all those loaded) -> that year's measurements
    read_year: Callable[[int | None, Sequence[str] | None], pd.DataFrame] | None = None
    years: list[int | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # files only: the reader's
    # files only: rows with no NIK, no other identifier and no name with a birth date, each
    # counted as a child of its own
    without_key: int = 0

    def whole(self) -> pd.DataFrame:
        """All the measurements in one frame."""
        return self.frame if self.frame is not None else pd.concat(list(self.frames()))

    def frames(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The measurements, whole or one visit year at a time (oldest first, undated last);
        read by year, only `columns` of those loaded (a whole frame has them all)."""
        if self.frame is not None:
            yield self.frame
            return
        assert self.read_year is not None
        for year in self.years:
            yield self.read_year(year, columns)

    def year(self, year: int) -> pd.DataFrame:
        """The measurements of one visit year, every column loaded."""
        if self.frame is None:
            assert self.read_year is not None
            return self.read_year(year, None)
        return self.frame[(self.frame["visit_date"].dt.year == year).to_numpy()]

    def nothing_dated(self) -> str | None:
        """Why there is no dated measurement to analyse by year (None: there are some)."""
        if self.measurements and self.undated < self.measurements:
            return None
        if self.measurements:
            return "no measurement has a visit date; map it with --column visit_date=NAME"
        if "store" in self.origin:
            return (
                f"the store {self.origin['store']} holds no measurement; add registers with "
                "kbtool import FILE"
            )
        return f"{self.rows_read:,} rows read, {self.measurements:,} measurements"


@dataclass
class FileMeasurements(Loaded):
    """Measurements read from register files: always one whole frame."""

    frame: pd.DataFrame


def load_measurements(
    inputs: str | Path | Sequence[str | Path] | None,
    store: str | Path | None,
    columns: Sequence[str],
    options: ReadOptions | None = None,
    *,
    by_year: bool = False,
    pick_headers: HeaderPicker | None = None,
) -> Loaded:
    """The measurements of INPUT files when given (prepared as an import prepares them, so both
    give the same figures), else of the store; only `columns`. `by_year` reads the store one
    visit year at a time (Loaded.frames), for analyses whose periods lie within a year: the
    memory of one year's measurements, not of all. `pick_headers`: see measurements_from_files."""
    columns = list(dict.fromkeys(columns))
    if inputs is not None:
        inputs = source_list(inputs)
    if inputs:
        return measurements_from_files(inputs, options, columns=columns, pick_headers=pick_headers)
    from kbtool.store import (
        duplicates_across_keys,
        list_sources,
        open_measurements,
        open_year,
        resolve_store_dir,
        year_counts,
    )

    sources: list[dict[str, object]] = [
        {"file": str(row.file), "sha256": str(row.sha256), "imported_at": str(row.imported_at)}
        for row in list_sources(store).itertuples(index=False)
    ]
    origin: dict[str, object] = {"store": str(resolve_store_dir(store))}
    doubtful = duplicates_across_keys(store)
    if by_year:
        counts = year_counts(store)
        years = sorted(y for y in counts if y is not None) + ([None] if None in counts else [])
        return Loaded(
            None,
            sources,
            origin,
            sum(counts.values()),
            doubtful=doubtful,
            measurements=sum(counts.values()),
            undated=counts.get(None, 0),
            read_year=lambda year, only: open_year(store, year, only or columns),
            years=years or [None],
        )
    frame = open_measurements(store, columns=columns)
    return Loaded(
        frame, sources, origin, len(frame), doubtful=doubtful, measurements=len(frame),
        undated=_undated(frame),
    )  # fmt: skip


def _undated(frame: pd.DataFrame) -> int:
    """How many measurements have no visit date."""
    return int(frame["visit_date"].isna().sum()) if "visit_date" in frame else 0
