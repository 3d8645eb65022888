/* SPDX-License-Identifier: MIT */
/*
 * CPython 3.13's own description of its layout: _Py_DebugOffsets, the first field of
 * _PyRuntime (Include/internal/pycore_runtime.h of v3.13.x: the cookie "xdebugpy", the
 * version, free_threaded, then per structure its size and field offsets, every value a
 * uint64_t). Read from the target, so every value is checked before it is used.
 */
#ifndef CONCUR_PY_DEBUG_OFFSETS_H
#define CONCUR_PY_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>
#include "py_offsets.h"

/* Bytes of 3.13's _Py_DebugOffsets (73 uint64_t words; sizeof in 3.13.0's DWARF). */
#define PY_DEBUG_OFFSETS_SIZE 584

/* The fields concur uses, as the target gave them (bytes offsets; *_size: sizeof). */
struct py_debug_offsets {
	uint64_t version; /* PY_VERSION_HEX */
	uint64_t runtime_size, interpreters_head;
	/* PyInterpreterState: its _gil, and that GIL's locked and last_holder. */
	uint64_t interp_size, interp_gil, gil_locked, gil_holder;
	uint64_t tstate_size, tstate_frame, tstate_tid;
	uint64_t frame_size, frame_previous, frame_executable, frame_instr, frame_owner;
	uint64_t code_size, code_filename, code_qualname, code_linetable, code_firstline;
	uint64_t code_argcount, code_units;
	uint64_t ob_type;
	uint64_t bytes_size, bytes_data;
	uint64_t str_length, str_state, str_ascii_data;
};

/*
 * Parses blob (len bytes from _PyRuntime's start) as 3.13's _Py_DebugOffsets of a process whose
 * Py_Version is py_version and whose _PyRuntime is runtime_size bytes (0: unknown). 0;
 * -ENODATA when blob is shorter than PY_DEBUG_OFFSETS_SIZE; -ENOENT without the cookie (3.12
 * and older have none); -EPROTO when its version is not py_version or not a 3.13 (the only
 * layout of the struct known here); -ENOTSUP for a free-threaded build (other object
 * layouts); -ERANGE when a structure's size is absurd (runtime_size differs, or beyond a
 * bound far above CPython's: 16 MiB for the runtime, 4 MiB for an interpreter, 64 KiB for a
 * thread state, 4 KiB for a code object, 1 KiB for a frame, 256 bytes for a string or bytes
 * header, 64 for an object header) or a field lies outside its structure.
 */
int py_debug_offsets_parse(const void *blob, size_t len, uint32_t py_version, uint64_t runtime_size,
			   struct py_debug_offsets *out);

/*
 * The layout of a process from its debug offsets d: base (the table's entry for its version)
 * with every field d gives replaced, the rest (the TSS key, co_flags, co_kwonlyargcount,
 * PyCompactUnicodeObject's size, the GIL's size and switch range, the flags) kept.
 * main_interp: the main interpreter's offset in _PyRuntime (read at d->interpreters_head;
 * 3.12+ embed it there). 0, or -ERANGE when the main interpreter does not lie inside
 * _PyRuntime or a value does not fit the table's fields.
 */
int py_debug_offsets_apply(const struct py_debug_offsets *d, uint64_t main_interp,
			   const struct py_offsets *base, struct py_offsets *out);

#endif
