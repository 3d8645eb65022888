// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "py_debug_offsets.h"

/*
 * Word indices (uint64_t) in 3.13's _Py_DebugOffsets: the order of its fields in
 * Include/internal/pycore_runtime.h of v3.13.0, checked against the DWARF of a 3.13.0 build
 * (runtime_state at byte 24, code_object at 272, bytes_object at 512, unicode_object at 536).
 */
enum {
	W_VERSION = 1,
	W_FREE_THREADED = 2,
	W_RUNTIME = 3,	 /* size, finalizing, interpreters_head */
	W_INTERP = 6,	 /* size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
			* ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
			* gil_runtime_state_locked, gil_runtime_state_holder */
	W_TSTATE = 19,	 /* size, prev, next, interp, current_frame, thread_id, native_thread_id,
			* datastack_chunk, status */
	W_FRAME = 28,	 /* size, previous, executable, instr_ptr, localsplus, owner */
	W_CODE = 34,	 /* size, filename, name, qualname, linetable, firstlineno, argcount,
			* localsplusnames, localspluskinds, co_code_adaptive */
	W_PYOBJECT = 44, /* size, ob_type */
	W_BYTES = 64,	 /* size, ob_size, ob_sval */
	W_UNICODE = 67,	 /* size, state, length, asciiobject_size */
};

#define KIB(n) ((uint64_t)(n) << 10)

static uint64_t word(const uint8_t *b, int i)
{
	uint64_t v;

	memcpy(&v, b + 8 * i, sizeof(v));
	return v;
}

/* A field of width bytes at off inside a structure of size bytes. */
static int inside(uint64_t off, uint64_t width, uint64_t size)
{
	return off < size && width <= size - off;
}

/* A structure's size within (0, max], and its fields (offset, width pairs) inside it. */
static int check_struct(uint64_t size, uint64_t max, const uint64_t (*fields)[2], size_t n)
{
	size_t i;

	if (!size || size > max)
		return -ERANGE;
	for (i = 0; i < n; i++)
		if (!inside(fields[i][0], fields[i][1], size))
			return -ERANGE;
	return 0;
}

#define CHECK(size, max, ...)                                                \
	do {                                                                 \
		const uint64_t f_[][2] = { __VA_ARGS__ };                    \
		if (check_struct(size, max, f_, sizeof(f_) / sizeof(f_[0]))) \
			return -ERANGE;                                      \
	} while (0)

int py_debug_offsets_parse(const void *blob, size_t len, uint32_t py_version, uint64_t runtime_size,
			   struct py_debug_offsets *out)
{
	const uint8_t *b = blob;
	struct py_debug_offsets d;

	if (len < PY_DEBUG_OFFSETS_SIZE)
		return -ENODATA;
	if (memcmp(b, "xdebugpy", 8))
		return -ENOENT;
	d.version = word(b, W_VERSION);
	if (d.version != py_version || (d.version >> 16) != 0x030d)
		return -EPROTO;
	if (word(b, W_FREE_THREADED))
		return -ENOTSUP;
	d.runtime_size = word(b, W_RUNTIME);
	d.interpreters_head = word(b, W_RUNTIME + 2);
	d.interp_size = word(b, W_INTERP);
	d.interp_gil = word(b, W_INTERP + 9);
	d.gil_locked = word(b, W_INTERP + 11);
	d.gil_holder = word(b, W_INTERP + 12);
	d.tstate_size = word(b, W_TSTATE);
	d.tstate_frame = word(b, W_TSTATE + 4);
	d.tstate_tid = word(b, W_TSTATE + 6);
	d.frame_size = word(b, W_FRAME);
	d.frame_previous = word(b, W_FRAME + 1);
	d.frame_executable = word(b, W_FRAME + 2);
	d.frame_instr = word(b, W_FRAME + 3);
	d.frame_owner = word(b, W_FRAME + 5);
	d.code_size = word(b, W_CODE);
	d.code_filename = word(b, W_CODE + 1);
	d.code_qualname = word(b, W_CODE + 3);
	d.code_linetable = word(b, W_CODE + 4);
	d.code_firstline = word(b, W_CODE + 5);
	d.code_argcount = word(b, W_CODE + 6);
	d.code_units = word(b, W_CODE + 9);
	d.ob_type = word(b, W_PYOBJECT + 1);
	d.bytes_size = word(b, W_BYTES + 1);
	d.bytes_data = word(b, W_BYTES + 2);
	d.str_state = word(b, W_UNICODE + 1);
	d.str_length = word(b, W_UNICODE + 2);
	d.str_ascii_data = word(b, W_UNICODE + 3);

	if (runtime_size && d.runtime_size != runtime_size)
		return -ERANGE;
	CHECK(d.runtime_size, KIB(16384), { d.interpreters_head, 8 });
	CHECK(d.interp_size, KIB(4096), { d.interp_gil, 1 }, { d.gil_locked, 4 },
	      { d.gil_holder, 8 });
	CHECK(d.tstate_size, KIB(64) - 1, { d.tstate_frame, 8 }, { d.tstate_tid, 8 });
	CHECK(d.frame_size, KIB(1), { d.frame_previous, 8 }, { d.frame_executable, 8 },
	      { d.frame_instr, 8 }, { d.frame_owner, 1 });
	/* co_code_adaptive is a flexible array: at most at the struct's end. */
	CHECK(d.code_size, KIB(4), { d.code_filename, 8 }, { d.code_qualname, 8 },
	      { d.code_linetable, 8 }, { d.code_firstline, 4 }, { d.code_argcount, 4 },
	      { d.code_units, 1 });
	CHECK(word(b, W_PYOBJECT), 64, { d.ob_type, 8 });
	CHECK(word(b, W_BYTES), 256, { d.bytes_size, 8 }, { d.bytes_data, 1 });
	CHECK(word(b, W_UNICODE), 256, { d.str_state, 4 }, { d.str_length, 8 },
	      { d.str_ascii_data - 1, 1 });
	*out = d;
	return 0;
}

int py_debug_offsets_apply(const struct py_debug_offsets *d, uint64_t main_interp,
			   const struct py_offsets *base, struct py_offsets *out)
{
	uint64_t gil = main_interp + d->interp_gil, gil_size;

	if (!base || base->gil_end <= base->gil_start || main_interp > d->runtime_size ||
	    d->interp_size > d->runtime_size - main_interp)
		return -ERANGE;
	gil_size = base->gil_end - base->gil_start;
	if (d->interp_gil + gil_size > d->interp_size || d->gil_holder < d->interp_gil ||
	    d->gil_holder + 8 > d->interp_gil + gil_size || d->gil_locked < d->interp_gil ||
	    d->gil_locked + 4 > d->interp_gil + gil_size)
		return -ERANGE;
	*out = *base;
	out->gil_start = (uint32_t)gil;
	out->gil_end = (uint32_t)(gil + gil_size);
	out->gil_last_holder = (uint32_t)(main_interp + d->gil_holder);
	out->gil_locked = (uint32_t)(main_interp + d->gil_locked);
	out->gil_switch = (uint32_t)(gil + (base->gil_switch - base->gil_start));
	out->gil_switch_end = (uint32_t)(gil + (base->gil_switch_end - base->gil_start));
	/* The parser bounded every struct below 64 KiB: the values fit 16 bits. */
	out->tstate_cframe = (uint16_t)d->tstate_frame;
	out->tstate_tid = (uint16_t)d->tstate_tid;
	out->frame_code = (uint16_t)d->frame_executable;
	out->frame_previous = (uint16_t)d->frame_previous;
	out->frame_instr = (uint16_t)d->frame_instr;
	out->frame_entry = (uint16_t)d->frame_owner;
	out->ob_type = (uint16_t)d->ob_type;
	out->code_firstline = (uint16_t)d->code_firstline;
	out->code_argcount = (uint16_t)d->code_argcount;
	out->code_filename = (uint16_t)d->code_filename;
	out->code_qualname = (uint16_t)d->code_qualname;
	out->code_linetable = (uint16_t)d->code_linetable;
	out->code_units = (uint16_t)d->code_units;
	out->str_length = (uint16_t)d->str_length;
	out->str_state = (uint16_t)d->str_state;
	out->str_ascii_data = (uint16_t)d->str_ascii_data;
	out->bytes_size = (uint16_t)d->bytes_size;
	out->bytes_data = (uint16_t)d->bytes_data;
	return 0;
}
