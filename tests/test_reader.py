"""The shared reader: formats, encodings, header aliases, values, rejects, line numbers, errors.

Most inputs are written by the tests themselves so each one shows the exact bytes it reads;
tests/data/reader/ holds two whole files as they arrive (an e-PPGBM export saved by Excel in
Windows-1252, and the canonical layout as a UTF-8-with-BOM TSV).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbtool.columns import (
    CANONICAL_COLUMNS,
    MEASURE_HEIGHT,
    MEASURE_LENGTH,
    MEASURE_UNKNOWN,
    REJECT_COLUMNS,
)
from kbtool.errors import InputError, UsageError
from kbtool.reading import (
    ReadBatch,
    ReadOptions,
    iter_read,
    normalise_header,
    parse_column_overrides,
    read_file,
    read_files,
)
from kbtool.reading import csv as reading_csv
from kbtool.reading import headers as reading_headers
from kbtool.reading import sources as reading_sources

DATA = Path(__file__).parent / "data" / "reader"
TODAY = dt.date(2024, 6, 30)
HEADER = "NIK;Nama;JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur"
ROW = "0012;Ani;P;05/01/2022;05/01/2023;9,5;75,2;Terlentang"


def write(tmp_path: Path, text: str | bytes, name: str = "visits.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def read(path: Path | str, **options: object) -> ReadBatch:
    options.setdefault("today", TODAY)
    batch = read_file(path, ReadOptions(**options))  # type: ignore[arg-type]
    assert_reconciles(batch)
    return batch


def assert_reconciles(batch: ReadBatch) -> None:
    assert batch.rows_read == len(batch.rows) + len(batch.rejects)
    assert list(batch.rows.columns) == [*CANONICAL_COLUMNS, "source_file", "source_line"]
    assert list(batch.rejects.columns) == list(REJECT_COLUMNS)
    if batch.raw is not None:
        assert batch.raw.index.equals(batch.rows.index)


def read_in_batches(path: Path, block_bytes: int, batch_rows: int) -> list[ReadBatch]:
    """`path` read in small blocks and batches (rows straddle them), each batch reconciled."""
    with mock.patch.object(reading_csv, "_MIN_BLOCK_BYTES", block_bytes):
        batches = list(iter_read(path, ReadOptions(batch_rows=batch_rows, today=TODAY)))
    for batch in batches:
        assert_reconciles(batch)
    return batches


def one_reject(batch: ReadBatch) -> dict[str, object]:
    assert len(batch.rejects) == 1, batch.rejects
    return {str(key): value for key, value in batch.rejects.iloc[0].to_dict().items()}


# ---------------------------------------------------------------------------------------------
# Formats and encodings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    text = "NIK;JK;Berat;Tinggi\n0012;L;9.5;80\n".replace(";", delimiter)
    batch = read(write(tmp_path, text))
    assert batch.rows["child_id"].tolist() == ["0012"]
    assert batch.rows["weight_kg"].tolist() == [9.5]
    assert batch.rows["height_cm"].tolist() == [80.0]


def test_comma_inside_a_quoted_header_does_not_count(tmp_path: Path) -> None:
    text = '"Nama, lengkap";JK;Berat\n"Ani, S";P;"9,5"\n'
    batch = read(write(tmp_path, text), column_overrides={"name": "Nama, lengkap"})
    assert batch.rows["name"].tolist() == ["Ani, S"]
    assert batch.rows["weight_kg"].tolist() == [9.5]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    batch = read(DATA / "canonical_bom.tsv")
    assert batch.column_map["child_id"] == "child_id"
    assert batch.rows["child_id"].tolist()[:2] == ["0012345678901234", "3372014501220002"]
    assert batch.rows["source_line"].tolist() == [2, 3, 4]


def test_windows_1252_file_with_title_lines(tmp_path: Path) -> None:
    batch = read(DATA / "eppgbm_cp1252.csv")
    assert batch.rows["name"].iloc[0] == "ANDRÉS PUTRA"
    assert batch.rows["source_line"].tolist() == [4, 5, 6]
    assert batch.rows["weight_kg"].tolist() == [9.5, 8.8, 14.1]
    assert batch.rows["measure"].tolist() == [MEASURE_LENGTH, MEASURE_LENGTH, MEASURE_HEIGHT]
    # status columns and birth measures are not measurements
    assert "BB/U" not in batch.column_map.values()
    assert "BB Lahir" not in batch.column_map.values()
    assert batch.rejects[["line", "column", "value", "reason"]].values.tolist() == [
        [7, "JK", "X", "unparseable sex"],
        [9, "Tgl Lahir", "30/02/2021", "impossible date"],
    ]


def test_utf8_text_that_looks_like_mojibake_stays_as_written(tmp_path: Path) -> None:
    batch = read(write(tmp_path, "Nama,JK,Berat\nJoÃ£o é,L,9\n"))
    assert batch.rows["name"].tolist() == ["JoÃ£o é"]


def test_a_stray_windows_1252_byte_after_the_first_megabyte(tmp_path: Path) -> None:
    filler = "".join(f"A{i},L,9\n" for i in range(120_000))  # > 1 MiB of plain ASCII first
    data = ("Nama,JK,Berat\n" + filler).encode() + "José,P,8\n".encode("cp1252")
    batch = read(write(tmp_path, data))
    assert batch.rows["name"].iloc[-1] == "José"
    assert batch.rows["source_line"].iloc[-1] == 120_002


def test_a_stray_byte_in_a_broken_row_far_into_a_streamed_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """pyarrow cannot decode such a row for the handler: the reader retries the rest safely.
    A row with too many fields is rejected; one short of its last cells is read."""
    filler = "".join(f"A{i},L,9\n" for i in range(120_000))
    stray = "José,P,9,extra\nJosé,P\n".encode("cp1252")
    data = ("Nama,JK,Berat\n" + filler).encode() + stray + b"B,L,8\n"
    path = write(tmp_path, data)
    batches = list(iter_read(path, ReadOptions(batch_rows=50_000, today=TODAY)))
    for batch in batches:
        assert_reconciles(batch)
    lines = [v for b in batches for v in [*b.rows["source_line"], *b.rejects["line"]]]
    assert sorted(lines) == list(range(2, 120_005))
    rejects = pd.concat([b.rejects for b in batches])
    assert rejects[["line", "value"]].values.tolist() == [[120_002, "José,P,9,extra"]]
    rows = pd.concat([b.rows for b in batches]).set_index("source_line")
    assert rows.loc[120_003, "name"] == "José"
    assert rows["weight_kg"].loc[[120_003, 120_004]].tolist() == pytest.approx(
        [np.nan, 8.0], nan_ok=True
    )
    assert capfd.readouterr().err == ""


def test_the_reread_after_a_stray_byte_hands_out_no_row_twice(tmp_path: Path) -> None:
    """The re-read counts rows from the file's start again; rows handed out before it, over
    many blocks, must not come out a second time (they did: 20,001 rows read as 39,577)."""
    row = "c{},L,2023-01-01,2024-01-01,9.5,75.0,Posyandu Mawar,Kec\n"
    header = "child_id,sex,birth_date,visit_date,weight_kg,height_cm,posyandu,kecamatan\n"
    data = (header + "".join(row.format(i) for i in range(20_000))).encode()
    path = write(tmp_path, data + b"cX\xe9,L,2023-01-01,2024-01-01,9.5\n")
    with mock.patch.object(reading_sources, "PREFIX_BYTES", 8192):
        batches = read_in_batches(path, 4096, 300)
    lines = [v for b in batches for v in b.rows["source_line"].tolist()]
    assert lines == list(range(2, 20_003))
    assert sum(b.rows_read for b in batches) == 20_001
    last = batches[-1].rows.iloc[-1]
    assert last["child_id"] == "cX\u00e9" and np.isnan(last["height_cm"])


def test_a_bom_before_windows_1252_text(tmp_path: Path) -> None:
    """A UTF-8 BOM, then a Windows-1252 byte: the BOM is not read as part of the first header."""
    data = codecs.BOM_UTF8 + "NIK;JK;Berat\n0012;P;9\nJos\xe9;L;8\n".encode("cp1252")
    batch = read(write(tmp_path, data))
    assert batch.column_map["child_id"] == "NIK"
    assert batch.rows["child_id"].tolist() == ["0012", "Jos\u00e9"]


def test_a_windows_1252_file_past_the_prefix_reads_in_whole_blocks(tmp_path: Path) -> None:
    """Transcoded text grows (é is one byte in Windows-1252, two in UTF-8): the stream must
    still fill pyarrow's blocks, or a few bytes left of a chunk cut a row into three (it failed
    with 'straddling object straddles two block boundaries')."""
    header = "child_id,sex,birth_date,visit_date,weight_kg,height_cm,posyandu\n"
    rows = [f"c{i:06d},L,2023-01-01,2024-01-01,9.5,75,Posyandu Melati\n" for i in range(40_000)]
    rows[:20] = [row.replace("Melati", "Melat\u00e9") for row in rows[:20]]
    path = write(tmp_path, (header + "".join(rows)).encode("cp1252"))
    batches = list(iter_read(path, ReadOptions(batch_rows=1000, today=TODAY)))
    for batch in batches:
        assert_reconciles(batch)
    lines = np.concatenate([b.rows["source_line"].to_numpy() for b in batches])
    assert lines.tolist() == list(range(2, 40_002))
    assert batches[0].rows["posyandu"].iloc[0] == "Posyandu Melat\u00e9"


def test_utf16_with_bom_tab_separated(tmp_path: Path) -> None:
    text = "Nama\tJK\tBerat\r\nSiti\tP\t9,1\r\n"
    batch = read(write(tmp_path, text.encode("utf-16"), "export.txt"))
    assert batch.rows["name"].tolist() == ["Siti"]
    assert batch.rows["weight_kg"].tolist() == [9.1]


def test_gzip_compressed_csv(tmp_path: Path) -> None:
    batch = read(write(tmp_path, gzip.compress(f"{HEADER}\n{ROW}\n".encode()), "v.csv.gz"))
    assert batch.rows["child_id"].tolist() == ["0012"]


class _Stdin:
    """A stand-in for sys.stdin whose .buffer yields the given bytes."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(f"{HEADER}\n{ROW}\n".encode()))
    batch = read("-")
    assert batch.source == "-"
    assert batch.rows["source_file"].tolist() == ["-"]
    assert batch.rows["child_id"].tolist() == ["0012"]


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_batches_come_before_stdin_ends(
    monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    """`cat register.csv | kbtool zscore -` writes as it reads: the first batch comes while
    stdin is still open (the rest is written only once that batch has arrived)."""
    read_end, write_end = os.pipe()
    first_batch = threading.Event()
    rng = np.random.default_rng(5)  # rows that compress as a register does, not to nothing
    weights = rng.uniform(5, 20, 61_000).round(2).astype(str)
    lines = [f"{i:016d};Ani;P;05/01/2022;05/01/2023;{w};75,2;" for i, w in enumerate(weights)]
    rows = [f"{HEADER}\n" + "\n".join(lines[:60_000]) + "\n", "\n".join(lines[60_000:]) + "\n"]
    parts = [part.encode() for part in rows]
    if compress:  # two gzip members, as `cat a.gz b.gz` makes
        parts = [gzip.compress(part) for part in parts]

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(parts[0])  # past the first megabyte looked at, and a block more
            pipe.flush()
            first_batch.wait(timeout=30)
            pipe.write(parts[1])

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(read_end, "rb") as pipe:
        stdin = mock.Mock(buffer=pipe)
        monkeypatch.setattr(sys, "stdin", stdin)
        batches = iter_read("-", ReadOptions(batch_rows=1000, today=TODAY))
        first = next(batches)
        stdin_open = writer.is_alive()
        first_batch.set()
        rest = list(batches)
    writer.join()
    assert stdin_open
    assert first.rows_read + sum(batch.rows_read for batch in rest) == 61_000
    assert rest[-1].rows["source_line"].iloc[-1] == 61_001


def test_stdin_xlsx_is_recognised_by_its_zip_magic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = make_workbook(tmp_path, [["JK", "Berat"], ["L", 9.5]])
    monkeypatch.setattr(sys, "stdin", _Stdin(path.read_bytes()))
    batch = read("-")
    assert batch.rows["weight_kg"].tolist() == [9.5]
    assert batch.rows["source_line"].tolist() == [2]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_is_read_once_as_a_stream(tmp_path: Path) -> None:
    """`kbtool zscore <(zcat visits.csv.gz)`: the path is a pipe that cannot be opened twice."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = f"{HEADER}\n" + "".join(f"{ROW}\n" for _ in range(50_000))

    def feed() -> None:
        with fifo.open("w") as pipe:
            pipe.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    batch = read(fifo)
    writer.join()
    assert batch.rows_read == 50_000
    assert batch.rows["source_line"].iloc[-1] == 50_001


def make_workbook(
    tmp_path: Path, rows: Sequence[Sequence[object]], sheet: str = "Sheet1", first_row: int = 0
) -> Path:
    path = tmp_path / "register.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                worksheet.write_datetime(first_row + r, c, value, date_format)
            elif value is not None:
                worksheet.write(first_row + r, c, value)
    workbook.add_worksheet("Lain")
    workbook.close()
    return path


def test_xlsx_cells_numbers_dates_and_numeric_nik(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Laporan Posyandu"],
        [],
        ["NIK", "Nama", "JK", "Tgl Lahir", "Tanggal Pengukuran", "Berat", "Tinggi", "Cara Ukur"],
        [3372012345678901, "Ani", "P", dt.date(2022, 1, 5), 44927, 9.5, 75.2, "Terlentang"],
        ["0012", "Budi", "L", "05/01/2022", dt.datetime(2023, 1, 5, 9, 30), 10, 80, "berdiri"],
        [None, None, None, None, None, None, None, None],
        [3372012345678903, "Cici", "Q", dt.date(2022, 1, 5), 44927, 9.5, 75.2, "Terlentang"],
    ]
    batch = read(make_workbook(tmp_path, rows, first_row=1), keep_raw=True)
    frame = batch.rows
    assert frame["child_id"].tolist() == ["3372012345678901", "0012"]
    assert frame["birth_date"].tolist() == [pd.Timestamp("2022-01-05")] * 2
    assert frame["visit_date"].tolist() == [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-01-05")]
    assert frame["weight_kg"].tolist() == [9.5, 10.0]
    assert frame["height_cm"].tolist() == [75.2, 80.0]
    assert frame["measure"].tolist() == [MEASURE_LENGTH, MEASURE_HEIGHT]
    # lines are sheet rows: the header is on row 4 (data written from the second row)
    assert frame["source_line"].tolist() == [5, 6]
    assert one_reject(batch) == {
        "file": str(tmp_path / "register.xlsx"),
        "line": 8,
        "column": "JK",
        "value": "Q",
        "reason": "unparseable sex",
    }
    assert batch.raw is not None
    assert batch.raw["NIK"].tolist() == ["3372012345678901", "0012"]


def test_xlsx_typed_columns(tmp_path: Path) -> None:
    """Columns of one cell type are converted by arrow: numbers, dates, datetimes, booleans."""
    rows: list[list[object]] = [
        ["NIK", "JK", "Tgl Lahir", "Tanggal Pengukuran", "Berat", "Edema"],
        [3372012345678901, 1, dt.date(2022, 1, 5), dt.datetime(2023, 1, 5, 10, 30), 9.5, True],
        [3372012345678902, 2, dt.date(2022, 2, 5), dt.datetime(2023, 1, 6), 10, False],
        [None, None, None, None, None, None],
        [3372012345678903, 2, None, dt.datetime(2023, 1, 7), None, None],
    ]
    batch = read(make_workbook(tmp_path, rows), keep_raw=True)
    assert batch.rows["child_id"].tolist() == [
        "3372012345678901",
        "3372012345678902",
        "3372012345678903",
    ]
    assert batch.rows["sex"].tolist() == [1, 2, 2]
    assert batch.rows["visit_date"].dt.day.tolist() == [5, 6, 7]
    assert batch.rows["oedema"].tolist() == [True, False, False]
    assert batch.rows["source_line"].tolist() == [2, 3, 5]
    assert batch.raw is not None
    assert batch.raw["Berat"].tolist()[:2] == ["9.5", "10"]
    assert batch.raw["Tanggal Pengukuran"].tolist()[:2] == ["2023-01-05 10:30:00", "2023-01-06"]


def test_xlsx_sheet_option_and_missing_sheet(tmp_path: Path) -> None:
    path = make_workbook(tmp_path, [["JK", "Berat"], ["L", 9.5]], sheet="Data")
    with pytest.raises(InputError, match=r"register\.xlsx: no sheet 'Nope'; sheets: Data, Lain"):
        read(path, sheet="Nope")
    assert read(path, sheet="Data").rows["weight_kg"].tolist() == [9.5]
    with pytest.raises(InputError, match=r"register\.xlsx \(sheet Lain\): the sheet is empty"):
        read(path, sheet="Lain")


def test_xlsx_with_a_header_and_no_rows(tmp_path: Path) -> None:
    batch = read(make_workbook(tmp_path, [["JK", "Berat", "Tinggi"]]))
    assert batch.rows_read == 0
    assert batch.column_map == {"sex": "JK", "weight_kg": "Berat", "height_cm": "Tinggi"}


# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------

ALIAS_CASES = [
    ("child_id", ["NIK", "No. NIK", "nik_anak", "ID Anak", "child_id", "id"]),
    ("name", ["Nama", "nama_anak", "Nama Balita", "name"]),
    ("sex", ["JK", "Jenis Kelamin", "kelamin", "L/P", "sex", "Gender"]),
    ("birth_date", ["Tgl Lahir", "tanggal_lahir", "TGLLAHIR", "birth_date", "DOB"]),
    (
        "visit_date",
        [
            "Tanggal Pengukuran",
            "tgl_pengukuran",
            "Tgl Ukur",
            "tanggal_ukur",
            "Tanggal Penimbangan",
            "tgl_timbang",
            "visit_date",
            "Date of visit",
            "Tanggal Kunjungan",
        ],
    ),
    ("age_months", ["Umur (bulan)", "usia_bulan", "Umur", "usia", "age_months", "Bulan"]),
    ("weight_kg", ["Berat", "BB", "Berat Badan", "BB (kg)", "berat_kg", "Weight", "weight_kg"]),
    (
        "height_cm",
        [
            "Tinggi",
            "TB",
            "PB",
            "TB/PB",
            "PB/TB",
            "Tinggi Badan",
            "Panjang Badan",
            "height",
            "Height (cm)",
            "length",
            "lenhei",
        ],
    ),
    ("measure", ["Cara Ukur", "posisi", "Posisi Ukur", "measure", "Position"]),
    ("oedema", ["Edema", "oedema", "Bengkak"]),
    ("posyandu", ["Posyandu", "Nama Posyandu"]),
    ("kelurahan", ["Desa/Kel", "desa_kelurahan", "Kelurahan", "Desa", "Kel", "village"]),
    ("kecamatan", ["Kec", "Kecamatan", "district"]),
    ("puskesmas", ["Puskesmas", "Pukesmas", "PKM"]),
]


@pytest.mark.parametrize(
    ("canonical", "header"), [(c, h) for c, headers in ALIAS_CASES for h in headers]
)
def test_alias_maps_to_its_canonical_column(tmp_path: Path, canonical: str, header: str) -> None:
    base = {"sex": "Jenis_Kelamin", "weight_kg": "berat_badan"}
    if canonical in base:
        base = {"sex": "sex", "weight_kg": "weight_kg", "height_cm": "height_cm"}
        base.pop(canonical)
    headers = [header, *base.values()]
    text = ";".join(headers) + "\n" + ";".join("" for _ in headers) + "\n"
    batch = read(write(tmp_path, text))
    assert batch.column_map[canonical] == header


def test_headers_with_a_unit_or_format_in_brackets(tmp_path: Path) -> None:
    """Registers write units and date formats after the name: matched without them."""
    headers = "JK;Tanggal Lahir (dd/mm/yyyy);Tgl Ukur [dd/mm/yyyy];Berat (kg);Tinggi ( cm )"
    batch = read(write(tmp_path, f"{headers}\nP;01/01/2023;15/01/2024;8,1;71,5\n"))
    assert batch.column_map == {
        "sex": "JK",
        "birth_date": "Tanggal Lahir (dd/mm/yyyy)",
        "visit_date": "Tgl Ukur [dd/mm/yyyy]",
        "weight_kg": "Berat (kg)",
        "height_cm": "Tinggi ( cm )",
    }
    row = batch.rows.iloc[0]
    assert (row["visit_date"] - row["birth_date"]).days == 379 and row["weight_kg"] == 8.1
    assert not batch.warnings
    # a unit other than the one kbtool reads is not taken for it: metres are not centimetres
    other_units = "JK;Tgl Lahir;Tgl Ukur;Berat (gram);Tinggi (m);Umur (tahun);BB;Usia (bulan)"
    batch = read(write(tmp_path, f"{other_units}\nP;;;8100;0,72;1;8,1;12\n", "units.csv"))
    assert batch.column_map == {
        "sex": "JK",
        "birth_date": "Tgl Lahir",
        "visit_date": "Tgl Ukur",
        "age_months": "Usia (bulan)",
        "weight_kg": "BB",
    }


@pytest.mark.parametrize(
    ("headers", "missing"),
    [
        ("JK;Tgl Lahir;BB;TB", "visit date"),
        ("JK;Tgl Ukur;BB;TB", "birth date"),
        ("JK;BB;TB", "birth date or visit date"),
    ],
)
def test_a_file_without_ages_says_so(tmp_path: Path, headers: str, missing: str) -> None:
    """Without a birth date and a visit date (or an age) every age-based z-score would stay
    empty: the reader warns, naming what is missing and the --column to map it."""
    cells = ";".join("P" if h == "JK" else "8" for h in headers.split(";"))
    batch = read(write(tmp_path, f"{headers}\n{cells}\n"))
    assert len(batch.rows) == 1
    (warning,) = batch.warnings
    assert f"no {missing} column found" in warning and "--column" in warning
    with_age = read(write(tmp_path, f"{headers};Umur\n{cells};12\n", name="umur.csv"))
    assert not with_age.warnings


def test_no_alias_belongs_to_two_columns() -> None:
    seen: dict[str, str] = {}
    for table in (reading_headers._STRONG_ALIASES, reading_headers._WEAK_ALIASES):
        for canonical, aliases in table.items():
            for alias in aliases.split():
                key = normalise_header(alias)
                assert seen.setdefault(key, canonical) == canonical, alias


def test_normalise_header() -> None:
    assert normalise_header("  Tgl. Lahir (dd/mm/yyyy) ") == "tgllahirddmmyyyy"
    assert normalise_header("Umur_Bulan") == normalise_header("umur bulan") == "umurbulan"
    assert normalise_header("Édema") == "edema"


def test_eppgbm_status_and_birth_columns_are_not_measurements(tmp_path: Path) -> None:
    headers = ["JK", "BB/U", "TB/U", "BB/TB", "ZS BB/U", "BB Lahir", "TB Lahir", "LiLA", "Berat"]
    batch = read(write(tmp_path, ";".join(headers) + "\nL;Normal;Normal;Normal;0,1;3;50;;9\n"))
    assert batch.column_map == {"sex": "JK", "weight_kg": "Berat"}
    assert batch.rows["height_cm"].isna().all()


def test_a_specific_alias_beats_a_generic_one(tmp_path: Path) -> None:
    text = "Tanggal;JK;Berat;Tanggal Pengukuran\n01/01/2024;L;9;05/01/2023\n"
    batch = read(write(tmp_path, text))
    assert batch.column_map["visit_date"] == "Tanggal Pengukuran"
    assert batch.rows["visit_date"].tolist() == [pd.Timestamp("2023-01-05")]


def test_two_headers_for_one_column_take_the_first_and_warn(tmp_path: Path) -> None:
    batch = read(write(tmp_path, "JK;Umur;BB;Berat\nL;12;9;10\n"))
    assert batch.column_map["weight_kg"] == "BB"
    assert batch.rows["weight_kg"].tolist() == [9.0]
    assert len(batch.warnings) == 1
    assert "'BB'" in batch.warnings[0] and "'Berat'" in batch.warnings[0]
    assert "--column weight_kg=NAME" in batch.warnings[0]


def test_length_and_height_in_two_columns_are_joined(tmp_path: Path) -> None:
    """Registers kept from the KIA book write length (PB, under two years) and standing height
    (TB) in columns of their own: each value is read with the position its column names, and
    a position recorded in Cara Ukur still wins."""
    text = (
        "JK;Umur;BB;PB (cm);TB;Cara Ukur\n"
        "L;5;7,5;65,2;;\n"  # line 2: length
        "P;30;12;;90,1;\n"  # 3: height
        "L;30;12;;;\n"  # 4: neither
        "L;30;12;88;88;\n"  # 5: both, equal: the value, position unknown
        "L;30;12;;91;Terlentang\n"  # 6: the recorded position wins
        "L;30;12;88;89;\n"  # 7: both, unequal: rejected
        "L;30;12;;x;\n"  # 8: TB unparseable: rejected, naming TB
        "L;5;7,5;0;;\n"  # 9: PB <= 0: rejected, naming PB
    )
    batch = read(write(tmp_path, text))
    assert batch.column_map["height_cm"] == "PB (cm)"
    (warning,) = batch.warnings
    assert "'PB (cm)' read as recumbent length, 'TB' as standing height" in warning
    rows = batch.rows.set_index("source_line")
    assert rows["height_cm"].to_dict() == pytest.approx(
        {2: 65.2, 3: 90.1, 4: np.nan, 5: 88.0, 6: 91.0}, nan_ok=True
    )
    assert rows["measure"].to_dict() == {
        2: MEASURE_LENGTH,
        3: MEASURE_HEIGHT,
        4: MEASURE_UNKNOWN,
        5: MEASURE_UNKNOWN,
        6: MEASURE_LENGTH,
    }
    rejects = batch.rejects.set_index("line")
    assert rejects["column"].to_dict() == {7: "TB", 8: "TB", 9: "PB (cm)"}
    assert rejects.loc[7, "reason"] == "length and height both given, and they differ"
    assert rejects.loc[8, "reason"] == "unparseable number"
    assert rejects.loc[9, "reason"] == "height <= 0"
    # without Cara Ukur the positions come from the columns alone; TB before PB changes nothing
    batch = read(write(tmp_path, "JK;Umur;BB;TB;PB\nL;30;12;90;\nL;5;7;;64\n", "tb.csv"))
    assert batch.rows["measure"].tolist() == [MEASURE_HEIGHT, MEASURE_LENGTH]
    assert batch.rows["height_cm"].tolist() == [90.0, 64.0]


def test_two_height_columns_that_are_not_length_and_height_are_not_joined(
    tmp_path: Path,
) -> None:
    """Only one length-only and one height-only header are joined; "Tinggi" beside "TB/PB"
    stays the first-one-and-a-warning case, and --column height_cm=TB reads TB alone."""
    batch = read(write(tmp_path, "JK;Umur;BB;Tinggi;TB/PB\nL;30;12;90;91\n"))
    assert batch.rows["height_cm"].tolist() == [90.0]
    assert "ignoring 'TB/PB'" in batch.warnings[0]
    text = "JK;Umur;BB;PB;TB\nL;30;12;;90\nL;5;7;64;\n"
    batch = read(write(tmp_path, text, "pbtb.csv"), column_overrides={"height_cm": "TB"})
    assert batch.rows["height_cm"].tolist() == pytest.approx([90.0, np.nan], nan_ok=True)
    assert batch.rows["measure"].tolist() == [MEASURE_UNKNOWN, MEASURE_UNKNOWN]


def test_column_override_wins_over_aliases(tmp_path: Path) -> None:
    text = "JK;Berat;Berat Koreksi;Kelamin Anak\nL;9;9,4;P\n"
    batch = read(
        write(tmp_path, text),
        column_overrides={"weight_kg": "Berat Koreksi", "sex": "kelamin anak"},
    )
    assert batch.column_map == {"sex": "Kelamin Anak", "weight_kg": "Berat Koreksi"}
    assert batch.rows["weight_kg"].tolist() == [9.4]
    assert batch.rows["sex"].tolist() == [2]


def test_column_override_naming_a_missing_header(tmp_path: Path) -> None:
    path = write(tmp_path, "JK;Berat\nL;9\n")
    with pytest.raises(InputError) as info:
        read(path, column_overrides={"birth_date": "tgl"})
    message = str(info.value)
    assert message.startswith(f"{path}: column 'tgl' (from --column birth_date=tgl) not found")
    assert "columns seen: JK, Berat" in message
    assert "\n" not in message


def test_column_override_with_an_unknown_canonical_name(tmp_path: Path) -> None:
    path = write(tmp_path, "JK;Berat\nL;9\n")
    with pytest.raises(UsageError, match="unknown column 'berat'; canonical columns: child_id"):
        read(path, column_overrides={"berat": "Berat"})


def test_parse_column_overrides() -> None:
    assert parse_column_overrides(["sex=JK", " weight_kg = BB (kg) "]) == {
        "sex": "JK",
        "weight_kg": "BB (kg)",
    }
    with pytest.raises(UsageError, match="expected CANONICAL=HEADER"):
        parse_column_overrides(["sex"])
    with pytest.raises(UsageError, match="unknown column 'jk'"):
        parse_column_overrides(["jk=JK"])


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def read_column(tmp_path: Path, header: str, values: Sequence[str]) -> ReadBatch:
    """Values in one column next to a valid sex and weight."""
    lines = [f"JK;Berat;{header}"] + [f"L;9;{v}" for v in values]
    return read(write(tmp_path, "\n".join(lines) + "\n"))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("L", 1), ("l", 1), (" M ", 1), ("1", 1), ("1.0", 1), ("Laki-laki", 1), ("laki laki", 1),
        ("LK", 1), ("Pria", 1), ("male", 1), ("P", 2), ("F", 2), ("2", 2), ("Perempuan", 2),
        ("pr", 2), ("Wanita", 2), ("FEMALE", 2), ("", 0), ("-", 0),
    ],
)  # fmt: skip
def test_sex_values(tmp_path: Path, text: str, code: int) -> None:
    batch = read(write(tmp_path, f"Nama;JK;Berat\nA;{text};9\n"))
    assert batch.rows["sex"].tolist() == [code]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Berdiri", MEASURE_HEIGHT), ("standing", MEASURE_HEIGHT), ("H", MEASURE_HEIGHT),
        ("tb", MEASURE_HEIGHT), ("Tinggi", MEASURE_HEIGHT), ("Terlentang", MEASURE_LENGTH),
        ("telentang", MEASURE_LENGTH), ("Berbaring", MEASURE_LENGTH),
        ("recumbent", MEASURE_LENGTH), ("l", MEASURE_LENGTH), ("PB", MEASURE_LENGTH),
        ("Panjang", MEASURE_LENGTH), ("", MEASURE_UNKNOWN),
    ],
)  # fmt: skip
def test_measure_values(tmp_path: Path, text: str, code: int) -> None:
    assert read_column(tmp_path, "Cara Ukur", [text]).rows["measure"].tolist() == [code]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("y", True), ("Ya", True), ("YES", True), ("1", True), ("true", True), ("n", False),
        ("tidak", False), ("Tdk", False), ("no", False), ("0", False), ("FALSE", False),
        ("", False),
    ],
)  # fmt: skip
def test_oedema_values(tmp_path: Path, text: str, value: bool) -> None:
    assert read_column(tmp_path, "Edema", [text]).rows["oedema"].tolist() == [value]


@pytest.mark.parametrize(
    ("text", "value"),
    [("85,5", 85.5), ("85.5", 85.5), (" 85 ", 85.0), ("\u00a085,5\u00a0", 85.5), (".5", 0.5),
     ("1e2", 100.0), ("", None), ("NA", None), ("-", None), ("#N/A N/A", None),
     ("1.#QNAN", None), ("<NA>", None), ("-nan", None), ("#NA", None)],
)  # fmt: skip
def test_number_values(tmp_path: Path, text: str, value: float | None) -> None:
    result = read_column(tmp_path, "Tinggi", [text]).rows["height_cm"].iloc[0]
    assert np.isnan(result) if value is None else result == value, result


def test_no_value_texts_are_missing_but_echoed_as_written(tmp_path: Path) -> None:
    """The texts NA, n/a, null and - mean no value in every canonical column (dates, numbers,
    places, NIK), yet the input columns written back keep them as they were typed."""
    text = (
        "NIK;JK;Tgl Lahir;Tgl Ukur;BB;TB;Desa/Kel;Catatan\n"
        "NA;P;NA;n/a;NULL;-;NA;n/a\n"
        "-;L;01/01/2023;01/06/2024;9;75;n/a;NA\n"
        "1872031708230003;L;01/01/2023;01/06/2024;9;75;Yosodadi;\n"
    )
    batch = read(write(tmp_path, text), keep_raw=True)
    assert batch.rejects.empty
    rows = batch.rows
    assert rows["child_id"].isna().tolist() == [True, True, False]
    assert rows["kelurahan"].isna().tolist() == [True, True, False]
    assert rows["birth_date"].isna().tolist() == [True, False, False]
    assert rows["visit_date"].isna().tolist() == [True, False, False]
    assert np.isnan(rows["weight_kg"].iloc[0]) and np.isnan(rows["height_cm"].iloc[0])
    assert batch.raw is not None
    assert batch.raw["Catatan"].fillna("").tolist() == ["n/a", "NA", ""]
    assert batch.raw["Desa/Kel"].tolist() == ["NA", "n/a", "Yosodadi"]
    assert batch.raw["Tgl Ukur"].tolist() == ["n/a", "01/06/2024", "01/06/2024"]
    # names are compared as written: "Nan" and "Na" are names, "NaN" is not
    names = read(write(tmp_path, "Nama;JK;BB\nNan;P;9\nNa;P;9\nNaN;P;9\n", "names.csv"))
    assert names.rows["name"].fillna("(none)").tolist() == ["Nan", "Na", "(none)"]


@pytest.mark.parametrize(
    ("text", "months"),
    [("13,5", 13.5), ("1 Tahun - 3 Bulan - 0 Hari", 15.0), ("2 th 1 bl", 25.0),
     ("0 Tahun - 0 Bulan - 30 Hari", 30 / 30.4375)],
)  # fmt: skip
def test_age_values(tmp_path: Path, text: str, months: float) -> None:
    assert read_column(tmp_path, "Umur", [text]).rows["age_months"].tolist() == [months]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2023-01-05", "2023-01-05"),
        ("2023-01-05 00:00:00", "2023-01-05"),
        ("2023-01-05T10:30:00", "2023-01-05"),
        ("2023-1-5", "2023-01-05"),
        ("2023/01/05", "2023-01-05"),
        ("05/01/2023", "2023-01-05"),
        ("05-01-2023", "2023-01-05"),
        ("5/1/2023", "2023-01-05"),
        ("05.01.2023", "2023-01-05"),
        ("05/01/2023 08:15", "2023-01-05"),
        ("05/01/23", "2023-01-05"),
        ("5-1-24", "2024-01-05"),
        ("44927", "2023-01-01"),
        ("44927.75", "2023-01-01"),
        ("5 Jan 2023", "2023-01-05"),
        ("05 Januari 2023", "2023-01-05"),
        ("17-Agu-2023", "2023-08-17"),
        ("20230105", "2023-01-05"),
        ("2024-02-29", "2024-02-29"),
        (" 2023-01-05 ", "2023-01-05"),
    ],
)
def test_date_values(tmp_path: Path, text: str, day: str) -> None:
    batch = read_column(tmp_path, "Tanggal Pengukuran", [text])
    assert batch.rows["visit_date"].tolist() == [pd.Timestamp(day)]


def test_values_read_the_same_by_arrow_and_value_by_value(tmp_path: Path) -> None:
    """Plain numbers and ISO dates are read by arrow's casts; a column with one cell the casts
    cannot read is read value by value in Python (timestamps without their times). The same
    cells must give the same rows and rejects either way: the second file repeats the first
    with every 50th row spoiled, which sends each of its columns the other way."""
    header = "JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Umur"
    rows = []
    for i in range(3000):
        visit = f"2023-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{i % 59:02d}"
        visit = "2031-01-01 10:00:00" if i % 997 == 5 else visit  # in the future
        weight = "0" if i % 1201 == 7 else f"{9 + i / 7919:.9f}"
        weight = weight.replace(".", ",") if i % 3 == 0 else weight  # a decimal comma
        weight = f" {weight} " if i % 5 == 0 else weight
        height = "" if i % 13 == 0 else f"{70 + i / 101:.7f}"
        rows.append(f"L;2021-06-{1 + i % 28:02d};{visit};{weight};{height};{i / 101:.6f}")
    spoiled = [row if i % 50 else "L;kemarin;besok;abc;x;dua" for i, row in enumerate(rows)]
    by_arrow = read(write(tmp_path, "\n".join([header, *rows]) + "\n", "arrow.csv"))
    by_value = read(write(tmp_path, "\n".join([header, *spoiled]) + "\n", "python.csv"))
    unspoiled = [2 + i for i in range(3000) if i % 50]

    def same_rows(frame: pd.DataFrame, line: str) -> pd.DataFrame:
        frame = frame[frame[line].isin(unspoiled)].drop(
            columns=["source_file", "file"], errors="ignore"
        )
        return frame.reset_index(drop=True)

    pd.testing.assert_frame_equal(
        same_rows(by_arrow.rows, "source_line"),
        same_rows(by_value.rows, "source_line"),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        same_rows(by_arrow.rejects, "line"), same_rows(by_value.rejects, "line")
    )
    assert set(by_arrow.rejects["reason"]) == {"date in the future", "weight <= 0"}


def test_missing_values_are_not_errors(tmp_path: Path) -> None:
    batch = read(write(tmp_path, f"{HEADER};Umur;Edema\n;;;;;;;;;\n;;L;;;;;;;\n"))
    assert batch.rows_read == 1  # the first line has no cell at all: a blank line
    row = batch.rows.iloc[0]
    assert row["sex"] == 1
    assert pd.isna(row["child_id"]) and pd.isna(row["birth_date"]) and pd.isna(row["visit_date"])
    assert np.isnan(row["weight_kg"]) and np.isnan(row["height_cm"])
    assert row["measure"] == MEASURE_UNKNOWN and not row["oedema"]


def test_dtypes_and_absent_columns(tmp_path: Path) -> None:
    batch = read(write(tmp_path, "JK;Berat\nL;9\n"))
    rows = batch.rows
    assert {name: str(rows[name].dtype) for name in rows.columns} == {
        "child_id": "string",
        "name": "string",
        "sex": "int8",
        "birth_date": "datetime64[s]",
        "visit_date": "datetime64[s]",
        "age_months": "float64",
        "weight_kg": "float64",
        "height_cm": "float64",
        "measure": "int8",
        "oedema": "bool",
        "posyandu": "string",
        "kelurahan": "string",
        "kecamatan": "string",
        "puskesmas": "string",
        "source_file": "string",
        "source_line": "int64",
    }
    assert rows["child_id"].isna().all() and rows["birth_date"].isna().all()
    assert rows["measure"].tolist() == [MEASURE_UNKNOWN] and rows["oedema"].tolist() == [False]


def test_text_columns_are_stripped_and_empty_is_missing(tmp_path: Path) -> None:
    text = "JK;Berat;Posyandu;Kelurahan\nL;9;  Melati ;   \n"
    rows = read(write(tmp_path, text)).rows
    assert rows["posyandu"].tolist() == ["Melati"]
    assert rows["kelurahan"].isna().all()


@pytest.mark.parametrize(
    ("cell", "nik"),
    [
        ("0012345678901234", "0012345678901234"),
        ("3372014501220002", "3372014501220002"),
        ("'0012345678901234", "0012345678901234"),
        ("3372014501220002.0", "3372014501220002"),
        (" 3372014501220002 ", "3372014501220002"),
        ("ABC-12.0", "ABC-12.0"),
    ],
)
def test_nik_is_kept_as_text(tmp_path: Path, cell: str, nik: str) -> None:
    batch = read(write(tmp_path, f"NIK;JK;Berat\n{cell};L;9\n"))
    assert batch.rows["child_id"].tolist() == [nik]
    assert batch.rows["child_id"].dtype == "string"


def test_keep_raw_echoes_the_original_cells(tmp_path: Path) -> None:
    text = "No;JK;Berat;Catatan;Catatan\n1;L;9,5;  ok ;\n2;X;9;;b\n3;P;10;x;y\n"
    batch = read(write(tmp_path, text), keep_raw=True)
    assert batch.raw is not None
    assert list(batch.raw.columns) == ["No", "JK", "Berat", "Catatan", "Catatan.1"]
    assert batch.raw["Berat"].tolist() == ["9,5", "10"]
    assert batch.raw["Catatan"].tolist() == ["  ok ", "x"]
    assert batch.raw["Catatan.1"].isna().tolist() == [True, False]
    assert read(write(tmp_path, text)).raw is None


# ---------------------------------------------------------------------------------------------
# Rejected rows
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("JK", "X", "unparseable sex"),
        ("Cara Ukur", "duduk", "unparseable measure"),
        ("Edema", "mungkin", "unparseable oedema"),
        ("Berat", "9,5 kg", "unparseable number"),
        ("Tinggi", "85.5 cm", "unparseable number"),
        ("Tinggi", "-inf", "unparseable number"),
        ("Umur", "dua", "unparseable number"),
        ("Tgl Lahir", "kemarin", "unparseable date"),
        ("Tgl Lahir", "31/02/2023", "impossible date"),
        ("Tgl Lahir", "2023-13-01", "impossible date"),
        ("Tanggal Pengukuran", "01/07/2024", "date in the future"),
        ("Tgl Lahir", "01/01/1899", "date before 1900"),
        ("Tanggal Pengukuran", "01/01/2021", "visit date before birth date"),
        ("Tinggi", "0", "height <= 0"),
        ("Tinggi", "-80", "height <= 0"),
        ("Berat", "0,0", "weight <= 0"),
        ("Umur", "-1", "age_months < 0"),
    ],
)
def test_each_rejection_reason(tmp_path: Path, column: str, value: str, reason: str) -> None:
    cells = {
        "JK": "L",
        "Tgl Lahir": "01/02/2022",
        "Tanggal Pengukuran": "05/01/2023",
        "Umur": "11",
        "Berat": "9",
        "Tinggi": "75",
        "Cara Ukur": "terlentang",
        "Edema": "tidak",
    }
    good = ";".join(cells.values())
    cells[column] = value
    text = ";".join(cells) + "\n" + good + "\n" + ";".join(cells.values()) + "\n" + good + "\n"
    batch = read(write(tmp_path, text))
    assert batch.rows_read == 3
    assert batch.rows["source_line"].tolist() == [2, 4]
    assert one_reject(batch) == {
        "file": str(tmp_path / "visits.csv"),
        "line": 3,
        "column": column,
        "value": value,
        "reason": reason,
    }


def test_a_two_digit_year_is_this_century(tmp_path: Path) -> None:
    batch = read_column(tmp_path, "Tgl Lahir", ["01/02/24", "01/02/25"])
    assert batch.rows["birth_date"].tolist() == [pd.Timestamp("2024-02-01")]
    assert batch.rejects[["value", "reason"]].values.tolist() == [
        ["01/02/25", "date in the future"]
    ]


def test_future_is_relative_to_today(tmp_path: Path) -> None:
    path = write(tmp_path, "JK;Berat;Tgl Ukur\nL;9;01/07/2024\n")
    assert len(read(path, today=dt.date(2024, 7, 1)).rows) == 1
    assert len(read(path, today=dt.date(2024, 6, 30)).rejects) == 1


def test_several_bad_cells_make_one_reject_that_names_the_others(tmp_path: Path) -> None:
    text = "JK;Tgl Lahir;Berat;Tinggi\nQ;01/01/2022;-1;abc\n"
    record = one_reject(read(write(tmp_path, text)))
    assert record["column"] == "JK" and record["value"] == "Q"
    assert record["reason"] == "unparseable sex (also: Berat, Tinggi)"


def test_a_row_with_too_many_fields_is_rejected(tmp_path: Path) -> None:
    text = "JK;Berat;Tinggi\nL;9;80\nP;8;70;extra\nP;8;70\n"
    batch = read(write(tmp_path, text))
    assert batch.rows["source_line"].tolist() == [2, 4]
    assert batch.rejects[["line", "value", "reason"]].values.tolist() == [
        [3, "P;8;70;extra", "expected 3 fields, found 4"],
    ]
    assert batch.rejects["column"].isna().all()
    assert not any("fewer fields" in warning for warning in batch.warnings)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_rows_without_their_last_empty_cells_are_rows(tmp_path: Path, encoding: str) -> None:
    """Excel saves a sheet as CSV without the separators of empty cells at the end of a row
    (past its first rows): such a row is read with those cells empty, in its place, its line
    right, and one warning says so. A row with a quoted separator counts its fields right."""
    header = "Nama;JK;Tgl Lahir;Tgl Ukur;BB;TB;Cara Ukur;Catatan"
    full = "Ani;P;01/01/2023;01/06/2024;9;75;Terlentang;"
    text = "\n".join(
        [
            header,  # 1
            full,  # 2
            "Budi;L;01/01/2023;01/06/2024;9,5;76",  # 3: Cara Ukur and Catatan left out
            '"Siti; Putri";P;01/02/2023;01/06/2024;8',  # 4: a separator inside quotes
            full,  # 5
            "Rudi;L;01/01/2023;01/06/2024;9;75;Berdiri;x;y",  # 6: too many: rejected
            "Dewi;P;01/01/2023",  # 7: the last line, short, no line break
        ]
    )
    batch = read(write(tmp_path, text.encode(encoding)), keep_raw=True)
    assert batch.rows["source_line"].tolist() == [2, 3, 4, 5, 7]
    assert batch.rows["name"].tolist() == ["Ani", "Budi", "Siti; Putri", "Ani", "Dewi"]
    assert batch.rows["weight_kg"].tolist() == pytest.approx(
        [9.0, 9.5, 8.0, 9.0, np.nan], nan_ok=True
    )
    assert batch.rows["height_cm"].tolist() == pytest.approx(
        [75.0, 76.0, np.nan, 75.0, np.nan], nan_ok=True
    )
    assert batch.rows["measure"].tolist() == [
        MEASURE_LENGTH,
        *[MEASURE_UNKNOWN] * 2,
        MEASURE_LENGTH,
        MEASURE_UNKNOWN,
    ]
    assert batch.raw is not None and batch.raw["Catatan"].isna().all()
    assert batch.rejects[["line", "reason"]].values.tolist() == [[6, "expected 8 fields, found 9"]]
    (warning,) = [w for w in batch.warnings if "fewer fields" in w]  # (and 01/06: ambiguous)
    assert "rows with fewer fields than the header, the first at line 3" in warning


def test_a_huge_short_row_and_a_short_row_with_a_line_break(tmp_path: Path) -> None:
    """A short row with a 1 MB cell (the longest field read) is read, and so are the short
    rows beside it (they were parsed again in one pyarrow block too small for them); a short row
    with a line break inside a quoted cell stays rejected, and the warning does not claim the
    quote is never closed."""
    header = "child_id,sex,birth_date,visit_date,weight_kg,height_cm,posyandu,catatan"
    big = "X" * 1_000_000
    text = "\n".join(
        [
            header,
            *(f"c{i},L,2023-01-01,2024-01-01,9.5,75.0,P,ok" for i in range(30)),
            f"cbig,L,2023-01-01,2024-01-01,9.5,75.0,{big}",  # line 32: short, huge
            f"c100,L,2023-01-01,2024-01-01,9.5,75.0,{'Y' * 50_000}",  # 33: short, long
            'c101,L,2023-01-01,2024-01-01,9.5,75.0,"Pos\nyandu"',  # 34-35: short, 2 lines
            "c102,L,2023-01-01,2024-01-01,9.5,75.0,P,ok",  # 36
        ]
    )
    batch = read(write(tmp_path, text + "\n"))
    assert batch.rows["source_line"].tolist() == [*range(2, 32), 32, 33, 36]
    assert batch.rows["posyandu"].str.len().tolist()[30:32] == [1_000_000, 50_000]
    assert batch.rejects["line"].tolist() == [34]
    (joined,) = [w for w in batch.warnings if "read as one row" in w]
    assert "lines 34-35 (2 lines)" in joined and "perhaps a quote never closed" in joined


def test_short_rows_in_every_batch_warn_once(tmp_path: Path) -> None:
    """A whole Excel export short of its last separators: every row is read, across batches
    and blocks, and the warning is given once."""
    rows = ["Nama;JK;Tgl Lahir;Tgl Ukur;BB;TB;Catatan;Lain"]
    rows += [f"n{i};P;01/01/2023;01/06/2024;9;{70 + i % 10}" for i in range(5000)]
    path = write(tmp_path, "\n".join(rows) + "\n")
    batches = read_in_batches(path, 2048, 700)
    assert len(batches) > 1
    lines = np.concatenate([b.rows["source_line"].to_numpy() for b in batches])
    assert lines.tolist() == list(range(2, 5002))
    heights = np.concatenate([b.rows["height_cm"].to_numpy() for b in batches])
    assert heights.tolist() == [70.0 + i % 10 for i in range(5000)]
    assert sum(len(b.rejects) for b in batches) == 0
    warnings = [w for b in batches for w in b.warnings if "fewer fields" in w]
    assert len(warnings) == 1 and "the first at line 2" in warnings[0]


# ---------------------------------------------------------------------------------------------
# Line numbers
# ---------------------------------------------------------------------------------------------


def test_lines_with_blank_lines_quoted_line_breaks_and_crlf(tmp_path: Path) -> None:
    text = (
        "Catatan awal\r\n"  # 1: a title line before the header
        "\r\n"  # 2
        "Nama;JK;Berat\r\n"  # 3: header
        '"Ani\r\nPutri";P;9\r\n'  # 4-5
        "\r\n"  # 6: blank
        ";;\r\n"  # 7: only delimiters: blank
        '"Budi ""B""";L;X\r\n'  # 8: rejected
        '"C\nD\nE";L;10\r\n'  # 9-11
        "Dewi;P;8"  # 12, no final line break
    )
    batch = read(write(tmp_path, text))
    assert batch.rows_read == 4
    assert batch.rows["name"].tolist() == ["Ani\r\nPutri", "C\nD\nE", "Dewi"]
    assert batch.rows["source_line"].tolist() == [4, 9, 12]
    assert batch.rejects[["line", "value"]].values.tolist() == [[8, "X"]]


def test_a_stray_quote_that_swallows_the_rest_is_said_aloud(tmp_path: Path) -> None:
    """An opening quote never closed makes the rest of the file one rejected row: the counts
    cannot show what was lost, so a warning names the lines, in whichever batch it falls."""
    rows = ["Nama;JK;Berat", *(f"n{i};P;9" for i in range(2000))]
    rows[1500] = '"Ucok;L;9'  # line 1501
    path = write(tmp_path, "\n".join(rows) + "\n")
    batches = read_in_batches(path, 512, 200)
    assert sum(len(b.rows) for b in batches) == 1499
    warnings = [w for b in batches for w in b.warnings if "never closed" in w]
    assert warnings == [
        f"{path}: lines 1501-2001 (501 lines) were read as one row, rejected: a quoted cell "
        "opened at line 1501 runs to line 2001, perhaps a quote never closed; fix it and read "
        "the file again"
    ]
    (reject,) = [r for b in batches for r in b.rejects.itertuples()]
    assert reject.line == 1501 and "joins lines 1501-2001, 501 lines" in str(reject.reason)
    quoted_line_break = read(write(tmp_path, 'Nama;JK;Berat\n"Ani\nPutri";P;9\n', "ok.csv"))
    assert not [w for w in quoted_line_break.warnings if "never closed" in w]


def test_streamed_blocks_keep_line_numbers(tmp_path: Path) -> None:
    rows = ["Nama;JK;Berat"]
    expected_lines: list[int] = []
    expected_rejects: list[int] = []
    line = 1
    for i in range(3000):
        line += 1
        if i % 97 == 0:
            rows.append(f'"nama\n{i}";L;9')
            expected_lines.append(line)
            line += 1
        elif i % 89 == 0:
            rows.append(f"broken {i};L;9;extra")
            expected_rejects.append(line)
        elif i % 79 == 0:
            rows.append(f"short {i};L")  # its last cell left out: a row all the same
            expected_lines.append(line)
        elif i % 83 == 0:
            rows.append("")
        else:
            rows.append(f"n{i};P;{8 + i % 5}")
            expected_lines.append(line)
    path = write(tmp_path, "\n".join(rows) + "\n")
    # tiny blocks so that rows, skipped rows and quoted line breaks straddle many blocks
    batches = read_in_batches(path, 512, 200)
    assert len(batches) > 5
    lines = [v for b in batches for v in b.rows["source_line"].tolist()]
    rejects = [v for b in batches for v in b.rejects["line"].tolist()]
    assert lines == expected_lines
    assert rejects == expected_rejects
    whole = read(path)
    assert whole.rows["source_line"].tolist() == expected_lines


@pytest.mark.parametrize("ending", ["", "\n", "\r\n\r\n"])
def test_a_header_alone_with_or_without_a_line_break(tmp_path: Path, ending: str) -> None:
    batch = read(write(tmp_path, "NIK;JK;Berat" + ending), keep_raw=True)
    assert batch.rows_read == 0
    assert batch.column_map == {"child_id": "NIK", "sex": "JK", "weight_kg": "Berat"}
    assert batch.raw is not None and list(batch.raw.columns) == ["NIK", "JK", "Berat"]


def test_a_huge_cell_near_the_top(tmp_path: Path) -> None:
    """Lines over the csv module's field limit (128 KiB) are looked at for the header too."""
    text = f"JK;Berat;Catatan\nL;9;{'X' * 200_000}\nP;8;ok\n"
    batch = read(write(tmp_path, text))
    assert batch.rows["weight_kg"].tolist() == [9.0, 8.0]


def test_a_header_without_rows(tmp_path: Path) -> None:
    batches = list(iter_read(write(tmp_path, "NIK;JK;Berat\n"), ReadOptions(keep_raw=True)))
    assert len(batches) == 1
    assert_reconciles(batches[0])
    assert batches[0].rows_read == 0
    assert batches[0].column_map == {"child_id": "NIK", "sex": "JK", "weight_kg": "Berat"}
    assert batches[0].raw is not None and list(batches[0].raw.columns) == ["NIK", "JK", "Berat"]


def test_read_files_needs_a_file() -> None:
    with pytest.raises(UsageError):
        read_files([])


def test_read_files_concatenates(tmp_path: Path) -> None:
    first = write(tmp_path, "JK;Berat\nL;9\nX;9\n", "a.csv")
    second = write(tmp_path, "Berat,JK,Nama\n8,P,Ani\n", "b.csv")
    batch = read_files([first, second], ReadOptions(keep_raw=True, today=TODAY))
    assert_reconciles(batch)
    assert batch.rows_read == 3
    assert batch.rows["source_file"].tolist() == [str(first), str(second)]
    assert batch.rows["weight_kg"].tolist() == [9.0, 8.0]
    assert batch.rejects["file"].tolist() == [str(first)]
    assert batch.column_map == {"sex": "JK", "weight_kg": "Berat", "name": "Nama"}
    assert batch.raw is not None and batch.raw["Nama"].isna().tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# Files that cannot be read at all
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        (b"", "empty file; expected a CSV"),
        (b"  \n\n", "empty file; expected a CSV"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file (binary data)"),
        (b"PK\x03\x04 not really a zip", "cannot read the workbook"),
        (
            b"a,b,c\n1,2,3\n",
            "no recognisable columns; columns seen: a, b, c; expected at least sex and weight or "
            "height (e.g. JK, Berat, Tinggi); map one with --column sex=NAME",
        ),
        (b"Nama;Tgl Lahir\nAni;01/01/2020\n", "not enough recognisable columns"),
        (b"%PDF-1.4 some text without any delimiter\n", "no recognisable columns"),
    ],
)
def test_unreadable_files_raise_one_readable_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "visits.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_a_truncated_gzip_file(tmp_path: Path) -> None:
    compressed = gzip.compress(b"JK;Berat\n" + b"L;9\n" * 400_000)
    path = write(tmp_path, compressed[: len(compressed) // 2], "v.csv.gz")
    with pytest.raises(InputError, match="Compressed file ended before the end-of-stream"):
        read(path)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read(tmp_path)


# ---------------------------------------------------------------------------------------------
# Properties: never a traceback, counts always reconcile
# ---------------------------------------------------------------------------------------------


def read_or_input_error(path: Path) -> ReadBatch | None:
    try:
        batch = read_file(path, ReadOptions(today=TODAY, keep_raw=True))
    except InputError as err:
        assert "\n" not in str(err)
        return None
    assert_reconciles(batch)
    return batch


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soup=st.binary(max_size=600), header=st.sampled_from([b"", b"JK;Berat;Tinggi\n"]))
def test_byte_soup_gives_rows_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, soup: bytes, header: bytes
) -> None:
    path = tmp_path_factory.mktemp("soup") / "soup.csv"
    path.write_bytes(header + soup)
    read_or_input_error(path)


# cell text: any characters (no NUL: that makes a file binary) mixed with pieces that matter
_CELL = st.lists(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00", max_codepoint=0x2FF)
    | st.sampled_from(["\n", "\r\n", "\r", '"', ";", " ", "L", "P", "9,5", "01/02/2023", "-1"]),
    max_size=6,
).map("".join)


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_CELL, min_size=4, max_size=4), max_size=25))
def test_arbitrary_cells_reconcile_with_exact_lines(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    out = io.StringIO()
    # "\r\n" as terminator makes the writer quote every cell holding a CR or an LF
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["JK", "Berat", "Tgl Lahir", "Catatan"])
    expected_lines: list[int] = []
    line = 2
    for row in rows:
        writer.writerow(row)
        if any(cell != "" for cell in row):
            expected_lines.append(line)
        line += 1 + sum(_line_breaks(cell) for cell in row)
    path = tmp_path_factory.mktemp("cells") / "cells.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    batch = read_or_input_error(path)
    assert batch is not None
    assert batch.rows_read == len(expected_lines)
    lines = sorted(batch.rows["source_line"].tolist() + batch.rejects["line"].tolist())
    assert lines == expected_lines
