"""--lang id: every terminal table and sentence writes numbers as Indonesian does (21,5; 1.672),
while machine formats keep plain numbers."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app

SAMPLES = Path(__file__).parents[1] / "data" / "samples"
REGISTER = str(SAMPLES / "posyandu_metro_2022_2024.csv")
# a decimal point between digits: English writing (tables group no thousands; sentences do, with
# a point before three digits)
POINT = re.compile(r"\d\.\d")
DECIMAL_POINT = re.compile(r"\d\.\d{1,2}\b")
COMMA = re.compile(r"\d,\d")

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["prevalence", REGISTER, "--by", "kecamatan"],
        ["prevalence", REGISTER, "--indicator", "all", "--by", "kecamatan"],
        ["quality", REGISTER],
        ["trend", REGISTER, "--target", "14.2@2029"],
        ["growth", REGISTER],
        ["skdn", REGISTER, "--by", "kelurahan"],
        ["compare", REGISTER, "--groups", str(SAMPLES / "kampung_kb.csv")],
        ["audit", str(SAMPLES / "eppgbm_metro_2024.csv")],
    ],
    ids=lambda args: "-".join(a for a in args if not a.startswith(("/", "-")) and "@" not in a),
)
def test_tables_and_messages_use_decimal_commas(args: list[str]) -> None:
    code, out, err = run(*args, "--format", "table", "--lang", "id")
    assert code == 0, err
    assert COMMA.search(out), out[:500]
    assert not POINT.search(out), [line for line in out.splitlines() if POINT.search(line)]
    assert not DECIMAL_POINT.search(err), err


def test_the_table_shows_the_csv_figures_with_a_comma() -> None:
    code, out, _ = run("prevalence", REGISTER, "--by", "kecamatan", "--format", "csv")
    assert code == 0
    figures = pd.read_csv(io.StringIO(out))
    total = figures[figures["kecamatan"] == "All"].iloc[-1]
    code, table, _ = run("prevalence", REGISTER, "--by", "kecamatan", "-f", "table", "--lang", "id")
    assert code == 0
    pct, low, high = (
        f"{total[c]:.1f}".replace(".", ",")
        for c in ("stunting_pct", "stunting_ci_low", "stunting_ci_high")
    )
    assert re.search(rf"\bSemua\b.*\b{pct}\s+{low}-{high}\b", table), table
    # machine formats keep their numbers whatever the language
    code, csv, _ = run("prevalence", REGISTER, "--by", "kecamatan", "-f", "csv", "--lang", "id")
    assert code == 0 and pd.read_csv(io.StringIO(csv))["stunting_pct"].equals(
        figures["stunting_pct"]
    )
