/* SPDX-License-Identifier: MIT */
/*
 * CPython's structure layouts per minor version, as data: what the BPF walker reads (struct
 * py_proc, include/pyframes.h) and what userspace reads of code objects and strings. A version
 * without an entry gets native frames only, never a guessed layout.
 */
#ifndef CONCUR_PY_OFFSETS_H
#define CONCUR_PY_OFFSETS_H

#include <stdint.h>
#include "pyframes.h"

struct py_offsets {
	unsigned int major, minor;
	const char *checked; /* how the entry was checked, for the report's note */
	uint16_t flags;	     /* PY_PROC_*: the walker's behaviour switches */
	/* _PyRuntimeState: the Py_tss_t of (gilstate.)autoTSSkey. */
	uint16_t runtime_tss;
	/* From _PyRuntime's start: the futex words of GIL waits, [gil_start, gil_end) (0, 0:
	 * all of _PyRuntime); the GIL's last_holder, locked, and switch_cond through the end
	 * of switch_mutex (drop_gil's wait). */
	uint32_t gil_start, gil_end;
	uint32_t gil_last_holder, gil_locked, gil_switch, gil_switch_end;
	/* PyThreadState.native_thread_id; .cframe, or .current_frame with PY_PROC_NO_CFRAME. */
	uint16_t tstate_tid;
	uint16_t tstate_cframe, cframe_current;
	/* _PyInterpreterFrame: f_code/f_executable, previous, prev_instr/instr_ptr, and is_entry
	 * or, with PY_PROC_SHIM, owner. */
	uint16_t frame_code, frame_previous, frame_instr, frame_entry;
	/* PyCodeObject (all bytes offsets from the object's start). */
	uint16_t ob_type, code_flags, code_argcount, code_kwonly, code_firstline;
	uint16_t code_filename, code_qualname, code_linetable, code_units;
	/* PyASCIIObject / PyCompactUnicodeObject, PyBytesObject. */
	uint16_t str_length, str_state, str_ascii_data, str_compact_data;
	uint16_t bytes_size, bytes_data;
};

/* The entry for CPython major.minor, NULL when there is none. */
const struct py_offsets *py_offsets_find(unsigned int major, unsigned int minor);

/* The versions with an entry, for messages: "3.11, 3.12, 3.13". */
const char *py_offsets_known(void);

/*
 * The walker's view of a process: o's layout, glibc's thread-specific data, and the addresses
 * of the key and the GIL (runtime: &_PyRuntime, runtime_size bytes) and of PyCode_Type. 0, or
 * -EINVAL when an offset lies outside what the walker reads (PY_*_WINDOW), the GIL's fields
 * outside _PyRuntime or unknown flags are set.
 */
int py_offsets_fill(const struct py_offsets *o, uint64_t runtime, uint64_t runtime_size,
		    uint64_t code_type, struct py_proc *out);

#endif
