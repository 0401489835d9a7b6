"""SKDN (kbtool.skdn): hand-built registers where every count is known, an independent
child-by-child implementation of issue 15's definitions, and properties over generated
registers (D = N + T + O + B, 2T <= T, row order changes nothing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbtool.errors import InputError, UsageError
from kbtool.growth import compute_zscores
from kbtool.growth.rounding import r_round
from kbtool.skdn import BUKU_KIA, compute_skdn, followup_list, read_kbm, read_sasaran
from kbtool.skdn.kbm import KbmTable
from tests.synthetic import child_numbers, generate_register, measure_codes

COUNTS = ["s", "d", "b", "o", "n", "t", "t2", "bgm"]


def register(visits: list[tuple[int, str, str, float]], births: dict[int, str]) -> pd.DataFrame:
    """Measurements as the store holds them, by hand: (child, posyandu, visit date, weight kg)
    per row, each child born on births[child]; WAZ 0 (not flagged) unless a test sets it."""
    frame = pd.DataFrame(visits, columns=["child_key", "posyandu", "visit_date", "weight_kg"])
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    born = pd.to_datetime(frame["child_key"].map(births))
    frame["age_days"] = (frame["visit_date"] - born).dt.days.astype("Int32")
    frame["waz"] = 0.0
    frame["waz_flag"] = pd.array([False] * len(frame), dtype="boolean")
    frame["posyandu"] = frame["posyandu"].astype("category")
    frame["source_file"] = "register.csv"
    frame["source_line"] = np.arange(2, len(frame) + 2)
    return frame


def row(result: pd.DataFrame, month: str, group: str = "Mawar") -> dict[str, Any]:
    """The result row of a month and posyandu, as a dict."""
    found = result[(result["month"] == month) & (result["posyandu"] == group)]
    assert len(found) == 1, (month, group, result)
    return dict(found.iloc[0])


def counts(result: pd.DataFrame, month: str, group: str = "Mawar") -> dict[str, int]:
    return {k: int(v) for k, v in row(result, month, group).items() if k in COUNTS}


# --- hand-built registers ---------------------------------------------------------------------


def test_weighed_in_january_and_march_only_is_o_in_march() -> None:
    frame = register(
        [(1, "Mawar", "2024-01-10", 8.0), (1, "Mawar", "2024-03-10", 8.5)], {1: "2023-06-01"}
    )
    # by default only months someone was weighed in; February when asked for
    assert compute_skdn(frame)["month"].tolist() == ["2024-01", "2024-03"]
    result = compute_skdn(frame, first_month="2024-01", last_month="2024-03")
    assert counts(result, "2024-01") == dict(s=1, d=1, b=1, o=0, n=0, t=0, t2=0, bgm=0)
    # February: no weighing, but the child is still one to weigh
    assert counts(result, "2024-02") == dict(s=1, d=0, b=0, o=0, n=0, t=0, t2=0, bgm=0)
    assert counts(result, "2024-03") == dict(s=1, d=1, b=0, o=1, n=0, t=0, t2=0, bgm=0)
    february = row(result, "2024-02")
    assert february["d_s"] == 0 and pd.isna(february["n_d"])  # no division by zero


def test_kbm_at_four_months_500_g_is_t_600_g_is_n() -> None:
    """Buku KIA: 600 g at 4 completed months. Child 1 gains 500 g, child 2 600 g, both 4
    months old (130 days: 130 / 30.4375 = 4.27) at the second weighing."""
    births = {1: "2024-01-01", 2: "2024-01-01"}
    frame = register(
        [
            (1, "Mawar", "2024-04-10", 6.0),
            (1, "Mawar", "2024-05-10", 6.5),
            (2, "Mawar", "2024-04-10", 6.0),
            (2, "Mawar", "2024-05-10", 6.6),
        ],
        births,
    )
    result = compute_skdn(frame)
    assert counts(result, "2024-05") == dict(s=2, d=2, b=0, o=0, n=1, t=1, t2=0, bgm=0)
    listed = followup_list(frame)
    assert listed.empty  # one T is no 2T


def test_gain_compared_on_weights_rounded_to_100_g() -> None:
    """6.04 kg rounds to 6.0, 6.66 kg to 6.7: a gain of 700 g at 2 months (KBM 900 g) is T;
    6.04 -> 6.96 (7.0) is 1,000 g: N. The unrounded gains would be 620 g and 920 g."""
    births = {1: "2024-01-01", 2: "2024-01-01"}
    frame = register(
        [
            (1, "Mawar", "2024-02-20", 6.04),
            (1, "Mawar", "2024-03-20", 6.66),
            (2, "Mawar", "2024-02-20", 6.04),
            (2, "Mawar", "2024-03-20", 6.96),
        ],
        births,
    )
    assert counts(compute_skdn(frame), "2024-03")["n"] == 1
    assert counts(compute_skdn(frame), "2024-03")["t"] == 1


def test_two_t_in_a_row_is_2t_and_listed() -> None:
    frame = register(
        [
            (1, "Mawar", "2023-10-05", 10.0),
            (1, "Mawar", "2023-11-05", 10.0),
            (1, "Mawar", "2023-12-05", 10.1),
            (1, "Mawar", "2024-01-05", 10.4),
        ],
        {1: "2022-01-01"},
    )
    result = compute_skdn(frame)
    assert counts(result, "2023-11")["t"] == 1 and counts(result, "2023-11")["t2"] == 0
    assert counts(result, "2023-12")["t"] == 1 and counts(result, "2023-12")["t2"] == 1
    assert counts(result, "2024-01")["n"] == 1 and counts(result, "2024-01")["t2"] == 0
    listed = followup_list(frame)
    assert listed["month"].tolist() == ["2023-12"]
    first = listed.iloc[0]
    assert bool(first["t2"]) and not first["bgm"] and not first["implausible"]
    assert [first["weight_1"], first["weight_2"], first["weight_3"]] == [10.1, 10.0, 10.0]
    assert str(first["date_1"].date()) == "2023-12-05"
    assert first["source_line"] == 4 and first["age_months"] == 23
    assert "child_key" not in listed.columns


def test_last_weighing_of_the_month_counts() -> None:
    """Two weighings in February: the later (9.8 kg) counts against January's 9.0."""
    frame = register(
        [
            (1, "Mawar", "2024-01-10", 9.0),
            (1, "Mawar", "2024-02-25", 9.8),
            (1, "Melati", "2024-02-05", 9.0),
        ],
        {1: "2023-01-01"},
    )
    result = compute_skdn(frame)
    assert counts(result, "2024-02") == dict(s=1, d=1, b=0, o=0, n=1, t=0, t2=0, bgm=0)
    # the earlier weighing's posyandu counts nothing that month
    assert "Melati" not in set(result.loc[result["month"] == "2024-02", "posyandu"])


def test_turning_60_months_leaves_s_and_d() -> None:
    """Born 2019-03-15: 1826 days old on 2024-03-15. Weighed 2024-02-20 (1803 days) and
    2024-03-20 (1832 days: no weighing). S: February yes; March: 1813 days on the 1st, still
    under 1826, so in S; April (1843 days on the 1st): out."""
    frame = register(
        [(1, "Mawar", "2024-02-20", 15.0), (1, "Mawar", "2024-03-20", 15.2)],
        {1: "2019-03-15"},
    )
    result = compute_skdn(frame, first_month="2024-02", last_month="2024-04")
    assert counts(result, "2024-02")["d"] == 1
    assert counts(result, "2024-03") == dict(s=1, d=0, b=0, o=0, n=0, t=0, t2=0, bgm=0)
    assert result[result["month"] == "2024-04"].empty


def test_s_looks_back_12_months_in_the_group_of_the_latest_weighing() -> None:
    """Weighed in Mawar in January 2023 and in Melati in March 2023: S counts the child in
    Mawar in January and February, in Melati from March 2023 to February 2024 (12 months
    ending with it), then no more."""
    frame = register(
        [(1, "Mawar", "2023-01-10", 9.0), (1, "Melati", "2023-03-10", 9.5)], {1: "2022-01-01"}
    )
    result = compute_skdn(frame, first_month="2023-01", last_month="2024-06")
    mawar = result[result["posyandu"] == "Mawar"]
    melati = result[result["posyandu"] == "Melati"]
    assert mawar["month"].tolist() == ["2023-01", "2023-02"]
    assert melati["month"].tolist() == [f"2023-{m:02d}" for m in range(3, 13)] + [
        "2024-01",
        "2024-02",
    ]
    assert (result["s"] == 1).all()
    assert (result["s_source"] == "register").all()


def test_bgm_on_waz_rounded_to_two_decimals() -> None:
    """WAZ -3.004 rounds to -3.00 (not below -3); -3.006 to -3.01 (BGM)."""
    frame = register(
        [(1, "Mawar", "2024-01-10", 7.0), (2, "Mawar", "2024-01-10", 7.0)],
        {1: "2022-06-01", 2: "2022-06-01"},
    )
    frame["waz"] = [-3.004, -3.006]
    result = compute_skdn(frame)
    assert counts(result, "2024-01")["bgm"] == 1
    listed = followup_list(frame)
    assert listed["bgm"].tolist() == [True] and listed["source_line"].tolist() == [3]


def test_children_without_a_key_are_listed_each_at_their_own_line() -> None:
    """A row without a child key is a child of its own: two such children below the red line
    are two list rows, each pointing at its own line and weight (not both at the first)."""
    frame = register(
        [(1, "Mawar", "2024-01-10", 6.0), (2, "Mawar", "2024-01-12", 7.5)],
        {1: "2022-06-01", 2: "2022-06-01"},
    )
    frame["waz"] = [-3.5, -3.2]
    frame["child_key"] = pd.array([None, None], dtype="Int64")
    assert counts(compute_skdn(frame), "2024-01")["bgm"] == 2
    listed = followup_list(frame)
    assert listed["source_line"].tolist() == [2, 3]
    assert listed["weight_1"].tolist() == [6.0, 7.5]


def test_flagged_weight_is_no_weighing_but_listed_as_implausible() -> None:
    """A weight typed in grams (WHO flags its WAZ) counts nowhere: not D, not B, not S;
    the list shows it, with the child's counted weights beside it."""
    frame = register(
        [
            (1, "Mawar", "2024-01-10", 9.0),
            (1, "Mawar", "2024-02-10", 9500.0),
            (2, "Mawar", "2024-02-10", 8400.0),
        ],
        {1: "2023-01-01", 2: "2023-01-01"},
    )
    frame["waz"] = [0.0, 4000.0, 3900.0]
    frame["waz_flag"] = pd.array([False, True, True], dtype="boolean")
    result = compute_skdn(frame)
    assert counts(result, "2024-02") == dict(s=1, d=0, b=0, o=0, n=0, t=0, t2=0, bgm=0)
    listed = followup_list(frame)
    assert listed["implausible"].tolist() == [True, True]
    assert listed["implausible_weight"].tolist() == [9500.0, 8400.0]
    assert listed["source_line"].tolist() == [3, 4]
    assert listed["weight_1"].iloc[0] == 9.0 and np.isnan(listed["weight_1"].iloc[1])


def test_from_and_to() -> None:
    frame = register(
        [(1, "Mawar", "2024-01-10", 8.0), (1, "Mawar", "2024-02-10", 9.0)], {1: "2023-06-01"}
    )
    result = compute_skdn(frame, first_month="2024-02")
    assert result["month"].tolist() == ["2024-02"]
    assert counts(result, "2024-02")["n"] == 1  # January still counts as the month before
    with pytest.raises(UsageError, match="after"):
        compute_skdn(frame, first_month="2024-03", last_month="2024-01")
    with pytest.raises(UsageError, match="2024-01"):
        compute_skdn(frame, first_month="2024-13")


# --- --sasaran and --kbm ----------------------------------------------------------------------


def test_sasaran_by_month_and_year(tmp_path: Path) -> None:
    frame = register(
        [(1, "Posyandu Mawar", "2024-01-10", 8.0), (2, "Posyandu Melati", "2024-01-10", 8.0)],
        {1: "2023-06-01", 2: "2023-06-01"},
    )
    path = tmp_path / "sasaran.csv"
    path.write_text("Posyandu;Tahun;Sasaran\nPOSYANDU MAWAR;2024;4\n", encoding="utf-8")
    result = compute_skdn(frame, sasaran=read_sasaran(path, "posyandu"))
    mawar = row(result, "2024-01", "Posyandu Mawar")
    melati = row(result, "2024-01", "Posyandu Melati")
    assert (mawar["s"], mawar["s_source"], mawar["d_s"]) == (4, "file", 25.0)
    assert (melati["s"], melati["s_source"]) == (1, "register")
    path.write_text("posyandu,month,sasaran\nPosyandu Mawar,2024-01,0\n", encoding="utf-8")
    result = compute_skdn(frame, sasaran=read_sasaran(path, "posyandu"))
    zero = row(result, "2024-01", "Posyandu Mawar")
    assert zero["s"] == 0 and pd.isna(zero["d_s"]) and zero["d"] == 1  # no division error


def test_sasaran_matching_no_group_is_an_error(tmp_path: Path) -> None:
    frame = register([(1, "Posyandu Mawar", "2024-01-10", 8.0)], {1: "2023-06-01"})
    path = tmp_path / "sasaran.csv"
    path.write_text("posyandu,year,sasaran\nPosyandu Kenanga,2024,10\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        compute_skdn(frame, sasaran=read_sasaran(path, "posyandu"))
    message = str(raised.value)
    assert "'Posyandu Kenanga'" in message and "'Posyandu Mawar'" in message


def test_e_ppgbm_sasaran_export_read_as_is(tmp_path: Path) -> None:
    """An export as a workbook: title lines above the header, place columns beside the group,
    e-PPGBM's headers, and a total row, which is no group."""
    import openpyxl

    frame = register(
        [(1, "Posyandu Mawar", "2024-02-10", 8.0), (2, "Posyandu Melati", "2024-02-10", 8.0)],
        {1: "2023-06-01", 2: "2023-06-01"},
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for cells in (
        ["DATA SASARAN BALITA"],
        ["Puskesmas: Metro", None, "Tahun: 2024"],
        [],
        ["No", "Kecamatan", "Puskesmas", "Desa/Kelurahan", "Nama Posyandu", "Tahun",
         "Jumlah Sasaran Balita"],
        [1, "Metro Pusat", "Metro", "Metro", "POSYANDU MAWAR", 2024, 40],
        [2, "Metro Pusat", "Metro", "Metro", "Posyandu Melati", 2024, 8],
        [None, None, None, None, "TOTAL", None, 48],
    ):  # fmt: skip
        sheet.append(cells)
    path = tmp_path / "sasaran_eppgbm.xlsx"
    book.save(path)
    result = compute_skdn(frame, sasaran=read_sasaran(path, "posyandu"))
    assert (
        row(result, "2024-02", "Posyandu Mawar")["s"],
        row(result, "2024-02", "Posyandu Mawar")["d_s"],
    ) == (40, 2.5)
    assert row(result, "2024-02", "Posyandu Melati")["s_source"] == "file"
    assert result.attrs["sasaran_unmatched"] == []  # the total row is no group
    # a CSV export, semicolons after a title line: errors name the file's own line
    csv_path = tmp_path / "sasaran.csv"
    csv_path.write_text(
        "Sasaran balita 2024, Kota Metro\n\nNama Posyandu;Tahun;Jumlah Sasaran Balita\n"
        "Posyandu Mawar;2024;40\nPosyandu Melati;dua ribu;8\n",
        encoding="cp1252",
    )
    with pytest.raises(InputError, match="line 5: year 'dua ribu'"):
        read_sasaran(csv_path, "posyandu")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("posyandu,year\nMawar,2024\n", "sasaran column"),
        ("posyandu,year,sasaran\nMawar,2024,3,9\n", "line 2: more cells than the header"),
        ("posyandu,year,sasaran\nMawar,2024,-3\n", "line 2"),
        ("posyandu,month,sasaran\nMawar,2024-13,3\n", "line 2"),
        ("posyandu,year,sasaran\n,2024,3\n", "no posyandu name"),
    ],
)
def test_bad_sasaran_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "sasaran.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        read_sasaran(path, "posyandu")


def test_kbm_file_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "kbm.csv"
    path.write_text("age_months,kbm_g\n0,800\n6,500\n12,100\n", encoding="utf-8")
    table = read_kbm(path)
    assert table.grams == (800,) * 6 + (500,) * 6 + (100,)
    assert BUKU_KIA.grams[4] == 600 and BUKU_KIA.grams[2] == 900 and BUKU_KIA.grams[11] == 200
    frame = register(
        [(1, "Mawar", "2024-01-10", 10.0), (1, "Mawar", "2024-02-10", 10.1)], {1: "2022-01-01"}
    )
    assert counts(compute_skdn(frame), "2024-02")["t"] == 1  # KIA: 200 g at 25 months
    result = compute_skdn(frame, kbm=table)
    assert counts(result, "2024-02")["n"] == 1  # this table: 100 g
    assert str(path) in result.attrs["kbm"]
    path.write_text("age_months,kbm_g\n1,800\n", encoding="utf-8")
    with pytest.raises(InputError, match="start at 0"):
        read_kbm(path)


# --- an independent implementation ------------------------------------------------------------


def reference_skdn(frame: pd.DataFrame, kbm: KbmTable = BUKU_KIA) -> pd.DataFrame:
    """Issue 15's SKDN definitions, child by child in plain Python (slow, obvious)."""
    age = frame["age_days"].astype("float64")
    valid = (
        (frame["weight_kg"] > 0)
        & frame["waz"].notna()
        & ~frame["waz_flag"].fillna(0).astype(bool)
        & (age >= 0)
        & (age <= 1825)
    )
    weighed = frame[valid]
    visits = [
        {
            "child": int(child),
            "date": visit.date(),
            "month": (visit.year - 1970) * 12 + visit.month - 1,
            "group": str(group),
            "weight": float(weight),
            "age": int(days),
            "waz": float(waz),
            "position": position,
        }
        for position, (child, visit, group, weight, days, waz) in enumerate(
            zip(
                weighed["child_key"].tolist(),
                weighed["visit_date"].tolist(),
                weighed["posyandu"].tolist(),
                weighed["weight_kg"].tolist(),
                weighed["age_days"].tolist(),
                weighed["waz"].tolist(),
                strict=True,
            )
        )
    ]
    by_child: dict[int, dict[int, dict[str, Any]]] = {}
    for visit in sorted(visits, key=lambda v: (v["child"], v["date"], v["position"])):
        by_child.setdefault(visit["child"], {})[visit["month"]] = visit  # the month's last
    found: dict[tuple[int, str], dict[str, int]] = {}

    def cell(month: int, group: str) -> dict[str, int]:
        return found.setdefault((month, group), dict.fromkeys(COUNTS, 0))

    months = sorted({v["month"] for v in visits})
    for entries_by_month in by_child.values():
        entries = [entries_by_month[m] for m in sorted(entries_by_month)]
        previous: dict[str, Any] | None = None
        previous_t = False
        for entry in entries:
            counted = cell(entry["month"], entry["group"])
            counted["d"] += 1
            is_t = False
            if previous is None:
                counted["b"] += 1
            elif previous["month"] != entry["month"] - 1:
                counted["o"] += 1
            else:
                gain = (r_round(entry["weight"], 1) - r_round(previous["weight"], 1)) * 1000
                if round(float(gain)) >= kbm.grams[min(int(entry["age"] // 30.4375), 11)]:
                    counted["n"] += 1
                else:
                    counted["t"] += 1
                    is_t = True
                    counted["t2"] += previous_t
            counted["bgm"] += float(r_round(entry["waz"], 2)) < -3
            previous, previous_t = entry, is_t
        for month in months:
            latest = [e for e in entries if e["month"] <= month]
            if not latest:
                continue
            last = latest[-1]
            birth = last["date"] - dt.timedelta(days=last["age"])
            first_day = dt.date(1970 + month // 12, month % 12 + 1, 1)
            if month - last["month"] <= 11 and (first_day - birth).days < 1826:
                cell(month, last["group"])["s"] += 1
    rows = [
        {"month": f"{1970 + m // 12}-{m % 12 + 1:02d}", "posyandu": g, **c}
        for (m, g), c in found.items()
        if c["s"] or c["d"]
    ]
    return pd.DataFrame(rows).sort_values(["month", "posyandu"]).reset_index(drop=True)


def generated(children: int, seed: int, years: tuple[int, ...] = (2023, 2024)) -> pd.DataFrame:
    """A generated register prepared as the store holds it (child keys, z-scores)."""
    frame = generate_register(children, years=years, seed=seed)
    frame["measure"] = measure_codes(frame["measure"])
    frame["child_key"] = child_numbers(frame)
    frame = pd.concat([frame, compute_zscores(frame, full_precision=True)], axis=1)
    frame["source_file"] = "generated.csv"
    frame["source_line"] = np.arange(2, len(frame) + 2)
    return frame


def test_equals_an_independent_implementation() -> None:
    """Every count of every posyandu and month of a generated register (about 6,000 visits,
    with its moved children, gaps, typing errors and flagged weights)."""
    frame = generated(300, seed=15)
    ours = compute_skdn(frame)[["month", "posyandu", *COUNTS]]
    theirs = reference_skdn(frame)
    assert len(ours) > 200
    pd.testing.assert_frame_equal(ours, theirs[ours.columns], check_dtype=False)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), children=st.integers(1, 60))
def test_properties_over_generated_registers(seed: int, children: int) -> None:
    """D = N + T + O + B and 2T <= T and D <= S (register) on every row; BGM <= D; shuffling
    the rows changes nothing."""
    frame = generated(children, seed=seed)
    result = compute_skdn(frame)
    assert (result["d"] == result["n"] + result["t"] + result["o"] + result["b"]).all()
    assert (result["t2"] <= result["t"]).all()
    assert (result["d"] <= result["s"]).all() and (result["bgm"] <= result["d"]).all()
    shuffled = frame.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_skdn(shuffled), result)
    listed = followup_list(frame)
    again = followup_list(shuffled)
    pd.testing.assert_frame_equal(again, listed)


def test_blocks_give_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequence is worked on in parts of whole children: tiny parts, same result."""
    import kbtool.visits

    frame = generated(80, seed=3)
    whole = compute_skdn(frame)
    listed = followup_list(frame)
    monkeypatch.setattr(kbtool.visits, "BLOCK_ENTRIES", 7)
    pd.testing.assert_frame_equal(compute_skdn(frame), whole)
    pd.testing.assert_frame_equal(followup_list(frame), listed)


def test_child_key_column_by_any_name() -> None:
    frame = register([(1, "Mawar", "2024-01-10", 8.0)], {1: "2023-06-01"})
    renamed = frame.rename(columns={"child_key": "child_id"})
    pd.testing.assert_frame_equal(compute_skdn(renamed, child_key="child_id"), compute_skdn(frame))


@pytest.mark.parametrize(
    ("encoding", "damage"), [("utf-16", b""), ("utf-8", b"\xff"), ("cp1252", b"")]
)
def test_a_sasaran_file_is_decoded_as_registers_are(
    tmp_path: Path, encoding: str, damage: bytes
) -> None:
    from kbtool.skdn.tables import read_small_table

    text = "posyandu\tyear\tsasaran\nPosyandu Señor\t2024\t40\nPosyandu Mawar\t2024\t35\n"
    path = tmp_path / "sasaran.txt"
    path.write_bytes(text.encode(encoding) + damage)
    table = read_small_table(path, "--sasaran")
    assert table["posyandu"].tolist()[:2] == ["Posyandu Señor", "Posyandu Mawar"]


def test_a_small_table_names_every_column_once(tmp_path: Path) -> None:
    """Repeated headers are numbered as the register reader numbers them, never twice alike."""
    from kbtool.skdn.tables import read_small_table

    path = tmp_path / "sasaran.csv"
    path.write_text("posyandu,Jumlah,Jumlah,Jumlah.1\nMawar,1,2,3\n", encoding="utf-8")
    table = read_small_table(path, "--sasaran")
    assert table.columns.is_unique and len(table.columns) == 4
    assert list(table.iloc[0]) == ["Mawar", "1", "2", "3"]


@pytest.mark.parametrize("header", ["Village", "Kel/Desa", "Nama Desa"])
def test_a_sasaran_names_its_kelurahan_as_a_register_may(tmp_path: Path, header: str) -> None:
    """The sasaran file takes the register reader's words for a kelurahan (and 'Nama Desa')."""
    frame = register([(1, "Posyandu Mawar", "2024-01-10", 8.0)], {1: "2023-06-01"})
    frame["kelurahan"] = "Yosodadi"
    path = tmp_path / "sasaran.csv"
    path.write_text(f"{header};Tahun;Sasaran\nYosodadi;2024;4\n", encoding="utf-8")
    result = compute_skdn(frame, by="kelurahan", sasaran=read_sasaran(path, "kelurahan"))
    assert result.loc[result["kelurahan"] == "Yosodadi", "s"].tolist() == [4]
