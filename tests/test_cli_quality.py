"""`kbtool quality` through the CLI: machine output equals the library, golden files per format,
the store equals the files, --fail-on for cron, usage errors exit 2."""

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
from kbtool.quality import TABLE_COLUMNS, columns_needed, quality_report
from kbtool.views.quality import table_view
from tests.synthetic import generate_register, inject_defects, write_canonical_csv

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
CANONICAL = SAMPLES / "posyandu_metro_2022_2024.csv"
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_ARGS = ("quality", str(CANONICAL), "--by", "kecamatan")
# figures summed in another row order (another run's child keys, the store's partitions) agree
# to float noise: sums of ~35,000 terms of size ~1 differ by a few ulp, far below 1e-9
FLOAT_NOISE = 1e-9

runner = CliRunner()


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, rows, counts, labels and ratings; figures equal up to float noise."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for name in want.columns:
        left, right = got[name], want[name]
        if pd.api.types.is_numeric_dtype(right) and pd.api.types.is_numeric_dtype(left):
            a = left.to_numpy(dtype=np.float64, na_value=np.nan)
            b = right.to_numpy(dtype=np.float64, na_value=np.nan)
            assert np.allclose(a, b, rtol=FLOAT_NOISE, atol=FLOAT_NOISE, equal_nan=True), name
        else:
            assert left.astype(object).fillna("").astype(str).tolist() == (
                right.astype(object).fillna("").astype(str).tolist()
            ), name


# --- generated registers: clean, and with one known defect ------------------------------------


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """About 3,000 children measured through 2023 (~17,000 visits) as canonical CSV: clean, and
    with half the children of Metro Barat given copied heights (last month's value carried)."""
    folder = tmp_path_factory.mktemp("registers")
    register = generate_register(3000, years=(2023,), seed=20240805)
    clean = folder / "clean.csv"
    write_canonical_csv(register, clean)
    inside = (register["kecamatan"] == "Metro Barat").to_numpy()
    damaged, changed = inject_defects(register[inside], "copied_heights", share=0.5, seed=3)
    assert changed.any()
    copied = folder / "copied.csv"
    write_canonical_csv(pd.concat([register[~inside], damaged]).sort_index(), copied)
    return {"clean": clean, "copied": copied}


def test_fail_on_problematic_exits_1_naming_the_group(registers: dict[str, Path]) -> None:
    code, out, err = run(
        "quality", str(registers["copied"]), "--by", "kecamatan", "-f", "csv",
        "--fail-on", "problematic",
    )  # fmt: skip
    assert code == 1
    table = pd.read_csv(io.StringIO(out))  # the output is written before failing
    assert table.loc[table["kecamatan"] == "Metro Barat", "rating"].tolist() == ["problematic"]
    assert "--fail-on problematic" in err and "2023 Metro Barat (problematic)" in err
    assert "Where to look first" in err and "identical height" in err
    assert "Metro Pusat (" not in err  # clean kecamatan are not named


def test_quiet_says_only_why_it_fails(registers: dict[str, Path], tmp_path: Path) -> None:
    """The cron check of the command's help: -q silences the summary and findings, not the
    failing line, the output or the rejects file."""
    rejects = tmp_path / "rejects.csv"
    args = ("quality", str(registers["copied"]), "--by", "kecamatan", "-f", "csv", "-q")
    code, out, err = run(*args, "--fail-on", "problematic", "--rejects", str(rejects))
    assert code == 1
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert "2023 Metro Barat (problematic)" in err
    loud = run(*args[:-1], "--fail-on", "problematic")
    assert "Where to look first" in loud[2] and out == loud[1]
    assert rejects.exists()
    assert run(*args)[2] == ""


def test_fail_on_passes_on_clean_data(registers: dict[str, Path]) -> None:
    for by in ("kecamatan", "posyandu"):
        code, out, err = run(
            "quality", str(registers["clean"]), "--by", by, "-f", "csv", "--fail-on", "problematic"
        )
        assert code == 0, err
        assert "no group rated acceptable or problematic" in err
        assert set(pd.read_csv(io.StringIO(out))["rating"].dropna()) <= {"excellent", "good"}


def test_fail_on_good_is_stricter(registers: dict[str, Path]) -> None:
    """The clean whole area is rated good (SMART's 0.85 age ratio does not fit a register that
    follows children from birth), so --fail-on good fails where --fail-on acceptable passes."""
    args = ("quality", str(registers["clean"]), "--by", "kecamatan", "-f", "csv")
    assert run(*args, "--fail-on", "acceptable")[0] == 0
    code, _, err = run(*args, "--fail-on", "good")
    assert code == 1
    assert "2023 All (good)" in err


def test_without_fail_on_a_problematic_register_still_exits_0(registers: dict[str, Path]) -> None:
    code, _, err = run("quality", str(registers["copied"]), "--by", "kecamatan", "-f", "csv")
    assert code == 0
    assert "Metro Barat: problematic" in err


def test_findings_travel_in_json_meta_and_the_xlsx_sheet(
    registers: dict[str, Path], tmp_path: Path
) -> None:
    args = ("quality", str(registers["copied"]), "--by", "kecamatan")
    code, out, _ = run(*args, "-f", "json")
    assert code == 0
    document = json.loads(out)
    notes = document["meta"]["notes"]
    assert any(note.startswith("method: ") for note in notes)
    assert any(
        note.startswith("where to look first: 2023 Metro Barat: problematic") for note in notes
    )
    assert document["meta"]["options"]["by"] == "kecamatan"
    workbook = tmp_path / "q.xlsx"
    assert run(*args, "-o", str(workbook))[0] == 0
    sheets = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["data", "findings", "about"]
    findings = sheets["findings"]
    assert list(findings.columns) == ["year", "kecamatan", "rating", "score", "reasons"]
    assert findings["kecamatan"].iloc[0] == "Metro Barat"


def test_xlsx_findings_sheet_in_indonesian(registers: dict[str, Path], tmp_path: Path) -> None:
    """--lang id: the xlsx sheet "findings" says what stderr says, in Indonesian (its ratings
    and reasons), in the same columns; the data sheet is the same in both languages."""
    args = ("quality", str(registers["copied"]), "--by", "kecamatan")
    sheets = {}
    for lang in ("en", "id"):
        workbook = tmp_path / f"q-{lang}.xlsx"
        code, _, err = run(*args, "--lang", lang, "-o", str(workbook))
        assert code == 0, err
        sheets[lang] = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
        if lang == "id":
            assert "tinggi sama persis" in err  # the stderr finding, in Indonesian
    english, indonesian = sheets["en"]["findings"], sheets["id"]["findings"]
    assert list(indonesian.columns) == list(english.columns)
    assert indonesian["score"].tolist() == english["score"].tolist()
    assert english["rating"].iloc[0] == "problematic"
    assert indonesian["rating"].iloc[0] == "bermasalah"
    first = str(indonesian["reasons"].iloc[0])
    assert "tinggi sama persis" in first and "identical height" not in first
    assert not indonesian["rating"].isin(["problematic", "acceptable", "good"]).any()
    assert_same_table(sheets["id"]["data"], sheets["en"]["data"])


def test_xlsx_about_sheet_says_the_findings_in_indonesian(
    registers: dict[str, Path], tmp_path: Path
) -> None:
    """--lang id: the about sheet's notes, "where to look first" and the method, are said as
    stderr says them; json meta keeps them in English (provenance)."""
    args = ("quality", str(registers["copied"]), "--by", "kecamatan", "--lang", "id")
    workbook = tmp_path / "q-id.xlsx"
    code, _, err = run(*args, "-o", str(workbook))
    assert code == 0, err
    about = pd.read_excel(workbook, sheet_name="about", header=None, engine="openpyxl")
    notes = [str(cell) for cell in about[0].dropna()]
    looked = [note for note in notes if note.startswith("yang perlu diperiksa lebih dulu: ")]
    assert looked and "Metro Barat: bermasalah" in looked[0]
    assert "tinggi sama persis" in looked[0]
    assert not any("where to look first" in note or "problematic" in note for note in notes)
    assert any(note.startswith("metode: uji plausibilitas SMART") for note in notes)
    code, out, _ = run(*args, "-f", "json")
    meta_notes = json.loads(out)["meta"]["notes"]
    first = "where to look first: 2023 Metro Barat: problematic"
    assert any(note.startswith(first) for note in meta_notes)


def test_table_view_highlights_problem_cells(registers: dict[str, Path]) -> None:
    frame = measurements_from_files([registers["copied"]], columns=[*columns_needed("kecamatan")])
    report = quality_report(frame.frame, by="kecamatan", period="year", child_key="child_key")
    view, styles = table_view(report, lang="en")
    assert len(view) == len(report.table)
    row = view["Kecamatan"].tolist().index("Metro Barat")
    assert styles["Copied %"][row] == "bold red"  # height_repeated_pct rated problematic
    assert styles["Rating"][row] == "bold red"
    clean_row = view["Kecamatan"].tolist().index("Metro Pusat")
    assert styles["Copied %"][clean_row] is None and styles["Rating"][clean_row] is None
    view_id, styles_id = table_view(report, lang="id")
    assert "Semua" in view_id["Kecamatan"].tolist()
    assert "bermasalah" in view_id["Nilai"].tolist()
    assert styles_id["TB sama %"][row] == "bold red"


# --- the bundled sample: library parity, golden files, store -----------------------------------


def test_cli_equals_library() -> None:
    code, out, err = run(*GOLDEN_ARGS, "-f", "csv")
    assert code == 0, err
    cli = pd.read_csv(io.StringIO(out))
    frame = measurements_from_files([CANONICAL]).frame
    library = quality_report(frame, by="kecamatan", period="year", child_key="child_key").table
    assert list(cli.columns) == ["year", "kecamatan", *TABLE_COLUMNS]
    assert_same_table(cli, library)


def test_golden_formats(tmp_path: Path) -> None:
    """Per kecamatan and year of the bundled sample, in every machine format."""
    golden = pd.read_csv(GOLDEN / "quality_by_kecamatan.csv")
    code, out, _ = run(*GOLDEN_ARGS, "-f", "csv")
    assert code == 0
    assert out == (GOLDEN / "quality_by_kecamatan.csv").read_text()
    code, out, _ = run(*GOLDEN_ARGS, "-f", "jsonl")
    assert code == 0
    assert out == (GOLDEN / "quality_by_kecamatan.jsonl").read_text()
    code, out, _ = run(*GOLDEN_ARGS, "-f", "json")
    assert code == 0
    document = json.loads(out)
    assert document["meta"]["command"] == "quality"
    assert_same_table(pd.DataFrame(document["data"]), golden)
    target = tmp_path / "q.parquet"
    assert run(*GOLDEN_ARGS, "-o", str(target))[0] == 0
    assert_same_table(pd.read_parquet(target), golden)
    workbook = tmp_path / "q.xlsx"
    assert run(*GOLDEN_ARGS, "-o", str(workbook))[0] == 0
    assert_same_table(pd.read_excel(workbook, sheet_name="data", engine="openpyxl"), golden)


def test_pipe_from_stdin() -> None:
    code, out, _ = run(
        "quality", "-", "--by", "kecamatan", "-f", "csv", stdin=CANONICAL.read_bytes()
    )
    assert code == 0
    assert_same_table(
        pd.read_csv(io.StringIO(out)), pd.read_csv(GOLDEN / "quality_by_kecamatan.csv")
    )


def test_store_gives_the_same_report_as_the_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, _, err = run("import", str(CANONICAL), "--store", str(store))
    assert code == 0, err
    for by in ("kecamatan", "posyandu"):
        code, from_store, err = run("quality", "--store", str(store), "--by", by, "-f", "csv")
        assert code == 0, err
        code, from_file, _ = run("quality", str(CANONICAL), "--by", by, "-f", "csv")
        assert code == 0
        assert_same_table(pd.read_csv(io.StringIO(from_store)), pd.read_csv(io.StringIO(from_file)))


def test_periods() -> None:
    code, out, _ = run(
        "quality", str(CANONICAL), "--by", "kecamatan", "--period", "all", "-f", "csv"
    )
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns[:2]) == ["kecamatan", "n_rows"]
    assert frame["kecamatan"].iloc[-1] == "All" and len(frame) == 6
    code, out, _ = run(
        "quality", str(CANONICAL), "--by", "kecamatan", "--period", "MONTH", "-f", "csv"
    )
    assert code == 0
    months = pd.read_csv(io.StringIO(out))["period"]
    assert months.str.fullmatch(r"20\d\d-\d\d").all()


def test_table_on_terminal_shows_every_group() -> None:
    result = runner.invoke(
        app, ["quality", str(CANONICAL), "--by", "posyandu", "-f", "table", "--lang", "id"],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 0
    frame = measurements_from_files([CANONICAL]).frame
    table = quality_report(frame, by="posyandu", period="year", child_key="child_key").table
    assert len(table) > 50  # more than write_result's default preview
    assert "showing" not in result.stderr
    assert result.stdout.count("Semua") == table["year"].nunique()
    assert "Kualitas data" in result.stdout


def test_no_store_is_one_clear_error(tmp_path: Path) -> None:
    code, out, err = run("quality", "--store", str(tmp_path / "nothing"))
    assert code == 1
    assert out == "" and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "village"], "--by"),
        (["--by", "sex"], "--by"),
        (["--period", "week"], "--period"),
        (["--fail-on", "bad"], "--fail-on"),
        (["--lang", "fr"], "--lang"),
        (["--format", "yaml"], "format"),
        (["--store", "x", "--column", "sex=JK"], "--column"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    inputs = [] if "--store" in args else [str(CANONICAL)]
    code, out, err = run("quality", *inputs, *args)
    assert code == 2
    assert out == ""
    assert message in err


# the English of the explain sheet's cells, none of which an Indonesian reader should meet
EXPLAIN_ENGLISH = ("completeness", "flagged data", "standard deviation", "shown, not scored")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet", "xlsx"])
def test_explain_in_indonesian_in_every_format(fmt: str, tmp_path: Path) -> None:
    """--explain --lang id words every check, its rating and its limits in Indonesian in every
    format; the columns keep their English names and order (an interface), as in English."""
    path = tmp_path / f"explain.{fmt}"
    for lang in ("en", "id"):
        code, _, err = run("quality", "--explain", "--lang", lang, "-o", str(path))
        assert code == 0, err
        if fmt == "csv":
            sheet = pd.read_csv(path)
        elif fmt == "jsonl":
            sheet = pd.read_json(path, lines=True)
        elif fmt == "json":
            sheet = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["data"])
        elif fmt == "parquet":
            sheet = pd.read_parquet(path)
        else:
            sheet = pd.read_excel(path, sheet_name="data", engine="openpyxl")
        if lang == "en":
            english = sheet
            continue
        assert list(sheet.columns) == list(english.columns)
        assert list(sheet["column"]) == list(english["column"])
        assert sheet.notna().all().all()  # every check has its words
        text = sheet.to_csv(index=False)
        assert not [word for word in EXPLAIN_ENGLISH if word in text]
        missing_sex = sheet.set_index("column").loc["missing_sex_pct"]
        assert missing_sex["criterion"] == "data kosong: jenis kelamin"
        limits = "sangat baik ≤ 2,5; baik ≤ 5,0; cukup ≤ 7,5; bermasalah > 7,5"
        assert missing_sex["limits"] == limits
        assert missing_sex["rated_on"] == "pengukuran"
        by_check = sheet.set_index("column")
        assert str(by_check.loc["sd_haz", "limits"]).startswith("sangat baik 0,9-1,1;")
        assert "Z-skor TB/U" in str(by_check.loc["flagged_haz_pct", "criterion"])


def test_explain_table_in_indonesian() -> None:
    """The terminal sheet has Indonesian headers and words, the English one English."""
    code, out, err = run("quality", "--explain", "--lang", "id", "-f", "table")
    assert code == 0, err
    assert "Pemeriksaan" in out and "data kosong: jenis kelamin" in out
    assert "criterion" not in out and "missing" not in out.replace("missing_", "")
    code, out, err = run("quality", "--explain", "-f", "table")
    assert code == 0 and "criterion" in out and "Pemeriksaan" not in out
