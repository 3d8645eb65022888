/* SPDX-License-Identifier: MIT */
/*
 * Native and Python frames into one stack, by py-spy's rule: walking the native frames from the
 * leaf, each frame of the eval loop (_PyEval_EvalFrameDefault, its .cold part too when named)
 * stands for the Python frames from the cursor through the next entry frame (is_entry: the first
 * Python frame that loop call ran); the interpreter's other frames are dropped, but for the GIL's
 * and the blocking functions' (an allow-list); frames outside the interpreter are kept.
 */
#ifndef CONCUR_PY_MERGE_H
#define CONCUR_PY_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct py_native {
	const char *name;   /* the symbolizer's */
	const char *module; /* file name of its object */
	bool python;	    /* a Python frame (py_gil_slot() only; py_merge() ignores it) */
};

enum py_merge_result {
	PY_MERGE_SPLICED,  /* every eval frame matched (one Python frame may be left over: a frame
			    * pushed before its loop started), leftovers at the root */
	PY_MERGE_ROOTED,   /* the native stack stopped short (no eval frame in it, or it was cut
			    * below its last one): the Python frames left are put at the root */
	PY_MERGE_MISMATCH, /* eval frames and entry frames disagree: leftovers at the root */
};

/* Whether a module is CPython's interpreter: "python3.11", "libpython3.11.so.1.0". */
bool py_is_interpreter(const char *module);

/*
 * Merges nn native frames (leaf first) with np Python frames (leaf first; entry[i]: frame i is
 * an entry frame). cut: the native walk stopped before the thread's root, so Python frames
 * left over are expected. out (room for nn + np) gets the merged stack, leaf first: i >= 0 is
 * native frame i, -1 - i Python frame i; *nout their number. Returns the enum py_merge_result.
 */
enum py_merge_result py_merge(const struct py_native *nat, size_t nn, bool cut, const bool *entry,
			      size_t np, int32_t *out, size_t *nout);

/* The pseudo frame a GIL wait gets, between the Python frames and the native wait. */
#define PY_GIL_TAKE_FRAME "[GIL] take_gil"
#define PY_GIL_DROP_FRAME "[GIL] drop_gil"

/*
 * Where a GIL wait's frame goes in its merged user stack (n frames, leaf first): the index of
 * the leaf-most Python frame, so that the mark lands right under the Python function that
 * waited, whether the native walk reached the eval loop (the interpreter's own frames, such
 * as PyEval_RestoreThread, then stay under the mark) or not (the Python frames at the root).
 * Without a Python frame, the leaf-most frame of the interpreter; n (the root) when the stack
 * has none. *drop: the index of the interpreter's native frame named fn (a python with
 * symbols names take_gil itself), to be removed rather than doubled; n when none. The index
 * returned counts that frame still.
 */
size_t py_gil_slot(const struct py_native *f, size_t n, const char *fn, size_t *drop);

#endif
