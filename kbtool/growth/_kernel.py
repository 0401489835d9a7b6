"""The compiled z-score kernel behind `kbtool.growth.zscores.compute_zscore_arrays`.

One pass over the rows in blocks of a few hundred, the blocks spread over all cores (numba
`prange`). Per block: (A) ages, position corrections, BMI, HAZ and the table look-ups;
(B) the three powers (y/M)^L of WAZ, BMIZ and WHZ in one branch-free loop that the compiler
turns into SIMD code; (C) the restricted z beyond +-3 SD, R's rounding and the flags.

libm's `pow` costs ~29 ns a call on the 2-core benchmark machine (AMD EPYC, measured), three a row,
so (B) uses `_pow_fast`, fdlibm's log and exp (the algorithms of glibc's and R's libm) in plain
arithmetic that vectorises: ~7 ns a call in _powers' three loops (~10.5 in one loop), within 2 ulp
of libm's correctly rounded pow (measured on 1M random (x, y) with x in [e^-3, e^3], |y| < 0.7).
Where that last-ulp difference could matter it does not get the chance: a row whose z lies so near
a multiple of 0.005 (every rounding half-way point, every cut-off, flag limit and the +-3 SD switch
is one) that the error bound reaches it, or whose bound exceeds 1e-10 (|S*L| tiny), is recomputed
with libm's pow. So rounded z-scores, flags and categories are exactly those of the pow WHO's R
package uses, and unrounded ones within 1e-10 of them.
"""

from __future__ import annotations

import os
from typing import Any

# numba's OpenMP threads otherwise spin ~5 ms after every kernel call, taking a core from the
# reader, writer and store threads around it (measured on 1M rows in 125k-row batches: scoring
# 0.63 -> 0.40 CPU-s). libgomp reads this when the first parallel kernel runs, after this import;
# a user's own setting wins. Every command that computes z-scores comes through here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

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

MEASURE_UNKNOWN = 0
MEASURE_LENGTH = 1
MEASURE_HEIGHT = 2

# Columns of the packed age tables (see zscores._kernel_tables). The eight values every row needs
# sit side by side, 64 bytes: one cache line per look-up instead of eight. WHO's SD curves, needed
# only beyond +-3 SD, are in a second table of their own.
LHFA_M, LHFA_S = 0, 1
WFA_L, WFA_M, WFA_S = 2, 3, 4
BMI_L, BMI_M, BMI_S = 5, 6, 7
AGE_HOT_COLUMNS = 8
WFA_SD3POS, WFA_SD23POS, WFA_SD3NEG, WFA_SD23NEG = 0, 1, 2, 3
BMI_SD3POS, BMI_SD23POS, BMI_SD3NEG, BMI_SD23NEG = 4, 5, 6, 7
AGE_SD_COLUMNS = 8


# --- a vectorisable pow(x, y) = exp(y * log(x)), fdlibm's e_log.c and e_exp.c -------------------


def _bits_intrinsic(typingctx, x):
    """The IEEE-754 bits of a float64 as uint64 (a free register move)."""
    sig = types.uint64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.uint64))

    return sig, codegen


def _float_intrinsic(typingctx, bits):
    """The float64 whose IEEE-754 bits are `bits`."""
    sig = types.float64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


# numba intrinsics: called from compiled code only, so typed as Any for mypy
_bits: Any = intrinsic(_bits_intrinsic)
_float: Any = intrinsic(_float_intrinsic)

_U = np.uint64
_MANTISSA = _U(0x000FFFFFFFFFFFFF)
_ONE_BITS = _U(0x3FF0000000000000)
# fdlibm e_log.c: adding 0x95f64 to the high word carries mantissas above sqrt(2) into the next
# binade, so the reduced argument lies in [sqrt(2)/2, sqrt(2))
_SQRT2_CARRY = _U(0x00095F6400000000)
_IMPLICIT_BIT = _U(0x0010000000000000)
_EXP_SHIFT = _U(52)
_TWO52_BITS = _U(0x4330000000000000)  # 2**52: its bits plus a small n are the float 2**52 + n
_TWO52 = 4503599627370496.0
_EXP_BIAS = 1023.0
_LN2_HI = 6.93147180369123816490e-01  # fdlibm: ln 2 split so k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_LG1 = 6.666666666666735130e-01  # fdlibm e_log.c minimax coefficients
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_INV_LN2 = 1.44269504088896338700e00
_ROUND_SHIFT = 6755399441055744.0  # 1.5 * 2**52: x + it - it is x rounded to an integer
_ROUND_SHIFT_BITS = _U(0x4338000000000000)
_P1 = 1.66666666666666019037e-01  # fdlibm e_exp.c minimax coefficients
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _log_reduce(x: float) -> tuple[float, float, float]:
    """fdlibm's log, first step: x = 2**k * (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2); returns
    k, f and s = f/(2 + f). In two steps, like the exp after it, for _powers."""
    ix = _bits(x)
    mantissa = ix & _MANTISSA
    carry = (mantissa + _SQRT2_CARRY) & _IMPLICIT_BIT
    reduced = _float(mantissa | (carry ^ _ONE_BITS))
    biased_exponent = (ix >> _EXP_SHIFT) + (carry >> _EXP_SHIFT)
    k = _float(_TWO52_BITS + biased_exponent) - (_TWO52 + _EXP_BIAS)
    f = reduced - 1.0
    return k, f, f / (2.0 + f)


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _log_finish(k: float, f: float, s: float) -> float:
    """log x from _log_reduce's k, f and s."""
    hfsq = 0.5 * f * f
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    return k * _LN2_HI - ((hfsq - (s * (hfsq + t2 + t1) + k * _LN2_LO)) - f)


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _exp_fast(u: float) -> float:
    """fdlibm's exp, for |u| < 700, branch-free."""
    shifted = u * _INV_LN2 + _ROUND_SHIFT
    n = shifted - _ROUND_SHIFT
    hi = u - n * _LN2_HI
    lo = n * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    e = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # scale by 2**n: add n to the exponent field (n sits in the low bits of `shifted`)
    return _float(_bits(e) + ((_bits(shifted) - _ROUND_SHIFT_BITS) << _EXP_SHIFT))


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _pow_fast(x: float, y: float) -> float:
    """x**y for 2**-20 < x < 2**20 and |y * ln x| < 700, branch-free; other x give garbage."""
    k, f, s = _log_reduce(x)
    return _exp_fast(y * _log_finish(k, f, s))


# A z-score whose error bound reaches a multiple of 0.005 is recomputed with libm's pow (module
# doc). fdlibm's log and exp are each within 1 ulp, so for |y ln x| <= 2 (|L| < 0.7 in the WHO
# tables, 1/16 < x < 16) _pow_fast is within 1.5 * 2 + 1 ulp of x**y and libm's pow within 0.5:
# 4.5 ulp = 1e-15 relative, bounded here by twice that. z = (p - 1)/(S*L) then errs by at most
# 2e-15 * (p + 1)/|S*L|; rows where that exceeds 1e-10 (|S*L| < 4e-5) use libm's pow too.
_POW_ERROR = 2e-15
_MAX_Z_ERROR = 1e-10
_GRID = 200.0  # 1 / 0.005
_X_MIN = 1.0 / 16.0
_X_MAX = 16.0


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _needs_libm(p: float, x: float, sl: float) -> bool:
    """Whether z from p = _pow_fast(x, L) could differ where it matters from libm's (module doc).

    Without a division: |z*200 - nearest integer| > 200 * 1e-14 * (p + 1) / |S*L|, scaled by
    |S*L|; x outside the range _pow_fast handles, or NaN, also needs libm.
    """
    scaled = (p - 1.0) / sl * _GRID
    error = _POW_ERROR * (abs(p) + 1.0)
    fine = (
        (x > _X_MIN)
        & (x < _X_MAX)
        & (error < _MAX_Z_ERROR * abs(sl))
        & (abs(scaled - np.rint(scaled)) * abs(sl) > error * _GRID)
    )
    return not fine


# _r_round2 rounds to WHO Anthro's 2 decimals (scale 100.0)
assert Z_DECIMALS == 2


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _r_round2(z: float) -> float:
    """z rounded to 2 decimals as R's round(z, 2) (see kbtool.growth.rounding.r_round)."""
    scaled = z * 100.0
    rounded = np.rint(scaled) / 100.0
    if abs(abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6:
        sign = -1.0 if z < 0 else 1.0
        az = abs(z)
        x10 = az * 100.0
        i10 = np.floor(x10)
        down = i10 / 100.0
        up = np.ceil(x10) / 100.0
        dist_up = up - az
        dist_down = az - down
        take_up = dist_up < dist_down or (dist_up == dist_down and np.fmod(i10, 2.0) == 1.0)
        rounded = sign * (up if take_up else down)
    return rounded


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _sd_curve(m: float, l: float, s: float, k: float) -> float:
    """WHO's k-th SD curve M(1 + L*S*k)^(1/L), with libm's pow as R `anthro` (tables.sd_curve)."""
    return m * ((1 + l * s * k) ** (1 / l))


@njit(parallel=True, cache=True, error_model="numpy", nogil=True)
def zscore_kernel(
    sex,
    days,
    months_given,
    has_months,
    weight,
    lenhei_in,
    position,
    oedema,
    full_precision,
    age_tab,
    sd_tab,
    lh_tab,
    wfl_first,
    wfl_size,
    wfh_first,
    wfh_size,
    block_rows,
    out_age,
    out_lenhei,
    out_position_flag,
    out_haz,
    out_haz_flag,
    out_waz,
    out_waz_flag,
    out_whz,
    out_whz_flag,
    out_bmi,
    out_bmiz,
    out_bmiz_flag,
):
    """Fill the out_* arrays for every row; blocks of `block_rows` rows run on all cores."""
    n = sex.shape[0]
    blocks = (n + block_rows - 1) // block_rows
    for block in prange(blocks):
        start = block * block_rows
        stop = min(n, start + block_rows)
        _score_block(
            start,
            stop,
            sex,
            days,
            months_given,
            has_months,
            weight,
            lenhei_in,
            position,
            oedema,
            full_precision,
            age_tab,
            sd_tab,
            lh_tab,
            wfl_first,
            wfl_size,
            wfh_first,
            wfh_size,
            out_age,
            out_lenhei,
            out_position_flag,
            out_haz,
            out_haz_flag,
            out_waz,
            out_waz_flag,
            out_whz,
            out_whz_flag,
            out_bmi,
            out_bmiz,
            out_bmiz_flag,
        )


@njit(cache=True, error_model="numpy", nogil=True)
def _score_block(
    start,
    stop,
    sex,
    days,
    months_given,
    has_months,
    weight,
    lenhei_in,
    position,
    oedema,
    full_precision,
    age_tab,
    sd_tab,
    lh_tab,
    wfl_first,
    wfl_size,
    wfh_first,
    wfh_size,
    out_age,
    out_lenhei,
    out_position_flag,
    out_haz,
    out_haz_flag,
    out_waz,
    out_waz_flag,
    out_whz,
    out_whz_flag,
    out_bmi,
    out_bmiz,
    out_bmiz_flag,
):
    """Rows start:stop; the arithmetic of each step is R `anthro`'s (see zscores' docstring)."""
    nan = np.nan
    rows = stop - start
    age_size = age_tab.shape[0] // 3
    w = weight[start:stop]
    lenhei = out_lenhei[start:stop]
    bmi = out_bmi[start:stop]
    months = np.empty(rows)
    age_index = np.empty(rows, dtype=np.int64)
    haz_m = np.empty(rows)
    haz_s = np.empty(rows)
    # WHZ's L, M, S at the two neighbouring 0.1 cm rows, and the tenths of the lower one
    whz_low = np.empty((3, rows))
    whz_up = np.empty((3, rows))
    tenths = np.empty(rows)
    frac = np.empty(rows)
    # the three powers: WAZ at [j], BMIZ at [rows + j], WHZ at [2 * rows + j]
    y = np.empty(3 * rows)
    l = np.empty(3 * rows)
    m = np.empty(3 * rows)
    s = np.empty(3 * rows)
    x = np.empty(3 * rows)
    sl = np.empty(3 * rows)
    p = np.empty(3 * rows)
    # z of HAZ, WAZ, BMIZ, WHZ (rows each), its rounding, whether step (C) must look again
    usable = np.empty(4 * rows, dtype=np.bool_)
    z = np.empty(4 * rows)
    check = np.empty(4 * rows, dtype=np.bool_)

    for j in range(rows):
        months[j] = days[start + j] / DAYS_PER_MONTH

    # (A) ages, corrections, look-ups
    for j in range(rows):
        i = start + j
        sx = sex[i]
        known_sex = sx == 1 or sx == 2
        sx = sx if known_sex else 0
        d = days[i]
        age_months = months[j]
        if has_months:
            given = months_given[i]
            if np.isnan(d) and not np.isnan(given):
                d = given * DAYS_PER_MONTH
                age_months = given
        age_ok = d >= 0  # NaN compares False: unknown age
        whole = np.floor(d)
        age = whole + (1.0 if d - whole >= 0.5 else 0.0)
        age = age if age_ok else nan
        out_age[i] = age

        pos = position[i]
        # R anthro: a standing measure under 9 months (unrounded months) is implausible
        position_flag = (
            pos == MEASURE_HEIGHT and age_ok and age_months < STANDING_IMPLAUSIBLE_BELOW_MONTHS
        )
        out_position_flag[i] = position_flag
        pos = MEASURE_UNKNOWN if position_flag else pos
        lh = lenhei_in[i]
        if age_ok and age < LENGTH_BEFORE_DAYS and pos == MEASURE_HEIGHT:
            lh = lh + POSITION_CORRECTION_CM
        elif age_ok and age >= LENGTH_BEFORE_DAYS and pos == MEASURE_LENGTH:
            lh = lh - POSITION_CORRECTION_CM
        lenhei[j] = lh
        weight_ok = w[j] > 0
        lenhei_ok = lh > 0
        no_oedema = not oedema[i]

        # age-indexed tables: the whole day 0-1826, for a known sex, under 60 months
        age_usable = known_sex and age_ok and age_months < MAX_AGE_MONTHS and age <= MAX_AGE_DAYS
        k = sx * age_size + (int(age) if age_usable else 0)
        age_index[j] = k
        haz_m[j] = age_tab[k, LHFA_M]
        haz_s[j] = age_tab[k, LHFA_S]
        l[j] = age_tab[k, WFA_L]
        m[j] = age_tab[k, WFA_M]
        s[j] = age_tab[k, WFA_S]
        l[rows + j] = age_tab[k, BMI_L]
        m[rows + j] = age_tab[k, BMI_M]
        s[rows + j] = age_tab[k, BMI_S]
        usable[j] = age_usable and lenhei_ok
        usable[rows + j] = age_usable and weight_ok and no_oedema
        usable[2 * rows + j] = age_usable and weight_ok and lenhei_ok and no_oedema

        # weight-for-length below 731 days, weight-for-height from 731 (age unknown: by
        # position, else by the 87 cm split), as R anthro's join_on_l / join_on_h
        if age_ok:
            on_length = age < LENGTH_BEFORE_DAYS
        elif pos == MEASURE_UNKNOWN:
            on_length = lh < LENGTH_HEIGHT_SPLIT_CM
        else:
            on_length = pos == MEASURE_LENGTH
        on_height = not on_length and (
            age_ok
            or pos == MEASURE_HEIGHT
            or (pos == MEASURE_UNKNOWN and lh >= LENGTH_HEIGHT_SPLIT_CM)
        )
        negative_age = not age_ok and not np.isnan(d)
        whz_common = (
            known_sex
            and weight_ok
            and no_oedema
            and not negative_age
            and (not age_ok or (age <= WHZ_MAX_AGE_DAYS and age_months < MAX_AGE_MONTHS))
        )
        wfl_row = whz_common and on_length and lh >= WFL_RANGE_CM[0] and lh <= WFL_RANGE_CM[1]
        wfh_row = whz_common and on_height and lh >= WFH_RANGE_CM[0] and lh <= WFH_RANGE_CM[1]
        first = wfh_first if wfh_row else wfl_first
        size = wfh_size if wfh_row else wfl_size
        base = 3 * wfl_size if wfh_row else 0
        # R anthro joins on trunc(lenhei*10)/10 and trunc(lenhei*10 + 1)/10
        inside = wfl_row or wfh_row
        tenths_low = np.trunc(lh * 10) if inside else 0.0
        tenths[j] = tenths_low
        col_low = int(tenths_low) - first if inside else 0
        col_up = int(np.trunc(lh * 10 + 1)) - first if inside else 0
        in_low = col_low >= 0 and col_low < size
        in_up = col_up >= 0 and col_up < size
        k_low = base + sx * size + min(max(col_low, 0), size - 1)
        k_up = base + sx * size + min(max(col_up, 0), size - 1)
        for q in range(3):
            whz_low[q, j] = lh_tab[k_low, q] if in_low else nan
            whz_up[q, j] = lh_tab[k_up, q] if in_up else nan
        usable[3 * rows + j] = inside

    # (B) the arithmetic, in short branch-free loops that compile to SIMD code
    for j in range(rows):
        metres = lenhei[j] / 100
        bmi[j] = w[j] / (metres * metres)
    for j in range(rows):
        y[j] = w[j]
        y[rows + j] = bmi[j]
        y[2 * rows + j] = w[j]
    for j in range(rows):
        z[j] = (lenhei[j] / haz_m[j] - 1) / haz_s[j]
    # R anthro interpolates L, M and S by (lenhei - low)/0.1 when that is > 0
    for j in range(rows):
        frac[j] = (lenhei[j] - tenths[j] / 10) / 0.1
    _interpolate(whz_low[0], whz_up[0], frac, l[2 * rows :])
    _interpolate(whz_low[1], whz_up[1], frac, m[2 * rows :])
    _interpolate(whz_low[2], whz_up[2], frac, s[2 * rows :])
    for j in range(3 * rows):
        x[j] = y[j] / m[j]
        sl[j] = s[j] * l[j]
    _powers(x, l, p)
    # z, R's rounding, and whether step (C) must look again: a possible last-ulp difference of
    # _pow_fast that matters, beyond +-3 SD, or near a rounding half-way point
    for j in range(3 * rows):
        zj = (p[j] - 1.0) / sl[j]
        z[rows + j] = zj
        check[rows + j] = _needs_libm(p[j], x[j], sl[j]) | (zj > 3) | (zj < -3)
    for j in range(rows):
        check[j] = False
    # R's rounding straight into the outputs, HAZ, WAZ, BMIZ, WHZ (z holds them in that order)
    outputs = (out_haz, out_waz, out_bmiz, out_whz)
    for q in range(4):
        _round_into(z, usable, check, q * rows, full_precision, outputs[q][start:stop])

    # (C) the rare rows: libm's pow, the restricted z beyond +-3 SD, R's rounding at a half
    for j in range(4 * rows):
        if check[j]:
            q = j // rows
            outputs[q][start + j - q * rows] = _rare_row(
                q, z[j], y, l, m, s, j - rows, age_index[j - q * rows], sd_tab, full_precision
            )
    _flag(out_haz[start:stop], HAZ_FLAG[0], HAZ_FLAG[1], out_haz_flag[start:stop])
    _flag(out_waz[start:stop], WAZ_FLAG[0], WAZ_FLAG[1], out_waz_flag[start:stop])
    _flag(out_bmiz[start:stop], BMIZ_FLAG[0], BMIZ_FLAG[1], out_bmiz_flag[start:stop])
    _flag(out_whz[start:stop], WHZ_FLAG[0], WHZ_FLAG[1], out_whz_flag[start:stop])


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _round_into(z, usable, check, offset, full_precision, out):
    """out = z[offset:] rounded as WHO Anthro (NaN where not usable); check marks the rows near
    a rounding half-way point for step (C), and is cleared where the z-score is not usable."""
    for j in range(out.shape[0]):
        k = offset + j
        scaled = z[k] * 100.0
        ok = usable[k]
        out[j] = (z[k] if full_precision else np.rint(scaled) / 100.0) if ok else np.nan
        # R's round away from a half-way point; near one step (C) rounds as R does
        near_half = abs(abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
        check[k] = (check[k] | (near_half & (not full_precision))) & ok


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def _flag(values, low, high, out):
    """WHO's flag: the (rounded) z-score outside [low, high]; False where it is NaN."""
    for j in range(values.shape[0]):
        out[j] = (values[j] < low) | (values[j] > high)


@njit(fastmath={"contract"}, cache=True, error_model="numpy", nogil=True)
def _powers(x, y, out):
    """out = x**y by _pow_fast's arithmetic; fused multiply-adds (contract) only make it more
    exact. In three loops, as the C kernel's powers(), which says why."""
    n = x.shape[0]
    k = np.empty(n)
    f = np.empty(n)
    for j in range(n):
        k[j], f[j], out[j] = _log_reduce(x[j])
    for j in range(n):
        out[j] = y[j] * _log_finish(k[j], f[j], out[j])
    for j in range(n):
        out[j] = _exp_fast(out[j])


@njit(cache=True, error_model="numpy", nogil=True)
def _interpolate(at_low, at_up, frac, out):
    """L, M or S between two 0.1 cm rows, R anthro's linear interpolation."""
    for j in range(frac.shape[0]):
        f = frac[j]
        out[j] = at_low[j] + f * (at_up[j] - at_low[j]) if f > 0 else at_low[j]


@njit(cache=True, error_model="numpy", nogil=True)
def _rare_row(q, z, y, l, m, s, jp, k, sd_tab, full_precision):
    """Indicator q's z at power index jp, for a row step (B) could not settle (_score_block)."""
    if q == 0:
        return z if full_precision else _r_round2(z)
    yj, lj, mj, sj = y[jp], l[jp], m[jp], s[jp]
    x = yj / mj
    sl = sj * lj
    if _needs_libm(_pow_fast(x, lj), x, sl):
        z = (x**lj - 1.0) / sl
    sd = WFA_SD3POS if q == 1 else BMI_SD3POS
    if z > 3:
        if q < 3:
            sd3, sd23 = sd_tab[k, sd], sd_tab[k, sd + 1]
        else:
            # WHO's SD curves of the interpolated L, M, S, with libm's pow as R
            sd3 = _sd_curve(mj, lj, sj, 3.0)
            sd23 = sd3 - _sd_curve(mj, lj, sj, 2.0)
        z = 3 + (yj - sd3) / sd23
    elif z < -3:
        if q < 3:
            sd3, sd23 = sd_tab[k, sd + 2], sd_tab[k, sd + 3]
        else:
            sd3 = _sd_curve(mj, lj, sj, -3.0)
            sd23 = _sd_curve(mj, lj, sj, -2.0) - sd3
        z = -3 + (yj - sd3) / sd23
    return z if full_precision else _r_round2(z)


@njit(parallel=True, cache=True, error_model="numpy", nogil=True)
def round2_kernel(values, out):
    """out = values rounded to 2 decimals as R's round(x, 2), on all cores."""
    for i in prange(values.shape[0]):
        out[i] = _r_round2(values[i])
