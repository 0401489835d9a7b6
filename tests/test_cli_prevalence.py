"""`kbtool prevalence` (and `import`/`sources`) through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.measurements import measurements_from_files
from kbtool.prevalence import compute_prevalence
from tests.conftest import WHO_DATA

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
EPPGBM = SAMPLES / "eppgbm_metro_2024.csv"
GOLDEN = Path(__file__).parent / "golden"

runner = CliRunner()


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_who_parity_through_the_cli() -> None:
    """Per kelurahan and year, and the All rows: counts exact, figures within 1e-6 of R anthro
    (the expected file prints 15 significant digits; observed differences are ~1e-13)."""
    visits = WHO_DATA / "posyandu_visits.csv"
    code, out, _ = run("prevalence", str(visits), "--min-n", "0", "-f", "csv")
    assert code == 0
    got = pd.read_csv(io.StringIO(out)).rename(columns={"kelurahan": "group"})
    want = pd.read_csv(WHO_DATA / "prevalence_expected.csv")
    got = got.rename(columns={c: f"ours_{c}" for c in got.columns if c not in ("year", "group")})
    merged = want.merge(got, on=["year", "group"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", "group"]
    assert (merged["n"] == merged["ours_n"]).all()
    pairs = {
        "prevalence": "stunting_pct",
        "ci_low": "stunting_ci_low",
        "ci_high": "stunting_ci_high",
        "severe_prevalence": "severe_pct",
        "severe_ci_low": "severe_ci_low",
        "severe_ci_high": "severe_ci_high",
        "mean_haz": "mean_haz",
        "sd_haz": "sd_haz",
    }
    for who, ours in pairs.items():
        assert np.allclose(merged[f"ours_{ours}"], merged[who], atol=1e-6, rtol=0), who


def test_cli_equals_library() -> None:
    code, out, _ = run("prevalence", str(EPPGBM), "-f", "csv")
    assert code == 0
    cli = pd.read_csv(io.StringIO(out))
    frame = measurements_from_files([EPPGBM]).frame
    library = compute_prevalence(frame, total=True, child_key="child_key")
    assert list(cli.columns) == list(library.columns)
    assert cli["n"].tolist() == library["n"].tolist()
    assert np.allclose(cli["stunting_pct"], library["stunting_pct"], equal_nan=True)


def test_columns_and_order() -> None:
    code, out, _ = run(
        "prevalence", str(EPPGBM), "--by", "kecamatan,sex", "--period", "quarter", "-f", "csv"
    )
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header == [
        "period",
        "kecamatan",
        "sex",
        "n",
        "stunted",
        "stunting_pct",
        "stunting_ci_low",
        "stunting_ci_high",
        "severe",
        "severe_pct",
        "severe_ci_low",
        "severe_ci_high",
        "mean_haz",
        "sd_haz",
        "excluded",
        "note",
    ]
    frame = pd.read_csv(io.StringIO(out))
    assert set(frame["period"]) <= {"2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"}


def test_golden_formats(tmp_path: Path) -> None:
    """Whole-area figures per year of the bundled sample, in every machine format."""
    args = ("prevalence", str(CANONICAL), "--by", "year")
    code, out, _ = run(*args, "-f", "csv")
    assert code == 0
    assert out == (GOLDEN / "prevalence_by_year.csv").read_text()
    golden = pd.read_csv(GOLDEN / "prevalence_by_year.csv")
    code, out, _ = run(*args, "-f", "jsonl")
    assert code == 0
    assert out == (GOLDEN / "prevalence_by_year.jsonl").read_text()
    code, out, _ = run(*args, "-f", "json")
    document = json.loads(out)
    assert document["meta"]["command"] == "prevalence"
    assert any("selection" in note for note in document["meta"]["notes"])
    assert pd.DataFrame(document["data"])["n"].tolist() == golden["n"].tolist()
    target = tmp_path / "p.parquet"
    assert run(*args, "-o", str(target))[0] == 0
    assert pd.read_parquet(target)["n"].tolist() == golden["n"].tolist()
    workbook = tmp_path / "p.xlsx"
    assert run(*args, "-o", str(workbook))[0] == 0
    sheets = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["data", "method", "about"]
    assert sheets["data"]["n"].tolist() == golden["n"].tolist()
    assert "selection" in " ".join(sheets["method"]["value"].fillna("").astype(str))


def test_suppression_and_table_view() -> None:
    code, out, _ = run("prevalence", str(EPPGBM), "--by", "posyandu", "-f", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    small = frame[frame["n"] < 25]
    assert len(small) and small["stunting_pct"].isna().all()
    assert small["note"].str.contains("suppressed").all()
    wide = runner.invoke(
        app, ["prevalence", str(EPPGBM), "-f", "table", "--lang", "id"], env={"COLUMNS": "200"}
    )
    code, out = wide.exit_code, wide.stdout
    assert code == 0
    assert "Kelurahan" in out and "Semua" in out and "Rerata z" in out


def test_pipe_from_stdin() -> None:
    code, out, _ = run("prevalence", "-", "--by", "year", "-f", "csv", stdin=CANONICAL.read_bytes())
    assert code == 0
    assert out == (GOLDEN / "prevalence_by_year.csv").read_text()


def test_store_gives_the_same_figures_as_the_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, _, err = run("import", str(CANONICAL), "--store", str(store))
    assert code == 0, err
    code, out, _ = run("prevalence", "--store", str(store), "-f", "csv")
    assert code == 0
    code, direct, _ = run("prevalence", str(CANONICAL), "-f", "csv")
    from_store, from_file = pd.read_csv(io.StringIO(out)), pd.read_csv(io.StringIO(direct))
    assert from_store[["year", "kelurahan", "n", "stunted", "severe", "excluded"]].equals(
        from_file[["year", "kelurahan", "n", "stunted", "severe", "excluded"]]
    )
    # rows are summed in another order (the store is partitioned): float noise only
    assert np.allclose(from_store["mean_haz"], from_file["mean_haz"], atol=1e-12, rtol=0)
    code, listing, _ = run("sources", "--store", str(store), "-f", "csv")
    sources = pd.read_csv(io.StringIO(listing))
    assert sources["file"].tolist() == [CANONICAL.name]
    assert sources["rows_read"].tolist() == [
        sources["rows_stored"].iloc[0]
        + sources["rows_duplicate"].iloc[0]
        + sources["rows_rejected"].iloc[0]
    ]


def test_import_is_idempotent_and_reports(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, out, err = run("import", str(EPPGBM), "--store", store, "--json-summary")
    assert code == 0
    summary = json.loads(out)
    assert (
        summary["rows_read"]
        == summary["rows_stored"] + summary["rows_duplicate"] + summary["rows_rejected"]
    )
    code, out, err = run("import", str(EPPGBM), "--store", store)
    assert code == 0
    assert "already imported" in err


def test_import_all_rejected_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("JK,Tgl Lahir,Tanggal Pengukuran,Tinggi\nL,01/01/2023,01/01/2024,-5\n")
    code, _, err = run("import", str(bad), "--store", str(tmp_path / "store"))
    assert code == 1
    assert "rejected" in err


def test_prevalence_without_store_is_one_clear_error(tmp_path: Path) -> None:
    code, out, err = run("prevalence", "--store", str(tmp_path / "nothing"))
    assert code == 1
    assert out == "" and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "village"], "--by"),
        (["--period", "week"], "--period"),
        (["--months", "2,13"], "--months"),
        (["--min-n", "-1"], "min-n"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    code, out, err = run("prevalence", str(EPPGBM), *args)
    assert code == 2
    assert message in err and out == ""
