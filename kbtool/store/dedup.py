"""Which incoming rows go live, which are duplicates and which are corrections.

A measurement is identified by (child key, visit date); its values by a 64-bit value hash. For
one visit year, given the import's rows and the store's live rows of those children, `resolve`:

* keeps, of rows with the same identity and values, the last one read (the others are
  duplicates);
* makes the last row read of each identity the winner: it goes live unless the store already
  holds those values (then it is a duplicate and the stored row stays);
* sends a kept row that is not the winner to ``superseded/`` (a correction inside the import),
  unless the store holds its values (then a duplicate);
* supersedes the stored row where the winner's values differ (a correction of the store).

Identities are coded exactly (pandas' factorize of keys and visits), then everything works on
whole columns (numpy, pandas lookups); only rows whose identity repeats are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kbtool.arrays import BoolArray, IndexArray, IntArray
from kbtool.columns import day_numbers
from kbtool.store.schema import with_oedema

DUPLICATE = 0
LIVE = 1
SUPERSEDED = 2

# the stored columns that say which measurement a row is, and of which child
KEY_COLUMNS = ("child_key", "child_key_kind", "visit_date", "value_hash")


@dataclass(frozen=True)
class Rows:
    """Measurements of one visit year: child key, visit day and value hash; the key's kind and
    (incoming rows) the file each came from, where a step needs them."""

    key: IntArray
    visit: IntArray
    vhash: IntArray
    kind: npt.NDArray[np.int8] | None = None
    src: npt.NDArray[np.int32] | None = None

    @classmethod
    def of(cls, table: pa.Table, src: npt.NDArray[np.int32] | None = None) -> Rows:
        """The KEY_COLUMNS of stored rows (a table of them)."""
        key, kind = table.column("child_key").to_numpy(), table.column("child_key_kind").to_numpy()
        vhash = table.column("value_hash").to_numpy()
        visit = day_numbers(table.column("visit_date").to_numpy())  # NAT_DAYS where missing
        return cls(key, visit, vhash, kind, src)

    def take(self, rows: IndexArray | BoolArray) -> Rows:
        """The rows chosen (positions or a mask)."""
        kind = None if self.kind is None else self.kind[rows]
        src = None if self.src is None else self.src[rows]
        return Rows(self.key[rows], self.visit[rows], self.vhash[rows], kind, src)


@dataclass(frozen=True)
class Resolution:
    """Per incoming row: its fate, the stored row it replaces, the source credited."""

    status: npt.NDArray[np.int8]  # DUPLICATE, LIVE or SUPERSEDED
    replaces: IntArray  # position in Stored of the row a LIVE row supersedes, else -1
    credit_src: IntArray  # for SUPERSEDED rows: the source of the row that won, else -1


def repeats(values: IntArray) -> BoolArray:
    """Whether each value occurs more than once."""
    # a sort, then a look-up of the few repeated values (faster than factorize); pandas'
    # duplicated when many repeat (an export imported again)
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    if np.count_nonzero(same) > len(values) // 64:
        return pd.Series(values).duplicated(keep=False).to_numpy()
    return pd.Series(values).isin(ordered[1:][same]).to_numpy()


def pair_codes(*pairs: tuple[IntArray, IntArray]) -> list[IntArray]:
    """Exact codes of (a, b) pairs over several pairs of columns: equal pairs, equal codes (not
    consecutive: a code is a's code times the number of b values plus b's; np.isin is slow on
    such codes, pandas' isin is not)."""
    first = pd.factorize(np.concatenate([a for a, _ in pairs]))[0].astype(np.int64)
    second = pd.factorize(np.concatenate([b for _, b in pairs]))[0]
    combined = first * (int(second.max(initial=0)) + 1) + second
    return np.split(combined, np.cumsum([len(a) for a, _ in pairs])[:-1])


def resolve(
    incoming: Rows, stored: Rows, *, seq: IntArray | None = None, skip: BoolArray | None = None
) -> Resolution:
    """Decide every incoming row (see the module docstring): rows in reading order, or `seq`
    gives each one's position in it; rows `skip` are duplicates, whatever else they meet. Every
    incoming row needs its `src`."""
    assert incoming.src is not None
    n = len(incoming.key)
    if skip is not None and skip.any():
        rest = np.flatnonzero(~skip)
        part = resolve(incoming.take(rest), stored, seq=None if seq is None else seq[rest])
        whole = Resolution(np.full(n, DUPLICATE, np.int8), *np.full((2, n), -1, np.int64))
        whole.status[rest], whole.replaces[rest] = part.status, part.replaces
        whole.credit_src[rest] = part.credit_src
        return whole
    ident, stored_ident = pair_codes((incoming.key, incoming.visit), (stored.key, stored.visit))
    match = _stored_row(ident, stored_ident)
    same = (match >= 0) & (np.append(stored.vhash, 0)[match] == incoming.vhash)

    winner = np.ones(n, dtype=bool)  # the last row read of its identity
    kept = np.ones(n, dtype=bool)  # the last row read of its identity and values
    winner_src = incoming.src.astype(np.int64)
    repeated = np.flatnonzero(repeats(ident))
    if repeated.size:
        read_at = repeated if seq is None else seq[repeated]
        # by identity, then values, then reading order
        by = np.lexsort((read_at, incoming.vhash[repeated], ident[repeated]))
        order, position = repeated[by], read_at[by]
        ident_s, vhash_s = ident[order], incoming.vhash[order]
        new_ident = np.diff(ident_s, prepend=-1) != 0
        starts, group = np.flatnonzero(new_ident), np.cumsum(new_ident) - 1
        last_value = np.append((ident_s[1:] != ident_s[:-1]) | (vhash_s[1:] != vhash_s[:-1]), True)
        is_winner = position == np.maximum.reduceat(position, starts)[group]
        group_src = np.empty(len(starts), dtype=np.int64)
        group_src[group[is_winner]] = winner_src[order[is_winner]]
        winner[order], kept[order] = is_winner, last_value
        winner_src[order] = group_src[group]

    status = np.where(winner, LIVE, np.where(kept, SUPERSEDED, DUPLICATE)).astype(np.int8)
    status[same] = DUPLICATE
    replaces = np.where(winner & (match >= 0) & ~same, match, -1).astype(np.int64)
    credit = np.where(status == SUPERSEDED, winner_src, -1).astype(np.int64)
    return Resolution(status, replaces, credit)


def _stored_row(ident: IntArray, stored_ident: IntArray) -> IndexArray:
    """Each incoming identity's stored row, -1 for none (the last, were one stored twice)."""
    if not len(stored_ident):
        return np.full(len(ident), -1, dtype=np.intp)
    stored, wanted = pd.Index(stored_ident), pd.Index(ident)
    if stored.is_unique:
        return stored.get_indexer(wanted)
    last = np.flatnonzero(~stored.duplicated(keep="last"))
    found = pd.Index(stored_ident[last]).get_indexer(wanted)
    return np.where(found >= 0, last[found], -1)


def matched_across_keys(
    incoming: Rows, stored: Rows, nik_kind: int, unrecorded: BoolArray | None = None
) -> BoolArray:
    """Which incoming rows repeat the visit date and values of a stored row, or of a row of an
    earlier file of the import, under another child key (another register layout); never two
    valid NIKs' keys, nor two rows of one file (twins). Files recording oedema count as earlier
    than those that do not (`unrecorded`), whose rows they can restate. Both need their `kind`."""
    assert incoming.kind is not None and stored.kind is not None
    n = len(incoming.visit)
    found = np.zeros(n, dtype=bool)
    src = np.zeros(n, dtype=np.int64) if incoming.src is None else incoming.src.astype(np.int64)
    if unrecorded is not None and n:
        src = src + unrecorded * (int(src.max()) + 1)  # after every file that records oedema
    several_files = n > 0 and src.min() != src.max()
    if n == 0 or (not len(stored.visit) and not several_files):
        return found
    # only a value hash held twice (by the store or the import) can repeat a measurement
    candidate = repeats(np.concatenate([incoming.vhash, stored.vhash]))
    chosen = np.flatnonzero(candidate[:n])
    incoming, stored, src = incoming.take(chosen), stored.take(candidate[n:]), src[chosen]
    assert incoming.kind is not None and stored.kind is not None
    measurement, stored_measurement = pair_codes(
        (incoming.vhash, incoming.visit), (stored.vhash, stored.visit)
    )
    near = np.flatnonzero(pd.Index(stored_measurement).isin(measurement))
    # the stored rows (source -1), and the incoming rows when earlier files can hold a match
    mine = np.arange(len(chosen)) if several_files else np.empty(0, dtype=np.intp)
    others = pd.DataFrame(
        {
            "measurement": np.concatenate([stored_measurement[near], measurement[mine]]),
            "other_key": np.concatenate([stored.key[near], incoming.key[mine]]),
            "other_nik": np.concatenate([stored.kind[near], incoming.kind[mine]]) == nik_kind,
            "other_src": np.concatenate([np.full(near.size, -1), src[mine]]),
        }
    )
    rows = pd.DataFrame(
        {
            "measurement": measurement,
            "row": chosen,
            "key": incoming.key,
            "nik": incoming.kind == nik_kind,
            "src": src,
        }
    )
    pairs = rows.merge(others, on="measurement")
    same = (
        (pairs["other_key"] != pairs["key"])
        & ~(pairs["other_nik"] & pairs["nik"])
        & (pairs["other_src"] < pairs["src"])
    )
    found[pairs.loc[same, "row"].to_numpy()] = True
    return found


def restated_without_oedema(
    incoming: Rows, unrecorded: BoolArray, stored: Rows, nik_kind: int
) -> tuple[BoolArray, BoolArray]:
    """Which incoming rows of files without an oedema column (`unrecorded`, read as "no") have
    the visit date and values, but for oedema "yes", of a stored row or of a row of a file that
    records oedema: that measurement, recorded less fully. Under another child key only as
    matched_across_keys allows (never two valid NIKs'). Returns (restated, under another key)."""
    assert incoming.kind is not None and stored.kind is not None
    restated, across = np.zeros(len(unrecorded), dtype=bool), np.zeros(len(unrecorded), dtype=bool)
    chosen = np.flatnonzero(unrecorded)
    if not chosen.size or (chosen.size == len(unrecorded) and not len(stored.vhash)):
        return restated, across
    recorded = incoming.take(~unrecorded)
    yes = with_oedema(incoming.vhash[chosen])
    # only the few rows with oedema "yes" can be restated: look up the hashes first
    hit = pd.Index(np.concatenate([stored.vhash, recorded.vhash])).isin(yes)
    others = pd.DataFrame(
        {
            "visit": np.concatenate([stored.visit, recorded.visit]),
            "vhash": np.concatenate([stored.vhash, recorded.vhash]),
            "other_key": np.concatenate([stored.key, recorded.key]),
            "other_nik": np.concatenate([stored.kind, recorded.kind]) == nik_kind,
        }
    )[hit]
    rows = pd.DataFrame(
        {
            "visit": incoming.visit[chosen],
            "vhash": yes,
            "row": chosen,
            "key": incoming.key[chosen],
            "nik": incoming.kind[chosen] == nik_kind,
        }
    )
    pairs = rows.merge(others, on=["visit", "vhash"])
    same_key = pairs["other_key"] == pairs["key"]
    allowed = same_key | ~(pairs["other_nik"] & pairs["nik"])
    restated[pairs.loc[allowed, "row"].to_numpy()] = True
    across[pairs.loc[allowed & ~same_key, "row"].to_numpy()] = True
    across[pairs.loc[same_key, "row"].to_numpy()] = False  # its own key's row is restated too
    return restated, across


def count_across_keys(rows: Rows, nik_kind: int) -> int:
    """How many rows repeat another row's visit date and measured values under another child
    key (beyond the first key of each such measurement; two keys from valid NIKs excepted)."""
    assert rows.kind is not None
    # only rows whose value hash repeats can repeat a measurement: pair the few, not all rows
    candidates = np.flatnonzero(repeats(rows.vhash))
    (measurement,) = pair_codes((rows.vhash[candidates], rows.visit[candidates]))
    several = repeats(measurement)
    repeated = candidates[several]
    frame = pd.DataFrame(
        {
            "measurement": measurement[several],
            "key": rows.key[repeated],
            "nik": rows.kind[repeated] == nik_kind,
        }
    ).drop_duplicates(["measurement", "key"])
    per_measurement = frame.groupby("measurement").agg(keys=("key", "size"), niks=("nik", "sum"))
    # keys beyond the first, where at least one of them is not a valid NIK's
    counted = per_measurement[per_measurement["niks"] < per_measurement["keys"]]
    return int((counted["keys"] - 1).sum())
