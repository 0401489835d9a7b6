"""`kbtool growth` through the CLI: exit codes, stdout and stderr apart, every format, Indonesian
and the store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.dynamics import GROWTH_COLUMNS, compute_growth
from kbtool.measurements import measurements_from_files
from tests.synthetic import generate_register, write_canonical_csv

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def register_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("growth") / "register.csv"
    write_canonical_csv(generate_register(150, years=(2023, 2024), seed=1516), path)
    return path


def test_cli_equals_library(register_csv: Path) -> None:
    code, out, err = run("growth", str(register_csv), "-f", "csv")
    assert code == 0, err
    assert "rows read" in err
    cli = pd.read_csv(io.StringIO(out))
    library = compute_growth(measurements_from_files([register_csv]).frame)
    assert list(cli.columns) == ["year", "kelurahan", *GROWTH_COLUMNS]
    pd.testing.assert_frame_equal(cli, library, check_dtype=False)
    assert cli.groupby("year")["kelurahan"].last().eq("All").all()  # the area after its groups


def test_every_format_and_indonesian(register_csv: Path, tmp_path: Path) -> None:
    args = ("growth", str(register_csv), "--by", "kecamatan")
    code, csv_text, _ = run(*args, "-f", "csv")
    expected = pd.read_csv(io.StringIO(csv_text))
    code, out, _ = run(*args, "-f", "jsonl")
    assert [json.loads(line)["onsets"] for line in out.splitlines()] == expected["onsets"].tolist()
    code, out, _ = run(*args, "-f", "json")
    document = json.loads(out)
    assert document["meta"]["command"] == "growth"
    assert any("Benjamin-Chung" in note for note in document["meta"]["notes"])
    for suffix in ("parquet", "xlsx"):
        target = tmp_path / f"growth.{suffix}"
        assert run(*args, "-o", str(target))[0] == 0
    assert pd.read_parquet(tmp_path / "growth.parquet")["at_risk"].tolist() == (
        expected["at_risk"].tolist()
    )
    sheets = pd.read_excel(tmp_path / "growth.xlsx", sheet_name=None, engine="openpyxl")
    assert sheets["data"]["recoveries"].tolist() == expected["recoveries"].tolist()
    code, out, err = run(*args, "-f", "table", "--lang", "id", env={"COLUMNS": "250"})
    assert code == 0
    assert "Kejadian dan pemulihan stunting" in out and "Insidensi %" in out and "Semua" in out
    assert " s.d. " in out and " to " not in out
    assert "baris dibaca" in err


def test_store_gives_the_same_figures_as_the_file(register_csv: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert run("import", str(register_csv), "--store", str(store))[0] == 0
    code, stored, _ = run("growth", "--store", str(store), "--by", "posyandu", "-f", "csv")
    assert code == 0
    direct = run("growth", str(register_csv), "--by", "posyandu", "-f", "csv")[1]
    # counts exactly; the mean velocities are sums in another order: equal to ~1e-15
    pd.testing.assert_frame_equal(
        pd.read_csv(io.StringIO(stored)), pd.read_csv(io.StringIO(direct)), rtol=1e-12
    )


def test_bad_options() -> None:
    code, out, err = run("growth", "--by", "rt")
    assert code == 2 and out == "" and "rt" in err
    code, out, err = run("growth", "--rejects", "r.csv")
    assert code == 2 and "applies to INPUT files" in err


def test_a_register_without_heights_is_said_not_an_empty_table(
    register_csv: Path, tmp_path: Path
) -> None:
    """A monthly weighing register with no height (posyandu often measure length only in the
    bulan timbang) has no HAZ to follow: growth must say so and exit 1, not print a table
    with no row and exit 0 as if no child had become stunted."""
    frame = pd.read_csv(register_csv, dtype=str, keep_default_na=False)
    frame["height_cm"] = ""
    weights_only = tmp_path / "weights.csv"
    frame.to_csv(weights_only, index=False)
    code, out, err = run("growth", str(weights_only), "-f", "csv")
    assert code == 1 and out == ""
    assert f"none of the {len(frame):,} measurements has a valid HAZ" in err
