"""`kbtool audit` through the CLI: exit codes, stdout, stderr, every format, the sample."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kbtool.audit import RecordedColumns, audit_register, columns_needed
from kbtool.cli import app
from kbtool.measurements import measurements_from_files

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
EPPGBM = SAMPLES / "eppgbm_metro_2024.csv"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
# the sample's posyandu with a known mistake (data/samples/README.md, generate.py)
SAMPLE_MISTAKES = {
    "Posyandu Mawar 2": "age_in_completed_months",
    "Posyandu Kenanga 1": "no_position_correction",
    "Posyandu Tulip 2": "stale_age",
}

runner = CliRunner()


def run(*args: str, columns: int = 200) -> tuple[int, str, str]:
    result = runner.invoke(app, ["audit", *args], env={"COLUMNS": str(columns)})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_csv() -> pd.DataFrame:
    code, out, _ = run(str(EPPGBM), "-f", "csv")
    assert code == 0
    return pd.read_csv(io.StringIO(out))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """The sample's first 400 rows: Posyandu Bougenville 3 and others, all correct."""
    lines = EPPGBM.read_text(encoding="utf-8").splitlines()[:401]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sample_names_its_mistaken_posyandu(sample_csv: pd.DataFrame) -> None:
    groups = sample_csv[sample_csv["posyandu"] != "All"]
    named = groups[groups["disagreements"] > 0].groupby("posyandu")["main_cause"]
    assert {name: set(causes) for name, causes in named} == {
        name: {cause} for name, cause in SAMPLE_MISTAKES.items()
    }
    others = groups[~groups["posyandu"].isin(list(SAMPLE_MISTAKES))]
    assert (others["z_agree_pct"].dropna() == 100).all()
    assert (others["status_agree_pct"].dropna() == 100).all()
    stale = groups[groups["posyandu"] == "Posyandu Tulip 2"]["stale_date"]
    assert set(stale) == {"2025-01-12"}


def test_sample_headline_and_sentences(tmp_path: Path) -> None:
    code, out, err = run(str(EPPGBM), "-o", str(tmp_path / "audit.csv"))
    assert code == 0 and out == ""
    assert "Stunting 2024: 21.5% by the register's own statuses, 21.3% by WHO" in err
    assert (
        "Posyandu Mawar 2: 95 of 95 disagreements are explained by age in completed months" in err
    )
    assert "explained by ages computed at 2025-01-12" in err
    assert "112 of 115 groups agree with WHO" in err


def test_cli_output_equals_the_library(sample_csv: pd.DataFrame) -> None:
    picker = RecordedColumns()
    frame = measurements_from_files(
        [EPPGBM], columns=columns_needed("posyandu"), pick_headers=picker
    ).frame
    library = audit_register(frame, indicators=picker.indicators()).table
    assert list(sample_csv.columns) == list(library.columns)
    for column in library.columns:
        if column in ("stale_date", "year"):
            continue
        ours, theirs = sample_csv[column], library[column]
        if pd.api.types.is_numeric_dtype(theirs):
            assert np.allclose(ours, theirs, equal_nan=True, rtol=0, atol=0), column
        else:
            assert ours.fillna("").astype(str).tolist() == theirs.fillna("").astype(str).tolist(), (
                column
            )


def test_table_worst_group_first(tmp_path: Path) -> None:
    code, out, err = run(str(EPPGBM), "-f", "table")
    assert code == 0
    lines = [line for line in out.splitlines() if "2024" in line]
    assert "All" in lines[0]
    assert [name for line in lines[1:] for name in SAMPLE_MISTAKES if name in line] == [
        "Posyandu Mawar 2",
        "Posyandu Tulip 2",
        "Posyandu Kenanga 1",
    ]
    assert "age in completed months" in lines[1]
    assert "rows read" in err and "rows read" not in out


def test_lang_id(tmp_path: Path) -> None:
    code, out, err = run(str(EPPGBM), "-f", "table", "--lang", "id")
    assert code == 0
    assert "Kemungkinan sebab" in out and "Semua" in out and "umur dalam bulan penuh" in out
    assert "ketidaksesuaian dijelaskan oleh umur dalam bulan penuh" in err
    assert "Stunting (TB/U) 2024: 21,5% menurut status register" in err


def test_every_format(small: Path, tmp_path: Path) -> None:
    code, out, _ = run(str(small), "-f", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    for fmt in ("jsonl", "json", "parquet", "xlsx"):
        path = tmp_path / f"audit.{fmt}"
        code, out, _ = run(str(small), "-o", str(path))
        assert code == 0 and out == ""
        if fmt == "jsonl":
            back = pd.read_json(path, lines=True)
        elif fmt == "json":
            document = json.loads(path.read_text(encoding="utf-8"))
            assert document["meta"]["command"] == "audit"
            assert document["meta"]["options"]["recorded_columns"][str(small)] == {
                "recorded_haz": "ZS TB/U",
                "recorded_haz_status": "TB/U",
                "recorded_waz": "ZS BB/U",
                "recorded_waz_status": "BB/U",
                "recorded_whz": "ZS BB/TB",
                "recorded_whz_status": "BB/TB",
            }
            back = pd.DataFrame(document["data"])
        elif fmt == "parquet":
            back = pq.read_table(path).to_pandas()
            assert b"kbtool" in pq.read_schema(path).metadata
        else:
            sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
            assert list(sheets) == ["data", "findings", "about"]
            back = sheets["data"]
        assert list(back.columns) == list(table.columns), fmt
        assert back["rows"].tolist() == table["rows"].tolist(), fmt


def test_rows_file_row_by_row_without_personal_data(tmp_path: Path) -> None:
    rows_path = tmp_path / "rows.csv"
    code, _, _ = run(str(EPPGBM), "--rows", str(rows_path), "-o", str(tmp_path / "a.csv"))
    assert code == 0
    rows = pd.read_csv(rows_path, dtype={"source_line": int})
    assert list(rows.columns) == [
        "source_file",
        "source_line",
        "posyandu",
        "indicator",
        "recorded_z",
        "recorded_status",
        "who_z",
        "who_status",
        "z_agrees",
        "status_agrees",
        "cause",
    ]
    assert len(rows) == 3 * 10_933  # every row, HAZ, WAZ and WHZ
    mawar = rows[rows["posyandu"] == "Posyandu Mawar 2"]
    assert set(mawar["cause"].dropna()) == {"age_in_completed_months"}
    assert (
        rows.loc[rows["posyandu"] != "Posyandu Mawar 2", "cause"]
        .ne("age_in_completed_months")
        .all()
    )
    register = pd.read_csv(EPPGBM, sep=";", dtype=str)
    text = rows_path.read_text(encoding="utf-8")
    for personal in ("NIK", "Nama", "Nama Ortu"):
        values = register[personal].dropna().unique()
        assert not any(value in text for value in values[:300]), personal


def test_outputs_carry_no_personal_data(tmp_path: Path, small: Path) -> None:
    register = pd.read_csv(small, sep=";", dtype=str)
    secrets = [*register["NIK"].dropna().unique(), *register["Nama"].dropna().unique()]
    secrets += list(register["Nama Ortu"].dropna().unique())
    written = []
    for fmt in ("csv", "jsonl", "json", "parquet", "xlsx"):
        path = tmp_path / f"audit.{fmt}"
        rows = tmp_path / f"rows.{fmt}"
        code, _, err = run(str(small), "-o", str(path), "--rows", str(rows))
        assert code == 0
        written += [path, rows]
    for path in written:
        raw = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                raw = b"".join(book.read(name) for name in book.namelist())
        elif path.suffix == ".parquet":
            raw += pd.read_parquet(path).to_csv().encode()
        text = raw.decode("utf-8", "replace")
        assert not [s for s in secrets if s and s in text], path.name
    assert not [s for s in secrets if s and s in err]


def test_no_recorded_columns_is_a_clear_error() -> None:
    code, out, err = run(str(CANONICAL))
    assert code == 1 and out == ""
    assert err.startswith("kbtool: error: ")
    assert "no recorded z-scores or statuses" in err
    assert "ZS TB/U" in err and "TB/U" in err and "--column recorded_haz=NAME" in err
    assert "Traceback" not in err


def test_recorded_columns_mapped_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "kader.csv"
    path.write_text(
        "JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur;Posyandu;Nilai Z;Keterangan\n"
        "P;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;-1,18;Normal\n"
        "L;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;-2,40;Pendek\n",
        encoding="utf-8",
    )
    code, _, err = run(str(path))
    assert code == 1 and "no recorded z-scores" in err
    code, out, _ = run(
        str(path),
        "--column",
        "recorded_haz=Nilai Z",
        "--column",
        "recorded_haz_status=keterangan",
        "-f",
        "csv",
    )
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert table["z_compared"].tolist() == [2, 2]
    assert table["z_agree"].tolist() == [1, 1]


def test_text_values_and_unknown_labels(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur;Posyandu;ZS TB/U;TB/U\n"
        "P;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;-;Stunting\n"
        "P;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;N/A;N/A\n"
        "P;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;abc;normal\n"
        "P;01/01/2023;15/01/2024;8,1;71,5;Terlentang;Melati;-1,18;Stunting\n",
        encoding="utf-8",
    )
    code, out, err = run(str(path), "-f", "csv")
    assert code == 0
    group = pd.read_csv(io.StringIO(out)).iloc[0]
    assert group["rows"] == 4
    assert group["missing_z"] == 2 and group["unreadable_z"] == 1
    assert group["unrecognised_status"] == 2 and group["missing_status"] == 1
    assert group["z_agree"] == 1 and group["status_agree"] == 1
    assert "recorded values not understood in TB/U" in err and "'Stunting' (2)" in err
    assert "in ZS TB/U" in err and "'abc' (1)" in err


def test_usage_errors() -> None:
    code, _, err = run(str(EPPGBM), "--rows", "-")
    assert code == 2 and "--rows" in err
    code, _, err = run(str(EPPGBM), "--column", "recorded_stunting=X")
    assert code == 2 and "recorded_haz_status" in err
    code, _, err = run(str(EPPGBM), "--by", "sex")
    assert code == 2
    code, _, err = run(str(EPPGBM), "--column", "recorded_haz_status=Nama Ortu")
    assert code == 2 and "personal" in err


def test_by_kelurahan(small: Path) -> None:
    code, out, _ = run(str(small), "--by", "kelurahan", "-f", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns[:3]) == ["year", "kelurahan", "indicator"]
    totals = table[table["kelurahan"] == "All"]
    assert totals["rows"].tolist() == [400, 400, 400]


def test_lang_id_names_an_unknown_group_in_indonesian(tmp_path: Path) -> None:
    """A disagreement at a row without a posyandu is the unknown group's: its sentence on
    stderr says "(tidak diketahui)" in Indonesian, as the table does, not "(unknown)"."""
    path = tmp_path / "no_posyandu.csv"
    path.write_text(
        "sex,birth_date,visit_date,weight_kg,height_cm,posyandu,haz_status\n"
        "1,2023-01-10,2024-01-15,9.5,76.0,,sangat pendek\n",  # WHO: HAZ about -0.1, normal
        encoding="utf-8",
    )
    code, out, err = run(str(path), "-f", "table", "--lang", "id")
    assert code == 0 and "(tidak diketahui)" in out
    assert "(tidak diketahui): 1 dari 1" in err and "(unknown)" not in err


def test_rows_file_without_a_known_suffix_says_to_rename_it(tmp_path: Path) -> None:
    """--rows takes its format from the file's suffix only: the usage error says so and names
    --rows, and does not send the user to --format, which chooses the main output's format."""
    rows = tmp_path / "rows.txt"
    code, _, err = run(str(EPPGBM), "--rows", str(rows), "-f", "csv")
    assert code == 2 and not rows.exists()
    assert "--rows" in err and ".csv" in err and "--format" not in err


def test_rows_file_naming_the_register_is_refused(small: Path) -> None:
    """--rows FILE naming the register audited would replace it by the comparison (no names,
    no NIK): a usage error, and the register stays as it was."""
    before = small.read_bytes()
    code, _, err = run(str(small), "--rows", str(small), "-f", "csv")
    assert code == 2
    assert "--rows" in err
    assert small.read_bytes() == before


def test_indonesian_headline_says_poin_persen() -> None:
    """The headline's difference between two prevalences is in percentage points: "poin
    persen" in Indonesian, as the report and compare say it, not "poin"."""
    result = runner.invoke(app, ["audit", str(EPPGBM), "--lang", "id"])
    assert result.exit_code == 0, result.stderr
    assert "menurut WHO (+0,2 poin persen)" in result.stderr
    assert "poin)" not in result.stderr
