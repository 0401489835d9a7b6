"""Per-cell counting: bincounts, several yes/no conditions in one pass, distinct children."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from kbtool.arrays import BoolArray, FloatArray, IntArray

Counts = dict[str, npt.NDArray[Any]]


def count(codes: IntArray, size: int, where: BoolArray | None = None) -> FloatArray:
    """How many rows (where `where` is true) each code 0 .. size - 1 has."""
    chosen = codes if where is None else codes[where]
    return np.bincount(chosen, minlength=size).astype(np.float64)


# at most this many bins in one packed count (2**22 int64 counts: 32 MB)
_PACKED_BINS = 1 << 22


class PackedCounts:
    """Per-code counts of several yes/no conditions from one np.bincount of code x 2**k + bits
    (each condition a bit), instead of a selection and a bincount each. `flush` after the last."""

    def __init__(self, codes: IntArray, size: int, out: Counts) -> None:
        self.codes, self.size, self.out = codes, size, out
        # as many bits as keep size x 2**bits within _PACKED_BINS, 1 to 8
        self.width = max(1, min(8, (_PACKED_BINS // max(size, 1)).bit_length() - 1))
        self.bits: npt.NDArray[np.uint8] | None = None
        self.names: list[str] = []

    def add(self, name: str, mask: BoolArray) -> None:
        """Count the rows where `mask` is true, per code, into out[name]."""
        shifted = mask.view(np.uint8) << len(self.names) if self.names else mask.view(np.uint8)
        if self.bits is None:
            self.bits = shifted.astype(np.uint8, copy=True)
        else:
            self.bits |= shifted
        self.names.append(name)
        if len(self.names) == self.width:
            self.flush()

    def flush(self) -> None:
        """Count the conditions added since the last flush."""
        if self.bits is None:
            return
        k = len(self.names)
        key = self.codes << k
        key |= self.bits
        combos = np.bincount(key, minlength=self.size << k).reshape(self.size, 1 << k)
        del key
        column = np.arange(1 << k)
        for bit, name in enumerate(self.names):
            self.out[name] = combos[:, (column >> bit) & 1 == 1].sum(axis=1).astype(np.float64)
        self.bits, self.names = None, []


def distinct_children(codes: IntArray, child: IntArray, mask: BoolArray, size: int) -> FloatArray:
    """Per code, the number of distinct children among the masked rows (ordered by child): only
    children whose codes go back (moving between groups) need a sort."""
    key = child[mask] * size + codes[mask]
    if key.size == 0:
        return np.zeros(size)
    key = key[np.r_[True, key[1:] != key[:-1]]]
    back = np.flatnonzero(key[1:] <= key[:-1]) + 1
    if back.size:
        key_child = key // size
        moving = np.zeros(int(key_child[-1]) + 1, dtype=np.bool_)
        moving[key_child[back]] = True
        movers = moving[key_child]
        key = np.concatenate([key[~movers], np.unique(key[movers])])
    return np.bincount(key % size, minlength=size).astype(np.float64)
