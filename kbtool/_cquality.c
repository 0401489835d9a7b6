/* The three compiled passes of kbtool.quality, compiled when kbtool is installed: the same loops
 * as the numba kernels in kbtool/_quality_kernel.py (whose docstrings, and those of
 * kbtool.quality._longitudinal and _row_counts, say what each count is and why). Every count is
 * an integer, so the results are exactly the numba and numpy versions'. kbtool/_quality_c.py
 * gives them the numba kernels' signatures; where this could not be built, numba runs them.
 *
 * Why a second implementation: numba compiles these on the first report after installing
 * (~10 s) and loads them in ~1 s on every run; this module loads in under a millisecond.
 * Indices are checked: a bad one is a ValueError, never a read outside an array.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_cbuffers.h"

/* kbtool/_quality_layout.py: columns of the per-cell and per-period counts, flag bits */
enum { DUPLICATES, HEIGHT_PAIRS, HEIGHT_DECREASES, FOLLOWED, COPIED, WEIGHT_PAIRS,
       WEIGHT_IMPLAUSIBLE, CELL_COUNTS };
enum { PERIOD_FOLLOWED, PERIOD_COPIED, PERIOD_COUNTS };
enum { HAZ_FLAGGED = 1, WAZ_FLAGGED = 2, OEDEMA = 4 };
#define ROW_COUNT_COLUMNS 17
#define DIGITS 10
/* a child's rows are put in day order by insertion up to this many rows, by a merge sort above */
#define INSERTION_ROWS 64

static PyObject *index_error(Py_buffer *views, Py_ssize_t count, const char *what) {
    release_buffers(views, count);
    PyErr_Format(PyExc_ValueError, "%s out of range", what);
    return NULL;
}

/* ---- longitudinal --------------------------------------------------------------------------- */

static const ArgSpec LONGITUDINAL_ARGS[] = {
    {"order", 8, false, false},        {"child", 8, false, true},
    {"day", 8, false, true},           {"row_cell", 8, false, true},
    {"cell_period", 8, false, false},  {"flags", 1, false, true},
    {"lenhei", 8, false, true},        {"height", 8, false, true},
    {"weight", 8, false, true},        {"waz", 8, false, true},
    {"month_of_day", 8, false, false}, {"cell_out", 8, true, false},
    {"period_out", 8, true, false},
};
#define LONGITUDINAL_BUFFERS 13
/* then: first_day, n_periods, height_decrease_cm, repeated_span_months, velocity_max_gap_days,
 * weight_kept_share, waz_gain_limit */
static const char LONGITUDINAL_NUMBERS[] = "nnfnnff";

PyDoc_STRVAR(longitudinal_doc,
             "longitudinal(order, child, day, row_cell, cell_period, flags, lenhei, height,\n"
             "             weight, waz, month_of_day, cell_out, period_out, first_day,\n"
             "             n_periods, height_decrease_cm, repeated_span_months,\n"
             "             velocity_max_gap_days, weight_kept_share, waz_gain_limit)\n\n"
             "Adds the per-cell counts to cell_out (n_cells x 7 int64, zeroed) and the\n"
             "per-period distinct children to period_out (n_periods x 2 int64, zeroed), as\n"
             "_quality_kernel.longitudinal_kernel; without the GIL.");

static PyObject *longitudinal(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    const Py_ssize_t n_numbers = (Py_ssize_t)strlen(LONGITUDINAL_NUMBERS);
    if (nargs != LONGITUDINAL_BUFFERS + n_numbers) {
        PyErr_SetString(PyExc_TypeError, "longitudinal() takes 20 arguments");
        return NULL;
    }
    Py_ssize_t ints[7];
    double floats[7];
    if (!get_numbers(args + LONGITUDINAL_BUFFERS, n_numbers, LONGITUDINAL_NUMBERS, ints, floats)) {
        return NULL;
    }
    const int64_t first_day = ints[0];
    const Py_ssize_t n_periods = ints[1];
    const double height_decrease_cm = floats[2];
    const int64_t repeated_span_months = ints[3], velocity_max_gap_days = ints[4];
    const double weight_kept_share = floats[5], waz_gain_limit = floats[6];

    Py_buffer v[LONGITUDINAL_BUFFERS];
    Py_ssize_t n;
    if (!get_buffers("longitudinal", args, LONGITUDINAL_ARGS, LONGITUDINAL_BUFFERS, v, &n)) {
        return NULL;
    }
    const Py_ssize_t n_order = v[0].len / 8, n_cells = v[4].len / 8, n_months = v[10].len / 8;
    if (v[11].len / 8 != n_cells * CELL_COUNTS || n_periods < 0 ||
        v[12].len / 8 != n_periods * PERIOD_COUNTS) {
        return index_error(v, LONGITUDINAL_BUFFERS, "longitudinal(): output shape");
    }
    const int64_t *order = v[0].buf, *child = v[1].buf, *day = v[2].buf, *row_cell = v[3].buf;
    const int64_t *cell_period = v[4].buf, *month_of_day = v[10].buf;
    const uint8_t *flags = v[5].buf;
    const double *lenhei = v[6].buf, *height = v[7].buf, *weight = v[8].buf, *waz = v[9].buf;
    int64_t *cell = v[11].buf, *period = v[12].buf;
    /* every index the loop forms, checked first */
    for (Py_ssize_t i = 0; i < n_order; i++) {
        int64_t row = order[i];
        if (row < 0 || row >= n) {
            return index_error(v, LONGITUDINAL_BUFFERS, "longitudinal(): order");
        }
        int64_t k = row_cell[row];
        if (k < 0 || k >= n_cells || cell_period[k] < 0 || cell_period[k] >= n_periods) {
            return index_error(v, LONGITUDINAL_BUFFERS, "longitudinal(): cell or period");
        }
        if (!isnan(height[row]) && (day[row] - first_day < 0 || day[row] - first_day >= n_months)) {
            return index_error(v, LONGITUDINAL_BUFFERS, "longitudinal(): visit day");
        }
    }
    /* the child last counted per cell / period: distinct children (rows come by child) */
    int64_t *seen = malloc(sizeof(int64_t) * (size_t)(2 * n_cells + 2 * n_periods + 1));
    if (seen == NULL) {
        release_buffers(v, LONGITUDINAL_BUFFERS);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t i = 0; i < 2 * n_cells + 2 * n_periods; i++) {
        seen[i] = -1;
    }
    int64_t *seen_followed = seen, *seen_copied = seen + n_cells;
    int64_t *seen_period_followed = seen + 2 * n_cells;
    int64_t *seen_period_copied = seen_period_followed + n_periods;
    /* the previous row kept by each check (-1: none yet) */
    int64_t h_child = -1, h_day = 0;
    double h_value = 0.0;
    int64_t r1_child = -1, r1_month = 0, r2_child = -1, r2_month = 0;
    double r1_value = 0.0, r2_value = 0.0;
    int64_t w_child = -1, w_day = 0;
    double w_value = 0.0, w_waz = 0.0;
    int64_t last_child = -1, last_day = 0;
    for (Py_ssize_t i = 0; i < n_order; i++) {
        const int64_t row = order[i];
        const int64_t c = child[row], d = day[row], k = row_cell[row];
        const uint8_t f = flags[row];
        int64_t *counts = cell + k * CELL_COUNTS;
        if (c == last_child && d == last_day) {
            counts[DUPLICATES] += 1;
        }
        last_child = c;
        last_day = d;

        double value = lenhei[row];
        if (!isnan(value) && (f & HAZ_FLAGGED) == 0) {
            if (h_child == c && d > h_day) {
                counts[HEIGHT_PAIRS] += 1;
                if (value < h_value - height_decrease_cm) {
                    counts[HEIGHT_DECREASES] += 1;
                }
            }
            h_child = c;
            h_day = d;
            h_value = value;
        }

        value = height[row];
        if (!isnan(value)) {
            const int64_t month = month_of_day[d - first_day];
            if (r2_child == c && r1_child == c) {
                const int64_t p = cell_period[k];
                if (seen_followed[k] != c) {
                    seen_followed[k] = c;
                    counts[FOLLOWED] += 1;
                }
                if (seen_period_followed[p] != c) {
                    seen_period_followed[p] = c;
                    period[p * PERIOD_COUNTS + PERIOD_FOLLOWED] += 1;
                }
                if (value == r1_value && r1_value == r2_value &&
                    month - r2_month >= repeated_span_months) {
                    if (seen_copied[k] != c) {
                        seen_copied[k] = c;
                        counts[COPIED] += 1;
                    }
                    if (seen_period_copied[p] != c) {
                        seen_period_copied[p] = c;
                        period[p * PERIOD_COUNTS + PERIOD_COPIED] += 1;
                    }
                }
            }
            r2_child = r1_child;
            r2_value = r1_value;
            r2_month = r1_month;
            r1_child = c;
            r1_value = value;
            r1_month = month;
        }

        value = weight[row];
        if (!isnan(value) && (f & (WAZ_FLAGGED | OEDEMA)) == 0) {
            const double z = waz[row];
            const int64_t gap = d - w_day;
            if (w_child == c && gap > 0 && gap <= velocity_max_gap_days) {
                counts[WEIGHT_PAIRS] += 1;
                if (value < weight_kept_share * w_value || z - w_waz > waz_gain_limit) {
                    counts[WEIGHT_IMPLAUSIBLE] += 1;
                }
            }
            w_child = c;
            w_day = d;
            w_value = value;
            w_waz = z;
        }
    }
    Py_END_ALLOW_THREADS;
    free(seen);
    release_buffers(v, LONGITUDINAL_BUFFERS);
    Py_RETURN_NONE;
}

/* ---- row counts ----------------------------------------------------------------------------- */

static const ArgSpec ROW_COUNT_ARGS[] = {
    {"codes", 8, false, true},         {"sex", 1, false, true},
    {"birth_known", 1, false, true},   {"visit_known", 1, false, true},
    {"height", 8, false, true},        {"weight", 8, false, true},
    {"measure", 1, false, false},      {"position_flag", 1, false, false},
    {"age_days", 8, false, true},      {"haz", 8, false, true},
    {"haz_flag", 1, false, true},      {"waz", 8, false, true},
    {"waz_flag", 1, false, true},      {"whz", 8, false, true},
    {"whz_flag", 1, false, true},      {"counts_out", 8, true, false},
    {"digits_height_out", 8, true, false}, {"digits_weight_out", 8, true, false},
};
#define ROW_COUNT_BUFFERS 18
/* then: max_age_days, measure_length, measure_height */
static const char ROW_COUNT_NUMBERS[] = "fnn";

/* the tenths digit as written: floor(10 x |value| + 1e-6) mod 10, capped within int range */
static inline int tenths_digit(double value) {
    double tenths = fabs(value) * 10.0;
    tenths += 1e-6;
    if (tenths > 1e9) {
        tenths = 1e9;
    }
    return (int)((int64_t)tenths % DIGITS);
}

PyDoc_STRVAR(row_counts_doc,
             "row_counts(codes, sex, birth_known, visit_known, height, weight, measure,\n"
             "           position_flag, age_days, haz, haz_flag, waz, waz_flag, whz, whz_flag,\n"
             "           counts_out, digits_height_out, digits_weight_out, max_age_days,\n"
             "           measure_length, measure_height)\n\n"
             "Adds the per-code counts (n_codes x 17 int64, zeroed) and tenths digits (n_codes\n"
             "x 10 each) as _quality_kernel.row_counts_kernel; measure or position_flag empty:\n"
             "the column is absent. Without the GIL.");

static PyObject *row_counts(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    const Py_ssize_t n_numbers = (Py_ssize_t)strlen(ROW_COUNT_NUMBERS);
    if (nargs != ROW_COUNT_BUFFERS + n_numbers) {
        PyErr_SetString(PyExc_TypeError, "row_counts() takes 21 arguments");
        return NULL;
    }
    Py_ssize_t ints[3];
    double floats[3];
    if (!get_numbers(args + ROW_COUNT_BUFFERS, n_numbers, ROW_COUNT_NUMBERS, ints, floats)) {
        return NULL;
    }
    const double max_age_days = floats[0];
    const int64_t measure_length = ints[1], measure_height = ints[2];
    Py_buffer v[ROW_COUNT_BUFFERS];
    Py_ssize_t n;
    if (!get_buffers("row_counts", args, ROW_COUNT_ARGS, ROW_COUNT_BUFFERS, v, &n)) {
        return NULL;
    }
    const Py_ssize_t n_codes = v[15].len / 8 / ROW_COUNT_COLUMNS;
    const bool with_measure = v[6].len > 0, with_position_flag = v[7].len > 0;
    if (v[15].len / 8 != n_codes * ROW_COUNT_COLUMNS || v[16].len / 8 != n_codes * DIGITS ||
        v[17].len / 8 != n_codes * DIGITS || (with_measure && v[6].len != n) ||
        (with_position_flag && v[7].len != n)) {
        return index_error(v, ROW_COUNT_BUFFERS, "row_counts(): array shape");
    }
    const int64_t *codes = v[0].buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (codes[i] < 0 || codes[i] >= n_codes) {
            return index_error(v, ROW_COUNT_BUFFERS, "row_counts(): code");
        }
    }
    const int8_t *sex = v[1].buf, *measure = v[6].buf;
    const uint8_t *birth_known = v[2].buf, *visit_known = v[3].buf, *position_flag = v[7].buf;
    const uint8_t *haz_flag = v[10].buf, *waz_flag = v[12].buf, *whz_flag = v[14].buf;
    const double *height = v[4].buf, *weight = v[5].buf, *age_days = v[8].buf;
    const double *haz = v[9].buf, *waz = v[11].buf, *whz = v[13].buf;
    int64_t *counts = v[15].buf, *digits_height = v[16].buf, *digits_weight = v[17].buf;
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t k = codes[i];
        int64_t *row = counts + k * ROW_COUNT_COLUMNS;
        row[0] += 1;
        row[1] += sex[i] != 1 && sex[i] != 2;
        row[2] += !birth_known[i];
        row[3] += !visit_known[i];
        const double h = height[i];
        if (!isnan(h)) {
            row[4] += 1;
            if (!with_measure || (measure[i] != measure_length && measure[i] != measure_height)) {
                row[7] += 1;
            }
            row[8] += with_position_flag && position_flag[i] != 0;
            digits_height[k * DIGITS + tenths_digit(h)] += 1;
        } else {
            row[5] += 1;
        }
        const double w = weight[i];
        if (isnan(w)) {
            row[6] += 1;
        } else {
            digits_weight[k * DIGITS + tenths_digit(w)] += 1;
        }
        const double age = age_days[i];
        if (!isnan(age)) {
            row[9] += 1;
            row[10] += age < 0 || age > max_age_days;
        }
        if (!isnan(haz[i])) {
            row[11] += 1;
            row[12] += haz_flag[i] != 0;
        }
        if (!isnan(waz[i])) {
            row[13] += 1;
            row[14] += waz_flag[i] != 0;
        }
        if (!isnan(whz[i])) {
            row[15] += 1;
            row[16] += whz_flag[i] != 0;
        }
    }
    Py_END_ALLOW_THREADS;
    release_buffers(v, ROW_COUNT_BUFFERS);
    Py_RETURN_NONE;
}

/* ---- visit order ---------------------------------------------------------------------------- */

/* order[lo:hi] stably by day[order[.]], through scratch of the same length (a merge sort) */
static void merge_sort(int64_t *order, int64_t *scratch, Py_ssize_t lo, Py_ssize_t hi,
                       const int64_t *day) {
    if (hi - lo < 2) {
        return;
    }
    Py_ssize_t mid = lo + (hi - lo) / 2;
    merge_sort(order, scratch, lo, mid, day);
    merge_sort(order, scratch, mid, hi, day);
    Py_ssize_t a = lo, b = mid, out = lo;
    while (a < mid && b < hi) {
        /* the left row first on a tie: stable */
        scratch[out++] = day[order[b]] < day[order[a]] ? order[b++] : order[a++];
    }
    while (a < mid) {
        scratch[out++] = order[a++];
    }
    while (b < hi) {
        scratch[out++] = order[b++];
    }
    memcpy(order + lo, scratch + lo, sizeof(int64_t) * (size_t)(hi - lo));
}

static const ArgSpec VISIT_ORDER_ARGS[] = {
    {"child", 8, false, true},
    {"day", 8, false, true},
    {"known", 1, false, true},
    {"order_out", 8, true, false},
};
#define VISIT_ORDER_BUFFERS 4

PyDoc_STRVAR(visit_order_doc,
             "visit_order(child, day, known, order_out, n_children)\n\n"
             "order_out (as many int64 as known rows) = the rows with known visit dates in\n"
             "child, visit day, row order, as _quality_kernel.visit_order_kernel.");

static PyObject *visit_order(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != VISIT_ORDER_BUFFERS + 1) {
        PyErr_SetString(PyExc_TypeError, "visit_order() takes 5 arguments");
        return NULL;
    }
    Py_ssize_t n_children = PyNumber_AsSsize_t(args[VISIT_ORDER_BUFFERS], PyExc_OverflowError);
    if (n_children == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer v[VISIT_ORDER_BUFFERS];
    Py_ssize_t n;
    if (!get_buffers("visit_order", args, VISIT_ORDER_ARGS, VISIT_ORDER_BUFFERS, v, &n)) {
        return NULL;
    }
    const int64_t *child = v[0].buf, *day = v[1].buf;
    const uint8_t *known = v[2].buf;
    int64_t *order = v[3].buf;
    Py_ssize_t n_known = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (known[i]) {
            if (child[i] < 0 || child[i] >= n_children) {
                return index_error(v, VISIT_ORDER_BUFFERS, "visit_order(): child code");
            }
            n_known++;
        }
    }
    if (n_children < 0 || v[3].len / 8 != n_known) {
        return index_error(v, VISIT_ORDER_BUFFERS, "visit_order(): output length");
    }
    int64_t *start = calloc((size_t)n_children + 1, sizeof(int64_t));
    int64_t *fill = malloc(sizeof(int64_t) * (size_t)(n_children + 1));
    int64_t *scratch = malloc(sizeof(int64_t) * (size_t)(n_known + 1));
    if (start == NULL || fill == NULL || scratch == NULL) {
        free(start);
        free(fill);
        free(scratch);
        release_buffers(v, VISIT_ORDER_BUFFERS);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS;
    /* a counting sort on the dense child codes: rows stay in row order within a child */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (known[i]) {
            start[child[i] + 1] += 1;
        }
    }
    for (Py_ssize_t c = 0; c < n_children; c++) {
        start[c + 1] += start[c];
    }
    memcpy(fill, start, sizeof(int64_t) * (size_t)n_children);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (known[i]) {
            order[fill[child[i]]++] = i;
        }
    }
    /* then each child's rows by day, stably */
    for (Py_ssize_t c = 0; c < n_children; c++) {
        const Py_ssize_t lo = start[c], hi = start[c + 1];
        if (hi - lo > INSERTION_ROWS) {
            merge_sort(order, scratch, lo, hi, day);
            continue;
        }
        for (Py_ssize_t j = lo + 1; j < hi; j++) {
            const int64_t r = order[j], d = day[r];
            Py_ssize_t k = j - 1;
            while (k >= lo && day[order[k]] > d) {
                order[k + 1] = order[k];
                k--;
            }
            order[k + 1] = r;
        }
    }
    Py_END_ALLOW_THREADS;
    free(start);
    free(fill);
    free(scratch);
    release_buffers(v, VISIT_ORDER_BUFFERS);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    FASTCALL_METHOD(longitudinal, longitudinal_doc),
    FASTCALL_METHOD(row_counts, row_counts_doc),
    FASTCALL_METHOD(visit_order, visit_order_doc),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kbtool._cquality",
    .m_doc = "kbtool's quality passes, compiled when kbtool is installed (see _cquality.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__cquality(void) { return PyModule_Create(&module); }
