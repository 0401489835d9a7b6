"""The value hash behind `kbtool.store.schema.build_batch`, for numba (the C extension
kbtool/store/_chash.c is the same kernel and runs instead where it was built: kbtool.compiled).

Computes exactly `schema.value_hash` of the words `build_batch` derives from a batch (the
definition in docs/store-format.md), in one pass over the rows instead of ~120 numpy passes over
8-byte columns: ~0.02 s per million rows instead of ~0.35 s. `tests/test_store.py` checks it
against the numpy definition on random rows with NaN, -0.0, missing dates and missing names.
Imported only by the import (numba costs ~0.5 s to import; readers of the store never pay it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)
_SIGN_BIT = np.uint64(0x8000000000000000)  # -0.0, and NaT days read as uint64
_EXPONENT = np.uint64(0x7FF0000000000000)
_MANTISSA = np.uint64(0x000FFFFFFFFFFFFF)
_NAN_BITS = np.uint64(0x7FF8000000000000)  # np.nan: the one pattern every NaN hashes as


@njit(inline="always", cache=True, nogil=True)
def _splitmix(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    x = (x ^ (x >> np.uint64(30))) * _MIX_1
    x = (x ^ (x >> np.uint64(27))) * _MIX_2
    return x ^ (x >> np.uint64(31))


@njit(inline="always", cache=True, nogil=True)
def _float_word(bits: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    # schema._float_bits: -0.0 as 0.0, every NaN as np.nan
    if bits == _SIGN_BIT:
        return np.uint64(0)
    if (bits & _EXPONENT) == _EXPONENT and (bits & _MANTISSA) != np.uint64(0):
        return _NAN_BITS
    return bits


@njit(inline="always", cache=True, nogil=True)
def _text_word(codes: npt.NDArray[np.intp], table: npt.NDArray[np.uint64], i: int) -> np.uint64:
    # pragma: no cover - compiled; code -1 is a missing name: word 0
    code = codes[i]
    return table[code] if code >= 0 else np.uint64(0)


@njit(cache=True, nogil=True)
def value_hash_kernel(  # pragma: no cover - compiled
    offsets: npt.NDArray[np.uint64],
    sex: npt.NDArray[np.int8],
    birth_bits: npt.NDArray[np.uint64],
    age_months_bits: npt.NDArray[np.uint64],
    weight_bits: npt.NDArray[np.uint64],
    height_bits: npt.NDArray[np.uint64],
    measure: npt.NDArray[np.int8],
    oedema_word: npt.NDArray[np.uint8],
    posyandu_codes: npt.NDArray[np.intp],
    posyandu_table: npt.NDArray[np.uint64],
    kelurahan_codes: npt.NDArray[np.intp],
    kelurahan_table: npt.NDArray[np.uint64],
    kecamatan_codes: npt.NDArray[np.intp],
    kecamatan_table: npt.NDArray[np.uint64],
    puskesmas_codes: npt.NDArray[np.intp],
    puskesmas_table: npt.NDArray[np.uint64],
    out: npt.NDArray[np.uint64],
) -> None:
    """`out[i]` = the value hash of row i; `offsets[k]` = (k + 1) * G mod 2^64 for the k-th
    word of VALUE_COLUMNS. Birth days arrive as uint64 bits (NaT is the sign bit alone)."""
    for i in range(out.shape[0]):
        birth = birth_bits[i]
        # age in months counts only without a birth date (schema.build_batch)
        age = _float_word(age_months_bits[i]) if birth == _SIGN_BIT else _NAN_BITS
        words = (
            np.uint64(np.int64(sex[i])),
            birth,
            age,
            _float_word(weight_bits[i]),
            _float_word(height_bits[i]),
            np.uint64(np.int64(measure[i])),
            np.uint64(oedema_word[i]),
            _text_word(posyandu_codes, posyandu_table, i),
            _text_word(kelurahan_codes, kelurahan_table, i),
            _text_word(kecamatan_codes, kecamatan_table, i),
            _text_word(puskesmas_codes, puskesmas_table, i),
        )
        h = np.uint64(0)
        for k in range(11):
            h = h * _PRIME + _splitmix(words[k] + offsets[k])
        out[i] = _splitmix(h)
