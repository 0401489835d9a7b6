"""kbtool as a library, as analysts call it from notebooks and pipelines: the public functions
take what a person naturally hands them, and refuse what they cannot use with kbtool's own
errors (kbtool.errors), never a traceback from inside pandas or numpy."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kbtool.audit import audit_register
from kbtool.errors import InputError, UsageError
from kbtool.growth import MEASURE_LENGTH, compute_zscore_arrays, compute_zscores
from kbtool.measurements import load_measurements, measurements_from_files
from kbtool.prevalence import columns_needed, compute_prevalence
from kbtool.reading import read_files
from kbtool.scoring import score_files
from kbtool.store import import_registers, open_measurements

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
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


# a girl of 379 days, 71.5 cm lying down, 8.1 kg: HAZ -1.18, WAZ -0.91 (README's example,
# WHO Anthro's figures) and a boy of the same age, 75 cm, 9 kg
CHILDREN = {
    "sex": [2, 1],
    "birth_date": pd.to_datetime(["2023-01-01", "2023-01-01"]),
    "visit_date": pd.to_datetime(["2024-01-15", "2024-01-15"]),
    "height_cm": [71.5, 75.0],
    "weight_kg": [8.1, 9.0],
    "measure": [MEASURE_LENGTH, MEASURE_LENGTH],
}


def children(**changes: Any) -> pd.DataFrame:
    """CHILDREN with some columns changed (None: left out)."""
    given = {**CHILDREN, **changes}
    return pd.DataFrame({name: values for name, values in given.items() if values is not None})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"sex": None}, "no column sex"),
        ({"birth_date": None, "visit_date": None}, "no column birth_date and visit_date"),
        ({"visit_date": None}, "no column visit_date (or age_months)"),
        ({"height_cm": None, "weight_kg": None}, "no column weight_kg or height_cm"),
    ],
)
def test_a_frame_without_a_needed_column_says_which(changes: dict[str, Any], named: str) -> None:
    """A frame whose columns are named otherwise (jk, tgl_lahir) got every z-score missing,
    silently: the caller learns which column is missing and the names to rename theirs to."""
    with pytest.raises(InputError, match=re.escape(named)) as raised:
        compute_zscores(children(**changes).assign(jk=1))
    assert "(columns: " in str(raised.value) and ", jk)" in str(raised.value)
    assert "rename yours" in str(raised.value)


def test_only_the_columns_a_result_needs_are_required() -> None:
    """Height alone gives HAZ; age in months stands for the dates; measure and oedema are
    optional: none of these is an error."""
    heights = compute_zscores(children(weight_kg=None))
    assert heights["haz"].tolist() == [-1.18, -0.53] and heights["waz"].isna().all()
    months = compute_zscores(children(birth_date=None, visit_date=None, age_months=[12.5, 12.5]))
    assert months["haz"].notna().all()
    assert compute_zscores(children(measure=None))["haz"].notna().all()


@pytest.mark.parametrize(
    ("column", "values", "said"),
    [
        ("sex", ["f", "m"], "'f' (row 0), 'm' (row 1) are not a sex code"),
        ("sex", pd.Categorical(["P", "L"]), "'P' (row 0)"),
        ("height_cm", ["71,5", "75"], "'71,5' (row 0) is not a number"),
        ("weight_kg", pd.array(["8.1", "9 kg"], dtype="string"), "'9 kg' (row 1)"),
        ("measure", ["l", "h"], "'l' (row 0), 'h' (row 1) are not a measure code"),
        # "n" and "0" were read as True (non-empty text): WAZ, WHZ, BMIZ vanished silently
        ("oedema", ["n", "0"], "'n' (row 0), '0' (row 1) are not True or False"),
        # 01/02/2023 was read month first (2 January) beside 15/01/2024 read day first
        ("birth_date", ["2023-01-01", "01/02/2023"], "'01/02/2023' (row 1) is not a date"),
        ("visit_date", [19737, 19737], "holds numbers, not dates"),
    ],
)
def test_text_that_is_not_a_canonical_value_is_named(column: str, values: Any, said: str) -> None:
    """A plain ValueError from numpy ("could not convert string to float") said neither the
    column nor the way out; the value, its row, the column and how to give it instead."""
    with pytest.raises(InputError, match=re.escape(said)) as raised:
        compute_zscores(children(**{column: values}))
    assert f"{column}: " in str(raised.value) and "give " in str(raised.value)


def test_a_wrong_value_is_named_by_the_frames_own_row_label() -> None:
    frame = children(height_cm=[71.5, "75,0"]).set_axis(["ani", "budi"])
    with pytest.raises(InputError, match=re.escape("'75,0' (row 'budi')")):
        compute_zscores(frame)


@pytest.mark.parametrize(
    "changes",
    [
        {"sex": pd.array([2, 1], dtype="Int8")},
        {"sex": pd.Categorical([2, 1])},
        {"sex": ["2", "1"]},
        {"height_cm": ["71.5", "75"]},
        {"height_cm": pd.array([71.5, 75.0], dtype="Float64")},
        {"birth_date": ["2023-01-01", "2023-01-01"]},
        {"birth_date": pd.array(["2023-01-01", "2023-01-01"], dtype="string[pyarrow]")},
        {"birth_date": [date(2023, 1, 1), date(2023, 1, 1)]},
        {"visit_date": pd.to_datetime(["2024-01-15"] * 2).tz_localize("Asia/Jakarta")},
        {"measure": pd.array([MEASURE_LENGTH, MEASURE_LENGTH], dtype="Int8")},
        {"oedema": pd.array([False, pd.NA], dtype="boolean")},
        {"oedema": pd.Series([False, None], dtype=object)},
        {"oedema": [0.0, np.nan]},
    ],
)
def test_other_dtypes_of_the_same_values_give_the_same_zscores(changes: dict[str, Any]) -> None:
    """Nullable, categorical, text numbers, ISO text or date objects, a timezone (one date
    aware, one naive raised TypeError): the same z-scores as the canonical dtypes."""
    expected = compute_zscores(children())
    assert compute_zscores(children(**changes))[["haz", "waz"]].equals(expected[["haz", "waz"]])


def test_a_missing_value_of_any_kind_is_missing() -> None:
    """None, NaN, pd.NA and blank text are each a missing value: no z-score, no error."""
    frame = children(
        sex=pd.Series([2, pd.NA], dtype=object),
        height_cm=pd.Series([71.5, " "], dtype=object),
        birth_date=pd.Series(["2023-01-01", None], dtype=object),
    )
    assert compute_zscores(frame)["haz"].tolist()[0] == -1.18
    assert compute_zscores(frame)["haz"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("arrays", "said"),
    [
        # age_days of one value was broadcast over both rows: a z-score for the wrong age
        ({"sex": [1, 2], "age_days": [100], "weight_kg": [5.0, 6.0]}, "age_days has 1 value"),
        ({"sex": [1, 2], "age_days": [100, 200, 300]}, "where sex has 2 values"),
        ({"sex": 1, "age_days": [100]}, "sex: give one value per row"),
        ({"sex": [1], "age_days": [100], "weight_kg": ["5,2"]}, "'5,2' (row 0) is not a number"),
        ({"sex": ["f"], "age_days": [100]}, "'f' (row 0) is not a sex code"),
    ],
)
def test_arrays_that_do_not_fit_are_refused(arrays: dict[str, Any], said: str) -> None:
    """Arrays of different lengths raised IndexError (or were silently broadcast), a single
    value IndexError, text ValueError or DTypePromotionError."""
    with pytest.raises(InputError, match=re.escape(said)):
        compute_zscore_arrays(**arrays)


def test_missing_measure_and_oedema_in_arrays_are_unknown_and_absent() -> None:
    """A NaN measure raised "cannot convert float NaN to integer"; a NaN oedema counted as
    oedema (bool(nan) is True) and took the WAZ away. Arrow nulls alike."""
    plain = compute_zscore_arrays([1, 1], [100, 100], [6.0, 6.0], [60.0, 60.0])
    missing = compute_zscore_arrays(
        [1, 1], [100, 100], [6.0, 6.0], [60.0, 60.0], [np.nan, np.nan], np.array([np.nan, None])
    )
    arrow = compute_zscore_arrays(
        pa.array([1, 1]), pa.array([100, 100]), pa.array([6.0, 6.0]), pa.array([60.0, 60.0]),
        pa.array([None, None], pa.int8()), pa.array([None, False]),
    )  # fmt: skip
    for result in (missing, arrow):
        assert np.array_equal(result.waz, plain.waz) and np.array_equal(result.haz, plain.haz)


def test_one_indicator_named_alone_is_a_list_of_one(register: Path) -> None:
    """indicators="stunting" was read letter by letter ("--indicator s, t, u, n, ...: not an
    indicator"), where by="kecamatan" already meant one column; audit_register's "haz" raised
    KeyError 'h'."""
    frame = measurements_from_files(register).frame
    alone = compute_prevalence(frame, indicators="stunting", by="kelurahan", child_key="child_key")
    listed = compute_prevalence(
        frame, indicators=["stunting"], by=["kelurahan"], child_key="child_key"
    )
    assert alone.equals(listed)
    assert columns_needed("kelurahan", "wasting") == columns_needed(["kelurahan"], ["wasting"])
    export = measurements_from_files(SAMPLES / "eppgbm_metro_2024.csv").frame
    assert audit_register(export, indicators="haz").indicators == ("haz",)
    with pytest.raises(UsageError, match="'stunting': not a z-score the audit compares"):
        audit_register(export, indicators=["stunting"])


@pytest.mark.parametrize("given", [{True: "y", False: "n"}, {True: "1", False: "0"}])
def test_oedema_as_text_is_refused_not_counted(given: dict[bool, str]) -> None:
    """oedema "n" or "0" (text) read as True: every child counted a severe case, underweight
    100% in every group, silently. Booleans, 0/1 numbers and missing values count as before."""
    frame = measurements_from_files(SAMPLES / "posyandu_metro_2022_2024.csv").frame
    options: dict[str, Any] = {"indicators": "underweight", "by": (), "child_key": "child_key"}
    expected = compute_prevalence(frame, **options)
    assert (expected["underweight_pct"] < 50).all()  # the sample's: about 13%
    for same in (frame["oedema"].astype(object), frame["oedema"].astype("float64")):
        assert compute_prevalence(frame.assign(oedema=same), **options).equals(expected)
    text = frame["oedema"].map(given).astype(object)
    with pytest.raises(InputError, match=f"column 'oedema' holds '{given[False]}'"):
        compute_prevalence(frame.assign(oedema=text), **options)
