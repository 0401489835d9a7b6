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
    assert "poin persen lebih banyak di kelurahan Kampung KB" in err


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


def _programme(register: Path, tmp_path: Path, *rows: str) -> tuple[str, ...]:
    """compare's arguments for `register` with a groups file of `rows` (kelurahan,group,since)."""
    groups = tmp_path / "groups.csv"
    groups.write_text("kelurahan,group,since\n" + "".join(f"{row}\n" for row in rows))
    return (str(register), "-g", str(groups), "--draws", "199")


def _event_study(*args: str) -> pd.DataFrame:
    code, out, err = run("compare", *args, "--table", "event_study", "-f", "csv")
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


def test_event_study_with_one_programme_kelurahan_gives_no_interval(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """One programme kelurahan among 22: a cohort of one cluster adds nothing to the influence
    function (its deviations from its own mean sum to 0), so the event study's intervals were
    narrow (2.3 to 6.7 on the sample register, beside -40.4 to 58.3 for the difference in
    differences) and read as certainty. Inference with one treated cluster is not valid
    (Conley and Taber 2011; MacKinnon and Webb 2017): no interval, as the groups table gives a
    group of one kelurahan, and a note says why in both languages. The difference in differences
    keeps its bootstrap interval."""
    register, _ = files
    common = _programme(register, tmp_path, "Metro,Kampung KB,2023")
    events = _event_study(*common)
    after = events[events["event_time"] != -1]
    assert sorted(set(after["event_time"])) == [0, 1]
    assert after[["ci_low", "ci_high"]].isna().all().all()
    code, out, _ = run("compare", *common, "--table", "event_study", "-f", "json")
    assert code == 0
    assert all(row["ci_low"] is None for row in json.loads(out)["data"])
    code, out, _ = run("compare", *common, "-f", "csv")
    effects = pd.read_csv(io.StringIO(out))
    assert np.isfinite(effects[["ci_low", "ci_high"]].to_numpy()).all()
    notes = {
        "en": "event study, years 0, 1 since the start: one kelurahan only",
        "id": "studi peristiwa, tahun 0, 1 sejak mulai: hanya satu kelurahan",
    }
    for lang, note in notes.items():
        code, out, err = run("compare", *common, "-f", "table", "--lang", lang)
        assert code == 0
        assert note in err
        assert "already diverged" not in err and "supports" not in err


def test_event_study_with_two_or_three_kelurahan_is_unbounded(tmp_path: Path) -> None:
    """Two kelurahan in all (one in the programme) gave event-study intervals of zero width
    ('9.1 to 9.1'), three gave bounded ones beside an unbounded difference in differences.
    With 5 units or fewer the data bound no effect (the bootstrap's p is at least 2 / 2^units):
    every table, format and language says unbounded, with the note, never 'x to x' or 'inf'."""
    register = generate_register(900, years=(2022, 2023, 2024), seed=5)
    groups = tmp_path / "groups.csv"
    groups.write_text("kelurahan,group,since\nMetro,Kampung KB,2023\n")
    for units in (["Metro", "Imopuro"], ["Metro", "Imopuro", "Yosodadi"]):
        path = tmp_path / f"{len(units)}.csv"
        write_canonical_csv(register[register["kelurahan"].isin(units)], path)
        common = (str(path), "-g", str(groups))
        events = _event_study(*common)
        after = events[events["event_time"] != -1]
        assert len(after) == 4  # stunting and mean HAZ, years 0 and 1
        assert (after["ci_low"] == -np.inf).all() and (after["ci_high"] == np.inf).all()
        workbook = tmp_path / f"{len(units)}.xlsx"
        code, _, _ = run("compare", *common, "-o", str(workbook))
        assert code == 0
        # a workbook has no infinity: the ends are empty and the about sheet's notes say why
        sheet = pd.read_excel(workbook, sheet_name="event_study", engine="calamine")
        assert sheet[["ci_low", "ci_high"]].isna().all().all()
        about = pd.read_excel(workbook, sheet_name="about", engine="calamine", header=None)
        assert about[0].str.contains("so are the event study's", regex=False).any()
        for lang, word in (("en", "unbounded"), ("id", "tak terbatas")):
            # on an 80-column terminal, the interval column included
            result = runner.invoke(
                app, ["compare", *common, "-f", "table", "--lang", lang], env={"COLUMNS": "80"}
            )
            code, out, err = result.exit_code, result.stdout, result.stderr
            assert code == 0
            event_table = out[out.index("Event study" if lang == "en" else "Studi peristiwa") :]
            assert event_table.count(word) == 4
            assert not re.search(r"\binf\b", out + err)
            assert not re.search(r"(-?\d+[.,]\d+) (to|s\.d\.) \1\b", out)  # no zero width
            assert "supports" not in err and "mendukung" not in err


def test_staggered_cohorts_of_one_kelurahan_give_no_interval(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Two programme kelurahan among 22, starting in different years: every year of the event
    study, and Callaway & Sant'Anna's effect, rest on start cohorts of one kelurahan. Year -2
    (Banjarsari alone) had the interval 6.1 to 13.4 and the command warned that the groups
    already diverged before the start: a finding made of a zero variance. Now no interval, no
    p-value, no verdict on pre-trends, and the summary sentence says there is no interval."""
    register, _ = files
    common = _programme(register, tmp_path, "Metro,Kampung KB,2023", "Banjarsari,Kampung KB,2024")
    events = _event_study(*common)
    after = events[events["event_time"] != -1]
    assert sorted(set(after["event_time"])) == [-2, 0, 1]
    assert after[["ci_low", "ci_high"]].isna().all().all()
    code, out, err = run("compare", *common, "-f", "csv")
    effects = pd.read_csv(io.StringIO(out))
    staggered = effects[effects["estimator"] == "callaway_santanna"]
    assert staggered[["ci_low", "ci_high", "p_value"]].isna().all().all()
    assert staggered["did_pp"].notna().any() and staggered["p_randomization"].notna().all()
    twfe = effects[effects["estimator"] == "twfe"]
    assert np.isfinite(twfe[["ci_low", "ci_high"]].to_numpy()).all()
    assert "already diverged" not in err
    assert "year -2 before the start: no 95% interval bounds the effect" in err
    assert "(no 95% interval; randomization p" in err
    code, _, err = run("compare", *common, "-f", "table", "--lang", "id")
    assert code == 0
    assert "(tanpa interval 95%; p randomisasi" in err
    assert "sudah berbeda arah" not in err


def test_event_study_with_six_programme_kelurahan_is_unchanged(files: tuple[Path, Path]) -> None:
    """Six programme kelurahan (four from 2023, two from 2024) among 22: every cohort and its
    comparison has several kelurahan, so the event study keeps its intervals, the figures
    kbtool gave before the one-cluster and few-cluster rules (a1bcac8, --draws 199)."""
    register, groups = files
    events = _event_study(str(register), "-g", str(groups), "--draws", "199")
    before = {
        ("stunting", -2): (-3.074053039337344, 6.153446121670734),
        ("stunting", 0): (-12.733581635561677, 3.9910694192647993),
        ("stunting", 1): (-13.386861953756688, -1.5687773660917141),
        ("mean_haz", -2): (-0.1667454311631105, -0.03362194444537023),
        ("mean_haz", 0): (0.10150299502740354, 0.3681001134317081),
        ("mean_haz", 1): (0.11702348751893246, 0.34442677335000793),
    }
    after = events[events["event_time"] != -1]
    found = {
        (o, int(e)): (low, high)
        for o, e, low, high in after[["outcome", "event_time", "ci_low", "ci_high"]].itertuples(
            index=False
        )
    }
    assert found.keys() == before.keys()
    for key, ends in before.items():
        np.testing.assert_allclose(found[key], ends, rtol=1e-9)  # the same arithmetic


def test_indonesian_outcomes_and_notes_say_poin(files: tuple[Path, Path]) -> None:
    """--lang id named the indicator outcomes "(pp)" in the tables and notes: Indonesian
    labels say "(poin)" (an 80-column table keeps its interval column) and sentences "poin
    persen"."""
    register, groups = files
    args = ("compare", str(register), "-g", str(groups), "--draws", "199", "-f", "table")
    code, out, err = run(*args, "--lang", "id")
    assert code == 0, err
    assert "(pp)" not in out + err
    assert "(poin)" in out and "poin persen lebih banyak" in err
    code, out, err = run(*args)
    assert code == 0, err
    assert "(pp)" in out and "points more" in err
