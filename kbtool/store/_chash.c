/* The value hash behind kbtool.store.schema.batch_value_hash, compiled when kbtool is installed:
 * the same words, offsets and mixing as the numba kernel in _hash_kernel.py (the definition is
 * in docs/store-format.md; tests/test_store.py checks both against the numpy definition).
 *
 * Why a second implementation: loading numba costs every import ~0.7 s of single-threaded
 * start-up (about a quarter of importing a month's register of 35k rows); this module loads in
 * under a millisecond. Where it could not be built, kbtool uses the numba kernel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>

#include "../_cbuffers.h"

#define MIX_1 0xBF58476D1CE4E5B9ULL
#define MIX_2 0x94D049BB133111EBULL
#define PRIME 0x100000001B3ULL
#define SIGN_BIT 0x8000000000000000ULL /* -0.0, and NaT days read as uint64 */
#define EXPONENT 0x7FF0000000000000ULL
#define MANTISSA 0x000FFFFFFFFFFFFFULL
#define NAN_BITS 0x7FF8000000000000ULL /* np.nan: the one pattern every NaN hashes as */
#define WORDS 11

static inline uint64_t splitmix(uint64_t x) {
    x = (x ^ (x >> 30)) * MIX_1;
    x = (x ^ (x >> 27)) * MIX_2;
    return x ^ (x >> 31);
}

/* schema._float_bits: -0.0 as 0.0, every NaN as np.nan */
static inline uint64_t float_word(uint64_t bits) {
    if (bits == SIGN_BIT) {
        return 0;
    }
    if ((bits & EXPONENT) == EXPONENT && (bits & MANTISSA) != 0) {
        return NAN_BITS;
    }
    return bits;
}

/* code -1 is a missing name: word 0 */
static inline uint64_t text_word(const int64_t *codes, const uint64_t *table, Py_ssize_t i) {
    int64_t code = codes[i];
    return code >= 0 ? table[code] : 0;
}

static const ArgSpec ARGS[] = {
    {"offsets", 8, false, false},        {"sex", 1, false, true},
    {"birth_bits", 8, false, true},      {"age_months_bits", 8, false, true},
    {"weight_bits", 8, false, true},     {"height_bits", 8, false, true},
    {"measure", 1, false, true},         {"oedema_word", 1, false, true},
    {"posyandu_codes", 8, false, true},  {"posyandu_table", 8, false, false},
    {"kelurahan_codes", 8, false, true}, {"kelurahan_table", 8, false, false},
    {"kecamatan_codes", 8, false, true}, {"kecamatan_table", 8, false, false},
    {"puskesmas_codes", 8, false, true}, {"puskesmas_table", 8, false, false},
    {"out", 8, true, true},
};
#define N_ARGS ((Py_ssize_t)(sizeof ARGS / sizeof ARGS[0]))

PyDoc_STRVAR(value_hash_doc,
             "value_hash(offsets, sex, birth_bits, age_months_bits, weight_bits, height_bits,\n"
             "           measure, oedema_word, posyandu_codes, posyandu_table, kelurahan_codes,\n"
             "           kelurahan_table, kecamatan_codes, kecamatan_table, puskesmas_codes,\n"
             "           puskesmas_table, out)\n\n"
             "out[i] = the value hash of row i, as _hash_kernel.value_hash_kernel; without the\n"
             "GIL. C-contiguous arrays: int8 sex and measure, uint8 oedema_word, int64 codes,\n"
             "uint64 otherwise; every code is -1 or an index into its table.");

static PyObject *value_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != N_ARGS) {
        PyErr_Format(PyExc_TypeError, "value_hash() takes %zd arguments (%zd given)", N_ARGS,
                     nargs);
        return NULL;
    }
    Py_buffer views[N_ARGS];
    Py_ssize_t n;
    if (!get_buffers("value_hash", args, ARGS, N_ARGS, views, &n)) {
        return NULL;
    }
    if (views[0].len / 8 != WORDS) {
        release_buffers(views, N_ARGS);
        PyErr_SetString(PyExc_ValueError, "value_hash(): offsets must hold 11 words");
        return NULL;
    }
    /* every code must index its table: a wrong one would read outside it */
    for (Py_ssize_t t = 8; t < 16; t += 2) {
        const int64_t *codes = views[t].buf;
        Py_ssize_t size = views[t + 1].len / 8;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (codes[i] < -1 || codes[i] >= size) {
                release_buffers(views, N_ARGS);
                PyErr_Format(PyExc_ValueError, "value_hash(): %s holds a code outside its table",
                             ARGS[t].name);
                return NULL;
            }
        }
    }
    const uint64_t *offsets = views[0].buf;
    const int8_t *sex = views[1].buf;
    const uint64_t *birth_bits = views[2].buf, *age_months_bits = views[3].buf;
    const uint64_t *weight_bits = views[4].buf, *height_bits = views[5].buf;
    const int8_t *measure = views[6].buf;
    const uint8_t *oedema_word = views[7].buf;
    uint64_t *out = views[16].buf;
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t birth = birth_bits[i];
        /* age in months counts only without a birth date (schema.build_batch) */
        uint64_t age = birth == SIGN_BIT ? float_word(age_months_bits[i]) : NAN_BITS;
        uint64_t words[WORDS] = {
            (uint64_t)(int64_t)sex[i],
            birth,
            age,
            float_word(weight_bits[i]),
            float_word(height_bits[i]),
            (uint64_t)(int64_t)measure[i],
            (uint64_t)oedema_word[i],
            text_word(views[8].buf, views[9].buf, i),
            text_word(views[10].buf, views[11].buf, i),
            text_word(views[12].buf, views[13].buf, i),
            text_word(views[14].buf, views[15].buf, i),
        };
        uint64_t h = 0;
        for (int k = 0; k < WORDS; k++) {
            h = h * PRIME + splitmix(words[k] + offsets[k]);
        }
        out[i] = splitmix(h);
    }
    Py_END_ALLOW_THREADS;
    release_buffers(views, N_ARGS);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    FASTCALL_METHOD(value_hash, value_hash_doc),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kbtool.store._chash",
    .m_doc = "kbtool's value hash of stored measurements, compiled when kbtool is installed.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__chash(void) { return PyModule_Create(&module); }
