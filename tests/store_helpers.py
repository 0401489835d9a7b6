"""Small canonical registers for the store tests, built directly (not through the reader)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from kbtool.columns import CANONICAL_COLUMNS, REJECT_COLUMNS
from kbtool.places import KOTA_METRO
from kbtool.reading import ReadBatch
from kbtool.store import SourceInput

STRING_DTYPE = pd.StringDtype("pyarrow")
KELURAHAN = [(kel, kec) for kec, names in KOTA_METRO.items() for kel in names]
GIVEN = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Joko", "Putri", "Adi", "Wati", "Eko"]
FAMILY = ["Santoso", "Lestari", "Wijaya", "Saputra", "Rahmawati", "Hidayat", "Kurniawan"]


def nik_for(birth: pd.Timestamp, sex: int, serial: int, district: int = 1) -> str:
    """A structurally valid NIK of Kota Metro (18 72) for a child born on `birth`."""
    day = birth.day + (40 if sex == 2 else 0)
    return f"1872{district:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def make_children(
    count: int, seed: int = 1, *, nik_share: float = 0.7, name_share: float = 0.2
) -> pd.DataFrame:
    """Children: a NIK for `nik_share`, only a name for `name_share`, neither for the rest."""
    rng = np.random.default_rng(seed)
    birth = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, count), unit="D")
    sex = rng.integers(1, 3, count)
    place = rng.integers(0, len(KELURAHAN), count)
    kind = rng.random(count)
    children = pd.DataFrame(
        {
            "birth_date": birth,
            "sex": sex.astype(np.int8),
            "kelurahan": [KELURAHAN[p][0] for p in place],
            "kecamatan": [KELURAHAN[p][1] for p in place],
            "name": [
                f"{GIVEN[rng.integers(len(GIVEN))]} {FAMILY[rng.integers(len(FAMILY))]} {i}"
                for i in range(count)
            ],
        }
    )
    children["child_id"] = [
        nik_for(b, s, 1 + i % 9999, 1 + (i // 9999) % 99) if k < nik_share else None
        for i, (b, s, k) in enumerate(zip(birth, sex, kind, strict=True))
    ]
    no_name = kind >= nik_share + name_share
    children.loc[no_name, "name"] = None
    children.loc[kind >= nik_share, "child_id"] = None
    return children


def make_visits(children: pd.DataFrame, visit_dates: Iterable[str], seed: int = 2) -> pd.DataFrame:
    """One canonical row per child and visit date, with plausible weights and heights."""
    rng = np.random.default_rng(seed)
    frames = []
    for date in visit_dates:
        visit = pd.Timestamp(date)
        frame = children.copy()
        frame["visit_date"] = visit
        age = (visit - frame["birth_date"]).dt.days.to_numpy()
        frame["weight_kg"] = np.round(3.3 + age * 0.0075 + rng.normal(0, 0.8, len(frame)), 1)
        frame["height_cm"] = np.round(50 + age * 0.027 + rng.normal(0, 2.5, len(frame)), 1)
        frame["measure"] = np.where(age < 731, 1, 2).astype(np.int8)
        frames.append(frame[frame["visit_date"] > frame["birth_date"]])
    rows = pd.concat(frames, ignore_index=True)
    rows["age_months"] = np.nan
    rows["oedema"] = False
    rows["posyandu"] = "Posyandu " + rows["kelurahan"].str.slice(0, 4) + " 1"
    rows["puskesmas"] = "Puskesmas " + rows["kecamatan"]
    columns = list(CANONICAL_COLUMNS)
    rows = rows[columns].copy()
    # the dtypes kbtool.reading returns: Arrow-backed strings, dates to the second
    for name in ("child_id", "name", "posyandu", "kelurahan", "kecamatan", "puskesmas"):
        rows[name] = rows[name].astype(STRING_DTYPE)
    for name in ("birth_date", "visit_date"):
        rows[name] = rows[name].astype("datetime64[s]")
    return rows


def as_batches(
    rows: pd.DataFrame,
    source: str,
    *,
    batch_rows: int = 1000,
    rejects: pd.DataFrame | None = None,
) -> list[ReadBatch]:
    """Split canonical rows into reader batches; rejected rows count as read in the first batch."""
    rows = rows.reset_index(drop=True).copy()
    rows["source_file"] = source
    rows["source_line"] = np.arange(2, len(rows) + 2, dtype=np.int64)
    rejects = rejects if rejects is not None else pd.DataFrame(columns=list(REJECT_COLUMNS))
    batches = []
    for start in range(0, max(len(rows), 1), batch_rows):
        part = rows.iloc[start : start + batch_rows].reset_index(drop=True)
        extra = len(rejects) if start == 0 else 0
        batches.append(
            ReadBatch(
                source=source,
                rows=part,
                raw=None,
                rejects=rejects if start == 0 else rejects.iloc[0:0],
                rows_read=len(part) + extra,
                column_map={"child_id": "NIK", "name": "Nama Anak"},
            )
        )
    return batches


def source_of(
    rows: pd.DataFrame, name: str, *, content: str | None = None, **kwargs: object
) -> SourceInput:
    """A SourceInput whose SHA-256 is that of the rows' CSV text (or of `content`)."""
    text = content if content is not None else rows.to_csv(index=False)
    sha = hashlib.sha256(text.encode()).hexdigest()
    return SourceInput(name=name, sha256=sha, batches=as_batches(rows, name, **kwargs))  # type: ignore[arg-type]


def all_store_bytes(root: Path) -> bytes:
    """Every byte of every file under the store, for leak checks."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def store_snapshot(root: Path, *, ignore: tuple[str, ...] = ("lock",)) -> dict[str, str]:
    """Relative path -> SHA-256 of every file in the store (the lock file's pid excluded)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in ignore
    }
