/* Arguments of kbtool's C extensions (kbtool/growth/_ckernel.c, kbtool/store/_chash.c,
 * kbtool/_cquality.c): arrays are taken through the buffer protocol, checked against their
 * spec, and released together; numbers are read by kind. */
#ifndef KBTOOL_CBUFFERS_H
#define KBTOOL_CBUFFERS_H

#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

/* one array argument: its name (for errors), the size of an item, whether it is written, and
 * whether it holds one item per row (else a table, checked by the caller's own rule) */
typedef struct {
    const char *name;
    Py_ssize_t itemsize;
    bool writable;
    bool per_row;
} ArgSpec;

static inline void release_buffers(Py_buffer *views, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        PyBuffer_Release(&views[i]);
    }
}

/* Takes args[0:count] as C-contiguous buffers into views, checking item sizes and that every
 * per-row array has the same length, stored in *rows. On failure: an exception set, nothing
 * held, false returned. `function` names the caller in messages. */
static inline bool get_buffers(const char *function, PyObject *const *args,
                               const ArgSpec *specs, Py_ssize_t count, Py_buffer *views,
                               Py_ssize_t *rows) {
    Py_ssize_t n = -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        const ArgSpec *spec = &specs[i];
        int flags = PyBUF_C_CONTIGUOUS | (spec->writable ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(args[i], &views[i], flags) != 0) {
            release_buffers(views, i);
            return false;
        }
        Py_ssize_t items = views[i].len / spec->itemsize;
        bool bad = views[i].itemsize != spec->itemsize;
        if (spec->per_row) {
            n = n < 0 ? items : n;
            bad = bad || items != n;
        }
        if (bad) {
            release_buffers(views, i + 1);
            PyErr_Format(PyExc_ValueError, "%s(): %s has the wrong item size or length", function,
                         spec->name);
            return false;
        }
    }
    *rows = n < 0 ? 0 : n;
    return true;
}

/* Whether an array written (specs[i].writable) shares memory with another: code that takes its
 * arrays as restrict (the z-score kernel) would compute garbage. If so: ValueError set, true
 * returned. Addresses compared as integers (unrelated pointers may not be compared in C). */
static inline bool written_overlaps(const char *function, const ArgSpec *specs, Py_ssize_t count,
                                    const Py_buffer *views) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!specs[i].writable || views[i].len == 0) {
            continue;
        }
        uintptr_t start = (uintptr_t)views[i].buf, stop = start + (uintptr_t)views[i].len;
        for (Py_ssize_t j = 0; j < count; j++) {
            uintptr_t other = (uintptr_t)views[j].buf, other_stop = other + (uintptr_t)views[j].len;
            if (j != i && views[j].len > 0 && start < other_stop && other < stop) {
                PyErr_Format(PyExc_ValueError, "%s(): %s shares memory with %s", function,
                             specs[i].name, specs[j].name);
                return true;
            }
        }
    }
    return false;
}

/* The number arguments args[0:count]: kinds[i] is 'n' for an integer (into ints[i]) or 'f' for
 * a float (into floats[i]). On failure: an exception set, false returned. */
static inline bool get_numbers(PyObject *const *args, Py_ssize_t count, const char *kinds,
                               Py_ssize_t *ints, double *floats) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (kinds[i] == 'n') {
            ints[i] = PyNumber_AsSsize_t(args[i], PyExc_OverflowError);
            if (ints[i] == -1 && PyErr_Occurred()) {
                return false;
            }
        } else {
            floats[i] = PyFloat_AsDouble(args[i]);
            if (floats[i] == -1.0 && PyErr_Occurred()) {
                return false;
            }
        }
    }
    return true;
}

/* A METH_FASTCALL entry of a module's method table: the function `name`, its docstring `doc`. */
#define FASTCALL_METHOD(name, doc) {#name, (PyCFunction)(void (*)(void))name, METH_FASTCALL, doc}

#endif
