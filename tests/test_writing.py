"""The shared renderer/writer: every format read back independently, atomic files, format rules."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kbtool
from kbtool import writing
from kbtool.errors import OutputError, UsageError
from kbtool.writing import (
    FORMATS,
    PARQUET_METADATA_KEY,
    Provenance,
    atomic_write,
    resolve_format,
    write_rejects_csv,
    write_result,
)

# ---------------------------------------------------------------------------------------------
# Fixtures


def mixed_frame() -> pd.DataFrame:
    """One column of each kind a kbtool result holds, each with a missing value."""
    return pd.DataFrame(
        {
            "height_cm": [74.2, np.nan, 86.19999999999999, 101.0],
            "haz": [-2.51, 0.0, np.nan, 1.07],
            "haz_flag": pd.array([0, pd.NA, 1, 0], dtype="Int8"),
            "name": pd.array(["Siti, A.", pd.NA, 'say "hi"', "Bud\u00ed"], dtype="string"),
            "kelurahan": pd.Categorical(["Iringmulyo", "Yosomulyo", None, "Iringmulyo"]),
            "visit_date": pd.to_datetime(
                pd.Series(["2024-02-01", "2023-08-15", None, "2024-08-01"])
            ),
            "age_days": np.array([365, 731, 0, 1826], dtype=np.int64),
        }
    )


def provenance() -> Provenance:
    return Provenance(
        command="prevalence",
        options={"by": ["kelurahan", "year"], "min_n": 25, "store": Path("/tmp/store")},
        sources=[{"file": "visits.csv", "sha256": "ab" * 32, "rows": 4}],
        notes=["each child counted once per period"],
        created="2024-09-01T00:00:00Z",
    )


@pytest.fixture
def not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing, "stdout_is_terminal", lambda: False)


@pytest.fixture
def a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing, "stdout_is_terminal", lambda: True)


def write_file(tmp_path: Path, fmt: str, frame: pd.DataFrame | None = None, **kwargs: Any) -> Path:
    target = tmp_path / f"result.{fmt}"
    data = mixed_frame() if frame is None else frame
    write_result(data, fmt=fmt, output=str(target), provenance=provenance(), **kwargs)
    return target


def text_of(frame: pd.DataFrame | pa.Table, fmt: str = "csv") -> str:
    """What write_result writes for `frame` as `fmt`, through a file as a command would."""
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / f"result.{fmt}"
        write_result(frame, fmt=fmt, output=str(target), provenance=provenance())
        return target.read_bytes().decode("utf-8")  # as written: no newline translation


def csv_text(frame: pd.DataFrame | pa.Table) -> str:
    return text_of(frame, "csv")


def assert_same_values(read: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Compare what a format gave back with the input, column by column, as plain values."""
    assert list(read.columns) == list(frame.columns)
    assert np.array_equal(read["height_cm"].to_numpy(float), frame["height_cm"], equal_nan=True)
    assert np.array_equal(read["haz"].to_numpy(float), frame["haz"], equal_nan=True)
    flags = read["haz_flag"].astype("Float64").to_numpy(float, na_value=np.nan)
    assert np.array_equal(flags, [0, np.nan, 1, 0], equal_nan=True)
    assert [None if pd.isna(v) else v for v in read["name"]] == [
        "Siti, A.",
        None,
        'say "hi"',
        "Budí",
    ]
    assert [None if pd.isna(v) else v for v in read["kelurahan"]] == [
        "Iringmulyo",
        "Yosomulyo",
        None,
        "Iringmulyo",
    ]
    dates = [None if pd.isna(v) else pd.Timestamp(v).date() for v in read["visit_date"]]
    assert dates == [date(2024, 2, 1), date(2023, 8, 15), None, date(2024, 8, 1)]
    assert [int(v) for v in read["age_days"]] == [365, 731, 0, 1826]


# ---------------------------------------------------------------------------------------------
# Formats


def test_csv_exact_text_of_a_tiny_frame() -> None:
    """Golden text, written by hand: shortest floats, ints as ints, ISO dates, minimal quoting."""
    frame = pd.DataFrame(
        {
            "weight_kg": [74.2, 0.1 + 0.2, np.nan, -0.0],
            "haz_flag": pd.array([1, pd.NA, 0, 0], dtype="Int8"),
            "kelurahan": pd.Categorical(["Metro", None, "Metro", "Hadimulyo Barat"]),
            "note": pd.array(['a "b"', "x,y", pd.NA, "two\nlines"], dtype="string"),
            "birth_date": pd.to_datetime(
                pd.Series(["2022-01-31", None, "2020-02-29", "2021-12-01"])
            ),
            "n": [1, 2, 3, 40],
            "ok": [True, False, True, True],
        }
    )
    expected = (
        "weight_kg,haz_flag,kelurahan,note,birth_date,n,ok\n"
        '74.2,1,Metro,"a ""b""",2022-01-31,1,true\n'
        '0.30000000000000004,,,"x,y",,2,false\n'
        ",0,Metro,,2020-02-29,3,true\n"
        '0,0,Hadimulyo Barat,"two\nlines",2021-12-01,40,true\n'
    )
    assert csv_text(frame) == expected


def test_csv_round_trips_through_pandas(tmp_path: Path) -> None:
    target = write_file(tmp_path, "csv")
    read = pd.read_csv(target, keep_default_na=False, na_values=[""])
    assert_same_values(read, mixed_frame())


def test_csv_header_is_quoted_only_when_needed() -> None:
    frame = pd.DataFrame({"a,b": [1], "plain": [2], 'q"': [3]})
    assert csv_text(frame).splitlines()[0] == '"a,b",plain,"q"""'


def test_csv_floats_read_back_to_the_same_doubles() -> None:
    """Both paths (rounded columns via a table of texts, others value by value) are exact."""
    rng = np.random.default_rng(7)
    full = rng.normal(scale=50, size=5000)
    rounded = np.round(rng.normal(size=5000), 2)
    tenths = np.round(rng.uniform(45, 120, size=5000), 1)
    for values in (full, rounded, tenths):
        values[::13] = np.nan
        text = csv_text(pd.DataFrame({"x": values}))
        cells = text.splitlines()[1:]
        parsed = np.array([float(cell) if cell else np.nan for cell in cells])
        assert np.array_equal(parsed, values, equal_nan=True)
        # Shortest form: never longer than Python's repr, which is shortest round-trip too.
        assert all(len(c) <= len(repr(v)) for c, v in zip(cells, values, strict=True) if c)


def test_rounded_column_prints_short_decimals() -> None:
    values = [74.2, -1.0, 0.05, -2.51, 120.0]
    assert csv_text(pd.DataFrame({"x": values})).split() == [
        "x",
        "74.2",
        "-1",
        "0.05",
        "-2.51",
        "120",
    ]


def test_infinite_floats_are_inf_in_csv_and_null_in_json() -> None:
    frame = pd.DataFrame({"x": [1.5, np.inf, -np.inf]})
    assert csv_text(frame).split() == ["x", "1.5", "inf", "-inf"]
    assert [json.loads(line)["x"] for line in text_of(frame, "jsonl").splitlines()] == [
        1.5,
        None,
        None,
    ]


def test_batches_join_up_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches give the same bytes as one big batch."""
    rng = np.random.default_rng(3)
    rows = 5000
    frame = pd.DataFrame(
        {
            "z": np.round(rng.normal(size=rows), 2),
            "flag": pd.array(rng.integers(0, 2, rows), dtype="Int8"),
            "status": pd.Categorical(rng.choice(["normal", "stunted"], rows)),
            "w": rng.normal(size=rows),
            "s": pd.array(rng.choice(["a", "b,c", "c"], rows), dtype="string"),
            "i": np.arange(rows) * 1000,
        }
    )
    frame.loc[::5, "s"] = pd.NA
    frame.loc[::7, ["z", "flag", "status"]] = np.nan
    whole = csv_text(frame)
    monkeypatch.setattr(writing, "_BATCH_ROWS", 1000)
    assert csv_text(frame) == whole
    read = pd.read_csv(io.StringIO(whole), keep_default_na=False, na_values=[""])
    assert np.array_equal(read["z"], frame["z"], equal_nan=True)
    assert np.array_equal(read["w"], frame["w"])
    assert np.array_equal(read["i"], frame["i"])
    flags = read["flag"].astype("Float64").to_numpy(float, na_value=np.nan)
    assert np.array_equal(flags, frame["flag"].to_numpy(float, na_value=np.nan), equal_nan=True)
    statuses = [[None if pd.isna(v) else v for v in f["status"]] for f in (read, frame)]
    assert statuses[0] == statuses[1]
    assert read["s"].isna().sum() == frame["s"].isna().sum() == rows // 5
    assert (read["s"].dropna() == frame["s"].dropna().to_numpy()).all()


def test_floats_with_a_few_outliers_are_written_exactly() -> None:
    """A rounded column with rare values far outside its bulk (a BMI from a height typed in
    metres), a -0.0 and missing values reads back to the same doubles, and no cell is "-0"."""
    rng = np.random.default_rng(5)
    bmi = np.round(rng.normal(16, 2, 20_000), 2)
    bmi[::997] = np.round(rng.uniform(1_000, 80_000, bmi[::997].size), 2)
    bmi[5] = -0.0
    bmi[::13] = np.nan
    text = csv_text(pd.DataFrame({"bmi": bmi}))
    read = pd.read_csv(io.StringIO(text), skip_blank_lines=False)  # a blank line is a NaN
    assert np.array_equal(read["bmi"], np.where(bmi == 0, 0.0, bmi), equal_nan=True)
    assert "-0" not in text.split()


def frames_of(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_write_batches_equals_write_result(tmp_path: Path, fmt: str) -> None:
    """Written batch by batch (each rendered on its own), the file is the same bytes."""
    rng = np.random.default_rng(11)
    rows = 3000
    frame = pd.DataFrame(
        {
            "z": np.round(rng.normal(size=rows), 2),
            "flag": pd.array(rng.integers(0, 2, rows), dtype="Int8"),
            "status": pd.Categorical(rng.choice(["normal", "stunted"], rows)),
            "s": pd.array(rng.choice(["a", "b,c", 'say "x"'], rows), dtype="string"),
            "line": np.arange(rows) * 100,
        }
    )
    frame.loc[::7, ["z", "flag", "status", "s"]] = None
    whole, batched = tmp_path / f"whole.{fmt}", tmp_path / f"batched.{fmt}"
    write_result(frame, fmt=fmt, output=str(whole), provenance=provenance())
    writing.write_batches(frames_of(frame, 700), fmt=fmt, output=str(batched))
    assert batched.read_bytes() == whole.read_bytes()


def test_write_batches_writes_each_frame_before_taking_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Streaming means frame k is written before frame k + 1 is asked for (so its computation
    overlaps nothing but the writing, and memory holds one frame)."""
    sink = io.BytesIO()
    monkeypatch.setattr(writing, "_stdout_binary", lambda: sink)
    lines_before: list[int] = []

    def frames() -> Iterator[pd.DataFrame]:
        for number in range(3):
            lines_before.append(sink.getvalue().count(b"\n"))
            yield pd.DataFrame({"a": [number]})

    writing.write_batches(frames(), fmt="csv", output="-")
    assert lines_before == [0, 2, 3]  # nothing, then header + row 0, then row 1 as well
    assert sink.getvalue() == b"a\n0\n1\n2\n"


def test_write_batches_datetimes_are_judged_on_all_rows(tmp_path: Path) -> None:
    """A datetime column is written as dates only when every row is a midnight, not per batch."""
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 10:30"])})
    whole, batched = tmp_path / "whole.csv", tmp_path / "batched.csv"
    write_result(frame, fmt="csv", output=str(whole), provenance=provenance())
    writing.write_batches(frames_of(frame, 1), fmt="csv", output=str(batched))
    assert (
        batched.read_text() == whole.read_text() == "t\n2024-01-01T00:00:00\n2024-01-02T10:30:00\n"
    )


def test_write_batches_of_no_rows_writes_the_header(tmp_path: Path) -> None:
    target = tmp_path / "empty.csv"
    writing.write_batches([mixed_frame().iloc[:0]], fmt="csv", output=str(target))
    assert target.read_text() == ",".join(mixed_frame().columns) + "\n"


def test_write_batches_refuses_other_columns_and_formats(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(ValueError, match="columns"):
        writing.write_batches([frame, frame[["b", "a"]]], fmt="csv", output=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="batches"):
        writing.write_batches([frame], fmt="parquet", output=str(tmp_path / "x.parquet"))


def test_write_batches_to_stdout_streams(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    writing.write_batches(frames_of(frame, 2), fmt="csv", output="-")
    assert capsysbinary.readouterr().out == b"a\n1\n2\n3\n"


def test_jsonl_one_object_per_line(tmp_path: Path) -> None:
    target = write_file(tmp_path, "jsonl")
    text = target.read_text(encoding="utf-8")
    assert "NaN" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert list(records[0]) == list(mixed_frame().columns)
    assert records[1]["height_cm"] is None and records[1]["name"] is None
    assert records[0]["visit_date"] == "2024-02-01"
    assert isinstance(records[0]["age_days"], int) and isinstance(records[0]["haz"], float)
    assert_same_values(pd.DataFrame.from_records(records), mixed_frame())


def test_json_strings_escape_every_control_character() -> None:
    # Repeated, so the column is also rendered through a table of texts (the other path).
    texts = ['quote " back \\ slash', "tab\there", "nl\nCR\r", "\x00\x01\x1f", "\u2028 é 中"] * 30
    lines = text_of(pd.DataFrame({"s": texts}), "jsonl").split("\n")
    assert lines[-1] == "" and len(lines) == len(texts) + 1
    assert [json.loads(line)["s"] for line in lines[:-1]] == texts


def test_json_document_has_meta_and_data(tmp_path: Path) -> None:
    target = write_file(tmp_path, "json")
    document = json.loads(target.read_text(encoding="utf-8"))
    assert list(document) == ["meta", "data"]
    assert document["meta"] == provenance().to_dict()
    assert document["meta"]["kbtool_version"] == kbtool.__version__
    assert document["meta"]["reference"] == "WHO Child Growth Standards (2006)"
    assert document["meta"]["options"]["store"] == "/tmp/store"
    assert_same_values(pd.DataFrame.from_records(document["data"]), mixed_frame())


def test_json_document_of_no_rows(tmp_path: Path) -> None:
    target = write_file(tmp_path, "json", frame=mixed_frame().iloc[:0])
    assert json.loads(target.read_text(encoding="utf-8"))["data"] == []


def test_parquet_round_trip_and_provenance(tmp_path: Path) -> None:
    target = write_file(tmp_path, "parquet")
    table = pq.read_table(target)
    assert json.loads(table.schema.metadata[PARQUET_METADATA_KEY]) == provenance().to_dict()
    read = table.to_pandas()
    pd.testing.assert_frame_equal(read, mixed_frame())  # dtypes too: Int8, category, string
    assert_same_values(read, mixed_frame())


def test_xlsx_sheets_values_and_about(tmp_path: Path) -> None:
    method = pd.DataFrame({"step": ["select", "classify"], "rule": ["latest valid HAZ", "< -2"]})
    target = write_file(tmp_path, "xlsx", extra_sheets={"method": method})
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["data", "method", "about"]
    data = book["data"]
    assert data.freeze_panes == "A2"
    assert all(cell.font.bold for cell in data[1])
    rows = list(data.iter_rows(values_only=True))
    read = pd.DataFrame(rows[1:], columns=rows[0])
    assert_same_values(read, mixed_frame())
    assert data.column_dimensions["A"].width >= len("height_cm")
    method_rows = list(book["method"].iter_rows(values_only=True))
    assert method_rows[0] == ("step", "rule") and method_rows[2] == ("classify", "< -2")
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True) if row[0]}
    assert about["command"] == "prevalence"
    assert about["kbtool version"] == kbtool.__version__
    assert about["reference"] == "WHO Child Growth Standards (2006)"
    assert about["min_n"] == 25 and about["by"] == '["kelurahan", "year"]'
    assert about["each child counted once per period"] is None  # a note line
    assert about["visits.csv"] == "ab" * 32  # the sources table: file, sha256, rows


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(1)", "007", "http://x.test"]})
    book = openpyxl.load_workbook(write_file(tmp_path, "xlsx", frame=frame))
    assert [row[0] for row in book["data"].iter_rows(min_row=2, values_only=True)] == list(
        frame["name"]
    )


def test_binary_formats_to_a_pipe(
    capsysbinary: pytest.CaptureFixture[bytes], not_a_terminal: None
) -> None:
    write_result(mixed_frame(), fmt="parquet", output="-", provenance=provenance())
    table = pq.read_table(io.BytesIO(capsysbinary.readouterr().out))
    pd.testing.assert_frame_equal(table.to_pandas(), mixed_frame())


def test_arrow_table_is_accepted_as_is() -> None:
    frame = mixed_frame()
    assert csv_text(frame) == csv_text(pa.Table.from_pandas(frame, preserve_index=False))


def test_index_is_not_written() -> None:
    frame = pd.DataFrame({"n": [1, 2]}, index=["a", "b"])
    assert csv_text(frame) == "n\n1\n2\n"


# ---------------------------------------------------------------------------------------------
# Awkward values, read back by other parsers


def awkward_frame() -> pd.DataFrame:
    """Every kind of value the text formats must take care of, a missing one in each column."""
    return pd.DataFrame(
        {
            "text": pd.array(
                [
                    "plain",
                    "a,b",
                    'say "hi"',
                    "two\nlines",
                    "cr\r\nlf",
                    "Bud\u00ed \u4e2d \u2028",
                    "",
                    None,
                ],
                dtype="string",
            ),
            "x": [1.5, -0.0, np.nan, np.inf, -np.inf, 0.1 + 0.2, 1e-7, 123456789.125],
            "n": pd.array([1, None, -3, 0, 2**40, 7, 8, 9], dtype="Int64"),
            "ok": pd.array([True, False, None, True, False, True, True, False], dtype="boolean"),
            "place": pd.Categorical(["Metro, Pusat", "Yosomulyo", None] + ["Iringmulyo"] * 5),
            "day": pd.to_datetime(pd.Series(["2024-02-29", None] + ["2023-12-31"] * 6)),
            "at": pd.to_datetime(
                pd.Series(["2024-02-29 10:30:05", None] + ["2023-12-31 00:00:00"] * 6)
            ),
        }
    )


# What each value of awkward_frame() reads back as: CSV text cells, and JSON values.
AWKWARD_CSV = {
    "text": [
        "plain",
        "a,b",
        'say "hi"',
        "two\nlines",
        "cr\r\nlf",
        "Bud\u00ed \u4e2d \u2028",
        "",
        "",
    ],
    "x": ["1.5", "0", "", "inf", "-inf", "0.30000000000000004", "1e-7", "123456789.125"],
    "n": ["1", "", "-3", "0", str(2**40), "7", "8", "9"],
    "ok": ["true", "false", "", "true", "false", "true", "true", "false"],
    "place": ["Metro, Pusat", "Yosomulyo", ""] + ["Iringmulyo"] * 5,
    "day": ["2024-02-29", ""] + ["2023-12-31"] * 6,
    "at": ["2024-02-29T10:30:05", ""] + ["2023-12-31T00:00:00"] * 6,
}
AWKWARD_JSON: dict[str, list[Any]] = {
    "text": [
        "plain",
        "a,b",
        'say "hi"',
        "two\nlines",
        "cr\r\nlf",
        "Bud\u00ed \u4e2d \u2028",
        "",
        None,
    ],
    "x": [1.5, 0, None, None, None, 0.1 + 0.2, 1e-7, 123456789.125],  # -0.0 is written 0
    "n": [1, None, -3, 0, 2**40, 7, 8, 9],
    "ok": [True, False, None, True, False, True, True, False],
    "place": ["Metro, Pusat", "Yosomulyo", None] + ["Iringmulyo"] * 5,
    "day": ["2024-02-29", None] + ["2023-12-31"] * 6,
    "at": ["2024-02-29T10:30:05", None] + ["2023-12-31T00:00:00"] * 6,
}


def test_awkward_values_read_back_from_csv() -> None:
    """Python's csv module gives back every cell: quoted only when it must be (RFC 4180)."""
    text = csv_text(awkward_frame())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(AWKWARD_CSV)
    assert [list(column) for column in zip(*rows[1:], strict=True)] == list(AWKWARD_CSV.values())
    assert '"plain"' not in text and '"Iringmulyo"' not in text and '"say ""hi"""' in text
    assert "nan" not in text.lower()


def test_awkward_values_read_back_by_pandas() -> None:
    read = pd.read_csv(
        io.StringIO(csv_text(awkward_frame())), keep_default_na=False, na_values=[""]
    )
    frame = awkward_frame()
    x = frame["x"].to_numpy()
    assert np.array_equal(read["x"].to_numpy(), np.where(x == 0, 0.0, x), equal_nan=True)
    assert not np.signbit(read["x"].to_numpy()[1])
    assert read["n"].astype("Int64").tolist() == frame["n"].tolist()
    assert [None if pd.isna(v) else v for v in read["text"]][:6] == AWKWARD_JSON["text"][:6]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_awkward_values_read_back_from_json(fmt: str) -> None:
    text = text_of(awkward_frame(), fmt)
    if fmt == "jsonl":
        assert text.endswith("}\n") and text.count("\n") == len(awkward_frame())
        records = [json.loads(line) for line in text.split("\n")[:-1]]  # not at U+2028
    else:
        records = json.loads(text)["data"]
    assert [list(record) for record in records] == [list(AWKWARD_JSON)] * len(records)
    for name, values in AWKWARD_JSON.items():
        read = [record[name] for record in records]
        assert read == values, name
        assert [type(v) for v in read] == [type(v) for v in values], name
    assert "\u2028" in text  # JSON may hold it as is; only control characters are escaped


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]), max_size=8)),
            st.floats(width=64),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_text_and_float_read_back(rows: list[tuple[str | None, float]]) -> None:
    """Whatever the text (quotes, commas, CR or LF alone, controls, any script) and the double,
    csv.reader and json.loads give back what was written; -0.0 as 0, nan as missing."""
    texts = [text for text, _ in rows]
    floats = [number for _, number in rows]
    frame = pd.DataFrame({"s": pd.array(texts, dtype="string"), "x": floats})
    read = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert read[0] == ["s", "x"] and len(read) == len(rows) + 1
    assert [cell for cell, _ in read[1:]] == [text or "" for text in texts]
    for (_, cell), number in zip(read[1:], floats, strict=True):
        assert (float(cell) == number and cell != "-0") if cell else math.isnan(number)
    lines = text_of(frame, "jsonl").split("\n")
    records = [json.loads(line) for line in lines[:-1]]
    assert [record["s"] for record in records] == texts
    assert [record["x"] for record in records] == [
        number + 0.0 if math.isfinite(number) else None for number in floats
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_no_rows_and_no_columns(fmt: str) -> None:
    no_rows = text_of(awkward_frame().iloc[:0], fmt)
    no_columns = text_of(pd.DataFrame(), fmt)
    if fmt == "csv":
        assert no_rows == ",".join(AWKWARD_CSV) + "\n" and no_columns == ""
    elif fmt == "jsonl":
        assert no_rows == no_columns == ""
    else:
        assert json.loads(no_rows)["data"] == json.loads(no_columns)["data"] == []


def test_rows_without_columns_are_empty_objects() -> None:
    table = pa.table({"a": [1, 2, 3]}).drop_columns(["a"])
    assert table.num_rows == 3
    assert text_of(table, "csv") == ""
    assert text_of(table, "jsonl") == "{}\n{}\n{}\n"
    assert json.loads(text_of(table, "json"))["data"] == [{}, {}, {}]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("size", [1, 3, 5])
def test_write_batches_of_awkward_values_equals_write_result(
    tmp_path: Path, fmt: str, size: int
) -> None:
    """Batches split anywhere (one all-missing, one without a value needing quotes) join up to
    the bytes of the whole; datetimes are left out here, as they make write_batches wait."""
    frame = awkward_frame().drop(columns=["day", "at"])
    whole, batched = tmp_path / f"whole.{fmt}", tmp_path / f"batched.{fmt}"
    write_result(frame, fmt=fmt, output=str(whole), provenance=provenance())
    writing.write_batches(frames_of(frame, size), fmt=fmt, output=str(batched))
    assert batched.read_bytes() == whole.read_bytes()


# ---------------------------------------------------------------------------------------------
# The table view


def test_table_view_shows_head_and_notes_the_rest(
    capsys: pytest.CaptureFixture[str], not_a_terminal: None
) -> None:
    frame = pd.DataFrame({"kelurahan": [f"kel {i}" for i in range(60)], "haz": [-1.5] * 60})
    frame.loc[3, "haz"] = np.nan
    write_result(frame, fmt="table", output=None, provenance=provenance(), title="Stunting")
    captured = capsys.readouterr()
    assert "Stunting" in captured.out
    assert "kel 49" in captured.out and "kel 50" not in captured.out
    assert "nan" not in captured.out.lower() and "<NA>" not in captured.out
    assert "showing 50 of 60 rows" in captured.err


def test_table_view_uses_table_frame_and_styles(
    capsys: pytest.CaptureFixture[str], not_a_terminal: None
) -> None:
    frame = pd.DataFrame({"n": [10, 30]})
    shown = pd.DataFrame({"jumlah": [10, 30]})
    write_result(
        frame,
        fmt="table",
        output="-",
        provenance=provenance(),
        table_frame=shown,
        row_styles=[None, "dim"],
        cell_styles={"jumlah": ["yellow", None]},
    )
    captured = capsys.readouterr()
    assert "jumlah" in captured.out and captured.err == ""
    with pytest.raises(ValueError, match="row_styles"):
        write_result(frame, fmt="table", output="-", provenance=provenance(), row_styles=["x"])


# ---------------------------------------------------------------------------------------------
# Choosing a format


def test_explicit_format_wins(not_a_terminal: None) -> None:
    assert resolve_format("jsonl", "out.csv") == "jsonl"
    assert resolve_format("XLSX", "out") == "xlsx"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("dir/a.JSON", "json"),
        ("a.parquet", "parquet"),
        ("a.xlsx", "xlsx"),
    ],
)
def test_format_from_suffix(name: str, fmt: str, not_a_terminal: None) -> None:
    assert resolve_format(None, name) == fmt


def test_stdout_default_depends_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing, "stdout_is_terminal", lambda: True)
    assert resolve_format(None, None) == "table"
    assert resolve_format(None, "-") == "table"
    monkeypatch.setattr(writing, "stdout_is_terminal", lambda: False)
    assert resolve_format(None, "-") == "csv"


def test_usage_errors(a_terminal: None) -> None:
    with pytest.raises(UsageError, match="table format only prints") as table_to_file:
        resolve_format("table", "out.csv")
    assert table_to_file.value.exit_code == 2
    with pytest.raises(UsageError, match="csv\\|jsonl\\|json\\|parquet\\|xlsx"):
        resolve_format(None, "out.txt")
    with pytest.raises(UsageError, match="refusing to write parquet to a terminal"):
        resolve_format("parquet", None)
    with pytest.raises(UsageError, match="unknown format 'yaml'"):
        resolve_format("yaml", None)
    with pytest.raises(UsageError, match="refusing to write xlsx"):
        write_result(mixed_frame(), fmt="xlsx", output="-", provenance=provenance())


def test_formats_constant() -> None:
    assert FORMATS == ("table", "csv", "jsonl", "json", "parquet", "xlsx")


# ---------------------------------------------------------------------------------------------
# Atomic files


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    """A job that fails after some rows were written leaves the old file as it was."""
    target = tmp_path / "result.csv"
    target.write_text("old\n")

    def frames() -> Iterator[pd.DataFrame]:
        yield mixed_frame()
        raise RuntimeError("killed mid-export")

    with pytest.raises(RuntimeError, match="killed mid-export"):
        writing.write_batches(frames(), fmt="csv", output=str(target))
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.csv"]


def test_disk_error_becomes_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(fd: int) -> None:  # a full disk often shows only when the data is synced
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.os, "fsync", full_disk)
    with pytest.raises(OutputError, match=r"cannot write .*out\.csv: No space left on device"):
        write_result(
            mixed_frame(), fmt="csv", output=str(tmp_path / "out.csv"), provenance=provenance()
        )
    assert list(tmp_path.iterdir()) == []


def test_permission_denied_is_one_readable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which ignores permission bits: make mkstemp refuse instead.
    def refuse(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writing.tempfile, "mkstemp", refuse)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError) as error:
        write_result(mixed_frame(), fmt="csv", output="out.csv", provenance=provenance())
    assert str(error.value) == "cannot write out.csv: Permission denied"


def test_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(OutputError, match=r"directory '.*no/such' does not exist"):
        write_result(
            mixed_frame(), fmt="csv", output=str(missing / "x.csv"), provenance=provenance()
        )


def test_directory_as_output_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"), atomic_write(tmp_path):
        pass


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "store.csv"
    with atomic_write(target) as handle:
        handle.write(b"first\n")
    old_umask = os.umask(0o022)
    os.umask(old_umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~old_umask
    target.chmod(0o600)
    with atomic_write(target) as handle:
        handle.write(b"second\n")
    assert target.read_bytes() == b"second\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.csv"]


def test_atomic_write_through_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_write(link) as handle:
        handle.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_written_not_replaced(tmp_path: Path) -> None:
    """`-o /dev/null` or `-o some.fifo` must write into it: a rename would replace the device or
    pipe with a plain file (as root, /dev/null for the whole machine)."""
    import contextlib
    import stat
    import threading

    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        write_result(pd.DataFrame({"a": [1]}), fmt="csv", output=str(fifo), provenance=provenance())
    finally:
        if reader.is_alive() and stat.S_ISFIFO(fifo.stat().st_mode):
            # let a reader that got nothing finish; without blocking, as it may have finished
            # since (a blocking open would then wait forever for a reader)
            with contextlib.suppress(OSError):  # ENXIO: no reader any more
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received == [b"a\n1\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_rejects_csv(tmp_path: Path) -> None:
    rejects = pd.DataFrame(
        {
            "reason": ["visit before birth", "height <= 0"],
            "value": ["2020-01-01", "0"],
            "file": ["a.csv", "a.csv"],
            "line": [3, 9],
            "column": ["Tgl Ukur", "TB"],
        }
    )
    target = tmp_path / "rejects.csv"
    write_rejects_csv(rejects, target)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "column", "value", "reason"]
    assert rows[1] == ["a.csv", "3", "Tgl Ukur", "2020-01-01", "visit before birth"]
    with pytest.raises(ValueError, match="lacks columns"):
        write_rejects_csv(rejects.drop(columns="reason"), target)


# ---------------------------------------------------------------------------------------------
# Provenance and stdout


def test_provenance_defaults_and_json_safety() -> None:
    made = Provenance(command="zscore", options={"when": date(2024, 1, 2), "months": (2, 8)})
    as_dict = made.to_dict()
    assert as_dict["kbtool_version"] == kbtool.__version__
    assert as_dict["reference"] == "WHO Child Growth Standards (2006)"
    assert as_dict["created"].endswith("Z") and len(as_dict["created"]) == len(
        "2024-01-02T00:00:00Z"
    )
    assert as_dict["options"] == {"when": "2024-01-02", "months": [2, 8]}
    json.dumps(as_dict)  # serialisable as is


@pytest.mark.parametrize(
    "write",
    [
        "write_result(frame, fmt='csv', output='-', provenance=Provenance('zscore'))",
        "write_batches((frame[i : i + 50_000] for i in range(0, 400_000, 50_000)), "
        "fmt='jsonl', output='-')",
    ],
)
def test_closed_pipe_exits_quietly(write: str) -> None:
    """`kbtool ... | head -c 10`: no traceback, no message, exit status 0."""
    script = (
        "import numpy as np, pandas as pd\n"
        "from kbtool.writing import Provenance, write_batches, write_result\n"
        "frame = pd.DataFrame({'x': np.random.default_rng(1).normal(size=400_000)})\n"
        f"{write}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    head = process.stdout.read(10)
    process.stdout.close()
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 0
    assert head.startswith((b"x\n", b'{"x":'))
    assert errors == b""


def test_broken_pipe_on_stdout_calls_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    class ClosedPipe(io.BytesIO):
        def write(self, data: Any) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    class FakeStdout(io.StringIO):
        buffer = ClosedPipe()

        def fileno(self) -> int:
            return 1

    redirected: list[tuple[int, int]] = []
    monkeypatch.setattr(sys, "stdout", FakeStdout())
    monkeypatch.setattr(writing, "stdout_is_terminal", lambda: False)
    monkeypatch.setattr(
        writing.os, "dup2", lambda source, target: redirected.append((source, target))
    )
    with pytest.raises(SystemExit) as exit_:
        write_result(mixed_frame(), fmt="jsonl", output="-", provenance=provenance())
    assert exit_.value.code == 0
    assert redirected and redirected[0][1] == 1


def test_json_values_never_nan() -> None:
    frame = pd.DataFrame({"x": [math.nan, 1.0], "y": pd.array([None, 2], dtype="Float64")})
    assert text_of(frame, "jsonl") == '{"x":null,"y":null}\n{"x":1,"y":2}\n'


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux, macOS)")
def test_dev_stdout_in_a_pipe_is_written(tmp_path: Path) -> None:
    """`-o /dev/stdout` in a pipeline (or `-o >(gzip > x.gz)`) names an anonymous pipe through
    /dev/fd/N: it is written into, not refused because the pipe's name resolves to no file."""
    import threading

    read_end, write_end = os.pipe()
    received: list[bytes] = []

    def drain() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            received.append(pipe.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        write_result(
            pd.DataFrame({"a": [1]}),
            fmt="csv",
            output=f"/dev/fd/{write_end}",
            provenance=provenance(),
        )
    finally:
        os.close(write_end)
        reader.join(timeout=5)
    assert received == [b"a\n1\n"]
