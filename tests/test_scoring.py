"""Scoring a file batch by batch (what `kbtool zscore` streams) gives score_files' result."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest
from typer.testing import CliRunner

from kbtool import scoring
from kbtool.cli import app
from kbtool.reading import ReadOptions
from kbtool.scoring import iter_score_file, score_files
from kbtool.writing import Provenance, write_result
from tests.synthetic import generate_register, write_canonical_csv

runner = CliRunner()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A register of > 2 MiB (reader blocks are 1 MiB or more) with a bad date every 997 rows."""
    path = tmp_path_factory.mktemp("scoring") / "register.csv"
    write_canonical_csv(generate_register(1_200, years=(2021, 2022, 2023, 2024), seed=31), path)
    lines = path.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    birth = header.index("birth_date")
    for number in range(1, len(lines), 997):
        cells = lines[number].rstrip("\n").split(",")
        cells[birth] = "31/02/2023"
        lines[number] = ",".join(cells) + "\n"
    path.write_text("".join(lines))
    assert path.stat().st_size > 2 * 2**20
    return path


def test_batches_add_up_to_score_files(register: Path) -> None:
    whole = score_files([register])
    batches = list(iter_score_file(register, batch_rows=5_000))
    assert len(batches) >= 2
    assert len({tuple(b.table.columns) for b in batches}) == 1
    table = pd.concat([b.table for b in batches], ignore_index=True)
    pd.testing.assert_frame_equal(table, whole.table)
    rejects = pd.concat([b.rejects for b in batches], ignore_index=True)
    pd.testing.assert_frame_equal(rejects, whole.rejects)
    assert len(rejects) > 10
    assert sum(b.rows_read for b in batches) == whole.rows_read
    assert [b.sources[0]["file"] for b in batches] == [str(register)] * len(batches)
    rows_per_batch = [cast(int, b.sources[0]["rows_read"]) for b in batches]
    assert sum(rows_per_batch) == whole.sources[0]["rows_read"]
    assert batches[0].withheld == whole.withheld
    assert list(whole.withheld) == ["child_id", "name"]


def test_cli_streams_the_same_bytes(
    register: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CSV and JSON lines written batch by batch equal the whole result written at once, and
    the summary counts every batch's rows and rejects."""
    monkeypatch.setattr(scoring, "STREAM_BATCH_ROWS", 5_000)
    whole = score_files([register])
    for fmt in ("csv", "jsonl"):
        expected = io.BytesIO()
        target = tmp_path / f"whole.{fmt}"
        write_result(whole.table, fmt=fmt, output=str(target), provenance=Provenance("zscore"))
        rejects = tmp_path / "rejects.csv"
        result = runner.invoke(app, ["zscore", str(register), "-f", fmt, "--rejects", str(rejects)])
        assert result.exit_code == 0, result.stderr
        expected.write(target.read_bytes())
        assert result.stdout_bytes == expected.getvalue()
        summary = f"{whole.rows_read:,} rows read: {len(whole.table):,} scored, "
        assert summary + f"{len(whole.rejects):,} rejected" in result.stderr
        assert result.stderr.count("personal data not written") == 1
        assert len(pd.read_csv(rejects)) == len(whole.rejects)


def test_a_read_error_after_some_batches_leaves_no_output_file(
    register: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file damaged far in fails after batches were written: -o FILE is then not created
    (the write is atomic) and the error is one line with exit code 1."""
    from kbtool.errors import InputError

    real_iter_read = scoring.iter_read

    def damaged(source: str | Path, options: ReadOptions | None) -> Iterator[object]:
        batches: Any = real_iter_read(source, options)  # a generator: closed below
        yield next(batches)
        batches.close()
        raise InputError(f"{source}: line 9999: cannot be read")

    monkeypatch.setattr(scoring, "iter_read", damaged)
    monkeypatch.setattr(scoring, "STREAM_BATCH_ROWS", 5_000)
    target = tmp_path / "scores.csv"
    result = runner.invoke(app, ["zscore", str(register), "-o", str(target)])
    assert result.exit_code == 1
    assert "line 9999: cannot be read" in result.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
