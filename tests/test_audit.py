"""kbtool.audit: a register's own z-scores and statuses against WHO's, and why they differ.

Registers with a known mistake are written by tests/synthetic.py (`to_eppgbm(mistakes=...)`),
whose recorded values are the WHO kernel run with one input changed (`recorded_zscores`): the
audit must name that mistake for every disagreement. A value that an earlier mistake in the
audit's order reproduces just as well is rightly named after it; such rows are left out of the
register before writing it (`unambiguous`), so every disagreement has one right answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kbtool.audit import (
    CAUSES,
    RecordedColumns,
    audit_register,
    columns_needed,
    split_column_options,
)
from kbtool.audit.causes import boundary
from kbtool.audit.compare import Scores, scores_of
from kbtool.audit.values import FLAGGED, MISSING, UNRECOGNISED, parse_status, parse_z
from kbtool.errors import InputError, UsageError
from kbtool.growth import compute_zscore_arrays
from kbtool.measurements import measurements_from_files
from kbtool.prevalence import compute_prevalence
from tests.synthetic import (
    RECORDING_MISTAKES,
    generate_register,
    measure_codes,
    recorded_zscores,
    write_eppgbm_csv,
)

SCORES = ("haz", "waz", "whz")


def register(children: int = 120, seed: int = 11) -> pd.DataFrame:
    return generate_register(children, years=(2024,), seed=seed)


def read_audit(path: Path, by: str = "posyandu") -> tuple[pd.DataFrame, object]:
    picker = RecordedColumns()
    columns = [*columns_needed(by), "haz_flag"]  # haz_flag: for kbtool prevalence beside it
    frame = measurements_from_files([path], columns=columns, pick_headers=picker).frame
    return frame, audit_register(frame, by=by, indicators=picker.indicators())


def audited(
    frame: pd.DataFrame, tmp_path: Path, mistake: str | None = None, by: str = "posyandu"
) -> object:
    """The audit of `frame` exported as e-PPGBM with `mistake` in every posyandu."""
    path = tmp_path / "export.csv"
    names = frame["posyandu"].astype(str).unique()
    write_eppgbm_csv(frame, path, mistakes=dict.fromkeys(names, mistake) if mistake else None)
    return read_audit(path, by)[1]


def kernel_inputs(frame: pd.DataFrame) -> dict[str, Any]:
    """compute_zscore_arrays' inputs of a canonical frame, as to_eppgbm gives them."""
    days = (frame["visit_date"] - frame["birth_date"]).dt.days.to_numpy(np.float64)
    return {
        "sex": frame["sex"].to_numpy(np.int64),
        "age_days": days,
        "weight_kg": frame["weight_kg"].to_numpy(np.float64, na_value=np.nan),
        "lenhei_cm": frame["height_cm"].to_numpy(np.float64, na_value=np.nan),
        "measure": measure_codes(frame["measure"]),
        "oedema": frame["oedema"].to_numpy(bool),
    }


def stale_days(frame: pd.DataFrame) -> np.ndarray:
    """The ages at to_eppgbm's default export date: two weeks after the last visit."""
    export = frame["visit_date"].max() + pd.Timedelta(days=14)
    return (export - frame["birth_date"]).dt.days.to_numpy(np.float64)


def other_way(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """The z-scores of the 0.7 cm correction made as if measured in the other position (the
    second half of no_position_correction; the generator makes the first, a skipped one)."""
    shift = np.where(inputs["age_days"] < 731, 0.7, -0.7)
    unknown = np.zeros(len(shift), dtype=np.int8)  # the kernel adds nothing of its own
    z, _ = recorded_zscores(dict(inputs, lenhei_cm=inputs["lenhei_cm"] + shift, measure=unknown))
    return z


def reproduced(
    frame: pd.DataFrame, values: dict[str, np.ndarray], mistakes: list[str]
) -> np.ndarray:
    """Rows where one of `mistakes` gives a value of `values` that is not WHO's."""
    inputs = kernel_inputs(frame)
    stale = stale_days(frame)
    who, _ = recorded_zscores(inputs)
    others = [recorded_zscores(inputs, mistake, stale)[0] for mistake in mistakes]
    if "no_position_correction" in mistakes:
        others.append(other_way(inputs))
    found = np.zeros(len(frame), dtype=bool)
    for theirs in others:
        for name in values:
            found |= (values[name] == theirs[name]) & (values[name] != who[name])
    return found


def unambiguous(frame: pd.DataFrame, mistake: str) -> pd.DataFrame:
    """The rows none of whose values under `mistake` an earlier mistake also gives."""
    mine, _ = recorded_zscores(kernel_inputs(frame), mistake, stale_days(frame))
    earlier = list(CAUSES[: CAUSES.index(mistake)])
    return frame[~reproduced(frame, mine, earlier)].reset_index(drop=True)


def causes_named(result: object) -> pd.Series:
    rows = result.row_table()  # type: ignore[attr-defined]
    return rows["cause"].dropna().astype(str)


# --- a correct register -------------------------------------------------------------------


def test_correct_register_agrees_everywhere(tmp_path: Path) -> None:
    result = audited(register(), tmp_path)
    table = result.table  # type: ignore[attr-defined]
    assert set(table["indicator"]) == set(SCORES)
    assert (table["disagreements"] == 0).all()
    compared = table["z_compared"] > 0
    assert compared.any()
    assert (table.loc[compared, "z_agree_pct"] == 100).all()
    assert (table.loc[table["status_compared"] > 0, "status_agree_pct"] == 100).all()
    assert table["main_cause"].isna().all()
    assert (table["difference_points"].dropna() == 0).all()
    assert causes_named(result).empty


# --- each known mistake -------------------------------------------------------------------


@pytest.mark.parametrize(
    "mistake",
    ["age_in_completed_months", "no_position_correction", "sex_swapped", "truncated"],
)
def test_each_mistake_is_named_for_every_disagreement(tmp_path: Path, mistake: str) -> None:
    frame = register()
    if mistake == "no_position_correction":
        # every child measured in the position the age does not expect: WHO corrects them all
        frame["measure"] = frame["measure"].map({"l": "h", "h": "l"})
    frame = unambiguous(frame, mistake)
    result = audited(frame, tmp_path, mistake)
    named = causes_named(result)
    assert len(named) >= 50
    assert set(named) == {mistake}
    table = result.table  # type: ignore[attr-defined]
    totals = table[table["posyandu"] == "All"]
    assert (totals.loc[totals["disagreements"] > 0, "main_cause"] == mistake).all()


def test_position_recorded_the_other_way(tmp_path: Path) -> None:
    """A length measured lying (WHO: no correction) that the register's software took for a
    standing height, adding 0.7 cm: the same arithmetic as a skipped correction."""
    frame = register()
    frame = frame[(frame["birth_date"] + pd.Timedelta(days=400) < frame["visit_date"])]
    frame = frame[(frame["visit_date"] - frame["birth_date"]).dt.days < 700].reset_index(drop=True)
    frame["measure"] = "l"
    inputs = kernel_inputs(frame)
    flipped = dict(inputs, measure=np.full(len(frame), 2, dtype=np.int8))  # standing: + 0.7 cm
    haz = compute_zscore_arrays(**flipped).haz
    keep = ~reproduced(frame, {"haz": haz}, ["age_in_completed_months"])
    frame, haz = frame[keep].reset_index(drop=True), haz[keep]
    path = tmp_path / "kader.csv"
    export = frame[["child_id", "sex", "birth_date", "visit_date", "weight_kg", "height_cm"]]
    export = export.assign(measure=frame["measure"], posyandu=frame["posyandu"], haz=haz)
    export.to_csv(path, index=False)
    _, result = read_audit(path)
    named = causes_named(result)
    assert len(named) >= 20
    assert set(named) == {"no_position_correction"}


def test_stale_age_is_found_with_its_date(tmp_path: Path) -> None:
    frame = register()
    frame["posyandu"] = "Posyandu Mawar 2"  # one group: one date to find
    frame = unambiguous(frame, "stale_age")
    result = audited(frame, tmp_path, "stale_age")
    named = causes_named(result)
    assert len(named) >= 50
    assert set(named) == {"stale_age"}
    table = result.table  # type: ignore[attr-defined]
    group = table[table["posyandu"] == "Posyandu Mawar 2"]
    export = frame["visit_date"].max() + pd.Timedelta(days=14)
    assert (group["stale_date"] == export).all()


def test_boundary_values_in_the_wrong_category(tmp_path: Path) -> None:
    """Heights chosen so that WHO's HAZ is exactly -2.00 or -3.00; the register puts them in
    the category below (pendek, sangat pendek): only the status disagrees."""
    frame = register(40)
    inputs = kernel_inputs(frame)
    heights = np.round(np.arange(45.0, 125.0, 0.1), 1)
    rows = np.repeat(np.arange(len(frame)), len(heights))
    trial = {name: values[rows] for name, values in inputs.items()}
    trial["lenhei_cm"] = np.tile(heights, len(frame))
    haz = compute_zscore_arrays(**trial).haz
    on_cut = np.isin(haz, (-2.0, -3.0))
    first = pd.Series(trial["lenhei_cm"][on_cut]).groupby(rows[on_cut]).first()
    frame = frame.iloc[first.index].reset_index(drop=True)
    frame["height_cm"] = first.to_numpy()
    assert len(frame) >= 20
    result = audited(frame, tmp_path, "boundary")
    rows_table = result.row_table()  # type: ignore[attr-defined]
    haz_rows = rows_table[rows_table["indicator"] == "haz"]
    assert (haz_rows["z_agrees"] == True).all()  # noqa: E712 - a nullable boolean
    assert (haz_rows["status_agrees"] == False).all()  # noqa: E712
    assert set(causes_named(result)) == {"boundary"}


def test_boundary_on_an_inclusive_cut_off() -> None:
    """+3.00 is normal for HAZ (Permenkes: normal -2 to +3): the wrong side is tall."""
    who = scores_of(np.array([3.0, -2.0, -3.0, -1.5]), "haz")
    from kbtool.audit.causes import Rows

    found = boundary(Rows(None, {"haz": who}, {}))  # type: ignore[arg-type]
    assert found["haz"].code.tolist() == [3, 1, 0, -1]


def test_unexplained_disagreements(tmp_path: Path) -> None:
    frame = register()
    path = tmp_path / "shifted.csv"
    who, _ = recorded_zscores(kernel_inputs(frame))
    shifted = {"haz": np.round(who["haz"] + 1.11, 2)}
    frame = frame[~reproduced(frame, shifted, list(RECORDING_MISTAKES))].reset_index(drop=True)
    who, _ = recorded_zscores(kernel_inputs(frame))
    export = frame[["child_id", "sex", "birth_date", "visit_date", "weight_kg", "height_cm"]]
    export = export.assign(measure=frame["measure"], posyandu=frame["posyandu"])
    export = export.assign(haz=np.round(who["haz"] + 1.11, 2))
    export.to_csv(path, index=False)
    _, result = read_audit(path)
    named = causes_named(result)
    assert len(named) >= 50
    assert set(named) == {"unexplained"}


# --- the figures -------------------------------------------------------------------------


def test_figures_of_a_hand_made_register(tmp_path: Path) -> None:
    """Four girls; recorded values with a decimal comma, English and Indonesian labels, a
    dash, N/A, an unknown label and a blank."""
    visits = pd.DataFrame(
        {
            "sex": [2, 2, 2, 2],
            "birth_date": pd.to_datetime(["2023-01-01"] * 4),
            "visit_date": pd.to_datetime(["2024-01-15"] * 4),
            "weight_kg": [8.1, 8.1, 8.1, 8.1],
            "height_cm": [71.5, 68.0, 64.0, 71.5],
            "measure": [1, 1, 1, 1],
        }
    )
    who = compute_zscore_arrays(
        sex=visits["sex"],
        age_days=np.full(4, 379.0),
        weight_kg=visits["weight_kg"],
        lenhei_cm=visits["height_cm"],
        measure=visits["measure"],
    ).haz
    assert who.tolist() == [-1.18, -2.53, -4.06, -1.18]  # normal, stunted, severely stunted
    path = tmp_path / "register.csv"
    recorded_z = ["-1,18", f"{who[1] + 0.25:.2f}".replace(".", ","), "-", "N/A"]
    statuses = ["Normal", "stunted", "Sangat Pendek", "Stunting"]
    lines = ["JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur;Posyandu;ZS TB/U;TB/U"]
    for height, z, status in zip(visits["height_cm"], recorded_z, statuses, strict=True):
        lines.append(
            f"P;01/01/2023;15/01/2024;8,1;{str(height).replace('.', ',')};Terlentang;Melati;"
            f"{z};{status}"
        )
    lines.append("P;01/01/2023;15/01/2024;8,1;70,0;Terlentang;Melati;;")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, result = read_audit(path)
    table = result.table  # type: ignore[attr-defined]
    assert list(table["indicator"]) == ["haz", "haz"]
    group = table.iloc[0]
    assert group["rows"] == 5
    assert group["z_compared"] == 2 and group["z_agree"] == 1
    assert group["z_agree_pct"] == 50
    assert group["max_abs_diff"] == 0.25
    assert group["mean_abs_diff"] == pytest.approx(0.125)
    assert group["status_compared"] == 3 and group["status_agree"] == 3
    assert group["missing_z"] == 3  # "-", "N/A" and a blank
    assert group["unreadable_z"] == 0
    assert group["missing_status"] == 1 and group["unrecognised_status"] == 1
    assert group["disagreements"] == 1
    unrecognised = result.unrecognised  # type: ignore[attr-defined]
    assert unrecognised.to_dict("records") == [
        {"column": "recorded_haz_status", "value": "Stunting", "rows": 1}
    ]


def test_who_prevalence_is_kbtool_prevalence(tmp_path: Path) -> None:
    """WHO's side counts each child once per year exactly as `kbtool prevalence` does; the
    register's side likewise, on its own statuses (here: age in completed months)."""
    frame = register(300)
    path = tmp_path / "export.csv"
    names = list(frame["posyandu"].astype(str).unique()[:5])
    write_eppgbm_csv(frame, path, mistakes=dict.fromkeys(names, "age_in_completed_months"))
    measurements, result = read_audit(path)
    table = result.table  # type: ignore[attr-defined]
    haz = table[table["indicator"] == "haz"].set_index("posyandu")
    prevalence = compute_prevalence(
        measurements, by=("posyandu",), total=True, child_key="child_key", min_n=0
    ).set_index("posyandu")
    assert (haz["who_n"] == prevalence["n"]).all()
    assert (haz["who_cases"] == prevalence["stunted"]).all()
    # the register's statuses as a z-score only they decide (-2.5 stunted, 0 not), flagged
    # where the recorded z-score is beyond WHO's limits for HAZ (+-6)
    statuses = parse_status(measurements["recorded_haz_status"], "haz").code
    recorded_z = parse_z(measurements["recorded_haz"]).z
    recorded = measurements.assign(
        haz=np.where(statuses < 0, np.nan, np.where(statuses <= 1, -2.5, 0.0)),
        haz_flag=np.abs(recorded_z) > 6,
    )
    register_side = compute_prevalence(
        recorded, by=("posyandu",), total=True, child_key="child_key", min_n=0
    ).set_index("posyandu")
    assert (haz["register_n"] == register_side["n"]).all()
    assert (haz["register_cases"] == register_side["stunted"]).all()
    assert (haz.loc[names, "register_cases"] != haz.loc[names, "who_cases"]).any()
    assert (haz["difference_points"] == haz["register_pct"] - haz["who_pct"]).all()


def test_implausible_recorded_z_is_not_counted_by_the_register(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "JK;Tgl Lahir;Tanggal Pengukuran;Berat;Tinggi;Posyandu;ZS TB/U;TB/U\n"
        "L;01/01/2023;15/01/2024;8,1;70,0;Melati;-7,20;Sangat Pendek\n"
        "L;01/01/2022;15/01/2024;11,1;80,0;Melati;;Pendek\n",
        encoding="utf-8",
    )
    _, result = read_audit(path)
    group = result.table.iloc[0]  # type: ignore[attr-defined]
    assert group["register_n"] == 1 and group["register_cases"] == 1


# --- recognising and reading the recorded columns ------------------------------------------


def test_parse_z_reads_commas_and_marks_of_none() -> None:
    parsed = parse_z(pd.Series(["-1,05", " 2.10 ", "−0,5", "-", "N/A", None, "abc", "inf"]))
    assert parsed.z[:3].tolist() == [-1.05, 2.1, -0.5]
    assert np.isnan(parsed.z[3:]).all()
    assert parsed.unreadable.tolist() == [False] * 6 + [True, True]
    assert parsed.unreadable_texts == {"abc": 1, "inf": 1}


def test_parse_status_in_both_languages() -> None:
    texts = ["Pendek", "SANGAT  PENDEK", "tall", "Normal", "Tidak Wajar", "", "-", "Stunting"]
    parsed = parse_status(pd.Series(texts), "haz")
    assert parsed.code.tolist() == [1, 0, 3, 2, FLAGGED, MISSING, MISSING, UNRECOGNISED]
    waz = parse_status(pd.Series(["Berat Badan Kurang", "Risiko Berat Badan Lebih"]), "waz")
    assert waz.code.tolist() == [1, 3]
    whz = parse_status(pd.Series(["Gizi Baik", "gizi buruk", "Obesitas"]), "whz")
    assert whz.code.tolist() == [2, 0, 5]


def test_recorded_columns_by_alias_and_by_hand() -> None:
    found = RecordedColumns()(["JK", "ZS TB/U", "TB/U", "zs bb/u", "Tinggi"], "a.csv")
    assert found == {
        "recorded_haz": "ZS TB/U",
        "recorded_haz_status": "TB/U",
        "recorded_waz": "zs bb/u",
    }
    by_hand = RecordedColumns({"recorded_haz": "Z Tinggi"})(["JK", "Z Tinggi", "haz_status"], "b")
    assert by_hand == {"recorded_haz": "Z Tinggi", "recorded_haz_status": "haz_status"}


def test_a_file_without_recorded_columns_names_what_was_looked_for() -> None:
    with pytest.raises(InputError, match=r"a\.csv: no recorded z-scores.*ZS TB/U.*BB/TB"):
        RecordedColumns()(["JK", "Berat", "Tinggi"], "a.csv")
    with pytest.raises(InputError, match=r"'Z' .*not found"):
        RecordedColumns({"recorded_haz": "Z"})(["JK", "Berat"], "a.csv")


def test_column_options_split_and_checked() -> None:
    reader, recorded = split_column_options(["sex=JK", "recorded_haz=Z TB"])
    assert reader == ["sex=JK"] and recorded == {"recorded_haz": "Z TB"}
    with pytest.raises(UsageError, match="recorded_haz_status"):
        split_column_options(["recorded_stunting=X"])
    with pytest.raises(UsageError, match="a name"):
        split_column_options(["recorded_haz_status=Nama Ibu"])


def test_every_mistake_of_the_generator_is_a_cause() -> None:
    assert set(RECORDING_MISTAKES) < set(CAUSES)
    assert CAUSES[-1] == "unexplained"


def test_no_rows_no_figures() -> None:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns_needed("posyandu")}).astype(
        {"visit_date": "datetime64[s]", "birth_date": "datetime64[s]"}
    )
    result = audit_register(frame, indicators=())
    assert result.table.empty
    assert "z_agree_pct" in result.table.columns
    _ = Scores  # the public shape of a candidate's scores
