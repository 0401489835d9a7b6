"""The reader's points of issue 19: mixed separators, mm/dd/yyyy dates, heights in metres and
weights in grams, a bad byte in UTF-8, a field of many megabytes, and very wide files; through
the library and through `kbtool zscore` and `kbtool import`.

Registers are made from the bundled sample (data/samples/), so each test shows what it changes.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.reading import ReadBatch, ReadOptions, iter_read, long_fields, read_file, workbooks

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "posyandu_metro_2022_2024.csv"
TODAY = dt.date(2025, 6, 30)
runner = CliRunner()


def sample(rows: int) -> pd.DataFrame:
    """The first `rows` visits of the bundled sample, every cell as text."""
    return pd.read_csv(SAMPLE, dtype=str, nrows=rows, keep_default_na=False)


def sample_lines(rows: int) -> list[str]:
    """The header and the first `rows` lines of the bundled sample, as written."""
    with SAMPLE.open(encoding="utf-8") as file:
        return [next(file).rstrip("\n") for _ in range(rows + 1)]


def read(path: Path, **options: object) -> ReadBatch:
    options.setdefault("today", TODAY)
    batch = read_file(path, ReadOptions(**options))  # type: ignore[arg-type]
    assert batch.rows_read == len(batch.rows) + len(batch.rejects)
    return batch


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def imported(path: Path, store: Path, *args: str) -> tuple[dict[str, object], str]:
    """`kbtool import --json-summary` of one file: the summary and stderr."""
    code, out, err = run("import", str(path), "--store", str(store), "--json-summary", *args)
    assert code == 0, err
    return json.loads(out), err


# --- 9. a line in another separator ------------------------------------------------------------


def mixed_separators(tmp_path: Path) -> Path:
    """Five comma rows, a ';' row (line 7), a tab row (line 8), a comma row short of its last
    three cells (line 9, as Excel writes it)."""
    header, *rows = sample_lines(6)
    other = rows.pop()
    short = ",".join(other.split(",")[:-3])
    lines = [header, *rows, other.replace(",", ";"), other.replace(",", "\t"), short]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_row_of_one_field_is_rejected_for_its_field_count(tmp_path: Path) -> None:
    batch = read(mixed_separators(tmp_path))
    assert batch.rows["source_line"].tolist() == [2, 3, 4, 5, 6, 9]
    assert batch.rejects[["line", "reason"]].values.tolist() == [
        [7, "expected 13 fields, found 1"],
        [8, "expected 13 fields, found 1"],
    ]
    assert batch.rejects["column"].isna().all()  # the row as a whole
    # the short row with several fields is still read, its last cells empty
    last = batch.rows.iloc[-1]
    assert pd.notna(last["posyandu"]) and pd.isna(last["kelurahan"]) and pd.isna(last["puskesmas"])


@pytest.mark.parametrize("command", ["zscore", "import"])
def test_rows_in_another_separator_are_rejected_by_the_commands(
    tmp_path: Path, command: str
) -> None:
    path = mixed_separators(tmp_path)
    rejects = tmp_path / "rejects.csv"
    args = ["-f", "csv"] if command == "zscore" else ["--store", str(tmp_path / "store")]
    code, _, err = run(command, str(path), "--rejects", str(rejects), *args)
    assert code == 0, err
    if command == "zscore":
        assert "8 rows read: 6 scored, 2 rejected" in err
    else:
        assert "8 rows read = 6 stored + 0 duplicates skipped + 2 rejected" in err
    written = pd.read_csv(rejects, dtype=str)
    assert written["line"].tolist() == ["7", "8"]
    assert set(written["reason"]) == {"expected 13 fields, found 1"}
    assert set(written["value"]) == {"[redacted]"}  # the whole line holds a NIK and a name


# --- 13. a field of megabytes ------------------------------------------------------------------


def with_long_fields(tmp_path: Path, end: str = "\n") -> Path:
    """30 visits; line 6's posyandu is 5 MB of letters, line 20's name 2 MB in quotes, and the
    last line's last cell 3 MB of digits (ending the file when `end` is empty)."""
    header, *rows = sample_lines(30)
    cells = rows[4].split(",")
    cells[9] = "x" * 5_000_000
    rows[4] = ",".join(cells)
    cells = rows[18].split(",")
    cells[1] = '"' + "y" * 2_000_000 + '"'
    rows[18] = ",".join(cells)
    rows[-1] = rows[-1] + "9" * 3_000_000
    path = tmp_path / "long.csv"
    path.write_text("\n".join([header, *rows]) + end, encoding="utf-8")
    return path


@pytest.mark.parametrize("end", ["\n", ""])
def test_a_field_of_megabytes_rejects_its_row_only(tmp_path: Path, end: str) -> None:
    batch = read(with_long_fields(tmp_path, end))
    assert batch.rows_read == 30
    assert batch.rows["source_line"].tolist() == [n for n in range(2, 32) if n not in (6, 20, 31)]
    assert batch.rejects[["line", "column", "reason"]].values.tolist() == [
        [6, "posyandu", "a field of 5 MB: longer than any register value (limit 1 MB)"],
        [20, "name", "a field of 2 MB: longer than any register value (limit 1 MB)"],
        [31, "puskesmas", "a field of 3 MB: longer than any register value (limit 1 MB)"],
    ]
    assert batch.rows["weight_kg"].notna().all()


def test_a_long_field_in_a_row_with_too_many_fields_is_named(tmp_path: Path) -> None:
    header, *rows = sample_lines(3)
    rows[1] += "," + "z" * 1_500_000
    path = tmp_path / "long.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    batch = read(path)
    assert batch.rejects[["line", "reason"]].values.tolist() == [
        [3, "a field of 2 MB: longer than any register value (limit 1 MB)"]
    ]


@pytest.mark.parametrize("seed", range(40))
def test_the_field_cutter_keeps_every_row_and_quote_whatever_the_blocks(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed in blocks of any size, a CSV with long runs in and out of quotes (escaped
    quotes anywhere, a stray inch mark in a cell not quoted, blanks around the quotes, text
    after a closing quote) parses
    as pyarrow parsed it before: the same rows and short cells, the mark where a long run was."""
    monkeypatch.setattr(long_fields, "FIELD_LIMIT_BYTES", 1_000)  # (small: many blocks, fast)
    rng = np.random.default_rng(seed)
    shapes = [
        "{}",
        '"{}"',
        '"a, {}"',
        '"{}, b"',
        '"a,\n{}\n, b"',
        '"x ""q"" {}"',
        '"{}"  ',  # blanks after the closing quote
        ' "{}"',  # a blank before the opening quote: the quotes are plain characters
        '"Melati" {}',  # text after a closing quote: the long run is not in quotes
    ]
    rows, long_cells = [], set()
    for row in range(12):
        cells = [f"r{row}", "short", '"quoted, short"']
        if row % 3 == 1:
            size = int(rng.integers(1_001, 4_000))
            shape = shapes[int(rng.integers(len(shapes)))]
            # in quotes, the run holds escaped quotes, wherever a block may split them
            quoted = shape.strip()[0] == '"' and "Melati" not in shape
            run = ("z" + '""') * (size // 3) if quoted else "z" * size
            if shape == "{}":  # an inch mark: a plain character in a cell not quoted
                at = int(rng.integers(1, size))
                run = run[:at] + '"' + run[at:]
            cells[1] = shape.format(run)
            long_cells.add(row)
        rows.append(",".join(cells))
    last = "z" * 1_500 if seed % 4 < 2 else '"' + 'z""' * 500 + '"'
    rows.append(f"r12,short,{last}")  # the file ends in a long field, line break or not
    data = ("\n".join(rows) + ("\n" if seed % 2 else "")).encode()
    cutter = long_fields.FieldCutter(",")
    out, at = [], 0
    while at < len(data):
        step = int(rng.choice([1, 7, 499, 500, 501, 999, 1_000, 1_001, 2_500]))
        out.append(bytes(cutter(data[at : at + step])))
        at += step
    out.append(bytes(cutter(b"")))

    def parsed(text: bytes) -> list[dict[str, str]]:
        names = ["f0", "f1", "f2"]
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(["f0", "f1", "f2"], pa.string())
            ),
        )
        return table.to_pylist()

    before, after = parsed(data), parsed(b"".join(out))
    assert [r["f0"] for r in after] == [r["f0"] for r in before] == [f"r{n}" for n in range(13)]
    for row, (was, got) in enumerate(zip(before, after, strict=True)):
        if row == 12:
            assert long_fields.long_field_reason(got["f2"]) is not None
            continue
        assert got["f2"] == was["f2"] == "quoted, short"
        if row in long_cells:
            assert long_fields.long_field_reason(got["f1"]) is not None
        else:
            assert got["f1"] == was["f1"] == "short"
    assert cutter.cuts == len(long_cells) + 1


def _state_after(state: int, text: bytes) -> int:
    """pyarrow's quoting, a byte at a time (the test's own reading of it)."""
    for byte in text:
        quote = byte == ord('"')
        if state == long_fields.START:
            state = long_fields.QUOTED if quote else long_fields.PLAIN
        elif state == long_fields.QUOTED:
            state = long_fields.QUOTE_READ if quote else long_fields.QUOTED
        elif state == long_fields.QUOTE_READ:  # "" is a quote; anything else closes them
            state = long_fields.QUOTED if quote else long_fields.PLAIN
    return state


def test_a_mark_leaves_the_parser_as_the_bytes_it_replaces_whatever_came_before() -> None:
    """For every sequence of quotes and letters handed on before a cut (up to five) and every
    sequence cut out (up to six): read from a field's start or from inside quotes, the row goes
    on inside quotes after the mark exactly when it did after the bytes cut out."""
    words = [bytes(w) for n in range(7) for w in itertools.product(b'"z', repeat=n)]
    starts = (long_fields.START, long_fields.QUOTED)
    for cut in words[1:]:
        assert [long_fields.after(s, cut) for s in starts] == [_state_after(s, cut) for s in starts]
        ends = tuple(long_fields.after(s, cut) for s in starts)
        shape = long_fields.marked(b"\x1a9\x1a", ends)
        for before in (w for w in words if len(w) < 6):
            for start in starts:
                was = _state_after(_state_after(start, before), cut) == long_fields.QUOTED
                now = _state_after(_state_after(start, before), shape) == long_fields.QUOTED
                assert was == now, (before, cut, shape)


@pytest.mark.parametrize("cell", ['"{}, b"', '"a, {}"', '"{}"', '"Melati" {}', "x{}"])
@pytest.mark.parametrize("cut", range(1, 7))
def test_a_long_field_begun_in_one_block_is_quoted_as_it_began(
    cell: str, cut: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first bytes of a long field are handed on with one block (as rows are, not held)
    and the rest cut from the next: the mark is quoted for where those first bytes left the
    parser, and the rows after it parse as before."""
    monkeypatch.setattr(long_fields, "FIELD_LIMIT_BYTES", 1_000)
    long = ("z" + '""') * 700 if cell[0] == '"' and "Melati" not in cell else "z" * 2_100
    data = f'r0,short\nr1,{cell.format(long)}\nr2,"quoted, short"\n'.encode()
    first = data.index(b"r1,") + 3 + cut
    cutter = long_fields.FieldCutter(",")
    out = b"".join(bytes(cutter(part)) for part in (data[:first], data[first:], b""))

    def cells(text: bytes) -> list[list[str]]:
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=pa_csv.ReadOptions(column_names=["f0", "f1"]),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        )
        return [list(map(str, row.values())) for row in table.to_pylist()]

    before, after = cells(data), cells(out)
    assert [row[0] for row in after] == [row[0] for row in before] == ["r0", "r1", "r2"]
    assert after[2] == before[2] == ["r2", "quoted, short"]
    assert long_fields.long_field_reason(after[1][1]) is not None


@pytest.mark.parametrize(
    "cell",
    [
        '"Melati, {long}"',  # a separator in the quotes, the long run, the closing quote
        '"{long}, Melati"',  # the opening quote, the long run, then a separator inside the quotes
        '"Melati, {long}, Mawar"',  # the long run between two separators inside the quotes
        '"Melati" {long}',  # text after the closing quote
        '"Melati,\n{long}\n"',  # line breaks inside the quotes around it
    ],
)
@pytest.mark.parametrize("megabytes", [1.5, 5])
def test_a_long_run_inside_a_quoted_cell_rejects_its_row_only(
    tmp_path: Path, cell: str, megabytes: float
) -> None:
    """The quotes around a cut run stay: the rows after it are read as rows, not swallowed
    into the quoted cell, and the row is rejected naming its column."""
    header, *rows = sample_lines(10)
    cells = rows[3].split(",")
    cells[9] = cell.format(long="z" * int(megabytes * 1_000_000))
    rows[3] = ",".join(cells)
    path = tmp_path / "quoted.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    batch = read(path)
    assert batch.rows_read == 10
    after = 6 + cell.count("\n")  # the line of the row after it
    assert batch.rows["source_line"].tolist() == [2, 3, 4, *range(after, after + 6)]
    assert batch.rejects[["line", "column"]].values.tolist() == [[5, "posyandu"]]
    assert batch.rejects["reason"].str.contains("longer than any register value").all()


def test_a_value_with_the_marks_character_is_not_taken_for_a_cut_field(tmp_path: Path) -> None:
    """A DOS end-of-file character (Ctrl-Z, the mark's own) in a value, in a file where a long
    field was cut: that row is read, only the long field's rejected."""
    header, *rows = sample_lines(6)
    cells = rows[1].split(",")
    cells[9] = "z" * 1_500_000
    rows[1] = ",".join(cells)
    cells = rows[4].split(",")
    cells[9] = "Melati\x1a"
    rows[4] = ",".join(cells)
    path = tmp_path / "ctrl-z.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    batch = read(path)
    assert batch.rows["source_line"].tolist() == [2, 4, 5, 6, 7]
    assert batch.rejects["line"].tolist() == [3]


@pytest.mark.parametrize("command", ["zscore", "import"])
def test_the_commands_reject_a_field_of_megabytes(tmp_path: Path, command: str) -> None:
    path, rejects = with_long_fields(tmp_path), tmp_path / "rejects.csv"
    args = ["-f", "csv"] if command == "zscore" else ["--store", str(tmp_path / "store")]
    code, _, err = run(command, str(path), "--rejects", str(rejects), *args)
    assert code == 0, err
    assert "seems never to end" not in err
    assert ("30 rows read: 27 scored" if command == "zscore" else "27 stored") in err
    written = pd.read_csv(rejects, dtype=str)
    assert written[["line", "column"]].values.tolist() == [
        ["6", "posyandu"],
        ["20", "name"],
        ["31", "puskesmas"],
    ]
    assert written["reason"].str.contains("longer than any register value").all()


# --- 5. dates month first ----------------------------------------------------------------------


def dated(tmp_path: Path, rows: int, order: str, name: str = "dates.csv") -> Path:
    """The first `rows` visits with their ISO dates written day first (dmy) or month first."""
    frame = sample(rows)
    for column in ("birth_date", "visit_date"):
        parts = frame[column].str.split("-", expand=True)
        year, month, day = parts[0], parts[1], parts[2]
        frame[column] = (day + "/" + month if order == "dmy" else month + "/" + day) + "/" + year
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def iso_dates(rows: int) -> pd.DataFrame:
    return sample(rows)[["birth_date", "visit_date"]].apply(pd.to_datetime)


def test_month_first_dates_are_read_as_such_and_said(tmp_path: Path) -> None:
    batch = read(dated(tmp_path, 200, "mdy"))
    assert len(batch.rejects) == 0
    expected = iso_dates(200)
    for column in ("birth_date", "visit_date"):
        assert (batch.rows[column].to_numpy() == expected[column].to_numpy()).all()
    said = [w for w in batch.warnings if "month/day/year" in w]
    assert [w.split(": ")[1] for w in said] == ["'birth_date'", "'visit_date'"]


def test_day_first_dates_are_read_without_a_word(tmp_path: Path) -> None:
    batch = read(dated(tmp_path, 200, "dmy"))
    assert len(batch.rejects) == 0 and not batch.warnings
    assert (batch.rows["visit_date"].to_numpy() == iso_dates(200)["visit_date"].to_numpy()).all()


def test_dates_that_read_either_way_are_day_first_with_a_warning(tmp_path: Path) -> None:
    header = "child_id,sex,birth_date,visit_date,weight_kg,height_cm"
    rows = ["a1,L,03/01/2023,05/02/2024,9.5,75", "a2,P,04/01/2023,06/02/2024,9.1,74"]
    path = tmp_path / "either.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    batch = read(path)
    assert batch.rows["birth_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-01-03",
        "2023-01-04",
    ]
    birth, visit = batch.warnings
    assert "'birth_date'" in birth and "--date-format mdy" in birth and "day/month/year" in birth
    assert "'visit_date'" in visit
    chosen = read(path, date_format="mdy")
    assert chosen.rows["birth_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-03-01",
        "2023-04-01",
    ]
    assert not chosen.warnings


def test_a_date_format_the_values_contradict_rejects_them(tmp_path: Path) -> None:
    batch = read(dated(tmp_path, 50, "mdy"), date_format="dmy")
    assert len(batch.rejects) > 0
    assert batch.rejects["reason"].str.startswith("impossible date").all()
    assert not batch.warnings


def written(tmp_path: Path, rows: list[str], header: str = "birth_date,visit_date") -> Path:
    path = tmp_path / "dates.csv"
    lines = [f"child_id,sex,{header},weight_kg,height_cm"]
    lines += [f"a{n},L,{row},9.5,75" for n, row in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_mistyped_date_does_not_turn_a_month_first_file(tmp_path: Path) -> None:
    """Most dates read only month first; one reads only day first (a typo): the file is read
    month first, that row alone is rejected, and the contradiction is said."""
    rows = [f"{m}/{d}/2023,{m}/{d}/2024" for m in range(1, 13) for d in range(13, 29)]
    rows[40] = "13/05/2023,05/20/2024"
    batch = read(written(tmp_path, rows))
    assert batch.rejects["line"].tolist() == [42]
    assert batch.rejects["reason"].str.startswith("impossible date").all()
    assert batch.rows["birth_date"].iloc[0] == pd.Timestamp("2023-01-13")
    assert any("some dates read only as day/month/year" in w for w in batch.warnings)


@pytest.mark.parametrize("shown_by", ["birth_date", "visit_date"])
def test_the_date_columns_of_a_file_share_one_order(tmp_path: Path, shown_by: str) -> None:
    """One date column shows month first, the other fits either order: both read month first,
    whichever column is read first."""
    rows = [f"{m}/20/2023,{m}/5/2024" for m in range(1, 13)]
    if shown_by == "visit_date":
        rows = [f"{m}/5/2023,{m}/20/2024" for m in range(1, 13)]
    batch = read(written(tmp_path, rows))
    assert len(batch.rejects) == 0
    either = "visit_date" if shown_by == "birth_date" else "birth_date"
    assert batch.rows[either].dt.strftime("%m-%d").tolist()[:2] == ["01-05", "02-05"]
    said = [w for w in batch.warnings if "month/day/year" in w]
    assert [w.split(": ")[1] for w in said] == ["'birth_date'", "'visit_date'"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("(mm/dd/yyyy)", "2023-03-01"),
        ("(dd/mm/yyyy)", "2023-01-03"),
        ("(m/d/yyyy)", "2023-03-01"),  # Excel's own code for US dates
        ("(D/M/YY)", "2023-01-03"),
        ("(mm / dd / yyyy)", "2023-03-01"),
        ("(hh-bb-tttt)", "2023-01-03"),
    ],
)
def test_a_header_naming_the_order_decides_dates_that_read_either_way(
    tmp_path: Path, header: str, expected: str
) -> None:
    rows = ["03/01/2023,05/02/2024", "04/01/2023,06/02/2024"]
    batch = read(written(tmp_path, rows, f"Tgl Lahir {header},visit_date"))
    assert batch.rows["birth_date"].dt.strftime("%Y-%m-%d").iloc[0] == expected
    assert not batch.warnings


def test_a_header_naming_the_order_outweighs_a_mistyped_date(tmp_path: Path) -> None:
    rows = ["01/02/2023,05/02/2024"] * 40 + ["13/02/2023,05/02/2024"]
    batch = read(written(tmp_path, rows, "Tgl Lahir (mm/dd/yyyy),visit_date"))
    assert batch.rows["birth_date"].dt.strftime("%Y-%m-%d").iloc[0] == "2023-01-02"
    assert batch.rejects["line"].tolist() == [42]
    assert any("some dates read only as day/month/year" in w for w in batch.warnings)


def test_dates_with_a_time_after_a_t_show_their_order(tmp_path: Path) -> None:
    rows = [f"05/{d}/2023T10:00,05/{d}/2024T09:30" for d in range(13, 20)]
    batch = read(written(tmp_path, rows))
    assert len(batch.rejects) == 0
    assert batch.rows["birth_date"].dt.strftime("%Y-%m-%d").iloc[0] == "2023-05-13"


@pytest.mark.parametrize("batch_rows", [25, 1_000_000])
def test_a_workbooks_date_order_does_not_depend_on_the_batch_size(
    tmp_path: Path, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook's rows are converted in chunks of CHUNK_ROWS as a CSV's are, whatever the
    batch: the first chunk holding day/month dates decides (here 25 rows standing for 65,536)."""
    import xlsxwriter

    monkeypatch.setattr(workbooks, "CHUNK_ROWS", 25)
    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    rows = [["03/01/2023", "05/02/2024"]] * 30 + [["01/20/2023", "05/02/2024"]] * 5
    for number, row in enumerate([["birth_date", "visit_date", "sex", "weight_kg"], *rows]):
        sheet.write_row(number, 0, [*row, "L", 9.5] if number else row)
    book.close()
    batches = list(iter_read(path, ReadOptions(today=TODAY, batch_rows=batch_rows)))
    rejects = pd.concat([batch.rejects for batch in batches])
    assert rejects["line"].tolist() == list(range(32, 37))  # the five month-first rows
    first = batches[0].rows["birth_date"].dt.strftime("%Y-%m-%d").iloc[0]
    assert first == "2023-01-03"


def test_an_iso_header_names_no_day_and_month_order(tmp_path: Path) -> None:
    """ "(yyyy-mm-dd)" holds mm-dd, yet names ISO dates: day/month dates that fit either way
    are still day first, with the warning."""
    rows = ["03/01/2023,05/02/2024", "04/01/2023,06/02/2024"]
    batch = read(written(tmp_path, rows, "Tanggal Lahir (yyyy-mm-dd),visit_date"))
    assert batch.rows["birth_date"].dt.strftime("%Y-%m-%d").iloc[0] == "2023-01-03"
    assert sum("read either way" in w for w in batch.warnings) == 2


def test_only_the_columns_holding_day_and_month_dates_are_told_their_order(
    tmp_path: Path,
) -> None:
    rows = [f"2023-01-0{d},0{d}/03/2024" for d in range(1, 8)]
    batch = read(written(tmp_path, rows))
    said = [w for w in batch.warnings if "read either way" in w]
    assert [w.split(": ")[1] for w in said] == ["'visit_date'"]


def test_dates_and_units_are_said_once_a_file_and_later_contradictions_too(
    tmp_path: Path,
) -> None:
    """60,000 rows fit either order (several blocks), heights in metres throughout, then rows
    that read only month first: each warning once, the late rows rejected, not read wrongly."""
    rows = ["03/01/2023,05/02/2024"] * 60_000 + ["01/20/2023,05/02/2024"] * 5
    path = tmp_path / "dates.csv"
    lines = ["child_id,sex,birth_date,visit_date,weight_kg,height_cm"]
    lines += [f"a{n},L,{row},9.5,0.75" for n, row in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = list(iter_read(path, ReadOptions(today=TODAY, batch_rows=10_000)))
    assert len(batches) > 2
    warnings = [w for batch in batches for w in batch.warnings]
    assert sum("read either way" in w for w in warnings) == 2  # one per date column
    assert sum("look like metres" in w for w in warnings) == 1
    assert sum("some dates read only as month/day/year" in w for w in warnings) == 1
    assert sum(len(batch.rejects) for batch in batches) == 5


def scores_of(*args: str) -> pd.DataFrame:
    code, out, err = run("zscore", *args, "-f", "csv")
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


def test_zscore_of_month_first_dates_equals_the_iso_file(tmp_path: Path) -> None:
    iso = tmp_path / "iso.csv"
    sample(300).to_csv(iso, index=False)
    month_first = dated(tmp_path, 300, "mdy")
    code, _, err = run("zscore", str(month_first), "-f", "csv")
    assert code == 0 and "300 rows read: 300 scored, 0 rejected" in err
    assert "'visit_date': dates read as month/day/year" in err
    got, expected = scores_of(str(month_first)), scores_of(str(iso))
    columns = ["age_days", "haz", "waz", "whz", "bmiz"]
    pd.testing.assert_frame_equal(got[columns], expected[columns])


def test_date_format_option_in_every_command_that_reads_files(tmp_path: Path) -> None:
    path = dated(tmp_path, 100, "mdy")
    code, _, err = run("zscore", str(path), "-f", "csv", "--date-format", "dmy")
    assert code == 0 and "100 rows read: " in err and "impossible date" in err
    summary, err = imported(path, tmp_path / "store", "--date-format", "mdy")
    assert summary["rows_stored"] == 100 and summary["rows_rejected"] == 0
    for command in ("prevalence", "quality"):
        code, _, err = run(command, str(path), "-f", "csv")
        assert code == 0, err
        assert "'birth_date': dates read as month/day/year" in err
    code, _, err = run("zscore", str(path), "--date-format", "yyyy")
    assert code == 2 and "--date-format" in err
    groups = Path(__file__).parent.parent / "data" / "samples" / "kampung_kb.csv"
    for args in (
        ["prevalence"], ["quality"], ["trend"], ["skdn"], ["growth"],
        ["compare", "--groups", str(groups), "-f", "csv"],
        ["report", "-o", str(tmp_path / "r.html")],
    ):  # fmt: skip
        code, _, err = run(*args, str(path), "--date-format", "dmy")
        assert "100 rows read: " in err and "impossible date" in err, args


def test_lang_id_says_the_date_order_and_the_long_field_in_indonesian(tmp_path: Path) -> None:
    code, _, err = run("zscore", str(dated(tmp_path, 50, "mdy")), "-f", "csv", "--lang", "id")
    assert code == 0 and "tanggal dibaca sebagai bulan/hari/tahun" in err
    assert "dates read as" not in err
    code, _, err = run("zscore", str(with_long_fields(tmp_path)), "-f", "csv", "--lang", "id")
    assert code == 0 and "isian sepanjang 5 MB" in err and "longer than" not in err


# --- 11. metres and grams ----------------------------------------------------------------------


def in_other_units(tmp_path: Path, rows: int = 200) -> Path:
    """The first `rows` visits with heights in metres and weights in grams."""
    frame = sample(rows).replace("", None)
    frame["height_cm"] = (frame["height_cm"].astype(float) / 100).round(3)
    frame["weight_kg"] = (frame["weight_kg"].astype(float) * 1000).round()
    path = tmp_path / "units.csv"
    frame.to_csv(path, index=False)
    return path


def test_heights_in_metres_and_weights_in_grams_are_said_not_converted(tmp_path: Path) -> None:
    batch = read(in_other_units(tmp_path))
    expected = sample(200).replace("", None)
    heights = (expected["height_cm"].astype(float) / 100).round(3)
    assert (
        f"'height_cm': {heights.between(0.45, 1.3).sum()} of {heights.notna().sum()} values "
        "look like metres (0.45-1.3); kbtool expects "
        "centimetres" in " ".join(batch.warnings)
    )
    assert "'weight_kg': 200 of 200 values look like grams" in " ".join(batch.warnings)
    assert batch.rows["height_cm"].equals(heights.rename("height_cm"))  # as written


def test_plausible_heights_and_weights_are_not_doubted(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    sample(200).to_csv(path, index=False)
    assert not [w for w in read(path).warnings if "look like" in w]


@pytest.mark.parametrize("command", ["zscore", "import"])
def test_the_commands_say_which_unit_a_column_seems_to_be_in(tmp_path: Path, command: str) -> None:
    args = ["-f", "csv"] if command == "zscore" else ["--store", str(tmp_path / "store")]
    code, _, err = run(command, str(in_other_units(tmp_path)), *args)
    assert code == 0, err
    assert "values look like metres" in err and "values look like grams" in err


# --- 12. a bad byte in UTF-8; Windows-1252 -----------------------------------------------------


def with_bad_byte(tmp_path: Path) -> Path:
    """100 visits of children called Ñoño (UTF-8), one byte 0xFF in line 40's name."""
    frame = sample(100)
    frame["name"] = "Ñoño " + frame["name"]
    lines = frame.to_csv(index=False).encode("utf-8").split(b"\n")
    lines[39] = lines[39].replace("Ñoño".encode(), "Ño".encode() + b"\xff" + "ño".encode(), 1)
    path = tmp_path / "bad_byte.csv"
    path.write_bytes(b"\n".join(lines))
    return path


def test_a_bad_byte_in_utf8_is_replaced_and_its_line_named(tmp_path: Path) -> None:
    batch = read(with_bad_byte(tmp_path))
    names = batch.rows.set_index("source_line")["name"]
    assert names[40].startswith("Ño\ufffd")
    assert names.drop(40).str.startswith("Ñoño ").all()  # not Ã‘
    (said,) = [w for w in batch.warnings if "UTF-8" in w]
    assert "line 40: bytes that are not UTF-8, read as U+FFFD" in said


def test_windows_1252_is_read_as_such_and_said_why(tmp_path: Path) -> None:
    frame = sample(100)
    frame["name"] = "André " + frame["name"]
    path = tmp_path / "excel.csv"
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    batch = read(path)
    assert batch.rows["name"].str.startswith("André ").all()
    assert (
        "read as Windows-1252: 100 bytes of its first megabyte are not UTF-8, and none form "
        "UTF-8 characters" in " ".join(batch.warnings)
    )


def test_zscore_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = with_bad_byte(tmp_path)
    code, out, err = run("zscore", str(path), "-f", "csv", "--keep", "name")
    assert code == 0 and "line 40: bytes that are not UTF-8" in err
    assert "Ã‘" not in out and out.count("Ñoño") == 99
    code, _, err = run("zscore", str(path), "-f", "csv", "--lang", "id")
    assert "baris 40: byte yang bukan UTF-8" in err


# --- 6. very wide files ------------------------------------------------------------------------


def test_a_register_of_2000_columns_is_scored_whole(tmp_path: Path) -> None:
    """Every column but the personal ones echoed in order, z-scores as without the extra
    columns (the privacy check per column and the writer's name check were quadratic or one
    regex pass per column; this keeps the wide path correct, not timed)."""
    frame = sample(60)
    narrow = tmp_path / "narrow.csv"
    frame.to_csv(narrow, index=False)
    extra = pd.DataFrame(
        {f"Catatan {i}": [f"c{i}-{row % 7}" for row in range(60)] for i in range(1987)}
    )
    wide = tmp_path / "wide.csv"
    pd.concat([frame, extra], axis=1).to_csv(wide, index=False)
    got, expected = scores_of(str(wide)), scores_of(str(narrow))
    echoed = [c for c in frame.columns if c not in ("child_id", "name")]
    assert list(got.columns[: len(echoed) + 1987]) == [*echoed, *extra.columns]
    assert got["Catatan 1986"].tolist() == extra["Catatan 1986"].tolist()
    same = [c for c in expected.columns if c != "source_file"]
    pd.testing.assert_frame_equal(got[same], expected[same])


def _reshaped(lines: list[str], how: str) -> list[str]:
    """The sample's lines changed so that the reader says `how` (point 20's warnings)."""
    header, body = lines[0], lines[1:]
    if how == "short row":
        return [header, *body[:5], body[5].rsplit(",", 2)[0], *body[6:]]
    if how == "two weights":
        return [header + ",berat", *(row + "," + row.split(",")[5] for row in body)]
    if how == "no dates":
        keep = [i for i, name in enumerate(header.split(",")) if not name.endswith("_date")]
        return [",".join(row.split(",")[i] for i in keep) for row in lines]
    if how == "PB and TB":
        renamed = header.replace("height_cm", "PB") + ",TB"
        return [renamed, *(row + "," for row in body)]
    if how in ("metres", "windows-1252"):
        at = header.split(",").index("height_cm" if how == "metres" else "name")
        rows = [row.split(",") for row in body]
        for cells in rows:
            if how == "windows-1252":
                cells[at] += " \xe9"
            elif cells[at]:
                cells[at] = f"{float(cells[at]) / 100:.3f}"
        return [header, *(",".join(cells) for cells in rows)]
    cells = body[3].split(",")
    cells[9] = '"' + cells[9]
    return [header, *body[:3], ",".join(cells), *body[4:]]


@pytest.mark.parametrize(
    ("how", "indonesian"),
    [
        ("short row", "dengan sel terakhirnya kosong"),
        ("two weights", "diabaikan; pilih kolom lain dengan --column weight_kg=NAMA"),
        ("no dates", "kolom tanggal lahir atau tanggal ukur tidak ditemukan"),
        ("PB and TB", "panjang dan tinggi dalam dua kolom"),
        ("open quote", "mungkin tanda kutipnya tidak ditutup"),
        ("metres", "nilai tampaknya dalam meter (0,45-1,3); kbtool membaca sentimeter"),
        ("windows-1252", "dibaca sebagai Windows-1252: 40 byte di megabyte pertamanya bukan"),
    ],
)
def test_lang_id_says_every_reader_warning_in_indonesian(
    tmp_path: Path, how: str, indonesian: str
) -> None:
    path = tmp_path / "register.csv"
    text = "\n".join(_reshaped(sample_lines(40), how)) + "\n"
    path.write_bytes(text.encode("cp1252" if how == "windows-1252" else "utf-8"))
    code, _, english = run("zscore", str(path), "-f", "csv")
    assert code == 0 and indonesian not in english
    code, _, err = run("zscore", str(path), "-f", "csv", "--lang", "id")
    assert code == 0 and indonesian in err
    for phrase in ("read as", "ignoring", "fewer fields", "column found", "quote", "lines)"):
        assert phrase not in err, phrase


def test_an_import_names_the_file_once_in_a_warning(tmp_path: Path) -> None:
    path = dated(tmp_path, 50, "mdy")
    _, err = imported(path, tmp_path / "store")
    said = [line for line in err.splitlines() if "dates read as month/day/year" in line]
    assert said and all(line.count(path.name) == 1 for line in said), said
