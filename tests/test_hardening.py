"""The hostile tester's findings (issue 19): no personal value in any output or rejects file,
one child counted once whatever layout its register came in."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.privacy import personal_header
from tests.conftest import WHO_DATA

runner = CliRunner()

# every personal header of the hostile test, with a value prefix (None: a 16-digit number)
PERSONAL = {
    "Nama Kepala Keluarga": "QQKK",
    "Nama Bapak": "QQBAPAK",
    "Nama Wali": "QQWALI",
    "Nama Ortu/Wali": "QQORTU",
    "Nama Ibu Kandung": "QQIBU",
    "NIK KK": None,
    "NIK Orang Tua": None,
    "Alamat Lengkap": "QQALAMAT",
    "Rumah": "QQRUMAH",
    "Domisili": "QQDOMISILI",
    "No Telepon": "QQTELP",
    "HP Ortu": "QQHP",
    "Email": "QQMAIL",
    "No BPJS": "QQBPJS",
    "Name": "QQNAME",
    "Mother name": "QQMOTHER",
    "Father's name": "QQFATHER",
    "Address": "QQADDRESS",
    "Phone": "QQPHONE",
    "Keterangan": None,  # no personal header, but its values are NIKs
    "RT": "QQRT",  # a neighbourhood number beside an address
}
SAFE = {"Nama Posyandu", "No"}


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def personal_register(tmp_path: Path, rows: int = 120) -> tuple[Path, set[str]]:
    """WHO's posyandu visits with every personal column above, and a row with two fields too
    many (rejected for its field count) holding personal values of its own."""
    visits = pd.read_csv(WHO_DATA / "posyandu_visits.csv", dtype=str).head(rows)
    secrets: set[str] = set()
    for i, (header, prefix) in enumerate(PERSONAL.items()):
        if prefix is None:
            values = [f"{3372000000000000 + 7919 * k + 13 * i:016d}" for k in range(rows)]
        else:
            values = [f"{prefix}{k:04d}" for k in range(rows)]
        visits[header] = values
        secrets.update(values)
    visits["Nama Posyandu"] = visits["posyandu"]
    visits["No"] = range(1, rows + 1)
    path = tmp_path / "register.csv"
    visits.to_csv(path, index=False)
    extra = [f"QQREJECT{i}" for i in range(len(visits.columns) + 2)]
    with path.open("a", encoding="utf-8") as out:
        out.write(",".join(extra) + "\n")
    secrets.update(extra)
    return path, secrets


def text_of(path: Path) -> str:
    raw = path.read_bytes().decode("utf-8", "replace")
    if path.suffix == ".parquet":
        raw += pd.read_parquet(path).to_csv()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            raw += "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return raw


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet", "xlsx"])
def test_zscore_writes_no_personal_value_in_any_format(tmp_path: Path, fmt: str) -> None:
    register, secrets = personal_register(tmp_path)
    out = tmp_path / f"scores.{fmt}"
    rejects = tmp_path / "rejects.csv"
    code, _, err = run("zscore", str(register), "-o", str(out), "--rejects", str(rejects))
    assert code == 0, err
    for path in (out, rejects):
        body = text_of(path)
        assert not [s for s in secrets if s in body], path.name
    assert err.count("personal data not written") == 1
    for header in PERSONAL:
        assert repr(header) in err
    written = pd.read_csv(out) if fmt == "csv" else None
    if written is not None:
        assert set(written.columns) >= SAFE
        assert not set(PERSONAL) & set(written.columns)
        assert len(written) == 120


def test_zscore_streamed_to_stdout_withholds_the_same_columns(tmp_path: Path) -> None:
    register, secrets = personal_register(tmp_path)
    code, out, _ = run("zscore", str(register), "-f", "csv")
    assert code == 0
    assert not [s for s in secrets if s in out]


def test_keep_writes_a_personal_column_with_a_warning(tmp_path: Path) -> None:
    register, _ = personal_register(tmp_path)
    code, out, err = run("zscore", str(register), "-f", "csv", "--keep", "No BPJS")
    assert code == 0
    written = pd.read_csv(io.StringIO(out), dtype=str)
    assert written["No BPJS"].str.startswith("QQBPJS").all()
    assert "'No Telepon'" in err and "--keep" in err
    assert "writing 'No BPJS' as asked" in err


@pytest.mark.parametrize("command", ["zscore", "prevalence", "quality"])
def test_rejects_files_carry_no_raw_line(tmp_path: Path, command: str) -> None:
    register, secrets = personal_register(tmp_path)
    rejects = tmp_path / "rejects.csv"
    extra = ["--min-n", "0"] if command == "prevalence" else []
    code, _, err = run(command, str(register), *extra, "-f", "csv", "--rejects", str(rejects))
    assert code == 0, err
    written = pd.read_csv(rejects, dtype=str)
    assert len(written) == 1 and written["value"].tolist() == ["[redacted]"]
    assert "expected" in written["reason"].iloc[0]
    assert not [s for s in secrets if s in rejects.read_text() + err]


@pytest.mark.parametrize(
    ("header", "what"),
    [
        ("Nama Kepala Keluarga", "a name"),
        ("NamaIbu", "a name"),
        ("Guardian", "a name"),
        ("No. KTP Ayah", "an identity number"),
        ("Nomor Kartu Keluarga", "an identity number"),
        ("Alamat Domisili", "an address"),
        ("Home address", "an address"),
        ("Telepon Rumah", "a contact"),
        ("E-mail", "a contact"),
        ("WA", "a contact"),
        ("Nama Posyandu", None),
        ("Alamat Posyandu", None),
        ("Desa/Kel", None),
        ("BB Lahir", None),
        ("Klinik", None),
        ("Status Nikah", None),
    ],
)
def test_personal_headers_are_found_by_rule(header: str, what: str | None) -> None:
    assert personal_header(header) == what


# --- the same register in two layouts ----------------------------------------------------------


def eppgbm_form(canonical: Path, target: Path, *, with_nik: bool = True) -> Path:
    """WHO's posyandu visits as an e-PPGBM export writes them: its headers, `;`, dd/mm/yyyy,
    decimal commas, L/P, Terlentang/Berdiri, names and upper-case places."""
    v = pd.read_csv(canonical, dtype=str, keep_default_na=False)

    def dmy(values: pd.Series) -> pd.Series:
        return pd.to_datetime(values).dt.strftime("%d/%m/%Y")

    export = pd.DataFrame(
        {
            "No": range(1, len(v) + 1),
            "NIK": v["child_id"],
            "Nama": "ANAK " + v["child_id"].str[-6:],
            "JK": v["sex"].map({"1": "L", "2": "P"}),
            "Tgl Lahir": dmy(v["birth_date"]),
            "Nama Ortu": "IBU " + v["child_id"].str[-6:],
            "Kec": v["kecamatan"].str.upper(),
            "Desa/Kel": v["kelurahan"].str.upper(),
            "Posyandu": v["posyandu"],
            "Tanggal Pengukuran": dmy(v["visit_date"]),
            "Berat": v["weight_kg"].str.replace(".", ","),
            "Tinggi": v["height_cm"].str.replace(".", ","),
            "Cara Ukur": v["measure"].map({"l": "Terlentang", "h": "Berdiri"}),
        }
    )
    if not with_nik:
        export = export.drop(columns="NIK")
    export.to_csv(target, sep=";", index=False)
    return target


CANONICAL = WHO_DATA / "posyandu_visits.csv"


def prevalence_csv(*args: str) -> pd.DataFrame:
    code, out, err = run("prevalence", *args, "--min-n", "0", "-f", "csv")
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


@pytest.mark.parametrize("with_nik", [True, False])
def test_two_layouts_of_one_register_store_each_measurement_once(
    tmp_path: Path, with_nik: bool
) -> None:
    """The canonical file, then the e-PPGBM export of the same visits (NIKs that fail validation,
    or no NIK at all and only names): stored once, prevalence as from one file."""
    store = tmp_path / "store"
    export = eppgbm_form(CANONICAL, tmp_path / "export.csv", with_nik=with_nik)
    code, _, err = run("import", str(CANONICAL), "--store", str(store))
    assert code == 0, err
    code, _, err = run("import", str(export), "--store", str(store))
    assert code == 0, err
    assert "19,108 rows read = 0 stored + 19,108 duplicates skipped" in err
    if not with_nik:
        assert "19,108 of the duplicates repeat a measurement" in err
    from_store = prevalence_csv("--store", str(store))
    pd.testing.assert_frame_equal(from_store, prevalence_csv(str(CANONICAL)))
    assert "counted twice" not in err


def test_two_layouts_in_one_import_and_as_files(tmp_path: Path) -> None:
    store = tmp_path / "store"
    export = eppgbm_form(CANONICAL, tmp_path / "export.csv", with_nik=False)
    code, _, err = run("import", str(CANONICAL), str(export), "--store", str(store))
    assert code == 0, err
    assert "19,108 stored, 19,108 duplicates skipped" in err
    assert "19,108 of the duplicates repeat a measurement" in err
    one = prevalence_csv(str(CANONICAL))
    pd.testing.assert_frame_equal(prevalence_csv("--store", str(store)), one)
    code, out, err = run("prevalence", str(CANONICAL), str(export), "--min-n", "0", "-f", "csv")
    assert code == 0
    assert "19,108 measurements repeat one of another file" in err
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(out)), one)


def with_oedema(canonical: Path, target: Path) -> Path:
    """WHO's posyandu visits with an oedema column: "yes" on the last visit of every 7th child
    (the measurement prevalence counts), "no" elsewhere."""
    visits = pd.read_csv(canonical, dtype=str, keep_default_na=False)
    last = ~visits.duplicated("child_id", keep="last")
    every_7th = visits["child_id"].isin(visits["child_id"].drop_duplicates().iloc[::7])
    visits["oedema"] = (last & every_7th).map({True: "yes", False: "no"})
    visits.to_csv(target, index=False)
    return target


@pytest.mark.parametrize("with_nik", [True, False])
def test_an_export_without_oedema_never_erases_a_recorded_oedema(
    tmp_path: Path, with_nik: bool
) -> None:
    """An e-PPGBM export has no oedema column (read as "no"): the register's "yes" is the same
    measurement recorded more fully, whichever comes first, in one import or two, as files."""
    register = with_oedema(CANONICAL, tmp_path / "register.csv")
    export = str(eppgbm_form(register, tmp_path / "export.csv", with_nik=with_nik))
    expected = prevalence_csv(str(register), "--indicator", "all")
    # the oedema cases count: without them the figures differ
    assert not expected.equals(prevalence_csv(str(CANONICAL), "--indicator", "all"))

    store = tmp_path / "two-imports"
    for path in (str(register), export):
        code, _, err = run("import", path, "--store", str(store))
        assert code == 0, err
    assert re.search(r"export.csv: ([\d,]+) rows read = 0 stored \+ \1 duplicates skipped", err)
    pd.testing.assert_frame_equal(
        prevalence_csv("--store", str(store), "--indicator", "all"), expected
    )

    for first, second in ((export, str(register)), (str(register), export)):
        store = tmp_path / f"one-import-{first == export}"
        code, _, err = run("import", first, second, "--store", str(store))
        assert code == 0, err
        from_store = prevalence_csv("--store", str(store), "--indicator", "all")
        pd.testing.assert_frame_equal(from_store, expected)
        from_files = prevalence_csv(first, second, "--indicator", "all")
        pd.testing.assert_frame_equal(from_files, expected)


def test_an_export_without_oedema_still_corrects_a_weight(tmp_path: Path) -> None:
    """Only a row equal but for oedema restates a recorded one: another weight is a correction."""
    register = with_oedema(CANONICAL, tmp_path / "register.csv")
    visits = pd.read_csv(register, dtype=str, keep_default_na=False)
    ill = visits.index[visits["oedema"] == "yes"][:3]
    visits.loc[ill, "weight_kg"] = (visits.loc[ill, "weight_kg"].astype(float) + 0.4).astype(str)
    visits.to_csv(tmp_path / "corrected.csv", index=False)
    export = eppgbm_form(tmp_path / "corrected.csv", tmp_path / "export.csv")
    store = tmp_path / "store"
    run("import", str(register), "--store", str(store))
    code, _, err = run("import", str(export), "--store", str(store))
    assert code == 0, err
    assert "3 stored" in err and "(3 corrections)" in err


def test_an_older_export_without_oedema_does_not_revert_a_correction(tmp_path: Path) -> None:
    """The register, its corrected weights, then an e-PPGBM export of the first register (no
    oedema column): it would restore the old weights, of the children with oedema as of the
    others, so it is left out (--allow-revert restores them, oedema as recorded or not)."""
    register = with_oedema(CANONICAL, tmp_path / "register.csv")
    visits = pd.read_csv(register, dtype=str, keep_default_na=False)
    ill = visits.index[visits["oedema"] == "yes"][:3]
    well = visits.index[visits["oedema"] == "no"][:2]
    fixed = visits.copy()
    changed = ill.append(well)
    fixed.loc[changed, "weight_kg"] = (fixed.loc[changed, "weight_kg"].astype(float) + 0.4).map(
        "{:.1f}".format
    )
    fixed.to_csv(tmp_path / "fixed.csv", index=False)
    export = eppgbm_form(register, tmp_path / "export.csv")
    store = tmp_path / "store"
    for path in (register, tmp_path / "fixed.csv"):
        assert run("import", str(path), "--store", str(store))[0] == 0
    corrected = prevalence_csv("--store", str(store), "--indicator", "all")
    code, _, err = run("import", str(export), "--store", str(store))
    assert code == 0, err
    assert "5 rows would restore values that import" in err and "correction" not in err
    pd.testing.assert_frame_equal(
        prevalence_csv("--store", str(store), "--indicator", "all"), corrected
    )


def twins_register(path: Path) -> Path:
    """Two children without identifiers, measured alike on the same days: the same visit date
    and values under two keys."""
    frame = pd.DataFrame(
        {
            "nama": ["Hasan", "Husin"] * 3,
            "jk": ["L"] * 6,
            "tgl_lahir": ["2022-03-03"] * 6,
            "tanggal_pengukuran": ["2024-01-10"] * 2 + ["2024-02-10"] * 2 + ["2024-03-10"] * 2,
            "berat": ["9.1", "9.1", "9.4", "9.4", "9.8", "9.8"],
            "tinggi": ["78.2", "78.2", "79.0", "79.0", "79.9", "79.9"],
            "desa_kel": ["Metro"] * 6,
        }
    )
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", ["prevalence", "quality"])
def test_a_store_with_measurements_repeated_under_two_keys_is_said_aloud(
    tmp_path: Path, command: str
) -> None:
    store = tmp_path / "store"
    code, _, err = run("import", str(twins_register(tmp_path / "twins.csv")), "--store", str(store))
    assert code == 0, err
    code, _, err = run(command, "--store", str(store), "-f", "csv")
    assert code == 0
    assert "store holds 3 measurements that repeat another's visit date and values" in err


def test_a_store_of_an_earlier_kbtool_is_checked_when_read(tmp_path: Path) -> None:
    """Years no import recorded a check for (an earlier kbtool's store) are counted on reading."""
    store = tmp_path / "store"
    run("import", str(twins_register(tmp_path / "twins.csv")), "--store", str(store))
    with sqlite3.connect(store / "catalogue.sqlite") as connection:
        connection.execute("DROP TABLE year_checks")
    code, _, err = run("prevalence", "--store", str(store), "-f", "csv")
    assert code == 0
    assert "store holds 3 measurements" in err
    code, _, err = run("prevalence", str(CANONICAL), "-f", "csv")
    assert "repeat another's" not in err


def test_rows_read_reconcile_with_the_field_count_reject(tmp_path: Path) -> None:
    register, _ = personal_register(tmp_path)
    code, _, err = run("zscore", str(register), "-f", "csv")
    assert code == 0
    assert "121 rows read: 120 scored, 1 rejected" in err


# --- clear words for every failure ---------------------------------------------------------------


def test_sources_of_a_missing_store_is_an_error(tmp_path: Path) -> None:
    code, out, err = run("sources", "--store", str(tmp_path / "nowhere"))
    assert code == 1 and out == ""
    assert "there is no measurement store at" in err


def test_import_of_a_directory_says_so(tmp_path: Path) -> None:
    code, _, err = run("import", str(tmp_path), "--store", str(tmp_path / "store"))
    assert code == 1
    assert "is a directory" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_and_h_are_accepted_anywhere(tmp_path: Path, where: str) -> None:
    args = ["zscore", str(tmp_path / "missing.csv")]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, Exception)  # the traceback is shown, not one line
    assert "file not found" in str(result.exception)
    code, out, _ = run("import", "-h")
    assert code == 0 and "Usage: kbtool import" in out


def test_a_store_that_cannot_be_written_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root the permission bits do not stop a write: the refusal is simulated where the
    operating system gives it, at the lock file."""
    import errno
    import os

    from kbtool.store import layout

    store = tmp_path / "store"
    run("import", str(twins_register(tmp_path / "twins.csv")), "--store", str(store))
    real_open = os.open

    def refusing(path: object, *args: object, **kwargs: object) -> int:
        if str(path).endswith("lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(layout.os, "open", refusing)
    code, _, err = run("import", str(CANONICAL), "--store", str(store))
    assert code == 1
    assert f"the store {store} is not writable (Permission denied)" in err
    assert "internal error" not in err
    code, _, err = run("prevalence", "--store", str(store), "-f", "csv")
    assert code == 0, err  # reading needs no write access


@pytest.mark.parametrize("command", ["prevalence", "quality", "zscore"])
def test_a_header_only_file_gives_an_empty_result(tmp_path: Path, command: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("child_id,sex,birth_date,visit_date,weight_kg,height_cm\n")
    code, out, err = run(command, str(path), "-f", "csv")
    assert code == 0, err
    assert len(out.splitlines()) == 1  # the header
    assert "0 rows read" in err and "internal error" not in err and "pd.to_datetime" not in err


def test_prevalence_of_a_file_without_dates_says_why_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nodates.csv"
    path.write_text("sex,weight_kg,height_cm,umur\n1,10,80,20\n2,11,82,22\n")
    code, out, err = run("prevalence", str(path), "-f", "csv")
    assert code == 0
    assert len(out.splitlines()) == 1
    assert "no measurement has a visit date" in err and "--column visit_date=" in err


# --- a damaged store -----------------------------------------------------------------------------

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "posyandu_metro_2022_2024.csv"


def damaged_store(tmp_path: Path, how: str) -> tuple[Path, Path]:
    store = tmp_path / "store"
    code, _, err = run("import", str(SAMPLE), "--store", str(store))
    assert code == 0, err
    victim = sorted((store / "measurements" / "year=2023").rglob("*.parquet"))[0]
    if how == "truncated":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    else:
        victim.unlink()
    return store, victim


@pytest.mark.parametrize("how", ["truncated", "missing"])
@pytest.mark.parametrize("command", ["prevalence", "quality", "import"])
def test_a_damaged_store_file_is_named_with_the_way_out(
    tmp_path: Path, how: str, command: str
) -> None:
    store, victim = damaged_store(tmp_path, how)
    args = [str(SAMPLE).replace(".csv", ".csv")] if command == "import" else []
    if command == "import":  # a file touching the damaged year
        other = tmp_path / "more.csv"
        rows = pd.read_csv(SAMPLE, dtype=str).head(50)
        rows["weight_kg"] = "9.9"
        rows.to_csv(other, index=False)
        args = [str(other)]
    code, _, err = run(command, *args, "--store", str(store))
    assert code == 1
    assert victim.name in err and "kbtool store check" in err
    assert "internal error" not in err


def test_store_check_and_repair_then_import_again(tmp_path: Path) -> None:
    before = prevalence_csv(str(SAMPLE))
    store, victim = damaged_store(tmp_path, "truncated")
    code, out, _ = run("store", "check", "--store", str(store), "-f", "csv")
    assert code == 1
    listed = pd.read_csv(io.StringIO(out))
    assert listed["path"].str.endswith(victim.name).all() and len(listed) == 1
    assert listed["sources"].tolist() == [SAMPLE.name]
    code, _, err = run("store", "repair", "--store", str(store))
    assert code == 0 and "import these files again" in err and SAMPLE.name in err
    assert not victim.exists()
    assert list((store / "damaged").rglob(victim.name))
    assert run("store", "check", "--store", str(store))[0] == 0
    # a sound store's report keeps the report's types: text paths, whole-number rows
    sound = tmp_path / "sound.parquet"
    assert run("store", "check", "--store", str(store), "-o", str(sound))[0] == 0
    types = {f.name: str(f.type).removeprefix("large_") for f in pq.read_schema(sound)}
    text = dict.fromkeys(("path", "problem", "import_id", "sources"), "string")
    assert types == {**text, "rows": "int64"}
    lost = prevalence_csv("--store", str(store))
    assert lost["n"].sum() < before["n"].sum()
    code, _, err = run("import", str(SAMPLE), "--store", str(store))
    assert code == 0 and "already imported" not in err
    pd.testing.assert_frame_equal(prevalence_csv("--store", str(store)), before)


def test_an_older_export_imported_again_does_not_revert_a_correction(tmp_path: Path) -> None:
    """January's export, a corrected export, then January's again as a CRLF copy (another
    SHA-256): the corrections stay, with a warning naming the import that made them, unless
    --allow-revert."""
    store = tmp_path / "store"
    january = pd.read_csv(SAMPLE, dtype=str).head(300)
    january.to_csv(tmp_path / "jan.csv", index=False)
    fixed = january.copy()
    fixed.loc[:19, "height_cm"] = (fixed.loc[:19, "height_cm"].astype(float) - 6).astype(str)
    fixed.to_csv(tmp_path / "fixed.csv", index=False)
    copy = tmp_path / "jan-crlf.csv"
    copy.write_bytes((tmp_path / "jan.csv").read_bytes().replace(b"\n", b"\r\n"))
    for name in ("jan.csv", "fixed.csv"):
        assert run("import", str(tmp_path / name), "--store", str(store))[0] == 0
    by_year = ("--by", "year", "--min-n", "0")
    corrected = prevalence_csv("--store", str(store), *by_year)
    original = prevalence_csv(str(tmp_path / "jan.csv"), *by_year)
    assert not corrected.equals(original)
    code, _, err = run("import", str(copy), "--store", str(store))
    assert code == 0
    assert "20 rows would restore values that import" in err and "--allow-revert" in err
    pd.testing.assert_frame_equal(prevalence_csv("--store", str(store), *by_year), corrected)
    code, _, err = run("import", str(copy), "--store", str(store), "--allow-revert")
    assert code == 0 and "(20 corrections)" in err
    pd.testing.assert_frame_equal(prevalence_csv("--store", str(store), *by_year), original)


# --- what people read: terminal tables, --lang id, NO_COLOR, --help -------------------------


def in_terminal(args: list[str], width: int, env: dict[str, str] | None = None) -> list[str]:
    """The screen lines of a kbtool command run in a real terminal (tmux) `width` wide."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys
    import time

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    session = f"kbtool-test-{os.getpid()}-{width}"
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "kbtool", *args])
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    # the terminal's own size, not one a test left in the environment
    script = f"unset COLUMNS LINES; {exports} {command} 2>/dev/null; echo __DONE__; sleep 60"
    tmux = ["tmux", "-L", session]  # a server of its own
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", session, "-x", str(width), "-y", "300", script],
        check=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", session, "-S", "-300"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if "__DONE__" in screen:
                return screen.splitlines()
            time.sleep(0.2)
        raise AssertionError("the command did not finish in the terminal")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


KELURAHAN = sorted(set(pd.read_csv(SAMPLE, usecols=["kelurahan"])["kelurahan"]))


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize(
    "args",
    [["prevalence", str(SAMPLE)], ["quality", str(SAMPLE), "--by", "kelurahan"]],
)
def test_terminal_tables_keep_every_name_whole(args: list[str], width: int) -> None:
    lines = in_terminal(args, width)
    assert max(len(line) for line in lines) <= width
    assert width == 200 or max(len(line.rstrip()) for line in lines) > 60  # the room is used
    table = "\n".join(lines)
    for name in KELURAHAN:  # on one line, not broken over two
        assert name in table, name


@pytest.mark.parametrize("width", [80, 200])
def test_sources_fit_a_terminal(tmp_path: Path, width: int) -> None:
    store = tmp_path / "store"
    run("import", str(SAMPLE), "--store", str(store))
    lines = in_terminal(["sources", "--store", str(store)], width)
    row = next(line for line in lines if SAMPLE.name in line)
    assert len(row.rstrip()) <= width
    sha = row.split()[3] if width == 200 else ""
    assert width == 80 or len(sha) == 12


def test_lang_id_translates_notes_and_stderr(tmp_path: Path) -> None:
    code, out, err = run("prevalence", str(SAMPLE), "--by", "posyandu", "-f", "csv", "--lang", "id")
    assert code == 0
    notes = set(pd.read_csv(io.StringIO(out))["note"].dropna())
    assert notes and all("suppressed" not in n and "angka disembunyikan" in n for n in notes)
    assert "baris dibaca" in err and "rows read" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("sex,weight_kg,height_cm,visit_date\nx,10,80,2024-01-01\n")
    code, _, err = run("zscore", str(bad), "-f", "csv", "--lang", "id")
    assert "jenis kelamin tidak terbaca" in err and "unparseable" not in err


def test_no_color_keeps_a_mark_on_problem_cells(tmp_path: Path) -> None:
    """Without colour, a rated cell still shows its rating (! acceptable, !! problematic), and
    an undefined ratio reads "–", not inf."""
    register = tmp_path / "boys.csv"
    rows = pd.read_csv(SAMPLE, dtype=str).head(3000)
    rows["sex"] = "1"  # only boys: the sex ratio has nothing below the line
    rows.to_csv(register, index=False)
    lines = in_terminal(["quality", str(register), "--by", "kecamatan"], 200, {"NO_COLOR": "1"})
    screen = "\n".join(lines)
    assert "!!" in screen
    assert "inf" not in screen
    assert "–" in screen


def test_help_is_complete_and_plain() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "..." not in out.split("Commands:")[1]
    listed = re.findall(r"^  (\w+)  ", out.split("Commands:")[1], flags=re.M)
    every = {"zscore", "import", "sources", "prevalence", "quality", "audit", "compare", "skdn"}
    assert every | {"growth", "store"} <= set(listed)
    for command in ("zscore", "import", "prevalence", "quality"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Examples:" in out, command
        assert not re.search(r"<(str|int|list|file|path|directory)[^>]*>", out), command
    code, out, _ = run("store", "--help")
    assert code == 0 and re.findall(r"^  (\w+)  ", out, flags=re.M) == ["check", "repair"]
    assert "<bool>" not in out and "│" not in out  # plain, as the other commands' help
    code, out, _ = run("quality", "--explain", "-f", "csv")
    explained = pd.read_csv(io.StringIO(out))
    assert {"sd_haz", "dps_height"} <= set(explained["column"]) and explained["source"].all()


@pytest.mark.parametrize(
    "args",
    [
        ["prevalence", "--period", "week"],
        ["prevalence", "--months", "13"],
        ["prevalence", "--by", "desa"],
        ["quality", "--by", "rt"],
        ["quality", "--fail-on", "bad"],
        ["zscore", str(SAMPLE), "--lang", "jw"],
        ["prevalence", "--column", "sex=JK"],
        ["trend", str(SAMPLE), "--target", "abc"],
        ["skdn", "--with-names"],
    ],
)
def test_bad_option_values_read_alike(args: list[str]) -> None:
    """Click's words, naming the option as Click does, whether Click or kbtool checks it."""
    code, _, err = run(*args)
    option = next(a for a in args if a.startswith("--"))
    assert code == 2
    assert f"Invalid value for '{option}'" in err and "kbtool: error" not in err


@pytest.mark.parametrize(("typo", "meant"), [("zscroe", "zscore"), ("prevalense", "prevalence")])
def test_a_mistyped_command_gets_a_suggestion(typo: str, meant: str) -> None:
    code, _, err = run(typo)
    assert code == 2 and f"Did you mean '{meant}'" in err


def test_a_file_is_read_when_stdin_is_closed(tmp_path: Path) -> None:
    """cron may start kbtool with stdin closed (Python's sys.stdin is then None): only '-'
    reads stdin, so a named file must still be read, and '-' fail with a clear error."""
    import os
    import subprocess
    import sys

    sample = Path(__file__).parent.parent / "data" / "samples" / "posyandu_metro_2022_2024.csv"
    script = "import sys; from kbtool.cli import main; sys.argv[0] = 'kbtool'; main()"

    def closed_stdin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True,
            preexec_fn=lambda: os.close(0), timeout=120,
        )  # fmt: skip

    named = closed_stdin("zscore", str(sample), "-f", "csv")
    assert named.returncode == 0, named.stderr
    assert len(named.stdout.splitlines()) == len(sample.read_text().splitlines())
    dash = closed_stdin("zscore", "-", "-f", "csv")
    assert dash.returncode == 1
    assert (
        dash.stderr.strip()
        == "kbtool: error: -: standard input is closed; name the register file instead"
    )


@pytest.mark.parametrize(
    "command", ["prevalence", "quality", "trend", "skdn", "growth", "report", "compare"]
)
def test_store_beside_input_files_is_a_usage_error(command: str, tmp_path: Path) -> None:
    """INPUT files are read directly and --store would be ignored: refused, as the reader's
    options are without INPUT files, so nobody believes the store was counted."""
    groups = ["--groups", str(SAMPLE.with_name("kampung_kb.csv"))] if command == "compare" else []
    code, out, err = run(command, str(SAMPLE), "--store", str(tmp_path / "store"), *groups)
    assert code == 2 and out == "" and "--store" in err and "Traceback" not in err
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("command", ["prevalence", "quality", "skdn", "growth", "audit"])
def test_a_file_whose_every_row_is_rejected_is_a_data_error(tmp_path: Path, command: str) -> None:
    """A broken export (every sex unreadable) exits 1 (quiet too) after listing its rejects; a
    file with a header only is an empty register, not an error."""
    broken, empty = tmp_path / "broken.csv", tmp_path / "empty.csv"
    header = "JK,Tgl Lahir,Tanggal Pengukuran,Berat,Tinggi,ZS TB/U\n"
    broken.write_text(
        header + "X,2023-01-01,2024-01-15,9.5,75,-1\nY,2023-02-01,2024-01-15,9,74,0\n"
    )
    empty.write_text(header)
    for quiet in ([], ["--quiet"]) if command == "quality" else ([],):
        code, out, err = run(command, str(broken), "-f", "csv", *quiet)
        assert code == 1 and out == ""
        assert "every one of the 2 rows read was rejected" in err
    assert "unparseable sex" in run(command, str(broken), "-f", "csv")[2]
    assert run(command, str(empty), "-f", "csv")[0] == 0


def test_no_output_replaces_a_groups_or_sasaran_file(tmp_path: Path) -> None:
    """-o naming the file given to --groups or --sasaran is refused (exit 2) as -o naming an
    INPUT file is: the command reads it, and the output would replace it."""
    samples = Path(__file__).parent.parent / "data" / "samples"
    register = str(samples / "posyandu_metro_2022_2024.csv")
    groups, sasaran = tmp_path / "groups.csv", tmp_path / "sasaran.csv"
    groups.write_bytes((samples / "kampung_kb.csv").read_bytes())
    sasaran.write_text("posyandu,month,s\nPosyandu Melati 1,2024-01,30\n")
    for args, kept in (
        (["compare", register, "--groups", str(groups), "-o", str(groups)], groups),
        (["report", register, "--groups", str(groups), "-o", str(groups)], groups),
        (["skdn", register, "--sasaran", str(sasaran), "-o", str(sasaran)], sasaran),
    ):
        before = kept.read_bytes()
        code, _, err = run(*args)
        assert code == 2, err
        assert "a file this command reads" in err
        assert kept.read_bytes() == before


@pytest.mark.parametrize("command", ["zscore", "prevalence", "import"])
def test_a_file_without_its_header_line_shows_no_cell_of_its_first_row(
    tmp_path: Path, command: str
) -> None:
    """A register saved without its header: the error listed the first row as 'columns seen',
    a child's NIK and name with it. It now says the line holds values, not column names."""
    register = tmp_path / "nohead.csv"
    register.write_text("1872031708230003,QQBUDI SANTOSO,1,2023-01-01,2024-01-15,9.5,75\n")
    store = ["--store", str(tmp_path / "store"), "--json-summary"] if command == "import" else []
    code, out, err = run(command, str(register), *store)
    assert code == 1
    assert "is the header missing?" in err
    for text in (out, err):
        assert "QQBUDI" not in text and "1872031708230003" not in text


def test_an_oedema_column_left_blank_is_not_a_record_of_no_oedema(tmp_path: Path) -> None:
    """A kader's sheet with an 'Edema' column nobody filled in: blank reads "no", but the file
    recorded nothing, so it restates the register's "yes" rows as an export without the column
    does. One "tidak" in the column makes it a record: then a changed value corrects."""
    register = with_oedema(CANONICAL, tmp_path / "register.csv")
    expected = prevalence_csv(str(register), "--indicator", "all")
    visits = pd.read_csv(register, dtype=str, keep_default_na=False)
    blank = tmp_path / "blank.csv"
    visits.assign(oedema="").rename(columns={"oedema": "Edema"}).to_csv(blank, index=False)
    store = tmp_path / "store"
    for path in (register, blank):
        code, _, err = run("import", str(path), "--store", str(store))
        assert code == 0, err
    assert re.search(r"blank.csv: ([\d,]+) rows read = 0 stored \+ \1 duplicates skipped", err)
    pd.testing.assert_frame_equal(
        prevalence_csv("--store", str(store), "--indicator", "all"), expected
    )
    files = prevalence_csv(str(register), str(blank), "--indicator", "all")
    pd.testing.assert_frame_equal(files, expected)

    recorded = visits.assign(oedema="").rename(columns={"oedema": "Edema"})
    recorded.loc[0, "Edema"] = "tidak"
    recorded.to_csv(tmp_path / "recorded.csv", index=False)
    code, _, err = run("import", str(tmp_path / "recorded.csv"), "--store", str(store))
    assert code == 0, err
    yes = int((visits["oedema"] == "yes").sum())
    assert f"({yes:,} corrections)" in err
