"""`kbtool compare` through the CLI: output formats, the summary, bad inputs."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.compare import EFFECT_COLUMNS, EVENT_COLUMNS, compare_groups, read_groups
from kbtool.measurements import measurements_from_files
from tests.synthetic import generate_register, write_canonical_csv

runner = CliRunner()
# Kampung KB in six kelurahan: four from 2023, two from 2024
STARTS = {
    "Banjarsari": 2023,
    "Margodadi": 2023,
    "Purwoasri": 2023,
    "Yosodadi": 2023,
    "Metro": 2024,
    "Mulyosari": 2024,
}
GROUPS = "kelurahan,group,since\n" + "".join(f"{k},Kampung KB,{y}\n" for k, y in STARTS.items())


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A register of 1,200 children, 2022-2024, with HAZ 0.3 z higher in the programme's
    kelurahan from their start, and its groups file."""
    folder = tmp_path_factory.mktemp("compare")
    register = generate_register(
        1200, years=(2022, 2023, 2024), seed=11, programme=STARTS, programme_haz=0.3
    )
    write_canonical_csv(register, folder / "register.csv")
    (folder / "groups.csv").write_text(GROUPS, encoding="utf-8")
    return folder / "register.csv", folder / "groups.csv"


def test_cli_equals_library(files: tuple[Path, Path]) -> None:
    register, groups = files
    code, out, err = run("compare", str(register), "--groups", str(groups), "-f", "csv")
    assert code == 0, err
    cli = pd.read_csv(io.StringIO(out))
    frame = measurements_from_files([register]).frame
    library = compare_groups([frame], read_groups(groups)).effects
    assert list(cli.columns) == list(EFFECT_COLUMNS)
    assert cli["estimator"].tolist() == library["estimator"].tolist()
    for column in ("did_pp", "did_z", "ci_low", "ci_high", "p_value", "p_randomization"):
        pd.testing.assert_series_equal(cli[column], library[column], check_names=False)
    assert "Stunting fell" in err and "of 22 kelurahan" in err


def test_tables_in_machine_formats(files: tuple[Path, Path], tmp_path: Path) -> None:
    register, groups = files
    common = (str(register), "--groups", str(groups), "--draws", "199")
    code, out, _ = run("compare", *common, "--table", "event_study", "-f", "json")
    assert code == 0
    document = json.loads(out)
    assert document["meta"]["command"] == "compare"
    assert list(document["data"][0]) == list(EVENT_COLUMNS)
    assert [row["event_time"] for row in document["data"][:4]] == [-2, -1, 0, 1]
    workbook = tmp_path / "compare.xlsx"
    code, _, _ = run("compare", *common, "--table", "groups", "-o", str(workbook))
    assert code == 0
    sheets = load_workbook(workbook, read_only=True).sheetnames
    assert sheets[:3] == ["data", "effects", "event_study"]
    groups_table = pd.read_excel(workbook, sheet_name="data", engine="calamine")
    assert groups_table["group"].tolist() == ["Kampung KB", "others"] * 3


def test_terminal_tables_and_indonesian(files: tuple[Path, Path]) -> None:
    register, groups = files
    args = ("compare", str(register), "-g", str(groups), "--draws", "199", "-f", "table")
    code, out, err = run(*args, "--lang", "id")
    assert code == 0
    assert "Prevalensi per kelompok" in out and "Studi peristiwa" in out
    assert "poin lebih banyak di kelurahan Kampung KB" in err


def test_without_since_only_the_groups(files: tuple[Path, Path], tmp_path: Path) -> None:
    register, _ = files
    groups = tmp_path / "groups.csv"
    groups.write_text("Kelurahan,Kelompok\nBanjarsari,Kampung KB\nMetro,Kampung KB\n")
    code, out, err = run("compare", str(register), "-g", str(groups), "-f", "csv")
    assert code == 0
    assert out.strip() == ",".join(EFFECT_COLUMNS)
    assert "no since column" in err
    code, out, _ = run("compare", str(register), "-g", str(groups), "--table", "groups")
    assert code == 0 and len(pd.read_csv(io.StringIO(out))) == 6


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ("kelurahan,group,since\nSukarame,KB,2023\n", "none of its 1 kelurahan is in the data"),
        ("kelurahan,group,since\nMetro,KB,2025\n", "since lies outside what the data can"),
        ("kelurahan,group,since\nMetro,KB,2022\n", "needs a year of data before it"),
        ("kelurahan,program,tahun\nMetro,KB,2023\n", "columns kbtool does not know: 'tahun'"),
    ],
)
def test_bad_groups_file(
    files: tuple[Path, Path], tmp_path: Path, groups: str, message: str
) -> None:
    register, _ = files
    path = tmp_path / "groups.csv"
    path.write_text(groups, encoding="utf-8")
    code, out, err = run("compare", str(register), "--groups", str(path), "-f", "csv")
    assert code == 1
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("kbtool: error:") and message in last
    assert "Traceback" not in err


def test_one_unit_only(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, groups = files
    one = generate_register(300, years=(2022, 2023), seed=5)
    one = one[one["kelurahan"] == "Metro"]
    write_canonical_csv(one, tmp_path / "metro.csv")
    code, _, err = run("compare", str(tmp_path / "metro.csv"), "--groups", str(groups))
    assert code == 1
    assert "the data holds 1 kelurahan (Metro)" in err


def test_groups_option_is_required(files: tuple[Path, Path]) -> None:
    register, _ = files
    code, _, err = run("compare", str(register))
    assert code == 2
    assert "--groups" in err


def test_two_units_over_two_years_is_one_clear_error(tmp_path: Path) -> None:
    """The smallest difference in differences, one programme kelurahan and one other over two
    years, has as many unit-years as the regression has parameters (constant, two units, a
    year, the effect): nothing is left for an interval or a p-value. compare says so and what
    to do, not a traceback."""
    register = generate_register(400, years=(2023, 2024), seed=5)
    two, groups = tmp_path / "two.csv", tmp_path / "groups.csv"
    write_canonical_csv(register[register["kelurahan"].isin(["Metro", "Imopuro"])], two)
    groups.write_text("kelurahan,group,since\nMetro,Kampung KB,2024\n")
    code, out, err = run("compare", str(two), "--groups", str(groups))
    assert code == 1 and out == ""
    assert "Traceback" not in err and "internal error" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("kbtool: error:") and "2 kelurahan" in last and "2 years" in last


def test_three_kelurahan_show_no_interval_as_if_it_meant_something(tmp_path: Path) -> None:
    """Three kelurahan, one in the programme: the bootstrap rejects no effect at 5% (p >= 2/8
    whatever effect is tried), so the interval is unbounded. The terminal, the summary and the
    Indonesian output must say so, not print '-70352.8 to inf' as a 95% interval; machine
    formats keep the unbounded ends."""
    register = generate_register(900, years=(2022, 2023, 2024), seed=5)
    three, groups = tmp_path / "three.csv", tmp_path / "groups.csv"
    kept = register["kelurahan"].isin(["Metro", "Imopuro", "Yosodadi"])
    write_canonical_csv(register[kept], three)
    groups.write_text("kelurahan,group,since\nMetro,Kampung KB,2023\n")
    code, out, _ = run("compare", str(three), "-g", str(groups), "-f", "csv")
    assert code == 0
    effects = pd.read_csv(io.StringIO(out))
    assert (effects["ci_low"] == -np.inf).all() and (effects["ci_high"] == np.inf).all()
    for lang, unbounded in (("en", "95% CI unbounded"), ("id", "IK 95% tak terbatas")):
        args = ("compare", str(three), "-g", str(groups), "-f", "table", "--lang", lang)
        code, out, err = run(*args)
        assert code == 0
        assert not re.search(r"\binf\b", out + err)
        assert unbounded in err  # the summary sentence
        assert ("interval is unbounded" if lang == "en" else "interval 95% tak terbatas") in err


def test_one_unit_groups_show_no_zero_width_interval(tmp_path: Path) -> None:
    """One programme kelurahan and one other over three years: each group is one cluster, and
    its interval was '33.0-33.0'. The table leaves it empty and a note says why, in Indonesian
    with the others called 'lainnya'."""
    register = generate_register(600, years=(2022, 2023, 2024), seed=5)
    two, groups = tmp_path / "two.csv", tmp_path / "groups.csv"
    write_canonical_csv(register[register["kelurahan"].isin(["Metro", "Imopuro"])], two)
    groups.write_text("kelurahan,group,since\nMetro,Kampung KB,2023\n")
    code, out, _ = run("compare", str(two), "-g", str(groups), "--table", "groups", "-f", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert table[["stunting_ci_low", "stunting_ci_high"]].isna().all().all()
    code, out, err = run("compare", str(two), "-g", str(groups), "-f", "table", "--lang", "id")
    assert code == 0
    assert "lainnya (2022, 2023, 2024): hanya satu kelurahan" in err
    assert "Kampung KB (2022, 2023, 2024): hanya satu kelurahan" in err
