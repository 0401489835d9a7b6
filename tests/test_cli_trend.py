"""`kbtool trend` through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.measurements import measurements_from_files
from kbtool.prevalence import compute_prevalence
from kbtool.store.open import create_or_open
from kbtool.trend import Target, compute_trend

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
ONE_YEAR = SAMPLES / "eppgbm_metro_2024.csv"

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_equals_library() -> None:
    code, out, err = run("trend", str(CANONICAL), "--target", "14@2024", "-t", "14.2@2029")
    assert code == 0, err
    cli = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    frame = measurements_from_files([CANONICAL]).frame
    library = compute_trend(
        compute_prevalence(frame, total=True, child_key="child_key"),
        [Target(14, 2024), Target(14.2, 2029)],
    )
    assert list(cli.columns) == list(library.columns)
    assert cli["kelurahan"].tolist() == library["kelurahan"].tolist()
    for column in library.columns:
        if library[column].dtype.kind in "fiu" or str(library[column].dtype) == "Int64":
            assert np.allclose(
                cli[column].to_numpy(float), library[column].to_numpy(float, na_value=np.nan),
                equal_nan=True, rtol=1e-12,
            ), column  # fmt: skip
        else:
            assert cli[column].fillna("").tolist() == library[column].tolist(), column


def test_yearly_figures_are_those_of_kbtool_prevalence() -> None:
    code, out, _ = run("trend", str(CANONICAL), "--by", "kecamatan", "-f", "csv")
    assert code == 0
    trend = {r["kecamatan"]: r for r in pd.read_csv(io.StringIO(out)).to_dict("records")}
    code, out, _ = run("prevalence", str(CANONICAL), "--by", "kecamatan", "-f", "csv")
    assert code == 0
    for row in pd.read_csv(io.StringIO(out)).to_dict("records"):
        assert trend[row["kecamatan"]][f"pct_{row['year']}"] == row["stunting_pct"]
        assert trend[row["kecamatan"]][f"n_{row['year']}"] == row["n"]


def test_indicators_come_in_the_order_asked_as_in_prevalence() -> None:
    asked = ["underweight", "stunting"]
    code, out, err = run("trend", str(CANONICAL), "-i", ",".join(asked), "--by", "kecamatan")
    assert code == 0, err
    trend = pd.read_csv(io.StringIO(out))
    for _, rows in trend.groupby("kecamatan", sort=False):
        assert rows["indicator"].tolist() == asked


def test_one_year_gives_insufficient_data() -> None:
    code, out, _ = run("trend", str(ONE_YEAR), "-f", "csv")
    assert code == 0
    trend = pd.read_csv(io.StringIO(out), keep_default_na=False)
    area = trend[trend["kelurahan"] == "All"].iloc[0]
    assert area["status"] == "insufficient data"
    assert area["aarr"] == ""
    assert [c for c in trend.columns if c.startswith("pct_")] == ["pct_2024"]


def test_indonesian_and_json_meta() -> None:
    code, out, err = run("trend", str(CANONICAL), "--lang", "id", "-f", "json")
    assert code == 0
    document = json.loads(out)
    statuses = {record["status"] for record in document["data"]}
    assert statuses <= {"sesuai jalur", "tidak sesuai jalur", "data kurang"}
    assert document["meta"]["options"]["targets"] == ["14.2@2029"]
    assert any("Global Nutrition Targets" in note for note in document["meta"]["notes"])
    assert "baris dibaca" in err


def test_a_bad_target_is_a_usage_error() -> None:
    code, out, err = run("trend", str(CANONICAL), "--target", "14.2")
    assert code == 2
    assert out == ""
    assert "14.2@2029" in err


def test_an_empty_store_is_one_clear_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    create_or_open(store)
    code, out, err = run("trend", "--store", str(store))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"kbtool: error: no trend to follow: the store {store} holds no measurement; add "
        "registers with kbtool import FILE"
    ]


def test_months_without_measurements_is_one_clear_error(tmp_path: Path) -> None:
    register = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    august = tmp_path / "august.csv"
    register[register["visit_date"].str[5:7] == "08"].to_csv(august, index=False)
    code, out, err = run("trend", str(august), "--months", "2")
    assert code == 1
    assert out == ""
    assert "no trend to follow: no measurement in the years and months asked" in err
    assert "Traceback" not in err and "internal error" not in err


def test_indonesian_table_heads_the_change_poin_persen() -> None:
    """The change in percentage points was headed "Perubahan pp" in Indonesian, where the
    report says "poin": "poin persen" is how Indonesian writes percentage points."""
    result = CliRunner().invoke(
        app, ["trend", str(CANONICAL), "--lang", "id", "-f", "table"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.stderr
    assert "Perubahan (poin persen)" in result.stdout and " pp" not in result.stdout
