"""The columns of a stored measurement, and how a canonical batch becomes them. The columns
and types are part of the store format (docs/store-format.md); `year` and `kecamatan` are the
hive partition directories, not columns of the files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kbtool.columns import (
    CANONICAL_COLUMNS,
    NAT_DAYS,
    calendar_parts,
    day_numbers,
    recode,
    splitmix64,
    text_codes,
    text_column,
    unsplitmix64,
)
from kbtool.growth.categories import classify
from kbtool.growth.constants import FLAG_LIMITS, Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import compute_zscore_arrays
from kbtool.places import AliasTable, NormalisedPlaces, facility_name, normalise_places
from kbtool.privacy import ChildKeys, KeyHasher, child_keys

# String columns with few distinct values per file are written dictionary-encoded: pyarrow then
# reads them back as categoricals (a few bytes a row instead of a Python string each), while for
# DuckDB and Spark they are ordinary strings.
DICTIONARY_COLUMNS = (
    *(f"{indicator}_status" for indicator in FLAG_LIMITS),
    "posyandu",
    "kelurahan",
    "puskesmas",
    "import_id",
    "source_file",
    "source_sha256",
)
DICTIONARY_STRING = pa.dictionary(pa.int32(), pa.string())


def _text_field(name: str, nullable: bool = True) -> pa.Field:
    return pa.field(
        name, DICTIONARY_STRING if name in DICTIONARY_COLUMNS else pa.string(), nullable
    )


MEASUREMENT_SCHEMA = pa.schema(
    [
        pa.field("child_key", pa.int64(), nullable=False),
        pa.field("child_key_kind", pa.int8(), nullable=False),
        pa.field("sex", pa.int8()),
        pa.field("birth_date", pa.date32()),
        pa.field("visit_date", pa.date32()),
        pa.field("age_days", pa.int32()),
        pa.field("age_months", pa.float64()),
        pa.field("weight_kg", pa.float64()),
        pa.field("height_cm", pa.float64()),
        pa.field("measure", pa.int8()),
        pa.field("lenhei_cm", pa.float64()),
        pa.field("position_flag", pa.bool_()),
        pa.field("oedema", pa.bool_()),
        pa.field("haz", pa.float64()),
        pa.field("haz_flag", pa.bool_()),
        pa.field("waz", pa.float64()),
        pa.field("waz_flag", pa.bool_()),
        pa.field("whz", pa.float64()),
        pa.field("whz_flag", pa.bool_()),
        pa.field("bmi", pa.float64()),
        pa.field("bmiz", pa.float64()),
        pa.field("bmiz_flag", pa.bool_()),
        _text_field("haz_status"),
        _text_field("waz_status"),
        _text_field("whz_status"),
        _text_field("bmiz_status"),
        _text_field("posyandu"),
        _text_field("kelurahan"),
        _text_field("puskesmas"),
        _text_field("import_id", nullable=False),
        _text_field("source_file", nullable=False),
        _text_field("source_sha256", nullable=False),
        pa.field("source_line", pa.int64()),
        pa.field("value_hash", pa.int64(), nullable=False),
    ]
)
SUPERSEDED_SCHEMA = MEASUREMENT_SCHEMA.append(
    pa.field("superseded_by_import", DICTIONARY_STRING, nullable=False)
)
# the schema of each area's files: the live rows, and the rows corrections replaced
AREA_SCHEMAS = {"measurements": MEASUREMENT_SCHEMA, "superseded": SUPERSEDED_SCHEMA}
PARTITION_SCHEMA = pa.schema([pa.field("year", pa.int16()), pa.field("kecamatan", pa.string())])
MEASUREMENT_COLUMNS = tuple(MEASUREMENT_SCHEMA.names) + tuple(PARTITION_SCHEMA.names)

# Full-precision z-scores, BMI and value hashes are random 64-bit patterns that zstd hardly
# shrinks, so they are written uncompressed; everything else is zstd level 1.
_UNCOMPRESSED = ("haz", "waz", "whz", "bmi", "bmiz", "value_hash")
_ALL_COLUMNS = SUPERSEDED_SCHEMA.names
PARQUET_OPTIONS: dict[str, object] = {
    "compression": {c: "none" if c in _UNCOMPRESSED else "zstd" for c in _ALL_COLUMNS},
    "compression_level": {c: 1 for c in _ALL_COLUMNS if c not in _UNCOMPRESSED},
    # dictionary encoding only where values repeat: on z-scores, line numbers and hashes it
    # costs time and falls back to plain anyway
    "use_dictionary": [
        *DICTIONARY_COLUMNS,
        *("superseded_by_import", "child_key", "child_key_kind", "sex", "birth_date"),
        *("visit_date", "age_days", "age_months", "weight_kg", "height_cm", "measure"),
        "lenhei_cm",
    ],
    # min/max statistics only where a reader can skip row groups with them
    "write_statistics": [
        "child_key_kind",
        "sex",
        "birth_date",
        "visit_date",
        "age_days",
        "measure",
    ],
    # 16 MiB dictionary pages keep a batch's child keys dictionary-encoded (the default, 1 MiB,
    # falls back to plain)
    "dictionary_pagesize_limit": 1 << 24,
}


def constant_column(value: str, n: int) -> pa.DictionaryArray:
    """One string repeated n times, as a dictionary array (no n copies of the string)."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string())
    )


# The measured values that make two rows of one child and visit date "the same measurement":
# every canonical column but those naming the child and the visit. Part of the store format
# (docs/store-format.md; a test holds this list to the one written there).
VALUE_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in ("child_id", "name", "visit_date"))

# value_hash's constants (docs/store-format.md): the golden-ratio constant G and FNV-1a 64's prime
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)

# A column's 64-bit words per row, or (codes, words of its distinct values), code -1 the last.
Words = npt.NDArray[np.uint64] | tuple[npt.NDArray[np.intp], npt.NDArray[np.uint64]]


def value_hash(columns: Mapping[str, Words]) -> npt.NDArray[np.int64]:
    """Combine per-column 64-bit words (VALUE_COLUMNS) into one hash per row, as defined in
    docs/store-format.md (`value_hash`); a coded column is mixed once per distinct value."""
    h = np.zeros(1, dtype=np.uint64)  # broadcast to every row by the first column
    with np.errstate(over="ignore"):
        for position, name in enumerate(VALUE_COLUMNS, start=1):
            column, offset = columns[name], _GOLDEN * np.uint64(position)
            if isinstance(column, tuple):
                mixed = splitmix64(column[1] + offset)[column[0]]
            else:
                mixed = splitmix64(column + offset)
            h = h * _PRIME + mixed
        return splitmix64(h).view(np.int64)


def with_oedema(hashes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The value_hash of the same values with oedema "yes" instead of "no": until its final
    splitmix64 the hash is a sum of each column's mixed word times a power of _PRIME, so undoing
    the finaliser and adding one constant gives it."""
    position, size = VALUE_COLUMNS.index("oedema") + 1, len(VALUE_COLUMNS)
    offset = int(_GOLDEN) * position
    yes, no = map(int, splitmix64(np.array([(offset + 1) % 2**64, offset % 2**64], np.uint64)))
    shift = np.uint64((yes - no) * pow(int(_PRIME), size - position, 2**64) % 2**64)
    with np.errstate(over="ignore"):
        return splitmix64(unsplitmix64(hashes.view(np.uint64)) + shift).view(np.int64)


def float_words(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
    """The IEEE-754 bits of floats, with one pattern for every NaN and 0.0 for -0.0."""
    with np.errstate(invalid="ignore"):  # a signalling NaN becomes np.nan like any other
        clean = values + 0.0
    clean[np.isnan(clean)] = np.nan
    return clean.view(np.uint64)


def text_words(names: pa.Array) -> npt.NDArray[np.uint64]:
    """First 8 bytes (little-endian) of BLAKE2b of each string's UTF-8, then 0 (missing)."""
    digests = [hashlib.blake2b(name.encode(), digest_size=8).digest() for name in names.to_pylist()]
    return np.frombuffer(b"".join([*digests, bytes(8)]), dtype="<u8").astype(np.uint64)


@dataclass(frozen=True)
class _Text:
    """A text column as codes (-1: missing) into its distinct values."""

    codes: npt.NDArray[np.intp]
    names: pa.Array

    @classmethod
    def of(cls, values: pd.Series) -> _Text:
        return cls(*text_codes(values))

    def take(self, order: npt.NDArray[np.intp] | None) -> _Text:
        return self if order is None else _Text(self.codes[order], self.names)

    def dictionary(self) -> pa.DictionaryArray:
        """As a dictionary<int32, string> array, nulls where missing."""
        indices = _with_missing(self.codes.astype(np.int32), pa.int32(), self.codes < 0)
        return pa.DictionaryArray.from_arrays(indices, self.names)

    def words(self) -> Words:
        return self.codes, text_words(self.names)


def _facility(rows: pd.DataFrame, column: str) -> _Text:
    """Posyandu or puskesmas names in one spelling (places.facility_name), per distinct value."""
    raw = _Text.of(text_column(rows, column))
    cleaned = _Text.of(pd.Series([facility_name(u) for u in raw.names.to_pylist()], dtype=object))
    return _Text(recode(raw.codes, cleaned.codes), cleaned.names)


@dataclass(frozen=True)
class StagedBatch:
    """A batch in stored form plus what the import needs to place and deduplicate it; every
    array is aligned with the table's rows."""

    table: pa.Table
    year: npt.NDArray[np.int32]  # visit year, -1 when the visit date is missing
    kecamatan: pd.Series  # categorical, canonical names
    visit_days: npt.NDArray[np.int64]  # days since 1970-01-01, NAT_DAYS when missing
    value_hash: npt.NDArray[np.int64]
    order: npt.NDArray[np.intp] | None = None  # input position of each row; None: input order


def _partition_order(year: npt.NDArray[np.int32], kecamatan: _Text) -> npt.NDArray[np.intp] | None:
    """Row order grouping equal (year, kecamatan), reading order kept within; None if grouped."""
    if len(year) < 2:
        return None
    group = (year - year.min()) * (len(kecamatan.names) + 1) + (kecamatan.codes + 1)
    if bool(np.all(group[1:] >= group[:-1])):
        return None
    if int(group.max()) < 2**16:  # numpy's stable sort of 16-bit integers is a radix sort
        return np.argsort(group.astype(np.uint16), kind="stable")
    return np.argsort(group, kind="stable")


def _with_missing(
    values: npt.NDArray[Any], arrow_type: pa.DataType, missing: npt.NDArray[np.bool_]
) -> pa.Array:
    """`values` as Arrow, null where `missing` (no validity bitmap when nothing is)."""
    return pa.array(values, arrow_type, mask=missing if missing.any() else None)


def _days_array(days: npt.NDArray[np.int64]) -> pa.Array:
    return _with_missing(days.astype(np.int32), pa.date32(), days == NAT_DAYS)


def stored_form(
    rows: pd.DataFrame,
    aliases: AliasTable,
    hasher: KeyHasher,
    *,
    import_id: str,
    source_file: str,
    source_sha256: str,
    key_source: str | None = None,
    key_cache: dict[bytes, bytes] | None = None,
    partition_order: bool = False,
) -> tuple[StagedBatch, ChildKeys, NormalisedPlaces]:
    """A canonical batch as the store keeps it, prepared one way for an import and for a
    direct read of files (so their figures agree): place names normalised, child keys (row
    keys from `key_source`, by default the file's SHA-256), then build_batch."""
    kelurahan, kecamatan = text_column(rows, "kelurahan"), text_column(rows, "kecamatan")
    places = normalise_places(kelurahan, kecamatan, aliases)
    keys = child_keys(
        rows, places.kelurahan, hasher, source_sha256=key_source or source_sha256,
        key_cache=key_cache,
    )  # fmt: skip
    staged = build_batch(
        rows, keys, places.kelurahan, places.kecamatan, import_id=import_id,
        source_file=source_file, source_sha256=source_sha256, partition_order=partition_order,
    )  # fmt: skip
    return staged, keys, places


def build_batch(
    rows: pd.DataFrame,
    keys: ChildKeys,
    kelurahan: pd.Series,
    kecamatan: pd.Series,
    *,
    import_id: str,
    source_file: str,
    source_sha256: str,
    partition_order: bool = False,
) -> StagedBatch:
    """The stored columns of a canonical batch: z-scores at full precision; flags and Permenkes
    statuses of the z-scores rounded to 2 decimals, as WHO Anthro reports them; provenance, hash.
    With `partition_order` the rows come out grouped by (visit year, kecamatan)."""
    n = len(rows)

    def column(name: str, dtype: Any, missing: Any) -> npt.NDArray[Any]:
        if name not in rows:
            return np.full(n, missing, dtype=dtype)
        return np.asarray(rows[name].to_numpy(dtype=dtype, na_value=missing))

    visit_days = day_numbers(rows["visit_date"]) if "visit_date" in rows else np.full(n, NAT_DAYS)
    year = calendar_parts(visit_days)[2].astype(np.int32)  # -1: no visit date
    kecamatan_text = _Text.of(kecamatan)
    order = _partition_order(year, kecamatan_text) if partition_order else None

    def arranged(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if order is None else values[order]

    birth_days = arranged(
        day_numbers(rows["birth_date"]) if "birth_date" in rows else np.full(n, NAT_DAYS)
    )
    visit_days, year = arranged(visit_days), arranged(year)
    kecamatan_text = kecamatan_text.take(order)
    places = {
        "posyandu": _facility(rows, "posyandu").take(order),
        "kelurahan": _Text.of(kelurahan).take(order),
        "puskesmas": _facility(rows, "puskesmas").take(order),
    }
    sex = arranged(column("sex", np.int8, 0))
    measure = arranged(column("measure", np.int8, 0))
    age_months = arranged(column("age_months", np.float64, np.nan))
    weight = arranged(column("weight_kg", np.float64, np.nan))
    height = arranged(column("height_cm", np.float64, np.nan))
    # oedema: 0 no, 1 yes, 2 missing (as value_hash words it)
    oedema_word = arranged(
        np.where(rows["oedema"].isna(), 2, rows["oedema"].fillna(False)).astype(np.uint8)
        if "oedema" in rows
        else np.full(n, 2, dtype=np.uint8)
    )
    lines = arranged(
        column("source_line", np.int64, 0) if "source_line" in rows else np.arange(1, n + 1)
    )

    # exact age in days (visit date - birth date), as kbtool.growth.frame.age_in_days gives it
    age_in_days = (visit_days - birth_days).astype(np.float64)
    age_in_days[(birth_days == NAT_DAYS) | (visit_days == NAT_DAYS)] = np.nan
    z = compute_zscore_arrays(
        sex=sex,
        age_days=age_in_days,
        weight_kg=weight,
        lenhei_cm=height,
        measure=measure,
        oedema=oedema_word == 1,
        age_months=age_months,
        full_precision=True,
    )
    columns: dict[str, pa.Array] = {
        "child_key": pa.array(arranged(keys.key), pa.int64()),
        "child_key_kind": pa.array(arranged(keys.kind), pa.int8()),
        "sex": pa.array(sex, pa.int8()),
        "birth_date": _days_array(birth_days),
        "visit_date": _days_array(visit_days),
        "age_days": _with_missing(
            np.nan_to_num(z.age_days).astype(np.int32), pa.int32(), np.isnan(z.age_days)
        ),
        "age_months": pa.array(age_months, from_pandas=True),
        "weight_kg": pa.array(weight, from_pandas=True),
        "height_cm": pa.array(height, from_pandas=True),
        "measure": pa.array(measure, pa.int8()),
        "lenhei_cm": pa.array(z.lenhei_cm, from_pandas=True),
        "position_flag": pa.array(z.position_flag, pa.bool_()),
        "oedema": pa.array(oedema_word == 1, pa.bool_(), mask=oedema_word == 2),
        "bmi": pa.array(z.bmi, from_pandas=True),
    }
    for indicator, (low, high) in FLAG_LIMITS.items():
        full = getattr(z, indicator)
        rounded = r_round(full, Z_DECIMALS)
        missing = np.isnan(full)
        with np.errstate(invalid="ignore"):
            flag = (rounded < low) | (rounded > high)
        columns[indicator] = pa.array(full, from_pandas=True)
        columns[f"{indicator}_flag"] = _with_missing(flag, pa.bool_(), missing)
        status = classify(rounded, indicator, flagged=flag)
        columns[f"{indicator}_status"] = _Text(
            np.asarray(status.codes, dtype=np.intp), pa.array(status.categories, pa.string())
        ).dictionary()
    columns |= {name: text.dictionary() for name, text in places.items()}
    columns["import_id"] = constant_column(import_id, n)
    columns["source_file"] = constant_column(source_file, n)
    columns["source_sha256"] = constant_column(source_sha256, n)
    columns["source_line"] = pa.array(lines, pa.int64())
    hashes = value_hash(
        {
            "sex": sex.astype(np.int64).view(np.uint64),
            "birth_date": birth_days.view(np.uint64),
            # the age in months counts only without a birth date (else WHO uses the dates)
            "age_months": float_words(np.where(birth_days == NAT_DAYS, age_months, np.nan)),
            "weight_kg": float_words(weight),
            "height_cm": float_words(height),
            "measure": measure.astype(np.int64).view(np.uint64),
            "oedema": oedema_word.astype(np.uint64),
            "kecamatan": kecamatan_text.words(),
            **{name: text.words() for name, text in places.items()},
        }
    )
    columns["value_hash"] = pa.array(hashes, pa.int64())
    table = pa.Table.from_arrays(
        [columns[name] for name in MEASUREMENT_SCHEMA.names], schema=MEASUREMENT_SCHEMA
    )
    return StagedBatch(
        table=table,
        year=year,
        kecamatan=pd.Series(
            pd.Categorical.from_codes(
                kecamatan_text.codes,
                categories=pd.Index(kecamatan_text.names.to_pylist(), dtype=object),
            )
        ),
        visit_days=visit_days,
        value_hash=hashes,
        order=order,
    )
