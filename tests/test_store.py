"""The measurement store: idempotent, private, atomic, serialised imports and reading back."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kbtool import privacy
from kbtool.columns import REJECT_COLUMNS
from kbtool.errors import StoreError
from kbtool.store import (
    FORMAT_VERSION,
    MEASUREMENT_COLUMNS,
    collect_leftovers,
    commit,
    dedup,
    import_batches,
    import_registers,
    ingest,
    list_sources,
    open_measurements,
    open_superseded,
    resolve,
    resolve_store_dir,
    schema,
)
from kbtool.store.layout import Store, store_lock
from tests.store_helpers import (
    all_store_bytes,
    make_children,
    make_visits,
    source_of,
    store_snapshot,
)

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def keyed_children(count: int, seed: int = 1) -> pd.DataFrame:
    """Children who all have a NIK or a name with a birth date (no keyless rows)."""
    return make_children(count, seed, nik_share=0.7, name_share=0.3)


def reconciles(summary: ingest.ImportSummary) -> bool:
    return (
        all(
            s.rows_read == s.rows_stored + s.rows_duplicate + s.rows_rejected
            for s in summary.sources
        )
        and summary.rows_read
        == summary.rows_stored + summary.rows_duplicate + summary.rows_rejected
    )


# --- creation, location, format -----------------------------------------------------------


def test_first_import_creates_a_private_versioned_store(store: Path) -> None:
    rows = make_visits(keyed_children(20), ["2023-01-15"])
    summary = import_batches([source_of(rows, "jan.csv")], store)
    assert summary.landed and summary.rows_stored == len(rows)
    assert (store / "FORMAT_VERSION").read_text().strip() == str(FORMAT_VERSION)
    assert stat.S_IMODE((store / "secret.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) & 0o077 == 0
    assert (store / "catalogue.sqlite").exists()
    files = sorted(
        p.relative_to(store).as_posix() for p in (store / "measurements").rglob("*.parquet")
    )
    assert files and all(f.startswith("measurements/year=2023/kecamatan=Metro ") for f in files)


def test_store_location_explicit_then_env_then_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KBTOOL_STORE", str(tmp_path / "env"))
    assert resolve_store_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_store_dir(None) == tmp_path / "env"
    monkeypatch.delenv("KBTOOL_STORE")
    monkeypatch.setattr("platformdirs.user_data_dir", lambda app: str(tmp_path / "data" / app))
    assert resolve_store_dir(None) == tmp_path / "data" / "kbtool"


def test_newer_format_version_is_refused(store: Path) -> None:
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    import_batches([source_of(rows, "jan.csv")], store)
    (store / "FORMAT_VERSION").write_text("2\n")
    for call in (
        lambda: open_measurements(store),
        lambda: list_sources(store),
        lambda: import_batches([source_of(rows, "feb.csv", content="other")], store),
    ):
        with pytest.raises(StoreError, match="format version 2"):
            call()


def test_a_directory_with_other_files_is_not_made_a_store(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("mine")
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    with pytest.raises(StoreError, match="not a kbtool store"):
        import_batches([source_of(rows, "jan.csv")], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]


def test_a_creation_killed_while_writing_its_format_file_is_resumed(tmp_path: Path) -> None:
    """FORMAT_VERSION is written last, by writing.atomic_write; its temporary file, left by a
    kill, does not make the directory look foreign."""
    (tmp_path / ".FORMAT_VERSION.k1ll3d.part").write_text("1")
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    import_batches([source_of(rows, "jan.csv")], tmp_path)
    assert (tmp_path / "FORMAT_VERSION").read_text() == f"{FORMAT_VERSION}\n"


def test_reading_a_missing_store(store: Path) -> None:
    with pytest.raises(StoreError, match="kbtool import"):
        open_measurements(store)
    with pytest.raises(StoreError, match="kbtool import"):
        list_sources(store)


# --- import semantics ---------------------------------------------------------------------


def test_reimport_adds_nothing_and_says_so(store: Path) -> None:
    rows = make_visits(keyed_children(30), ["2023-01-15", "2023-02-15"])
    first = import_batches([source_of(rows, "jan.csv")], store)
    before = store_snapshot(store)
    again = import_batches([source_of(rows, "jan.csv")], store)
    assert again.import_id is None and not again.landed
    assert again.sources[0].status == "already imported"
    assert again.sources[0].already_imported_by == first.import_id
    assert again.rows_read == 0 and again.rows_stored == 0
    assert store_snapshot(store) == before
    assert len(list_sources(store)) == 1


def test_same_file_twice_in_one_import_is_read_once(store: Path) -> None:
    rows = make_visits(keyed_children(10), ["2023-01-15"])
    summary = import_batches([source_of(rows, "a.csv"), source_of(rows, "copy-of-a.csv")], store)
    assert [s.status for s in summary.sources] == ["imported", "repeated in this import"]
    assert len(open_measurements(store)) == len(rows)


def test_same_measurement_in_two_files_is_stored_once(store: Path) -> None:
    children = keyed_children(40)
    january = make_visits(children, ["2023-01-15"], seed=5)
    cumulative = pd.concat(
        [january, make_visits(children, ["2023-02-15"], seed=6)], ignore_index=True
    )
    import_batches([source_of(january, "jan.csv")], store)
    summary = import_batches([source_of(cumulative, "jan-feb.csv")], store)
    assert summary.rows_duplicate == len(january)
    assert summary.rows_stored == len(cumulative) - len(january)
    assert summary.corrections == 0 and reconciles(summary)
    stored = open_measurements(store)
    assert len(stored) == len(cumulative)
    assert not stored.duplicated(["child_key", "visit_date"]).any()


def test_an_export_of_the_same_visits_in_another_layout_adds_nothing(store: Path) -> None:
    """e-PPGBM writes names in capitals and adds the age in months: still the same visits."""
    rows = make_visits(keyed_children(20), ["2023-01-15"])
    import_batches([source_of(rows, "register.csv")], store)
    export = rows.copy()
    export["posyandu"] = export["posyandu"].str.upper()
    export["puskesmas"] = export["puskesmas"].str.upper()
    export["kelurahan"] = "KEL. " + export["kelurahan"].str.upper()
    export["age_months"] = (export["visit_date"] - export["birth_date"]).dt.days / 30.4375
    summary = import_batches([source_of(export, "eppgbm.csv")], store)
    assert summary.rows_duplicate == len(rows) and summary.corrections == 0


def test_correction_newest_wins_and_the_old_value_stays_traceable(store: Path) -> None:
    children = keyed_children(25)
    january = make_visits(children, ["2023-01-15"], seed=5)
    first = import_batches([source_of(january, "jan.csv")], store)
    corrected = january.copy()
    corrected["weight_kg"] = np.where(
        corrected.index == 3, corrected["weight_kg"] + 1.5, corrected["weight_kg"]
    )
    second = import_batches([source_of(corrected, "jan-fixed.csv")], store)
    assert second.corrections == 1 and second.rows_stored == 1
    assert second.rows_duplicate == len(january) - 1 and reconciles(second)

    live = open_measurements(store)
    assert len(live) == len(january)
    fixed = live[live["import_id"] == second.import_id]
    assert len(fixed) == 1 and fixed["weight_kg"].iloc[0] == corrected.loc[3, "weight_kg"]
    old = open_superseded(store)
    assert len(old) == 1
    assert old["weight_kg"].iloc[0] == january.loc[3, "weight_kg"]
    assert old["import_id"].iloc[0] == first.import_id
    assert old["superseded_by_import"].iloc[0] == second.import_id
    assert old["child_key"].iloc[0] == fixed["child_key"].iloc[0]
    # z-scores follow the corrected weight
    assert fixed["waz"].iloc[0] > old["waz"].iloc[0]


def test_changed_value_inside_one_file_last_row_wins(store: Path) -> None:
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    changed = rows.iloc[[0]].copy()
    changed["height_cm"] = changed["height_cm"] + 2
    repeated = rows.iloc[[1]]
    summary = import_batches([source_of(pd.concat([rows, changed, repeated]), "x.csv")], store)
    assert summary.rows_read == len(rows) + 2
    assert summary.rows_duplicate == 1  # the repeated row
    assert summary.corrections == 1  # row 0 replaced by its later version
    assert summary.rows_stored == len(rows) + 1 and reconciles(summary)
    live = open_measurements(store)
    assert len(live) == len(rows)
    assert changed["height_cm"].iloc[0] in live["height_cm"].to_numpy()
    assert open_superseded(store)["height_cm"].tolist() == [rows["height_cm"].iloc[0]]


def test_keys_are_stable_across_imports_and_differ_between_stores(tmp_path: Path) -> None:
    children = keyed_children(15)
    january = make_visits(children, ["2023-01-15"])
    february = make_visits(children, ["2023-02-15"])
    import_batches([source_of(january, "jan.csv")], tmp_path / "a")
    import_batches([source_of(february, "feb.csv")], tmp_path / "a")
    import_batches([source_of(january, "jan.csv")], tmp_path / "b")
    a = open_measurements(tmp_path / "a")
    per_month = a.groupby("visit_date")["child_key"].apply(set)
    assert per_month.iloc[0] == per_month.iloc[1]
    b = open_measurements(tmp_path / "b")
    assert not set(b["child_key"]) & set(a["child_key"])


def test_rows_without_key_are_stored_counted_and_idempotent(store: Path) -> None:
    children = make_children(30, seed=4, nik_share=0.5, name_share=0.2)
    rows = make_visits(children, ["2023-01-15"])
    keyless = int((rows["child_id"].isna() & rows["name"].isna()).sum())
    assert keyless > 0
    summary = import_batches([source_of(rows, "jan.csv")], store)
    assert summary.rows_without_key == keyless
    stored = open_measurements(store)
    assert (stored["child_key_kind"] == 0).sum() == keyless
    again = import_batches([source_of(rows, "jan.csv")], store)
    assert again.rows_stored == 0
    assert len(open_measurements(store)) == len(rows)


def test_counts_reconcile_and_rejects_are_recorded(store: Path, tmp_path: Path) -> None:
    rows = make_visits(keyed_children(10), ["2023-01-15"])
    rejects = pd.DataFrame(
        {
            "file": ["jan.csv"] * 3,
            "line": [40, 41, 42],
            "column": ["birth_date", "weight_kg", "visit_date"],
            "value": ["31/02/2021", "-3", "2031-01-01"],
            "reason": ["unparseable date", "weight <= 0", "date in the future"],
        }
    )
    copy = tmp_path / "rejects-copy.csv"
    summary = import_batches(
        [source_of(rows, "jan.csv", rejects=rejects)], store, rejects_path=copy
    )
    assert summary.rows_rejected == 3 and summary.rows_read == len(rows) + 3
    assert reconciles(summary)
    assert summary.rejects_file is not None
    written = pd.read_csv(summary.rejects_file)
    assert list(written.columns) == list(REJECT_COLUMNS)
    assert written["line"].tolist() == [40, 41, 42]
    assert written["value"].tolist() == ["31/02/2021", "-3", "2031-01-01"]
    assert copy.read_bytes() == Path(summary.rejects_file).read_bytes()
    sources = list_sources(store)
    counts = sources[["rows_read", "rows_stored", "rows_duplicate", "rows_rejected"]]
    assert counts.iloc[0].tolist() == [
        len(rows) + 3,
        len(rows),
        0,
        3,
    ]


def test_a_file_whose_rows_were_all_rejected_can_be_imported_again(store: Path) -> None:
    rows = make_visits(keyed_children(3), ["2023-01-15"])
    rejects = pd.DataFrame(
        {
            "file": "a.csv",
            "line": [2, 3, 4],
            "column": "measure",
            "value": "9",
            "reason": "unparseable",
        }
    )
    first = import_batches(
        [source_of(rows.iloc[0:0], "a.csv", content="A", rejects=rejects)], store
    )
    assert first.landed and first.rows_stored == 0 and first.rows_rejected == 3
    again = import_batches([source_of(rows, "a.csv", content="A")], store)
    assert again.sources[0].status == "imported" and again.rows_stored == len(rows)


def test_summary_is_json_serialisable(store: Path) -> None:
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    rows.loc[0, "kelurahan"] = "Kel. Sukarame"
    summary = import_batches([source_of(rows, "jan.csv")], store)
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["rows_read"] == len(rows)
    assert data["unknown_kelurahan"] == ["Sukarame"]
    assert data["sources"][0]["file"] == "jan.csv"


def test_place_names_are_normalised_with_the_stores_aliases(store: Path) -> None:
    rows = make_visits(keyed_children(6), ["2023-01-15"])
    rows["kelurahan"] = [
        "Iring Mulyo",
        "KEL. IRINGMULYO",
        "Ganjar Agung",
        "Tejo Agung",
        "Kel Bumiwaras",
        "SUKARAJA",
    ]
    rows["kecamatan"] = pd.Series(
        [None] * 4 + ["Teluk Betung Selatan"] * 2, dtype="string[pyarrow]"
    )
    store.mkdir()
    (store / "aliases.csv").write_text("kind,alias,name\nkelurahan,Bumiwaras,Bumi Waras\n")
    summary = import_batches([source_of(rows, "jan.csv")], store)
    assert summary.unknown_kelurahan == ["Sukaraja"]
    stored = open_measurements(
        store, columns=["kelurahan", "kecamatan", "source_line"]
    ).sort_values("source_line")
    assert stored["kelurahan"].astype(str).tolist() == [
        "Iringmulyo",
        "Iringmulyo",
        "Ganjar Agung",
        "Tejo Agung",
        "Bumi Waras",
        "Sukaraja",
    ]
    assert stored["kecamatan"].astype(str).tolist()[:4] == [
        "Metro Timur",
        "Metro Timur",
        "Metro Barat",
        "Metro Timur",
    ]


def test_awkward_kecamatan_names_survive_the_partition_directory(store: Path) -> None:
    rows = make_visits(keyed_children(3), ["2023-01-15"])
    rows["kelurahan"] = "Kampung Baru"
    rows["kecamatan"] = pd.Series(["KB", "TB", None], dtype="string[pyarrow]")
    store.mkdir()
    (store / "aliases.csv").write_text(
        'kind,alias,name\nkecamatan,KB,"Kota/Barat = 100%"\nkecamatan,TB,Tébet\n', encoding="utf-8"
    )
    import_batches([source_of(rows, "x.csv")], store)
    stored = open_measurements(store, columns=["kecamatan", "source_line"]).sort_values(
        "source_line"
    )
    assert stored["kecamatan"].tolist()[:2] == ["Kota/Barat = 100%", "Tébet"]
    assert pd.isna(stored["kecamatan"].iloc[2])
    kecamatan_dirs = {p.name for p in (store / "measurements" / "year=2023").iterdir()}
    assert kecamatan_dirs == {
        "kecamatan=Kota%2FBarat %3D 100%25",
        "kecamatan=Tébet",
        "kecamatan=__HIVE_DEFAULT_PARTITION__",
    }


def test_partitions_compact_when_they_grow(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "MAX_FILES_PER_PARTITION", 2)
    children = keyed_children(12)
    for month in range(1, 6):
        rows = make_visits(children, [f"2023-{month:02d}-15"])
        import_batches([source_of(rows, f"m{month}.csv")], store)
    by_partition: dict[Path, int] = {}
    for path in (store / "measurements").rglob("*.parquet"):
        by_partition[path.parent] = by_partition.get(path.parent, 0) + 1
    assert max(by_partition.values()) <= 2
    stored = open_measurements(store)
    assert len(stored) == 12 * 5
    assert not stored.duplicated(["child_key", "visit_date"]).any()


def test_missing_visit_date_is_stored_in_the_null_partition(store: Path) -> None:
    rows = make_visits(keyed_children(4), ["2023-01-15"])
    rows.loc[0, "visit_date"] = pd.NaT
    rows.loc[0, "age_months"] = 14.0
    import_batches([source_of(rows, "jan.csv")], store)
    stored = open_measurements(store)
    assert len(stored) == 4
    undated = stored[stored["visit_date"].isna()]
    assert len(undated) == 1 and pd.isna(undated["year"].iloc[0])
    assert undated["age_days"].iloc[0] == round(14 * 30.4375)


def test_open_measurements_selects_columns_and_partitions(store: Path) -> None:
    children = keyed_children(30)
    rows = make_visits(children, ["2022-06-15", "2023-06-15"])
    import_batches([source_of(rows, "x.csv")], store)
    everything = open_measurements(store)
    assert tuple(everything.columns) == MEASUREMENT_COLUMNS
    assert everything["child_key"].dtype == np.int64
    assert str(everything["kelurahan"].dtype) == "category"
    assert str(everything["haz_flag"].dtype) == "boolean"
    assert everything["visit_date"].dtype.kind == "M"
    picked = open_measurements(
        store,
        columns=["child_key", "visit_date", "haz", "kecamatan", "year"],
        filters=[("year", "=", 2023), ("kecamatan", "=", "Metro Timur")],
    )
    assert list(picked.columns) == ["child_key", "visit_date", "haz", "kecamatan", "year"]
    expected = everything[(everything["year"] == 2023) & (everything["kecamatan"] == "Metro Timur")]
    assert len(picked) == len(expected) > 0
    with pytest.raises(StoreError, match="no column 'nik'"):
        open_measurements(store, columns=["nik"])


def test_stored_z_scores_flags_and_statuses(store: Path) -> None:
    """Full-precision z-scores; flags and statuses of the values rounded to 2 decimals."""
    rows = make_visits(keyed_children(1), ["2023-01-15"]).iloc[[0, 0]].reset_index(drop=True)
    rows.loc[1, "visit_date"] = pd.Timestamp("2023-02-15")
    rows["birth_date"] = pd.Timestamp("2022-01-15")
    rows["sex"] = np.int8(1)
    rows["measure"] = np.int8(1)
    rows["height_cm"] = [75.0, 60.0]
    import_batches([source_of(rows, "x.csv")], store)
    stored = open_measurements(store).sort_values("visit_date")
    from kbtool.growth import compute_zscore_arrays

    expected = compute_zscore_arrays(
        np.array([1, 1]),
        stored["age_days"].to_numpy(float),
        stored["weight_kg"].to_numpy(),
        np.array([75.0, 60.0]),
        np.array([1, 1]),
        full_precision=True,
    )
    assert np.allclose(stored["haz"].to_numpy(), expected.haz, rtol=0, atol=1e-12)
    assert stored["haz_status"].astype(str).tolist()[0] == "normal"
    assert stored["haz_flag"].tolist() == [False, bool(np.round(expected.haz[1], 2) < -6)]


# --- privacy ------------------------------------------------------------------------------


def _identifiers(rows: pd.DataFrame) -> list[bytes]:
    values: set[str] = set()
    for name in rows["name"].dropna().astype(str):
        values |= {name, name.casefold(), name.upper(), " ".join(name.casefold().split())}
    values |= set(rows["child_id"].dropna().astype(str))
    return sorted(v.encode() for v in values)


def test_nik_and_names_never_reach_the_store(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every byte of every file (Parquet written uncompressed so a grep can see it), including
    rejects whose rejected column is the NIK or the name, and the reason quoting it."""
    monkeypatch.setitem(schema.PARQUET_OPTIONS, "compression", "none")
    monkeypatch.delitem(schema.PARQUET_OPTIONS, "compression_level")
    children = make_children(40, seed=9, nik_share=0.6, name_share=0.3)
    rows = make_visits(children, ["2023-01-15", "2023-02-15"])
    victim_nik = str(rows["child_id"].dropna().iloc[0])
    victim_name = str(rows["name"].dropna().iloc[0])
    rejects = pd.DataFrame(
        {
            "file": "jan.csv",
            "line": [900, 901, 902, 903, 904],
            "column": ["child_id", "name", "NIK", "weight_kg", None],
            "value": [
                victim_nik + "X",
                victim_name,
                victim_nik,
                "berat " + victim_nik,
                f"{victim_nik};{victim_name};L;01/01/2021",  # a broken line: the whole line
            ],
            "reason": [
                f"not a NIK: {victim_nik}X",
                f"name {victim_name} too long",
                "bad",
                "unparseable number",
                "too many fields",
            ],
        }
    )
    copy = tmp_path / "rejects.csv"
    summary = import_batches(
        [source_of(rows, "jan.csv", rejects=rejects)], store, rejects_path=copy
    )
    corrected = rows.copy()
    corrected["weight_kg"] = np.where(
        corrected.index == 0, corrected["weight_kg"] + 1, corrected["weight_kg"]
    )
    import_batches([source_of(corrected, "jan-fixed.csv")], store)
    assert summary.rows_rejected == 5

    secrets_in = [*_identifiers(rows), victim_nik.encode(), victim_name.encode()]
    blob = all_store_bytes(store) + copy.read_bytes()
    leaks = [s for s in secrets_in if s in blob]
    assert leaks == []
    # and decoded: no stored string or integer equals a NIK or a name
    nik_numbers = {int(n) for n in rows["child_id"].dropna()}
    for path in list(store.rglob("*.parquet")):
        table = pq.read_table(path)
        for column in table.columns:
            values = set(map(str, column.to_pylist()))
            assert not values & {s.decode() for s in secrets_in}
            if pa.types.is_integer(column.type):
                assert not set(column.to_pylist()) & nik_numbers
    rejected = pd.read_csv(summary.rejects_file or "", dtype=str)
    assert rejected["value"].tolist() == ["[redacted]"] * 3 + ["berat [redacted]", "[redacted]"]
    assert victim_nik not in "".join(rejected["reason"].tolist())


# --- atomicity and concurrency ------------------------------------------------------------

_IMPORT_SCRIPT = """
import json, os, sys, time
sys.path.insert(0, {root!r})
from tests.store_helpers import make_children, make_visits, source_of
from kbtool.store import import_batches
children = make_children({children}, seed={seed}, nik_share=0.7, name_share=0.3)
rows = make_visits(children, {dates!r}, seed={visits_seed})
def waiting(message):
    print("WAIT", message, file=sys.stderr, flush=True)
    if {wait_marker!r}:
        open({wait_marker!r}, "w").close()
def pause(phase):  # stop here (the test kills the process, or releases it)
    if phase != {pause_at!r}:
        return
    open({marker!r}, "w").close()
    until = time.monotonic() + {pause_seconds!r}
    while time.monotonic() < until and not ({release!r} and os.path.exists({release!r})):
        time.sleep(0.05)
summary = import_batches(
    [source_of(rows, {name!r}, batch_rows=40)], {store!r}, on_wait=waiting, at_phase=pause
)
print(json.dumps(summary.to_dict()))
"""


def _import_process(
    store: Path,
    name: str,
    *,
    seed: int = 1,
    children: int = 60,
    dates: tuple[str, ...] = ("2023-01-15", "2023-02-15"),
    visits_seed: int = 2,
    pause_at: str | None = None,
    marker: Path | None = None,
    pause_seconds: float = 600,
    release: Path | None = None,
    wait_marker: Path | None = None,
) -> subprocess.Popen[str]:
    script = _IMPORT_SCRIPT.format(
        pause_at=pause_at or "",
        marker="" if marker is None else str(marker),
        pause_seconds=pause_seconds,
        release="" if release is None else str(release),
        root=str(ROOT),
        children=children,
        seed=seed,
        dates=list(dates),
        name=name,
        store=str(store),
        visits_seed=visits_seed,
        wait_marker="" if wait_marker is None else str(wait_marker),
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(marker: Path, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"import ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the import never reached the pause point")
        time.sleep(0.05)


def _finish(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    result: dict[str, object] = json.loads(out)
    result["stderr"] = err
    return result


def visible_parquet(store: Path) -> set[str]:
    """The Parquet files of measurements/ a tool reading the directory sees (no hidden ones)."""
    return {
        p.relative_to(store).as_posix()
        for p in (store / "measurements").rglob("*.parquet")
        if not p.name.startswith((".", "_"))
    }


def _state(store: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    live = open_measurements(store).sort_values(["child_key", "visit_date"]).reset_index(drop=True)
    return live, list_sources(store)


@pytest.mark.parametrize("phase", ["batch", "staged", "placed"])
def test_kill_during_import_leaves_the_store_as_before(
    store: Path, tmp_path: Path, phase: str
) -> None:
    first = _finish(_import_process(store, "jan.csv", dates=("2023-01-15",)))
    assert first["import_id"]
    before_files = store_snapshot(store)
    before_live, before_sources = _state(store)

    marker = tmp_path / f"paused-{phase}"
    process = _import_process(
        store, "feb.csv", seed=1, dates=("2023-01-15", "2023-02-15"), pause_at=phase, marker=marker
    )
    _wait_for(marker, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    after_live, after_sources = _state(store)  # readers see exactly the old store
    pd.testing.assert_frame_equal(after_live, before_live)
    pd.testing.assert_frame_equal(after_sources, before_sources)
    # and so does a tool reading the directories: the killed import's files are hidden
    assert visible_parquet(store) == {p for p in before_files if p.startswith("measurements/")}
    assert len(pd.read_parquet(store / "measurements")) == len(before_live)
    assert collect_leftovers(store) > 0
    assert store_snapshot(store) == before_files  # byte for byte, once the leftovers are gone

    rerun = _finish(_import_process(store, "feb.csv", seed=1, dates=("2023-01-15", "2023-02-15")))
    assert rerun["import_id"] and rerun["rows_duplicate"] == first["rows_stored"]
    live, sources = _state(store)
    assert len(sources) == 2
    assert len(live) == int(first["rows_stored"]) + int(rerun["rows_stored"])  # type: ignore[call-overload]
    assert not live.duplicated(["child_key", "visit_date"]).any()


def test_kill_after_commit_keeps_the_import(store: Path, tmp_path: Path) -> None:
    _finish(_import_process(store, "jan.csv", dates=("2023-01-15",)))
    marker = tmp_path / "paused"
    # other weights and heights (visits_seed): every January row becomes a correction
    process = _import_process(
        store,
        "jan-fixed.csv",
        dates=("2023-01-15",),
        visits_seed=7,
        pause_at="committed",
        marker=marker,
    )
    _wait_for(marker, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    live, sources = _state(store)  # the new files, still under their hidden names
    assert len(sources) == 2  # the commit happened
    fixed = sources.loc[sources["file"] == "jan-fixed.csv", "import_id"].iloc[0]
    assert (live["import_id"] == fixed).all()
    assert len(open_superseded(store)) == len(live)
    assert collect_leftovers(store) > 0  # the replaced January files, deleted only now
    files = store_snapshot(store)
    assert not any(p.startswith("staging/") or p.endswith(".pending") for p in files)
    with closing(sqlite3.connect(store / "catalogue.sqlite")) as connection:
        listed = {row[0] for row in connection.execute("SELECT path FROM files")}
    assert visible_parquet(store) == {p for p in listed if p.startswith("measurements/")}
    assert len(pd.read_parquet(store / "measurements")) == len(live)
    again = _finish(_import_process(store, "jan-fixed.csv", dates=("2023-01-15",), visits_seed=7))
    assert again["import_id"] is None


def test_concurrent_imports_are_serialised(store: Path, tmp_path: Path) -> None:
    _finish(_import_process(store, "setup.csv", seed=3, children=5, dates=("2022-12-15",)))
    marker = tmp_path / "a-running"
    # a holds the lock, paused, while b and c start and have to wait; a goes on once b says
    # it waits (a fixed pause was too short for two processes to start on a loaded machine)
    release, b_waits = tmp_path / "release", tmp_path / "b-waits"
    a = _import_process(store, "a.csv", seed=1, pause_at="staged", marker=marker, release=release)
    _wait_for(marker, a)
    b = _import_process(store, "b.csv", seed=2, wait_marker=b_waits)
    c = _import_process(store, "a.csv", seed=1)  # the same file as a, at the same time
    _wait_for(b_waits, b)
    time.sleep(0.5)  # c starts at the same time; give it a moment to queue as well
    release.touch()
    result_a, result_b, result_c = _finish(a), _finish(b), _finish(c)
    assert "WAIT" in str(result_b["stderr"]) and "pid" in str(result_b["stderr"])
    assert result_a["import_id"] and result_b["import_id"]
    assert result_c["import_id"] is None  # whichever came second found it already imported
    live, sources = _state(store)
    assert len(sources) == 3
    assert len(live) == sum(int(r["rows_stored"]) for r in (result_a, result_b)) + 5  # type: ignore[call-overload]
    assert not live.duplicated(["child_key", "visit_date"]).any()


def test_lock_timeout_names_the_holder(store: Path) -> None:
    rows = make_visits(keyed_children(3), ["2023-01-15"])
    import_batches([source_of(rows, "a.csv")], store)
    messages: list[str] = []
    with store_lock(Store(store)), pytest.raises(StoreError, match=f"pid {os.getpid()}"):
        import_batches(
            [source_of(rows, "b.csv", content="b")],
            store,
            lock_timeout=0.2,
            on_wait=messages.append,
        )
    assert messages and "waiting" in messages[0]


def test_the_library_entry_points_wait_for_the_lock_at_most_lock_timeout(
    store: Path, tmp_path: Path
) -> None:
    """import_registers and collect_leftovers, as a library user calls them, take the same
    lock_timeout and on_wait as import_batches."""
    rows = make_visits(keyed_children(3), ["2023-01-15"])
    import_batches([source_of(rows, "a.csv")], store)
    register = tmp_path / "b.csv"
    rows.to_csv(register, index=False)
    messages: list[str] = []
    with store_lock(Store(store)):
        with pytest.raises(StoreError, match=f"pid {os.getpid()}"):
            import_registers([register], store, lock_timeout=0.2, on_wait=messages.append)
        with pytest.raises(StoreError, match=f"pid {os.getpid()}"):
            collect_leftovers(store, lock_timeout=0.2, on_wait=messages.append)
    assert len(messages) == 2 and all("waiting" in m for m in messages)


# --- the dedup kernel ---------------------------------------------------------------------


def _random_rows(rng: np.random.Generator, n: int) -> tuple[dedup.Rows, dedup.Rows]:
    children = rng.integers(0, 6, n).astype(np.int64)
    incoming = dedup.Rows(
        key=children.astype(np.int64) * 7919,
        visit=rng.integers(0, 3, n).astype(np.int64),
        vhash=rng.integers(0, 3, n).astype(np.int64),
        src=rng.integers(0, 2, n).astype(np.int32),
    )
    pairs = np.unique(np.stack([rng.integers(0, 6, 8), rng.integers(0, 3, 8)]), axis=1)
    stored = dedup.Rows(
        key=pairs[0].astype(np.int64) * 7919,
        visit=pairs[1].astype(np.int64),
        vhash=np.asarray(rng.integers(0, 3, pairs.shape[1]), dtype=np.int64),
    )
    return incoming, stored


def _rules(incoming: dedup.Rows, stored: dedup.Rows) -> list[tuple[int, int, int]]:
    """The rules of kbtool.store.dedup row by row in plain Python (rows in reading order):
    (status, stored row replaced, source credited) per row."""
    assert incoming.src is not None
    rows = list(zip(incoming.key, incoming.visit, incoming.vhash, incoming.src, strict=True))
    held = {(k, v): i for i, (k, v) in enumerate(zip(stored.key, stored.visit, strict=True))}
    decided = []
    for i, (key, visit, vhash, _) in enumerate(rows):
        later = rows[i + 1 :]
        winner = not any((k, v) == (key, visit) for k, v, _, _ in later)
        kept = not any((k, v, h) == (key, visit, vhash) for k, v, h, _ in later)
        at = held.get((key, visit), -1)
        same = at >= 0 and stored.vhash[at] == vhash
        last = max(j for j, (k, v, _, _) in enumerate(rows) if (k, v) == (key, visit))
        if same or not kept:
            decided.append((dedup.DUPLICATE, -1, -1))
        elif winner:
            decided.append((dedup.LIVE, at, -1))
        else:
            decided.append((dedup.SUPERSEDED, -1, int(rows[last][3])))
    return decided


def _decided(result: dedup.Resolution) -> list[tuple[int, int, int]]:
    return list(
        zip(
            result.status.tolist(),
            result.replaces.tolist(),
            result.credit_src.tolist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("seed", range(20))
def test_dedup_follows_its_rules(seed: int) -> None:
    """On random rows with many repeats, in reading order or shuffled with their reading
    positions, every row is decided as the rules say."""
    incoming, stored = _random_rows(np.random.default_rng(seed), 40)
    expected = _rules(incoming, stored)
    assert _decided(dedup.resolve(incoming, stored)) == expected
    shuffled = np.random.default_rng(seed + 100).permutation(len(incoming.key))
    mixed = incoming.take(shuffled)
    unordered = dedup.resolve(mixed, stored, seq=shuffled.astype(np.int64))
    assert _decided(unordered) == [expected[i] for i in shuffled]


@pytest.mark.parametrize("seed", range(10))
def test_dedup_of_distinct_identities_follows_its_rules(seed: int) -> None:
    """The usual import (no child and visit date twice), against a store and an empty one."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(5))).reshape(2, -1)
    taken = rng.permutation(grid.shape[1])[:30]
    incoming = dedup.Rows(
        key=grid[0, taken].astype(np.int64) * 7919,
        visit=grid[1, taken].astype(np.int64),
        vhash=rng.integers(0, 3, taken.size).astype(np.int64),
        src=rng.integers(0, 2, taken.size).astype(np.int32),
    )
    held = rng.permutation(grid.shape[1])[:15]
    stored = dedup.Rows(
        key=grid[0, held].astype(np.int64) * 7919,
        visit=grid[1, held].astype(np.int64),
        vhash=rng.integers(0, 3, held.size).astype(np.int64),
    )
    for store_rows in (stored, dedup.Rows(*(np.empty(0, np.int64),) * 3)):
        assert _decided(dedup.resolve(incoming, store_rows)) == _rules(incoming, store_rows)


@pytest.mark.parametrize("seed", range(10))
def test_measurements_under_several_keys_are_counted_as_the_rule_says(seed: int) -> None:
    """Per (values, visit): the keys beyond the first, unless every key is a valid NIK's."""
    rng = np.random.default_rng(seed)
    n = 60
    key = rng.integers(0, 8, n).astype(np.int64) * 7919
    kind = np.where(key % 2 == 0, privacy.KEY_KIND_NIK, privacy.KEY_KIND_NIK + 1).astype(np.int8)
    visit, vhash = rng.integers(0, 3, n).astype(np.int64), rng.integers(0, 4, n) * 2**40
    keys: dict[tuple[int, int], set[int]] = {}
    for k, v, h in zip(key.tolist(), visit.tolist(), vhash.tolist(), strict=True):
        keys.setdefault((h, v), set()).add(k)
    expected = sum(len(ks) - 1 for ks in keys.values() if len(ks) > 1 and any(k % 2 for k in ks))
    rows = dedup.Rows(key, visit, vhash.astype(np.int64), kind)
    assert dedup.count_across_keys(rows, privacy.KEY_KIND_NIK) == expected
    # shuffled rows count the same
    order = rng.permutation(n)
    assert dedup.count_across_keys(rows.take(order), privacy.KEY_KIND_NIK) == expected


@pytest.mark.parametrize("seed", range(10))
def test_matches_across_keys_follow_their_rule(seed: int) -> None:
    """An incoming row matches when the store, or a row of an earlier file, holds its visit and
    values under another key, unless both keys are valid NIKs'."""
    rng = np.random.default_rng(seed)
    nik = privacy.KEY_KIND_NIK

    def rows(n: int, files: int) -> dedup.Rows:
        key = rng.integers(0, 6, n).astype(np.int64) * 7919
        kind = np.where(rng.random(n) < 0.5, nik, nik + 1).astype(np.int8)
        # few values (many matches) or more (values held once, which match nothing)
        values = 4 if seed % 2 else 40
        visit, vhash = rng.integers(0, 3, n).astype(np.int64), rng.integers(0, values, n) * 2**40
        src = rng.integers(0, files, n).astype(np.int32) if files else None
        return dedup.Rows(key, visit, vhash.astype(np.int64), kind, src)

    incoming, stored = rows(50, 1 + seed % 3), rows(0 if seed % 4 == 0 else 30, 0)
    assert incoming.src is not None and incoming.kind is not None and stored.kind is not None
    others = [
        (h, v, k, kd == nik, -1)
        for h, v, k, kd in zip(stored.vhash, stored.visit, stored.key, stored.kind, strict=True)
    ] + [
        (h, v, k, kd == nik, sr)
        for h, v, k, kd, sr in zip(
            incoming.vhash, incoming.visit, incoming.key, incoming.kind, incoming.src, strict=True
        )
    ]
    expected = [
        any(
            (oh, ov) == (h, v) and ok != k and not (onik and kd == nik) and osrc < sr
            for oh, ov, ok, onik, osrc in others
        )
        for h, v, k, kd, sr in zip(
            incoming.vhash, incoming.visit, incoming.key, incoming.kind, incoming.src, strict=True
        )
    ]
    assert dedup.matched_across_keys(incoming, stored, nik).tolist() == expected


@pytest.mark.parametrize("distinct", [3, 500, 10**6])
def test_repeats_tells_values_held_more_than_once(distinct: int) -> None:
    """Whether each value occurs twice or more, with many repeats, some, or almost none."""
    values = np.random.default_rng(distinct).integers(0, distinct, 2_000).astype(np.int64)
    counts = collections.Counter(values.tolist())
    assert dedup.repeats(values).tolist() == [counts[v] > 1 for v in values.tolist()]


def test_dedup_rules_by_hand() -> None:
    """Rows (child, visit, values) in reading order against a store holding (c1, v1, A)."""
    incoming = dedup.Rows(
        key=np.array([1, 1, 1, 2, 2, 1], dtype=np.int64),
        visit=np.array([1, 1, 1, 1, 1, 2], dtype=np.int64),
        vhash=np.array([10, 20, 10, 30, 30, 40], dtype=np.int64),
        src=np.array([0, 0, 1, 1, 1, 1], dtype=np.int32),
    )
    stored = dedup.Rows(
        key=np.array([1], dtype=np.int64),
        visit=np.array([1], dtype=np.int64),
        vhash=np.array([20], dtype=np.int64),
    )
    result = dedup.resolve(incoming, stored)
    D, L, S = dedup.DUPLICATE, dedup.LIVE, dedup.SUPERSEDED
    # c1/v1: A(10) repeated later -> dup; B(20) equals the store -> dup; last A wins over the store
    assert result.status.tolist() == [D, D, L, D, L, L]
    assert result.replaces.tolist() == [-1, -1, 0, -1, -1, -1]
    assert S not in result.status


def test_a_store_holding_an_identity_twice_is_matched_to_its_last_row() -> None:
    """Live identities are unique in a sound store; should one be held twice, only the last
    of its rows counts: new values replace it, and so do the values of the first row."""
    stored = dedup.Rows(
        key=np.array([7, 8, 7], dtype=np.int64),
        visit=np.array([1, 1, 1], dtype=np.int64),
        vhash=np.array([10, 20, 30], dtype=np.int64),
    )
    incoming = dedup.Rows(
        key=np.array([7, 8], dtype=np.int64),
        visit=np.array([1, 1], dtype=np.int64),
        vhash=np.array([40, 20], dtype=np.int64),
        src=np.zeros(2, dtype=np.int32),
    )
    result = dedup.resolve(incoming, stored)
    assert result.status.tolist() == [dedup.LIVE, dedup.DUPLICATE]
    assert result.replaces.tolist() == [2, -1]
    again = dedup.Rows(
        key=np.array([7], dtype=np.int64),
        visit=np.array([1], dtype=np.int64),
        vhash=np.array([10], dtype=np.int64),
        src=np.zeros(1, dtype=np.int32),
    )
    first_values = dedup.resolve(again, stored)
    assert first_values.status.tolist() == [dedup.LIVE]
    assert first_values.replaces.tolist() == [2]


def test_identities_that_would_share_64_bits_are_told_apart() -> None:
    """Two (child, visit) pairs with key + visit x 0x9E3779B97F4A7C15 equal (mod 2^64), as a
    packed 64-bit identity would have them, are two measurements."""
    multiplier = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        other = (np.uint64(5) + multiplier).view(np.int64)  # 5 + 1 * M  ==  other + 0 * M
    incoming = dedup.Rows(
        key=np.array([5, other], dtype=np.int64),
        visit=np.array([1, 0], dtype=np.int64),
        vhash=np.array([1, 2], dtype=np.int64),
        src=np.zeros(2, dtype=np.int32),
    )
    none = np.empty(0, dtype=np.int64)
    empty = dedup.Rows(key=none, visit=none, vhash=none)
    assert dedup.resolve(incoming, empty).status.tolist() == [dedup.LIVE, dedup.LIVE]


# --- through the reader -------------------------------------------------------------------


def test_import_registers_round_trip_through_the_reader(store: Path, tmp_path: Path) -> None:
    rows = make_visits(keyed_children(12), ["2023-01-15", "2023-02-15"])
    text = rows.assign(
        sex=rows["sex"].map({1: "L", 2: "P"}),
        measure=rows["measure"].map({1: "terlentang", 2: "berdiri"}),
        birth_date=rows["birth_date"].dt.strftime("%d/%m/%Y"),
        visit_date=rows["visit_date"].dt.strftime("%d/%m/%Y"),
        oedema="tidak",
    )
    path = tmp_path / "register.csv"
    text.to_csv(path, index=False, sep=";", decimal=",")
    try:
        summary = import_registers([path], store)
    except NotImplementedError:
        pytest.skip("the reader is not implemented yet")
    assert summary.rows_rejected == 0, pd.read_csv(summary.rejects_file or "").head()
    assert summary.rows_stored == len(rows)
    assert summary.sources[0].sha256 == ingest.file_sha256(path)
    stored = open_measurements(store).sort_values(["visit_date", "source_line"])
    assert np.allclose(
        stored["weight_kg"].to_numpy(),
        rows.sort_values("visit_date", kind="stable")["weight_kg"].to_numpy(),
    )
    assert import_registers([path], store).sources[0].status == "already imported"
    assert import_registers(str(path), store).sources[0].status == "already imported"


def test_a_file_already_imported_adds_nothing_beside_a_new_one(store: Path, tmp_path: Path) -> None:
    """A file's first batch may be read while its SHA-256 is computed: of a file the store
    holds, no row, reject or count may reach the import that names it again."""

    def register(name: str, visit: str, bad_weight_row: int) -> Path:
        rows = make_visits(keyed_children(6), [visit])
        rows.loc[bad_weight_row, "weight_kg"] = -3.0  # rejected: weight <= 0
        path = tmp_path / name
        rows.assign(
            sex=rows["sex"].map({1: "L", 2: "P"}),
            measure=rows["measure"].map({1: "terlentang", 2: "berdiri"}),
            birth_date=rows["birth_date"].dt.strftime("%Y-%m-%d"),
            visit_date=rows["visit_date"].dt.strftime("%Y-%m-%d"),
        ).to_csv(path, index=False)
        return path

    old, new = register("old.csv", "2023-01-15", 0), register("new.csv", "2023-02-15", 1)
    assert import_registers(old, store).rows_rejected == 1
    second = import_registers([old, new], store)
    assert [s.status for s in second.sources] == ["already imported", "imported"]
    assert second.sources[0].rows_read == 0 and second.rows_read == 6
    assert second.rows_stored == 5 and second.rows_rejected == 1
    rejects = pd.read_csv(second.rejects_file or "")
    assert rejects["file"].tolist() == ["new.csv"] and rejects["line"].tolist() == [3]


SAMPLES = ROOT / "data" / "samples"


def test_eppgbm_sample_round_trip_keeps_no_names(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled e-PPGBM-like sample: every row accounted for, the xlsx copy of the same
    visits adds nothing, and no NIK, child's or parent's name is anywhere in the store."""
    csv_path, xlsx_path = SAMPLES / "eppgbm_metro_2024.csv", SAMPLES / "eppgbm_metro_2024.xlsx"
    if not (csv_path.exists() and xlsx_path.exists()):
        pytest.skip("the bundled samples are not present")
    monkeypatch.setitem(schema.PARQUET_OPTIONS, "compression", "none")
    monkeypatch.delitem(schema.PARQUET_OPTIONS, "compression_level")
    first = import_registers([csv_path], store)
    assert reconciles(first) and first.rows_stored > 10_000
    second = import_registers([xlsx_path], store)
    assert second.rows_duplicate == first.rows_stored and second.rows_stored == 0
    assert len(open_measurements(store)) == first.rows_stored

    raw = pd.read_csv(csv_path, sep=";", dtype=str)
    identifying = (
        set(raw["NIK"].dropna()) | set(raw["Nama"].dropna()) | set(raw["Nama Ortu"].dropna())
    )
    identifying |= {name.title() for name in raw["Nama"].dropna()}
    # names of 8 characters or more: a short one could occur inside other text by chance
    identifying = {value for value in identifying if len(value) >= 8}
    blob = all_store_bytes(store)
    assert len(identifying) > 100
    assert [value for value in identifying if value.encode() in blob] == []


def test_value_columns_are_the_documented_ones() -> None:
    """VALUE_COLUMNS, derived from the reader's columns, are those docs/store-format.md says
    value_hash covers, so a new reader column cannot change every stored row's hash (their
    order is held by the value_hash tests below)."""
    text = " ".join((Path(__file__).parents[1] / "docs" / "store-format.md").read_text().split())
    covered = text.split("`value_hash` covers ")[1].split(" only for rows")[0]
    assert sorted(re.findall(r"`(\w+)`", covered)) == sorted(schema.VALUE_COLUMNS)


# value_hash of eleven zero words, computed with the definition when the format was fixed
PINNED_ZERO_HASH = -1928754110324993301


def _documented_value_hash(words: list[int]) -> int:
    """value_hash as docs/store-format.md defines it, one row in plain Python integers."""
    mask = (1 << 64) - 1

    def splitmix64(x: int) -> int:
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    h = 0
    for i, word in enumerate(words, 1):
        h = (h * 0x100000001B3 + splitmix64((word + i * 0x9E3779B97F4A7C15) & mask)) & mask
    h = splitmix64(h)
    return h - (1 << 64) if h >> 63 else h


def _batch(rows: pd.DataFrame, kelurahan: list[object], kecamatan: list[object]) -> pa.Table:
    keys = privacy.ChildKeys(
        np.zeros(len(rows), np.int64), np.zeros(len(rows), np.int8), nik_present_unused=0
    )
    staged = schema.build_batch(
        rows,
        keys,
        pd.Series(kelurahan, dtype=object),
        pd.Series(kecamatan, dtype=object),
        import_id="i",
        source_file="f",
        source_sha256="0" * 64,
    )
    return staged.table


def test_value_hash_is_the_documented_definition() -> None:
    """The stored value_hash is the documented one on rows with NaN of several bit patterns,
    -0.0, missing dates (the age in months counts), missing names and oedema."""
    rng = np.random.default_rng(11)
    n = 2_000
    odd_nan = np.array([0x7FF0000000000123], dtype=np.uint64).view(np.float64)[0]

    def floats() -> np.ndarray:
        values = rng.normal(10, 3, n).round(1)
        values[rng.random(n) < 0.1] = np.nan
        values[rng.random(n) < 0.05] = -0.0
        values[rng.random(n) < 0.05] = odd_nan  # must hash as np.nan does
        return values

    def names(count: int) -> list[object]:
        return [None if i < 0 else f"Name {i}" for i in rng.integers(-1, count, n)]

    birth = pd.Series(pd.to_datetime(rng.integers(15_000, 20_000, n), unit="D"))
    birth = birth.where(rng.random(n) >= 0.2)
    oedema = pd.Series(rng.integers(0, 3, n)).map({0: False, 1: True, 2: None})
    rows = pd.DataFrame(
        {
            "sex": rng.integers(0, 3, n).astype(np.int8),
            "birth_date": birth,
            "visit_date": pd.Timestamp("2024-01-15"),
            "age_months": floats(),
            "weight_kg": floats(),
            "height_cm": floats(),
            "measure": rng.integers(0, 3, n).astype(np.int8),
            "oedema": oedema,
            "posyandu": names(7),
            "puskesmas": [None] * n,
        }
    )
    kelurahan, kecamatan = names(3), names(1)
    table = _batch(rows, kelurahan, kecamatan)

    def float_word(value: float) -> int:
        value = 0.0 if value == 0 else value
        return int(np.float64(np.nan if value != value else value).view(np.uint64))

    def text_word(value: object) -> int:
        if value is None:
            return 0
        digest = hashlib.blake2b(str(value).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little")

    posyandu = table.column("posyandu").to_pylist()
    expected = []
    for i in range(n):
        born = birth[i]
        words = [
            int(rows["sex"][i]),
            (1 << 63) if pd.isna(born) else (born - pd.Timestamp("1970-01-01")).days,
            float_word(rows["age_months"][i] if pd.isna(born) else np.nan),
            float_word(rows["weight_kg"][i]),
            float_word(rows["height_cm"][i]),
            int(rows["measure"][i]),
            {False: 0, True: 1, None: 2}[oedema[i]],
            text_word(posyandu[i]),
            text_word(kelurahan[i]),
            text_word(kecamatan[i]),
            0,
        ]
        expected.append(_documented_value_hash(words))
    assert table.column("value_hash").to_pylist() == expected
    # and the definition itself is pinned: a later kbtool must hash a row as this one does
    assert _documented_value_hash([0] * 11) == PINNED_ZERO_HASH


def test_the_hash_with_oedema_yes_follows_from_the_hash_alone() -> None:
    """with_oedema turns the documented hash of values with oedema "no" into the documented
    hash of the same values with "yes" (how a file without oedema is matched to one with)."""
    rng = np.random.default_rng(5)
    rows = [[int(w) for w in rng.integers(0, 2**63, 11, dtype=np.uint64)] for _ in range(200)]
    for words in rows:
        words[6] = 0
    hashes = np.array([_documented_value_hash(words) for words in rows], dtype=np.int64)
    expected = [_documented_value_hash([*words[:6], 1, *words[7:]]) for words in rows]
    assert schema.with_oedema(hashes).tolist() == expected


# value hashes of three rows as stores written by earlier kbtool versions hold them
PINNED_ROW_HASHES = [-7366960897620514262, -4439160600904132732, -5583486125856103109]


def test_value_hash_of_stored_rows_is_unchanged() -> None:
    """A row hashes as stores already written hold it (else a re-import would store it again):
    plain values, a missing birth date with an age in months, -0.0, NaN of another bit
    pattern, missing oedema and names."""
    odd_nan = np.array([0x7FF0000000000123], dtype=np.uint64).view(np.float64)[0]
    rows = pd.DataFrame(
        {
            "sex": np.array([1, 2, 0], np.int8),
            "birth_date": pd.to_datetime(pd.Series(["2022-01-08", None, None])),  # day 19000
            "visit_date": pd.to_datetime(["2023-01-15"] * 3),
            "age_months": [np.nan, 14.5, odd_nan],
            "weight_kg": [9.6, np.nan, -0.0],
            "height_cm": [75.7, -0.0, 110.0],
            "measure": np.array([1, 2, 0], np.int8),
            "oedema": pd.Series([False, None, True], dtype=object),
            "posyandu": ["Posyandu Melati", None, "Posyandu Melati"],
            "puskesmas": ["Puskesmas Yosomulyo", None, None],
        }
    )
    table = _batch(rows, ["Yosodadi", None, None], ["Metro Timur", None, "Metro Timur"])
    assert table.column("value_hash").to_pylist() == PINNED_ROW_HASHES


def test_an_import_whose_files_fail_to_reach_the_disk_does_not_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(path: Path) -> None:
        raise OSError(5, "Input/output error", str(path))

    monkeypatch.setattr(commit, "fsync_file", failing)
    store = tmp_path / "store"
    rows = make_visits(keyed_children(5), ["2023-01-15"])
    with pytest.raises(StoreError, match="cannot write the import's files to disk"):
        import_batches([source_of(rows, "jan.csv")], store)
    assert open_measurements(store).empty


def _store_content(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Live and superseded rows, without the import ids, in a fixed order."""
    order = ["child_key", "visit_date", "value_hash", "source_file", "source_line"]
    live = open_measurements(root).drop(columns=["import_id"])
    old = open_superseded(root).drop(columns=["import_id", "superseded_by_import"])
    return tuple(  # type: ignore[return-value]
        frame.sort_values(order).reset_index(drop=True).astype(str) for frame in (live, old)
    )


def test_corrections_and_their_edge_cases_in_one_import(tmp_path: Path) -> None:
    """A correction of a stored row, and a changed row read before the stored version of the
    same visit (the stored one, read last, wins as a duplicate; the changed one goes to
    superseded/), among new visits."""
    children = keyed_children(40)
    stored = make_visits(children, ["2023-01-15", "2023-02-15"], seed=5)
    store = tmp_path / "store"
    import_batches([source_of(stored, "jan-feb.csv")], store)
    again = stored.copy()
    weight = again["weight_kg"].to_numpy(copy=True)
    weight[3] += 1.5  # a correction of a stored row
    again["weight_kg"] = weight
    earlier = stored.iloc[[5]].copy()
    earlier["height_cm"] += 2
    new = make_visits(children, ["2023-03-15"], seed=6)
    summary = import_batches(
        [source_of(pd.concat([earlier, again, new], ignore_index=True), "second.csv")], store
    )
    assert reconciles(summary)
    assert summary.rows_duplicate == len(stored) - 1
    assert summary.corrections == 2
    assert summary.rows_stored == len(new) + 2
    live, old = _store_content(store)
    assert len(live) == len(stored) + len(new)
    assert len(old) == 2  # the corrected stored row and the earlier changed one


def test_an_unreadable_file_in_a_year_not_imported_does_not_stop_an_import(
    tmp_path: Path,
) -> None:
    """An import reads only the years it touches: a damaged file of another year is no
    obstacle (store check finds it)."""
    children = keyed_children(20)
    store = tmp_path / "store"
    import_batches([source_of(make_visits(children, ["2022-06-15"]), "2022.csv")], store)
    for path in (store / "measurements").glob("year=2022/*/*.parquet"):
        path.write_bytes(b"not parquet")
    rows = make_visits(children, ["2023-06-15"], seed=4)
    summary = import_batches([source_of(rows, "2023.csv")], store)
    assert summary.rows_stored == len(rows) and reconciles(summary)
