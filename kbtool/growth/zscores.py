"""WHO Child Growth Standards (2006) z-scores over whole columns, identical to WHO's R `anthro`.

The rules, all from R `anthro` 1.1 (`anthro_zscores` and its helpers), which WHO Anthro shares:

* age in whole days: exact days rounded half up; age in months converts as months x 30.4375;
  age-based z-scores only for age >= 0 and age in months < 60;
* a standing measure under 9 months is implausible: its position becomes unknown
  (`position_flag` = 1) and no correction is applied;
* length is expected below 731 days and height from 731 days: standing below 731 days adds
  0.7 cm, recumbent from 731 days subtracts 0.7 cm;
* HAZ uses the plain LMS z; WAZ, WHZ and BMIZ use WHO's restricted z beyond +-3 SD;
* WHZ uses weight-for-length below 731 days and weight-for-height from 731 days (age unknown:
  by position, else length < 87 cm), interpolating between the 0.1 cm rows;
* oedema suppresses WAZ, WHZ and BMIZ; a measure <= 0 gives no z-score.

The rules run as one compiled kernel over blocks of rows on every core: the C extension
kbtool.growth._ckernel, built when kbtool is installed, or where that could not be built (no C
compiler), the numba kernel kbtool.growth._kernel, compiled on first use and cached on disk. Both
do the same arithmetic in the same order: rounded results, flags and statuses are identical, and
unrounded z-scores agree within 1e-13 (tests/test_kernels.py). `KBTOOL_KERNEL=numba` (or `c`)
chooses one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
import numpy.typing as npt

from kbtool.columns import MEASURE_UNKNOWN
from kbtool.compiled import KERNELS as KERNELS  # re-exported: the kernels one can choose
from kbtool.compiled import KernelUnavailableError as KernelUnavailableError
from kbtool.compiled import c_extension
from kbtool.concurrency import cores
from kbtool.growth.tables import load_table

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Rows per kernel block: the block's scratch (~350 bytes a row) stays in the L2 cache and there
# are enough blocks to keep both cores busy to the end (measured: 256 to 2048 rows run alike).
BLOCK_ROWS = 512


@dataclass(frozen=True)
class ZScoreArrays:
    """The kernel's result: one entry per input row, NaN where WHO gives no value.

    A flag is meaningful only where its z-score is not NaN.
    """

    age_days: FloatArray
    lenhei_cm: FloatArray
    position_flag: BoolArray
    haz: FloatArray
    haz_flag: BoolArray
    waz: FloatArray
    waz_flag: BoolArray
    whz: FloatArray
    whz_flag: BoolArray
    bmi: FloatArray
    bmiz: FloatArray
    bmiz_flag: BoolArray


def _as_float(values: npt.ArrayLike | None, n: int) -> FloatArray:
    if values is None:
        return np.full(n, np.nan)
    return np.asarray(values, dtype=np.float64)


def round_half_up_days(age_days: FloatArray) -> FloatArray:
    """Whole days as R `anthro`'s round_up: fractions below .5 down, from .5 up; NaN stays NaN."""
    whole = np.floor(age_days)
    return whole + ((age_days - whole) >= 0.5)


@dataclass(frozen=True)
class _KernelTables:
    """The WHO tables packed for the kernel (see kbtool.growth._kernel)."""

    age: FloatArray  # (3 * 1827, AGE_HOT_COLUMNS): sex-major, day within
    sd: FloatArray  # (3 * 1827, AGE_SD_COLUMNS): WHO's SD curves of WFA and BMI, same rows
    lenhei: FloatArray  # (3 * wfl.size + 3 * wfh.size, 4): L, M, S (and 0) of wfl then wfh
    wfl_first: int
    wfl_size: int
    wfh_first: int
    wfh_size: int


_CACHE_LINE = 64


def _cache_aligned(columns: list[FloatArray]) -> FloatArray:
    """The columns side by side (one row per table entry) in memory aligned to a cache line.

    The kernel looks a row up at random (by age, by length); with the row's 8 (or 4) values in
    one 64-byte line that costs one cache miss, not one per value (~20% of the kernel's time).
    """
    rows, width = columns[0].shape[0], len(columns)
    raw = np.empty(rows * width + _CACHE_LINE // 8, dtype=np.float64)
    skip = (-raw.ctypes.data % _CACHE_LINE) // 8
    table = raw[skip : skip + rows * width].reshape(rows, width)
    for column, values in enumerate(columns):
        table[:, column] = values
    return table


@cache
def _kernel_tables() -> _KernelTables:
    lhfa, wfa, bmifa = load_table("lhfa"), load_table("wfa"), load_table("bmifa")
    assert lhfa.first_index == wfa.first_index == bmifa.first_index == 0
    assert lhfa.size == wfa.size == bmifa.size
    # the kernel's HAZ is (y/M - 1)/S: the length/height-for-age L is 1 on the whole table
    assert np.all(lhfa.l[1:] == 1.0)
    # column order: kbtool.growth._kernel's LHFA_M ... BMI_S and WFA_SD3POS ... BMI_SD23NEG
    hot = [lhfa.m, lhfa.s, wfa.l, wfa.m, wfa.s, bmifa.l, bmifa.m, bmifa.s]
    sd = [
        getattr(table, curve)
        for table in (wfa, bmifa)
        for curve in ("sd3pos", "sd23pos", "sd3neg", "sd23neg")
    ]
    wfl, wfh = load_table("wfl"), load_table("wfh")
    lenhei = [np.concatenate([getattr(wfl, p).ravel(), getattr(wfh, p).ravel()]) for p in "lms"]
    return _KernelTables(
        age=_cache_aligned([r.ravel() for r in hot]),
        sd=_cache_aligned([r.ravel() for r in sd]),
        lenhei=_cache_aligned([*lenhei, np.zeros_like(lenhei[0])]),
        wfl_first=wfl.first_index,
        wfl_size=wfl.size,
        wfh_first=wfh.first_index,
        wfh_size=wfh.size,
    )


@cache
def kernel_name() -> str:
    """The z-score kernel in use: "c" (the extension built at install) where it exists, else
    "numba"; KBTOOL_KERNEL=c|numba overrides the choice (kbtool.compiled)."""
    return "numba" if c_extension("kbtool.growth._ckernel") is None else "c"


def _ckernel() -> ModuleType:
    import kbtool.growth._ckernel as compiled

    return compiled


def round_2_decimals(values: npt.ArrayLike) -> FloatArray:
    """Round to 2 decimals as R's round(x, 2), like rounding.r_round(values, 2), compiled.

    For code that has the kernel loaded anyway (kbtool.growth.frame): ~20x faster than r_round.
    """
    x = np.ascontiguousarray(values, dtype=np.float64)
    out = np.empty_like(x)
    if kernel_name() == "c":
        _ckernel().round2(x, out)
    else:
        from kbtool.growth._kernel import round2_kernel

        round2_kernel(x, out)
    return out


def kernel_is_compiled() -> bool:
    """False before the first z-score computation after installing with the numba kernel (numba
    then compiles it once, ~20 s, and caches it next to the module): commands say so instead of
    hanging. The C kernel is compiled at install."""
    from pathlib import Path

    if kernel_name() == "c":
        return True
    cache = Path(__file__).with_name("__pycache__")
    return cache.is_dir() and any(cache.glob("_kernel.*.nbi"))


def load_kernel() -> None:
    """Import and load the compiled kernel, ready for use (numba: ~1 s from its disk cache).

    compute_zscore_arrays does this on first use; a caller with other work to do first (reading
    a file) can run it in a thread meanwhile: numba's import and cache load mostly wait on
    numba's registries while the reader mostly runs in pyarrow without the GIL.
    """
    compute_zscore_arrays(np.zeros(1, dtype=np.int8))


def compute_zscore_arrays(
    sex: npt.ArrayLike,
    age_days: npt.ArrayLike | None = None,
    weight_kg: npt.ArrayLike | None = None,
    lenhei_cm: npt.ArrayLike | None = None,
    measure: npt.ArrayLike | None = None,
    oedema: npt.ArrayLike | None = None,
    age_months: npt.ArrayLike | None = None,
    *,
    full_precision: bool = False,
) -> ZScoreArrays:
    """Compute HAZ, WAZ, WHZ and BMIZ with their flags for whole columns at once.

    `sex` is 1 (male) or 2 (female), anything else unknown; `age_days` is the exact age in days
    (visit date - birth date; NaN when unknown); where it is NaN, `age_months` (if given) is
    used, converted as months x 30.4375. `measure` holds MEASURE_LENGTH / MEASURE_HEIGHT /
    MEASURE_UNKNOWN codes; `oedema` is truthy for children with oedema. With `full_precision`
    False (the default, like WHO Anthro) z-scores are rounded to 2 decimals as R rounds and
    flagged on the rounded values; with True they are left unrounded.
    """
    sex_in = np.asarray(sex)
    n = sex_in.shape[0]
    if sex_in.dtype == np.int8:
        sex_code = sex_in  # the kernel treats codes other than 1 and 2 as unknown
    else:
        sex_code = np.where((sex_in == 1) | (sex_in == 2), sex_in, 0).astype(np.int8)
    days = _as_float(age_days, n)
    months = days if age_months is None else _as_float(age_months, n)
    position = (
        np.full(n, MEASURE_UNKNOWN, dtype=np.int8)
        if measure is None
        else np.asarray(measure, dtype=np.int8)
    )
    has_oedema = np.zeros(n, dtype=bool) if oedema is None else np.asarray(oedema, dtype=bool)
    tables = _kernel_tables()
    result = ZScoreArrays(
        **{
            name: np.empty(n, dtype=bool if name.endswith("_flag") else np.float64)
            for name in ZScoreArrays.__dataclass_fields__
        }
    )
    weight = _as_float(weight_kg, n)
    lenhei = _as_float(lenhei_cm, n)
    outputs = [getattr(result, name) for name in ZScoreArrays.__dataclass_fields__]
    if kernel_name() == "c":
        _score_c(
            n,
            [sex_code, days, months, weight, lenhei, position, has_oedema],
            tables,
            outputs,
            age_months is not None,
            full_precision,
        )
        return result
    # numba imports in ~0.5 s: only commands that compute z-scores pay for it
    from kbtool.growth._kernel import zscore_kernel

    zscore_kernel(
        sex_code,
        days,
        months,
        age_months is not None,
        weight,
        lenhei,
        position,
        has_oedema,
        full_precision,
        tables.age,
        tables.sd,
        tables.lenhei,
        tables.wfl_first,
        tables.wfl_size,
        tables.wfh_first,
        tables.wfh_size,
        BLOCK_ROWS,
        *outputs,
    )
    return result


def _score_c(
    n: int,
    inputs: list[np.ndarray],
    tables: _KernelTables,
    outputs: list[np.ndarray],
    has_months: bool,
    full_precision: bool,
) -> None:
    """The C kernel over all rows: one thread per core, thread t taking blocks t, t + threads, ...
    (the kernel releases the GIL; interleaved blocks share out the rare slow rows evenly)."""
    score = _ckernel().score
    arrays = [np.ascontiguousarray(a) for a in inputs]
    settings = [
        has_months,
        full_precision,
        tables.wfl_first,
        tables.wfl_size,
        tables.wfh_first,
        tables.wfh_size,
        BLOCK_ROWS,
    ]

    def run(first: int, stride: int) -> None:
        score(*arrays, tables.age, tables.sd, tables.lenhei, *outputs, *settings, first, stride)

    threads = min(cores(), -(-n // BLOCK_ROWS))
    helpers = [
        threading.Thread(target=run, args=(first, threads), name="kbtool-kernel", daemon=True)
        for first in range(1, threads)
    ]
    for helper in helpers:
        helper.start()
    try:
        run(0, max(threads, 1))
    finally:
        for helper in helpers:
            helper.join()
