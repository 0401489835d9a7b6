"""--lang id: every terminal table and sentence writes numbers as Indonesian does (21,5; 1.672),
while machine formats keep plain numbers."""

from __future__ import annotations

import copy
import io
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.measurements import load_measurements
from kbtool.quality import columns_needed as quality_columns
from kbtool.quality import quality_report, rated_at_least
from kbtool.reading import ReadOptions
from kbtool.views.numbers import number_as_typed
from kbtool.views.quality import failing_line
from kbtool.words import Said, in_language, reason, say

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
        ["skdn", REGISTER, "--list"],
        ["compare", REGISTER, "--groups", str(SAMPLES / "kampung_kb.csv")],
        ["audit", str(SAMPLES / "eppgbm_metro_2024.csv")],
        ["zscore", REGISTER],
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


def test_a_target_is_named_with_the_digits_it_was_given() -> None:
    code, out, _ = run(
        "trend", REGISTER, "--target", "14.25@2029", "--target", "0.5@2030", "-f", "table"
    )
    assert code == 0 and "14.25% by 2029, 0.5% by 2030" in out
    code, out, _ = run("trend", REGISTER, "--target", "14.25@2029", "-f", "table", "--lang", "id")
    assert code == 0 and "14,25% pada 2029" in out


def test_the_follow_up_list_writes_weights_with_a_comma() -> None:
    code, csv, _ = run("skdn", REGISTER, "--list", "-f", "csv")
    weight = pd.read_csv(io.StringIO(csv))["weight_1"].dropna().iloc[0]
    code, out, err = run("skdn", REGISTER, "--list", "-f", "table", "--lang", "id")
    assert code == 0, err
    assert f"{weight:g}".replace(".", ",") in out and not POINT.search(out)


def test_audit_counts_unread_statuses_the_indonesian_way(tmp_path: Path) -> None:
    """1,500 statuses the audit cannot read: '(1.500)' in Indonesian, '(1,500)' in English."""
    lines = (SAMPLES / "eppgbm_metro_2024.csv").read_text(encoding="utf-8").splitlines()
    status = lines[0].split(";").index("TB/U")
    for number in range(1, 1501):
        cells = lines[number].split(";")
        cells[status] = "Tdk jelas"
        lines[number] = ";".join(cells)
    export = tmp_path / "export.csv"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, english = run("audit", str(export), "-f", "table")
    assert code == 0 and "'Tdk jelas' (1,500)" in english
    code, _, indonesian = run("audit", str(export), "-f", "table", "--lang", "id")
    assert code == 0 and "'Tdk jelas' (1.500)" in indonesian


def test_bad_bytes_on_lines_past_a_thousand(tmp_path: Path) -> None:
    lines = Path(REGISTER).read_text(encoding="utf-8").splitlines()[:1302]
    for number in range(2, 12):  # some names with an é, so the file reads as UTF-8
        cells = lines[number].split(",")
        cells[1] = "Ré " + cells[1]
        lines[number] = ",".join(cells)
    data = "\n".join(lines).encode("utf-8") + b"\n"
    broken = bytearray(data)
    for line in (1201, 1301):  # line numbers count the header as line 1
        start = sum(len(text.encode()) + 1 for text in lines[: line - 1])
        at = start + lines[line - 1].index(",") + 3  # inside the name
        broken[at] = 0xFF
    path = tmp_path / "register.csv"
    path.write_bytes(bytes(broken))
    code, _, english = run("zscore", str(path), "-f", "csv")
    assert code == 0 and "2 lines (1,201, 1,301): bytes that are not UTF-8" in english
    assert "1,301 rows read: 1,301 scored, 0 rejected" in english
    code, _, indonesian = run("zscore", str(path), "-f", "csv", "--lang", "id")
    assert code == 0 and "2 baris (1.201, 1.301): byte yang bukan UTF-8" in indonesian


def test_reasons_and_warnings_say_numbers_the_indonesian_way() -> None:
    joined = (
        "expected 13 fields, found 5 (an unclosed quote joins lines 5-1501, 1,497 lines, into "
        "this row?)"
    )
    assert "1.497 baris" in reason(joined, "id") and "1,497 lines" in reason(joined, "en")
    assert say("rows", "id", read=np.int64(12345), accepted=12345, what="x", rejected=0).startswith(
        "12.345 baris"
    )
    said = Said("short_rows", file="a.csv", line=7)
    for copied in (copy.deepcopy(said), pickle.loads(pickle.dumps(said))):
        assert copied == said and in_language(copied, "id") == in_language(said, "id") != said


def _register_with_quality_problems(folder: Path) -> Path:
    """The sample with sex left out in a third of one posyandu's rows and another's weights
    rounded to whole kilograms."""
    frame = pd.read_csv(REGISTER, dtype=str, keep_default_na=False)
    posyandu = sorted(frame["posyandu"].unique())
    first = frame.index[frame["posyandu"] == posyandu[0]]
    frame.loc[first[::3], "sex"] = ""
    second = frame["posyandu"] == posyandu[1]
    frame.loc[second, "weight_kg"] = (
        frame.loc[second, "weight_kg"].astype(float).round().astype(str)
    )
    path = folder / "register.csv"
    frame.to_csv(path, index=False)
    return path


def test_quality_findings_in_indonesian_say_the_same_figures(tmp_path: Path) -> None:
    path = _register_with_quality_problems(tmp_path)
    code, _, english = run("quality", str(path), "-f", "csv", "-o", str(tmp_path / "q.csv"))
    assert code == 0 and "sex missing in" in english and "(problematic: more than 7.5%)" in english
    code, _, indonesian = run(
        "quality", str(path), "-f", "csv", "-o", str(tmp_path / "q.csv"), "--lang", "id"
    )
    assert code == 0 and "jenis kelamin kosong pada" in indonesian
    assert "(bermasalah: lebih dari 7,5%)" in indonesian and "(skor " in indonesian

    def findings(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("  20")]

    said, translated = findings(english), findings(indonesian)
    assert said and len(said) == len(translated)
    for one, other in zip(said, translated, strict=True):
        # the same figures, each written the Indonesian way
        figures = re.findall(r"\d[\d.,]*\d|\d", one.split(": ", 1)[1])
        assert [f.translate(str.maketrans(",.", ".,")) for f in figures] == re.findall(
            r"\d[\d.,]*\d|\d", other.split(": ", 1)[1]
        ), (one, other)
    assert not re.search(r"[a-z]+ing\b|\bmissing\b|\bmore than\b", "\n".join(translated))


def test_the_indonesian_report_gives_the_quality_reasons_in_indonesian(tmp_path: Path) -> None:
    path = _register_with_quality_problems(tmp_path)
    page = tmp_path / "laporan.html"
    code, _, err = run("report", str(path), "-o", str(page), "--lang", "id")
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert "skor preferensi angka berat" in html and "digit preference" not in html


def test_sources_in_indonesian(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, _, err = run("import", REGISTER, "--store", store, "--quiet")
    assert code == 0, err
    code, table, _ = run("sources", "--store", store, "-f", "table", "--lang", "id")
    assert code == 0 and "Impor" in table and "Disimpan" in table and "Ditolak" in table
    code, csv, _ = run("sources", "--store", store, "-f", "csv", "--lang", "id")
    rows = len(Path(REGISTER).read_text(encoding="utf-8").splitlines()) - 1
    assert code == 0 and pd.read_csv(io.StringIO(csv))["rows_stored"].tolist() == [rows]


def test_fail_on_says_the_level_and_counts_in_indonesian(tmp_path: Path) -> None:
    path = str(_register_with_quality_problems(tmp_path))
    code, _, english = run("quality", path, "-f", "csv", "--fail-on", "acceptable")
    assert code == 1 and "rated acceptable or worse (--fail-on acceptable)" in english
    code, _, indonesian = run(
        "quality", path, "-f", "csv", "--fail-on", "acceptable", "--lang", "id"
    )
    assert code == 1 and "dinilai cukup atau lebih buruk (--fail-on acceptable)" in indonesian
    # a kabupaten's store can fail on more than a thousand rows
    loaded = load_measurements([path], None, quality_columns("posyandu"), ReadOptions())
    report = quality_report(loaded.whole(), by="posyandu", child_key="child_key")
    failing = rated_at_least(report, "acceptable")
    many = pd.concat([failing] * (1500 // len(failing) + 1))
    line = failing_line(report, many, "acceptable", "id")
    assert f"{len(many):,}".replace(",", ".") + " baris dinilai" in line
    assert f"dan {len(many) - 10:,} lainnya".replace(",", ".") in line


def test_a_finding_about_an_unknown_kelurahan_is_indonesian(tmp_path: Path) -> None:
    """Posyandu whose kelurahan is blank are compared with 'the rest of (unknown) kelurahan'."""
    frame = pd.read_csv(REGISTER, dtype=str, keep_default_na=False)
    frame["kelurahan"] = ""
    first = frame["posyandu"] == sorted(frame["posyandu"].unique())[0]
    taller = pd.to_numeric(frame.loc[first, "height_cm"], errors="coerce") + 6
    frame.loc[first, "height_cm"] = taller.map(lambda cm: "" if pd.isna(cm) else f"{cm:.1f}")
    path = tmp_path / "register.csv"
    frame.to_csv(path, index=False)
    code, _, english = run("quality", str(path), "-f", "csv", "--period", "all")
    assert code == 0 and "the rest of (unknown) kelurahan" in english
    code, _, indonesian = run("quality", str(path), "-f", "csv", "--period", "all", "--lang", "id")
    assert code == 0 and "bagian lain kelurahan yang tidak diketahui" in indonesian
    assert "(unknown)" not in indonesian


@pytest.mark.parametrize(
    ("value", "en", "id"),
    [(14.25, "14.25", "14,25"), (14.0, "14", "14"), (1_234_567.0, "1234567", "1234567")],
)
def test_numbers_as_typed_keep_their_digits_in_either_language(
    value: float, en: str, id: str
) -> None:
    assert (number_as_typed(value, "en"), number_as_typed(value, "id")) == (en, id)


@pytest.mark.parametrize("command", ["prevalence", "trend"])
def test_age_groups_are_written_in_indonesian(command: str) -> None:
    """'mo' is English: the Indonesian table writes WHO's age groups in bulan (bln), while the
    machine formats keep their labels (an interface)."""
    code, out, _ = run(command, REGISTER, "--by", "age_group", "-f", "table", "--lang", "id")
    assert code == 0
    assert all(f"{group} bln" in out for group in ("00-05", "06-11", "12-23", "48-59"))
    assert not re.search(r"\d mo\b", out)
    code, out, _ = run(command, REGISTER, "--by", "age_group", "-f", "csv", "--lang", "id")
    assert code == 0 and "00-05 mo" in out


def test_the_rejects_hint_names_its_file_in_indonesian(tmp_path: Path) -> None:
    """More rejected rows than are listed: the hint names --rejects' value as the other
    Indonesian hints name a file (BERKAS), not in English."""
    rows = [f"A{i},x,2023-01-01,2024-03-04,9.0,74,l,no,P1,K1,C1" for i in range(12)]
    header = "child_id,sex,birth_date,visit_date,weight_kg,height_cm,measure,oedema,"
    register = tmp_path / "bad.csv"
    register.write_text(header + "posyandu,kelurahan,kecamatan\n" + "\n".join(rows) + "\n")
    code, _, err = run("prevalence", str(register), "--lang", "id", "-f", "csv")
    assert code == 1, err  # every row rejected
    assert "--rejects BERKAS" in err and "FILE" not in err


def test_the_zscore_preview_names_the_indices_as_indonesian_does() -> None:
    """--lang id: the preview heads its z-scores TB/U, BB/U, BB/TB, IMT/U (as e-PPGBM's ZS
    columns) and names the flags so, not haz/waz/whz/bmiz; English keeps them."""
    export = str(SAMPLES / "eppgbm_metro_2024.csv")
    code, out, err = run("zscore", export, "-f", "table", "--lang", "id")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "baris" in line)
    assert header.split() == [
        "baris", "hari", "ZS", "TB/U", "status", "TB/U", "ZS", "BB/U", "ZS", "BB/TB", "ZS",
        "IMT/U", "tanda",
    ]  # fmt: skip
    assert not re.search(r"\b(haz|waz|whz|bmiz)\b", out)
    assert re.search(r"tidak wajar .* TB/U IMT/U\s*$", out, flags=re.M)
    code, out, _ = run("zscore", export, "-f", "table")
    assert code == 0 and re.search(r"implausible .* haz bmiz\s*$", out, flags=re.M)


def test_the_audit_title_is_indonesian() -> None:
    """--lang id: the audit table's title in Indonesian (Z-skor ... dibanding WHO), not the
    English "z-score ... vs WHO"; English keeps its title."""
    export = str(SAMPLES / "eppgbm_metro_2024.csv")
    code, out, err = run("audit", export, "-f", "table", "--lang", "id")
    assert code == 0, err
    assert "Z-skor register dibanding WHO, per posyandu" in out
    assert "z-score" not in out and " vs " not in out
    code, out, _ = run("audit", export, "-f", "table")
    assert code == 0 and "Register z-scores vs WHO, by posyandu" in out
