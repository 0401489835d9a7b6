"""`kbtool skdn` through the CLI: exit codes, stdout and stderr apart, every format, Indonesian,
the follow-up list and its names, the store, and every bad input issue 15 lists."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.measurements import measurements_from_files
from kbtool.skdn import compute_skdn, followup_list
from tests.synthetic import generate_register, write_canonical_csv

runner = CliRunner()

SKDN_COLUMNS = [
    "month",
    "posyandu",
    "s",
    "s_source",
    "d",
    "b",
    "o",
    "n",
    "t",
    "t2",
    "bgm",
    "d_s",
    "n_d",
    "n_d_assessed",
    "t_d",
    "t2_d",
    "bgm_d",
]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    return generate_register(120, years=(2023, 2024), seed=1515)


@pytest.fixture(scope="module")
def register_csv(tmp_path_factory: pytest.TempPathFactory, generated: pd.DataFrame) -> Path:
    """A generated register of about 2,400 visits, with names and NIKs."""
    path = tmp_path_factory.mktemp("skdn") / "register.csv"
    write_canonical_csv(generated, path)
    return path


def test_cli_equals_library(register_csv: Path) -> None:
    code, out, err = run("skdn", str(register_csv), "-f", "csv")
    assert code == 0, err
    assert "rows read" in err  # the summary goes to stderr, the data to stdout
    cli = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    library = compute_skdn(measurements_from_files([register_csv]).frame)
    assert list(cli.columns) == SKDN_COLUMNS
    pd.testing.assert_frame_equal(cli, library, check_dtype=False)


def test_every_format(register_csv: Path, tmp_path: Path) -> None:
    args = ("skdn", str(register_csv), "--from", "2024-01", "--to", "2024-03")
    code, csv_text, _ = run(*args, "-f", "csv")
    assert code == 0
    expected = pd.read_csv(io.StringIO(csv_text))
    code, out, _ = run(*args, "-f", "jsonl")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["d"] for line in lines] == expected["d"].tolist()
    code, out, _ = run(*args, "-f", "json")
    document = json.loads(out)
    assert document["meta"]["command"] == "skdn"
    assert document["meta"]["options"]["from"] == "2024-01"
    assert "Buku KIA" in document["meta"]["options"]["kbm"]
    assert any("4: 600 g" in note for note in document["meta"]["notes"])  # the KBM in force
    parquet = tmp_path / "skdn.parquet"
    assert run(*args, "-o", str(parquet))[0] == 0
    assert pd.read_parquet(parquet)["s"].tolist() == expected["s"].tolist()
    workbook = tmp_path / "skdn.xlsx"
    assert run(*args, "-o", str(workbook))[0] == 0
    sheets = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["data", "method", "about"]
    assert sheets["data"]["n"].tolist() == expected["n"].tolist()
    method = sheets["method"]
    assert "2T" in method["item"].tolist()
    # the register read is named there, as prevalence's method sheet names it
    sources = method.loc[method["item"] == "source", "value"].tolist()
    assert len(sources) == 1 and f"file={register_csv}" in sources[0]


def test_the_list_in_every_format(register_csv: Path, tmp_path: Path) -> None:
    args = ("skdn", str(register_csv), "--list", "--from", "2024-01", "--to", "2024-03")
    code, csv_text, _ = run(*args, "-f", "csv")
    assert code == 0
    expected = pd.read_csv(io.StringIO(csv_text))
    assert len(expected) > 0 and set(expected["month"]) <= {"2024-01", "2024-02", "2024-03"}
    code, out, _ = run(*args, "-f", "json")
    document = json.loads(out)
    assert (document["meta"]["options"]["from"], document["meta"]["options"]["to"]) == (
        "2024-01",
        "2024-03",
    )
    assert [r["source_line"] for r in document["data"]] == expected["source_line"].tolist()
    code, out, _ = run(*args, "-f", "jsonl")
    assert [json.loads(line)["t2"] for line in out.splitlines()] == expected["t2"].tolist()
    for suffix in ("parquet", "xlsx"):
        assert run(*args, "-o", str(tmp_path / f"list.{suffix}"))[0] == 0
    parquet = pd.read_parquet(tmp_path / "list.parquet")
    assert parquet["source_line"].tolist() == expected["source_line"].tolist()
    sheets = pd.read_excel(tmp_path / "list.xlsx", sheet_name=None, engine="openpyxl")
    assert sheets["data"]["weight_1"].tolist() == pytest.approx(expected["weight_1"].tolist())
    code, out, _ = run(*args, "-f", "table", "--lang", "id", env={"COLUMNS": "250"})
    assert code == 0 and "Daftar tindak lanjut" in out


def test_table_in_indonesian(register_csv: Path) -> None:
    code, out, err = run(
        "skdn", str(register_csv), "--by", "kelurahan", "--from", "2024-06", "--to", "2024-06",
        "-f", "table", "--lang", "id", env={"COLUMNS": "250"},
    )  # fmt: skip
    assert code == 0
    assert "SKDN per bulan" in out and "Bulan" in out and "Sumber S" in out
    assert " 2T " in out and "BGM/D %" in out and "register" in out
    assert "baris dibaca" in err


def test_from_after_to_is_a_usage_error(register_csv: Path) -> None:
    code, out, err = run("skdn", str(register_csv), "--from", "2024-06", "--to", "2024-01")
    assert code == 2 and out == ""
    assert "--from 2024-06 is after --to 2024-01" in err and "Traceback" not in err
    code, _, err = run("skdn", str(register_csv), "--from", "2024-13")
    assert code == 2 and "2024-13" in err


@pytest.mark.parametrize("option", ["--from", "--to"])
@pytest.mark.parametrize("listing", [(), ("--list",)])
def test_one_month_given_beyond_the_register_says_so(
    register_csv: Path, generated: pd.DataFrame, option: str, listing: tuple[str, ...]
) -> None:
    """--from after the register's last month (or --to before its first) leaves no month to
    report: one clear error naming that month, not an empty table without a word."""
    months = pd.to_datetime(generated["visit_date"]).dt.strftime("%Y-%m")
    month, edge = ("2031-01", months.max()) if option == "--from" else ("2001-01", months.min())
    code, out, err = run("skdn", str(register_csv), option, month, *listing)
    assert code == 1 and out == ""
    assert f"{option} {month}" in err and edge in err and "Traceback" not in err


def test_sasaran_matching_none_of_the_groups(register_csv: Path, tmp_path: Path) -> None:
    sasaran = tmp_path / "sasaran.csv"
    sasaran.write_text("Posyandu,Tahun,Sasaran\nPosyandu Tidak Ada,2024,30\n", encoding="utf-8")
    code, out, err = run("skdn", str(register_csv), "--sasaran", str(sasaran), "-f", "csv")
    assert code == 1 and out == ""
    assert err.count("\n") == 2  # the rows-read summary, then one line of error
    assert "kbtool: error: --sasaran" in err and "'Posyandu Tidak Ada'" in err
    assert "Posyandu" in err.split("the register has")[1] and "Traceback" not in err


def test_sasaran_with_a_zero_and_an_unknown_group(register_csv: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(register_csv)
    known = sorted(frame["posyandu"].unique())[0]
    sasaran = tmp_path / "sasaran.csv"
    sasaran.write_text(
        f"posyandu;bulan;sasaran\n{known};2024-03;0\n{known};2024-04;25\nTidak Ada;2024-03;9\n",
        encoding="utf-8",
    )
    code, out, err = run("skdn", str(register_csv), "--sasaran", str(sasaran), "-f", "csv")
    assert code == 0
    assert "left out: 'Tidak Ada'" in err
    result = pd.read_csv(io.StringIO(out))
    march = result[(result["month"] == "2024-03") & (result["posyandu"] == known)].iloc[0]
    assert march["s"] == 0 and march["s_source"] == "file" and pd.isna(march["d_s"])
    april = result[(result["month"] == "2024-04") & (result["posyandu"] == known)].iloc[0]
    assert april["s"] == 25 and april["d_s"] == pytest.approx(april["d"] / 25 * 100)
    assert (result.loc[result["posyandu"] != known, "s_source"] == "register").all()


def test_weight_typed_in_grams(tmp_path: Path) -> None:
    """A register whose child is weighed 9.1 kg in January and '9500' (grams) in February: not
    a weighing (D 0 in February, the child's S from January), listed as implausible."""
    path = tmp_path / "grams.csv"
    path.write_text(
        "nik,nama,sex,birth_date,visit_date,weight_kg,height_cm,posyandu,kelurahan\n"
        "3372010101200001,Ayu,2,2023-01-05,2024-01-10,9.1,74.0,Posyandu Mawar,Metro\n"
        "3372010101200001,Ayu,2,2023-01-05,2024-02-10,9500,75.0,Posyandu Mawar,Metro\n"
        "3372010101200002,Budi,1,2023-03-05,2024-02-10,9.4,73.0,Posyandu Mawar,Metro\n",
        encoding="utf-8",
    )
    code, out, _ = run("skdn", str(path), "-f", "csv")
    assert code == 0
    result = pd.read_csv(io.StringIO(out)).set_index("month")
    assert (result.loc["2024-02", "s"], result.loc["2024-02", "d"]) == (2, 1)
    code, out, _ = run("skdn", str(path), "--list", "-f", "csv")
    assert code == 0
    listed = pd.read_csv(io.StringIO(out))
    assert listed["implausible"].tolist() == [True]
    assert listed["implausible_weight"].tolist() == [9500.0]
    assert listed["source_line"].tolist() == [3] and listed["weight_1"].tolist() == [9.1]
    assert "Ayu" not in out and "3372010101200001" not in out


def test_list_without_names_then_with_names(register_csv: Path, generated: pd.DataFrame) -> None:
    code, out, err = run("skdn", str(register_csv), "--list", "-f", "csv")
    assert code == 0 and "personal data" not in err
    listed = pd.read_csv(io.StringIO(out))
    assert len(listed) > 10 and "name" not in listed.columns
    assert listed["t2"].any() and listed["bgm"].any()
    names = set(generated["name"].astype(str))
    niks = {nik for nik in generated["child_id"].dropna().astype(str) if len(nik) >= 10}
    assert not any(name in out for name in names) and not any(nik in out for nik in niks)
    library = followup_list(
        measurements_from_files([register_csv], columns=None).frame
    ).reset_index(drop=True)
    assert listed["source_line"].tolist() == library["source_line"].tolist()
    code, out, err = run("skdn", str(register_csv), "--list", "--with-names", "-f", "csv")
    assert code == 0
    assert "personal data" in err and "UU 27/2022" in err
    named = pd.read_csv(io.StringIO(out))
    assert named.columns[-1] == "name" and set(named["name"]) <= names
    assert not any(nik in out for nik in niks)  # names only: never a NIK


def test_with_names_only_with_files_and_the_list(register_csv: Path, tmp_path: Path) -> None:
    code, out, err = run("skdn", "--store", str(tmp_path / "store"), "--list", "--with-names")
    assert code == 2 and out == "" and "--with-names" in err
    code, out, err = run("skdn", str(register_csv), "--with-names")
    assert code == 2 and out == "" and "--list" in err


def test_bad_kbm_file(register_csv: Path, tmp_path: Path) -> None:
    kbm = tmp_path / "kbm.csv"
    kbm.write_text("age_months,kbm_g\n0,800\n3,lots\n", encoding="utf-8")
    code, out, err = run("skdn", str(register_csv), "--kbm", str(kbm))
    assert code == 1 and out == ""
    assert "line 3" in err and "'lots'" in err and "Traceback" not in err


def test_store_gives_the_same_figures_as_the_file(register_csv: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, _, err = run("import", str(register_csv), "--store", str(store))
    assert code == 0, err
    code, stored, _ = run("skdn", "--store", str(store), "-f", "csv")
    assert code == 0
    code, direct, _ = run("skdn", str(register_csv), "-f", "csv")
    assert stored == direct
    code, stored, _ = run("skdn", "--store", str(store), "--list", "-f", "csv")
    code, direct, _ = run("skdn", str(register_csv), "--list", "-f", "csv")
    frames = [
        pd.read_csv(io.StringIO(text)).drop(columns="source_file") for text in (stored, direct)
    ]
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_no_store_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = run("skdn", "--store", str(tmp_path / "nothing"))
    assert code == 1 and out == "" and "kbtool: error: there is no measurement store" in err


def test_list_in_indonesian_names_an_unknown_group_in_indonesian(tmp_path: Path) -> None:
    """A BGM weighing at a row without a posyandu is listed under the unknown group, which the
    Indonesian list calls "(tidak diketahui)", as the Indonesian SKDN table does."""
    path = tmp_path / "no_posyandu.csv"
    path.write_text(
        "nik,sex,birth_date,visit_date,weight_kg,height_cm,posyandu,kelurahan\n"
        "3372010101200001,2,2023-01-05,2024-01-10,5.0,70.0,,Metro\n",
        encoding="utf-8",
    )
    args = ("skdn", str(path), "-f", "table", "--lang", "id")
    code, table, _ = run(*args, env={"COLUMNS": "250"})
    assert code == 0 and "(tidak diketahui)" in table
    code, listed, _ = run(*args, "--list", env={"COLUMNS": "250"})
    assert code == 0 and " ya " in listed  # BGM
    assert "(tidak diketahui)" in listed and "(unknown)" not in listed
