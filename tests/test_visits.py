"""Each child's monthly sequence (kbtool.visits) and classification on rounded z-scores
(kbtool.growth.rounding.rounds_below)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from kbtool.columns import child_codes
from kbtool.growth.rounding import r_round, rounds_below
from kbtool.visits import month_label, monthly_sequence


def test_the_month_s_last_valid_measurement_in_child_and_month_order() -> None:
    frame = pd.DataFrame(
        {
            "child_key": [7, 7, 3, 7, 7, 3, None, None],
            "visit_date": pd.to_datetime(
                pd.Series(
                    [
                        "2024-02-20",
                        "2024-02-03",
                        "2024-01-10",
                        "2024-02-20",  # the same day as row 0: the later row is the month's last
                        "2024-03-01",
                        None,  # no date: no month
                        "2024-01-05",
                        "2024-01-06",
                    ]
                )
            ),
        }
    )
    valid = np.array([True, True, True, True, False, True, True, True])
    sequence = monthly_sequence(frame, valid)
    # child 7 first (it comes first in the frame), then 3, then each missing key alone
    assert sequence.rows.tolist() == [3, 2, 6, 7]
    assert sequence.child.tolist() == [0, 1, 2, 3]
    assert [month_label(int(m)) for m in sequence.month] == ["2024-02", "2024-01"] + ["2024-01"] * 2
    assert [month_label(int(m)) for m in sequence.months_seen] == ["2024-01", "2024-02", "2024-03"]
    assert sequence.same_child_before().tolist() == [False] * 4


def test_child_codes_look_up_runs_and_keep_missing_keys_apart() -> None:
    keys = pd.Series([5, 5, 9, 9, 5, np.nan, np.nan, 9])
    assert child_codes(keys).tolist() == [0, 0, 1, 1, 0, 2, 3, 1]
    assert child_codes(pd.Series([], dtype="int64")).tolist() == []


@given(
    st.lists(
        st.one_of(
            st.floats(-8, 8, allow_nan=False),
            st.integers(-800, 800).map(lambda k: k / 100 + 0.005),  # the ties of 2 decimals
        ),
        max_size=50,
    ),
    st.sampled_from([-3.0, -2.0, 2.0, 3.0]),
)
def test_rounds_below_is_the_rounded_comparison(values: list[float], cut: float) -> None:
    x = np.asarray([*values, np.nan], dtype=np.float64)
    assert rounds_below(x, cut, 2).tolist() == (r_round(x, 2) < cut).tolist()


def test_a_blank_text_key_is_a_child_of_its_own_per_row() -> None:
    codes = child_codes(pd.Series(["a", "", "a", " "])).tolist()
    assert codes[0] == codes[2] and len({codes[0], codes[1], codes[3]}) == 3
