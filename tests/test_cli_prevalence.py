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


def test_every_indicator_and_the_cluster_design_through_the_cli() -> None:
    """--indicator all --cluster posyandu through the CLI: WHO's figures for the whole area
    (the reference's "All" rows of each indicator, cluster design, all months)."""
    visits = WHO_DATA / "posyandu_visits.csv"
    args = ["prevalence", str(visits), "--indicator", "all", "--cluster", "posyandu"]
    code, out, err = run(*args, "--by", "year", "--min-n", "0", "-f", "csv")
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    want = pd.read_csv(WHO_DATA / "prevalence_indicators_expected.csv", dtype={"months": str})
    want = want[
        (want["design"] == "cluster=posyandu")
        & (want["months"] == "all")
        & (want["group"] == "All")
    ]
    codes = {"stunting": "HA", "underweight": "WA", "wasting": "WH", "bmi_overweight": "BMI"}
    for name, who in codes.items():
        ours = got[got["indicator"] == name].set_index("year")
        theirs = want[want["indicator"] == who].set_index("year")
        assert (ours["n"] == theirs["n"]).all()
        assert np.allclose(ours["pct"], theirs["below2" if who != "BMI" else "above2"], atol=1e-6)
        upper = theirs["below2_ul" if who != "BMI" else "above2_ul"]
        assert np.allclose(ours["ci_high"], upper, atol=1e-6)


@pytest.mark.parametrize("indicator", ["wasting", "all"])
def test_store_and_file_agree_for_every_indicator_and_design(
    tmp_path: Path, indicator: str
) -> None:
    store = tmp_path / "store"
    assert run("import", str(CANONICAL), "--store", str(store))[0] == 0
    args = ["--indicator", indicator, "--cluster", "posyandu", "--strata", "kecamatan"]
    args += ["--by", "kelurahan,sex", "--months", "2,8", "-f", "csv"]
    code, stored, err = run("prevalence", "--store", str(store), *args)
    assert code == 0, err
    code, direct, _ = run("prevalence", str(CANONICAL), *args)
    from_store, from_file = pd.read_csv(io.StringIO(stored)), pd.read_csv(io.StringIO(direct))
    assert list(from_store.columns) == list(from_file.columns)
    numbers = from_store.select_dtypes("number").columns
    assert from_store.drop(columns=numbers).equals(from_file.drop(columns=numbers))
    assert np.allclose(from_store[numbers], from_file[numbers], atol=1e-9, equal_nan=True)


def test_weights_from_a_column_of_the_file(tmp_path: Path) -> None:
    """--weights names a column the register has beyond kbtool's own (read from the file);
    weights of 1 give the unweighted figures."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    frame["Bobot"] = "1"
    weighted = tmp_path / "weighted.csv"
    frame.to_csv(weighted, index=False)
    code, out, err = run("prevalence", str(weighted), "--weights", "bobot", "-f", "csv")
    assert code == 0, err
    code, plain, _ = run("prevalence", str(CANONICAL), "-f", "csv")
    ours, unweighted = pd.read_csv(io.StringIO(out)), pd.read_csv(io.StringIO(plain))
    assert np.allclose(
        ours.select_dtypes("number"), unweighted.select_dtypes("number"), equal_nan=True
    )


def test_indonesian_table_uses_the_report_names() -> None:
    code, out, _ = run(
        "prevalence",
        str(EPPGBM),
        "--indicator",
        "wasting,overweight",
        "-f",
        "table",
        "--lang",
        "id",
    )
    assert code == 0
    # SSGI's names: each indicator holds the moderate and the severe Permenkes category
    assert "wasting (BB/TB < -2 SD)" in out and "overweight (BB/TB > +2 SD)" in out
    assert "gizi kurang" not in out.lower() and "gizi lebih" not in out.lower()
    code, out, _ = run("prevalence", str(EPPGBM), "--indicator", "underweight", "-f", "table")
    assert code == 0 and "Underweight" in out


def _with_column(tmp_path: Path, name: str, values: list[str]) -> Path:
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False).head(len(values))
    frame[name] = values
    path = tmp_path / "register.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "column", "code", "message"),
    [
        (["--indicator", "stunted"], None, 2, "stunted: choose from stunting, underweight"),
        (["--cluster", "klaster"], None, 1, "no column 'klaster'"),
        (["--cluster", "klaster"], ["A", "", "B", "B"], 1, "--cluster/--strata klaster: 1 counted"),
        (["--weights", "bobot"], ["1", "-2", "1", "1"], 1, "--weights bobot: 1 counted"),
        (["--weights", "bobot"], ["1", "dua", "1", "1"], 1, "'dua'"),
    ],
)
def test_bad_design_input_is_one_clear_line(
    tmp_path: Path, args: list[str], column: list[str] | None, code: int, message: str
) -> None:
    name = args[1] if column else "unused"
    register = _with_column(tmp_path, name, column or ["x"] * 4)
    got, out, err = run("prevalence", str(register), "--min-n", "0", *args)
    assert got == code and out == ""
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line.lower()]) == 1


def test_store_design_columns_are_its_own(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert run("import", str(CANONICAL), "--store", str(store))[0] == 0
    code, out, err = run("prevalence", "--store", str(store), "--weights", "bobot")
    assert code == 2 and out == ""
    assert "the store keeps no column 'bobot'" in err


def test_store_files_lacking_a_column_give_one_clear_message(tmp_path: Path) -> None:
    """A store file written without WAZ (as an older kbtool might have) is named, with the
    command that rebuilds the store; indicators whose columns it holds still read."""
    import pyarrow.parquet as pq

    store = tmp_path / "store"
    assert run("import", str(CANONICAL), "--store", str(store))[0] == 0
    part = sorted((store / "measurements").rglob("*.parquet"))[0]
    old = pq.read_table(part)
    pq.write_table(old.drop_columns(["waz", "waz_flag", "waz_status"]), part)
    code, out, err = run("prevalence", "--store", str(store), "--indicator", "underweight")
    assert code == 1 and out == ""
    assert "lacks waz" in err and "kbtool import" in err and "Traceback" not in err
    code, _, err = run("prevalence", "--store", str(store), "--indicator", "stunting")
    assert code == 0, err


def test_cluster_design_with_no_counted_child_is_not_an_internal_error(tmp_path: Path) -> None:
    """--cluster changes the intervals only: a register with no child to count (a header, or
    visits without a height) gives the same rows as without it, not a traceback."""
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False).head(6)
    header_only = tmp_path / "header.csv"
    frame.head(0).to_csv(header_only, index=False)
    no_height = tmp_path / "no_height.csv"
    frame.assign(height_cm="").to_csv(no_height, index=False)
    for register in (header_only, no_height):
        code, plain, _ = run("prevalence", str(register), "-f", "csv")
        assert code == 0
        code, out, err = run("prevalence", str(register), "--cluster", "posyandu", "-f", "csv")
        assert code == 0, err
        assert out == plain


def test_rows_without_any_child_identifier_are_said_to_count_as_children(tmp_path: Path) -> None:
    """A register without NIK or names (as `kbtool zscore`'s output, which withholds them, read
    by `kbtool prevalence -`) cannot tell one child's visits apart from another's: each row is
    then a child. Import says so; an analysis of the file must say so too, as its n otherwise
    silently counts measurements as children."""
    register = tmp_path / "no_ids.csv"
    register.write_text(
        "sex,birth_date,visit_date,weight_kg,height_cm,kelurahan\n"
        "1,2023-01-10,2024-02-05,9.1,75.0,Yosodadi\n"
        "1,2023-01-10,2024-08-05,10.0,79.5,Yosodadi\n"
        "2,2022-06-01,2024-08-07,11.0,84.0,Yosodadi\n"
    )
    code, out, err = run("prevalence", str(register), "--by", "year", "--min-n", "0", "-f", "csv")
    assert code == 0
    assert "3 measurements" in err and "each counted as a child" in err
    assert pd.read_csv(io.StringIO(out))["n"].tolist() == [3]  # as the warning says
    code, _, err_id = run("prevalence", str(register), "--lang", "id", "-f", "csv")
    assert code == 0 and "3 pengukuran" in err_id and "anak tersendiri" in err_id
    named = tmp_path / "named.csv"
    named.write_text(
        register.read_text()
        .replace("sex,", "child_id,sex,", 1)
        .replace("\n1,", "\n3171010101230001,1,")
        .replace("\n2,", "\n3171014106220002,2,")
    )
    code, _, err_named = run("prevalence", str(named), "-f", "csv")
    assert code == 0 and "each counted as a child" not in err_named
