"""Child keys: HMAC exactness, NIK validity, name folding, key kinds and the secret file."""

from __future__ import annotations

import hmac
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbtool.errors import StoreError
from kbtool.privacy import (
    KEY_KIND_ID,
    KEY_KIND_NAME,
    KEY_KIND_NIK,
    KEY_KIND_ROW,
    KeyHasher,
    child_keys,
    clean_nik,
    create_secret,
    digests_to_keys,
    load_secret,
    normalise_person_name,
)

SECRET = bytes(range(32))


def test_key_hasher_equals_rfc2104_hmac() -> None:
    """The pad-caching hasher gives exactly hmac.digest(secret, domain + message) truncated."""
    hasher = KeyHasher(SECRET)
    messages = [b"", b"1872015012201000", b"siti nur\x1f2021-01-01", b"x" * 200]
    got = hasher.digests(b"kbtool/child/nik/v1\x00", messages)
    for row, message in zip(got, messages, strict=True):
        expected = hmac.digest(SECRET, b"kbtool/child/nik/v1\x00" + message, "sha256")[:8]
        assert bytes(row) == expected
    assert digests_to_keys(got)[1] == int.from_bytes(bytes(got[1]), "big", signed=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1872015012201000", "1872015012201000"),
        ("'1872015012201000", "1872015012201000"),  # Excel text marker
        ("1872 0150 1220 1000", "1872015012201000"),
        ("1872.0150.1220.1000", "1872015012201000"),
        ("1872015012201000.0", "1872015012201000"),  # went through a float column
        ("0000000000000000", None),
        ("1872015012200000", None),  # serial 0000
        ("9972015012201000", None),  # no province 99
        ("1872005012201000", None),  # district 00
        ("1872017513201000", None),  # day 75-40 = 35
        ("1872015013201000", None),  # month 13
        ("1.87201E+15", None),  # scientific notation lost the digits
        ("187201501220100", None),  # 15 digits
        ("", None),
        (None, None),
    ],
)
def test_clean_nik(raw: str | None, expected: str | None) -> None:
    assert clean_nik(pd.Series([raw], dtype=object)).iloc[0] == expected


def test_nik_must_match_the_childs_birth_date() -> None:
    """A parent's NIK on a child's row (born 1990, not 2020) is not the child's key."""
    nik = pd.Series(["1872015012201000", "1872015012901000", "1872015012201000"], dtype=object)
    born = pd.Series([pd.Timestamp("2020-12-10"), pd.Timestamp("2020-12-10"), pd.NaT])
    assert clean_nik(nik, born).tolist() == ["1872015012201000", None, "1872015012201000"]


def test_normalise_person_name() -> None:
    names = pd.Series(
        ["An. Siti Nur'aini", "SITI  NURAINI", " siti-nuraini ", "Sïtí Nuraini", "", None]
    )
    folded = normalise_person_name(names).tolist()
    assert folded[:4] == ["siti nuraini"] * 4
    assert folded[4] is None and folded[5] is None
    # "Anak Agung" is a Balinese title, not the "An." abbreviation
    assert normalise_person_name(pd.Series(["Anak Agung Putra"])).iloc[0] == "anak agung putra"


def _rows(**columns: object) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame["source_line"] = np.arange(2, len(frame) + 2)
    return frame


def test_key_kinds_and_stability() -> None:
    rows = _rows(
        child_id=["1872015012201000", None, None, "1872015012201000", None],
        name=["Siti", "Budi Santoso", None, "Siti", "BUDI  SANTOSO"],
        birth_date=pd.to_datetime(
            ["2020-12-10", "2021-01-01", "2021-01-01", "2020-12-10", "2021-01-01"]
        ),
        sex=np.array([2, 1, 1, 2, 1], dtype=np.int8),
    )
    kelurahan = pd.Series(["Metro"] * 5)
    keys = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="a" * 64)
    assert keys.kind.tolist() == [
        KEY_KIND_NIK,
        KEY_KIND_NAME,
        KEY_KIND_ROW,
        KEY_KIND_NIK,
        KEY_KIND_NAME,
    ]
    key = keys.key.tolist()
    assert key[0] == key[3] and key[1] == key[4]
    assert len(set(key)) == 3
    assert keys.without_key == 1
    expected_nik = hmac.digest(SECRET, b"kbtool/child/nik/v1\x00" + b"1872015012201000", "sha256")
    assert key[0] == int.from_bytes(expected_nik[:8], "big", signed=True)
    # the same rows again give the same keys; another secret gives other keys
    again = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="a" * 64)
    assert again.key.tolist() == key
    other = child_keys(rows, kelurahan, KeyHasher(bytes(32)), source_sha256="a" * 64)
    assert not set(other.key.tolist()) & set(key)


def test_nik_keys_are_each_rows_own_nik_hmac_with_a_shared_cache() -> None:
    """Several NIKs in any order, one of them a parent's (birth date disagrees), over two batches
    sharing a cache: each row's key is the HMAC of its own NIK, and each NIK is hashed once."""
    niks = ["1872015012201000", "1872034506200002", "1872020101210003"]
    born = ["2020-12-10", "2020-06-05", "2021-01-01"]
    order = [2, 0, 1, 0, 2, 2, 1]
    rows = _rows(
        child_id=[niks[i] for i in order] + ["1872015012901000"],  # born 1990: not this child
        name=["Anak"] * (len(order) + 1),
        birth_date=pd.to_datetime([born[i] for i in order] + ["2020-12-10"]),
        sex=np.ones(len(order) + 1, dtype=np.int8),
    )
    kelurahan = pd.Series(["Metro"] * len(rows))
    hashed: list[int] = []
    cache: dict[bytes, bytes] = {}
    hasher = KeyHasher(SECRET)
    for batch in (rows.iloc[:4], rows.iloc[4:]):
        keys = child_keys(
            batch.reset_index(drop=True),
            kelurahan.iloc[: len(batch)].reset_index(drop=True),
            hasher,
            source_sha256="a" * 64,
            key_cache=cache,
            on_hash=hashed.append,
        )
        for nik, kind, key in zip(batch["child_id"], keys.kind, keys.key, strict=True):
            if nik == "1872015012901000":
                assert kind == KEY_KIND_ID  # a parent's NIK: an identifier, with birth and sex
                continue
            expected = hmac.digest(SECRET, b"kbtool/child/nik/v1\x00" + nik.encode(), "sha256")
            assert kind == KEY_KIND_NIK
            assert key == int.from_bytes(expected[:8], "big", signed=True)
    # NIKs: 3 in the first batch, none new in the second; the parent's row is keyed by id
    assert sum(hashed) == 3 + 1


def test_name_key_depends_on_birth_sex_and_kelurahan() -> None:
    rows = _rows(
        child_id=[None] * 4,
        name=["Budi"] * 4,
        birth_date=pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-01", "2021-01-01"]),
        sex=np.array([1, 1, 2, 1], dtype=np.int8),
    )
    kelurahan = pd.Series(["Metro", "Metro", "Metro", "Yosodadi"])
    keys = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="a" * 64)
    assert len(set(keys.key.tolist())) == 4


def test_nik_and_name_domains_are_separate() -> None:
    """A name that happens to read like a NIK does not give the NIK's key (domain prefix)."""
    hasher = KeyHasher(SECRET)
    nik = hasher.digests(b"kbtool/child/nik/v1\x00", [b"1872015012201000"])
    name = hasher.digests(b"kbtool/child/name/v1\x00", [b"1872015012201000"])
    assert bytes(nik[0]) != bytes(name[0])


def test_keyless_rows_get_one_key_per_line_stable_per_file() -> None:
    rows = _rows(
        child_id=[None] * 3, name=[None] * 3, birth_date=pd.to_datetime(["2021-01-01"] * 3)
    )
    kelurahan = pd.Series([None] * 3, dtype=object)
    first = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="a" * 64)
    second = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="a" * 64)
    other_file = child_keys(rows, kelurahan, KeyHasher(SECRET), source_sha256="b" * 64)
    key = first.key.tolist()
    assert len(set(key)) == 3
    assert second.key.tolist() == key
    assert not set(other_file.key.tolist()) & set(key)


def test_secret_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    key = create_secret(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path) == key
    with pytest.raises(FileExistsError):
        create_secret(path)


def test_secret_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    create_secret(path)
    os.chmod(path, 0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        load_secret(path)


def test_damaged_or_missing_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    with pytest.raises(StoreError, match="missing"):
        load_secret(path)
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(StoreError, match="damaged"):
        load_secret(path)


def test_other_identifiers_key_children_with_birth_date_and_sex() -> None:
    """A child_id that is not a valid NIK (a register's own number) keys the child together with
    birth date and sex: the same child keeps one key, two children sharing the number do not."""
    from kbtool.privacy import KEY_KIND_ID, KeyHasher, child_keys

    rows = pd.DataFrame(
        {
            "child_id": ["A-17", "A-17", "A-17", "A-17", None],
            "name": [None] * 5,
            "sex": np.array([1, 1, 1, 2, 1], dtype=np.int8),
            "birth_date": pd.to_datetime(
                ["2022-01-05", "2022-01-05", "2021-03-01", "2022-01-05", "2022-01-05"]
            ),
            "source_line": [2, 3, 4, 5, 6],
        }
    )
    keys = child_keys(rows, pd.Series(["Metro"] * 5), KeyHasher(bytes(32)), source_sha256="ab" * 32)
    assert keys.kind[:4].tolist() == [KEY_KIND_ID] * 4
    assert keys.key[0] == keys.key[1]
    assert len(set(keys.key[1:4].tolist())) == 3  # other birth date, other sex: other children
    assert keys.key[4] not in keys.key[:4]  # no identifier at all: a key of its own


def test_an_identifier_gives_one_key_whatever_else_the_row_holds() -> None:
    """The same identifier, spelled as a canonical file and an e-PPGBM export write it (with or
    without a name, failing NIK validation or not a NIK at all), keys the child the same."""
    rows = _rows(
        child_id=[
            "1953759157050059",
            "1953 7591 5705 0059",
            "'1953759157050059",
            "C-0012",
            "c0012",
        ],
        name=[None, "ANAK SATU", "Anak Satu", None, "Budi"],
        birth_date=pd.to_datetime(["2021-06-11"] * 3 + ["2022-02-02"] * 2),
        sex=np.array([2, 2, 2, 1, 1], dtype=np.int8),
    )
    keys = child_keys(rows, pd.Series(["Metro"] * 5), KeyHasher(SECRET), source_sha256="a" * 64)
    assert keys.kind.tolist() == [KEY_KIND_ID] * 5
    assert len(set(keys.key[:3].tolist())) == 1
    assert len(set(keys.key[3:].tolist())) == 1
    assert keys.key[0] != keys.key[3]


def test_placeholder_identifiers_are_no_identifier() -> None:
    rows = _rows(
        child_id=["0000000000000000", "belum ada", "-", "0"],
        name=["Siti"] * 4,
        birth_date=pd.to_datetime(["2021-01-01"] * 4),
        sex=np.ones(4, dtype=np.int8),
    )
    keys = child_keys(rows, pd.Series(["Metro"] * 4), KeyHasher(SECRET), source_sha256="a" * 64)
    assert keys.kind.tolist() == [KEY_KIND_NAME] * 4
    assert len(set(keys.key.tolist())) == 1


def test_twins_under_a_parents_number_are_told_apart_by_their_names() -> None:
    """One number, birth date and sex carrying two names: two children, keyed by name."""
    rows = _rows(
        child_id=["1872015012901000"] * 4,
        name=["Hasan", "Husin", "Hasan", "Husin"],
        birth_date=pd.to_datetime(["2022-03-03"] * 4),
        sex=np.ones(4, dtype=np.int8),
    )
    keys = child_keys(rows, pd.Series(["Metro"] * 4), KeyHasher(SECRET), source_sha256="a" * 64)
    assert keys.kind.tolist() == [KEY_KIND_NAME] * 4
    key = keys.key.tolist()
    assert key[0] == key[2] and key[1] == key[3] and key[0] != key[1]
