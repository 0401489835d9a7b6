/* The z-score kernel compiled ahead of time: the same rules and the same arithmetic, step for
 * step, as the numba kernel in _kernel.py (whose docstrings explain each step and its source, R
 * `anthro`), built as an extension module when kbtool is installed. Its loops are arranged for the
 * vector units (ages_and_rows, powers(), the uint64_t flags of Scratch) where numba's are not.
 *
 * Why a second implementation: numba compiles on first use (~20 s) and, even from its disk cache,
 * takes ~1.1 s of single-threaded start-up on every run (its own set-up and the scipy.linalg it
 * imports): a third of `kbtool zscore`'s time on 1M rows. This module loads in under a
 * millisecond. Where it could not be built (no C compiler), kbtool falls back to numba
 * (kbtool.growth.zscores); the tests run the WHO parity checks on both and check that they agree
 * bit for bit.
 *
 * Floating point: compiled with contraction off (setup.py), so every a*b+c rounds twice as in
 * numba and R; only the vectorised pow may use fused multiply-adds, which make it more exact
 * (its error bound, _kernel._POW_ERROR, holds either way).
 *
 * Threads: score() releases the GIL and takes blocks start, start + stride, ... of BLOCK_ROWS
 * rows; zscores.py calls it from one thread per core with start = 0, 1, ...
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../_cbuffers.h"

/* kbtool.growth.constants, with their sources there */
#define DAYS_PER_MONTH 30.4375
#define POSITION_CORRECTION_CM 0.7
#define LENGTH_BEFORE_DAYS 731.0
#define STANDING_IMPLAUSIBLE_BELOW_MONTHS 9.0
#define MAX_AGE_MONTHS 60.0
#define MAX_AGE_DAYS 1826.0
#define WHZ_MAX_AGE_DAYS 1856.0
#define WFL_LOW_CM 45.0
#define WFL_HIGH_CM 110.0
#define WFH_LOW_CM 65.0
#define WFH_HIGH_CM 120.0
#define LENGTH_HEIGHT_SPLIT_CM 87.0

/* position codes (zscores.MEASURE_*) */
#define MEASURE_UNKNOWN 0
#define MEASURE_LENGTH 1
#define MEASURE_HEIGHT 2

/* columns of the packed tables (_kernel.LHFA_M ...; zscores._kernel_tables) */
#define LHFA_M 0
#define LHFA_S 1
#define WFA_L 2
#define WFA_M 3
#define WFA_S 4
#define BMI_L 5
#define BMI_M 6
#define BMI_S 7
#define AGE_HOT_COLUMNS 8
#define WFA_SD3POS 0
#define BMI_SD3POS 4
#define AGE_SD_COLUMNS 8
#define LENHEI_COLUMNS 4

/* _kernel._POW_ERROR ... _X_MAX: when the fast pow's last-ulp error could matter */
#define POW_ERROR 2e-15
#define MAX_Z_ERROR 1e-10
#define GRID 200.0
#define X_MIN (1.0 / 16.0)
#define X_MAX 16.0

#define MAX_BLOCK_ROWS 65536

#ifdef _MSC_VER
#define restrict __restrict
#define ALWAYS_INLINE __forceinline
#else
/* inlined into the target clones of powers() too, so that it vectorises there */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#endif

/* ---- fdlibm's log and exp in branch-free arithmetic (_kernel._pow_fast) ---------------------- */

static inline uint64_t bits_of(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double float_of(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define MANTISSA 0x000FFFFFFFFFFFFFULL
#define ONE_BITS 0x3FF0000000000000ULL
#define SQRT2_CARRY 0x00095F6400000000ULL
#define IMPLICIT_BIT 0x0010000000000000ULL
#define EXP_SHIFT 52
#define TWO52_BITS 0x4330000000000000ULL
#define TWO52 4503599627370496.0
#define EXP_BIAS 1023.0
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define LG1 6.666666666666735130e-01
#define LG2 3.999999999940941908e-01
#define LG3 2.857142874366239149e-01
#define LG4 2.222219843214978396e-01
#define LG5 1.818357216161805012e-01
#define LG6 1.531383769920937332e-01
#define LG7 1.479819860511658591e-01
#define INV_LN2 1.44269504088896338700e00
#define ROUND_SHIFT 6755399441055744.0
#define ROUND_SHIFT_BITS 0x4338000000000000ULL
#define P1 1.66666666666666019037e-01
#define P2 -2.77777777770155933842e-03
#define P3 6.61375632143793436117e-05
#define P4 -1.65339022054652515390e-06
#define P5 4.13813679705723846039e-08

/* fdlibm's log in two steps (powers() says why): x = 2**k * (1 + f) with
 * sqrt(2)/2 <= 1 + f < sqrt(2), and log_reduce returns s = f/(2 + f) */
static ALWAYS_INLINE double log_reduce(double x, double *k, double *f) {
    uint64_t ix = bits_of(x);
    uint64_t mantissa = ix & MANTISSA;
    uint64_t carry = (mantissa + SQRT2_CARRY) & IMPLICIT_BIT;
    double reduced = float_of(mantissa | (carry ^ ONE_BITS));
    uint64_t biased_exponent = (ix >> EXP_SHIFT) + (carry >> EXP_SHIFT);
    *k = float_of(TWO52_BITS + biased_exponent) - (TWO52 + EXP_BIAS);
    *f = reduced - 1.0;
    return *f / (2.0 + *f);
}

/* log x from log_reduce's k, f and s */
static ALWAYS_INLINE double log_finish(double k, double f, double s) {
    double hfsq = 0.5 * f * f;
    double z = s * s;
    double w = z * z;
    double t1 = w * (LG2 + w * (LG4 + w * LG6));
    double t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    return k * LN2_HI - ((hfsq - (s * (hfsq + t2 + t1) + k * LN2_LO)) - f);
}

/* fdlibm's exp, for |u| < 700 */
static ALWAYS_INLINE double exp_fast(double u) {
    double shifted = u * INV_LN2 + ROUND_SHIFT;
    double n = shifted - ROUND_SHIFT;
    double hi = u - n * LN2_HI;
    double lo = n * LN2_LO;
    double r = hi - lo;
    double t = r * r;
    double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    double e = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    return float_of(bits_of(e) + ((bits_of(shifted) - ROUND_SHIFT_BITS) << EXP_SHIFT));
}

/* a where take is 1, b where it is 0, without a branch: GCC turns a conditional expression over
 * doubles into a select (and so vectorises the loop around it) only where it cannot trap */
static ALWAYS_INLINE double pick(uint64_t take, double a, double b) {
    uint64_t mask = 0 - take;
    return float_of((bits_of(a) & mask) | (bits_of(b) & ~mask));
}

/* x**y for 2**-20 < x < 2**20 and |y ln x| < 700; other x give garbage (caught by needs_libm) */
static ALWAYS_INLINE double pow_fast(double x, double y) {
    double k, f;
    double s = log_reduce(x, &k, &f);
    return exp_fast(y * log_finish(k, f, s));
}

/* Code built for several x86-64 levels, the loader picking the best the CPU has (GCC, Linux):
 * the baseline lacks SSE4.1, so floor, trunc and rint would each be a call into libm. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "arch=x86-64-v2", "default")))
#define CPU_CLONES_FMA                                                                        \
    __attribute__((target_clones("arch=x86-64-v3", "arch=x86-64-v2", "default"),             \
                   optimize("fp-contract=fast")))
#else
#define CPU_CLONES
#define CPU_CLONES_FMA
#endif

/* out = x**y over a block, by pow_fast's arithmetic in three loops the compiler turns into SIMD
 * code, with fused multiply-adds where the CPU has them. Three loops, not one: one pow is a chain
 * of some 40 dependent steps, and a loop over whole pows keeps too few rows in flight to fill the
 * CPU (10.5 ns a pow on the benchmark machine; 7.0 in three loops, the same bits).
 * k and f: scratch, n long */
CPU_CLONES_FMA
static void powers(const double *restrict x, const double *restrict y, double *restrict out,
                   double *restrict k, double *restrict f, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) {
        out[j] = log_reduce(x[j], &k[j], &f[j]);
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        out[j] = y[j] * log_finish(k[j], f[j], out[j]);
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        out[j] = exp_fast(out[j]);
    }
}

/* whether z = (p - 1)/sl from p = pow_fast(x, L) could differ where it matters from libm's
 * (_needs_libm, which computes the same z itself) */
static inline bool needs_libm(double p, double z, double x, double sl) {
    double scaled = z * GRID;
    double error = POW_ERROR * (fabs(p) + 1.0);
    bool fine = (x > X_MIN) & (x < X_MAX) & (error < MAX_Z_ERROR * fabs(sl)) &
                (fabs(scaled - rint(scaled)) * fabs(sl) > error * GRID);
    return !fine;
}

/* z rounded to 2 decimals as R's round(z, 2) (_kernel._r_round2, rounding.r_round) */
static inline double r_round2(double z) {
    double scaled = z * 100.0;
    double rounded = rint(scaled) / 100.0;
    if (fabs(fabs(scaled - trunc(scaled)) - 0.5) < 1e-6) {
        double sign = z < 0 ? -1.0 : 1.0;
        double az = fabs(z);
        double x10 = az * 100.0;
        double i10 = floor(x10);
        double down = i10 / 100.0;
        double up = ceil(x10) / 100.0;
        double dist_up = up - az;
        double dist_down = az - down;
        bool take_up = dist_up < dist_down || (dist_up == dist_down && fmod(i10, 2.0) == 1.0);
        rounded = sign * (take_up ? up : down);
    }
    return rounded;
}

/* WHO's k-th SD curve M(1 + L*S*k)^(1/L), with libm's pow as R `anthro` */
static inline double sd_curve(double m, double l, double s, double k) {
    return m * pow(1 + l * s * k, 1 / l);
}

/* ---- the arguments ------------------------------------------------------------------------ */

typedef struct {
    const int8_t *sex;
    const double *days;
    const double *months_given;
    const double *weight;
    const double *lenhei_in;
    const int8_t *position;
    const bool *oedema;
    const double *age_tab;
    const double *sd_tab;
    const double *lh_tab;
    double *out_age;
    double *out_lenhei;
    bool *out_position_flag;
    double *out_haz;
    bool *out_haz_flag;
    double *out_waz;
    bool *out_waz_flag;
    double *out_whz;
    bool *out_whz_flag;
    double *out_bmi;
    double *out_bmiz;
    bool *out_bmiz_flag;
    Py_ssize_t age_size;
    Py_ssize_t wfl_first, wfl_size, wfh_first, wfh_size;
    bool has_months, full_precision;
} Kernel;

/* one block's scratch: the arrays of _score_block, each `rows` long, carved from one allocation */
typedef struct {
    double *months;
    Py_ssize_t *age_index;
    double *age_key, *d_eff, *lh_low, *lh_up;
    int64_t *sex64, *position64;
    uint64_t *oedema64, *position_flag64, *negative_age, *in_low, *in_up;
    double *haz_m, *haz_s;
    double *whz_low[3], *whz_up[3];
    double *tenths, *frac;
    /* the three powers: WAZ at [j], BMIZ at [rows + j], WHZ at [2 * rows + j] */
    double *y, *l, *m, *s, *x, *sl, *p, *log_k, *log_f;
    /* HAZ, WAZ, BMIZ, WHZ */
    double *z;
    /* 0 or 1 in 64 bits: a vector of doubles compares into 64-bit lanes, and packing those into
     * bytes doubles the time of the loop that finds the rows to check (2.5 vs 4.8 ns a value on
     * the AMD EPYC of the benchmarks) */
    uint64_t *usable, *check;
    void *memory;
} Scratch;

/* Each array starts on its own cache line, one line past the end of the one before: starts that
 * were all a multiple of 4 KiB apart would compete for the same few sets of the L1 cache. */
#define SCRATCH_PAD 64

static char *carve(char **at, Py_ssize_t bytes) {
    char *start = *at;
    *at += (bytes + SCRATCH_PAD - 1) / SCRATCH_PAD * SCRATCH_PAD + SCRATCH_PAD;
    return start;
}

/* Lays the arrays out from `at` (NULL: only measures) and returns the bytes they take. */
static Py_ssize_t scratch_layout(Scratch *S, char *at, Py_ssize_t rows) {
    char *start = at;
    const Py_ssize_t d = (Py_ssize_t)sizeof(double);
    S->months = (double *)carve(&at, rows * d);
    S->age_index = (Py_ssize_t *)carve(&at, rows * (Py_ssize_t)sizeof(Py_ssize_t));
    double **doubles[] = {&S->age_key, &S->d_eff, &S->lh_low, &S->lh_up};
    for (size_t t = 0; t < sizeof doubles / sizeof doubles[0]; t++) {
        *doubles[t] = (double *)carve(&at, rows * d);
    }
    S->sex64 = (int64_t *)carve(&at, rows * 8);
    S->position64 = (int64_t *)carve(&at, rows * 8);
    uint64_t **words[] = {&S->oedema64, &S->position_flag64, &S->negative_age, &S->in_low,
                          &S->in_up};
    for (size_t t = 0; t < sizeof words / sizeof words[0]; t++) {
        *words[t] = (uint64_t *)carve(&at, rows * 8);
    }
    S->haz_m = (double *)carve(&at, rows * d);
    S->haz_s = (double *)carve(&at, rows * d);
    for (int q = 0; q < 3; q++) {
        S->whz_low[q] = (double *)carve(&at, rows * d);
        S->whz_up[q] = (double *)carve(&at, rows * d);
    }
    S->tenths = (double *)carve(&at, rows * d);
    S->frac = (double *)carve(&at, rows * d);
    double **triples[] = {&S->y, &S->l, &S->m, &S->s, &S->x, &S->sl, &S->p, &S->log_k, &S->log_f};
    for (size_t t = 0; t < sizeof triples / sizeof triples[0]; t++) {
        *triples[t] = (double *)carve(&at, 3 * rows * d);
    }
    S->z = (double *)carve(&at, 4 * rows * d);
    S->usable = (uint64_t *)carve(&at, 4 * rows * (Py_ssize_t)sizeof(uint64_t));
    S->check = (uint64_t *)carve(&at, 4 * rows * (Py_ssize_t)sizeof(uint64_t));
    return at - start;
}

static bool scratch_alloc(Scratch *S, Py_ssize_t rows) {
    Py_ssize_t bytes = scratch_layout(S, NULL, rows);
    char *memory = malloc((size_t)(bytes + SCRATCH_PAD));
    if (memory == NULL) {
        return false;
    }
    S->memory = memory;
    scratch_layout(S, memory + (SCRATCH_PAD - (uintptr_t)memory % SCRATCH_PAD), rows);
    return true;
}

/* floor(x) and trunc(x), exactly, by rint: GCC vectorises floor and trunc only without trapping
 * math (they must not raise `inexact`), rint everywhere. rint(x) is x rounded to an integer, to
 * even at a half; where that went up, floor is one less (exact: below 2**52 both are integers
 * that a double holds, from 2**52 every double is an integer and rint(x) = x). NaN and the
 * infinities pass through; -0.0 stays -0.0. */
static ALWAYS_INLINE double floor_by_rint(double x) {
    double r = rint(x);
    return r - pick(r > x, 1.0, 0.0);
}

static ALWAYS_INLINE double trunc_by_rint(double x) {
    return copysign(floor_by_rint(fabs(x)), x);
}

/* v within 0 ... high, for integer-valued v and high >= 0 */
static ALWAYS_INLINE double clamp_double(double v, double high) {
    return pick(v < 0, 0.0, pick(v > high, high, v));
}

/* indicator q's z at power index jp, for a row the vector pass could not settle (_rare_row) */
static double rare_row(const Kernel *K, const Scratch *S, int q, double z, Py_ssize_t jp,
                       Py_ssize_t k) {
    if (q == 0) {
        return K->full_precision ? z : r_round2(z);
    }
    double yj = S->y[jp], lj = S->l[jp], mj = S->m[jp], sj = S->s[jp];
    double x = yj / mj;
    double sl = sj * lj;
    double p = pow_fast(x, lj);
    if (needs_libm(p, (p - 1.0) / sl, x, sl)) {
        z = (pow(x, lj) - 1.0) / sl;
    }
    int sd = q == 1 ? WFA_SD3POS : BMI_SD3POS;
    const double *sd_row = K->sd_tab + k * AGE_SD_COLUMNS;
    double sd3, sd23;
    if (z > 3) {
        if (q < 3) {
            sd3 = sd_row[sd];
            sd23 = sd_row[sd + 1];
        } else {
            sd3 = sd_curve(mj, lj, sj, 3.0);
            sd23 = sd3 - sd_curve(mj, lj, sj, 2.0);
        }
        z = 3 + (yj - sd3) / sd23;
    } else if (z < -3) {
        if (q < 3) {
            sd3 = sd_row[sd + 2];
            sd23 = sd_row[sd + 3];
        } else {
            sd3 = sd_curve(mj, lj, sj, -3.0);
            sd23 = sd_curve(mj, lj, sj, -2.0) - sd3;
        }
        z = -3 + (yj - sd3) / sd23;
    }
    return K->full_precision ? z : r_round2(z);
}

/* Step (A) of score_block: ages, position corrections, and the rows of the age and length tables
 * that each row looks up (_score_block's step A, the same rules), branch-free so that it
 * vectorises: with the look-ups, step A took 35 ns a row as one scalar loop on the AMD EPYC of
 * the benchmarks, and 29 so. Conditions are 0/1 in 64 bits like the doubles they select
 * (pick), the codes come widened to 64 bits (GCC converts no bytes to doubles in a vector), and
 * indices are integer-valued doubles (exact; AVX2 converts doubles to 64-bit integers one at a
 * time). A function of its own for the restrict on every array, without which GCC would check
 * each pair for overlap and give up; inlined into score_block's clones. */
static ALWAYS_INLINE void ages_and_rows(
    Py_ssize_t rows, const int64_t *restrict sex, const double *restrict days,
    const double *restrict months, const int64_t *restrict position,
    const double *restrict lenhei_in, const double *restrict weight,
    const uint64_t *restrict oedema, double *restrict out_age, uint64_t *restrict position_flags,
    uint64_t *restrict negative_ages,
    double *restrict lenhei, double *restrict age_key, double *restrict tenths,
    double *restrict lh_low, double *restrict lh_up, uint64_t *restrict in_low,
    uint64_t *restrict in_up, uint64_t *restrict usable_haz, uint64_t *restrict usable_waz,
    uint64_t *restrict usable_bmiz, uint64_t *restrict usable_whz, double age_size,
    double wfl_first, double wfl_size, double wfh_first, double wfh_size) {
    const double nan = NAN;
    /* three loops, not one: each has a shorter chain of dependent steps, so that more rows are
     * in flight (as in powers()) */
    for (Py_ssize_t j = 0; j < rows; j++) {
        double d = days[j];
        uint64_t age_ok = d >= 0;
        double whole = floor_by_rint(d);
        double age = pick(age_ok, whole + pick(d - whole >= 0.5, 1.0, 0.0), nan);
        out_age[j] = age;
        negative_ages[j] = (!age_ok) & (isnan(d) == 0);
        /* a standing child under 9 months: position unknown */
        uint64_t position_flag = (position[j] == MEASURE_HEIGHT) & age_ok &
                                 (months[j] < STANDING_IMPLAUSIBLE_BELOW_MONTHS);
        position_flags[j] = position_flag;
        uint64_t height = (position[j] == MEASURE_HEIGHT) & !position_flag;
        uint64_t length = position[j] == MEASURE_LENGTH;
        double lh = lenhei_in[j];
        uint64_t add = age_ok & (age < LENGTH_BEFORE_DAYS) & height;
        uint64_t subtract = age_ok & (age >= LENGTH_BEFORE_DAYS) & length;
        lenhei[j] = pick(add, lh + POSITION_CORRECTION_CM,
                         pick(subtract, lh - POSITION_CORRECTION_CM, lh));
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        uint64_t male = sex[j] == 1, female = sex[j] == 2;
        double age = out_age[j];
        uint64_t weight_ok = weight[j] > 0;
        uint64_t no_oedema = !oedema[j];
        /* age >= 0: the age is known (else NaN) */
        uint64_t age_usable = (male | female) & (age >= 0) & (months[j] < MAX_AGE_MONTHS) &
                              (age <= MAX_AGE_DAYS);
        /* sex 0 (unknown), 1 or 2 times a sex's rows, plus the age */
        double age_sex = pick(male, age_size, pick(female, 2 * age_size, 0.0));
        age_key[j] = age_sex + pick(age_usable, age, 0.0);
        usable_haz[j] = age_usable & (lenhei[j] > 0);
        usable_waz[j] = age_usable & weight_ok & no_oedema;
        usable_bmiz[j] = age_usable & weight_ok & (lenhei[j] > 0) & no_oedema;
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        uint64_t male = sex[j] == 1, female = sex[j] == 2;
        double age = out_age[j];
        double lh = lenhei[j];
        uint64_t age_ok = age >= 0;
        uint64_t position_flag = position_flags[j];
        uint64_t height = (position[j] == MEASURE_HEIGHT) & !position_flag;
        uint64_t length = position[j] == MEASURE_LENGTH;
        uint64_t unknown = (position[j] == MEASURE_UNKNOWN) | position_flag;
        /* the table by age; without one by the position; without either by the length */
        uint64_t by_age = age_ok & (age < LENGTH_BEFORE_DAYS);
        uint64_t by_position = (unknown & (lh < LENGTH_HEIGHT_SPLIT_CM)) | length;
        uint64_t on_length = by_age | ((!age_ok) & by_position);
        uint64_t on_height = (!on_length) & (age_ok | height |
                                             (unknown & (lh >= LENGTH_HEIGHT_SPLIT_CM)));
        uint64_t whz_age =
            (!age_ok) | ((age <= WHZ_MAX_AGE_DAYS) & (months[j] < MAX_AGE_MONTHS));
        uint64_t whz_common = (male | female) & (weight[j] > 0) & !oedema[j] & !negative_ages[j] &
                              whz_age;
        uint64_t wfl_row = whz_common & on_length & (lh >= WFL_LOW_CM) & (lh <= WFL_HIGH_CM);
        uint64_t wfh_row = whz_common & on_height & (lh >= WFH_LOW_CM) & (lh <= WFH_HIGH_CM);
        double first = pick(wfh_row, wfh_first, wfl_first);
        double size = pick(wfh_row, wfh_size, wfl_size);
        double base = pick(wfh_row, 3 * wfl_size, 0.0);
        uint64_t inside = wfl_row | wfh_row;
        double tenths_low = pick(inside, trunc_by_rint(lh * 10), 0.0);
        tenths[j] = tenths_low;
        double col_low = pick(inside, tenths_low - first, 0.0);
        double col_up = pick(inside, trunc_by_rint(lh * 10 + 1) - first, 0.0);
        in_low[j] = (col_low >= 0) & (col_low < size);
        in_up[j] = (col_up >= 0) & (col_up < size);
        double row = base + pick(male, size, pick(female, 2 * size, 0.0));
        lh_low[j] = (row + clamp_double(col_low, size - 1)) * LENHEI_COLUMNS;
        lh_up[j] = (row + clamp_double(col_up, size - 1)) * LENHEI_COLUMNS;
        usable_whz[j] = inside;
    }
}

/* to = from, bytes to 64-bit words */
static ALWAYS_INLINE void widen(const int8_t *restrict from, int64_t *restrict to, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) {
        to[j] = from[j];
    }
}

static void flag(const double *values, double low, double high, bool *out, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) {
        out[j] = (values[j] < low) | (values[j] > high);
    }
}

/* rows start:stop, as _kernel._score_block */
CPU_CLONES static void score_block(const Kernel *K, Scratch *S, Py_ssize_t start, Py_ssize_t stop) {
    const double nan = NAN;
    const Py_ssize_t rows = stop - start;
    const double *w = K->weight + start;
    double *lenhei = K->out_lenhei + start;
    double *bmi = K->out_bmi + start;
    const bool full_precision = K->full_precision;

    /* (A) ages, corrections, look-ups: the age given in months where there is no age in days,
     * the byte codes widened to 64 bits (ages_and_rows says why), then the table rows */
    const double *days = K->days + start;
    double *restrict months = S->months;
    double *restrict d_eff = S->d_eff;
    for (Py_ssize_t j = 0; j < rows; j++) {
        months[j] = days[j] / DAYS_PER_MONTH;
    }
    if (K->has_months) {
        const double *restrict given = K->months_given + start;
        for (Py_ssize_t j = 0; j < rows; j++) {
            bool use_given = (isnan(days[j]) != 0) & (isnan(given[j]) == 0);
            d_eff[j] = pick(use_given, given[j] * DAYS_PER_MONTH, days[j]);
            months[j] = pick(use_given, given[j], months[j]);
        }
        days = d_eff;
    }
    widen(K->sex + start, S->sex64, rows);
    widen(K->position + start, S->position64, rows);
    widen((const int8_t *)K->oedema + start, (int64_t *)S->oedema64, rows);
    ages_and_rows(rows, S->sex64, days, months, S->position64, K->lenhei_in + start, w,
                  S->oedema64, K->out_age + start, S->position_flag64, S->negative_age, lenhei,
                  S->age_key, S->tenths, S->lh_low, S->lh_up, S->in_low, S->in_up, S->usable,
                  S->usable + rows, S->usable + 2 * rows, S->usable + 3 * rows,
                  (double)K->age_size, (double)K->wfl_first, (double)K->wfl_size,
                  (double)K->wfh_first, (double)K->wfh_size);
    {
        bool *restrict to = K->out_position_flag + start;
        const uint64_t *restrict from = S->position_flag64;
        for (Py_ssize_t j = 0; j < rows; j++) {
            to[j] = (bool)from[j];
        }
    }
    /* the table look-ups, apart: the loads of many rows in flight at once */
    for (Py_ssize_t j = 0; j < rows; j++) {
        Py_ssize_t k = (Py_ssize_t)S->age_key[j];
        S->age_index[j] = k;
        const double *hot = K->age_tab + k * AGE_HOT_COLUMNS;
        S->haz_m[j] = hot[LHFA_M];
        S->haz_s[j] = hot[LHFA_S];
        S->l[j] = hot[WFA_L];
        S->m[j] = hot[WFA_M];
        S->s[j] = hot[WFA_S];
        S->l[rows + j] = hot[BMI_L];
        S->m[rows + j] = hot[BMI_M];
        S->s[rows + j] = hot[BMI_S];
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        const double *low_row = K->lh_tab + (Py_ssize_t)S->lh_low[j];
        const double *up_row = K->lh_tab + (Py_ssize_t)S->lh_up[j];
        bool in_low = S->in_low[j], in_up = S->in_up[j];
        for (int q = 0; q < 3; q++) {
            S->whz_low[q][j] = in_low ? low_row[q] : nan;
            S->whz_up[q][j] = in_up ? up_row[q] : nan;
        }
    }

    /* (B) the arithmetic, in short branch-free loops */
    for (Py_ssize_t j = 0; j < rows; j++) {
        double metres = lenhei[j] / 100;
        bmi[j] = w[j] / (metres * metres);
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        S->y[j] = w[j];
        S->y[rows + j] = bmi[j];
        S->y[2 * rows + j] = w[j];
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        S->z[j] = (lenhei[j] / S->haz_m[j] - 1) / S->haz_s[j];
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        S->frac[j] = (lenhei[j] - S->tenths[j] / 10) / 0.1;
    }
    double *whz_lms[3] = {S->l + 2 * rows, S->m + 2 * rows, S->s + 2 * rows};
    for (int q = 0; q < 3; q++) {
        const double *restrict at_low = S->whz_low[q], *restrict at_up = S->whz_up[q];
        const double *restrict frac = S->frac;
        double *restrict out = whz_lms[q];
        for (Py_ssize_t j = 0; j < rows; j++) {
            double between = at_low[j] + frac[j] * (at_up[j] - at_low[j]);
            out[j] = pick(frac[j] > 0, between, at_low[j]);
        }
    }
    for (Py_ssize_t j = 0; j < 3 * rows; j++) {
        S->x[j] = S->y[j] / S->m[j];
        S->sl[j] = S->s[j] * S->l[j];
    }
    powers(S->x, S->l, S->p, S->log_k, S->log_f, 3 * rows);
    {
        /* through restrict pointers, so that it vectorises */
        const double *restrict p = S->p, *restrict x = S->x, *restrict sl = S->sl;
        double *restrict z = S->z + rows;
        uint64_t *restrict check = S->check + rows;
        for (Py_ssize_t j = 0; j < 3 * rows; j++) {
            double zj = (p[j] - 1.0) / sl[j];
            z[j] = zj;
            check[j] = needs_libm(p[j], zj, x[j], sl[j]) | (zj > 3) | (zj < -3);
        }
    }
    for (Py_ssize_t j = 0; j < rows; j++) {
        S->check[j] = 0;
    }
    /* R's rounding straight into the outputs, HAZ, WAZ, BMIZ, WHZ (_round_into) */
    double *outputs[4] = {K->out_haz + start, K->out_waz + start, K->out_bmiz + start,
                          K->out_whz + start};
    const uint64_t rounding = !full_precision;
    for (int q = 0; q < 4; q++) {
        double *restrict out = outputs[q];
        const double *restrict z = S->z + q * rows;
        const uint64_t *restrict usable = S->usable + q * rows;
        uint64_t *restrict check = S->check + q * rows;
        for (Py_ssize_t j = 0; j < rows; j++) {
            double scaled = z[j] * 100.0;
            double whole = rint(scaled);
            out[j] = pick(usable[j], pick(rounding, whole / 100.0, z[j]), nan);
            /* _round_into's |frac(scaled) - 0.5| < 1e-6, with the rint already at hand (where
             * R's rounding and rint differ, a hair from the half, both tests say near) */
            uint64_t near_half = fabs(scaled - whole) > 0.5 - 1e-6;
            check[j] = (check[j] | (near_half & rounding)) & usable[j];
        }
    }

    /* (C) the rare rows: libm's pow, the restricted z beyond +-3 SD, R's rounding at a half */
    for (Py_ssize_t group = 0; group < 4 * rows; group += 4) {
        /* a branch for four words: all four are 0 in most groups (this step 7.8 -> 5.7 ns a row) */
        const uint64_t *words = S->check + group;
        if ((words[0] | words[1] | words[2] | words[3]) == 0) {
            continue;
        }
        for (Py_ssize_t j = group; j < group + 4; j++) {
            if (S->check[j]) {
                int q = (int)(j / rows);
                Py_ssize_t row = j - q * rows;
                outputs[q][row] = rare_row(K, S, q, S->z[j], j - rows, S->age_index[row]);
            }
        }
    }
    flag(K->out_haz + start, -6.0, 6.0, K->out_haz_flag + start, rows);
    flag(K->out_waz + start, -6.0, 5.0, K->out_waz_flag + start, rows);
    flag(K->out_bmiz + start, -5.0, 5.0, K->out_bmiz_flag + start, rows);
    flag(K->out_whz + start, -5.0, 5.0, K->out_whz_flag + start, rows);
}

/* ---- Python entry points ------------------------------------------------------------------ */

static const ArgSpec SCORE_ARGS[] = {
    {"sex", 1, false, true},          {"days", 8, false, true},
    {"months_given", 8, false, true}, {"weight", 8, false, true},
    {"lenhei_in", 8, false, true},    {"position", 1, false, true},
    {"oedema", 1, false, true},       {"age_tab", 8, false, false},
    {"sd_tab", 8, false, false},      {"lh_tab", 8, false, false},
    {"out_age", 8, true, true},       {"out_lenhei", 8, true, true},
    {"out_position_flag", 1, true, true}, {"out_haz", 8, true, true},
    {"out_haz_flag", 1, true, true},  {"out_waz", 8, true, true},
    {"out_waz_flag", 1, true, true},  {"out_whz", 8, true, true},
    {"out_whz_flag", 1, true, true},  {"out_bmi", 8, true, true},
    {"out_bmiz", 8, true, true},      {"out_bmiz_flag", 1, true, true},
};
#define N_BUFFERS ((Py_ssize_t)(sizeof SCORE_ARGS / sizeof SCORE_ARGS[0]))
/* then: has_months, full_precision, wfl_first, wfl_size, wfh_first, wfh_size, block_rows,
 * start, stride */
#define N_INTS 9

PyDoc_STRVAR(score_doc,
             "score(sex, days, months_given, weight, lenhei_in, position, oedema, age_tab, sd_tab,\n"
             "      lh_tab, out_age, out_lenhei, out_position_flag, out_haz, out_haz_flag,\n"
             "      out_waz, out_waz_flag, out_whz, out_whz_flag, out_bmi, out_bmiz,\n"
             "      out_bmiz_flag, has_months, full_precision, wfl_first, wfl_size, wfh_first,\n"
             "      wfh_size, block_rows, start, stride)\n\n"
             "Fill the out_* arrays for blocks start, start + stride, ... of block_rows rows,\n"
             "without the GIL. Arrays are C-contiguous: int8 sex and position, bool oedema and\n"
             "flags, float64 otherwise; the tables as zscores._kernel_tables packs them. An\n"
             "out_* array that shares memory with another array is a ValueError.");

static PyObject *score(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != N_BUFFERS + N_INTS) {
        PyErr_Format(PyExc_TypeError, "score() takes %zd arguments (%zd given)",
                     N_BUFFERS + N_INTS, nargs);
        return NULL;
    }
    Py_ssize_t ints[N_INTS];
    double unused[N_INTS];
    if (!get_numbers(args + N_BUFFERS, N_INTS, "nnnnnnnnn", ints, unused)) {
        return NULL;
    }
    Py_buffer views[N_BUFFERS];
    Py_ssize_t n;
    if (!get_buffers("score", args, SCORE_ARGS, N_BUFFERS, views, &n)) {
        return NULL;
    }
    if (written_overlaps("score", SCORE_ARGS, N_BUFFERS, views)) {
        release_buffers(views, N_BUFFERS);
        return NULL;
    }
    Kernel K = {
        .sex = views[0].buf,
        .days = views[1].buf,
        .months_given = views[2].buf,
        .weight = views[3].buf,
        .lenhei_in = views[4].buf,
        .position = views[5].buf,
        .oedema = views[6].buf,
        .age_tab = views[7].buf,
        .sd_tab = views[8].buf,
        .lh_tab = views[9].buf,
        .out_age = views[10].buf,
        .out_lenhei = views[11].buf,
        .out_position_flag = views[12].buf,
        .out_haz = views[13].buf,
        .out_haz_flag = views[14].buf,
        .out_waz = views[15].buf,
        .out_waz_flag = views[16].buf,
        .out_whz = views[17].buf,
        .out_whz_flag = views[18].buf,
        .out_bmi = views[19].buf,
        .out_bmiz = views[20].buf,
        .out_bmiz_flag = views[21].buf,
        .has_months = ints[0] != 0,
        .full_precision = ints[1] != 0,
        .wfl_first = ints[2],
        .wfl_size = ints[3],
        .wfh_first = ints[4],
        .wfh_size = ints[5],
    };
    Py_ssize_t block_rows = ints[6], start = ints[7], stride = ints[8];
    Py_ssize_t age_items = views[7].len / 8, sd_items = views[8].len / 8;
    Py_ssize_t lh_items = views[9].len / 8;
    K.age_size = age_items / (3 * AGE_HOT_COLUMNS);
    /* every index the kernel forms stays inside the tables: sex 0-2 by age 0-1826, and the
     * 0.1 cm rows of both length tables for sex 0-2 */
    bool tables_ok = age_items == 3 * K.age_size * AGE_HOT_COLUMNS && K.age_size > MAX_AGE_DAYS &&
                     sd_items == age_items / AGE_HOT_COLUMNS * AGE_SD_COLUMNS &&
                     K.wfl_size > 0 && K.wfh_size > 0 &&
                     lh_items == 3 * (K.wfl_size + K.wfh_size) * LENHEI_COLUMNS;
    if (!tables_ok || block_rows < 1 || block_rows > MAX_BLOCK_ROWS || start < 0 || stride < 1) {
        release_buffers(views, N_BUFFERS);
        PyErr_SetString(PyExc_ValueError, "score(): tables or block arguments out of range");
        return NULL;
    }
    Scratch scratch_arrays;
    Scratch *scratch = &scratch_arrays;
    if (!scratch_alloc(scratch, block_rows)) {
        release_buffers(views, N_BUFFERS);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS;
    Py_ssize_t blocks = (n + block_rows - 1) / block_rows;
    for (Py_ssize_t block = start; block < blocks; block += stride) {
        Py_ssize_t first = block * block_rows;
        Py_ssize_t last = first + block_rows < n ? first + block_rows : n;
        score_block(&K, scratch, first, last);
    }
    Py_END_ALLOW_THREADS;
    free(scratch->memory);
    release_buffers(views, N_BUFFERS);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(round2_doc, "round2(values, out)\n\nout = values rounded to 2 decimals as R's "
                         "round(x, 2); float64, C-contiguous, same length.");

static PyObject *round2(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "round2() takes 2 arguments");
        return NULL;
    }
    Py_buffer in, out;
    if (PyObject_GetBuffer(args[0], &in, PyBUF_C_CONTIGUOUS) != 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) != 0) {
        PyBuffer_Release(&in);
        return NULL;
    }
    if (in.itemsize != 8 || out.itemsize != 8 || in.len != out.len) {
        PyBuffer_Release(&in);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "round2(): float64 arrays of one length expected");
        return NULL;
    }
    const double *x = in.buf;
    double *y = out.buf;
    Py_ssize_t n = in.len / 8;
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t i = 0; i < n; i++) {
        y[i] = r_round2(x[i]);
    }
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    FASTCALL_METHOD(score, score_doc),
    FASTCALL_METHOD(round2, round2_doc),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kbtool.growth._ckernel",
    .m_doc = "kbtool's z-score kernel, compiled when kbtool is installed (see _ckernel.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__ckernel(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "MAX_BLOCK_ROWS", MAX_BLOCK_ROWS) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
