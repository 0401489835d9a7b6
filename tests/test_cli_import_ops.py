"""kbtool import as a cron job or a pipeline step runs it: options misused, waiting for another
import, failing with a machine-readable summary."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kbtool.cli import app
from kbtool.errors import KbtoolError
from kbtool.reading import ReadOptions
from kbtool.store import import_registers

runner = CliRunner()

REGISTER = (
    "child_id,sex,birth_date,visit_date,weight_kg,height_cm,measure,kelurahan,posyandu\n"
    "1872031708230003,1,2023-01-01,2024-01-01,8,70,l,Mulyosari,Posyandu A\n"
    "1872031708230004,2,2023-02-01,2024-01-01,7.5,68,l,Mulyosari,Posyandu A\n"
)


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["import", "zscore", "prevalence", "quality"])
def test_sheet_with_a_csv_file_is_a_usage_error(tmp_path: Path, command: str) -> None:
    """--sheet names a workbook's sheet: with a CSV it was ignored, and import then knew the
    file as 'sha256#Sheet', so the same CSV imported without it was not 'already imported'."""
    register, store = tmp_path / "register.csv", tmp_path / "store"
    register.write_text(REGISTER)
    extra = ["--store", str(store)] if command == "import" else []
    code, out, err = run(command, str(register), "--sheet", "Data", *extra)
    assert code == 2, err
    assert out == ""
    assert "--sheet" in err and "register.csv" in err


def test_sheet_with_csv_on_stdin_is_a_usage_error(tmp_path: Path) -> None:
    """The same for a CSV read from standard input."""
    code, _, err = run("zscore", "-", "--sheet", "Data", stdin=REGISTER)
    assert code == 2, err
    assert "--sheet" in err
    code, _, err = run("import", "-", "--sheet", "Data", "--store", str(tmp_path / "s"),
                       stdin=REGISTER)  # fmt: skip
    assert code == 2, err
    assert "--sheet" in err


def hold_lock(store: Path) -> int:
    """Take the store's lock as a running import does (this process, another descriptor)."""
    fd = os.open(store / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.pwrite(fd, b"424242\n", 0)
    return fd


@pytest.mark.parametrize(
    ("content", "sheet", "problem"),
    [
        ("foo,bar\n1,2\n", None, "no recognisable columns"),
        ("", None, "empty file"),
        (REGISTER, "Data", "--sheet"),
    ],
)
def test_import_finds_a_bad_file_before_waiting_for_the_store(
    tmp_path: Path, content: str, sheet: str | None, problem: str
) -> None:
    """A file the import cannot read is refused at once, not after waiting (in a cron job:
    for hours) for another import to release the store."""
    store, register = tmp_path / "store", tmp_path / "register.csv"
    register.write_text(REGISTER)
    import_registers([register], store)
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    waits: list[str] = []
    fd = hold_lock(store)
    try:
        started = time.monotonic()
        with pytest.raises(KbtoolError, match=problem):
            import_registers(
                [register, bad], store, read_options=ReadOptions(sheet=sheet),
                on_wait=waits.append, lock_timeout=30,
            )  # fmt: skip
        assert time.monotonic() - started < 10
        assert waits == []
    finally:
        os.close(fd)


def test_import_of_a_bad_file_creates_no_store(tmp_path: Path) -> None:
    """Nor does a refused file leave an empty store behind where there was none."""
    bad, store = tmp_path / "bad.csv", tmp_path / "store"
    bad.write_text("foo,bar\n1,2\n")
    code, _, err = run("import", str(bad), "--store", str(store))
    assert code == 1
    assert "no recognisable columns" in err
    assert not store.exists()


def test_wait_bounds_the_wait_for_another_import(tmp_path: Path) -> None:
    """--wait SECONDS: a cron job gives up (exit 1, saying why) when another import still holds
    the store, instead of hanging; nothing is imported."""
    store, register = tmp_path / "store", tmp_path / "register.csv"
    register.write_text(REGISTER)
    import_registers([tmp_path / "register.csv"], store)
    other = tmp_path / "other.csv"
    other.write_text(REGISTER.replace("2024-01-01", "2024-02-01"))
    fd = hold_lock(store)
    try:
        started = time.monotonic()
        code, out, err = run("import", str(other), "--store", str(store), "--wait", "0.5")
        assert time.monotonic() - started < 20
    finally:
        os.close(fd)
    assert code == 1
    assert "locked by another import" in err and "424242" in err
    assert out == ""
    code, _, _ = run("import", str(other), "--store", str(store), "--wait", "0")
    assert code == 0  # the lock released: imported, not "already imported"
    assert run("import", str(other), "--store", str(store), "--wait", "-1")[0] == 2


def failure_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """Imports that fail outright: arguments, and the error kind the summary names."""
    store, register = tmp_path / "store", tmp_path / "register.csv"
    register.write_text(REGISTER)
    unrecognised = tmp_path / "unrecognised.csv"
    unrecognised.write_text("foo,bar\n1,2\n")
    damaged = tmp_path / "damaged"
    import_registers([register], damaged)
    (damaged / "FORMAT_VERSION").write_text("9\n")
    rejected = tmp_path / "rejected.csv"
    rejected.write_text(REGISTER.replace(",1,2023", ",7,2023").replace(",2,2023", ",9,2023"))
    return {
        "missing": ([str(tmp_path / "missing.csv"), "--store", str(store)], "input"),
        "unrecognised": ([str(unrecognised), "--store", str(store)], "input"),
        "damaged": ([str(register), "--store", str(damaged)], "store"),
        "sheet": ([str(register), "--sheet", "Data", "--store", str(store)], "usage"),
        "all rejected": ([str(rejected), "--store", str(store)], "input"),
    }


@pytest.mark.parametrize("case", ["missing", "unrecognised", "damaged", "sheet", "all rejected"])
def test_json_summary_of_a_failed_import(tmp_path: Path, case: str) -> None:
    """--json-summary > import.json: a failed import printed nothing (file not found, columns,
    store) and the job's import.json was not JSON. Every failure now prints a document saying
    it failed and why, with the exit code, and nothing personal."""
    args, kind = failure_cases(tmp_path)[case]
    code, out, err = run("import", *args, "--json-summary", "--quiet")
    assert code in (1, 2)
    summary = json.loads(out)
    assert summary["ok"] is False
    assert summary["exit_code"] == code
    assert summary["error"]["kind"] == kind
    assert summary["error"]["message"] and summary["error"]["message"] in err
    assert "1872031708230003" not in out


def test_json_summary_of_a_store_locked_too_long(tmp_path: Path) -> None:
    """The same when --wait gives up."""
    store, register = tmp_path / "store", tmp_path / "register.csv"
    register.write_text(REGISTER)
    import_registers([register], store)
    other = tmp_path / "other.csv"
    other.write_text(REGISTER.replace("2024-01-01", "2024-02-01"))
    fd = hold_lock(store)
    try:
        code, out, _ = run("import", str(other), "--store", str(store), "--wait", "0",
                           "--json-summary")  # fmt: skip
    finally:
        os.close(fd)
    assert code == 1
    summary = json.loads(out)
    assert (summary["ok"], summary["error"]["kind"]) == (False, "store")
    assert "locked" in summary["error"]["message"]


def test_json_summary_of_a_landed_import_says_ok(tmp_path: Path) -> None:
    """A landed import's summary says so in the same words."""
    store, register = tmp_path / "store", tmp_path / "register.csv"
    register.write_text(REGISTER)
    code, out, _ = run("import", str(register), "--store", str(store), "--json-summary")
    summary = json.loads(out)
    assert code == 0
    assert (summary["ok"], summary["exit_code"], summary["error"]) == (True, 0, None)
    assert summary["rows_stored"] == 2
