"""The reader's points of issue 19: mixed separators, mm/dd/yyyy dates, heights in metres and
weights in grams, a bad byte in UTF-8, a field of many megabytes, and very wide files; through
the library and through `kbtool zscore` and `kbtool import`.

Registers are made from the bundled sample (data/samples/), so each test shows what it changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.reading import ReadBatch, ReadOptions, read_file

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
