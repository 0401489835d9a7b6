"""The two z-score kernels, the C extension and the numba fallback, give the same results.

Both implement R `anthro`'s rules with the same arithmetic in the same order (each is checked
against WHO's results in test_zscores.py). Here they meet on rows made to reach every branch:
unknown sex and age, ages given in months, negative ages, measures outside the tables, oedema,
lengths with more than one decimal, weights far beyond +-3 SD.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kbtool.growth import zscores
from kbtool.growth.zscores import ZScoreArrays, compute_zscore_arrays

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("kbtool.growth._ckernel") is None,
    reason="the C kernel was not built in this installation",
)


def branchy_rows(rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def some_missing(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(rows) < share, np.nan, values)

    age_days = some_missing(rng.uniform(-60, 2000, rows), 0.1)
    age_days[::5] = np.round(age_days[::5])
    lenhei = some_missing(rng.uniform(-1, 130, rows), 0.05)
    lenhei[::3] = np.round(lenhei[::3], 1)
    weight = some_missing(rng.lognormal(2.3, 0.5, rows), 0.05)
    weight[::11] = -weight[::11]
    return {
        "sex": rng.integers(0, 4, rows).astype(np.int8),
        "age_days": age_days,
        "weight_kg": weight,
        "lenhei_cm": lenhei,
        "measure": rng.integers(0, 3, rows).astype(np.int8),
        "oedema": rng.random(rows) < 0.05,
        "age_months": some_missing(rng.uniform(-2, 70, rows), 0.5),
    }


def run(kernel: str, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> ZScoreArrays:
    monkeypatch.setenv("KBTOOL_KERNEL", kernel)
    zscores.kernel_name.cache_clear()
    try:
        assert zscores.kernel_name() == kernel
        return compute_zscore_arrays(**kwargs)  # type: ignore[arg-type]
    finally:
        zscores.kernel_name.cache_clear()


@pytest.mark.parametrize("full_precision", [False, True])
def test_c_and_numba_kernels_agree(monkeypatch: pytest.MonkeyPatch, full_precision: bool) -> None:
    """Rounded results are identical; unrounded ones differ at most in their last bits.

    The vectorised pow may fuse multiply-adds differently in the two compilers (the last ulp of
    p = (y/M)^L); z = (p - 1)/(S*L) then moves by up to ~1e-13 where S*L is small (8e-14 seen
    on 1M generated rows). 1e-12 is above that and far below anything a rule difference
    changes (> 1e-3).
    """
    rows = branchy_rows(200_000, seed=11)
    c = run("c", monkeypatch, **rows, full_precision=full_precision)
    numba = run("numba", monkeypatch, **rows, full_precision=full_precision)
    for name in ZScoreArrays.__dataclass_fields__:
        ours, theirs = getattr(c, name), getattr(numba, name)
        if full_precision and name in ("haz", "waz", "whz", "bmiz"):
            assert np.array_equal(np.isnan(ours), np.isnan(theirs)), name
            assert np.nanmax(np.abs(ours - theirs)) < 1e-12, name
        else:
            assert np.array_equal(ours, theirs, equal_nan=True), name
    # the rows reach every branch: each z-score both given and withheld, all flags raised
    for name in ("haz", "waz", "whz", "bmiz"):
        values = getattr(c, name)
        assert np.isnan(values).any() and (np.abs(values) > 3).any(), name
        assert getattr(c, f"{name}_flag").any(), name
    assert c.position_flag.any()


def edge_rows() -> dict[str, np.ndarray]:
    """Values at the edges of the C kernel's branch-free arithmetic (floor and trunc by rint,
    conditions as 0/1 words), every one with every sex and position code (-1 ... 3): ages a hair
    either side of a half day, -0.0, huge and infinite ages, unknown ages with and without an
    age in months, lengths at and a hair inside the table limits."""
    half = np.array([0.5, 1.5, 2.5, 270.5, 730.5, 1826.5])
    days = np.concatenate(
        [
            half,
            np.nextafter(half, 0),
            np.nextafter(half, 10_000),
            [0.0, -0.0, -0.5, -1e-300, 1e-300, 0.49999999999999994, 2.0**52 + 1, 2.0**60],
            [np.inf, -np.inf, 1826.0, 1827.0, 1856.0, 1857.0, 730.999, 731.0],
            [np.nan] * 4,
        ]
    )
    # where there is no age in days: an age in months, or none (a NaN among those of the days)
    months = np.full(days.size, np.nan)
    months[np.isnan(days)] = [8.9, 24.0, 59.99, np.nan]
    table_limits = [44.99999, 45.0, 45.05, 64.99, 65.0, 86.99999, 87.0, 109.99, 110.0, 110.00001]
    beyond = [119.95, 120.0, 120.0000001, 0.0, -0.0, 1e300, np.inf, np.nan]
    lengths = np.array([*table_limits, *beyond])
    codes = np.arange(-1, 4)
    day, length, sex, measure = (
        a.ravel() for a in np.meshgrid(np.arange(days.size), lengths, codes, codes)
    )
    rows = np.arange(day.size)
    return {
        "sex": sex.astype(np.int8),
        "age_days": days[day],
        "weight_kg": np.where(rows % 7 == 0, np.nan, 3.0 + length / 10),
        "lenhei_cm": length,
        "measure": measure.astype(np.int8),
        "oedema": rows % 4 == 0,
        "age_months": months[day],
    }


@pytest.mark.parametrize("full_precision", [False, True])
@pytest.mark.parametrize("with_months", [True, False])
def test_kernels_agree_at_the_edges(
    monkeypatch: pytest.MonkeyPatch, full_precision: bool, with_months: bool
) -> None:
    """As test_c_and_numba_kernels_agree (unrounded z-scores within 1e-12), on edge_rows; and
    the age in days, rounded half up, against numpy's floor."""
    rows = edge_rows()
    if not with_months:
        del rows["age_months"]
    c = run("c", monkeypatch, **rows, full_precision=full_precision)
    numba = run("numba", monkeypatch, **rows, full_precision=full_precision)
    for name in ZScoreArrays.__dataclass_fields__:
        ours, theirs = getattr(c, name), getattr(numba, name)
        if full_precision and name in ("haz", "waz", "whz", "bmiz"):
            finite = np.isfinite(ours)  # an infinite length gives an infinite HAZ in both
            assert np.array_equal(ours[~finite], theirs[~finite], equal_nan=True), name
            assert np.abs(ours[finite] - theirs[finite]).max() < 1e-12, name
        else:
            assert np.array_equal(ours, theirs, equal_nan=True), name
    days = rows["age_days"]
    if with_months:  # the rows without an age in days take it from the months
        days = np.where(np.isnan(days), rows["age_months"] * 30.4375, days)
        assert (np.isnan(rows["age_days"]) & ~np.isnan(c.haz)).any()  # and are scored
    with np.errstate(invalid="ignore"):
        whole = np.floor(days)
        expected = np.where(days >= 0, whole + (days - whole >= 0.5), np.nan)
    assert np.array_equal(c.age_days, expected, equal_nan=True)
    assert not np.signbit(c.age_days[days == 0]).any()  # -0.0 days: age +0.0, as floor gives
    # the rows reach the standing-under-9-months rule and both length tables
    assert c.position_flag.any()
    assert (~np.isnan(c.whz) & (c.lenhei_cm < 87)).any() and (
        ~np.isnan(c.whz) & (c.lenhei_cm > 87)
    ).any()


def test_c_kernel_refuses_arrays_that_share_memory() -> None:
    """The C kernel reads its arrays through restrict pointers: an output that is also an input
    (here the ages in days written over themselves) is refused, not computed wrong."""
    n = 4
    days = np.array([-3.0, 300.0, 10.0, 700.0])
    inputs = [
        np.ones(n, np.int8),
        days,
        days,
        np.full(n, 9.0),
        np.full(n, 70.0),
        np.zeros(n, np.int8),
        np.zeros(n, bool),
    ]
    fields = ZScoreArrays.__dataclass_fields__
    outputs = [np.empty(n, bool if f.endswith("_flag") else np.float64) for f in fields]
    tables = zscores._kernel_tables()
    with pytest.raises(ValueError, match="out_age shares memory with days"):
        zscores._score_c(n, inputs, tables, [days, *outputs[1:]], False, False)
    zscores._score_c(n, inputs, tables, outputs, False, False)  # apart, the same arrays are fine
    assert np.array_equal(outputs[0], [np.nan, 300.0, 10.0, 700.0], equal_nan=True)


def test_round2_kernels_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 3, 50_000), np.round(rng.normal(0, 3, 50_000), 3)])
    results = []
    for kernel in ("c", "numba"):
        monkeypatch.setenv("KBTOOL_KERNEL", kernel)
        zscores.kernel_name.cache_clear()
        results.append(zscores.round_2_decimals(values))
    zscores.kernel_name.cache_clear()
    assert np.array_equal(results[0], results[1], equal_nan=True)


def test_c_kernel_is_the_default() -> None:
    """Where the extension was built, it is used: no numba import, no first-run compile."""
    code = (
        "import sys, numpy as np\n"
        "from kbtool.growth.zscores import compute_zscore_arrays, kernel_name\n"
        "compute_zscore_arrays(np.array([1]), np.array([300.0]), np.array([8.0]))\n"
        "print(kernel_name(), 'numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KBTOOL_KERNEL"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["c", "False"]


def test_unknown_kernel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTOOL_KERNEL", "fortran")
    zscores.kernel_name.cache_clear()
    try:
        with pytest.raises(zscores.KernelUnavailableError, match="use one of c, numba"):
            zscores.kernel_name()
    finally:
        zscores.kernel_name.cache_clear()


def test_asking_for_a_missing_c_kernel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """KBTOOL_KERNEL=c where the extension was not built (simulated): an error that says why;
    without the variable, the numba kernel takes over."""
    monkeypatch.setitem(sys.modules, "kbtool.growth._ckernel", None)  # import now fails
    monkeypatch.delattr("kbtool.growth._ckernel", raising=False)
    monkeypatch.setenv("KBTOOL_KERNEL", "c")
    zscores.kernel_name.cache_clear()
    try:
        with pytest.raises(zscores.KernelUnavailableError, match="not built"):
            zscores.kernel_name()
        monkeypatch.delenv("KBTOOL_KERNEL")
        zscores.kernel_name.cache_clear()
        assert zscores.kernel_name() == "numba"
    finally:
        zscores.kernel_name.cache_clear()


def test_cli_reports_a_bad_kernel_choice_in_one_line() -> None:
    env = dict(os.environ, KBTOOL_KERNEL="fortran")
    sample = Path(__file__).parents[1] / "data" / "samples" / "posyandu_metro_2022_2024.csv"
    out = subprocess.run(
        [sys.executable, "-m", "kbtool", "zscore", str(sample)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 1
    assert "KBTOOL_KERNEL='fortran' is not a kernel" in out.stderr
    assert "Traceback" not in out.stderr
