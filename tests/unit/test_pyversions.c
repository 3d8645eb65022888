// SPDX-License-Identifier: MIT
/*
 * CPython versions: the offsets table's 3.12 and 3.13 entries, 3.13's _Py_DebugOffsets read
 * from the target, and what a version without a layout gets (native frames, a note).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "fixture.h"
#include "profile/py_debug_offsets.h"
#include "profile/py_offsets.h"

/*
 * The first 584 bytes of _PyRuntime in a pyenv build of CPython 3.13.0's libpython3.13.so.1.0
 * (its static initializer, as gdb's x/73gx &_PyRuntime printed it from the file): a real
 * _Py_DebugOffsets, version 0x030d00f0, _PyRuntime 283320 bytes. The table's 3.13 entry was
 * taken from the same build's DWARF (ptype/o), not from these bytes.
 */
static const uint64_t real_313[73] = {
	0x7970677562656478ull, 0x00000000030d00f0ull, 0x0000000000000000ull, 0x00000000000452b8ull,
	0x0000000000000260ull, 0x0000000000000278ull, 0x000000000002f998ull, 0x0000000000001c68ull,
	0x0000000000001c60ull, 0x0000000000001cb0ull, 0x0000000000001ce8ull, 0x0000000000001de8ull,
	0x0000000000001dd8ull, 0x0000000000001de0ull, 0x0000000000000010ull, 0x0000000000001e48ull,
	0x0000000000000000ull, 0x0000000000001e58ull, 0x0000000000001e50ull, 0x0000000000000130ull,
	0x0000000000000000ull, 0x0000000000000008ull, 0x0000000000000010ull, 0x0000000000000048ull,
	0x0000000000000098ull, 0x00000000000000a0ull, 0x00000000000000e8ull, 0x0000000000000020ull,
	0x0000000000000050ull, 0x0000000000000008ull, 0x0000000000000000ull, 0x0000000000000038ull,
	0x0000000000000048ull, 0x0000000000000046ull, 0x00000000000000d0ull, 0x0000000000000070ull,
	0x0000000000000078ull, 0x0000000000000080ull, 0x0000000000000088ull, 0x0000000000000044ull,
	0x0000000000000034ull, 0x0000000000000060ull, 0x0000000000000068ull, 0x00000000000000c8ull,
	0x0000000000000010ull, 0x0000000000000008ull, 0x00000000000001a0ull, 0x0000000000000018ull,
	0x0000000000000058ull, 0x00000000000000a8ull, 0x0000000000000020ull, 0x0000000000000018ull,
	0x0000000000000010ull, 0x0000000000000028ull, 0x0000000000000018ull, 0x0000000000000010ull,
	0x0000000000000030ull, 0x0000000000000020ull, 0x0000000000000028ull, 0x0000000000000018ull,
	0x0000000000000010ull, 0x0000000000000020ull, 0x0000000000000010ull, 0x0000000000000018ull,
	0x0000000000000028ull, 0x0000000000000010ull, 0x0000000000000020ull, 0x0000000000000040ull,
	0x0000000000000020ull, 0x0000000000000010ull, 0x0000000000000028ull, 0x00000000000000f0ull,
	0x00000000000000c8ull,
};

#define V3130	    0x030d00f0u
#define RUNTIME_313 283320u
/* &_PyRuntime._main_interpreter - &_PyRuntime in that build (its interpreters.head at run). */
#define MAIN_INTERP_313 0x15920u

static uint8_t blob[sizeof(real_313)];

static void set_word(int i, uint64_t v)
{
	memcpy(blob + 8 * i, &v, sizeof(v));
}

static void real_blob(void)
{
	memcpy(blob, real_313, sizeof(blob));
}

Test(py_versions, the_table_knows_311_to_313_only)
{
	cr_expect_not_null(py_offsets_find(3, 11));
	cr_expect_not_null(py_offsets_find(3, 12));
	cr_expect_not_null(py_offsets_find(3, 13));
	cr_expect_null(py_offsets_find(3, 10));
	cr_expect_null(py_offsets_find(3, 14));
	cr_expect_null(py_offsets_find(2, 7));
	cr_expect_null(py_offsets_find(4, 13));
	cr_expect_str_eq(py_offsets_known(), "3.11, 3.12, 3.13");
}

Test(py_versions, behaviour_switches_are_data)
{
	struct py_proc pp;

	/* 3.11: tstate->cframe->current_frame, is_entry. */
	cr_assert_eq(py_offsets_fill(py_offsets_find(3, 11), 0x1000, 0x28b20, 0x2000, &pp), 0);
	cr_expect_eq(pp.flags, 0);
	cr_expect_eq(pp.frame_entry, 68);
	/* 3.12: the cframe still, shims owned by the C stack; _PyRuntime 459944 bytes in the
	 * pyenv 3.12.1 build, its GIL at +0x12e78. */
	cr_assert_eq(py_offsets_fill(py_offsets_find(3, 12), 0x1000, 459944, 0x2000, &pp), 0);
	cr_expect_eq(pp.flags, PY_PROC_SHIM);
	cr_expect_eq(pp.tstate_cframe, 56);
	cr_expect_eq(pp.cframe_current, 0);
	cr_expect_eq(pp.frame_entry, 70);
	cr_expect_eq(pp.code_units, 192);
	cr_expect_eq(pp.gil_start, 0x1000 + 0x12e78);
	cr_expect_eq(pp.gil_end, 0x1000 + 0x12e78 + 208);
	cr_expect_eq(pp.gil_holder, 0x1000 + 0x12e78 + 8);
	/* 3.13: current_frame in the thread state itself. */
	cr_assert_eq(py_offsets_fill(py_offsets_find(3, 13), 0x1000, RUNTIME_313, 0x2000, &pp), 0);
	cr_expect_eq(pp.flags, PY_PROC_SHIM | PY_PROC_NO_CFRAME);
	cr_expect_eq(pp.tstate_cframe, 72);
	cr_expect_eq(pp.tss_addr, 0x1000 + 0x870);
}

Test(py_versions, a_runtime_too_small_for_the_gil_or_unknown_flags_are_refused)
{
	struct py_offsets o = *py_offsets_find(3, 13);
	struct py_proc pp;

	/* The GIL at +0x17768 must lie inside _PyRuntime. */
	cr_expect_eq(py_offsets_fill(&o, 0x1000, 0x17768 + 100, 0x2000, &pp), -EINVAL);
	o.gil_last_holder = o.gil_end;
	cr_expect_eq(py_offsets_fill(&o, 0x1000, RUNTIME_313, 0x2000, &pp), -EINVAL);
	o = *py_offsets_find(3, 13);
	o.flags |= 4;
	cr_expect_eq(py_offsets_fill(&o, 0x1000, RUNTIME_313, 0x2000, &pp), -EINVAL);
	o = *py_offsets_find(3, 12);
	o.gil_switch = o.gil_start - 8;
	cr_expect_eq(py_offsets_fill(&o, 0x1000, 459944, 0x2000, &pp), -EINVAL);
}

#define SAME(field)                                                                        \
	cr_expect_eq(got.field, want->field, #field ": %u, table %u", (unsigned)got.field, \
		     (unsigned)want->field)

Test(py_debug_offsets, a_real_313_blob_gives_the_tables_layout)
{
	const struct py_offsets *want = py_offsets_find(3, 13);
	struct py_debug_offsets d;
	struct py_offsets got;
	struct py_proc pp;

	real_blob();
	cr_assert_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d), 0);
	cr_expect_eq(d.version, V3130);
	cr_expect_eq(d.interpreters_head, 632);
	cr_expect_eq(d.tstate_frame, 72);
	cr_expect_eq(d.frame_owner, 70);
	cr_expect_eq(d.code_units, 200);
	cr_assert_eq(py_debug_offsets_apply(&d, MAIN_INTERP_313, want, &got), 0);
	/* Two sources, one layout: the DWARF-made table and the bytes CPython compiled in. */
	SAME(gil_start);
	SAME(gil_end);
	SAME(gil_last_holder);
	SAME(gil_locked);
	SAME(gil_switch);
	SAME(gil_switch_end);
	SAME(tstate_tid);
	SAME(tstate_cframe);
	SAME(frame_code);
	SAME(frame_previous);
	SAME(frame_instr);
	SAME(frame_entry);
	SAME(ob_type);
	SAME(code_argcount);
	SAME(code_firstline);
	SAME(code_filename);
	SAME(code_qualname);
	SAME(code_linetable);
	SAME(code_units);
	SAME(str_length);
	SAME(str_state);
	SAME(str_ascii_data);
	SAME(bytes_size);
	SAME(bytes_data);
	SAME(flags);
	cr_expect_eq(py_offsets_fill(&got, 0x1000, RUNTIME_313, 0x2000, &pp), 0);
	/* The size is unknown when the symbol has none: then it is not compared. */
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, 0, &d), 0);
}

Test(py_debug_offsets, the_same_version_at_another_patch_level_is_read)
{
	struct py_debug_offsets d;

	real_blob();
	set_word(1, 0x030d03f0);
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), 0x030d03f0, RUNTIME_313, &d), 0);
}

Test(py_debug_offsets, bad_cookie_version_or_build_is_refused)
{
	struct py_debug_offsets d;

	real_blob();
	blob[0] = 'X';
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d), -ENOENT);
	/* 3.12's _PyRuntime starts with _initialized: no cookie there. */
	memset(blob, 0, sizeof(blob));
	blob[0] = 1;
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), 0x030c01f0, 459944, &d), -ENOENT);
	/* Py_Version says 3.13.1, the blob 3.13.0: one of them is not what it claims. */
	real_blob();
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), 0x030d01f0, RUNTIME_313, &d),
		     -EPROTO);
	/* 3.14's struct is laid out otherwise: a matching version is no reason to read it. */
	set_word(1, 0x030e00f0);
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), 0x030e00f0, RUNTIME_313, &d),
		     -EPROTO);
	real_blob();
	set_word(2, 1);
	cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d), -ENOTSUP);
}

Test(py_debug_offsets, a_truncated_blob_is_refused)
{
	struct py_debug_offsets d;

	real_blob();
	cr_expect_eq(py_debug_offsets_parse(blob, PY_DEBUG_OFFSETS_SIZE - 1, V3130, RUNTIME_313,
					    &d),
		     -ENODATA);
	cr_expect_eq(py_debug_offsets_parse(blob, 16, V3130, RUNTIME_313, &d), -ENODATA);
}

/* Word index, value: each makes one offset or size absurd. */
static const uint64_t absurd[][2] = {
	{ 3, RUNTIME_313 + 8 }, /* runtime_state.size differs from the symbol's */
	{ 5, RUNTIME_313 },	/* interpreters_head at the runtime's end */
	{ 6, 0 },		/* sizeof(PyInterpreterState) 0 */
	{ 17, 194968 - 2 },	/* gil locked: 4 bytes past the interpreter's end */
	{ 19, 1ull << 20 },	/* sizeof(PyThreadState) */
	{ 23, 304 },		/* current_frame at the thread state's end */
	{ 25, UINT64_MAX - 3 }, /* native_thread_id: wraps */
	{ 28, 4096 },		/* sizeof(_PyInterpreterFrame) */
	{ 31, 80 },		/* instr_ptr outside the frame */
	{ 33, 1ull << 63 },	/* owner */
	{ 34, 1ull << 32 },	/* sizeof(PyCodeObject) */
	{ 38, 208 },		/* co_linetable at the end */
	{ 43, 209 },		/* co_code_adaptive past the end */
	{ 45, 16 },		/* ob_type past PyObject */
	{ 66, 40 },		/* ob_sval past PyBytesObject */
	{ 70, 0 },		/* asciiobject_size 0 */
	{ 70, 65 },		/* asciiobject_size past PyUnicodeObject */
};

Test(py_debug_offsets, absurd_offsets_are_refused)
{
	struct py_debug_offsets d;
	size_t i;

	for (i = 0; i < sizeof(absurd) / sizeof(absurd[0]); i++) {
		real_blob();
		set_word((int)absurd[i][0], absurd[i][1]);
		cr_expect_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d),
			     -ERANGE, "word %llu = %#llx", (unsigned long long)absurd[i][0],
			     (unsigned long long)absurd[i][1]);
	}
}

Test(py_debug_offsets, offsets_inside_their_struct_but_outside_the_walkers_window)
{
	struct py_debug_offsets d;
	struct py_offsets o;
	struct py_proc pp;

	/* A frame of 200 bytes with previous at 120: plausible for CPython, beyond what the
	 * walker reads of a frame (PY_FRAME_WINDOW): parsed, then refused by the fill. */
	real_blob();
	set_word(28, 200);
	set_word(29, 120);
	cr_assert_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d), 0);
	cr_assert_eq(py_debug_offsets_apply(&d, MAIN_INTERP_313, py_offsets_find(3, 13), &o), 0);
	cr_expect_eq(py_offsets_fill(&o, 0x1000, RUNTIME_313, 0x2000, &pp), -EINVAL);
}

Test(py_debug_offsets, the_main_interpreter_must_lie_inside_the_runtime)
{
	const struct py_offsets *base = py_offsets_find(3, 13);
	struct py_debug_offsets d;
	struct py_offsets o;

	real_blob();
	cr_assert_eq(py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d), 0);
	/* A subinterpreter (heap) or garbage at interpreters.head. */
	cr_expect_eq(py_debug_offsets_apply(&d, RUNTIME_313, base, &o), -ERANGE);
	cr_expect_eq(py_debug_offsets_apply(&d, RUNTIME_313 - 1000, base, &o), -ERANGE);
	cr_expect_eq(py_debug_offsets_apply(&d, UINT64_MAX - 10, base, &o), -ERANGE);
	cr_expect_eq(py_debug_offsets_apply(&d, MAIN_INTERP_313, NULL, &o), -ERANGE);
	/* The GIL's holder outside the GIL. */
	d.gil_holder = d.interp_gil + 208;
	cr_expect_eq(py_debug_offsets_apply(&d, MAIN_INTERP_313, base, &o), -ERANGE);
}

/* Random words anywhere: never a crash, and whatever is accepted stays within bounds. */
Test(py_debug_offsets, random_words_are_refused_or_bounded)
{
	const struct py_offsets *base = py_offsets_find(3, 13);
	GRand *r = g_rand_new_with_seed(13);
	int accepted = 0, refused = 0, n, k;
	struct py_debug_offsets d;
	struct py_offsets o;
	struct py_proc pp;

	for (n = 0; n < 20000; n++) {
		real_blob();
		for (k = 0; k < 3; k++) {
			uint64_t v = g_rand_int(r) % 4 ?
					     (uint64_t)g_rand_int_range(r, 0, 512) :
					     (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);

			set_word(g_rand_int_range(r, 3, 73), v);
		}
		if (py_debug_offsets_parse(blob, sizeof(blob), V3130, RUNTIME_313, &d) ||
		    py_debug_offsets_apply(&d, MAIN_INTERP_313, base, &o) ||
		    py_offsets_fill(&o, 0x1000, RUNTIME_313, 0x2000, &pp)) {
			refused++;
			continue;
		}
		accepted++;
		cr_assert_leq(pp.frame_previous, PY_FRAME_WINDOW - 8);
		cr_assert_lt(pp.frame_entry, PY_FRAME_WINDOW);
		cr_assert_leq(pp.code_firstline, PY_CODE_WINDOW - 8);
		cr_assert_leq(pp.code_qualname, PY_CODE_WINDOW - 8);
		cr_assert(pp.gil_start >= 0x1000 && pp.gil_end <= 0x1000 + RUNTIME_313);
		cr_assert(pp.gil_holder >= pp.gil_start && pp.gil_holder + 8 <= pp.gil_end);
		cr_assert_leq(o.code_units, d.code_size);
		cr_assert_leq(o.str_ascii_data, 256);
	}
	g_rand_free(r);
	cr_expect(accepted > 1000 && refused > 1000, "%d accepted, %d refused", accepted, refused);
}

static char *text_of(struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(fixture_write(fixture_write_text, p, f), 0);
	fclose(f);
	return buf;
}

Test(py_versions, a_version_without_a_layout_gets_one_note)
{
	struct profile *p = fixture_profile();
	const char *note = "python 3.10: no frame layout known, native frames only.";
	char *text, *at;
	size_t i;

	cr_assert_not_null(p);
	cr_assert_geq(p->nprocs, 2);
	text = text_of(p);
	cr_expect_null(strstr(text, "no frame layout known"));
	free(text);
	/* Two processes of 3.10: one note; 3.11 has a layout: none. */
	for (i = 0; i < p->nprocs; i++)
		snprintf(p->procs[i].runtime, sizeof(p->procs[i].runtime), "CPython 3.1%d",
			 i % 2 ? 1 : 0);
	text = text_of(p);
	at = strstr(text, note);
	cr_expect_not_null(at, "%s", text);
	cr_expect_null(at ? strstr(at + 1, note) : NULL);
	cr_expect_null(strstr(text, "python 3.11: no frame layout"));
	free(text);
	profile__free(p);
}
