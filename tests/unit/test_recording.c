// SPDX-License-Identifier: MIT
/*
 * Recordings: what goes in comes out (every writer renders the loaded profile byte for byte as
 * the original), and what is damaged, truncated or crafted is refused with a message.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "fixture.h"
#include "render/out_html.h"
#include "render/out_pprof.h"
#include "render/output.h"
#include "render/recording.h"

#define REGRESSIONS "tests/unit/recordings/"

static const struct {
	const char *name;
	writer_fn write;
} writers[] = {
	{ "json", write_json }, { "folded", write_folded }, { "text", fixture_write_text },
	{ "html", write_html }, { "pprof", write_pprof },   { "recording", write_recording },
};

#define NWRITERS (sizeof(writers) / sizeof(writers[0]))

struct buf {
	char *d;
	size_t len;
};

static struct buf render(const struct profile *p, writer_fn write)
{
	struct buf b = {};
	FILE *f = open_memstream(&b.d, &b.len);

	cr_assert_not_null(f);
	cr_assert_eq(fixture_write(write, p, f), 0);
	cr_assert_eq(fclose(f), 0);
	return b;
}

static struct profile *fixture(void)
{
	struct profile *p = fixture_profile();

	cr_assert_not_null(p);
	return p;
}

/* Reads a recording from memory; asserts it loads. */
static struct profile *load(const struct buf *b)
{
	struct profile *p = NULL;
	char err[256] = "unset";
	int ret = recording_read_mem(b->d, b->len, &p, err, sizeof(err));

	cr_assert_eq(ret, 0, "recording refused: %s", err);
	cr_assert_not_null(p);
	return p;
}

/* Asserts the recording is refused, with a one-line message; returns the message. */
static const char *refused(const void *data, size_t len)
{
	static char err[256];
	struct profile *p = NULL;
	int ret;

	memset(err, 0, sizeof(err));
	ret = recording_read_mem(data, len, &p, err, sizeof(err));
	cr_assert_lt(ret, 0, "a bad recording of %zu bytes was accepted", len);
	cr_assert_null(p);
	cr_assert_neq(err[0], '\0', "no message for error %d", ret);
	cr_assert_null(strchr(err, '\n'), "more than one line: %s", err);
	return err;
}

/* Every writer's output from the loaded copy equals the original's. */
static void expect_same_outputs(const struct profile *orig)
{
	struct buf rec = render(orig, write_recording), a, b;
	struct profile *copy = load(&rec);
	size_t i;

	for (i = 0; i < NWRITERS; i++) {
		a = render(orig, writers[i].write);
		b = render(copy, writers[i].write);
		cr_expect(a.len == b.len && !memcmp(a.d, b.d, a.len),
			  "%s differs after a round trip (%zu vs %zu bytes)", writers[i].name,
			  a.len, b.len);
		free(a.d);
		free(b.d);
	}
	profile__free(copy);
	free(rec.d);
}

Test(recording, fixture_round_trip_renders_identically)
{
	struct profile *p = fixture();

	expect_same_outputs(p);
	profile__free(p);
}

/* Everything the fixture leaves at its default, set: attach, interrupted, warnings, stats. */
Test(recording, every_field_round_trips)
{
	static char *cmd[] = { "1234", "x;y \"z\"\t\xff", "", NULL };
	struct profile *p = fixture();
	int i;

	p->mode = MODE_ATTACH;
	p->command = cmd;
	p->exit_status = -1;
	p->interrupted = true;
	p->window_start_ns = 0xfedcba9876543210ull;
	p->cpus = 64;
	p->sample_hz = 997;
	p->anomalies = 7;
	for (i = 0; i < STAT_MAX; i++)
		p->stats[i] = 1000 + i;
	p->unwind = calloc(2, sizeof(*p->unwind));
	cr_assert_not_null(p->unwind);
	p->nunwind = 2;
	p->unwind[0] = (struct unwind_warning){ profile__intern(p, "libc.so.6"), 5, 10, 3, 4 };
	p->unwind[1] = (struct unwind_warning){ profile__intern(p, "libfoo.so"), 1, 2, 3, 4 };
	p->threads[0].preemptions = 42;
	p->threads[1].wakeups = 123456789;
	p->threads[1].cnt[CAT_LOCK] = 77;
	p->threads[1].steal_ns = p->threads[1].ns[CAT_CPU] / 2;
	expect_same_outputs(p);
	profile__free(p);
}

Test(recording, loaded_profile_holds_the_fields)
{
	struct profile *p = fixture(), *q;
	struct buf rec;

	p->threads[2].preemptions = 99;
	p->threads[2].wakeups = 77;
	p->threads[2].steal_ns = 1234;
	p->window_start_ns = 5;
	rec = render(p, write_recording);
	q = load(&rec);
	cr_expect_eq(q->nprocs, p->nprocs);
	cr_expect_eq(q->nthreads, p->nthreads);
	cr_expect_eq(q->nstacks, p->nstacks);
	cr_expect_eq(q->window_start_ns, 5);
	cr_expect_eq(q->threads[2].preemptions, 99);
	cr_expect_eq(q->threads[2].wakeups, 77);
	cr_expect_eq(q->threads[2].steal_ns, 1234);
	cr_expect_str_eq(q->threads[2].comm, p->threads[2].comm);
	/* Derived again by profile__finish, not stored: the same totals. */
	cr_expect_arr_eq(q->procs[0].ns, p->procs[0].ns, sizeof(p->procs[0].ns));
	cr_expect_eq(q->procs[0].nthreads, p->procs[0].nthreads);
	cr_expect_eq(q->threads[2].proc, p->threads[2].proc);
	cr_expect_str_eq(q->command[0], "./server");
	cr_expect_str_eq(q->command[1], "--bench");
	cr_expect_null(q->command[2]);
	/* Interned again: equal strings share one pointer, as the writers expect. */
	cr_expect_eq(q->stacks[0].frames[0].name, q->stacks[1].frames[0].name);
	profile__free(q);
	profile__free(p);
	free(rec.d);
}

/* Python frames' files and lines, GIL waits with their holders, the walker's counts. */
Test(recording, python_fields_round_trip)
{
	struct profile *p = fixture(), *q;
	struct buf rec;
	size_t i;

	cr_assert_eq(fixture_add_python(p), 0);
	expect_same_outputs(p);
	rec = render(p, write_recording);
	q = load(&rec);
	cr_assert_eq(q->nstacks, p->nstacks);
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *a = &p->stacks[i], *b = &q->stacks[i];
		uint32_t k;

		cr_expect_eq(b->gil, a->gil);
		cr_expect_eq(b->gil_holder, a->gil_holder);
		cr_expect_str_eq(b->gil_holder_frame ? b->gil_holder_frame : "-",
				 a->gil_holder_frame ? a->gil_holder_frame : "-");
		for (k = 0; k < a->nframes; k++) {
			cr_expect_str_eq(b->frames[k].file ? b->frames[k].file : "-",
					 a->frames[k].file ? a->frames[k].file : "-");
			cr_expect_eq(b->frames[k].line, a->frames[k].line);
		}
	}
	cr_expect_arr_eq(q->py, p->py, sizeof(p->py));
	profile__free(q);
	profile__free(p);
	free(rec.d);
}

Test(recording, empty_profile_round_trips)
{
	struct profile *p = profile__new(MODE_RUN, NULL);

	cr_assert_not_null(p);
	expect_same_outputs(p);
	profile__free(p);
}

Test(recording, frame_without_a_name_is_not_written)
{
	struct profile *p = fixture();
	struct buf b;
	FILE *f = open_memstream(&b.d, &b.len);

	p->stacks[0].frames[0].name = NULL;
	cr_expect_eq(write_recording(p, NULL, f), -EINVAL);
	fclose(f);
	free(b.d);
	profile__free(p);
}

Test(recording, written_by_extension_and_read_from_a_file)
{
	char dir[] = "/tmp/concur-test-XXXXXX", path[300], err[256];
	struct profile *p = fixture(), *q = NULL;
	struct buf a, b;

	cr_assert_eq(output_format("x.concur"), OUT_RECORDING);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.concur", dir);
	cr_assert_eq(fixture_output_write(p, path), 0);
	cr_assert_eq(recording_read(path, &q, err, sizeof(err)), 0, "%s", err);
	a = render(p, write_html);
	b = render(q, write_html);
	cr_expect(a.len == b.len && !memcmp(a.d, b.d, a.len));
	free(a.d);
	free(b.d);
	unlink(path);
	rmdir(dir);
	profile__free(q);
	profile__free(p);
}

static struct buf fixture_recording(void)
{
	struct profile *p = fixture();
	struct buf b = render(p, write_recording);

	profile__free(p);
	return b;
}

Test(recording, every_truncation_is_refused)
{
	struct buf b = fixture_recording();
	size_t n;

	for (n = 0; n < b.len; n++)
		refused(b.d, n);
	free(b.d);
}

Test(recording, every_single_byte_corruption_is_refused)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff, 0x5a };
	struct buf b = fixture_recording();
	size_t i, k;

	for (i = 0; i < b.len; i++)
		for (k = 0; k < sizeof(flips); k++) {
			b.d[i] ^= flips[k];
			refused(b.d, b.len);
			b.d[i] ^= flips[k];
		}
	free(b.d);
}

Test(recording, wrong_magic_is_not_a_recording)
{
	struct buf b = fixture_recording();

	b.d[0] = 'X';
	cr_expect_str_eq(refused(b.d, b.len), "not a concur recording");
	cr_expect_str_eq(refused("{\"schema\": 1}", 13), "not a concur recording");
	free(b.d);
}

Test(recording, other_format_version_is_named)
{
	struct buf b = fixture_recording();
	const char *msg;

	b.d[9] = 77; /* the u32 after the 9-byte magic */
	msg = refused(b.d, b.len);
	cr_expect(strstr(msg, "format version 77"), "%s", msg);
	cr_expect(strstr(msg, "written by concur " CONCUR_VERSION), "%s", msg);
	free(b.d);
}

Test(recording, bytes_after_the_end_are_refused)
{
	struct buf b = fixture_recording();
	char *more = malloc(b.len + 1);

	memcpy(more, b.d, b.len);
	more[b.len] = 0;
	refused(more, b.len + 1);
	free(more);
	free(b.d);
}

/* ---- Crafted bodies, wrapped with valid checksums: the parser must hold on its own ---- */

struct body {
	uint8_t *d;
	size_t len, cap;
};

static void bput(struct body *b, uint64_t v, int bytes)
{
	int i;

	if (b->len + bytes > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->d = realloc(b->d, b->cap);
		cr_assert_not_null(b->d);
	}
	for (i = 0; i < bytes; i++)
		b->d[b->len++] = v >> (8 * i);
}

#define U8(b, v)  bput(b, v, 1)
#define U32(b, v) bput(b, v, 4)
#define U64(b, v) bput(b, v, 8)

/* The table loader's figures of a run without --unwind=cfi: all zero. */
static void no_utables(struct body *b)
{
	int i;

	for (i = 0; i < 8; i++)
		U32(b, 0);
}

/* The profile section with nstats counters, as the format's comment lays it out. */
static void scalars(struct body *b, uint32_t ncats, uint32_t nstats)
{
	uint32_t i;

	U32(b, ncats);
	U32(b, nstats);
	U32(b, MODE_RUN);
	U32(b, 3);	    /* exit_status */
	U8(b, 0);	    /* interrupted */
	U64(b, 1000);	    /* window_start_ns */
	U64(b, 2000000000); /* window_ns */
	U32(b, 4);	    /* cpus */
	U32(b, 99);	    /* sample_hz */
	U64(b, 0);	    /* anomalies */
	for (i = 0; i < nstats; i++)
		U64(b, i + 1);
	U64(b, 0); /* throttled_ns */
	U64(b, 0); /* nr_throttled */
}

static void string(struct body *b, const char *s)
{
	U32(b, strlen(s));
	while (*s)
		U8(b, *s++);
}

/* Two strings ("main", "prog"), a command of one, and no records yet. */
static void prologue(struct body *b)
{
	scalars(b, CAT_MAX, STAT_MAX);
	U32(b, 2);
	string(b, "main");
	string(b, "prog");
	U32(b, 1);
	U32(b, 1); /* argv[0]: "prog" */
}

/* One stack of one frame in category cat, with the given name index and kernel flag. */
static void one_stack(struct body *b, uint32_t cat, uint32_t nframes, uint32_t name, uint8_t kernel)
{
	U32(b, 1);
	U32(b, 10);
	U32(b, 10);
	U32(b, cat);
	U64(b, 1000000);
	U64(b, 1);
	U8(b, 0);  /* no GIL wait, */
	U32(b, 0); /* no holder, */
	U8(b, 0);  /* nor its function */
	U32(b, nframes);
	if (nframes == 1) {
		U64(b, 0x401000);
		U32(b, name);
		U32(b, 1);
		U8(b, kernel);
		U8(b, 0); /* no source file */
	}
}

/* The Python walker's counts: none. */
static void no_py_counts(struct body *b)
{
	U32(b, 0);
}

static struct buf wrap(const struct body *b)
{
	struct buf out = {};
	FILE *f = open_memstream(&out.d, &out.len);

	cr_assert_eq(recording_write_body(b->d, b->len, f), 0);
	fclose(f);
	return out;
}

/* A body with no processes, threads or unwind warnings around a stack section. */
static struct buf with_stacks(uint32_t cat, uint32_t nframes, uint32_t name, uint8_t kernel)
{
	struct body b = {};
	struct buf out;

	prologue(&b);
	U32(&b, 0); /* processes */
	U32(&b, 0); /* threads */
	one_stack(&b, cat, nframes, name, kernel);
	U32(&b, 0);		  /* unwind warnings */
	U32(&b, 0);		  /* futexes */
	U32(&b, UNWIND_STOP_MAX); /* unwind stops: the reasons, */
	U32(&b, 0);		  /* and no object */
	no_py_counts(&b);
	no_utables(&b);
	out = wrap(&b);
	free(b.d);
	return out;
}

static void expect_refused(struct buf r, const char *needle)
{
	const char *msg = refused(r.d, r.len);

	cr_expect_not_null(strstr(msg, needle), "'%s' does not say '%s'", msg, needle);
	free(r.d);
}

Test(recording, crafted_minimal_body_loads_and_renders)
{
	struct buf r = with_stacks(CAT_LOCK, 1, 0, 0), out;
	struct profile *p = load(&r);
	size_t i;

	cr_expect_eq(p->nstacks, 1);
	cr_expect_str_eq(p->stacks[0].frames[0].name, "main");
	cr_expect_eq(p->exit_status, 3);
	cr_expect_eq(p->stats[STAT_MAX - 1], STAT_MAX);
	for (i = 0; i < NWRITERS; i++) {
		out = render(p, writers[i].write);
		free(out.d);
	}
	profile__free(p);
	free(r.d);
}

Test(recording, crafted_bad_fields_are_refused)
{
	expect_refused(with_stacks(CAT_MAX, 1, 0, 0), "category out of range");
	expect_refused(with_stacks(CAT_CPU, 1, 2, 0), "string 2 of 2");
	expect_refused(with_stacks(CAT_CPU, 1, 0xffffffff, 0), "string 4294967295 of 2");
	expect_refused(with_stacks(CAT_CPU, 1, 0, 2), "neither 0 nor 1");
	expect_refused(with_stacks(CAT_CPU, 0x7fffffff, 0, 0), "more than 4096");
	expect_refused(with_stacks(CAT_CPU, 100, 0, 0), "100 records cannot fit");
}

Test(recording, crafted_huge_counts_are_refused_before_allocating)
{
	static const uint32_t huge[] = { 0xffffffff, 0x80000000, 0x10000000, 1000 };
	struct body b;
	size_t i;

	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		b = (struct body){};
		scalars(&b, CAT_MAX, STAT_MAX);
		U32(&b, huge[i]); /* strings, with nothing behind them */
		expect_refused(wrap(&b), "cannot fit");
		free(b.d);

		b = (struct body){};
		prologue(&b);
		U32(&b, huge[i]); /* processes */
		U32(&b, 0);
		expect_refused(wrap(&b), "cannot fit");
		free(b.d);

		b = (struct body){};
		prologue(&b);
		U32(&b, 0);
		U32(&b, huge[i]); /* threads */
		expect_refused(wrap(&b), "cannot fit");
		free(b.d);
	}
}

Test(recording, crafted_structure_errors_are_refused)
{
	struct body b = {};

	scalars(&b, CAT_MAX + 1, STAT_MAX);
	expect_refused(wrap(&b), "categories");
	free(b.d);

	b = (struct body){};
	scalars(&b, CAT_MAX, STAT_MAX);
	U32(&b, 1);
	U32(&b, 3);
	U8(&b, 'a');
	U8(&b, 0);
	U8(&b, 'b');
	expect_refused(wrap(&b), "NUL");
	free(b.d);

	b = (struct body){};
	prologue(&b);
	U32(&b, 0);
	U32(&b, 0);
	U32(&b, 0);
	U32(&b, 0);
	U32(&b, 0);
	U32(&b, UNWIND_STOP_MAX);
	U32(&b, 0);
	no_py_counts(&b);
	no_utables(&b);
	U8(&b, 0); /* one byte too many */
	expect_refused(wrap(&b), "after the last section");
	free(b.d);

	b = (struct body){};
	prologue(&b);
	U32(&b, 0);
	U32(&b, 0); /* and then nothing: no stacks, no unwind warnings */
	expect_refused(wrap(&b), "ends early");
	free(b.d);

	expect_refused(wrap(&(struct body){}), "ends early");
}

/* Every section after the scalars, empty: strings, argv, processes, threads, stacks, unwind
 * warnings, futexes, unwind stops (its number of reasons, then none). */
static void empty_sections(struct body *b)
{
	int i;

	for (i = 0; i < 7; i++)
		U32(b, 0);
	U32(b, UNWIND_STOP_MAX);
	U32(b, 0);
	no_py_counts(b);
	no_utables(b);
}

/* The CFI unwinder's stop reasons survive a recording; a later concur's extra reasons are
 * skipped, and an absurd count of them refused. */
Test(recording, unwind_stops_round_trip)
{
	struct profile *p = fixture(), *q;
	struct buf r, a, b;
	struct body body = {};
	int k;

	p->ustops = calloc(2, sizeof(*p->ustops));
	p->nustops = 2;
	p->ustops[0].module = profile__intern(p, "libfoo.so");
	p->ustops[1].module = profile__intern(p, "[unknown]");
	for (k = 0; k < UNWIND_STOP_MAX; k++)
		p->ustops[0].stop[k] = 10 + k;
	p->ustops[0].fp_frames = 77;
	p->ustops[1].stop[UNWIND_STOP_FP_FALLBACK] = 5;
	r = render(p, write_recording);
	q = load(&r);
	cr_assert_eq(q->nustops, 2);
	cr_expect_str_eq(q->ustops[0].module, "libfoo.so");
	cr_expect_eq(q->ustops[0].stop[UNWIND_STOP_BAD_FRAME], 10 + UNWIND_STOP_BAD_FRAME);
	cr_expect_eq(q->ustops[0].fp_frames, 77);
	cr_expect_eq(q->ustops[1].stop[UNWIND_STOP_FP_FALLBACK], 5);
	a = render(p, fixture_write_text);
	b = render(q, fixture_write_text);
	cr_expect(a.len == b.len && !memcmp(a.d, b.d, a.len));
	cr_expect_not_null(strstr(a.d, "walks stopped early in libfoo.so: no table 12"), "%s", a.d);
	free(a.d);
	free(b.d);
	a = render(q, write_json);
	cr_expect_not_null(strstr(a.d, "\"no_table\": 12"), "%s", a.d);
	free(a.d);
	free(r.d);
	profile__free(q);
	profile__free(p);

	/* Two more reasons than this concur knows: skipped, fp_frames still found after them. */
	prologue(&body);
	for (k = 0; k < 5; k++)
		U32(&body, 0); /* processes, threads, stacks, unwind warnings, futexes */
	U32(&body, UNWIND_STOP_MAX + 2);
	U32(&body, 1);
	U32(&body, 1); /* module: "prog" */
	for (k = 0; k < UNWIND_STOP_MAX + 2; k++)
		U64(&body, 100 + k);
	U64(&body, 9); /* fp_frames */
	no_py_counts(&body);
	no_utables(&body);
	r = wrap(&body);
	q = load(&r);
	cr_assert_eq(q->nustops, 1);
	cr_expect_str_eq(q->ustops[0].module, "prog");
	cr_expect_eq(q->ustops[0].stop[UNWIND_STOP_MAX - 1], 100 + UNWIND_STOP_MAX - 1);
	cr_expect_eq(q->ustops[0].fp_frames, 9);
	profile__free(q);
	free(r.d);
	free(body.d);
	body = (struct body){};
	prologue(&body);
	for (k = 0; k < 5; k++)
		U32(&body, 0);
	U32(&body, 5000);
	U32(&body, 0);
	expect_refused(wrap(&body), "unwind stop reasons");
	free(body.d);
}

/* Counters a later concur adds are skipped; ones an earlier one lacked are zero. */
Test(recording, stats_count_may_differ)
{
	struct body b = {};
	struct buf r;
	struct profile *p;

	scalars(&b, CAT_MAX, STAT_MAX + 3);
	empty_sections(&b);
	r = wrap(&b);
	p = load(&r);
	cr_expect_eq(p->stats[STAT_MAX - 1], STAT_MAX);
	cr_expect_null(p->command[0]);
	profile__free(p);
	free(r.d);
	free(b.d);

	b = (struct body){};
	scalars(&b, CAT_MAX, 1);
	empty_sections(&b);
	r = wrap(&b);
	p = load(&r);
	cr_expect_eq(p->stats[0], 1);
	cr_expect_eq(p->stats[1], 0);
	profile__free(p);
	free(r.d);
	free(b.d);
}

/* Header fields patched after writing, with the file checksum made right again. */
static void fix_file_crc(struct buf *b)
{
	uint32_t crc = crc32(0, (const Bytef *)b->d, b->len - 4);
	int i;

	for (i = 0; i < 4; i++)
		b->d[b->len - 4 + i] = crc >> (8 * i);
}

/* The offset of the u64 body size: magic, version, the length-prefixed version string. */
static size_t body_size_offset(const struct buf *b)
{
	return 9 + 4 + 1 + (uint8_t)b->d[13];
}

static void set_u64(struct buf *b, size_t off, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b->d[off + i] = v >> (8 * i);
}

Test(recording, declared_body_size_must_be_true_and_bounded)
{
	static const uint64_t lies[] = { 0, 1, 100, 2000, 1ull << 30, (1ull << 30) + 1, ~0ull };
	struct buf b;
	size_t i, off;
	uint64_t real;

	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		b = fixture_recording();
		off = body_size_offset(&b);
		real = 0;
		memcpy(&real, b.d + off, 8); /* little-endian host */
		if (lies[i] == real)
			continue;
		set_u64(&b, off, lies[i]);
		fix_file_crc(&b);
		refused(b.d, b.len);
		free(b.d);
	}
	/* A compressed size pointing past the end, or short of it. */
	b = fixture_recording();
	set_u64(&b, body_size_offset(&b) + 8, b.len);
	fix_file_crc(&b);
	cr_expect_not_null(strstr(refused(b.d, b.len), "truncated"));
	free(b.d);
	b = fixture_recording();
	set_u64(&b, body_size_offset(&b) + 8, 10);
	fix_file_crc(&b);
	refused(b.d, b.len);
	free(b.d);
}

/* The zlib stream's own checks hold even where the body's CRC would not see a difference: a
 * wrong Adler-32 trailer over a right body, and bytes after the stream's end. */
Test(recording, zlib_trailer_and_bytes_after_the_stream_are_refused)
{
	struct buf b = fixture_recording();
	size_t zlen_off = body_size_offset(&b) + 8;
	uint64_t zlen;
	char *more;

	b.d[b.len - 5] ^= 1; /* the Adler-32's last byte, just before the file's CRC */
	fix_file_crc(&b);
	cr_expect_not_null(strstr(refused(b.d, b.len), "does not inflate"));
	b.d[b.len - 5] ^= 1;
	more = malloc(b.len + 1);
	cr_assert_not_null(more);
	memcpy(more, b.d, b.len - 4);
	more[b.len - 4] = 0;		  /* one byte more in the compressed part, declared */
	memcpy(&zlen, b.d + zlen_off, 8); /* little-endian host */
	free(b.d);
	b.d = more;
	b.len++;
	set_u64(&b, zlen_off, zlen + 1);
	fix_file_crc(&b);
	cr_expect_not_null(strstr(refused(b.d, b.len), "does not inflate"));
	free(b.d);
}

Test(recording, empty_directory_and_missing_files_are_refused)
{
	char dir[] = "/tmp/concur-test-XXXXXX", path[300], err[256];
	struct profile *p = NULL;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/empty.concur", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_expect_lt(recording_read(path, &p, err, sizeof(err)), 0);
	cr_expect_str_eq(err, "not a concur recording");
	cr_expect_eq(recording_read(dir, &p, err, sizeof(err)), -EISDIR);
	cr_expect_str_eq(err, strerror(EISDIR));
	unlink(path);
	cr_expect_eq(recording_read(path, &p, err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, strerror(ENOENT));
	cr_expect_null(p);
	rmdir(dir);
}

/* A whole file in memory. */
static struct buf slurp(const char *path)
{
	struct buf b = {};
	FILE *f = fopen(path, "r");
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b.d = malloc(n ? n : 1);
	cr_assert_not_null(b.d);
	cr_assert_eq(fread(b.d, 1, n, f), (size_t)n);
	fclose(f);
	b.len = n;
	return b;
}

/*
 * Inputs the fuzzer found, as it wrote them (tools/fuzz/fuzz_recording.c: a first byte that
 * says whether the rest is a whole file or a body to wrap). Each is read the way the harness
 * reads it and, when it loads, rendered by every writer. Names say what is expected: bad-*
 * must be refused, ok-* must load.
 */
static int read_fuzz_input(const struct buf *in, struct profile **p, char *err, size_t errlen)
{
	struct body body = { .d = (uint8_t *)in->d + 1, .len = in->len - 1 };
	struct buf file;
	int ret;

	cr_assert_gt(in->len, 0);
	if (!(in->d[0] & 1))
		return recording_read_mem(in->d + 1, in->len - 1, p, err, errlen);
	file = wrap(&body);
	ret = recording_read_mem(file.d, file.len, p, err, errlen);
	free(file.d);
	return ret;
}

Test(recording, fuzzer_regressions)
{
	DIR *d = opendir(REGRESSIONS);
	struct dirent *e;
	char path[512], err[256];
	struct profile *p;
	struct buf in, out;
	size_t i, n = 0;
	int ret;

	cr_assert_not_null(d, "cannot open " REGRESSIONS);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), REGRESSIONS "%s", e->d_name);
		in = slurp(path);
		p = NULL;
		ret = read_fuzz_input(&in, &p, err, sizeof(err));
		if (!strncmp(e->d_name, "bad-", 4))
			cr_expect_lt(ret, 0, "%s was accepted", e->d_name);
		if (!strncmp(e->d_name, "ok-", 3))
			cr_expect_eq(ret, 0, "%s: %s", e->d_name, err);
		for (i = 0; !ret && i < NWRITERS; i++) {
			out = render(p, writers[i].write);
			free(out.d);
		}
		profile__free(p);
		free(in.d);
		n++;
	}
	closedir(d);
	cr_expect_gt(n, 0, "no regression inputs in " REGRESSIONS);
}

/* The probes' capture figures (stack cache, CFI walks, --bench-timing) survive a recording
 * and show in the JSON's stacks, each group only when one of its counters is not zero: a
 * recording without them renders as before. */
Test(recording, capture_figures_in_json)
{
	struct profile *p = fixture(), *q;
	struct buf r, a;
	const char *at;
	int i;

	a = render(p, write_json);
	cr_expect_null(strstr(a.d, "\"cache\""), "%s", a.d);
	cr_expect_null(strstr(a.d, "\"cfi\""), "%s", a.d);
	cr_expect_null(strstr(a.d, "\"timing\""), "%s", a.d);
	free(a.d);
	p->stats[STAT_CACHE_HITS] = 630;
	p->stats[STAT_CACHE_MISSES] = 10;
	p->stats[STAT_CFI_FRAMES] = 7; /* one counter of a group is enough to show it */
	r = render(p, write_recording);
	q = load(&r);
	for (i = 0; i < STAT_MAX; i++)
		cr_expect_eq(q->stats[i], p->stats[i], "%s", stat_keys[i]);
	a = render(q, write_json);
	{
		static const char *const want[] = { "\"maps_lost\"",	   "\"cache\": {",
						    "\"cache_hits\": 630", "\"cache_misses\": 10",
						    "\"cfi\": {",	   "\"cfi_walks\": 0",
						    "\"cfi_frames\": 7",   "\"unwind_warnings\"" };

		at = a.d;
		for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
			at = strstr(at, want[i]);
			cr_assert_not_null(at, "%s not found in order: %s", want[i], a.d);
		}
	}
	cr_expect_null(strstr(a.d, "\"timing\""), "%s", a.d);
	free(a.d);
	free(r.d);
	profile__free(q);
	profile__free(p);
}

/* The CFI table loader's figures survive a recording, show in the JSON and, when an object
 * was left without a table, in a text note; figures that cannot be are refused. */
Test(recording, unwind_tables_round_trip)
{
	struct profile *p = fixture(), *q;
	struct body body = {};
	struct buf r, a, b;
	int i;

	a = render(p, fixture_write_text);
	cr_expect_null(strstr(a.d, "no unwind table"), "no note without --unwind=cfi: %s", a.d);
	free(a.d);
	a = render(p, write_json);
	cr_expect_null(strstr(a.d, "unwind_tables"), "%s", a.d);
	free(a.d);
	p->utables = (struct unwind_tables){ 9, 6, 1, 2, 1000, 1048576, 300, 16384 };
	r = render(p, write_recording);
	q = load(&r);
	cr_expect_eq(memcmp(&q->utables, &p->utables, sizeof(p->utables)), 0);
	a = render(p, fixture_write_text);
	b = render(q, fixture_write_text);
	cr_expect(a.len == b.len && !memcmp(a.d, b.d, a.len));
	cr_expect_not_null(strstr(a.d, "3 of 9 objects have no unwind table (walked by frame "
				       "pointers): 1 without usable CFI, 2 because the tables were "
				       "full (1000 of 1048576 rows, 300 of 16384 rules)"),
			   "%s", a.d);
	free(a.d);
	free(b.d);
	a = render(q, write_json);
	{
		static const char *const want[] = { "\"unwind_tables\": {",   "\"objects\": 9,",
						    "\"tables\": 6,",	      "\"no_cfi\": 1,",
						    "\"full\": 2,",	      "\"rows\": 1000,",
						    "\"max_rows\": 1048576,", "\"rules\": 300,",
						    "\"max_rules\": 16384" };
		const char *at = a.d;

		/* In this order, inside the object. */
		for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
			at = strstr(at, want[i]);
			cr_assert_not_null(at, "%s not found in order: %s", want[i], a.d);
		}
	}
	free(a.d);
	/* All in a table: the JSON has the figures, the text no note. */
	q->utables.tables = 9;
	q->utables.no_cfi = q->utables.full = 0;
	a = render(q, fixture_write_text);
	cr_expect_null(strstr(a.d, "no unwind table"), "%s", a.d);
	free(a.d);
	free(r.d);
	profile__free(q);
	profile__free(p);

	/* More rows used than there are, or objects counted twice: refused. */
	for (i = 0; i < 2; i++) {
		body = (struct body){};
		prologue(&body);
		for (int k = 0; k < 5; k++)
			U32(&body, 0);
		U32(&body, UNWIND_STOP_MAX);
		U32(&body, 0);
		no_py_counts(&body);
		U32(&body, 3);		 /* objects */
		U32(&body, i ? 3 : 1);	 /* tables */
		U32(&body, i ? 1 : 0);	 /* no_cfi */
		U32(&body, 0);		 /* full */
		U32(&body, i ? 10 : 11); /* rows */
		U32(&body, 10);		 /* max_rows */
		U32(&body, 1);		 /* rules */
		U32(&body, 10);		 /* max_rules */
		expect_refused(wrap(&body), "do not add up");
		free(body.d);
	}
}
