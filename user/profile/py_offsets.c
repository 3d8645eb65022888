// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "py_offsets.h"

/*
 * CPython 3.11 (Include/internal/pycore_frame.h, pycore_runtime.h, pycore_gil.h,
 * cpython/pystate.h, cpython/code.h, cpython/unicodeobject.h of v3.11.x; x86-64, release
 * build). Checked on Debian 12's /usr/bin/python3.11 (3.11.2 and 3.11.7): autoTSSkey's key at
 * _PyRuntime+0x254 in the disassembly of PyGILState_GetThisThreadState; the code object's and
 * strings' fields by reading a live interpreter's objects through ctypes; the frame's from the
 * header, as OTel's and py-spy's 3.11 tables have them.
 * The GIL (struct _gil_runtime_state at _PyRuntime.ceval + 8 = 360: interval, last_holder,
 * locked, switch_number, cond (pthread_cond_t, 48 bytes), mutex (40), switch_cond, switch_mutex;
 * FORCE_SWITCHING is defined in ceval_gil.h): through ctypes on 3.11.7, interval at 360 holds
 * 5000 (µs), last_holder at 368 the running thread's PyThreadState_Get() and locked at 376 is 1
 * while it runs Python, gilstate.tstate_current at 576 (= 360 + 216 for the GIL + 8) the same
 * thread state, native_thread_id at 160 of it threading.get_native_id(); and the futex words
 * the waiters of a GIL convoy blocked on were _PyRuntime+432 and +436, cond (392) + 40 and
 * + 44: glibc 2.36's __g_signals[2].
 */
static const struct py_offsets py_311 = {
	.major = 3,
	.minor = 11,
	.checked = "Debian 12's python3.11 (3.11.2, 3.11.7)",
	.runtime_tss = 0x250,
	.gil_start = 0,
	.gil_end = 0,
	.gil_last_holder = 368,
	.gil_locked = 376,
	.gil_switch = 480,
	.gil_switch_end = 568,
	.tstate_tid = 160,
	.tstate_cframe = 56,
	.cframe_current = 8,
	.frame_code = 32,
	.frame_previous = 48,
	.frame_instr = 56,
	.frame_entry = 68,
	.ob_type = 8,
	.code_flags = 48,
	.code_argcount = 56,
	.code_kwonly = 64,
	.code_firstline = 72,
	.code_filename = 112,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_units = 184,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 48,
	.str_compact_data = 72,
	.bytes_size = 16,
	.bytes_data = 32,
};

/*
 * CPython 3.12 (Include/internal/pycore_frame.h, pycore_code.h, cpython/code.h,
 * pycore_pystate.h, cpython/pystate.h, pycore_runtime.h, pycore_interp.h, pycore_gil.h,
 * cpython/unicodeobject.h of v3.12.x; x86-64, release build). The offsets as the DWARF of a
 * pyenv build of 3.12.1 has them (gdb ptype/o): the frame is {f_code 0, previous 8, ...,
 * prev_instr 56, stacktop 64, return_offset 68, owner 70}; no is_entry, each eval call's first
 * frame is followed by a shim owned by FRAME_OWNED_BY_CSTACK; tstate->cframe (56) ->
 * current_frame (0); the code object's ints move (co_argcount 52, co_kwonlyargcount 60,
 * co_firstlineno 68) and co_code_adaptive is at 192; PyASCIIObject lost wstr (40 bytes,
 * PyCompactUnicodeObject 56). autoTSSkey left gilstate: _PyRuntime+0x608. The GIL moved into
 * the interpreter (PyInterpreterState._gil, +0x410), and the main interpreter is
 * _PyRuntime._main_interpreter (+0x12a68): the GIL at _PyRuntime+0x12e78, laid out as 3.11's
 * (208 bytes: last_holder 8, locked 16, switch_cond 120 to the end).
 */
static const struct py_offsets py_312 = {
	.major = 3,
	.minor = 12,
	.checked = "a pyenv build of 3.12.1, by hand",
	.flags = PY_PROC_SHIM,
	.runtime_tss = 0x608,
	.gil_start = 0x12e78,
	.gil_end = 0x12e78 + 208,
	.gil_last_holder = 0x12e78 + 8,
	.gil_locked = 0x12e78 + 16,
	.gil_switch = 0x12e78 + 120,
	.gil_switch_end = 0x12e78 + 208,
	.tstate_tid = 144,
	.tstate_cframe = 56,
	.cframe_current = 0,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_instr = 56,
	.frame_entry = 70,
	.ob_type = 8,
	.code_flags = 48,
	.code_argcount = 52,
	.code_kwonly = 60,
	.code_firstline = 68,
	.code_filename = 112,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_units = 192,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 40,
	.str_compact_data = 56,
	.bytes_size = 16,
	.bytes_data = 32,
};

/*
 * CPython 3.13 (the same headers at v3.13.x). As 3.12 but: no _PyCFrame, tstate->current_frame
 * at 72; f_executable (0) in place of f_code, instr_ptr (56, the instruction running or about
 * to run; CPython's own line lookup takes it as 3.12 took prev_instr) in place of prev_instr;
 * co_code_adaptive at 200 (co_executors added); native_thread_id at 160; autoTSSkey at
 * _PyRuntime+0x870; the main interpreter at +0x15920, its _gil at +0x1e48: the GIL at
 * _PyRuntime+0x17768. From the DWARF of a pyenv build of 3.13.0 and its _Py_DebugOffsets,
 * which a live process's _PyRuntime carries and which replace the fields it has
 * (py_debug_offsets.h); this entry is the fallback and supplies the rest (the key, co_flags,
 * co_kwonlyargcount, the GIL's switch range, PyCompactUnicodeObject's size).
 */
static const struct py_offsets py_313 = {
	.major = 3,
	.minor = 13,
	.checked = "a pyenv build of 3.13.0, by hand",
	.flags = PY_PROC_SHIM | PY_PROC_NO_CFRAME,
	.runtime_tss = 0x870,
	.gil_start = 0x17768,
	.gil_end = 0x17768 + 208,
	.gil_last_holder = 0x17768 + 8,
	.gil_locked = 0x17768 + 16,
	.gil_switch = 0x17768 + 120,
	.gil_switch_end = 0x17768 + 208,
	.tstate_tid = 160,
	.tstate_cframe = 72,
	.cframe_current = 0,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_instr = 56,
	.frame_entry = 70,
	.ob_type = 8,
	.code_flags = 48,
	.code_argcount = 52,
	.code_kwonly = 60,
	.code_firstline = 68,
	.code_filename = 112,
	.code_qualname = 128,
	.code_linetable = 136,
	.code_units = 200,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 40,
	.str_compact_data = 56,
	.bytes_size = 16,
	.bytes_data = 32,
};

static const struct py_offsets *const table[] = { &py_311, &py_312, &py_313 };

/*
 * glibc's struct pthread on x86-64: specific_1stblock and specific[] from the thread pointer
 * (nptl/descr.h; 0x310 and 0x510 in the disassembly of glibc 2.36's pthread_getspecific, the
 * same in 2.32 and 2.35 per OTel's tests).
 */
#define GLIBC_TSD_FIRST	 0x310
#define GLIBC_TSD_SECOND 0x510

const struct py_offsets *py_offsets_find(unsigned int major, unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i]->major == major && table[i]->minor == minor)
			return table[i];
	return NULL;
}

const char *py_offsets_known(void)
{
	static char known[64];
	size_t i, at = 0;

	if (known[0])
		return known;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		at += snprintf(known + at, sizeof(known) - at, "%s%u.%u", at ? ", " : "",
			       table[i]->major, table[i]->minor);
	return known;
}

int py_offsets_fill(const struct py_offsets *o, uint64_t runtime, uint64_t runtime_size,
		    uint64_t code_type, struct py_proc *out)
{
	const uint16_t frame[] = { o->frame_code, o->frame_previous, o->frame_instr };
	const uint16_t code[] = { o->ob_type,	  o->code_flags,     o->code_argcount,
				  o->code_kwonly, o->code_firstline, o->code_qualname };
	uint64_t gil_start = o->gil_start, gil_end = o->gil_end ? o->gil_end : runtime_size;
	size_t i;

	for (i = 0; i < sizeof(frame) / sizeof(frame[0]); i++)
		if (frame[i] > PY_FRAME_WINDOW - 8)
			return -EINVAL;
	for (i = 0; i < sizeof(code) / sizeof(code[0]); i++)
		if (code[i] > PY_CODE_WINDOW - 8)
			return -EINVAL;
	if (o->frame_entry >= PY_FRAME_WINDOW || !runtime || !code_type ||
	    (o->flags & ~(PY_PROC_NO_CFRAME | PY_PROC_SHIM)))
		return -EINVAL;
	if (gil_start >= gil_end || gil_end > runtime_size || o->gil_last_holder < gil_start ||
	    (uint64_t)o->gil_last_holder + 8 > gil_end || o->gil_locked < gil_start ||
	    (uint64_t)o->gil_locked + 4 > gil_end || o->gil_switch_end > gil_end ||
	    o->gil_switch < gil_start || o->gil_switch > o->gil_switch_end ||
	    runtime + runtime_size < runtime)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->tss_addr = runtime + o->runtime_tss;
	out->code_type = code_type;
	out->version = o->major << 8 | o->minor;
	out->flags = o->flags;
	out->tsd_first = GLIBC_TSD_FIRST;
	out->tsd_second = GLIBC_TSD_SECOND;
	out->tstate_cframe = o->tstate_cframe;
	out->cframe_current = o->cframe_current;
	out->frame_code = o->frame_code;
	out->frame_previous = o->frame_previous;
	out->frame_instr = o->frame_instr;
	out->frame_entry = o->frame_entry;
	out->code_type_off = o->ob_type;
	out->code_flags = o->code_flags;
	out->code_argcount = o->code_argcount;
	out->code_kwonly = o->code_kwonly;
	out->code_firstline = o->code_firstline;
	out->code_qualname = o->code_qualname;
	out->code_units = o->code_units;
	out->tstate_tid = o->tstate_tid;
	out->gil_start = runtime + gil_start;
	out->gil_end = runtime + gil_end;
	out->gil_switch = runtime + o->gil_switch;
	out->gil_switch_end = runtime + o->gil_switch_end;
	out->gil_holder = runtime + o->gil_last_holder;
	out->gil_locked = runtime + o->gil_locked;
	return 0;
}
