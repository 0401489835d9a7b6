"""kbtool import, sources and store check/repair through the CLI: what a user meets."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kbtool.cli import app

runner = CliRunner()

REGISTER = (
    "child_id,sex,birth_date,visit_date,weight_kg,height_cm,measure,kelurahan,posyandu\n"
    "1872031708230003,1,2023-01-01,2024-01-01,8,70,l,Mulyosari,Posyandu A\n"
    "1872031708230004,2,2023-02-01,2024-01-01,7.5,68,l,Mulyosari,Posyandu A\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_refuses_an_unwritable_rejects_file_before_importing(tmp_path: Path) -> None:
    """An import that exits 1 has imported nothing: a --rejects FILE in a missing directory is
    refused before the store changes, so that the same command, fixed, imports the file."""
    register, store = tmp_path / "register.csv", tmp_path / "store"
    register.write_text(REGISTER)
    code, _, err = run("import", str(register), "--store", str(store), "--rejects",
                       str(tmp_path / "missing" / "rejects.csv"))  # fmt: skip
    assert code == 1
    assert "missing" in err
    code, out, _ = run("import", str(register), "--store", str(store), "--json-summary")
    assert code == 0
    assert '"rows_stored": 2' in out  # not "already imported"


def test_store_check_and_repair_say_the_problem_in_indonesian(tmp_path: Path) -> None:
    """--lang id names a damaged file's problem in Indonesian (the line of `store repair`, the
    table of `store check`); the machine formats keep the English."""
    register, store = tmp_path / "register.csv", tmp_path / "store"
    register.write_text(REGISTER)
    assert run("import", str(register), "--store", str(store))[0] == 0
    next((store / "measurements").rglob("*.parquet")).unlink()

    code, out, _ = run("store", "check", "--store", str(store), "--lang", "id", "-f", "table")
    assert code == 1
    assert "hilang" in out
    assert "missing" not in out and "problem" not in out
    code, out, _ = run("store", "check", "--store", str(store), "--lang", "id", "-f", "csv")
    assert out.splitlines()[0] == "path,problem,rows,import_id,sources"
    assert ",missing," in out

    code, _, err = run("store", "repair", "--store", str(store), "--lang", "id")
    assert code == 0
    assert "(hilang, 2 baris)" in err


def test_import_from_stdin_names_it_dash_in_warnings_and_errors(tmp_path: Path) -> None:
    """`kbtool import -` copies stdin into the store's staging area to hash it; its warnings
    and errors name it `-`, as its rows and rejects do, not that copy (deleted when the import
    ends, and no file the user knows)."""
    store = tmp_path / "store"
    latin = REGISTER.replace("Posyandu A", "Posyandu Cémpaka").encode("cp1252")
    result = runner.invoke(app, ["import", "-", "--store", str(store)], input=latin)
    assert result.exit_code == 0
    assert "-: read as Windows-1252" in result.stderr
    assert "staging" not in result.stderr

    result = runner.invoke(app, ["import", "-", "--store", str(store)], input=b"")
    assert result.exit_code == 1
    assert "-: empty file" in result.stderr
    assert "staging" not in result.stderr


def test_import_refuses_a_rejects_file_that_is_an_input(tmp_path: Path) -> None:
    """`kbtool import register.csv --rejects register.csv` would replace the register by its
    rejects once the import landed: refused before the store is touched."""
    register, store = tmp_path / "register.csv", tmp_path / "store"
    register.write_text(REGISTER)
    code, _, err = run("import", str(register), "--store", str(store), "--rejects", str(register))
    assert code == 2
    assert "--rejects" in err
    assert register.read_text() == REGISTER
    assert not store.exists()


def test_each_sheet_of_a_workbook_is_imported_once(tmp_path: Path) -> None:
    """A workbook with a sheet per month: --sheet Feb after --sheet Jan stores February (the
    file's bytes are the same), and --sheet Feb again adds nothing."""
    import openpyxl

    book = openpyxl.Workbook()
    header = ["NIK", "JK", "Tgl Lahir", "Tanggal Pengukuran", "Berat", "Tinggi", "Desa/Kel"]
    for sheet, month in (("Jan", "01"), ("Feb", "02")):
        ws = book.create_sheet(sheet)
        ws.append(header)
        ws.append(["1872031708230003", "L", "2023-01-01", f"2024-{month}-05", 8, 70, "Metro"])
    book.remove(book["Sheet"])
    path, store = tmp_path / "months.xlsx", tmp_path / "store"
    book.save(path)

    def imported(sheet: str) -> str:
        code, _, err = run("import", str(path), "--sheet", sheet, "--store", str(store))
        assert code == 0, err
        return err

    assert "1 stored" in imported("Jan")
    assert "1 stored" in imported("Feb")
    again = imported("Feb")
    assert "already imported" in again and "#Feb" in again  # which sheet was
    # the table of imports tells the two sheets apart, as the machine formats do
    code, table, _ = run("sources", "--store", str(store), "-f", "table")
    assert code == 0 and "#Jan" in table and "#Feb" in table
    code, out, _ = run("prevalence", "--store", str(store), "--period", "month", "-f", "csv")
    assert code == 0
    assert out.count("2024-01") >= 1 and out.count("2024-02") >= 1


def test_a_sheet_named_beyond_ascii_is_imported(tmp_path: Path) -> None:
    """A sheet named as Excel writes a range ('Januari–Maret', an en dash) whose children have
    no NIK, id or name: each row is a child of its own, keyed by the source's identity, which
    now holds the sheet's name; the import stores them, as without --sheet."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Januari–Maret"
    sheet.append(["JK", "Tgl Lahir", "Tanggal Pengukuran", "Berat", "Tinggi", "Desa/Kel"])
    sheet.append(["L", "2023-01-01", "2024-01-05", 8, 70, "Metro"])
    sheet.append(["P", "2023-02-01", "2024-02-05", 7, 66, "Metro"])
    path, store = tmp_path / "quarter.xlsx", tmp_path / "store"
    book.save(path)
    code, _, err = run("import", str(path), "--sheet", "Januari–Maret", "--store", str(store))
    assert code == 0, err
    assert "2 stored" in err


def test_sources_of_an_empty_store_have_the_columns_types(tmp_path: Path) -> None:
    """A store without imports (created, then its only import failed) lists no source, in a
    Parquet file of the same schema as a store with sources (not null columns a pipeline cannot
    append to)."""
    import pyarrow.parquet as pq

    from kbtool.store.open import create_or_open

    register = tmp_path / "register.csv"
    register.write_text(REGISTER)
    empty, full = tmp_path / "empty", tmp_path / "full"
    create_or_open(empty)
    assert run("import", str(register), "--store", str(full))[0] == 0
    for store in (empty, full):
        code, _, err = run("sources", "--store", str(store), "-o", str(store / "s.parquet"))
        assert code == 0, err
    schemas = [pq.read_schema(store / "s.parquet") for store in (empty, full)]
    assert pq.read_table(empty / "s.parquet").num_rows == 0
    assert schemas[0].remove_metadata() == schemas[1].remove_metadata()


def test_stdin_named_twice_is_a_usage_error(tmp_path: Path) -> None:
    """'- -' read standard input once and then met it empty ("-: empty file", exit 1)."""
    for args in (["prevalence", "-", "-"], ["import", "-", "-", "--store", str(tmp_path / "s")]):
        result = runner.invoke(app, args, input=REGISTER)
        assert result.exit_code == 2
        assert "standard input can be read once" in result.stderr
    assert not (tmp_path / "s").exists()
