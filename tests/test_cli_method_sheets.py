"""--lang id: the xlsx sheets that say how a result was made ("method", "about") in Indonesian,
as an analyst reads them; English unchanged, and json meta (provenance) English in both."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.skdn import BUKU_KIA, BUKU_KIA_NAMES

SAMPLES = Path(__file__).parents[1] / "data" / "samples"
REGISTER = str(SAMPLES / "posyandu_metro_2022_2024.csv")
EPPGBM = str(SAMPLES / "eppgbm_metro_2024.csv")
GROUPS = str(SAMPLES / "kampung_kb.csv")

runner = CliRunner()


def sheet_text(path: Path, name: str) -> str:
    """Every cell of one sheet, a line per row, cells joined by " | "."""
    sheet = openpyxl.load_workbook(path, read_only=True)[name]
    rows = sheet.iter_rows(values_only=True)
    return "\n".join(" | ".join("" if c is None else str(c) for c in row) for row in rows)


def workbook(tmp_path: Path, lang: str, *args: str) -> Path:
    path = tmp_path / f"{args[0]}-{lang}.xlsx"
    result = runner.invoke(app, [*args, "--lang", lang, "-o", str(path)])
    assert result.exit_code == 0, result.stderr
    return path


def test_prevalence_method_sheet_in_indonesian(tmp_path: Path) -> None:
    """The indicators' definitions, the selection and method notes and the sheet's labels are
    Indonesian (TB/U, BB/TB, Z-skor, versi kbtool); the English sheet says them in English."""
    args = ("prevalence", REGISTER, "--indicator", "stunting,wasting", "--cluster", "posyandu")
    indonesian = sheet_text(workbook(tmp_path, "id", *args), "method")
    for english_words in (
        "length/height-for-age",
        "weight-for-length/height",
        "selection:",
        "counted once per period",
        "Student's t",
        "a design of clusters",
        "kbtool version",
        "option ",
        "source",
        "item",
    ):
        assert english_words not in indonesian, english_words
    for words in (
        "Z-skor TB/U < -2 SD",
        "gizi buruk: BB/TB < -3 SD",
        "pemilihan: setiap balita dihitung sekali",
        "Z-skornya (TB/U, BB/TB)",
        "desain berklaster cluster=posyandu",
        "versi kbtool",
        "opsi min_n | 25",
        "baris dibaca=34747",
        "butir | nilai",
    ):
        assert words in indonesian, words
    english = sheet_text(workbook(tmp_path, "en", *args), "method")
    assert "stunting: length/height-for-age z (HAZ) < -2" in english
    assert "z-score (HAZ, WHZ) is computable" in english
    assert "kbtool version" in english and "option min_n | 25" in english
    assert "Z-skor" not in english and "versi kbtool" not in english


def test_skdn_method_sheet_in_indonesian(tmp_path: Path) -> None:
    """The letters' definitions (S, D, ... BGM), the KBM table's name and the method notes."""
    args = ("skdn", REGISTER, "--from", "2024-01", "--to", "2024-03")
    indonesian = sheet_text(workbook(tmp_path, "id", *args), "method")
    english_words = (
        "children weighed", "of D:", "below the KMS red line", "weighing:", "KBM table in force",
        "kbtool version",
    )  # fmt: skip
    for words in english_words:
        assert words not in indonesian, words
    # the option kbm keeps the table's name as the provenance does (English); the notes name it
    # in Indonesian
    assert "by age in completed months" not in indonesian.split("opsi kbm")[0]
    indonesian_words = (
        "BGM | dari D: Z-skor BB/U < -3 SD (di bawah garis merah KMS)", "penimbangan:",
        "tabel KBM yang dipakai", "KBM menurut umur dalam bulan penuh", "0,1 kg", "30,4375",
        "versi kbtool",
    )  # fmt: skip
    for words in indonesian_words:
        assert words in indonesian, words
    english = sheet_text(workbook(tmp_path, "en", *args), "method")
    assert "BGM | of D: WAZ < -3 (below the KMS red line)" in english
    assert f"KBM table in force ({BUKU_KIA.name})" in english
    # the option's value is the table's name as the provenance keeps it: English
    assert BUKU_KIA_NAMES["en"] == BUKU_KIA.name


@pytest.mark.parametrize(
    ("args", "english_words", "indonesian_words"),
    [
        (("prevalence", REGISTER), "selection: each child", "pemilihan: setiap balita"),
        (("trend", REGISTER), "least-squares slope", "kemiringan kuadrat terkecil"),
        (("growth", REGISTER), "consecutive entries", "dua isian berurutan"),
        (
            ("compare", REGISTER, "--groups", GROUPS),
            "wild cluster bootstrap by kelurahan with",
            "bootstrap per kelurahan di bawah hipotesis nol",
        ),
        (("audit", EPPGBM), "a recorded z-score agrees", "Z-skor yang tercatat sesuai"),
        (("quality", REGISTER), "SMART plausibility check", "uji plausibilitas SMART"),
        (("zscore", EPPGBM), "rounded to 2 decimals as WHO Anthro does", "Z-skor dibulatkan 2"),
    ],
)
def test_about_sheet_in_indonesian(
    tmp_path: Path, args: tuple[str, ...], english_words: str, indonesian_words: str
) -> None:
    """Every command's "about" sheet: its labels and method notes in --lang id's words; the
    option names and values, kbtool's own, as they are; json meta keeps the English notes."""
    indonesian = sheet_text(workbook(tmp_path, "id", *args), "about")
    assert indonesian_words in indonesian
    assert english_words not in indonesian
    for label in ("kbtool version", "command", "reference", "notes", "rows_read"):
        assert label not in indonesian, label
    for label in ("versi kbtool", "perintah", "rujukan", "catatan", "baris dibaca"):
        assert label in indonesian, label
    english = sheet_text(workbook(tmp_path, "en", *args), "about")
    assert english_words in english and indonesian_words not in english
    assert english.startswith("key | value\ncommand | ")
    result = runner.invoke(app, [*args, "--lang", "id", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    notes = json.loads(result.stdout)["meta"]["notes"]
    assert any(english_words in note for note in notes)
    assert not any(indonesian_words in note for note in notes)


def test_compare_about_sheet_says_the_notes_in_indonesian(tmp_path: Path) -> None:
    """compare's notes (staggered starts, parallel trends), said on stderr in Indonesian, are
    Indonesian on the about sheet too, their outcome named as Indonesian names it."""
    args = ("compare", REGISTER, "--groups", GROUPS)
    indonesian = sheet_text(workbook(tmp_path, "id", *args), "about")
    assert "program mulai pada tahun berbeda (2023, 2024)" in indonesian
    assert "stunting (TB/U < -2 SD) (poin): tidak ada tahun sebelum mulai" in indonesian
    assert "parallel trends" not in indonesian and "HAZ < -2" not in indonesian


def test_report_workbook_method_and_about_sheets_in_indonesian(tmp_path: Path) -> None:
    """kbtool report --lang id -o report.xlsx: the "method" sheet's labels ("method",
    "option ...", "input") and its "about" sheet were English under Indonesian method notes;
    they are Indonesian now, the sheet names and the data sheets' columns as they were, and
    the English workbook as before."""
    path = workbook(tmp_path, "id", "report", REGISTER)
    method = sheet_text(path, "method")
    rows = [line.split(" | ", 1)[0] for line in method.splitlines()]
    assert rows[0] == "butir"
    for english_label in ("item", "method", "input"):
        assert english_label not in rows, english_label
    assert not any(label.startswith("option ") for label in rows)
    assert "metode" in rows and "opsi min_n" in rows and "data masukan" in rows
    assert "opsi min_n | 25" in method and "data masukan | " in method
    about = sheet_text(path, "about")
    for label in ("kbtool version", "command", "reference", "rows_read"):
        assert label not in about, label
    for label in ("butir | nilai", "perintah | report", "versi kbtool", "baris dibaca"):
        assert label in about, label
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == [
        "summary", "where-to-act", "trend", "indicators", "quality", "method", "about"
    ]  # fmt: skip
    header = next(book["where-to-act"].iter_rows(values_only=True))
    assert header[:4] == ("kelurahan", "n", "stunted", "stunting_pct")
    english_path = workbook(tmp_path, "en", "report", REGISTER)
    english = sheet_text(english_path, "method")
    rows = [line.split(" | ", 1)[0] for line in english.splitlines()]
    assert rows[0] == "item" and "method" in rows and "option min_n" in rows and "input" in rows
    assert sheet_text(english_path, "about").startswith("key | value\ncommand | report")
