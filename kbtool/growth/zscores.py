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

Each step is numpy over a block of rows (the temporaries stay in the CPU cache), in R's
arithmetic and order; `_restricted_z` says how its powers match R's `^`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kbtool.arrays import BoolArray, FloatArray, IndexArray
from kbtool.columns import MEASURE_HEIGHT, MEASURE_LENGTH, MEASURE_UNKNOWN
from kbtool.growth.constants import (
    BMIZ_FLAG,
    DAYS_PER_MONTH,
    HAZ_FLAG,
    LENGTH_BEFORE_DAYS,
    LENGTH_HEIGHT_SPLIT_CM,
    MAX_AGE_DAYS,
    MAX_AGE_MONTHS,
    POSITION_CORRECTION_CM,
    STANDING_IMPLAUSIBLE_BELOW_MONTHS,
    WAZ_FLAG,
    WFH_RANGE_CM,
    WFL_RANGE_CM,
    WHZ_FLAG,
    WHZ_MAX_AGE_DAYS,
    Z_DECIMALS,
)
from kbtool.growth.inputs import flags, measure_codes, numbers
from kbtool.growth.rounding import r_round
from kbtool.growth.tables import Power, load_table, sd_curve

# Rows per block: a block's ~60 temporaries stay in the cache (16k-64k rows run alike). Threads
# over blocks measured no faster on the 2 shared cores: numpy's calls on 32k rows are short.
BLOCK_ROWS = 1 << 15


@dataclass(frozen=True)
class ZScoreArrays:
    """One entry per input row, NaN where WHO gives no value; a flag counts where its z does."""

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


def round_half_up_days(age_days: FloatArray) -> FloatArray:
    """Whole days as R `anthro`'s round_up: fractions below .5 down, from .5 up; NaN stays NaN."""
    whole = np.floor(age_days)
    return whole + ((age_days - whole) >= 0.5)


def _lms_at(name: str, sex: IndexArray, column: IndexArray) -> list[FloatArray]:
    """L, M and S of WHO table `name` for each row's sex and table column."""
    table = load_table(name)
    at = sex * table.size + column  # the tables' rows are sexes 0 (all NaN), 1 and 2
    return [parameter.ravel()[at] for parameter in (table.l, table.m, table.s)]


@dataclass(frozen=True)
class _Inputs:
    """compute_zscore_arrays' columns, each of the same length."""

    sex: IndexArray  # 1 or 2; 0 unknown
    days: FloatArray
    months: FloatArray | None  # given ages in months, used where `days` is NaN
    weight: FloatArray
    lenhei: FloatArray
    position: npt.NDArray[np.int8]
    oedema: BoolArray


def _as_float(values: npt.ArrayLike | None, name: str, n: int) -> FloatArray:
    if values is None:
        return np.full(n, np.nan)
    return numbers(values, name, n)


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
    """HAZ, WAZ, WHZ and BMIZ with their flags for whole columns at once.

    `sex` 1 male, 2 female, else unknown; `age_days` exact, NaN where unknown (then `age_months`
    x 30.4375, if given); `measure` MEASURE_* codes; `oedema` True/False. Unless `full_precision`,
    z-scores are rounded to 2 decimals as R rounds and flagged on the rounded values, as WHO
    Anthro does. Every array has one value per row (NaN, None or NA where missing); InputError
    for arrays of different lengths or a value that is not what its argument means.
    """
    sex_in = numbers(sex, "sex", kind="sex")
    n = len(sex_in)
    inputs = _Inputs(
        sex=np.where((sex_in == 1) | (sex_in == 2), sex_in, 0).astype(np.intp),
        days=_as_float(age_days, "age_days", n),
        months=None if age_months is None else _as_float(age_months, "age_months", n),
        weight=_as_float(weight_kg, "weight_kg", n),
        lenhei=_as_float(lenhei_cm, "lenhei_cm", n),
        position=measure_codes(measure, "measure", n),
        oedema=flags(oedema, "oedema", n),
    )
    result = ZScoreArrays(
        **{
            name: np.empty(n, dtype=bool if name.endswith("_flag") else np.float64)
            for name in ZScoreArrays.__dataclass_fields__
        }
    )

    with np.errstate(all="ignore"):  # NaN and out-of-range rows compute to NaN, then are masked
        for start in range(0, n, BLOCK_ROWS):
            _score_rows(slice(start, min(n, start + BLOCK_ROWS)), inputs, result, full_precision)
    return result


def _score_rows(rows: slice, given: _Inputs, out: ZScoreArrays, full_precision: bool) -> None:
    """Fill `out` for `rows`; each step is R `anthro`'s (see the module docstring)."""
    sex = given.sex[rows]
    known_sex = sex > 0
    days = given.days[rows]
    months = days / DAYS_PER_MONTH
    if given.months is not None:
        given_months = given.months[rows]
        from_months = np.isnan(days) & ~np.isnan(given_months)
        days = np.where(from_months, given_months * DAYS_PER_MONTH, days)
        months = np.where(from_months, given_months, months)
    age_known = days >= 0  # NaN compares False: unknown age
    age = np.where(age_known, round_half_up_days(days), np.nan)
    out.age_days[rows] = age

    # R anthro: a standing measure under 9 months (unrounded months) is implausible
    position = given.position[rows]
    position_flag = (
        (position == MEASURE_HEIGHT) & age_known & (months < STANDING_IMPLAUSIBLE_BELOW_MONTHS)
    )
    out.position_flag[rows] = position_flag
    position = np.where(position_flag, np.int8(MEASURE_UNKNOWN), position)
    lenhei = given.lenhei[rows]
    as_length = age < LENGTH_BEFORE_DAYS  # NaN (unknown age) compares False both ways
    as_height = age >= LENGTH_BEFORE_DAYS
    lenhei = np.where(
        as_length & (position == MEASURE_HEIGHT),
        lenhei + POSITION_CORRECTION_CM,
        np.where(as_height & (position == MEASURE_LENGTH), lenhei - POSITION_CORRECTION_CM, lenhei),
    )
    out.lenhei_cm[rows] = lenhei
    weight = given.weight[rows]
    weight_ok = weight > 0
    lenhei_ok = lenhei > 0
    no_oedema = ~given.oedema[rows]
    metres = lenhei / 100
    bmi = weight / (metres * metres)
    out.bmi[rows] = bmi

    # age-indexed tables: the whole day 0-1826, for a known sex, under 60 months
    age_ok = known_sex & age_known & (months < MAX_AGE_MONTHS) & (age <= MAX_AGE_DAYS)
    day = np.where(age_ok, age, 0).astype(np.intp)
    # HAZ is (y/M - 1)/S: the length/height-for-age L is 1 on the whole table
    _, haz_m, haz_s = _lms_at("lhfa", sex, day)
    haz = (lenhei / haz_m - 1) / haz_s
    _store(out.haz, out.haz_flag, rows, haz, age_ok & lenhei_ok, HAZ_FLAG, full_precision)
    waz = _restricted_z(weight, *_lms_at("wfa", sex, day))
    waz_ok = age_ok & weight_ok & no_oedema
    _store(out.waz, out.waz_flag, rows, waz, waz_ok, WAZ_FLAG, full_precision)
    bmiz = _restricted_z(bmi, *_lms_at("bmifa", sex, day))
    _store(out.bmiz, out.bmiz_flag, rows, bmiz, waz_ok & lenhei_ok, BMIZ_FLAG, full_precision)

    # weight-for-length below 731 days, weight-for-height from 731 (age unknown: by position,
    # else by the 87 cm split), as R anthro's join_on_l / join_on_h
    unknown_position = position == MEASURE_UNKNOWN
    on_length = np.where(
        age_known,
        as_length,
        np.where(unknown_position, lenhei < LENGTH_HEIGHT_SPLIT_CM, position == MEASURE_LENGTH),
    )
    on_height = ~on_length & (
        age_known
        | (position == MEASURE_HEIGHT)
        | (unknown_position & (lenhei >= LENGTH_HEIGHT_SPLIT_CM))
    )
    negative_age = ~age_known & ~np.isnan(days)
    whz_age_ok = ~age_known | ((age <= WHZ_MAX_AGE_DAYS) & (months < MAX_AGE_MONTHS))
    whz_common = known_sex & weight_ok & no_oedema & ~negative_age & whz_age_ok
    on_wfl = whz_common & on_length & (lenhei >= WFL_RANGE_CM[0]) & (lenhei <= WFL_RANGE_CM[1])
    on_wfh = whz_common & on_height & (lenhei >= WFH_RANGE_CM[0]) & (lenhei <= WFH_RANGE_CM[1])
    whz = _restricted_z(weight, *_lenhei_lms(lenhei, sex, on_wfl, on_wfh))
    _store(out.whz, out.whz_flag, rows, whz, on_wfl | on_wfh, WHZ_FLAG, full_precision)


def _lenhei_lms(
    lenhei: FloatArray, sex: IndexArray, on_wfl: BoolArray, on_wfh: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """L, M, S of weight-for-length (rows on_wfl) or weight-for-height (on_wfh) at each length,
    NaN elsewhere: R anthro joins on trunc(lenhei*10)/10 and trunc(lenhei*10 + 1)/10 and
    interpolates by (lenhei - low)/0.1 where that is > 0."""
    l, m, s = (np.full(lenhei.shape, np.nan) for _ in range(3))
    for name, on_table in (("wfl", on_wfl), ("wfh", on_wfh)):
        first, size = load_table(name).first_index, load_table(name).size
        rows = np.flatnonzero(on_table)
        length = lenhei[rows]
        tenths_low = np.trunc(length * 10)
        low = tenths_low.astype(np.intp) - first
        # after the last length there is no row, and none is needed: there frac is 0
        up = np.minimum(np.trunc(length * 10 + 1).astype(np.intp) - first, size - 1)
        frac = (length - tenths_low / 10) / 0.1
        between = frac > 0
        at_low, at_up = _lms_at(name, sex[rows], low), _lms_at(name, sex[rows], up)
        for values, lower, upper in zip((l, m, s), at_low, at_up, strict=True):
            values[rows] = np.where(between, lower + frac * (upper - lower), lower)
    return l, m, s


def _restricted_z(y: FloatArray, l: FloatArray, m: FloatArray, s: FloatArray) -> FloatArray:
    """WHO's LMS z ((y/M)^L - 1)/(S*L), and beyond +-3 SD its restricted form
    +-3 + (y - SD3)/(SD3 - SD2) on WHO's SD curves of the same L, M, S (tables.sd_curve).

    numpy's SIMD pow (AVX-512 CPUs) may differ in the last bit from the C library's, which R's
    `^` calls: a z that near a multiple of 0.005 (every rounding point, cut-off, flag limit and
    the +-3 switch is one) is computed again with the C library's pow, so it rounds as in R.
    """
    z = _lms_z(y, l, m, s, np.power)
    with np.errstate(invalid="ignore"):
        near = np.flatnonzero(np.abs(z * 200 - np.rint(z * 200)) < _NEAR_ROUNDING_POINT)
    if near.size:
        z[near] = _lms_z(y[near], l[near], m[near], s[near], _libm_power)
    return z


# |z/0.005 - nearest integer| below which z is computed with the C library's pow: last-bit pow
# differences move z by under 1e-10, and random rows fall this near once in a million
_NEAR_ROUNDING_POINT = 1e-6


def _lms_z(y: FloatArray, l: FloatArray, m: FloatArray, s: FloatArray, power: Power) -> FloatArray:
    z = (power(y / m, l) - 1) / (s * l)
    for sign in (1.0, -1.0):  # beyond +3 SD, then beyond -3 SD
        out = np.flatnonzero(sign * z > 3)
        if out.size:
            lms = m[out], l[out], s[out]
            sd3 = sd_curve(*lms, 3 * sign, power)
            z[out] = 3 * sign + (y[out] - sd3) / (sign * (sd3 - sd_curve(*lms, 2 * sign, power)))
    return z


def _libm_power(x: FloatArray, y: FloatArray) -> FloatArray:
    """x**y by the C library's pow, one value at a time: for the few rows that need it."""
    return np.array([_pow(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)])


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):  # where numpy gives NaN or inf
        return float(np.power(a, b))


def _store(
    values: FloatArray,
    flags: BoolArray,
    rows: slice,
    z: FloatArray,
    usable: BoolArray,
    limits: tuple[float, float],
    full_precision: bool,
) -> None:
    """values[rows] = z where usable (else NaN), rounded as R unless `full_precision`; flags[rows]
    = WHO's flag of that value: outside `limits` (False where NaN)."""
    z = np.where(usable, z, np.nan)
    if not full_precision:
        z = r_round(z, Z_DECIMALS)
    values[rows] = z
    flags[rows] = (z < limits[0]) | (z > limits[1])
