"""Pseudonymous child keys: NIK and names never leave this module in clear.

A child key is HMAC-SHA-256 (RFC 2104) under a 32-byte secret created with the store, truncated to
its first 8 bytes and read as a big-endian signed 64-bit integer: compact and fast to group by
(20 million rows load in a fraction of the time 32-character strings take). Two children share
a key with probability about n^2 / 2^65, one in ten million for two million children. The HMAC
message says which kind of key it is, so keys of different kinds never come from the same input
(domain separation):

* ``nik``:  ``b"kbtool/child/nik/v1\\x00" + NIK`` where the row's child_id is a valid NIK (below);
* ``name``: ``b"kbtool/child/name/v1\\x00" + name \\x1f birth date \\x1f sex \\x1f kelurahan``,
  with the name normalised (casefold, accents and punctuation dropped, spaces collapsed), for rows
  with a name and a birth date but no valid NIK;
* ``id``: ``b"kbtool/child/id/v1\\x00" + child_id \\x1f birth date \\x1f sex`` for rows with
  neither a valid NIK nor a usable name but some other child identifier (a register's own child
  number, a NIK that fails the checks below): the birth date and sex keep two children who
  share a local number, or a parent's NIK, apart;
* ``row``: for rows with none of these,
  ``HMAC(b"kbtool/child/row/v1\\x00" + source SHA-256)`` XOR the row's line number mixed by
  splitmix64 (a bijection): each such row is a child of its own, and re-importing the same file
  yields the same keys.

A valid NIK (Nomor Induk Kependudukan, UU 24/2013 and Permendagri 72/2019 on its layout) is 16
digits: province code 11-97, regency and district codes not 00, the holder's birth day (plus 40
for women) and month, and a serial that is not 0000. When the row has a birth date, the NIK's
embedded day, month and two-digit year must agree with it: registers often carry a parent's NIK for
a child without one, and keying siblings by their mother's NIK would merge them.

Hashing is done once per distinct value (NIKs, name/birth/sex/kelurahan combinations), never per
row: a batch of a million visits holds a tenth as many children.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.errors import StoreError

SECRET_BYTES = 32  # 256-bit key, the HMAC-SHA-256 block-size-safe length (RFC 2104, section 3)
KEY_BYTES = 8  # 64 bits: the birthday bound n^2/2^65 is 1e-7 for two million children

# child_key_kind codes stored next to each key
KEY_KIND_ROW = 0
KEY_KIND_NIK = 1
KEY_KIND_NAME = 2
KEY_KIND_ID = 3

_DOMAIN_NIK = b"kbtool/child/nik/v1\x00"
_DOMAIN_NAME = b"kbtool/child/name/v1\x00"
_DOMAIN_ROW = b"kbtool/child/row/v1\x00"
_DOMAIN_ID = b"kbtool/child/id/v1\x00"
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a normalised name or date

# NIK layout (Permendagri 72/2019): PP KK CC DD MM YY SSSS
_NIK_MIN_PROVINCE, _NIK_MAX_PROVINCE = 11, 97
_NIK_FEMALE_DAY_OFFSET = 40

# Birth dates spanning at most this many days (about 270 years) are split into day, month and
# year through a table of the span: numpy's calendar casts cost ~0.2 s per million rows.
_DATE_TABLE_DAYS = 100_000

# An "An." (anak, child) prefix is written before many children's names in posyandu books.
_CHILD_PREFIX = r"^\s*an\.\s*"


def create_secret(path: Path) -> bytes:
    """Create the store's secret: 32 random bytes in a new file only its owner can read (0600).

    Fails if the file exists, so a secret is never replaced (that would change every key).
    """
    key = secrets.token_bytes(SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def load_secret(path: Path) -> bytes:
    """Read the store's secret, refusing one that others can read or one of the wrong size."""
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except FileNotFoundError as err:
        raise StoreError(
            f"the store's secret {path} is missing; without it new child keys would not match "
            "the stored ones: restore it from a backup"
        ) from err
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StoreError(
            f"the store's secret {path} is readable by other users; run `chmod 600 {path}`"
        )
    if len(key) != SECRET_BYTES:
        raise StoreError(f"the store's secret {path} is damaged ({len(key)} bytes, not 32)")
    return key


class KeyHasher:
    """HMAC-SHA-256 under one secret, with the key's inner and outer pads hashed once.

    Equal to `hmac.digest(secret, domain + message, "sha256")[:16]` (checked in the tests) but
    about 4x faster per message, which matters for the millions of distinct children a year.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_BYTES:
            raise ValueError("the secret must be 32 bytes")
        block = secret.ljust(64, b"\x00")  # SHA-256 block size (RFC 2104 with B = 64)
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digests(self, domain: bytes, messages: Sequence[bytes]) -> npt.NDArray[np.uint8]:
        """Truncated HMACs of `domain + message` for each message, as an (n, 16) byte array."""
        joined = b"".join(self.digest_list(domain, messages))
        return np.frombuffer(joined, dtype=np.uint8).reshape(len(messages), KEY_BYTES)

    def digest_list(self, domain: bytes, messages: Sequence[bytes]) -> list[bytes]:
        """Truncated HMACs of `domain + message` for each message, as bytes of 16."""
        inner = self._inner.copy()
        inner.update(domain)
        inner_copy, outer_copy = inner.copy, self._outer.copy

        def one(message: bytes) -> bytes:
            i = inner_copy()
            i.update(message)
            o = outer_copy()
            o.update(i.digest())
            return o.digest()[:KEY_BYTES]

        return list(map(one, messages))


@dataclass(frozen=True)
class NikColumn:
    """Valid NIKs of a column: each row's index into `values` (-1: none) and the distinct NIKs."""

    codes: npt.NDArray[np.intp]
    values: npt.NDArray[np.object_]
    present: npt.NDArray[np.bool_]  # child_id was filled in (valid or not)


def _calendar_parts(days: npt.NDArray[np.datetime64]) -> tuple[npt.NDArray[np.int64], ...]:
    """(day, month, year) of each datetime64[D], -1 where NaT, by numpy calendar arithmetic."""
    missing = np.isnat(days)
    months = days.astype("datetime64[M]")
    years = days.astype("datetime64[Y]")
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    year = years.astype(np.int64) + 1970
    return tuple(np.where(missing, -1, part) for part in (day, month, year))


def _calendar_days(stamps: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
    """datetime64 values as datetime64[D] (floored, NaT kept)."""
    if stamps.dtype != np.dtype("datetime64[s]"):
        return stamps.astype("datetime64[D]")
    # the reader's unit: floor-divide the seconds (numpy's cast does this several times slower)
    seconds = stamps.view(np.int64)
    days = np.floor_divide(seconds, 86_400)
    days[np.isnat(stamps)] = np.iinfo(np.int64).min  # NaT
    return days.view("datetime64[D]")


def _date_parts(dates: pd.Series) -> tuple[npt.NDArray[np.int64], ...]:
    """(day, month, year) of each date, -1 where missing."""
    days = _calendar_days(pd.to_datetime(dates).to_numpy())
    missing = np.isnat(days)
    if missing.all():
        return tuple(np.full(len(days), -1, dtype=np.int64) for _ in range(3))
    numbers = days.view(np.int64)
    first, last = int(numbers[~missing].min()), int(numbers[~missing].max())
    if last - first > _DATE_TABLE_DAYS:
        return _calendar_parts(days)
    # calendar arithmetic once per day of the span (a few thousand), then one look-up a row
    span = _calendar_parts(np.arange(first, last + 1).astype("datetime64[D]"))
    offset = np.where(missing, 0, numbers - first)
    return tuple(np.where(missing, -1, part[offset]) for part in span)


def parse_nik(child_id: pd.Series, birth_date: pd.Series | None = None) -> NikColumn:
    """Find the valid NIKs in a child_id column, working once per distinct value.

    Spaces, dots, dashes and a leading apostrophe (Excel's text marker) are dropped and a trailing
    ".0" (a NIK that went through a float) is removed. See the module docstring for validity.
    """
    n = len(child_id)
    codes, uniques = pd.factorize(child_id, use_na_sentinel=True)
    if len(uniques) == 0:
        return NikColumn(
            np.full(n, -1, dtype=np.intp), np.empty(0, dtype=object), np.zeros(n, dtype=bool)
        )
    # Arrow compute over the distinct values: C++ string kernels instead of Python loops
    text = pc.utf8_trim_whitespace(pa.array(np.asarray(uniques, dtype=object), pa.string()))
    blank = pc.equal(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    text = pc.replace_substring_regex(text, r"^'|\.0$|[\s.\-]", "")
    is_digits = pc.match_substring_regex(text, r"^\d{16}$").to_numpy(zero_copy_only=False)
    digits = pc.if_else(pa.array(is_digits), text, "0" * 16)

    def field(a: int, b: int) -> npt.NDArray[np.int64]:
        part = pc.utf8_slice_codeunits(digits, a, b).cast(pa.int64())
        return np.asarray(part.to_numpy(zero_copy_only=False), dtype=np.int64)

    province, regency, district = field(0, 2), field(2, 4), field(4, 6)
    day, month, year2, serial = field(6, 8), field(8, 10), field(10, 12), field(12, 16)
    day = np.where(day > _NIK_FEMALE_DAY_OFFSET, day - _NIK_FEMALE_DAY_OFFSET, day)
    valid = is_digits & (province >= _NIK_MIN_PROVINCE) & (province <= _NIK_MAX_PROVINCE)
    valid &= (regency > 0) & (district > 0) & (serial > 0)
    valid &= (day >= 1) & (day <= 31) & (month >= 1) & (month <= 12)

    # distinct values that clean to the same NIK share one code
    clean_codes, clean_values = pd.factorize(
        pd.Series(digits.to_numpy(zero_copy_only=False), dtype=object).where(valid)
    )
    row_unique = np.maximum(codes, 0)
    row_code = np.where(codes >= 0, clean_codes[row_unique], -1).astype(np.intp)
    if birth_date is not None:
        b_day, b_month, b_year = _date_parts(birth_date)
        known = (row_code >= 0) & (b_day > 0)
        agree = (
            (day[row_unique] == b_day)
            & (month[row_unique] == b_month)
            & (year2[row_unique] == b_year % 100)
        )
        row_code = np.where(known & ~agree, -1, row_code).astype(np.intp)
    present = (codes >= 0) & ~blank[row_unique]
    return NikColumn(row_code, np.asarray(clean_values, dtype=object), present)


def clean_nik(child_id: pd.Series, birth_date: pd.Series | None = None) -> pd.Series:
    """The 16-digit NIK of each row where child_id holds a valid one, else missing."""
    parsed = parse_nik(child_id, birth_date)
    values = np.concatenate([parsed.values, np.array([None], dtype=object)])
    return pd.Series(values[parsed.codes], index=child_id.index, dtype=object)


def _fold_name(text: str) -> str:
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_person_name(names: pd.Series) -> pd.Series:
    """Names folded for matching: casefold, accents and punctuation dropped, spaces collapsed.

    "An. Siti Nur'aini", "SITI  NURAINI" and "Siti Nuraini" all give "siti nuraini". Missing or
    empty names give missing. Works per distinct value.
    """
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    text = pd.Series(
        [_fold_name(str(u)) for u in np.asarray(uniques, dtype=object).tolist()], dtype=object
    )
    text = text.str.replace(_CHILD_PREFIX, "", regex=True)
    text = text.str.replace(r"['`\u2019]", "", regex=True)  # Nur'aini = Nuraini
    text = text.str.replace(r"[\W_]+", " ", regex=True).str.strip()
    folded = np.concatenate(
        [text.where(text != "", None).to_numpy(dtype=object), np.array([None], dtype=object)]
    )
    rows = folded[np.where(codes >= 0, codes, len(folded) - 1)]
    return pd.Series(rows, index=names.index, dtype=object)


@dataclass(frozen=True)
class ChildKeys:
    """The key and key kind of every row of a batch."""

    key: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    nik_present_unused: int

    @property
    def without_key(self) -> int:
        """Rows keyed by their own file and line (no valid NIK, no name with birth date)."""
        return int((self.kind == KEY_KIND_ROW).sum())


def digests_to_keys(digests: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """(n, 8) HMAC prefixes as big-endian signed 64-bit keys."""
    return np.ascontiguousarray(digests).view(">i8").astype(np.int64).reshape(-1)


def _group_codes(
    columns: Sequence[npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Exact group code of each row over integer code columns, and each group's first row."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        span = int(column.max()) + 1 if len(column) else 1
        combined, _ = pd.factorize(combined * span + column)
        combined = combined.astype(np.int64)
    codes = combined.astype(np.intp)
    _, first = np.unique(codes, return_index=True)
    return codes, first


def child_keys(
    rows: pd.DataFrame,
    kelurahan: pd.Series,
    hasher: KeyHasher,
    *,
    source_sha256: str,
    key_cache: dict[bytes, bytes] | None = None,
    on_hash: Callable[[int], None] | None = None,
) -> ChildKeys:
    """The child key of every row of a canonical batch (see the module docstring).

    `kelurahan` is the normalised kelurahan name used in name-based keys. `key_cache` (HMAC input
    -> key bytes) may be shared between batches of one import so a child is hashed once per
    import; it lives in memory only.
    """
    n = len(rows)
    nik = parse_nik(_text(rows, "child_id", n), rows.get("birth_date"))
    birth = (
        pd.to_datetime(rows["birth_date"])
        if "birth_date" in rows
        else pd.Series(pd.NaT, index=rows.index)
    )
    kind = np.full(n, KEY_KIND_ROW, dtype=np.int8)
    has_nik = nik.codes >= 0
    nik_present_unused = int((nik.present & ~has_nik).sum())

    key = np.zeros(n, dtype=np.int64)

    # NIK keys: one HMAC per distinct NIK (and per import with the shared cache)
    if has_nik.any():
        kind[has_nik] = KEY_KIND_NIK
        # the distinct NIKs the rows use, by a mask over the batch's NIKs (no sort of the rows)
        codes = nik.codes[has_nik]
        used = np.zeros(len(nik.values), dtype=bool)
        used[codes] = True
        wanted = np.flatnonzero(used)
        messages = [str(v).encode("ascii") for v in nik.values[wanted].tolist()]
        digests = _cached_digests(hasher, _DOMAIN_NIK, messages, key_cache, on_hash)
        value_keys = np.zeros(len(nik.values), dtype=np.int64)
        value_keys[wanted] = digests_to_keys(digests)
        key[has_nik] = value_keys[codes]

    # name keys: one HMAC per distinct (name, birth date, sex, kelurahan), only where no NIK
    candidates = np.flatnonzero(~has_nik & birth.notna().to_numpy())
    if candidates.size:
        names = normalise_person_name(_text(rows, "name", n).iloc[candidates])
        named = names.notna().to_numpy()
        name_idx = candidates[named]
    else:
        names, named, name_idx = pd.Series(dtype=object), np.zeros(0, dtype=bool), candidates
    if name_idx.size:
        kind[name_idx] = KEY_KIND_NAME
        name_codes, name_uniques = pd.factorize(names[named])
        birth_days = birth.iloc[name_idx].to_numpy(dtype="datetime64[D]").astype(np.int64)
        birth_codes, birth_uniques = pd.factorize(birth_days)
        sex = _sex_codes(rows, n)[name_idx]
        kel = kelurahan.iloc[name_idx]
        kel_codes, kel_uniques = pd.factorize(kel.astype(object).where(kel.notna(), ""))
        group, first = _group_codes(
            [
                name_codes.astype(np.int64),
                birth_codes.astype(np.int64),
                sex.astype(np.int64),
                kel_codes.astype(np.int64),
            ]
        )
        name_text = np.asarray(name_uniques, dtype=object)[name_codes[first]]
        birth_text = np.asarray(birth_uniques, dtype="datetime64[D]").astype(str)[
            birth_codes[first]
        ]
        kel_text = np.asarray([str(k).casefold() for k in kel_uniques], dtype=object)[
            kel_codes[first]
        ]
        sex_text = sex[first].astype(str)
        messages = [
            _SEPARATOR.join(parts).encode("utf-8")
            for parts in zip(
                name_text.tolist(),
                birth_text.tolist(),
                sex_text.tolist(),
                kel_text.tolist(),
                strict=True,
            )
        ]
        digests = _cached_digests(hasher, _DOMAIN_NAME, messages, key_cache, on_hash)
        key[name_idx] = digests_to_keys(digests)[group]

    # id keys: another identifier of the child, with birth date and sex, where nothing above applies
    # (only the rows still without a key are looked at: usually a few, not the whole column)
    unkeyed = np.flatnonzero(kind == KEY_KIND_ROW)
    ids = _text(rows, "child_id", n).iloc[unkeyed].str.strip()
    has_id = ids.notna().to_numpy() & (ids != "").fillna(False).to_numpy(dtype=bool)
    id_idx = unkeyed[has_id]
    if id_idx.size:
        kind[id_idx] = KEY_KIND_ID
        id_codes, id_uniques = pd.factorize(ids[has_id])
        id_birth = birth.iloc[id_idx].to_numpy(dtype="datetime64[D]")
        id_birth_codes, id_birth_uniques = pd.factorize(id_birth.astype(np.int64))
        id_sex = _sex_codes(rows, n)[id_idx]
        group, first = _group_codes(
            [id_codes.astype(np.int64), id_birth_codes.astype(np.int64), id_sex.astype(np.int64)]
        )
        id_birth_text = [
            "" if np.isnat(day) else str(day)
            for day in np.asarray(id_birth_uniques).astype("datetime64[D]")[id_birth_codes[first]]
        ]
        messages = [
            _SEPARATOR.join(parts).encode("utf-8")
            for parts in zip(
                np.asarray(id_uniques, dtype=object)[id_codes[first]].tolist(),
                id_birth_text,
                id_sex[first].astype(str).tolist(),
                strict=True,
            )
        ]
        digests = _cached_digests(hasher, _DOMAIN_ID, messages, key_cache, on_hash)
        key[id_idx] = digests_to_keys(digests)[group]

    # row keys: rows with none of these. One HMAC per file; each row's line number, mixed by a
    # bijection, is XORed in, so every line has its own key and the same file gives the same
    # keys again. (No personal data goes into these keys at all.)
    row_idx = np.flatnonzero(kind == KEY_KIND_ROW)
    if row_idx.size:
        file_key = digests_to_keys(hasher.digests(_DOMAIN_ROW, [source_sha256.encode("ascii")]))
        if on_hash:
            on_hash(1)
        lines = _source_lines(rows, n)[row_idx].astype(np.uint64)
        key[row_idx] = (file_key.view(np.uint64)[0] ^ _splitmix64(lines)).view(np.int64)

    return ChildKeys(key=key, kind=kind, nik_present_unused=nik_present_unused)


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection on 64-bit integers."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _cached_digests(
    hasher: KeyHasher,
    domain: bytes,
    messages: list[bytes],
    cache: dict[bytes, bytes] | None,
    on_hash: Callable[[int], None] | None,
) -> npt.NDArray[np.uint8]:
    if cache is None:
        if on_hash:
            on_hash(len(messages))
        return hasher.digests(domain, messages)
    # the cache is keyed by domain + message, as the HMAC input is
    keyed = [domain + m for m in messages]
    found: list[bytes | None] = list(map(cache.get, keyed))
    missing = [i for i, digest in enumerate(found) if digest is None]
    if missing:
        fresh = hasher.digest_list(domain, [messages[i] for i in missing])
        for i, digest in zip(missing, fresh, strict=True):
            found[i] = cache[keyed[i]] = digest
        if on_hash:
            on_hash(len(missing))
    joined = b"".join(cast("list[bytes]", found))  # every entry is filled by now
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(messages), KEY_BYTES)


def _text(rows: pd.DataFrame, column: str, n: int) -> pd.Series:
    if column not in rows:
        return pd.Series([None] * n, index=rows.index, dtype=object)
    return rows[column]


def _sex_codes(rows: pd.DataFrame, n: int) -> npt.NDArray[np.int8]:
    if "sex" not in rows:
        return np.zeros(n, dtype=np.int8)
    return rows["sex"].fillna(0).to_numpy(dtype=np.int8)


def _source_lines(rows: pd.DataFrame, n: int) -> npt.NDArray[np.int64]:
    if "source_line" not in rows:
        return np.arange(1, n + 1, dtype=np.int64)
    return rows["source_line"].to_numpy(dtype=np.int64)
