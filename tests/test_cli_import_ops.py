"""kbtool import as a cron job or a pipeline step runs it: options misused, waiting for another
import, failing with a machine-readable summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kbtool.cli import app

runner = CliRunner()

REGISTER = (
    "child_id,sex,birth_date,visit_date,weight_kg,height_cm,measure,kelurahan,posyandu\n"
    "1872031708230003,1,2023-01-01,2024-01-01,8,70,l,Mulyosari,Posyandu A\n"
    "1872031708230004,2,2023-02-01,2024-01-01,7.5,68,l,Mulyosari,Posyandu A\n"
)


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["import", "zscore", "prevalence", "quality"])
def test_sheet_with_a_csv_file_is_a_usage_error(tmp_path: Path, command: str) -> None:
    """--sheet names a workbook's sheet: with a CSV it was ignored, and import then knew the
    file as 'sha256#Sheet', so the same CSV imported without it was not 'already imported'."""
    register, store = tmp_path / "register.csv", tmp_path / "store"
    register.write_text(REGISTER)
    extra = ["--store", str(store)] if command == "import" else []
    code, out, err = run(command, str(register), "--sheet", "Data", *extra)
    assert code == 2, err
    assert out == ""
    assert "--sheet" in err and "register.csv" in err


def test_sheet_with_csv_on_stdin_is_a_usage_error(tmp_path: Path) -> None:
    """The same for a CSV read from standard input."""
    code, _, err = run("zscore", "-", "--sheet", "Data", stdin=REGISTER)
    assert code == 2, err
    assert "--sheet" in err
    code, _, err = run("import", "-", "--sheet", "Data", "--store", str(tmp_path / "s"),
                       stdin=REGISTER)  # fmt: skip
    assert code == 2, err
    assert "--sheet" in err
