// SPDX-License-Identifier: MIT
/*
 * Recordings (.concur): the whole profile, so that any report can be rendered later, elsewhere,
 * without root or a kernel (`concur report FILE.concur`).
 *
 * Integers are little-endian and fixed-width; every variable-length thing has an explicit
 * count or length in front of it. The file:
 *
 *   "CONCURREC"                  9 bytes, the magic
 *   u32 format version           REC_FORMAT (2); a reader refuses any other
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
 *   i32 cpus, u32 sample_hz, u64 anomalies, nstats x u64 stats
 *   u32 nstrings, each: u32 len, len bytes (no NUL)
 *   u32 argc, argc x str               the command line
 *   u32 nprocs, each: u32 pid, u32 ppid, u64 start_ns, u64 end_ns, u8 exited, 16 bytes comm, u32 nthreads,
 *       CAT_MAX x u64 ns, u32 nother, each: i32 nr, u64 ns, u64 count
 *   u32 nthreads, each: u64 start_ns, u64 end_ns, u8 exited, u32 last_cat, u64 last_ns, then
 *       struct thread_acct field by field in the order of put_acct() (ns[] and cnt[] CAT_MAX x u64,
 *       comm 16 bytes)
 *   u32 nstacks, each: u32 pid, u32 tid, u32 cat, u64 ns, u64 count, u32 nframes,
 *       each: u64 ip, str name, str module, u8 kernel
 *   u32 nunwind, each: str module, u64 shallow_ns, u64 total_ns, u64 shallow_stacks, u64 stacks
 *
 * The reader takes the file as hostile: every count is checked against the bytes left before
 * anything is allocated for it, every index and category against its range, and the body
 * must be consumed exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "recording.h"

#define REC_MAGIC "CONCURREC"
#define REC_MAGIC_LEN 9
#define REC_FORMAT 2
#define REC_MAX_BODY (1ull << 30)
/* Deflate cannot compress better than 1032:1: a bigger declared body is a lie. */
#define DEFLATE_MAX_RATIO 1032
/* The kernel gives at most CONCUR_STACK_DEPTH user and kernel frames; leave room to grow. */
#define REC_MAX_FRAMES 4096
#define REC_MAX_FILE (REC_MAX_BODY + (REC_MAX_BODY >> 8) + 4096)

/* The smallest encoding of each record: a count of them must fit in the bytes left. */
#define SZ_STRING 4
#define SZ_ARG 4
#define SZ_PROC (4 + 4 + 8 + 8 + 1 + CONCUR_COMM_LEN + 4 + CAT_MAX * 8 + 4)
#define SZ_OTHER (4 + 8 + 8)
#define SZ_ACCT (3 * 8 + 2 * CAT_MAX * 8 + 4 * 8 + 9 * 4 + CONCUR_COMM_LEN)
#define SZ_THREAD (8 + 8 + 1 + 4 + 8 + SZ_ACCT)
#define SZ_STACK (3 * 4 + 2 * 8 + 4)
#define SZ_FRAME (8 + 4 + 4 + 1)
#define SZ_UNWIND (4 + 4 * 8)

/*
 * A tripwire: a field added to a recorded struct must be added to the format too (with
 * REC_FORMAT bumped), or reports rendered from recordings would silently go without it.
 */
#ifdef __x86_64__
#define RECORDED(type, size) \
	_Static_assert(sizeof(type) == (size), #type " changed: update user/recording.c")
RECORDED(struct profile, 240);
RECORDED(struct proc, 144);
RECORDED(struct other_sys, 24);
RECORDED(struct thread, 304);
RECORDED(struct thread_acct, 272);
RECORDED(struct stack, 40);
RECORDED(struct frame, 32);
RECORDED(struct unwind_warning, 40);
#endif

/* ---- Writing ---- */

/* A growing byte buffer; the first error sticks and later puts do nothing. */
struct out {
	uint8_t *d;
	size_t len, cap;
	int err;
};

static void put(struct out *o, const void *src, size_t n)
{
	size_t cap = o->cap ? o->cap : 4096;
	uint8_t *tmp;

	if (o->err)
		return;
	while (cap - o->len < n)
		cap *= 2;
	if (cap != o->cap) {
		tmp = realloc(o->d, cap);
		if (!tmp) {
			o->err = -ENOMEM;
			return;
		}
		o->d = tmp;
		o->cap = cap;
	}
	memcpy(o->d + o->len, src, n);
	o->len += n;
}

static void put_le(struct out *o, uint64_t v, int bytes)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < bytes; i++)
		b[i] = v >> (8 * i);
	put(o, b, bytes);
}

static void put_u8(struct out *o, uint8_t v)
{
	put_le(o, v, 1);
}

static void put_u32(struct out *o, uint32_t v)
{
	put_le(o, v, 4);
}

static void put_i32(struct out *o, int32_t v)
{
	put_le(o, (uint32_t)v, 4);
}

static void put_u64(struct out *o, uint64_t v)
{
	put_le(o, v, 8);
}

/*
 * The string table being written: index by pointer. The profile interns its strings, so one
 * pointer per distinct string; a string that is not interned (the command line) may appear
 * twice, which the reader's interning undoes.
 */
struct strmap {
	const char **v;
	uint32_t n;
	uint32_t *slots;	/* index + 1; 0 is empty */
	size_t cap;		/* a power of two, kept at most half full */
};

static size_t ptr_hash(const char *s, size_t cap)
{
	return ((uintptr_t)s * 0x9e3779b97f4a7c15ull >> 17) & (cap - 1);
}

static uint32_t *strmap_slot(const struct strmap *m, const char *s)
{
	size_t i = ptr_hash(s, m->cap);

	while (m->slots[i] && m->v[m->slots[i] - 1] != s)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static int strmap_grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, old = m->cap, i;
	uint32_t *slots = calloc(cap, sizeof(*slots)), *old_slots = m->slots;
	const char **v = realloc(m->v, cap / 2 * sizeof(*v));

	if (!slots || !v) {
		free(slots);
		if (v)
			m->v = v;
		return -ENOMEM;
	}
	m->v = v;
	m->slots = slots;
	m->cap = cap;
	for (i = 0; i < old; i++)
		if (old_slots[i])
			*strmap_slot(m, m->v[old_slots[i] - 1]) = old_slots[i];
	free(old_slots);
	return 0;
}

static int strmap_add(struct strmap *m, const char *s)
{
	uint32_t *slot;

	if (!s)
		return -EINVAL;	/* a frame without a name: the tracer never makes one */
	if ((size_t)(m->n + 1) * 2 > m->cap && strmap_grow(m))
		return -ENOMEM;
	slot = strmap_slot(m, s);
	if (!*slot) {
		m->v[m->n++] = s;
		*slot = m->n;
	}
	return 0;
}

static uint32_t strmap_index(const struct strmap *m, const char *s)
{
	return *strmap_slot(m, s) - 1;
}

static void strmap_free(struct strmap *m)
{
	free(m->v);
	free(m->slots);
}

static int collect_strings(const struct profile *p, struct strmap *m)
{
	size_t i;
	uint32_t j;
	int err = 0;

	for (i = 0; !err && p->command && p->command[i]; i++)
		err = strmap_add(m, p->command[i]);
	for (i = 0; !err && i < p->nstacks; i++)
		for (j = 0; !err && j < p->stacks[i].nframes; j++) {
			err = strmap_add(m, p->stacks[i].frames[j].name);
			if (!err)
				err = strmap_add(m, p->stacks[i].frames[j].module);
		}
	for (i = 0; !err && i < p->nunwind; i++)
		err = strmap_add(m, p->unwind[i].module);
	return err;
}

static void put_scalars(struct out *o, const struct profile *p)
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
}

static void put_strings(struct out *o, const struct profile *p, const struct strmap *m)
{
	size_t i, argc = 0, len;

	put_u32(o, m->n);
	for (i = 0; i < m->n; i++) {
		len = strlen(m->v[i]);
		put_u32(o, len);
		put(o, m->v[i], len);
	}
	while (p->command && p->command[argc])
		argc++;
	put_u32(o, argc);
	for (i = 0; i < argc; i++)
		put_u32(o, strmap_index(m, p->command[i]));
}

static void put_cats(struct out *o, const __u64 v[CAT_MAX])
{
	int c;

	for (c = 0; c < CAT_MAX; c++)
		put_u64(o, v[c]);
}

static void put_procs(struct out *o, const struct profile *p)
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
		put_u32(o, pr->nthreads);
		put_cats(o, pr->ns);
		put_u32(o, pr->nother);
		for (k = 0; k < pr->nother; k++) {
			put_i32(o, pr->other[k].nr);
			put_u64(o, pr->other[k].ns);
			put_u64(o, pr->other[k].cnt);
		}
	}
}

static void put_acct(struct out *o, const struct thread_acct *a)
{
	put_u64(o, a->since_ns);
	put_u64(o, a->start_ns);
	put_u64(o, a->end_ns);
	put_cats(o, a->ns);
	put_cats(o, a->cnt);
	put_u64(o, a->wakeups);
	put_u64(o, a->preemptions);
	put_u64(o, a->exec_ns);
	put_u64(o, a->run_delay_ns);
	put_u32(o, a->pid);
	put_u32(o, a->tid);
	put_u32(o, a->state);
	put_u32(o, a->cat);
	put_i32(o, a->nr);
	put_u32(o, a->anomalies);
	put_u32(o, a->flags);
	put_i32(o, a->ustack);
	put_i32(o, a->kstack);
	put(o, a->comm, CONCUR_COMM_LEN);
}

static void put_threads(struct out *o, const struct profile *p)
{
	size_t i;

	put_u32(o, p->nthreads);
	for (i = 0; i < p->nthreads; i++) {
		const struct thread *t = &p->threads[i];

		put_u64(o, t->start_ns);
		put_u64(o, t->end_ns);
		put_u8(o, t->exited);
		put_u32(o, t->last_cat);
		put_u64(o, t->last_ns);
		put_acct(o, &t->acct);
	}
}

static void put_stacks(struct out *o, const struct profile *p, const struct strmap *m)
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
		put_u32(o, st->nframes);
		for (j = 0; j < st->nframes; j++) {
			put_u64(o, st->frames[j].ip);
			put_u32(o, strmap_index(m, st->frames[j].name));
			put_u32(o, strmap_index(m, st->frames[j].module));
			put_u8(o, st->frames[j].kernel);
		}
	}
}

static void put_unwind(struct out *o, const struct profile *p, const struct strmap *m)
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

/* Counts are u32 in the file: a profile with more of anything cannot be written. */
static bool fits_u32(const struct profile *p)
{
	size_t i;

	if (p->nprocs > UINT32_MAX || p->nthreads > UINT32_MAX || p->nstacks > UINT32_MAX ||
	    p->nunwind > UINT32_MAX)
		return false;
	for (i = 0; i < p->nprocs; i++)
		if (p->procs[i].nother > UINT32_MAX)
			return false;
	return true;
}

static int build_body(const struct profile *p, struct out *o)
{
	struct strmap m = {};
	int err;

	if (!fits_u32(p))
		return -EOVERFLOW;
	err = collect_strings(p, &m);
	if (!err) {
		put_scalars(o, p);
		put_strings(o, p, &m);
		put_procs(o, p);
		put_threads(o, p);
		put_stacks(o, p, &m);
		put_unwind(o, p, &m);
		err = o->err;
	}
	strmap_free(&m);
	return err;
}

int recording_write_body(const void *body, size_t len, FILE *f)
{
	struct out hdr = {}, trailer = {};
	uLongf zlen;
	uint8_t *z;
	int err;

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
		return -ENOMEM;	/* the output has compressBound() bytes: only memory can fail */
	}
	put(&hdr, REC_MAGIC, REC_MAGIC_LEN);
	put_u32(&hdr, REC_FORMAT);
	put_u8(&hdr, strlen(CONCUR_VERSION));
	put(&hdr, CONCUR_VERSION, strlen(CONCUR_VERSION));
	put_u64(&hdr, len);
	put_u64(&hdr, zlen);
	put_u32(&hdr, crc32(0, body, len));
	if (!hdr.err)
		put_u32(&trailer, crc32(crc32(0, hdr.d, hdr.len), z, zlen));
	err = hdr.err ? hdr.err : trailer.err;
	if (!err && (fwrite(hdr.d, 1, hdr.len, f) != hdr.len || fwrite(z, 1, zlen, f) != zlen ||
		     fwrite(trailer.d, 1, trailer.len, f) != trailer.len))
		err = -EIO;
	free(hdr.d);
	free(trailer.d);
	free(z);
	return err;
}

int write_recording(const struct profile *p, FILE *f)
{
	struct out body = {};
	int err = build_body(p, &body);

	if (!err)
		err = recording_write_body(body.d, body.len, f);
	free(body.d);
	return err;
}

/* ---- Reading ---- */

/* A cursor over untrusted bytes; the first error sticks, and reads after it give zeros. */
struct rd {
	const uint8_t *p;
	size_t left;
	const char *section;	/* for messages */
	char *err;
	size_t errlen;
	int ret;
};

/* Records the first error; returns it. */
static int __attribute__((format(printf, 3, 4))) fail(struct rd *r, int ret, const char *fmt, ...)
{
	va_list ap;

	if (r->ret)
		return r->ret;
	r->ret = ret;
	if (r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int corrupt(struct rd *r, const char *what)
{
	return fail(r, -EBADMSG, "corrupt recording: %s: %s", r->section, what);
}

static int oom(struct rd *r)
{
	return fail(r, -ENOMEM, "out of memory");
}

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *b = r->p;

	if (r->ret)
		return NULL;
	if (n > r->left) {
		corrupt(r, "ends early");
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return b;
}

static uint64_t get_le(struct rd *r, int bytes)
{
	const uint8_t *b = take(r, bytes);
	uint64_t v = 0;
	int i;

	for (i = 0; b && i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t get_u32(struct rd *r)
{
	return get_le(r, 4);
}

static int32_t get_i32(struct rd *r)
{
	return (int32_t)get_le(r, 4);
}

static uint64_t get_u64(struct rd *r)
{
	return get_le(r, 8);
}

static bool get_flag(struct rd *r)
{
	uint64_t v = get_le(r, 1);

	if (v > 1)
		corrupt(r, "a flag is neither 0 nor 1");
	return v;
}

/* A count of records of at least min_size bytes each: all of them must fit in what is left. */
static uint32_t get_count(struct rd *r, size_t min_size, uint32_t max)
{
	uint32_t n = get_u32(r);

	if (r->ret)
		return 0;
	if (n > max) {
		fail(r, -EBADMSG, "corrupt recording: %s: %u records, more than %u", r->section, n,
		     max);
		return 0;
	}
	if ((uint64_t)n * min_size > r->left) {
		fail(r, -EBADMSG, "corrupt recording: %s: %u records cannot fit in %zu bytes",
		     r->section, n, r->left);
		return 0;
	}
	return n;
}

static void get_bytes(struct rd *r, void *dst, size_t n)
{
	const uint8_t *b = take(r, n);

	if (b)
		memcpy(dst, b, n);
}

static void get_comm(struct rd *r, char comm[CONCUR_COMM_LEN])
{
	get_bytes(r, comm, CONCUR_COMM_LEN);
	comm[CONCUR_COMM_LEN - 1] = '\0';	/* writers may read it as a C string */
}

static uint32_t get_cat(struct rd *r)
{
	uint32_t c = get_u32(r);

	if (c >= CAT_MAX)
		corrupt(r, "category out of range");
	return c < CAT_MAX ? c : 0;
}

static void get_cats(struct rd *r, __u64 v[CAT_MAX])
{
	int c;

	for (c = 0; c < CAT_MAX; c++)
		v[c] = get_u64(r);
}

/* What the body's records refer to while it is read. */
struct loader {
	struct rd r;
	struct profile *p;
	const char **strs;
	uint32_t nstrs;
};

static const char *get_str(struct loader *l)
{
	uint32_t i = get_u32(&l->r);

	if (l->r.ret)
		return NULL;
	if (i >= l->nstrs) {
		fail(&l->r, -EBADMSG, "corrupt recording: %s: string %u of %u", l->r.section, i,
		     l->nstrs);
		return NULL;
	}
	return l->strs[i];
}

/*
 * Arrays the profile__add_* functions may still grow: allocated with the capacity their
 * grow() assumes (16, then powers of two). NULL for none, or when out of memory (r says).
 */
static void *alloc_growable(struct rd *r, size_t n, size_t size)
{
	size_t cap = 16;
	void *a;

	if (!n)
		return NULL;
	while (cap < n)
		cap *= 2;
	a = calloc(cap, size);
	if (!a)
		oom(r);
	return a;
}

static void read_scalars(struct rd *r, struct profile *p)
{
	uint32_t ncats, nstats, i, mode;

	r->section = "profile";
	ncats = get_u32(r);
	nstats = get_count(r, 8, UINT32_MAX);
	if (!r->ret && ncats != CAT_MAX)
		fail(r, -EBADMSG, "corrupt recording: %u categories, not %d", ncats, CAT_MAX);
	mode = get_u32(r);
	if (mode != MODE_RUN && mode != MODE_ATTACH)
		corrupt(r, "unknown mode");
	p->mode = mode;
	p->exit_status = get_i32(r);
	p->interrupted = get_flag(r);
	p->window_start_ns = get_u64(r);
	p->window_ns = get_u64(r);
	p->cpus = get_i32(r);
	p->sample_hz = get_u32(r);
	p->anomalies = get_u64(r);
	/* Counters added by a later concur are skipped; ones it lacks stay 0. */
	for (i = 0; i < nstats && !r->ret; i++) {
		uint64_t v = get_u64(r);

		if (i < STAT_MAX)
			p->stats[i] = v;
	}
}

static int read_strings(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t n, i, len;
	const uint8_t *s;
	char *tmp;

	r->section = "strings";
	n = get_count(r, SZ_STRING, UINT32_MAX);
	l->strs = calloc(n ? n : 1, sizeof(*l->strs));
	if (!l->strs)
		return oom(r);
	for (i = 0; i < n && !r->ret; i++) {
		len = get_u32(r);
		s = take(r, len);
		if (!s)
			return r->ret;
		if (memchr(s, '\0', len))
			return corrupt(r, "a NUL byte inside a string");
		tmp = strndup((const char *)s, len);
		if (!tmp)
			return oom(r);
		l->strs[i] = profile__intern(l->p, tmp);
		free(tmp);
		if (!l->strs[i])
			return oom(r);
		l->nstrs = i + 1;
	}
	return r->ret;
}

static int read_command(struct loader *l)
{
	struct rd *r = &l->r;
	uint32_t argc, i;

	r->section = "command";
	argc = get_count(r, SZ_ARG, UINT32_MAX - 1);
	if (r->ret)
		return r->ret;
	l->p->owned_command = calloc(argc + 1, sizeof(char *));
	if (!l->p->owned_command)
		return oom(r);
	/* Interned strings are never written to: the array is char ** only to match argv. */
	for (i = 0; i < argc && !r->ret; i++)
		l->p->owned_command[i] = (char *)get_str(l);
	l->p->command = l->p->owned_command;
	return r->ret;
}

static void read_other(struct rd *r, struct proc *pr)
{
	uint32_t n = get_count(r, SZ_OTHER, UINT32_MAX), i;

	if (!n)
		return;
	pr->other = alloc_growable(r, n, sizeof(*pr->other));
	if (!pr->other)
		return;
	pr->nother = n;
	for (i = 0; i < n && !r->ret; i++) {
		pr->other[i].nr = get_i32(r);
		pr->other[i].ns = get_u64(r);
		pr->other[i].cnt = get_u64(r);
	}
}

static void read_procs(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "processes";
	n = get_count(r, SZ_PROC, UINT32_MAX);
	p->procs = alloc_growable(r, n, sizeof(*p->procs));
	if (!p->procs)
		return;
	p->nprocs = n;	/* zeroed: profile__free copes with a partly read array */
	for (i = 0; i < n && !r->ret; i++) {
		struct proc *pr = &p->procs[i];

		pr->pid = get_u32(r);
		pr->ppid = get_u32(r);
		pr->start_ns = get_u64(r);
		pr->end_ns = get_u64(r);
		pr->exited = get_flag(r);
		get_comm(r, pr->comm);
		pr->nthreads = get_u32(r);
		get_cats(r, pr->ns);
		read_other(r, pr);
	}
}

static void read_acct(struct rd *r, struct thread_acct *a)
{
	a->since_ns = get_u64(r);
	a->start_ns = get_u64(r);
	a->end_ns = get_u64(r);
	get_cats(r, a->ns);
	get_cats(r, a->cnt);
	a->wakeups = get_u64(r);
	a->preemptions = get_u64(r);
	a->exec_ns = get_u64(r);
	a->run_delay_ns = get_u64(r);
	a->pid = get_u32(r);
	a->tid = get_u32(r);
	a->state = get_u32(r);
	a->cat = get_u32(r);
	a->nr = get_i32(r);
	a->anomalies = get_u32(r);
	a->flags = get_u32(r);
	a->ustack = get_i32(r);
	a->kstack = get_i32(r);
	get_comm(r, a->comm);
}

static void read_threads(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "threads";
	n = get_count(r, SZ_THREAD, UINT32_MAX);
	p->threads = alloc_growable(r, n, sizeof(*p->threads));
	if (!p->threads)
		return;
	p->nthreads = n;
	for (i = 0; i < n && !r->ret; i++) {
		struct thread *t = &p->threads[i];

		t->start_ns = get_u64(r);
		t->end_ns = get_u64(r);
		t->exited = get_flag(r);
		t->last_cat = get_cat(r);
		t->last_ns = get_u64(r);
		read_acct(r, &t->acct);
	}
}

static int read_frames(struct loader *l, struct stack *st)
{
	struct rd *r = &l->r;
	uint32_t n = get_count(r, SZ_FRAME, REC_MAX_FRAMES), i;

	if (r->ret)
		return r->ret;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		return oom(r);
	st->nframes = n;
	for (i = 0; i < n && !r->ret; i++) {
		st->frames[i].ip = get_u64(r);
		st->frames[i].name = get_str(l);
		st->frames[i].module = get_str(l);
		st->frames[i].kernel = get_flag(r);
	}
	return r->ret;
}

static void read_stacks(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "stacks";
	n = get_count(r, SZ_STACK, UINT32_MAX);
	p->stacks = alloc_growable(r, n, sizeof(*p->stacks));
	if (!p->stacks)
		return;
	p->nstacks = n;
	for (i = 0; i < n && !r->ret; i++) {
		struct stack *st = &p->stacks[i];

		st->pid = get_u32(r);
		st->tid = get_u32(r);
		st->cat = get_cat(r);
		st->ns = get_u64(r);
		st->count = get_u64(r);
		read_frames(l, st);
	}
}

static int read_unwind(struct loader *l)
{
	struct rd *r = &l->r;
	struct profile *p = l->p;
	uint32_t n, i;

	r->section = "unwind warnings";
	n = get_count(r, SZ_UNWIND, UINT32_MAX);
	if (!n)
		return r->ret;
	p->unwind = calloc(n, sizeof(*p->unwind));
	if (!p->unwind)
		return oom(r);
	p->nunwind = n;
	for (i = 0; i < n && !r->ret; i++) {
		p->unwind[i].module = get_str(l);
		p->unwind[i].shallow_ns = get_u64(r);
		p->unwind[i].total_ns = get_u64(r);
		p->unwind[i].shallow_stacks = get_u64(r);
		p->unwind[i].stacks = get_u64(r);
	}
	return r->ret;
}

/* The uncompressed body into a new profile. */
static int parse_body(const uint8_t *body, size_t len, struct profile **out, char *err,
		      size_t errlen)
{
	struct loader l = { .r = { .p = body, .left = len, .err = err, .errlen = errlen } };

	l.p = profile__new(MODE_RUN, NULL);
	if (!l.p)
		return oom(&l.r);
	read_scalars(&l.r, l.p);
	read_strings(&l);
	read_command(&l);
	read_procs(&l);
	read_threads(&l);
	read_stacks(&l);
	read_unwind(&l);
	if (!l.r.ret && l.r.left)
		fail(&l.r, -EBADMSG, "corrupt recording: %zu bytes after the last section",
		     l.r.left);
	free(l.strs);
	if (l.r.ret) {
		profile__free(l.p);
		return l.r.ret;
	}
	*out = l.p;
	return 0;
}

/* The body, inflated into exactly the size declared: no more, no less. */
static int inflate_body(struct rd *r, const uint8_t *z, size_t zlen, uint8_t *body, size_t len)
{
	z_stream s = { .next_in = (Bytef *)z, .avail_in = zlen };
	int zret;

	/* avail_in and avail_out are uInt: the sizes were checked below 4 GiB by the caller. */
	s.next_out = body;
	s.avail_out = len;
	if (inflateInit(&s) != Z_OK)
		return oom(r);
	zret = inflate(&s, Z_FINISH);
	if (zret == Z_MEM_ERROR)
		oom(r);
	else if (zret != Z_STREAM_END || s.total_out != len || s.avail_in)
		fail(r, -EBADMSG, "corrupt recording: the compressed body does not inflate to "
				  "its declared %zu bytes",
		     len);
	inflateEnd(&s);
	return r->ret;
}

/* Magic, format version and the writer's version string: what every version agrees on. */
static int read_preamble(struct rd *r)
{
	char who[64] = "";
	uint32_t version, n, i;

	if (r->left < REC_MAGIC_LEN || memcmp(r->p, REC_MAGIC, REC_MAGIC_LEN))
		return fail(r, -EBADMSG, "not a concur recording");
	take(r, REC_MAGIC_LEN);
	if (r->left < 4 + 1)
		return fail(r, -EBADMSG, "truncated recording");
	version = get_u32(r);
	n = r->p[0];
	/* The writer's name, shown only as printable ASCII, for the version message. */
	for (i = 0; n < sizeof(who) && n < r->left && i < n; i++)
		who[i] = r->p[1 + i] >= 0x20 && r->p[1 + i] < 0x7f ? r->p[1 + i] : '?';
	if (version != REC_FORMAT)
		return fail(r, -ENOTSUP, "recording format version %u%s%s%s; this concur reads "
					 "version %d",
			    version, *who ? " (written by concur " : "", who, *who ? ")" : "",
			    REC_FORMAT);
	if (r->left < 1 + n)
		return fail(r, -EBADMSG, "truncated recording");
	take(r, 1 + n);
	return 0;
}

/* Where the compressed body is, checked against the file's own checksum. */
struct container {
	uint64_t body_len, zlen;
	uint32_t body_crc;
	const uint8_t *z;
};

static int read_container(struct rd *r, const void *buf, size_t len, struct container *c)
{
	if (read_preamble(r))
		return r->ret;
	if (r->left < 8 + 8 + 4 + 4)
		return fail(r, -EBADMSG, "truncated recording");
	c->body_len = get_u64(r);
	c->zlen = get_u64(r);
	c->body_crc = get_u32(r);
	if (c->zlen > r->left - 4)
		return fail(r, -EBADMSG, "truncated recording (%zu of %llu bytes)", len,
			    (unsigned long long)(len - r->left + c->zlen + 4));
	if (c->zlen < r->left - 4)
		return fail(r, -EBADMSG, "corrupt recording: %llu bytes after its end",
			    (unsigned long long)(r->left - 4 - c->zlen));
	c->z = take(r, c->zlen);
	if (crc32(0, buf, len - 4) != get_u32(r))
		return fail(r, -EBADMSG, "checksum mismatch: the recording is damaged");
	/* Only now is the declared size worth believing, and only when deflate could do it. */
	if (c->body_len > REC_MAX_BODY || c->zlen > REC_MAX_FILE ||
	    c->body_len > c->zlen * DEFLATE_MAX_RATIO + 1024)
		return fail(r, -EFBIG, "corrupt recording: a body of %llu bytes from %llu "
				       "compressed is impossible or too large",
			    (unsigned long long)c->body_len, (unsigned long long)c->zlen);
	return 0;
}

int recording_read_mem(const void *buf, size_t len, struct profile **out, char *err,
		       size_t errlen)
{
	struct rd r = { .p = buf, .left = len, .section = "header", .err = err, .errlen = errlen };
	struct container c = {};
	uint8_t *body;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (read_container(&r, buf, len, &c))
		return r.ret;
	body = malloc(c.body_len ? c.body_len : 1);
	if (!body)
		return oom(&r);
	ret = inflate_body(&r, c.z, c.zlen, body, c.body_len);
	if (!ret && crc32(0, body, c.body_len) != c.body_crc)
		ret = fail(&r, -EBADMSG, "checksum mismatch: the recording's body is damaged");
	if (!ret)
		ret = parse_body(body, c.body_len, out, err, errlen);
	free(body);
	return ret;
}

/*
 * The whole file in memory, at most REC_MAX_FILE bytes. A regular file is read in one go (its
 * size, and one byte more to see the end); anything else grows as it delivers.
 */
static int slurp(int fd, uint8_t **out, size_t *len)
{
	size_t alloc = 0, n = 0, want;
	uint8_t *buf = NULL, *tmp;
	struct stat st;
	ssize_t got;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size >= REC_MAX_FILE)
		return -EFBIG;
	for (;;) {
		if (n == alloc) {
			if (alloc >= REC_MAX_FILE) {
				free(buf);
				return -EFBIG;
			}
			if (alloc)
				want = alloc * 2;
			else
				want = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1 << 16;
			want = want < REC_MAX_FILE ? want : REC_MAX_FILE;
			tmp = realloc(buf, want);
			if (!tmp) {
				free(buf);
				return -ENOMEM;
			}
			buf = tmp;
			alloc = want;
		}
		got = read(fd, buf + n, alloc - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			free(buf);
			return err;
		}
		if (!got)
			break;
		n += got;
		/* Not a recording (/dev/zero, a log): no need to read on to its end. */
		if (n >= REC_MAGIC_LEN && memcmp(buf, REC_MAGIC, REC_MAGIC_LEN))
			break;
	}
	*out = buf;
	*len = n;
	return 0;
}

int recording_read(const char *path, struct profile **out, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = slurp(fd, &buf, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "%s", ret == -EFBIG ? "too large for a recording" :
							    strerror(-ret));
		return ret;
	}
	ret = recording_read_mem(buf, len, out, err, errlen);
	free(buf);
	return ret;
}
