"""`kbtool zscore` through the CLI: exit codes, stdout vs stderr, formats, golden files."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.reading import ReadOptions
from kbtool.scoring import score_files
from tests.conftest import WHO_DATA

CLI_DATA = Path(__file__).parent / "data" / "cli"
# run from tests/data/cli with a relative name, so source_file in the golden files is portable
SMALL = Path("visits_small.csv")
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KBTOOL_UPDATE_GOLDEN") == "1"

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_cli_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CLI_DATA)


def run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME (KBTOOL_UPDATE_GOLDEN=1 rewrites it; review the diff)."""
    path = GOLDEN / name
    if UPDATE:  # pragma: no cover - maintainer's switch
        path.write_text(text)
    assert text == path.read_text()


def test_csv_to_stdout_equals_library_result() -> None:
    code, out, err = run("zscore", str(SMALL), "--format", "csv")
    assert code == 0
    cli = pd.read_csv(io.StringIO(out))
    library = score_files([SMALL], ReadOptions()).table
    assert list(cli.columns) == list(library.columns)
    for column in ("haz", "waz", "whz", "bmiz", "lenhei_cm", "bmi"):
        assert np.allclose(cli[column], library[column].astype(float), equal_nan=True, atol=0)
    assert (
        cli["haz_status"].fillna("").tolist()
        == library["haz_status"].astype(str).replace("nan", "").tolist()
    )
    assert "7 rows read: 5 scored, 2 rejected" in err


def test_golden_csv() -> None:
    code, out, _ = run("zscore", str(SMALL), "--format", "csv")
    assert code == 0
    check_golden("zscore.csv", out)


def test_golden_jsonl_and_lang_id() -> None:
    code, out, _ = run("zscore", str(SMALL), "--format", "jsonl", "--lang", "id")
    assert code == 0
    check_golden("zscore_id.jsonl", out)


def test_json_has_meta_and_the_same_data() -> None:
    code, out, _ = run("zscore", str(SMALL), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["meta"]["command"] == "zscore"
    assert document["meta"]["reference"].startswith("WHO Child Growth Standards")
    golden = pd.read_csv(GOLDEN / "zscore.csv")
    data = pd.DataFrame(document["data"])
    assert list(data.columns) == list(golden.columns)
    assert data["haz"].tolist() == golden["haz"].tolist()


def test_parquet_and_xlsx_files(tmp_path: Path) -> None:
    golden = pd.read_csv(GOLDEN / "zscore.csv")
    parquet = tmp_path / "out.parquet"
    assert run("zscore", str(SMALL), "-o", str(parquet))[0] == 0
    table = pq.read_table(parquet)
    assert b"kbtool" in table.schema.metadata
    frame = table.to_pandas()
    assert list(frame.columns) == list(golden.columns)
    assert np.allclose(frame["whz"].astype(float), golden["whz"], equal_nan=True)
    xlsx = tmp_path / "out.xlsx"
    assert run("zscore", str(SMALL), "-o", str(xlsx))[0] == 0
    sheets = pd.read_excel(xlsx, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["data", "about"]
    assert np.allclose(sheets["data"]["waz"].astype(float), golden["waz"], equal_nan=True)


def test_personal_data_never_written() -> None:
    code, out, err = run("zscore", str(SMALL), "--format", "csv")
    assert code == 0
    for secret in ("1872010101230001", "Ani Lestari", "Budi Santoso"):
        assert secret not in out
    assert "'NIK' (an identity number), 'Nama' (a name)" in err


def test_terminal_table_fits_an_80_column_screen() -> None:
    """The table a terminal gets shows a row per line: register line, age, z-scores, the
    stunting status and the flags raised, and says the other columns are in the csv."""
    result = runner.invoke(app, ["zscore", str(SMALL), "-f", "table"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    header = next(line for line in lines if " haz " in line)
    assert header.split() == ["line", "days", "haz", "haz", "status", "waz", "whz", "bmiz", "flags"]
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["2"], ["5"])}
    expected = pd.read_csv(io.StringIO(run("zscore", str(SMALL), "--format", "csv")[1]))
    first = expected[expected["source_line"] == 2].iloc[0]
    assert rows["2"] == ["2", str(first["age_days"]), f"{first['haz']:.2f}", "normal"] + [
        f"{first[name]:.2f}" for name in ("waz", "whz", "bmiz")
    ]
    standing_baby = expected[expected["source_line"] == 5].iloc[0]
    assert standing_baby["position_flag"] == 1 and rows["5"][-1] == "pos"
    assert max(len(line) for line in lines) <= 80
    assert f"showing 8 of {len(expected.columns)} columns" in result.stderr


def test_terminal_table_names_the_file_when_there_are_several(tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(SMALL.read_bytes())
    args = ["zscore", str(SMALL), str(copy), "-f", "table"]
    result = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert next(line for line in lines if " haz " in line).split()[:2] == ["file", "line"]
    files = [line.split()[0] for line in lines if line.split()[1:2] == ["2"]]
    assert files == ["visits_small.csv", "copy.csv"]


def test_a_stray_quote_in_a_later_batch_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed csv: a warning that only a later batch carries still reaches stderr, once."""
    from kbtool import scoring
    from kbtool.reading import csv as reader

    monkeypatch.setattr(scoring, "STREAM_BATCH_ROWS", 200)
    monkeypatch.setattr(reader, "_MIN_BLOCK_BYTES", 512)
    rows = [
        "Nama;JK;Tgl Lahir;Tgl Ukur;BB;TB",
        *(f"n{i};P;01/01/2023;01/01/2024;9;75" for i in range(1000)),
    ]
    rows[900] = '"Ucok;L;01/01/2023;01/01/2024;9;75'  # line 901
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = run("zscore", str(path), "--format", "csv")
    assert code == 0
    assert len(pd.read_csv(io.StringIO(out))) == 899
    assert err.count("lines 901-1001 (101 lines) were read as one row") == 1
    assert "900 rows read: 899 scored, 1 rejected" in err


def test_rows_without_any_zscore_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A totals row, a row without sex, a row with nothing measured: scored (a missing value is
    not an error) but said under the summary, with their lines, across streamed batches."""
    from kbtool import scoring
    from kbtool.reading import csv as reader

    monkeypatch.setattr(scoring, "STREAM_BATCH_ROWS", 200)
    monkeypatch.setattr(reader, "_MIN_BLOCK_BYTES", 512)
    rows = [
        "Nama;JK;Tgl Lahir;Tgl Ukur;BB;TB",
        *(f"n{i};P;01/01/2023;01/01/2024;9;75" for i in range(1000)),
    ]
    rows[3] = "Budi;;01/01/2023;01/01/2024;9;75"  # line 4: no sex
    rows[10] = "Cici;P;01/01/2023;01/01/2024;;"  # line 11: nothing measured
    rows[700] = "Dedi;L;;;9;"  # line 701: no age, no height: only WHZ could be, and is not
    rows.append("JUMLAH;;;;9000;75000")  # line 1002
    path = tmp_path / "register.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = run("zscore", str(path), "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    empty = table[["haz", "waz", "whz", "bmiz"]].isna().all(axis=1)
    assert table.loc[empty, "source_line"].tolist() == [4, 11, 701, 1002]
    assert "1,001 rows read: 1,001 scored, 0 rejected" in err
    assert "4 scored rows have no z-score at all (lines 4, 11, 701, ...)" in err
    # several files (read whole): each line with its file
    copy = tmp_path / "copy.csv"
    copy.write_text("JK;Tgl Lahir;Tgl Ukur;BB;TB\nL;;;;\n")
    code, _, err = run("zscore", str(copy), str(path), "--format", "json", "-o", "-")
    assert code == 0
    assert f"5 scored rows have no z-score at all ({copy}:2, {path}:4, {path}:11, ...)" in err
    code, _, err = run("zscore", str(SMALL), "--format", "csv")
    assert "no z-score" not in err


def test_rejects_file(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    code, out, _ = run("zscore", str(SMALL), "--format", "csv", "--rejects", str(rejects))
    assert code == 0
    frame = pd.read_csv(rejects)
    assert frame.columns.tolist() == ["file", "line", "column", "value", "reason"]
    assert frame["line"].tolist() == [6, 8]
    assert frame["column"].tolist() == ["Tanggal Pengukuran", "Tinggi"]
    assert len(pd.read_csv(io.StringIO(out))) + len(frame) == 7


def test_rejects_to_stdout_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--rejects - would have written a file named '-': stdout carries the result."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run("zscore", str(SMALL.resolve()), "--format", "csv", "--rejects", "-")
    assert code == 2 and out == ""
    assert "--rejects" in err and "name a file" in err
    assert not (tmp_path / "-").exists()


def test_stdin_pipe() -> None:
    code, out, _ = run("zscore", "-", "--format", "jsonl", stdin=SMALL.read_bytes())
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 5
    assert records[0]["source_file"] == "-"


def test_who_reference_through_the_cli() -> None:
    code, out, _ = run(
        "zscore", str(WHO_DATA / "zscore_inputs.csv"), "-f", "csv", "--full-precision"
    )
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    want = pd.read_csv(WHO_DATA / "zscore_expected.csv")
    assert "age_days_input" in got  # the reference's own age_days column is kept, renamed
    for ours, who in (("haz", "zlen"), ("waz", "zwei"), ("whz", "zwfl"), ("bmiz", "zbmi")):
        # 1e-9: the expected file prints 15 significant digits
        assert np.allclose(got[ours], want[who], atol=1e-9, rtol=0, equal_nan=True)


def test_who_reference_with_length_and_height_in_two_columns(tmp_path: Path) -> None:
    """The WHO reference rewritten as a register with PB and TB columns and no measure: the
    column a value sits in gives its position, and every z-score still equals WHO's."""
    inputs = pd.read_csv(WHO_DATA / "zscore_inputs.csv", dtype={"measure": str})
    lying = inputs["measure"] == "l"
    assert lying.any() and (~lying).any()
    split = inputs.drop(columns=["measure", "height_cm"]).assign(
        PB=inputs["height_cm"].where(lying), TB=inputs["height_cm"].where(~lying)
    )
    path = tmp_path / "pb_tb.csv"
    split.to_csv(path, index=False)
    code, out, err = run("zscore", str(path), "-f", "csv", "--full-precision")
    assert code == 0, err
    assert "'PB' read as recumbent length, 'TB' as standing height" in err
    got = pd.read_csv(io.StringIO(out))
    want = pd.read_csv(WHO_DATA / "zscore_expected.csv")
    assert np.allclose(got["lenhei_cm"], want["clenhei"], atol=1e-9, rtol=0, equal_nan=True)
    for ours, who in (("haz", "zlen"), ("waz", "zwei"), ("whz", "zwfl"), ("bmiz", "zbmi")):
        assert np.allclose(got[ours], want[who], atol=1e-9, rtol=0, equal_nan=True)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["zscore", "no/such/file.csv"], 1, "no/such/file.csv"),
        (["zscore", str(SMALL), "--lang", "fr"], 2, "--lang"),
        (["zscore", str(SMALL), "--column", "nonsense"], 2, "CANONICAL=HEADER"),
        (["zscore", str(SMALL), "-o", "/tmp/out.unknown"], 2, "format"),
        (["zscore"], 2, "INPUT"),
    ],
)
def test_errors_are_one_line_with_exit_code(args: list[str], code: int, message: str) -> None:
    exit_code, out, err = run(*args)
    assert exit_code == code
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_unreadable_file_is_one_clear_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02 binary \xff\xfe")
    code, out, err = run("zscore", str(junk))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and "junk.csv" in err


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("kbtool ")


def test_version_is_the_installed_distributions() -> None:
    """kbtool.__version__ is written once; the installed metadata must carry the same."""
    from importlib.metadata import version

    import kbtool

    assert version("kbtool") == kbtool.__version__


def test_indonesian_messages_write_numbers_and_personal_data_in_indonesian() -> None:
    """--lang id: thousands with a point (34.747 baris), and what a withheld column holds in
    Bahasa Indonesia, not English."""
    sample = Path(__file__).parents[1] / "data" / "samples" / "posyandu_metro_2022_2024.csv"
    rows = len(sample.read_text(encoding="utf-8").splitlines()) - 1
    assert rows >= 1000  # (a number with a thousands separator)
    code, _, err = run("zscore", str(sample), "--format", "csv", "--lang", "id")
    assert code == 0
    grouped = f"{rows:,}".replace(",", ".")
    assert f"{grouped} baris dibaca: {grouped} dihitung, 0 ditolak" in err
    assert "'child_id' (nomor identitas)" in err and "'name' (nama)" in err
    assert "an identity number" not in err and "a name" not in err


@pytest.mark.parametrize("fmt", ["csv", "json"])  # streamed, and read whole
def test_keep_naming_no_column_says_so(tmp_path: Path, fmt: str) -> None:
    """`--keep Nama` on a register whose name column is `name` keeps nothing: a warning says
    that no column has that header and names the personal columns withheld, instead of
    silence that reads as "kept"."""
    register = tmp_path / "register.csv"
    register.write_text(
        "child_id,name,sex,birth_date,visit_date,weight_kg,height_cm\n"
        "1872031708230003,Ani,1,2023-01-01,2024-01-01,8,70\n"
    )
    code, out, err = run("zscore", str(register), "-f", fmt, "--keep", "Nama")
    assert code == 0
    assert "Ani" not in out
    assert "'Nama'" in err and "'name'" in err and "register.csv" in err
    code, _, err = run("zscore", str(register), "-f", fmt, "--keep", "Nama", "--lang", "id")
    assert "'Nama'" in err and "tidak ada kolom" in err
    # a kept column that exists says only that it is kept
    code, out, err = run("zscore", str(register), "-f", fmt, "--keep", "name")
    assert "Ani" in out and "no column" not in err


@pytest.mark.parametrize("option", ["--output", "--rejects"])
def test_an_output_naming_an_input_file_is_refused(tmp_path: Path, option: str) -> None:
    """`kbtool zscore register.csv -o register.csv` (or --rejects register.csv) would replace
    the register, NIK and names included (withheld from the output), by what kbtool writes:
    a usage error, and the register stays as it was."""
    register = tmp_path / "register.csv"
    register.write_bytes((CLI_DATA / SMALL).read_bytes())
    before = register.read_bytes()
    also = ["--format", "csv"] if option == "--rejects" else []
    code, _, err = run("zscore", str(register), option, str(register), *also)
    assert code == 2
    assert "register.csv" in err and option in err
    assert register.read_bytes() == before


def test_a_name_typed_in_a_measurement_column_is_not_in_the_rejects(tmp_path: Path) -> None:
    """A mother's name in the birth-date column, a child's in the weight: rejected, and withheld
    from the rejects file and stderr as the name columns are; a mistyped number stays shown."""
    register = tmp_path / "register.csv"
    register.write_text(
        "JK,Tgl Lahir,Tanggal Pengukuran,Berat,Tinggi\n"
        "L,QQSRI WAHYUNI,2024-01-15,9.5,75\n"
        "P,2023-02-01,2024-01-15,QQBUDI,70\n"
        "L,2023-03-01,2024-01-15,9.5.1,72\n"
    )
    rejects = tmp_path / "rejects.csv"
    code, _, err = run("zscore", str(register), "-f", "csv", "--rejects", str(rejects))
    assert code == 0
    written = rejects.read_text()
    assert "QQ" not in written and "QQ" not in err
    frame = pd.read_csv(rejects)
    assert frame["line"].tolist() == [2, 3, 4]
    assert frame["value"].tolist() == ["[redacted]", "[redacted]", "9.5.1"]


def test_two_columns_of_one_header_say_how_to_read_the_other(tmp_path: Path) -> None:
    """--column names a header, so it cannot pick the second 'Berat': the warning says what can."""
    register = tmp_path / "register.csv"
    register.write_text("JK,Berat,Berat,Tinggi\nL,9.5,9.6,75\n")
    code, out, err = run("zscore", str(register), "-f", "csv")
    assert code == 0
    assert "2 columns are headed 'Berat': weight_kg read from the first" in err
    assert "--column" not in err.split("headed 'Berat'")[1].split("\n")[0]
    assert "1 row read: 1 scored, 0 rejected" in err
    assert pd.read_csv(io.StringIO(out))["bmi"].tolist() == [16.89]  # 9.5 / 0.75², not 9.6
