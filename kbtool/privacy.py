"""Pseudonymous child keys, and which columns of a register hold personal data.

NIK and names never leave this module in clear. How a key is derived from a NIK, another child
identifier, a name or the row itself is part of the store format: docs/store-format.md, "Privacy".
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kbtool.columns import (
    NAT_DAYS,
    REJECT_COLUMNS,
    calendar_parts,
    day_numbers,
    recode,
    splitmix64,
    text_codes,
    text_column,
    without_accents,
)
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
_DOMAIN_ID = b"kbtool/child/id/v2\x00"
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a normalised name or date

# NIK layout (UU 24/2013, Permendagri 72/2019): PP KK CC DD MM YY SSSS
_NIK_MIN_PROVINCE, _NIK_MAX_PROVINCE = 11, 97
_NIK_FEMALE_DAY_OFFSET = 40

# An "An." (anak, child) prefix is written before many children's names in posyandu books.
_CHILD_PREFIX = r"^\s*an\.\s*"


def create_secret(path: Path) -> bytes:
    """Create the store's secret: 32 random bytes in a new file only its owner can read (0600);
    fails if the file exists, so a secret is never replaced (that would change every key)."""
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
    """`hmac.digest(secret, domain + message, "sha256")[:KEY_BYTES]` (checked in the tests), with
    the secret's inner and outer pads hashed once rather than once per message."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_BYTES:
            raise ValueError("the secret must be 32 bytes")
        block = secret.ljust(64, b"\x00")  # SHA-256 block size (RFC 2104 with B = 64)
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digests(self, domain: bytes, messages: Sequence[bytes]) -> npt.NDArray[np.uint8]:
        """Truncated HMACs of `domain + message` for each message, as an (n, KEY_BYTES) array."""
        joined = b"".join(self.digest_list(domain, messages))
        return np.frombuffer(joined, dtype=np.uint8).reshape(len(messages), KEY_BYTES)

    def digest_list(self, domain: bytes, messages: Sequence[bytes]) -> list[bytes]:
        """Truncated HMACs of `domain + message` for each message, as bytes."""
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


def _row_niks(
    codes: npt.NDArray[np.intp], uniques: pa.Array, birth: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Each row's valid NIK as a code into the distinct NIKs (-1: none), and those NIKs; worked
    out once per distinct child_id (`uniques`)."""
    if not len(uniques):
        return np.full(len(codes), -1, dtype=np.intp), np.empty(0, dtype=object)
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(uniques), r"^'|\.0$|[\s.\-]", "")
    is_digits = pc.match_substring_regex(text, r"^\d{16}$")
    # PP KK CC DD MM YY SSSS: 16 digits fit in an int64
    number = pc.if_else(is_digits, text, "0").cast(pa.int64()).to_numpy(zero_copy_only=False)
    province, regency, district, day, month, year2 = (
        number // 10**shift % 100 for shift in (14, 12, 10, 8, 6, 4)
    )
    day = np.where(day > _NIK_FEMALE_DAY_OFFSET, day - _NIK_FEMALE_DAY_OFFSET, day)
    valid = is_digits.to_numpy(zero_copy_only=False)
    valid &= (province >= _NIK_MIN_PROVINCE) & (province <= _NIK_MAX_PROVINCE)
    valid &= (regency > 0) & (district > 0) & (number % 10_000 > 0)
    valid &= (day >= 1) & (day <= 31) & (month >= 1) & (month <= 12)
    # distinct child_ids that clean to the same NIK share one code
    nik_codes, niks = text_codes(pc.if_else(pa.array(valid), text, None))
    row_code = recode(codes, nik_codes)
    # the NIK's embedded date must be the row's birth date (a parent's NIK is not the child's)
    b_day, b_month, b_year = calendar_parts(birth)
    unique = np.maximum(codes, 0)
    agree = (day[unique] == b_day) & (month[unique] == b_month) & (year2[unique] == b_year % 100)
    row_code[(row_code >= 0) & (b_day > 0) & ~agree] = -1
    return row_code, niks.to_numpy(zero_copy_only=False)


def clean_nik(child_id: pd.Series, birth_date: pd.Series | None = None) -> pd.Series:
    """The 16-digit NIK of each row where child_id holds a valid one (docs/store-format.md,
    "Privacy"), else missing. Spaces, dots, dashes, a leading apostrophe (Excel's text marker)
    and a trailing ".0" (a NIK that went through a float) are dropped."""
    codes, uniques = text_codes(child_id)
    birth = np.full(len(child_id), NAT_DAYS) if birth_date is None else day_numbers(birth_date)
    row_code, niks = _row_niks(codes, uniques, birth)
    return pd.Series(_or_none(niks)[row_code], index=child_id.index, dtype=object)


def _folded_names(names: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Names folded for matching, as codes (-1: none) into the distinct folded names; the work
    is done once per distinct name."""
    codes, uniques = text_codes(names)
    casefolded = (u.casefold() for u in uniques.to_pylist())
    text = pd.Series([f if f.isascii() else without_accents(f) for f in casefolded], dtype=object)
    text = text.str.replace(_CHILD_PREFIX, "", regex=True)
    text = text.str.replace(r"['`\u2019]", "", regex=True)  # Nur'aini = Nuraini
    text = text.str.replace(r"[\W_]+", " ", regex=True).str.strip()
    folded_codes, folded = pd.factorize(text.where(text != "", None))
    row_codes = recode(codes, folded_codes)
    return row_codes.astype(np.intp), np.asarray(folded, dtype=object)


def normalise_person_name(names: pd.Series) -> pd.Series:
    """Names folded for matching: casefold, accents and punctuation dropped, spaces collapsed.

    "An. Siti Nur'aini", "SITI  NURAINI" and "Siti Nuraini" all give "siti nuraini". Missing or
    empty names give missing.
    """
    codes, folded = _folded_names(names)
    return pd.Series(_or_none(folded)[codes], index=names.index, dtype=object)


def _or_none(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """`values` and None after them, for code -1 to pick."""
    return np.concatenate([values, np.array([None], dtype=object)])


# Identifiers that stand for "none": typed where a register asks for a number the child lacks.
_PLACEHOLDER_IDS = ["belumada", "tidakada", "tidakpunya", "none", "null", "nan", "na"]


def _identifiers(
    codes: npt.NDArray[np.intp], uniques: pa.Array
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Each row's child identifier in one spelling (case, spaces, dots, dashes, slashes,
    underscores, an Excel apostrophe and a float's ".0" dropped), as codes into the distinct
    identifiers; -1 where there is none or only a placeholder (one repeated character such as
    "0000", "belum ada")."""
    text = pc.replace_substring_regex(pc.utf8_lower(uniques), r"^\s*'|\.0+\s*$|[\s.\-_/]", "")
    length = pc.utf8_length(text)
    one_character = pc.equal(pc.binary_repeat(pc.utf8_slice_codeunits(text, 0, 1), length), text)
    unusable = pc.or_(one_character, pc.is_in(text, pa.array(_PLACEHOLDER_IDS)))
    text = pc.if_else(unusable, pa.scalar(None, pa.string()), text)
    clean_codes, clean = text_codes(text)
    row_codes = recode(codes, clean_codes)
    return row_codes.astype(np.intp), np.asarray(clean.to_pylist(), dtype=object)


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


# A part of an HMAC message, per row: a code (>= 0) into the texts it stands for.
_Part = tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]


def _dates(days: npt.NDArray[np.int64]) -> _Part:
    """Birth dates as a message part: ISO texts, "" where missing."""
    codes, unique = pd.factorize(days)
    text = unique.astype("datetime64[D]").astype(str).astype(object)
    text[unique == NAT_DAYS] = ""
    return codes.astype(np.intp), text


def _sexes(sex: npt.NDArray[np.int8]) -> _Part:
    codes, unique = pd.factorize(sex)
    return codes.astype(np.intp), unique.astype(str).astype(object)


def _known(codes: npt.NDArray[np.intp], texts: npt.NDArray[np.object_]) -> _Part:
    """Codes that may be -1 (missing) as a part whose missing text is ""."""
    return np.where(codes >= 0, codes, len(texts)), np.append(texts, "")


def _group_codes(
    columns: Sequence[npt.NDArray[np.intp]],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Exact group code of each row over non-negative integer code columns, and each group's
    first row."""
    combined = np.zeros(len(columns[0]), dtype=np.intp)
    for column in columns:
        span = int(column.max()) + 1 if len(column) else 1
        combined = pd.factorize(combined * span + column)[0]
    # codes are numbered in order of first appearance: a group's first row raises the maximum
    first = np.flatnonzero(np.diff(np.maximum.accumulate(combined), prepend=-1) > 0)
    return combined, first


def child_keys(
    rows: pd.DataFrame,
    kelurahan: pd.Series,
    hasher: KeyHasher,
    *,
    source_sha256: str,
    key_cache: dict[bytes, bytes] | None = None,
    on_hash: Callable[[int], None] | None = None,
) -> ChildKeys:
    """The child key of every row of a canonical batch (docs/store-format.md, "Privacy").

    `kelurahan` is the normalised kelurahan name used in name-based keys. Every text column is
    coded once and every HMAC computed once per distinct child; `key_cache` (HMAC input -> key
    bytes, in memory only) may be shared between the batches of an import so a child is hashed
    once per import. `on_hash` is told how many HMACs each step computed.
    """
    n = len(rows)
    birth = day_numbers(rows["birth_date"]) if "birth_date" in rows else np.full(n, NAT_DAYS)
    sex = rows["sex"].fillna(0).to_numpy(dtype=np.int8) if "sex" in rows else np.zeros(n, np.int8)
    id_codes, id_uniques = text_codes(text_column(rows, "child_id"))
    nik_codes, niks = _row_niks(id_codes, id_uniques, birth)
    kind = np.full(n, KEY_KIND_ROW, dtype=np.int8)
    key = np.zeros(n, dtype=np.int64)
    digests = _Digests(hasher, key_cache, on_hash)

    has_nik = nik_codes >= 0
    kind[has_nik] = KEY_KIND_NIK
    key[has_nik] = digests.keys(_DOMAIN_NIK, [(nik_codes[has_nik], niks)])

    name_codes, names = _folded_names(text_column(rows, "name"))
    ident_codes, identifiers = _identifiers(id_codes, id_uniques)
    id_rows = np.flatnonzero(~has_nik & (ident_codes >= 0))
    if id_rows.size:
        dates, sexes = _dates(birth[id_rows]), _sexes(sex[id_rows])
        group, _ = _group_codes([ident_codes[id_rows], dates[0], sexes[0]])
        # one number, two named children (a parent's NIK for twins or siblings): their names
        # tell them apart
        id_names = name_codes[id_rows]
        named_apart = _groups_with_several(group, id_names)[group] & (id_names >= 0)
        keep = ~(named_apart & (birth[id_rows] != NAT_DAYS))
        id_rows = id_rows[keep]
        kind[id_rows] = KEY_KIND_ID
        parts = [(ident_codes[id_rows], identifiers), *((c[keep], t) for c, t in (dates, sexes))]
        key[id_rows] = digests.keys(_DOMAIN_ID, parts)

    name_rows = np.flatnonzero((kind == KEY_KIND_ROW) & (name_codes >= 0) & (birth != NAT_DAYS))
    if name_rows.size:
        kind[name_rows] = KEY_KIND_NAME
        place_codes, places = text_codes(kelurahan)
        folded_places = np.array([p.casefold() for p in places.to_pylist()], dtype=object)
        parts = [
            (name_codes[name_rows], names),
            _dates(birth[name_rows]),
            _sexes(sex[name_rows]),
            _known(place_codes[name_rows], folded_places),
        ]
        key[name_rows] = digests.keys(_DOMAIN_NAME, parts)

    # row keys: rows with none of these. One HMAC per file; each row's line number, mixed by a
    # bijection, is XORed in, so every line has its own key and the same file gives the same
    # keys again. (No personal data goes into these keys at all.)
    row_idx = np.flatnonzero(kind == KEY_KIND_ROW)
    if row_idx.size:
        file_key = digests_to_keys(hasher.digests(_DOMAIN_ROW, [source_sha256.encode("utf-8")]))
        if on_hash:
            on_hash(1)
        lines = (
            rows["source_line"].to_numpy(dtype=np.int64)
            if "source_line" in rows
            else np.arange(1, n + 1, dtype=np.int64)
        )
        key[row_idx] = (
            file_key.view(np.uint64)[0] ^ splitmix64(lines[row_idx].astype(np.uint64))
        ).view(np.int64)

    # a child_id filled in (not blank) that gave no NIK key
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(id_uniques)), 0)
    present = (id_codes >= 0) & ~np.append(blank.to_numpy(zero_copy_only=False), True)[id_codes]
    return ChildKeys(key=key, kind=kind, nik_present_unused=int((present & ~has_nik).sum()))


def _groups_with_several(group: npt.NDArray[np.intp], codes: npt.NDArray[np.intp]) -> Any:
    """Per group: whether its rows hold more than one distinct (non-missing) code."""
    present = codes >= 0
    pairs = pd.DataFrame({"group": group[present], "code": codes[present]}).drop_duplicates()
    counts = np.bincount(pairs["group"].to_numpy(), minlength=int(group.max()) + 1)
    return counts > 1


@dataclass(frozen=True)
class _Digests:
    """HMAC keys of rows: one HMAC per distinct message, remembered in `cache` if given."""

    hasher: KeyHasher
    cache: dict[bytes, bytes] | None
    on_hash: Callable[[int], None] | None

    def keys(self, domain: bytes, parts: Sequence[_Part]) -> npt.NDArray[np.int64]:
        """Keys of rows whose message is their parts' texts joined by the separator."""
        group, first = _group_codes([codes for codes, _ in parts])
        texts = [values[codes[first]] for codes, values in parts]
        messages = [_SEPARATOR.join(message).encode() for message in zip(*texts, strict=True)]
        digests: list[bytes | None]
        if self.cache is None:  # hashed directly: an empty cache would cost a third more
            digests = list(self.hasher.digest_list(domain, messages))
            hashed = len(messages)
        else:
            # the cache is keyed by domain + message, as the HMAC input is
            keyed = [domain + m for m in messages]
            digests = [self.cache.get(k) for k in keyed]
            missing = [i for i, digest in enumerate(digests) if digest is None]
            fresh = self.hasher.digest_list(domain, [messages[i] for i in missing])
            for i, digest in zip(missing, fresh, strict=True):
                digests[i] = self.cache[keyed[i]] = digest
            hashed = len(missing)
        if self.on_hash and hashed:
            self.on_hash(hashed)
        joined = np.frombuffer(b"".join(cast("list[bytes]", digests)), dtype=np.uint8)
        return digests_to_keys(joined.reshape(-1, KEY_BYTES))[group]


# --- personal columns: what `kbtool zscore` never echoes, what no rejects file shows ----------

# Words of a header that name a person (UU 27/2022: the child's and the family's personal data).
_PERSON_WORDS = frozenset(
    {
        "nama", "name", "ibu", "bapak", "ayah", "wali", "ortu", "orangtua", "kepalakeluarga",
        "pengasuh", "suami", "istri", "kader", "mother", "father", "parent", "parents",
        "guardian", "caregiver", "mom", "dad",
    }
)  # fmt: skip
_NAME_WORDS = frozenset({"nama", "name", "names"})
# Words of a header that name an identity number.
_IDENTITY_WORDS = frozenset(
    {"nik", "nkk", "kk", "bpjs", "ktp", "passport", "paspor", "jkn", "kis", "kia", "npwp"}
)
_ADDRESS_WORDS = frozenset({"alamat", "address", "domisili", "rumah", "jalan", "jl", "street"})
_CONTACT_WORDS = frozenset(
    {
        "telepon", "telpon", "telp", "tlp", "hp", "handphone", "phone", "ponsel", "seluler",
        "mobile", "wa", "whatsapp", "email", "surel", "kontak", "contact",
    }
)  # fmt: skip
# A header naming a place or facility: its name or address is no person's ("Nama Posyandu").
_PLACE_WORDS = frozenset(
    {
        "posyandu", "puskesmas", "pukesmas", "pkm", "desa", "kelurahan", "kel", "kecamatan",
        "kec", "kabupaten", "kab", "kota", "provinsi", "prov", "village", "district", "faskes",
        "sekolah", "paud", "dusun",
    }
)  # fmt: skip
_NEIGHBOURHOOD_WORDS = frozenset({"rt", "rw", "rtrw"})
# What follows "nama", "nik" or "no" in a header written as one word ("NamaIbu", "NoKK")
_COMPOUND_ENDS = _PERSON_WORDS | _IDENTITY_WORDS | {"anak", "balita", "lengkap"}
# 16 digits once spaces, dots, dashes, an Excel apostrophe and a float's ".0" are gone: a NIK
# or a family-card number (both 16 digits, Permendagri 72/2019)
_SIXTEEN_DIGITS = r"^\s*'?\d[\d\s.\-]{14,}\d(\.0+)?\s*$"


def _header_words(header: str) -> tuple[set[str], str]:
    """A header's words (lowercase, accents dropped, camelCase split) and all of them joined."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", without_accents(header)).lower()
    words = re.findall(r"[a-z0-9]+", text)
    return set(words), "".join(words)


def personal_header(header: str) -> str | None:
    """What personal data a header names ("a name", "an identity number", "an address",
    "a contact"), or None. By rule, not by list: any header naming a person, an identity
    number, an address or a contact, unless it names a place or facility ("Nama Posyandu")."""
    words, joined = _header_words(header)
    place = bool(words & _PLACE_WORDS)
    for word in list(words):  # "NamaIbu", "NIKAnak", "NoKK" written as one word
        for prefix in ("nama", "nik", "no"):
            if word.startswith(prefix) and word[len(prefix) :] in _COMPOUND_ENDS:
                words |= {prefix, word[len(prefix) :]}
    if words & _IDENTITY_WORDS or "kartukeluarga" in joined or "nomorinduk" in joined:
        return "an identity number"
    if words & _CONTACT_WORDS or "email" in joined:
        return "a contact"
    if (words & _ADDRESS_WORDS) and not place:
        return "an address"
    persons = words & _PERSON_WORDS
    if place:
        persons -= _NAME_WORDS
    if persons or "orangtua" in joined or "kepalakeluarga" in joined:
        return "a name"
    return None


def holds_identity_numbers(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether most filled cells of a text column are 16-digit numbers (NIK, family card)."""
    text = pc.cast(values, pa.string())
    if (pc.max(pc.binary_length(text)).as_py() or 0) < 16:
        return False  # (no value long enough: one pass, not the regex's, for each column)
    filled = pc.sum(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0)).as_py() or 0
    numbers = pc.sum(pc.match_substring_regex(text, _SIXTEEN_DIGITS)).as_py() or 0
    return filled > 0 and 2 * numbers >= filled


def personal_columns(
    raw: pd.DataFrame, column_map: dict[str, str], keep: Sequence[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """The columns of a register (as read, under their own headers) that hold personal data,
    with what they hold, less those the user keeps (`keep`, exact headers or the canonical
    child_id/name); and the personal columns kept.

    The child's identifier and name as read, any header `personal_header` names, any column of
    16-digit numbers, and RT/RW where the register also has an address.
    """
    mapped = (("child_id", "an identity number"), ("name", "a name"))
    found = {column_map[canonical]: what for canonical, what in mapped if canonical in column_map}
    for header in raw.columns:
        named = personal_header(str(header))
        if named is not None:
            found.setdefault(str(header), named)
    if any(what == "an address" for what in found.values()):
        for header in raw.columns:
            if _header_words(str(header))[0] & _NEIGHBOURHOOD_WORDS:
                found.setdefault(str(header), "an address")
    for header in raw.columns:
        sample = raw[header].head(10_000)
        if str(header) not in found and holds_identity_numbers(pa.array(sample, pa.string())):
            found[str(header)] = "an identity number"
    kept_names = {column_map.get(k, k) for k in keep}
    kept = [h for h in found if h in kept_names]
    return {h: what for h, what in found.items() if h not in kept_names}, kept


REDACTED = "[redacted]"
# a 16-digit run anywhere in a rejected value is a NIK until proven otherwise
_NIK_LIKE = r"\d[\d\s.\-]{14,}\d"
# a value of three letters or more and no digit: the shape of a name
_NAME_SHAPED = r"(?=(?:.*[^\W\d_]){3})\D+"


def redact_text(text: str) -> str:
    """A message with every NIK-like run replaced by "[redacted]"."""
    return re.sub(_NIK_LIKE, REDACTED, text)


def redact_rejects(rejects: pd.DataFrame, personal: Iterable[str] = ()) -> pd.DataFrame:
    """Reject records safe to show and write, for every command: the value of a personal
    column (one `personal_header` names, or listed in `personal`) and the whole text of a row
    rejected for its field count replaced by "[redacted]", and any NIK-like run in a value or
    reason as well."""
    frame = pd.DataFrame(
        {c: text_column(rejects, c).reset_index(drop=True) for c in REJECT_COLUMNS}
    )
    if not len(frame):
        return frame

    def texts(name: str) -> npt.NDArray[np.object_]:
        column = frame[name].astype(object)
        return column.where(column.notna(), "").to_numpy(object, copy=True)

    hidden = {str(h).strip().casefold() for h in personal}
    headers = pd.Series(texts("column")).astype(str)
    personal_headers = {h for h in headers.unique() if personal_header(h) is not None}
    folded = headers.str.strip().str.casefold()
    # a personal column, or no column at all: a broken line whose value is the whole line
    hide = (folded.isin(hidden) | (folded == "") | headers.isin(personal_headers)).to_numpy(bool)
    values, reasons = texts("value"), texts("reason")
    # letters without a digit in any column could be a name typed in the wrong one
    hide = hide | pd.Series(values, dtype=object).astype(str).str.fullmatch(_NAME_SHAPED).to_numpy(
        bool
    )
    rows = np.flatnonzero(hide)
    # the reason may quote the value it rejects: remove it there too
    reasons[rows] = [
        str(reason).replace(str(value), REDACTED) if value else reason
        for reason, value in zip(reasons[rows], values[rows], strict=True)
    ]
    values[rows] = REDACTED
    for name, shown in (("value", values), ("reason", reasons)):
        text = pd.Series(shown, dtype=object).astype(str)
        frame[name] = text.str.replace(_NIK_LIKE, REDACTED, regex=True)
    return frame
