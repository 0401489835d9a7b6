"""Reading the store back: the frame open_measurements returns, column by column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kbtool.store import MEASUREMENT_COLUMNS, import_batches, open_measurements
from tests.store_helpers import make_children, make_visits, source_of


def test_open_measurements_gives_the_documented_types_and_missing_values(tmp_path: Path) -> None:
    """Text as categoricals, dates as datetime64[ms], flags as nullable booleans, age_days and
    year as nullable integers, missing values kept (a missing visit date, a missing age)."""
    store = tmp_path / "store"
    children = make_children(40, 3, nik_share=0.7, name_share=0.3)
    rows = make_visits(children, ["2021-03-10", "2023-06-15", "2024-12-31"])
    rows.loc[0, "visit_date"] = pd.NaT  # stored without a visit date, age or z-scores
    rows.loc[1, "birth_date"] = pd.NaT
    import_batches([source_of(rows, "x.csv")], store)

    frame = open_measurements(store)
    assert list(frame.columns) == list(MEASUREMENT_COLUMNS)
    assert len(frame) == len(rows)
    for name in ("kelurahan", "kecamatan", "posyandu", "haz_status", "import_id"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    for name in ("birth_date", "visit_date"):
        assert str(frame[name].dtype) == "datetime64[ms]", name
    for name in ("haz_flag", "position_flag", "oedema"):
        assert isinstance(frame[name].dtype, pd.BooleanDtype), name
    assert isinstance(frame["age_days"].dtype, pd.Int32Dtype)
    assert isinstance(frame["year"].dtype, pd.Int16Dtype)
    assert str(frame["child_key"].dtype) == "int64"
    assert frame["visit_date"].isna().sum() == 1
    assert frame["year"].isna().sum() == 1
    assert frame["age_days"].isna().sum() == 2
    dates = frame["visit_date"].dropna().dt.strftime("%Y-%m-%d")
    assert set(dates) == {"2021-03-10", "2023-06-15", "2024-12-31"}

    chosen = open_measurements(
        store, columns=["child_key", "kecamatan", "year"], filters=[("year", ">=", 2023)]
    )
    assert list(chosen.columns) == ["child_key", "kecamatan", "year"]
    assert set(chosen["year"]) == {2023, 2024}
    assert isinstance(chosen["kecamatan"].dtype, pd.CategoricalDtype)
