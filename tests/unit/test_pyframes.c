// SPDX-License-Identifier: MIT
/* CPython frames: the 3.11 location table, the offsets table, code objects, the merge rule. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "profile/py_code.h"
#include "profile/py_linetable.h"
#include "profile/py_merge.h"
#include "profile/py_offsets.h"

/*
 * A table CPython 3.11 built (sample() below, first line 1), and the line of each of its 39
 * instructions as the same interpreter's code.co_lines() gives them:
 *   def sample(n):
 *       total = 0
 *       for i in range(n):
 *           if i % 3:
 *               total += i
 *
 *           else:
 *               total -= 1
 *       return total
 */
static const char real_hex[] = "8000d80c0d8045dd0d12903189588c58f000050517f0000505178801d80b0c8871"
			       "8935f000040917d80c119051894a88458845f006000d129051894a88458845d8"
			       "0b10804c";
static const int real_lines[39] = { 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
				    4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 8, 8, 8, 8, 8, 8, 9, 9 };

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2, i;

	for (i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return n;
}

Test(py_linetable, cpython_table_gives_cpython_lines)
{
	uint8_t t[128];
	size_t len = unhex(real_hex, t);
	int i, line;

	for (i = 0; i < 39; i++) {
		cr_assert_eq(py_linetable_line(t, len, 1, i, &line), 0, "instr %d", i);
		cr_expect_eq(line, real_lines[i], "instr %d: %d, CPython says %d", i, line,
			     real_lines[i]);
	}
	cr_expect_eq(py_linetable_line(t, len, 1, 39, &line), -ENOENT);
	cr_expect_eq(py_linetable_line(t, len, 7, -1, &line), 0);
	cr_expect_eq(line, 7, "a frame not started yet is at its first line");
}

/* One entry: kind, length in code units, then its extra bytes. */
static size_t entry(uint8_t *t, int kind, int units)
{
	t[0] = 0x80 | kind << 3 | (units - 1);
	return 1;
}

static size_t varint(uint8_t *t, uint32_t v)
{
	size_t n = 0;

	while (v >= 64) {
		t[n++] = 64 | (v & 63);
		v >>= 6;
	}
	t[n++] = v;
	return n;
}

static size_t svarint(uint8_t *t, int v)
{
	return varint(t, v < 0 ? (uint32_t)(-v) << 1 | 1 : (uint32_t)v << 1);
}

Test(py_linetable, every_kind_of_entry)
{
	uint8_t t[64];
	size_t n = 0;
	int line;

	n += entry(t + n, 3, 2); /* short: same line (10), one column byte */
	t[n++] = 0x11;
	n += entry(t + n, 12, 1); /* one line, +2 -> 12 */
	t[n++] = 1;
	t[n++] = 2;
	n += entry(t + n, 13, 3); /* no column, -5 -> 7 */
	n += svarint(t + n, -5);
	n += entry(t + n, 15, 1); /* no location: no line, the running line stays */
	n += entry(t + n, 14, 2); /* long, +1000 -> 1007, end line and two columns */
	n += svarint(t + n, 1000);
	n += varint(t + n, 3);
	n += varint(t + n, 70);
	n += varint(t + n, 4);
	n += entry(t + n, 10, 1); /* one line, +0 */
	t[n++] = 0;
	t[n++] = 0;
	{
		const int want[] = { 10, 10, 12, 7, 7, 7, -1, 1007, 1007, 1007 };
		int i;

		for (i = 0; i < 10; i++) {
			cr_assert_eq(py_linetable_line(t, n, 10, i, &line), 0, "instr %d", i);
			cr_expect_eq(line, want[i], "instr %d: %d, want %d", i, line, want[i]);
		}
	}
}

Test(py_linetable, malformed_tables_are_refused)
{
	uint8_t t[16] = { 0 };
	int line = 12345;

	/* An entry without its start bit. */
	t[0] = 0x05;
	cr_expect_eq(py_linetable_line(t, 1, 1, 0, &line), -EINVAL);
	/* A varint running past the end. */
	t[0] = 0x80 | 13 << 3;
	t[1] = 64 | 1;
	cr_expect_eq(py_linetable_line(t, 2, 1, 0, &line), -EINVAL);
	/* A varint over 30 bits. */
	memset(t + 1, 64 | 63, 8);
	t[9] = 1;
	cr_expect_eq(py_linetable_line(t, 10, 1, 0, &line), -EINVAL);
	/* Column bytes missing. */
	t[0] = 0x80 | 11 << 3;
	cr_expect_eq(py_linetable_line(t, 2, 1, 0, &line), -EINVAL);
	/* A line pushed past int's range. */
	t[0] = 0x80 | 13 << 3;
	varint(t + 1, 0x3ffffffe);
	cr_expect_eq(py_linetable_line(t, 6, 0x7fff0000, 0, &line), -EINVAL);
	cr_expect_eq(py_linetable_line(NULL, 4, 1, 0, &line), -EINVAL);
	cr_expect_eq(py_linetable_line(t, PY_LINETABLE_MAX + 1, 1, 0, &line), -EINVAL);
	cr_expect_eq(line, 12345, "a refused table leaves the line alone");
}

/*
 * Hostile input: random tables, and the real one with random bytes flipped, each at every
 * instruction up to past its end. The decoder must answer 0, -ENOENT or -EINVAL, read nothing
 * past the table (ASan in make asan; here a guard buffer with the table at its end) and give
 * lines only from the table's own arithmetic: within first +/- 2^30 * entries.
 */
Test(py_linetable, hostile_tables_never_crash)
{
	GRand *r = g_rand_new_with_seed(13);
	uint8_t real[128], *t;
	size_t rlen = unhex(real_hex, real), len, k;
	int round, i, line, err, counts[3] = { 0 };

	for (round = 0; round < 20000; round++) {
		len = g_rand_int_range(r, 0, 64);
		t = malloc(len ? len : 1);
		if (round & 1 && len <= rlen) {
			memcpy(t, real, len);
			for (k = 0; k < 3 && len; k++)
				t[g_rand_int_range(r, 0, len)] = g_rand_int_range(r, 0, 256);
		} else {
			for (k = 0; k < len; k++)
				t[k] = g_rand_int_range(r, 0, 256);
		}
		for (i = -1; i < 80; i += 7) {
			err = py_linetable_line(t, len, 1, i, &line);
			cr_assert(err == 0 || err == -ENOENT || err == -EINVAL, "err %d", err);
			counts[err == 0 ? 0 : err == -ENOENT ? 1 : 2]++;
		}
		free(t);
	}
	g_rand_free(r);
	/* The inputs reach every outcome: the test is not only exercising the first check. */
	cr_expect(counts[0] > 1000 && counts[1] > 100 && counts[2] > 1000, "%d %d %d", counts[0],
		  counts[1], counts[2]);
}

Test(py_offsets, only_known_versions_have_a_layout)
{
	const struct py_offsets *o = py_offsets_find(3, 11);
	struct py_proc pp;

	cr_assert_not_null(o);
	cr_expect_null(py_offsets_find(3, 10));
	cr_expect_null(py_offsets_find(2, 11));
	/* Debian 12's python3.11: _PyRuntime at 0xa5b740, 0x28b20 bytes (.dynsym). */
	cr_assert_eq(py_offsets_fill(o, 0xa5b740, 0x28b20, 0x959440, &pp), 0);
	cr_expect_eq(pp.tss_addr, 0xa5b740 + 0x250);
	cr_expect_eq(pp.code_type, 0x959440);
	cr_expect_eq(pp.version, 0x030b);
	cr_expect_eq(pp.frame_previous, 48);
	cr_expect_eq(pp.gil_start, 0xa5b740);
	cr_expect_eq(pp.gil_end, 0xa5b740 + 0x28b20);
	/* The words a GIL convoy waited on (cond's __g_signals) are take_gil's, not drop_gil's. */
	cr_expect(0xa5b740 + 432 < pp.gil_switch && 0xa5b740 + 436 < pp.gil_switch);
	cr_expect_eq(pp.gil_holder, 0xa5b740 + 368);
	cr_expect_eq(pp.gil_locked, 0xa5b740 + 376);
	cr_expect_eq(pp.tstate_tid, 160);
	cr_expect_eq(py_offsets_fill(o, 0, 0x28b20, 0x959440, &pp), -EINVAL);
	/* A _PyRuntime too small to hold the GIL: no GIL waits read outside it. */
	cr_expect_eq(py_offsets_fill(o, 0xa5b740, 500, 0x959440, &pp), -EINVAL);
	cr_expect_eq(py_offsets_fill(o, UINT64_MAX - 100, 0x28b20, 0x959440, &pp), -EINVAL);
}

Test(py_offsets, offsets_outside_the_walkers_window_are_refused)
{
	struct py_offsets bad = *py_offsets_find(3, 11);
	struct py_proc pp;

	bad.frame_previous = PY_FRAME_WINDOW - 4;
	cr_expect_eq(py_offsets_fill(&bad, 1, 0x28b20, 1, &pp), -EINVAL);
	bad = *py_offsets_find(3, 11);
	bad.code_firstline = PY_CODE_WINDOW;
	cr_expect_eq(py_offsets_fill(&bad, 1, 0x28b20, 1, &pp), -EINVAL);
	bad = *py_offsets_find(3, 11);
	bad.code_qualname = PY_CODE_WINDOW - 4;
	cr_expect_eq(py_offsets_fill(&bad, 1, 0x28b20, 1, &pp), -EINVAL);
	bad = *py_offsets_find(3, 11);
	bad.frame_entry = PY_FRAME_WINDOW;
	cr_expect_eq(py_offsets_fill(&bad, 1, 0x28b20, 1, &pp), -EINVAL);
}

/* Every version's table puts co_qualname where the walker reads it (the check includes it). */
Test(py_offsets, every_layout_has_the_qualname_in_the_walkers_window)
{
	const unsigned int minors[] = { 11, 12, 13 };
	struct py_proc pp;
	size_t i;

	for (i = 0; i < sizeof(minors) / sizeof(minors[0]); i++) {
		const struct py_offsets *o = py_offsets_find(3, minors[i]);

		cr_assert_not_null(o);
		cr_assert_eq(py_offsets_fill(o, 0x1000, 0x40000, 0x2000, &pp), 0, "3.%u",
			     minors[i]);
		cr_expect_eq(pp.code_qualname, o->code_qualname, "3.%u", minors[i]);
	}
}

/*
 * The check and the frame-list hash, against values computed apart from this code (a Python
 * transcription of the formulas in include/pyframes.h): the BPF walker and userspace share
 * these functions, and a recording's pystack keys are these hashes.
 */
Test(py_hash, check_and_list_hash_match_the_reference_vector)
{
	__u32 c1 = py_code_check(3, 1, 0, 12, 0x7f0000001000ull);
	__u32 c2 = py_code_check(3, 1, 0, 1, 0x7f0000002040ull);
	__u64 h = PY_STACK_HASH_SEED;

	cr_expect_eq(c1, 0x90b0769fu);
	cr_expect_eq(c2, 0x77de090fu);
	h = py_stack_hash_step(h, 0x7f0000100000ull | PY_FRAME_ENTRY, 26, c1);
	h = py_stack_hash_step(h, PY_FRAME_ENTRY, -2, 0);
	h = py_stack_hash_step(h, 0x7f0000200000ull, -1, c2);
	cr_expect_eq(h, 0x727ffd33009318daull);
}

/* Code objects at one address with one header but other names (a freed one's address reused by
 * a function from the same template): other checks, and other frame lists. */
Test(py_hash, a_reused_address_with_another_name_is_another_list)
{
	__u32 a = py_code_check(3, 1, 0, 1, 0x7f00000a0000ull);
	__u32 b = py_code_check(3, 1, 0, 1, 0x7f00000a0040ull);
	__u64 ha = py_stack_hash_step(PY_STACK_HASH_SEED, 0x7f0000300000ull, 4, a);
	__u64 hb = py_stack_hash_step(PY_STACK_HASH_SEED, 0x7f0000300000ull, 4, b);

	cr_expect_neq(a, b);
	cr_expect_neq(ha, hb);
	cr_expect_eq(ha, py_stack_hash_step(PY_STACK_HASH_SEED, 0x7f0000300000ull, 4, a));
	/* Each header field still counts. */
	cr_expect_neq(py_code_check(3, 1, 0, 2, 0x7f00000a0000ull), a);
	cr_expect_neq(py_code_check(3, 2, 0, 1, 0x7f00000a0000ull), a);
	cr_expect_neq(py_code_check(3, 1, 1, 1, 0x7f00000a0000ull), a);
	cr_expect_neq(py_code_check(1, 1, 0, 1, 0x7f00000a0000ull), a);
}

/* A fake target: objects laid out in one buffer at address BASE. */
#define BASE	  0x10000
#define CODE_TYPE 0xc0de
static uint8_t mem[4096];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE > sizeof(mem) || len > sizeof(mem) - (addr - BASE))
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put64(size_t off, uint64_t v)
{
	memcpy(mem + off, &v, 8);
}

static void put32(size_t off, uint32_t v)
{
	memcpy(mem + off, &v, 4);
}

/* A compact ASCII str at off (state: compact, ascii, kind 1). */
static void put_ascii(const struct py_offsets *o, size_t off, const char *ascii)
{
	put64(off + o->str_length, strlen(ascii));
	put32(off + o->str_state, 1 << 7 | 1 << 6 | 1 << 5 | 1 << 2);
	memcpy(mem + off + o->str_ascii_data, ascii, strlen(ascii));
}

/* A compact UCS-2 str at off (state: compact, kind 2). */
static void put_wide(const struct py_offsets *o, size_t off, const uint16_t *wide, size_t n)
{
	put64(off + o->str_length, n);
	put32(off + o->str_state, 1 << 7 | 1 << 5 | 2 << 2);
	memcpy(mem + off + o->str_compact_data, wide, 2 * n);
}

static void fake_code(const struct py_offsets *o)
{
	uint8_t t[128];
	size_t n = unhex(real_hex, t);
	const uint16_t wide[] = { 'w', 0xf6, 'r', 'k' }; /* "wörk" */

	memset(mem, 0, sizeof(mem));
	put64(o->ob_type, CODE_TYPE);
	put32(o->code_flags, 3);
	put32(o->code_argcount, 1);
	put32(o->code_kwonly, 0);
	put32(o->code_firstline, 1);
	put64(o->code_qualname, BASE + 1024);
	put64(o->code_filename, BASE + 1536);
	put64(o->code_linetable, BASE + 2048);
	put_wide(o, 1024, wide, 4);
	put_ascii(o, 1536, "/srv/app/jobs.py");
	put64(2048 + o->bytes_size, n);
	memcpy(mem + 2048 + o->bytes_data, t, n);
}

Test(py_code, a_code_object_names_its_frames)
{
	const struct py_offsets *o = py_offsets_find(3, 11);
	struct py_code c;
	char *name;

	fake_code(o);
	cr_assert_eq(py_code_read(o, CODE_TYPE, fake_read, NULL, BASE, &c), 0);
	cr_expect_str_eq(c.qualname, "w\xc3\xb6rk");
	cr_expect_eq(c.check, py_code_check(3, 1, 0, 1, BASE + 1024));
	name = py_code_frame_name(&c, 26);
	cr_expect_str_eq(name, "w\xc3\xb6rk (jobs.py:5)");
	g_free(name);
	name = py_code_frame_name(&c, 500);
	cr_expect_str_eq(name, "w\xc3\xb6rk (jobs.py:?)");
	g_free(name);
	py_code_clear(&c);
}

Test(py_code, what_is_no_code_object_is_refused)
{
	const struct py_offsets *o = py_offsets_find(3, 11);
	struct py_code c;

	fake_code(o);
	cr_expect_eq(py_code_read(o, CODE_TYPE + 8, fake_read, NULL, BASE, &c), -EINVAL);
	cr_expect_eq(py_code_read(o, CODE_TYPE, fake_read, NULL, BASE + 4000, &c), -EFAULT);
	/* A name longer than the bound, a string of an unknown kind, a huge table. */
	put64(1024 + o->str_length, PY_NAME_MAX + 1);
	cr_expect_eq(py_code_read(o, CODE_TYPE, fake_read, NULL, BASE, &c), -EINVAL);
	fake_code(o);
	put32(1536 + o->str_state, 1 << 5 | 3 << 2);
	cr_expect_eq(py_code_read(o, CODE_TYPE, fake_read, NULL, BASE, &c), -EINVAL);
	fake_code(o);
	put64(2048 + o->bytes_size, PY_LINETABLE_MAX + 1);
	cr_expect_eq(py_code_read(o, CODE_TYPE, fake_read, NULL, BASE, &c), -EINVAL);
	cr_expect_null(c.qualname);
}

static enum py_merge_result merge_cut(const struct py_native *nat, size_t nn, bool cut,
				      const bool *entry, size_t np, char *out)
{
	int32_t idx[64];
	size_t n, i;
	enum py_merge_result r = py_merge(nat, nn, cut, entry, np, idx, &n);

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		char buf[64];

		if (idx[i] >= 0)
			snprintf(buf, sizeof(buf), "%s%s", i ? ";" : "", nat[idx[i]].name);
		else
			snprintf(buf, sizeof(buf), "%sP%d", i ? ";" : "", -1 - idx[i]);
		strcat(out, buf);
	}
	return r;
}

static enum py_merge_result merge(const struct py_native *nat, size_t nn, const bool *entry,
				  size_t np, char *out)
{
	return merge_cut(nat, nn, false, entry, np, out);
}

Test(py_merge, each_eval_frame_takes_python_frames_through_its_entry)
{
	/* Leaf first: sleeping in time.sleep, called from Python, in a thread run from C. */
	const struct py_native nat[] = {
		{ "clock_nanosleep", "libc.so.6" },
		{ "pysleep", "python3.11" },
		{ "time_sleep", "python3.11" },
		{ "_PyEval_EvalFrameDefault", "python3.11" },
		{ "_PyFunction_Vectorcall", "python3.11" },
		{ "callback_into_python", "_ext.so" },
		{ "_PyEval_EvalFrameDefault.cold", "python3.11" },
		{ "thread_run", "python3.11" },
		{ "start_thread", "libc.so.6" },
	};
	const bool entry[] = { false, true, false, false, true };
	char out[512];

	cr_expect_eq(merge(nat, 9, entry, 5, out), PY_MERGE_SPLICED);
	cr_expect_str_eq(out, "clock_nanosleep;pysleep;time_sleep;P0;P1;callback_into_python;"
			      "P2;P3;P4;start_thread");
}

Test(py_merge, stacks_short_of_the_eval_loop_get_python_frames_at_the_root)
{
	const struct py_native nat[] = { { "clock_nanosleep", "libc.so.6" },
					 { "[python3.11]+0x1234", "python3.11" } };
	const bool entry[] = { false, true };
	char out[512];

	cr_expect_eq(merge(nat, 2, entry, 2, out), PY_MERGE_ROOTED);
	cr_expect_str_eq(out, "clock_nanosleep;P0;P1");
	cr_expect_eq(merge(nat, 2, entry, 0, out), PY_MERGE_SPLICED, "no Python frames: as is");
	cr_expect_str_eq(out, "clock_nanosleep");
}

Test(py_merge, disagreements_are_reported)
{
	const struct py_native two[] = { { "_PyEval_EvalFrameDefault", "python3.11" },
					 { "_PyEval_EvalFrameDefault", "python3.11" } };
	const bool one_entry[] = { false, true };
	const bool no_entry[] = { false, false, false };
	char out[512];

	/* Two loops, one entry: the second loop has nothing left. */
	cr_expect_eq(merge(two, 2, one_entry, 2, out), PY_MERGE_MISMATCH);
	cr_expect_str_eq(out, "P0;P1");
	/* One loop, no entry: it takes all, nothing is left over. */
	cr_expect_eq(merge(two, 1, no_entry, 3, out), PY_MERGE_SPLICED);
	/* One frame left over is tolerated (pushed before its loop ran), two are not. */
	{
		const bool e[] = { true, false, true };

		cr_expect_eq(merge(two, 1, e, 2, out), PY_MERGE_SPLICED);
		cr_expect_str_eq(out, "P0;P1");
		cr_expect_eq(merge(two, 1, e, 3, out), PY_MERGE_MISMATCH);
		cr_expect_str_eq(out, "P0;P1;P2");
	}
	/* The same, from a native walk cut below its loop: the rest is expected, at the root. */
	{
		const bool e[] = { true, false, true };

		cr_expect_eq(merge_cut(two, 1, true, e, 3, out), PY_MERGE_ROOTED);
		cr_expect_str_eq(out, "P0;P1;P2");
		cr_expect_eq(merge_cut(two, 1, true, e, 1, out), PY_MERGE_SPLICED);
	}
	cr_expect(py_is_interpreter("libpython3.11.so.1.0"));
	cr_expect(!py_is_interpreter("python-helper.so"));
}
