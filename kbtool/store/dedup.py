"""Which incoming rows go live, which are duplicates and which are corrections.

A measurement is identified by (child key, visit date); its values by a 64-bit value hash. For
one visit year, given the import's rows in the order they were read and the store's live rows
of those children, `resolve`:

* keeps, of rows with the same identity and values, the last one read (the others are
  duplicates);
* makes the last row read of each identity the winner: it goes live unless the store already
  holds those values (then it is a duplicate and the stored row stays);
* sends a kept row that is not the winner to ``superseded/`` (a correction inside the import),
  unless the store holds its values (then a duplicate);
* supersedes the stored row where the winner's values differ (a correction of the store).

The fast path packs (key, visit) into one 64-bit integer (key + visit x an odd constant, so one
child's visits never collide) and sorts; because two children's packings could in principle
collide, the result is verified and recomputed exactly (pandas, on both columns) when they do.
Nothing loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

DUPLICATE = 0
LIVE = 1
SUPERSEDED = 2

_VISIT_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: visit -> visit * M is a bijection

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Incoming:
    """The import's index rows of one year, sorted by the order they were read (seq)."""

    key: I64
    visit: I64
    vhash: I64
    src: npt.NDArray[np.int32]


@dataclass(frozen=True)
class Stored:
    """The store's live rows of the same year (unique identities)."""

    key: I64
    visit: I64
    vhash: I64


@dataclass(frozen=True)
class Resolution:
    """Per incoming row: its fate, the stored row it replaces, the source credited."""

    status: npt.NDArray[np.int8]  # DUPLICATE, LIVE or SUPERSEDED
    replaces: I64  # position in Stored of the row a LIVE row supersedes, else -1
    credit_src: I64  # for SUPERSEDED rows: the source of the row that won, else -1


class _Collision(Exception):
    """Two different identities packed to the same 64-bit value: use the exact path."""


def _packed(key: I64, visit: I64) -> U64:
    with np.errstate(over="ignore"):
        return key.view(np.uint64) + visit.view(np.uint64) * _VISIT_MULTIPLIER


def resolve(incoming: Incoming, stored: Stored, *, seq: I64 | None = None) -> Resolution:
    """Decide every incoming row (see the module docstring).

    The rows are in reading order, or in any order with `seq` giving each row's position in
    the reading order. Only rows whose identity occurs more than once need that order (a row
    alone with its identity is the last read of it): they are sorted and decided on their own,
    usually a handful, and every other row by one look-up against the store.
    """
    try:
        repeated = _repeated(_packed(incoming.key, incoming.visit))
        decided = _resolve_distinct(incoming, stored)
        if not repeated.any():
            return decided
        rows = np.flatnonzero(repeated)
        if seq is not None:
            rows = rows[np.argsort(seq[rows], kind="stable")]
        # a packing collision between two identities lands here too and is caught below
        part = _resolve_packed(_subset(incoming, rows), stored)
        decided.status[rows] = part.status
        decided.replaces[rows] = part.replaces
        decided.credit_src[rows] = part.credit_src
        return decided
    except _Collision:
        if seq is None:
            return resolve_exact(incoming, stored)
        order = np.argsort(seq, kind="stable")
        exact = resolve_exact(_subset(incoming, order), stored)
        status = np.empty_like(exact.status)
        replaces = np.empty_like(exact.replaces)
        credit = np.empty_like(exact.credit_src)
        status[order], replaces[order], credit[order] = (
            exact.status,
            exact.replaces,
            exact.credit_src,
        )
        return Resolution(status, replaces, credit)


def _subset(incoming: Incoming, rows: npt.NDArray[np.intp]) -> Incoming:
    return Incoming(
        key=incoming.key[rows],
        visit=incoming.visit[rows],
        vhash=incoming.vhash[rows],
        src=incoming.src[rows],
    )


def _repeated(ident: U64) -> npt.NDArray[np.bool_]:
    """Which rows share their packed identity with another row.

    One sort of the values, then a binary search among the few repeated ones: on a year of
    two million rows about 90 ms, where a hash table (pandas' duplicated) takes 630 ms.
    """
    ordered = np.sort(ident)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(ident), dtype=bool)
    repeats = ordered[1:][same]  # sorted: its distinct values are where it changes
    values = repeats[np.concatenate(([True], repeats[1:] != repeats[:-1]))]
    found = np.minimum(np.searchsorted(values, ident), len(values) - 1)
    return np.asarray(values[found] == ident)


def packed_identity(key: I64, visit: I64) -> U64:
    """(child key, visit day) packed into 64 bits, as `resolve` packs them."""
    return _packed(key, visit)


def _resolve_distinct(incoming: Incoming, stored: Stored) -> Resolution:
    """`resolve` for rows whose identity is distinct: each is the last read of its identity,
    so it goes live unless the store holds the same values; the reading order does not matter
    (the rows need not be in it). Rows of repeated identities get decided again by `resolve`."""
    n = len(incoming.key)
    ident = _packed(incoming.key, incoming.visit)
    match = _stored_match(ident, incoming.key, incoming.visit, stored)
    has_stored = match >= 0
    if len(stored.key):
        same_as_stored = has_stored & (stored.vhash[np.maximum(match, 0)] == incoming.vhash)
    else:
        same_as_stored = np.zeros(n, dtype=bool)
    status = np.where(same_as_stored, DUPLICATE, LIVE).astype(np.int8)
    replaces = np.where(has_stored & ~same_as_stored, match, -1).astype(np.int64)
    return Resolution(status, replaces, np.full(n, -1, dtype=np.int64))


def _stored_match(ident: U64, key: I64, visit: I64, stored: Stored) -> I64:
    """Position in `stored` of each row's identity (-1: not stored); `ident` is the packed
    (key, visit). Raises _Collision where packing alone cannot tell identities apart."""
    if not len(stored.key):
        return np.full(len(ident), -1, dtype=np.int64)
    stored_ident = pd.Index(_packed(stored.key, stored.visit))
    if not stored_ident.is_unique:
        raise _Collision
    match = stored_ident.get_indexer(pd.Index(ident)).astype(np.int64)
    found = match >= 0
    m = match[found]
    if not (
        np.array_equal(stored.key[m], key[found]) and np.array_equal(stored.visit[m], visit[found])
    ):
        raise _Collision
    return match


def _identity_order(ident: U64, vhash: I64) -> npt.NDArray[np.intp]:
    """The order of np.lexsort((vhash, ident)): by identity, value hash, then reading order.

    One stable sort on the identity; only rows whose identity occurs more than once (few in a
    typical import) are sorted again by value hash, which is three times cheaper than sorting
    every row on both keys.
    """
    order = np.argsort(ident, kind="stable")  # ties stay in reading order
    ident_sorted = ident[order]
    repeated = ident_sorted[1:] == ident_sorted[:-1]
    if repeated.any():
        in_run = np.zeros(len(ident), dtype=bool)
        in_run[1:] |= repeated
        in_run[:-1] |= repeated
        runs = np.flatnonzero(in_run)
        rows = order[runs]
        # the runs keep their places; lexsort is stable, so equal values stay in reading order
        order[runs] = rows[np.lexsort((vhash[rows], ident[rows]))]
    return order


def _resolve_packed(incoming: Incoming, stored: Stored) -> Resolution:
    n = len(incoming.key)
    if n == 0:
        return Resolution(np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros(0, np.int64))
    ident = _packed(incoming.key, incoming.visit)
    order = _identity_order(ident, incoming.vhash)
    id_s = ident[order]
    vh_s = incoming.vhash[order]
    new_id = np.empty(n, dtype=bool)
    new_id[0] = True
    np.not_equal(id_s[1:], id_s[:-1], out=new_id[1:])
    new_value = new_id.copy()
    new_value[1:] |= vh_s[1:] != vh_s[:-1]
    group = np.cumsum(new_id) - 1
    starts = np.flatnonzero(new_id)
    first = starts[group]
    visit_s = incoming.visit[order]
    key_s = incoming.key[order]
    if not (np.array_equal(key_s, key_s[first]) and np.array_equal(visit_s, visit_s[first])):
        raise _Collision
    kept = np.empty(n, dtype=bool)
    kept[:-1] = new_value[1:]
    kept[-1] = True  # the last row of each (identity, values) run stands for the run
    position = order.astype(np.int64)  # reading order is the original position
    last_read = np.maximum.reduceat(position, starts)
    winner = position == last_read[group]

    match = _stored_match(id_s, key_s, visit_s, stored)
    has_stored = match >= 0
    same_as_stored = (
        has_stored & (stored.vhash[np.maximum(match, 0)] == vh_s)
        if len(stored.key)
        else (np.zeros(n, dtype=bool))
    )

    status_s = np.full(n, DUPLICATE, dtype=np.int8)
    status_s[winner & ~same_as_stored] = LIVE
    status_s[kept & ~winner & ~same_as_stored] = SUPERSEDED
    replaces_s = np.where(winner & has_stored & ~same_as_stored, match, -1)
    winner_row = np.empty(len(starts), dtype=np.int64)
    winner_row[group[winner]] = np.flatnonzero(winner)
    src_s = incoming.src[order].astype(np.int64)
    credit_s = np.where(status_s == SUPERSEDED, src_s[winner_row[group]], -1)

    status = np.empty(n, dtype=np.int8)
    replaces = np.empty(n, dtype=np.int64)
    credit = np.empty(n, dtype=np.int64)
    status[order] = status_s
    replaces[order] = replaces_s
    credit[order] = credit_s
    return Resolution(status, replaces, credit)


def resolve_exact(incoming: Incoming, stored: Stored) -> Resolution:
    """The same decisions on the full key columns with pandas (slower; never approximate)."""
    n = len(incoming.key)
    frame = pd.DataFrame(
        {
            "key": incoming.key,
            "visit": incoming.visit,
            "vhash": incoming.vhash,
            "src": incoming.src.astype(np.int64),
            "position": np.arange(n, dtype=np.int64),
        }
    )
    identity = ["key", "visit"]
    kept = ~frame.duplicated([*identity, "vhash"], keep="last").to_numpy()
    group = frame.groupby(identity, sort=False).ngroup().to_numpy()
    last_read = np.zeros(group.max() + 1 if n else 0, dtype=np.int64)
    np.maximum.at(last_read, group, frame["position"].to_numpy())
    winner = frame["position"].to_numpy() == last_read[group]

    stored_frame = pd.DataFrame(
        {
            "key": stored.key,
            "visit": stored.visit,
            "s_pos": np.arange(len(stored.key), dtype=np.int64),
        }
    )
    merged = frame[identity].merge(stored_frame, on=identity, how="left", validate="many_to_one")
    match = merged["s_pos"].fillna(-1).to_numpy(dtype=np.int64)
    has_stored = match >= 0
    stored_vhash = stored.vhash[np.maximum(match, 0)] if len(stored.key) else np.zeros(n, np.int64)
    same_as_stored = has_stored & (stored_vhash == incoming.vhash)

    status = np.full(n, DUPLICATE, dtype=np.int8)
    status[winner & ~same_as_stored] = LIVE
    status[kept & ~winner & ~same_as_stored] = SUPERSEDED
    replaces = np.where(winner & has_stored & ~same_as_stored, match, -1).astype(np.int64)
    winner_src = np.zeros(last_read.size, dtype=np.int64)
    winner_src[group[winner]] = frame["src"].to_numpy()[winner]
    credit = np.where(status == SUPERSEDED, winner_src[group], -1).astype(np.int64)
    return Resolution(status, replaces, credit)


@dataclass(frozen=True)
class Measured:
    """Rows as a visit date and measured values (value hash) under a child key of a kind."""

    visit: I64
    vhash: I64
    key: I64
    kind: npt.NDArray[np.int8]
    src: npt.NDArray[np.int32] | None = None  # incoming rows: the file each came from


def matched_across_keys(
    incoming: Measured, stored: Measured, nik_kind: int
) -> npt.NDArray[np.bool_]:
    """Which incoming rows repeat a measurement already known under another child key.

    The same visit date and measured values under another key are the same measurement read
    from another register layout (a NIK in one file, a name or a mistyped NIK in the other): a
    stored row, or an incoming row of an earlier file of the import. Two keys that both come from
    valid NIKs are two children, and rows of one file are as many children as the file says
    (twins measured alike on one day).
    """
    n = len(incoming.visit)
    found = np.zeros(n, dtype=bool)
    several_files = incoming.src is not None and len(np.unique(incoming.src)) > 1
    if n == 0 or (not len(stored.visit) and not several_files):
        return found
    left = pd.DataFrame(
        {
            "ident": _packed(incoming.vhash, incoming.visit),
            "row": np.arange(n),
            "key": incoming.key,
            "nik": incoming.kind == nik_kind,
        }
    )
    stored_ident = _packed(stored.vhash, stored.visit)
    near = np.isin(stored_ident, left["ident"].to_numpy())
    others = [
        pd.DataFrame(
            {
                "ident": stored_ident[near],
                "other_key": stored.key[near],
                "other_nik": stored.kind[near] == nik_kind,
                "other_src": -1,
            }
        )
    ]
    if several_files:
        others.append(
            left.rename(columns={"key": "other_key", "nik": "other_nik"})
            .drop(columns="row")
            .assign(other_src=incoming.src)
        )
    candidates = pd.concat(others, ignore_index=True)
    if not len(candidates):
        return found
    src = incoming.src if incoming.src is not None else np.zeros(n, dtype=np.int32)
    pairs = left.assign(src=src).merge(candidates, on="ident")
    same = (
        (pairs["other_key"] != pairs["key"])
        & ~(pairs["other_nik"] & pairs["nik"])
        & (pairs["other_src"] < pairs["src"])
    )
    found[pairs.loc[same, "row"].to_numpy()] = True
    return found


def count_across_keys(rows: Measured, nik_kind: int) -> int:
    """How many rows repeat another row's visit date and measured values under another child
    key (beyond the first key of each such measurement; two keys from valid NIKs excepted)."""
    ident = _packed(rows.vhash, rows.visit)
    repeated = _repeated(ident)
    if not repeated.any():
        return 0
    frame = pd.DataFrame(
        {
            "ident": ident[repeated],
            "key": rows.key[repeated],
            "nik": rows.kind[repeated] == nik_kind,
        }
    ).drop_duplicates(["ident", "key"])
    per_measurement = frame.groupby("ident").agg(keys=("key", "size"), niks=("nik", "sum"))
    # keys beyond the first, where at least one of them is not a valid NIK's
    counted = per_measurement[per_measurement["niks"] < per_measurement["keys"]]
    return int((counted["keys"] - 1).sum())
