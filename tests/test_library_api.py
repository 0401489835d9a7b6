"""kbtool as a library, as analysts call it from notebooks and pipelines: the public functions
take what a person naturally hands them, and refuse what they cannot use with kbtool's own
errors (kbtool.errors), never a traceback from inside pandas or numpy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kbtool.measurements import load_measurements, measurements_from_files
from kbtool.reading import read_files
from kbtool.scoring import score_files
from kbtool.store import import_registers, open_measurements

REGISTER = (
    "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Tanggal Ukur,Berat,Tinggi,Cara Ukur,Posyandu,Desa\n"
    "3171010101010001,Ani,P,2023-01-01,2024-01-15,8.1,71.5,terlentang,Melati,Sukamaju\n"
    "3171010101010002,Budi,L,2022-06-01,2024-01-15,11.0,84.0,berdiri,Melati,Sukamaju\n"
)


@pytest.fixture
def register(tmp_path: Path) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    return path


READERS: dict[str, Callable[[Any], Any]] = {
    "read_files": read_files,
    "score_files": score_files,
    "measurements_from_files": measurements_from_files,
    "load_measurements": lambda files: load_measurements(files, None, ["child_key", "haz"]),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("as_type", [str, Path])
def test_one_file_named_alone_is_a_list_of_one(
    register: Path, reader: str, as_type: Callable[[Path], Any]
) -> None:
    """`measurements_from_files("x.csv")` read the string letter by letter ("x: file not
    found"), and a Path raised TypeError: one path is one file, as import_registers takes it."""
    alone = READERS[reader](as_type(register))
    listed = READERS[reader]([register])
    assert alone.rows_read == listed.rows_read == 2


def test_import_registers_takes_one_file_alone(register: Path, tmp_path: Path) -> None:
    import_registers(str(register), tmp_path / "store")
    assert len(open_measurements(tmp_path / "store", columns=["child_key"])) == 2
