// SPDX-License-Identifier: MIT
/*
 * Recordings (.concur), the writer: the whole profile, so that any report can be rendered later, elsewhere,
 * without root or a kernel (`concur report FILE.concur`).
 *
 * Integers are little-endian and fixed-width; every variable-length thing has an explicit
 * count or length in front of it. The file:
 *
 *   "CONCURREC"                  9 bytes, the magic
 *   u32 format version           REC_FORMAT (10); a reader refuses any other
 *   u8 n, n bytes                the concur version that wrote it ("0.1.0"), printable ASCII
 *   u64 body size                uncompressed, at most 1 GiB
 *   u64 compressed size          C: the zlib stream that follows
 *   u32 CRC32 of the body        (uncompressed)
 *   C bytes                      the body, zlib-compressed (compress2)
 *   u32 CRC32 of the file        every byte before this one; nothing follows
 *
 * The first three fields stay where they are in every format version, so that a reader can
 * always say which version and which concur wrote a file it cannot read.
 *
 * The body (u8 flags are 0 or 1; "str" is a u32 index into the string table):
 *
 *   u32 CAT_MAX, u32 nstats            categories (must match), counters (extra ones ignored)
 *   u32 mode, i32 exit_status, u8 interrupted, u64 window_start_ns, u64 window_ns,
 *   i32 cpus, u32 sample_hz, u64 anomalies, nstats x u64 stats,
 *   u64 throttled_ns, u64 nr_throttled (format 6)
 *   u32 nstrings, each: u32 len, len bytes (no NUL)
 *   u32 argc, argc x str               the command line
 *   u32 nprocs, each: u32 pid, u32 ppid, u64 start_ns, u64 end_ns, u8 exited, 16 bytes comm,
 *       16 bytes runtime, u32 cpus, u32 peak_running, u64 rss_kb,
 *       u64 throttled_ns, u64 nr_throttled (format 6),
 *       u32 nother, each: i32 nr, u64 ns, u64 count
 *   u32 nthreads, each: u32 pid, u32 tid, 16 bytes comm, u64 start_ns, u64 end_ns, u8 exited,
 *       CAT_MAX x u64 ns, CAT_MAX x u64 count, u64 preemptions, u64 wakeups,
 *       u64 steal_ns (format 7), u64 cpu_stalls, u64 cpu_stall_ns, u64 cpu_stall_max_ns
 *       (format 11)
 *   u32 nstacks, each: u32 pid, u32 tid, u32 cat, u64 ns, u64 count,
 *       u8 gil (enum stack_gil), u32 gil_holder, u8 named, when named: str gil_holder_frame
 *       (format 9), u32 nframes,
 *       each: u64 ip, str name, str module, u8 kernel, u8 sourced, when sourced: str file,
 *       u32 line (format 9)
 *   u32 nunwind, each: str module, u64 shallow_ns, u64 total_ns, u64 shallow_stacks, u64 stacks
 *   u32 nfutexes, each: u32 pid, u32 tid, u64 addr, u64 ns, u64 count, u8 named, and when named:
 *       str symbol, str module, u64 offset
 *   u32 nreasons, u32 nustops, each: str module, nreasons x u64 walks ended, u64 fp_frames
 *       (format 8: the CFI unwinder's stop reasons by object; a reader ignores reasons it
 *       does not know)
 *   u32 npy, npy x u64                 the Python walker's counts (enum py_count; format 9; a
 *                                      reader ignores counts it does not know)
 *   u32 objects, tables, no_cfi, full, rows, max_rows, rules, max_rules
 *       (format 10: the CFI unwinder's table loader; all 0 without --unwind=cfi)
 *
 * What profile__finish() derives (a process's totals and threads, each thread's process) is
 * not stored: the reader finishes the profile it builds, as collecting does.
 *
 * The reader takes the file as hostile: every count is checked against the bytes left before
 * anything is allocated for it, every index and category against its range, and the body
 * must be consumed exactly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <zlib.h>
#include "recording_format.h"

/* GLib aborts when memory runs out, so a put cannot fail and the puts carry no error. */
static void put(GByteArray *o, const void *src, size_t n)
{
	g_byte_array_append(o, src, n);
}

static void put_le(GByteArray *o, uint64_t v, int bytes)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < bytes; i++)
		b[i] = v >> (8 * i);
	put(o, b, bytes);
}

static void put_u8(GByteArray *o, uint8_t v)
{
	put_le(o, v, 1);
}

static void put_u32(GByteArray *o, uint32_t v)
{
	put_le(o, v, 4);
}

static void put_i32(GByteArray *o, int32_t v)
{
	put_le(o, (uint32_t)v, 4);
}

static void put_u64(GByteArray *o, uint64_t v)
{
	put_le(o, v, 8);
}

/*
 * The string table being written: index by pointer. The profile interns its strings, so one
 * pointer per distinct string; a string that is not interned (the command line) may appear
 * twice, which the reader's interning undoes.
 */
struct strmap {
	GPtrArray *v;	   /* the strings, in the table's order */
	GHashTable *index; /* string → its index in v */
};

static int strmap_add(struct strmap *m, const char *s)
{
	if (!s)
		return -EINVAL; /* a frame without a name: the tracer never makes one */
	if (!g_hash_table_contains(m->index, s)) {
		g_hash_table_insert(m->index, (gpointer)s, GUINT_TO_POINTER(m->v->len));
		g_ptr_array_add(m->v, (gpointer)s);
	}
	return 0;
}

static uint32_t strmap_index(const struct strmap *m, const char *s)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(m->index, s));
}

static int collect_strings(const struct profile *p, struct strmap *m)
{
	size_t i;
	uint32_t j;
	int err = 0;

	for (i = 0; !err && p->command && p->command[i]; i++)
		err = strmap_add(m, p->command[i]);
	for (i = 0; !err && i < p->nstacks; i++) {
		for (j = 0; !err && j < p->stacks[i].nframes; j++) {
			err = strmap_add(m, p->stacks[i].frames[j].name);
			if (!err)
				err = strmap_add(m, p->stacks[i].frames[j].module);
			if (!err && p->stacks[i].frames[j].file)
				err = strmap_add(m, p->stacks[i].frames[j].file);
		}
		if (!err && p->stacks[i].gil_holder_frame)
			err = strmap_add(m, p->stacks[i].gil_holder_frame);
	}
	for (i = 0; !err && i < p->nunwind; i++)
		err = strmap_add(m, p->unwind[i].module);
	for (i = 0; !err && i < p->nfutexes; i++)
		if (p->futexes[i].symbol) {
			err = strmap_add(m, p->futexes[i].symbol);
			if (!err)
				err = strmap_add(m, p->futexes[i].module);
		}
	for (i = 0; !err && i < p->nustops; i++)
		err = strmap_add(m, p->ustops[i].module);
	return err;
}

static void put_scalars(GByteArray *o, const struct profile *p)
{
	int i;

	put_u32(o, CAT_MAX);
	put_u32(o, STAT_MAX);
	put_u32(o, p->mode);
	put_i32(o, p->exit_status);
	put_u8(o, p->interrupted);
	put_u64(o, p->window_start_ns);
	put_u64(o, p->window_ns);
	put_i32(o, p->cpus);
	put_u32(o, p->sample_hz);
	put_u64(o, p->anomalies);
	for (i = 0; i < STAT_MAX; i++)
		put_u64(o, p->stats[i]);
	put_u64(o, p->throttled_ns);
	put_u64(o, p->nr_throttled);
}

static void put_strings(GByteArray *o, const struct profile *p, const struct strmap *m)
{
	size_t i, argc = 0, len;

	put_u32(o, m->v->len);
	for (i = 0; i < m->v->len; i++) {
		len = strlen(g_ptr_array_index(m->v, i));
		put_u32(o, len);
		put(o, g_ptr_array_index(m->v, i), len);
	}
	while (p->command && p->command[argc])
		argc++;
	put_u32(o, argc);
	for (i = 0; i < argc; i++)
		put_u32(o, strmap_index(m, p->command[i]));
}

static void put_cats(GByteArray *o, const uint64_t v[CAT_MAX])
{
	int c;

	for (c = 0; c < CAT_MAX; c++)
		put_u64(o, v[c]);
}

static void put_procs(GByteArray *o, const struct profile *p)
{
	size_t i, k;

	put_u32(o, p->nprocs);
	for (i = 0; i < p->nprocs; i++) {
		const struct proc *pr = &p->procs[i];

		put_u32(o, pr->pid);
		put_u32(o, pr->ppid);
		put_u64(o, pr->start_ns);
		put_u64(o, pr->end_ns);
		put_u8(o, pr->exited);
		put(o, pr->comm, CONCUR_COMM_LEN);
		put(o, pr->runtime, sizeof(pr->runtime));
		put_u32(o, pr->cpus);
		put_u32(o, pr->peak_running);
		put_u64(o, pr->rss_kb);
		put_u64(o, pr->throttled_ns);
		put_u64(o, pr->nr_throttled);
		put_u32(o, pr->nother);
		for (k = 0; k < pr->nother; k++) {
			put_i32(o, pr->other[k].nr);
			put_u64(o, pr->other[k].ns);
			put_u64(o, pr->other[k].cnt);
		}
	}
}

static void put_threads(GByteArray *o, const struct profile *p)
{
	size_t i;

	put_u32(o, p->nthreads);
	for (i = 0; i < p->nthreads; i++) {
		const struct thread *t = &p->threads[i];

		put_u32(o, t->pid);
		put_u32(o, t->tid);
		put(o, t->comm, CONCUR_COMM_LEN);
		put_u64(o, t->start_ns);
		put_u64(o, t->end_ns);
		put_u8(o, t->exited);
		put_cats(o, t->ns);
		put_cats(o, t->cnt);
		put_u64(o, t->preemptions);
		put_u64(o, t->wakeups);
		put_u64(o, t->steal_ns);
		put_u64(o, t->cpu_stalls);
		put_u64(o, t->cpu_stall_ns);
		put_u64(o, t->cpu_stall_max_ns);
	}
}

static void put_stacks(GByteArray *o, const struct profile *p, const struct strmap *m)
{
	size_t i;
	uint32_t j;

	put_u32(o, p->nstacks);
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *st = &p->stacks[i];

		put_u32(o, st->pid);
		put_u32(o, st->tid);
		put_u32(o, st->cat);
		put_u64(o, st->ns);
		put_u64(o, st->count);
		put_u8(o, (uint8_t)st->gil);
		put_u32(o, st->gil_holder);
		put_u8(o, st->gil_holder_frame != NULL);
		if (st->gil_holder_frame)
			put_u32(o, strmap_index(m, st->gil_holder_frame));
		put_u32(o, st->nframes);
		for (j = 0; j < st->nframes; j++) {
			const struct frame *f = &st->frames[j];

			put_u64(o, f->ip);
			put_u32(o, strmap_index(m, f->name));
			put_u32(o, strmap_index(m, f->module));
			put_u8(o, f->kernel);
			put_u8(o, f->file != NULL);
			if (!f->file)
				continue;
			put_u32(o, strmap_index(m, f->file));
			put_u32(o, f->line);
		}
	}
}

static void put_unwind(GByteArray *o, const struct profile *p, const struct strmap *m)
{
	size_t i;

	put_u32(o, p->nunwind);
	for (i = 0; i < p->nunwind; i++) {
		put_u32(o, strmap_index(m, p->unwind[i].module));
		put_u64(o, p->unwind[i].shallow_ns);
		put_u64(o, p->unwind[i].total_ns);
		put_u64(o, p->unwind[i].shallow_stacks);
		put_u64(o, p->unwind[i].stacks);
	}
}

static void put_futexes(GByteArray *o, const struct profile *p, const struct strmap *m)
{
	size_t i;

	put_u32(o, p->nfutexes);
	for (i = 0; i < p->nfutexes; i++) {
		const struct futex_wait *fw = &p->futexes[i];

		put_u32(o, fw->pid);
		put_u32(o, fw->tid);
		put_u64(o, fw->addr);
		put_u64(o, fw->ns);
		put_u64(o, fw->count);
		put_u8(o, fw->symbol != NULL);
		if (!fw->symbol)
			continue;
		put_u32(o, strmap_index(m, fw->symbol));
		put_u32(o, strmap_index(m, fw->module));
		put_u64(o, fw->offset);
	}
}

static void put_ustops(GByteArray *o, const struct profile *p, const struct strmap *m)
{
	size_t i, k;

	put_u32(o, UNWIND_STOP_MAX);
	put_u32(o, p->nustops);
	for (i = 0; i < p->nustops; i++) {
		put_u32(o, strmap_index(m, p->ustops[i].module));
		for (k = 0; k < UNWIND_STOP_MAX; k++)
			put_u64(o, p->ustops[i].stop[k]);
		put_u64(o, p->ustops[i].fp_frames);
	}
}

static void put_py(GByteArray *o, const struct profile *p)
{
	size_t k;

	put_u32(o, PYC_MAX);
	for (k = 0; k < PYC_MAX; k++)
		put_u64(o, p->py[k]);
}

static void put_utables(GByteArray *o, const struct profile *p)
{
	const struct unwind_tables *t = &p->utables;
	const uint32_t v[] = { t->objects, t->tables,	t->no_cfi, t->full,
			       t->rows,	   t->max_rows, t->rules,  t->max_rules };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		put_u32(o, v[i]);
}

/* Counts are u32 in the file: a profile with more of anything cannot be written. */
static bool fits_u32(const struct profile *p)
{
	size_t i;

	if (p->nprocs > UINT32_MAX || p->nthreads > UINT32_MAX || p->nstacks > UINT32_MAX ||
	    p->nunwind > UINT32_MAX || p->nfutexes > UINT32_MAX || p->nustops > UINT32_MAX)
		return false;
	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].nother > UINT32_MAX)
			return false;
	return true;
}

static int build_body(const struct profile *p, GByteArray *o)
{
	struct strmap m;
	int err;

	if (!fits_u32(p))
		return -EOVERFLOW;
	m.v = g_ptr_array_new();
	m.index = g_hash_table_new(NULL, NULL);
	err = collect_strings(p, &m);
	if (!err) {
		put_scalars(o, p);
		put_strings(o, p, &m);
		put_procs(o, p);
		put_threads(o, p);
		put_stacks(o, p, &m);
		put_unwind(o, p, &m);
		put_futexes(o, p, &m);
		put_ustops(o, p, &m);
		put_py(o, p);
		put_utables(o, p);
	}
	g_ptr_array_unref(m.v);
	g_hash_table_destroy(m.index);
	return err;
}

int recording_write_body(const void *body, size_t len, FILE *f)
{
	GByteArray *hdr, *trailer;
	uLongf zlen;
	uint8_t *z;
	int err = 0;

	_Static_assert(sizeof(CONCUR_VERSION) <= 64, "the version string's length is a u8");
	if (len > REC_MAX_BODY)
		return -EFBIG;
	zlen = compressBound(len);
	z = malloc(zlen);
	if (!z)
		return -ENOMEM;
	/* The fastest level: on 100 000 stacks, 4x faster than the default for 30% more bytes,
	 * and a run's recording is written while its user waits. */
	if (compress2(z, &zlen, body, len, Z_BEST_SPEED) != Z_OK) {
		free(z);
		return -ENOMEM; /* the output has compressBound() bytes: only memory can fail */
	}
	hdr = g_byte_array_new();
	put(hdr, REC_MAGIC, REC_MAGIC_LEN);
	put_u32(hdr, REC_FORMAT);
	put_u8(hdr, strlen(CONCUR_VERSION));
	put(hdr, CONCUR_VERSION, strlen(CONCUR_VERSION));
	put_u64(hdr, len);
	put_u64(hdr, zlen);
	put_u32(hdr, crc32(0, body, len));
	trailer = g_byte_array_new();
	put_u32(trailer, crc32(crc32(0, hdr->data, hdr->len), z, zlen));
	if (fwrite(hdr->data, 1, hdr->len, f) != hdr->len || fwrite(z, 1, zlen, f) != zlen ||
	    fwrite(trailer->data, 1, trailer->len, f) != trailer->len)
		err = -EIO;
	g_byte_array_unref(hdr);
	g_byte_array_unref(trailer);
	free(z);
	return err;
}

int write_recording(const struct profile *p, const struct advice *a, FILE *f)
{
	GByteArray *body = g_byte_array_new();
	int err = build_body(p, body);

	(void)a;
	if (!err)
		err = recording_write_body(body->data, body->len, f);
	g_byte_array_unref(body);
	return err;
}
