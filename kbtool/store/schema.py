"""The columns of a stored measurement, and how a canonical batch becomes them.

The column list and types are part of the store format (docs/store-format.md): users open the
files with pandas, DuckDB or Spark. `year` and `kecamatan` are not in the files: they are the hive
partition directories (year=YYYY/kecamatan=NAME), as Spark and DuckDB expect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.columns import NAT_DAYS, day_numbers, factorize, splitmix64
from kbtool.growth.categories import classify
from kbtool.growth.constants import BMIZ_FLAG, HAZ_FLAG, WAZ_FLAG, WHZ_FLAG, Z_DECIMALS
from kbtool.growth.rounding import r_round
from kbtool.growth.zscores import compute_zscore_arrays
from kbtool.places import facility_name
from kbtool.privacy import ChildKeys

INDICATORS = ("haz", "waz", "whz", "bmiz")
_FLAG_LIMITS = {"haz": HAZ_FLAG, "waz": WAZ_FLAG, "whz": WHZ_FLAG, "bmiz": BMIZ_FLAG}

# String columns with few distinct values per file are written dictionary-encoded: pyarrow then
# reads them back as categoricals (a few bytes a row instead of a Python string each), while for
# DuckDB and Spark they are ordinary strings.
DICTIONARY_COLUMNS = (
    "haz_status",
    "waz_status",
    "whz_status",
    "bmiz_status",
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
PARTITION_SCHEMA = pa.schema([pa.field("year", pa.int16()), pa.field("kecamatan", pa.string())])
MEASUREMENT_COLUMNS = tuple(MEASUREMENT_SCHEMA.names) + tuple(PARTITION_SCHEMA.names)

# Parquet dictionary encoding only where values repeat: trying it on z-scores, line numbers and
# hashes costs time and falls back to plain anyway.
PARQUET_DICTIONARY = [
    *DICTIONARY_COLUMNS,
    "superseded_by_import",
    "child_key",
    "child_key_kind",
    "sex",
    "birth_date",
    "visit_date",
    "age_days",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "lenhei_cm",
]
# Full-precision z-scores, BMI and value hashes are random 64-bit patterns: zstd saves under 2% on
# them (measured on a generated register) at a tenth of the writing time, so they are written
# uncompressed; everything else is zstd level 1 (about 30% smaller than snappy at the same speed).
UNCOMPRESSED_COLUMNS = ("haz", "waz", "whz", "bmi", "bmiz", "value_hash")
# Min/max statistics only on dates, ages and codes, where a reader can skip row groups with them;
# on z-scores, hashes and dictionary strings they cost a third of the writing time (measured) and
# prune nothing (each file already holds one year and kecamatan).
STATISTICS_COLUMNS = ["child_key_kind", "sex", "birth_date", "visit_date", "age_days", "measure"]
_ALL_COLUMNS = [*MEASUREMENT_SCHEMA.names, "superseded_by_import"]
# zstd level 1: files about 30% smaller than snappy at the same write speed (measured on a
# generated register, docs/store-format.md); 16 MiB dictionary pages keep a batch's child keys
# dictionary-encoded instead of falling back to plain after 1 MiB. Per-column compression and
# levels (pyarrow accepts a dict for both); the tests may replace "compression" by one codec.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": {c: "none" if c in UNCOMPRESSED_COLUMNS else "zstd" for c in _ALL_COLUMNS},
    "compression_level": {c: 1 for c in _ALL_COLUMNS if c not in UNCOMPRESSED_COLUMNS},
    "use_dictionary": PARQUET_DICTIONARY,
    "write_statistics": STATISTICS_COLUMNS,
    "dictionary_pagesize_limit": 1 << 24,
}


def constant_column(value: str, n: int) -> pa.DictionaryArray:
    """One string repeated n times, as a dictionary array (no n copies of the string)."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string())
    )


def as_dictionary(values: pd.Series | pa.Array) -> pa.Array:
    """Strings or a categorical as a dictionary<int32, string> array."""
    array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    return array.cast(DICTIONARY_STRING)


# The measured values that make two rows of one child and visit date "the same measurement".
VALUE_COLUMNS = (
    "sex",
    "birth_date",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "posyandu",
    "kelurahan",
    "kecamatan",
    "puskesmas",
)

# value_hash's constants (docs/store-format.md): the golden-ratio constant G and FNV-1a 64's prime
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)


def _float_bits(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
    """The IEEE-754 bits of floats, with one pattern for every NaN and 0.0 for -0.0."""
    with np.errstate(invalid="ignore"):  # a signalling NaN becomes np.nan like any other
        clean = values + 0.0
    clean[np.isnan(clean)] = np.nan
    return clean.view(np.uint64)


def _int_bits(values: npt.NDArray[np.integer]) -> npt.NDArray[np.uint64]:
    """Integers as 64-bit words: their int64 value's two's-complement bits."""
    return values.astype(np.int64).view(np.uint64)


def _string_hashes(values: Sequence[object]) -> npt.NDArray[np.uint64]:
    """8-byte BLAKE2b of each string's UTF-8, then 0 for missing (the last entry)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(str(u).encode(), digest_size=8).digest(), "little")
            for u in values
        ]
        + [0],
        dtype=np.uint64,
    )


def _text_hashes(values: pd.Series) -> npt.NDArray[np.uint64]:
    """8-byte BLAKE2b of each string's UTF-8 (0 for missing), computed once per distinct value."""
    codes, uniques = factorize(values)
    return _string_hashes(uniques)[np.where(codes >= 0, codes, len(uniques))]


def value_hash(columns: dict[str, npt.NDArray[np.uint64]]) -> npt.NDArray[np.int64]:
    """Combine per-column 64-bit words (in VALUE_COLUMNS order) into one hash per row.

    h = 0; for each column i (from 1): h = h * P + splitmix64(word_i + i * G); result
    splitmix64(h), with P the odd multiplier 0x100000001B3 (FNV-1a 64's prime) and G the
    golden-ratio constant 0x9E3779B97F4A7C15, all modulo 2^64, then read as a signed int64.
    """
    n = len(next(iter(columns.values())))
    h = np.zeros(n, dtype=np.uint64)
    word = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, name in enumerate(VALUE_COLUMNS, start=1):
            np.add(columns[name], _GOLDEN * np.uint64(position), out=word)
            np.multiply(h, _PRIME, out=h)
            np.add(h, splitmix64(word), out=h)
        return splitmix64(h).view(np.int64)


@dataclass(frozen=True)
class StagedBatch:
    """A batch in stored form plus what the import needs to place and deduplicate it.

    Every array is aligned with the table's rows. With `partition_order` the rows are grouped by
    (visit year, kecamatan) and `order` holds each row's position in the input batch.
    """

    table: pa.Table
    year: npt.NDArray[np.int32]  # visit year, -1 when the visit date is missing
    kecamatan: pd.Series  # categorical, canonical names
    visit_days: npt.NDArray[np.int64]  # days since 1970-01-01, NAT_DAYS when missing
    value_hash: npt.NDArray[np.int64]
    order: npt.NDArray[np.intp] | None = None  # input position of each row; None: input order


def batch_value_hash(
    *,
    sex: npt.NDArray[np.int8],
    birth_days: npt.NDArray[np.int64],
    age_months: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    height: npt.NDArray[np.float64],
    measure: npt.NDArray[np.int8],
    oedema_word: npt.NDArray[np.uint8],
    posyandu: _Coded,
    kelurahan: _Coded,
    kecamatan: _Coded,
    puskesmas: _Coded,
) -> npt.NDArray[np.int64]:
    """`value_hash` of a batch's VALUE_COLUMNS, each value made a word as docs/store-format.md
    defines.

    Birth days are NAT_DAYS where missing; age in months counts only where the birth date is
    missing (else WHO uses the dates); `oedema_word` is 0, 1, or 2 for missing.
    """
    return value_hash(
        {
            "sex": _int_bits(sex),
            "birth_date": _int_bits(birth_days),
            "age_months": _float_bits(np.where(birth_days == NAT_DAYS, age_months, np.nan)),
            "weight_kg": _float_bits(weight),
            "height_cm": _float_bits(height),
            "measure": _int_bits(measure),
            "oedema": oedema_word.astype(np.uint64),
            "posyandu": posyandu.hashes(),
            "kelurahan": kelurahan.hashes(),
            "kecamatan": kecamatan.hashes(),
            "puskesmas": puskesmas.hashes(),
        }
    )


def _day_numbers(rows: pd.DataFrame, column: str) -> npt.NDArray[np.int64]:
    """Calendar days since 1970-01-01 (columns.day_numbers), NAT_DAYS where missing or absent."""
    if column not in rows:
        return np.full(len(rows), NAT_DAYS, dtype=np.int64)
    return day_numbers(rows[column])


def _numbers(rows: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    if column not in rows:
        return np.full(len(rows), np.nan)
    return np.asarray(rows[column].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _codes(rows: pd.DataFrame, column: str) -> npt.NDArray[np.int8]:
    if column not in rows:
        return np.zeros(len(rows), dtype=np.int8)
    return np.asarray(rows[column].fillna(0).to_numpy(dtype=np.int8))


@dataclass(frozen=True)
class _Coded:
    """A text column as codes (-1: missing) into distinct strings."""

    codes: npt.NDArray[np.intp]
    names: list[object]

    def take(self, order: npt.NDArray[np.intp] | None) -> _Coded:
        return self if order is None else _Coded(self.codes[order], self.names)

    def dictionary(self) -> pa.DictionaryArray:
        """As a dictionary<int32, string> array, nulls where missing."""
        codes = self.codes.astype(np.int32)
        missing = codes < 0
        indices = pa.array(codes, mask=missing if missing.any() else None)
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.names, pa.string()))

    def hashes(self) -> npt.NDArray[np.uint64]:
        """_text_hashes of the column (per distinct name)."""
        # code -1 (missing) picks the last entry, 0
        return _string_hashes(self.names)[self.codes]

    def series(self) -> pd.Series:
        categories = pd.Index(self.names, dtype=object)
        return pd.Series(pd.Categorical.from_codes(self.codes, categories=categories))


def _coded(values: pd.Series) -> _Coded:
    codes, names = factorize(values)
    return _Coded(codes, names)


def _facility(rows: pd.DataFrame, column: str) -> _Coded:
    """Posyandu or puskesmas names in one spelling (places.facility_name), per distinct value."""
    if column not in rows:
        return _Coded(np.full(len(rows), -1, dtype=np.intp), [])
    codes, uniques = factorize(rows[column])
    cleaned = pd.Series([facility_name(str(u)) for u in uniques], dtype=object)
    clean_codes, clean_uniques = pd.factorize(cleaned, use_na_sentinel=True)
    row_codes = (
        np.where(codes >= 0, clean_codes[np.maximum(codes, 0)], -1)
        if len(uniques)
        else (np.full(len(rows), -1))
    )
    return _Coded(row_codes.astype(np.intp), list(np.asarray(clean_uniques, dtype=object)))


def _partition_order(year: npt.NDArray[np.int32], kecamatan: _Coded) -> npt.NDArray[np.intp] | None:
    """Row order grouping equal (year, kecamatan), reading order kept within; None if grouped."""
    if len(year) < 2:
        return None
    span = len(kecamatan.names) + 1
    group = (year.astype(np.int64) - int(year.min())) * span + (kecamatan.codes + 1)
    if bool(np.all(group[1:] >= group[:-1])):
        return None
    if int(group.max()) < 2**16:
        # numpy's stable sort of 16-bit integers is a radix sort, several times faster
        return np.argsort(group.astype(np.uint16), kind="stable")
    return np.argsort(group, kind="stable")


def _years(days: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    """Calendar year of each day number, -1 where missing."""
    missing = days == NAT_DAYS
    if missing.all():
        return np.full(len(days), -1, dtype=np.int32)
    first, last = int(days[~missing].min()), int(days[~missing].max())
    if last - first > 1_000_000:
        years = days.astype("datetime64[D]").astype("datetime64[Y]").view(np.int64) + 1970
        return np.where(missing, -1, years).astype(np.int32)
    # numpy's calendar cast once per day of the span (a few thousand), then one look-up a row
    span = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[Y]")
    table = (span.view(np.int64) + 1970).astype(np.int32)
    return np.where(missing, np.int32(-1), table[np.where(missing, 0, days - first)])


def _status(
    rounded: npt.NDArray[np.float64], indicator: str, flag: npt.NDArray[np.bool_]
) -> pa.Array:
    categorical = classify(rounded, indicator, flagged=flag)
    return _Coded(
        np.asarray(categorical.codes, dtype=np.intp),
        list(np.asarray(categorical.categories, dtype=object)),
    ).dictionary()


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
    """The stored columns of a canonical batch: z-scores, flags, statuses, provenance, hash.

    Z-scores are kept at full precision; flags and Permenkes statuses are those of the z-scores
    rounded to 2 decimals, exactly as WHO Anthro (and `kbtool zscore`) report them. With
    `partition_order` the rows come out grouped by (visit year, kecamatan), ready to be written
    partition by partition without reordering the finished table (StagedBatch.order).
    """
    n = len(rows)
    birth_days = _day_numbers(rows, "birth_date")
    visit_days = _day_numbers(rows, "visit_date")
    year = _years(visit_days)
    kecamatan_coded = _coded(kecamatan)
    order = _partition_order(year, kecamatan_coded) if partition_order else None

    def arranged(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        # input columns are put in partition order once, before anything is computed from them
        return values if order is None else values[order]

    birth_days, visit_days, year = arranged(birth_days), arranged(visit_days), arranged(year)
    kecamatan_coded = kecamatan_coded.take(order)
    kelurahan_coded = _coded(kelurahan).take(order)
    posyandu = _facility(rows, "posyandu").take(order)
    puskesmas = _facility(rows, "puskesmas").take(order)
    sex = arranged(_codes(rows, "sex"))
    measure = arranged(_codes(rows, "measure"))
    age_months = arranged(_numbers(rows, "age_months"))
    weight = arranged(_numbers(rows, "weight_kg"))
    height = arranged(_numbers(rows, "height_cm"))
    if "oedema" in rows:
        oedema_values = rows["oedema"]
        oedema_missing = arranged(oedema_values.isna().to_numpy(dtype=bool))
        oedema_true = arranged(oedema_values.fillna(False).to_numpy(dtype=bool))
        oedema = pa.array(
            oedema_true, type=pa.bool_(), mask=oedema_missing if oedema_missing.any() else None
        )
        oedema_word = np.where(oedema_missing, 2, oedema_true).astype(np.uint8)
    else:
        oedema_true = np.zeros(n, dtype=bool)
        oedema = pa.nulls(n, pa.bool_())
        oedema_word = np.full(n, 2, dtype=np.uint8)
    lines = (
        rows["source_line"].to_numpy(dtype=np.int64)
        if "source_line" in rows
        else np.arange(1, n + 1)
    )

    birth_missing = birth_days == NAT_DAYS
    # exact age in days (visit date - birth date), as kbtool.growth.frame.age_in_days gives it
    age_in_days = (visit_days - birth_days).astype(np.float64)
    age_in_days[birth_missing | (visit_days == NAT_DAYS)] = np.nan
    z = compute_zscore_arrays(
        sex=sex,
        age_days=age_in_days,
        weight_kg=weight,
        lenhei_cm=height,
        measure=measure,
        oedema=oedema_true,
        age_months=age_months,
        full_precision=True,
    )

    def days_array(days: npt.NDArray[np.int64]) -> pa.Array:
        missing = days == NAT_DAYS
        return pa.array(
            days.astype(np.int32), type=pa.date32(), mask=missing if missing.any() else None
        )

    age_days = z.age_days
    age_missing = np.isnan(age_days)
    columns: dict[str, pa.Array] = {
        "child_key": pa.array(arranged(keys.key), type=pa.int64()),
        "child_key_kind": pa.array(arranged(keys.kind), type=pa.int8()),
        "sex": pa.array(sex, type=pa.int8()),
        "birth_date": days_array(birth_days),
        "visit_date": days_array(visit_days),
        "age_days": pa.array(
            np.nan_to_num(age_days).astype(np.int32),
            mask=age_missing if age_missing.any() else None,
        ),
        "age_months": pa.array(age_months, from_pandas=True),
        "weight_kg": pa.array(weight, from_pandas=True),
        "height_cm": pa.array(height, from_pandas=True),
        "measure": pa.array(measure, type=pa.int8()),
        "lenhei_cm": pa.array(z.lenhei_cm, from_pandas=True),
        "position_flag": pa.array(z.position_flag, type=pa.bool_()),
        "oedema": oedema,
    }
    statuses: dict[str, pa.Array] = {}
    for indicator in INDICATORS:
        full = getattr(z, indicator)
        rounded = r_round(full, Z_DECIMALS)
        missing = np.isnan(full)
        low, high = _FLAG_LIMITS[indicator]
        with np.errstate(invalid="ignore"):
            flag = (rounded < low) | (rounded > high)
        columns[indicator] = pa.array(full, from_pandas=True)
        columns[f"{indicator}_flag"] = pa.array(
            flag, type=pa.bool_(), mask=missing if missing.any() else None
        )
        if indicator == "bmiz":
            columns["bmi"] = pa.array(z.bmi, from_pandas=True)
        statuses[f"{indicator}_status"] = _status(rounded, indicator, flag)
    columns.update(statuses)
    columns["posyandu"] = posyandu.dictionary()
    columns["kelurahan"] = kelurahan_coded.dictionary()
    columns["puskesmas"] = puskesmas.dictionary()
    columns["import_id"] = constant_column(import_id, n)
    columns["source_file"] = constant_column(source_file, n)
    columns["source_sha256"] = constant_column(source_sha256, n)
    columns["source_line"] = pa.array(arranged(lines), type=pa.int64())

    hashes = batch_value_hash(
        sex=sex,
        birth_days=birth_days,
        age_months=age_months,
        weight=weight,
        height=height,
        measure=measure,
        oedema_word=oedema_word,
        posyandu=posyandu,
        kelurahan=kelurahan_coded,
        kecamatan=kecamatan_coded,
        puskesmas=puskesmas,
    )
    columns["value_hash"] = pa.array(hashes, type=pa.int64())
    table = pa.Table.from_arrays(
        [columns[name] for name in MEASUREMENT_SCHEMA.names], schema=MEASUREMENT_SCHEMA
    )
    return StagedBatch(
        table=table,
        year=year,
        kecamatan=kecamatan_coded.series() if order is not None else kecamatan,
        visit_days=visit_days,
        value_hash=hashes,
        order=order,
    )
