"""The columns of a stored measurement, and how a canonical batch becomes them.

The column list and types are part of the store format (docs/store-format.md): users open the
files with pandas, DuckDB or Spark. `year` and `kecamatan` are not in the files: they are the hive
partition directories (year=YYYY/kecamatan=NAME), as Spark and DuckDB expect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.growth.categories import classify
from kbtool.growth.constants import BMIZ_FLAG, HAZ_FLAG, WAZ_FLAG, WHZ_FLAG, Z_DECIMALS
from kbtool.growth.frame import zscores_for_frame
from kbtool.growth.rounding import r_round
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
]
# zstd level 1: files about 30% smaller than snappy at the same write speed (measured on a
# generated register, docs/store-format.md); 16 MiB dictionary pages keep a batch's child keys
# dictionary-encoded instead of falling back to plain after 1 MiB.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": PARQUET_DICTIONARY,
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

NAT_DAYS = np.iinfo(np.int64).min  # datetime64 NaT as an integer

# splitmix64 (Steele, Lea & Flood 2014) constants: a fixed, documented mixer, so value hashes
# stay equal across kbtool, numpy and pandas versions.
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)


def _splitmix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX_1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX_2
    return x ^ (x >> np.uint64(31))


def _float_bits(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
    # one bit pattern for every NaN and for -0.0/0.0
    clean = np.where(np.isnan(values), np.nan, values + 0.0)
    return clean.astype(np.float64).view(np.uint64)


def _text_hashes(values: pd.Series) -> npt.NDArray[np.uint64]:
    """8-byte BLAKE2b of each string's UTF-8 (0 for missing), computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hashed = np.array(
        [
            int.from_bytes(hashlib.blake2b(str(u).encode(), digest_size=8).digest(), "little")
            for u in np.asarray(uniques, dtype=object).tolist()
        ]
        + [0],
        dtype=np.uint64,
    )
    return hashed[np.where(codes >= 0, codes, len(uniques))]


def value_hash(columns: dict[str, npt.NDArray[np.uint64]]) -> npt.NDArray[np.int64]:
    """Combine per-column 64-bit words (in VALUE_COLUMNS order) into one hash per row.

    h = 0; for each column i (from 1): h = h * P + splitmix64(word_i + i * G); result
    splitmix64(h), with P the odd multiplier 0x100000001B3 (FNV-1a 64's prime) and G the
    golden-ratio constant 0x9E3779B97F4A7C15, all modulo 2^64, then read as a signed int64.
    """
    n = len(next(iter(columns.values())))
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, name in enumerate(VALUE_COLUMNS, start=1):
            h = h * _PRIME + _splitmix(columns[name] + _GOLDEN * np.uint64(position))
        return _splitmix(h).view(np.int64)


@dataclass(frozen=True)
class StagedBatch:
    """A batch in stored form plus what the import needs to place and deduplicate it."""

    table: pa.Table
    year: npt.NDArray[np.int32]  # visit year, -1 when the visit date is missing
    kecamatan: pd.Series  # categorical, canonical names
    visit_days: npt.NDArray[np.int64]  # days since 1970-01-01, NAT_DAYS when missing
    value_hash: npt.NDArray[np.int64]


def _dates(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows:
        return pd.Series(pd.NaT, index=rows.index, dtype="datetime64[s]")
    return pd.to_datetime(rows[column]).dt.floor("D")


def _numbers(rows: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    if column not in rows:
        return np.full(len(rows), np.nan)
    return np.asarray(rows[column].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _codes(rows: pd.DataFrame, column: str) -> npt.NDArray[np.int8]:
    if column not in rows:
        return np.zeros(len(rows), dtype=np.int8)
    return np.asarray(rows[column].fillna(0).to_numpy(dtype=np.int8))


def _text(rows: pd.DataFrame, column: str) -> pd.Series:
    """Posyandu or puskesmas names in one spelling (places.facility_name), per distinct value."""
    if column not in rows:
        return pd.Series(pd.Categorical([None] * len(rows)), index=rows.index)
    codes, uniques = pd.factorize(rows[column], use_na_sentinel=True)
    cleaned = pd.Series(
        [facility_name(u) for u in np.asarray(uniques, dtype=object).tolist()], dtype=object
    )
    clean_codes, clean_uniques = pd.factorize(cleaned, use_na_sentinel=True)
    row_codes = (
        np.where(codes >= 0, clean_codes[np.maximum(codes, 0)], -1)
        if len(uniques)
        else (np.full(len(rows), -1))
    )
    categorical = pd.Categorical.from_codes(
        row_codes, categories=pd.Index(clean_uniques, dtype=object)
    )
    return pd.Series(categorical, index=rows.index)


def build_batch(
    rows: pd.DataFrame,
    keys: ChildKeys,
    kelurahan: pd.Series,
    kecamatan: pd.Series,
    *,
    import_id: str,
    source_file: str,
    source_sha256: str,
) -> StagedBatch:
    """The stored columns of a canonical batch: z-scores, flags, statuses, provenance, hash.

    Z-scores are kept at full precision; flags and Permenkes statuses are those of the z-scores
    rounded to 2 decimals, exactly as WHO Anthro (and `kbtool zscore`) report them.
    """
    n = len(rows)
    birth = _dates(rows, "birth_date")
    visit = _dates(rows, "visit_date")
    frame = rows.assign(birth_date=birth, visit_date=visit) if n else rows
    z = zscores_for_frame(frame, full_precision=True)

    sex = _codes(rows, "sex")
    measure = _codes(rows, "measure")
    age_months = _numbers(rows, "age_months")
    weight = _numbers(rows, "weight_kg")
    height = _numbers(rows, "height_cm")
    if "oedema" in rows:
        oedema_values = rows["oedema"]
        oedema = pa.array(
            oedema_values.astype(object).where(oedema_values.notna(), None),
            type=pa.bool_(),
            from_pandas=True,
        )
        oedema_word = np.where(
            oedema_values.isna().to_numpy(), 2, oedema_values.fillna(False).to_numpy(dtype=bool)
        ).astype(np.uint64)
    else:
        oedema = pa.nulls(n, pa.bool_())
        oedema_word = np.full(n, 2, dtype=np.uint64)
    posyandu = _text(rows, "posyandu")
    puskesmas = _text(rows, "puskesmas")

    birth_days = birth.to_numpy(dtype="datetime64[D]").astype(np.int64)
    visit_days = visit.to_numpy(dtype="datetime64[D]").astype(np.int64)
    age_days = z.age_days
    columns: dict[str, pa.Array] = {
        "child_key": pa.array(keys.key, type=pa.int64()),
        "child_key_kind": pa.array(keys.kind, type=pa.int8()),
        "sex": pa.array(sex, type=pa.int8()),
        "birth_date": pa.array(
            birth.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True
        ),
        "visit_date": pa.array(
            visit.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True
        ),
        "age_days": pa.array(np.nan_to_num(age_days).astype(np.int32), mask=np.isnan(age_days)),
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
        columns[f"{indicator}_flag"] = pa.array(flag, type=pa.bool_(), mask=missing)
        if indicator == "bmiz":
            columns["bmi"] = pa.array(z.bmi, from_pandas=True)
        statuses[f"{indicator}_status"] = as_dictionary(
            pd.Series(classify(rounded, indicator, flagged=flag))
        )
    columns.update(statuses)
    columns["posyandu"] = as_dictionary(posyandu)
    columns["kelurahan"] = as_dictionary(kelurahan)
    columns["puskesmas"] = as_dictionary(puskesmas)
    columns["import_id"] = constant_column(import_id, n)
    columns["source_file"] = constant_column(source_file, n)
    columns["source_sha256"] = constant_column(source_sha256, n)
    lines = (
        rows["source_line"].to_numpy(dtype=np.int64)
        if "source_line" in rows
        else np.arange(1, n + 1)
    )
    columns["source_line"] = pa.array(lines, type=pa.int64())

    words = {
        "sex": sex.astype(np.uint64),
        "birth_date": birth_days.view(np.uint64),
        # age in months is a value of its own only without a birth date (else WHO uses the dates)
        "age_months": _float_bits(np.where(birth_days == NAT_DAYS, age_months, np.nan)),
        "weight_kg": _float_bits(weight),
        "height_cm": _float_bits(height),
        "measure": measure.astype(np.uint64),
        "oedema": oedema_word,
        "posyandu": _text_hashes(posyandu),
        "kelurahan": _text_hashes(kelurahan),
        "kecamatan": _text_hashes(kecamatan),
        "puskesmas": _text_hashes(puskesmas),
    }
    hashes = value_hash(words)
    columns["value_hash"] = pa.array(hashes, type=pa.int64())
    table = pa.Table.from_arrays(
        [columns[name] for name in MEASUREMENT_SCHEMA.names], schema=MEASUREMENT_SCHEMA
    )
    year = np.where(
        visit_days == NAT_DAYS, -1, visit.dt.year.fillna(-1).to_numpy(dtype=np.int64)
    ).astype(np.int32)
    return StagedBatch(
        table=table, year=year, kecamatan=kecamatan, visit_days=visit_days, value_hash=hashes
    )
