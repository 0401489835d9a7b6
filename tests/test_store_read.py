"""Reading the store back: open_measurements' streamed frame against Arrow's own conversion."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbtool.errors import StoreError
from kbtool.store import import_batches, open_measurements
from kbtool.store.read import measurements_frame, read_measurements_table
from tests.store_helpers import make_children, make_visits, source_of


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # category codes depend on the order values were met; compare the values themselves
    return frame.apply(
        lambda c: c.astype(object) if isinstance(c.dtype, pd.CategoricalDtype) else c
    )


def test_streamed_frame_equals_arrows_conversion_of_every_column(tmp_path: Path) -> None:
    """Dates, nullable flags and integers, floats and texts come back exactly as Arrow's
    to_pandas gives them, missing values included (a missing visit date, a missing age)."""
    store = tmp_path / "store"
    children = make_children(40, 3, nik_share=0.7, name_share=0.3)
    rows = make_visits(children, ["2021-03-10", "2023-06-15", "2024-12-31"])
    rows.loc[0, "visit_date"] = pd.NaT  # stored without a visit date, age or z-scores
    rows.loc[1, "birth_date"] = pd.NaT
    import_batches([source_of(rows, "x.csv")], store)

    streamed = open_measurements(store)
    expected = measurements_frame(read_measurements_table(store))
    assert list(streamed.columns) == list(expected.columns)
    for name in expected.columns:
        assert streamed[name].dtype == expected[name].dtype or isinstance(
            streamed[name].dtype, pd.CategoricalDtype
        ), name
    pd.testing.assert_frame_equal(_comparable(streamed), _comparable(expected), check_dtype=False)
    assert streamed["visit_date"].isna().sum() == 1
    assert streamed["age_days"].isna().sum() == 2
    dates = streamed["visit_date"].dropna().dt.strftime("%Y-%m-%d")
    assert set(dates) == {"2021-03-10", "2023-06-15", "2024-12-31"}
    assert np.array_equal(
        np.sort(streamed["child_key"].unique()), np.sort(expected["child_key"].unique())
    )


def test_text_batches_become_one_categorical_whether_constant_or_mixed() -> None:
    # a partition column arrives as one value per batch (filled without hashing); other text
    # batches are dictionary-encoded: both must share the frame's categories
    import pyarrow as pa

    from kbtool.store.read import _ColumnFiller

    filler = _ColumnFiller(pa.field("kecamatan", pa.string()), 7)
    filler.fill(0, pa.array(["Metro Pusat"] * 3))
    filler.fill(3, pa.array(["Metro Barat", "Metro Pusat"]))
    filler.fill(5, pa.array(["Metro Barat", "Metro Barat"]))
    result = filler.result()
    assert list(result.categories) == ["Metro Pusat", "Metro Barat"]
    assert (
        list(result) == ["Metro Pusat"] * 3 + ["Metro Barat", "Metro Pusat"] + ["Metro Barat"] * 2
    )


def test_batches_are_read_from_their_buffers_at_any_offset_with_missing_values() -> None:
    """Booleans, numbers and dates are filled straight from the Arrow bitmaps and buffers:
    sliced batches (offsets off a byte boundary) and missing values give what pyarrow's own
    conversion gives."""
    import pyarrow as pa

    from kbtool.store.read import _ColumnFiller, _types

    rng = np.random.default_rng(3)
    n = 61
    missing = rng.random(n) < 0.3
    cases = {
        "flag": pa.array(rng.random(n) < 0.5, mask=missing),
        "flag_full": pa.array(rng.random(n) < 0.5),
        "days": pa.array(rng.integers(-5, 3000, n).astype(np.int32), mask=missing),
        "year": pa.array(rng.integers(2020, 2025, n).astype(np.int16), mask=missing),
        "z": pa.array(rng.normal(size=n), mask=missing),
        "key": pa.array(rng.integers(-(2**62), 2**62, n)),
        "sex": pa.array(rng.integers(0, 3, n).astype(np.int8)),
        "visit": pa.array(rng.integers(-400, 20000, n).astype(np.int32), mask=missing).cast(
            pa.date32()
        ),
    }
    cuts = [0, 3, 11, 12, 40, n]  # batches of 3, 8, 1, 28 and 21 rows, sliced off offsets
    for name, array in cases.items():
        filler = _ColumnFiller(pa.field(name, array.type), n)
        for lo, hi in itertools.pairwise(cuts):
            filler.fill(lo, array.slice(lo, hi - lo))
        got = pd.Series(filler.result())
        expected = pa.table({name: array}).to_pandas(date_as_object=False, types_mapper=_types)[
            name
        ]
        if name == "visit":
            expected = expected.astype("datetime64[ms]")
        pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
        assert str(got.dtype) == str(expected.dtype), name


def test_filters_that_do_not_fit_the_store_say_so(tmp_path: Path) -> None:
    """A filter on a column the store has not, or with a value of the wrong type, is the
    caller's mistake: the error names the filter and the store's columns, not "the store
    changed while it was being read; try again" (which trying again never cures)."""
    store = tmp_path / "store"
    rows = make_visits(make_children(5, 1, nik_share=1.0, name_share=0.0), ["2024-02-01"])
    import_batches([source_of(rows, "x.csv")], store)
    with pytest.raises(StoreError, match=r"filter.*wieght_kg.*columns: child_key") as unknown:
        open_measurements(store, filters=[("wieght_kg", ">", 10)])
    assert "changed" not in str(unknown.value)
    with pytest.raises(StoreError, match=r"filter") as wrong_type:
        read_measurements_table(store, filters=[("year", "==", "2024")])
    assert "changed" not in str(wrong_type.value)
    assert len(open_measurements(store, filters=[("year", "==", 2024)])) == len(rows)


def test_one_column_or_filter_named_alone_and_malformed_filters(tmp_path: Path) -> None:
    """columns="haz" is one column (it read as 'h', 'a', 'z'); one filter tuple is a list of
    one; a filter string, an unknown operator or a short tuple is a StoreError saying how to
    give filters, not pyarrow's TypeError."""
    store = tmp_path / "store"
    rows = make_visits(make_children(5, 1, nik_share=1.0, name_share=0.0), ["2024-02-01"])
    import_batches([source_of(rows, "x.csv")], store)
    assert open_measurements(store, columns="haz").columns.tolist() == ["haz"]
    alone = open_measurements(store, columns=["haz"], filters=("year", "==", 2024))
    assert len(alone) == len(rows)
    assert open_measurements(store, columns=["haz"], filters=("year", "==", 2023)).empty
    for bad in ("year = 2024", [("year", "~", 2024)], [("year",)]):
        with pytest.raises(StoreError, match=r"^filters "):
            open_measurements(store, filters=bad)
