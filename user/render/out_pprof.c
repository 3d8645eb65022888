// SPDX-License-Identifier: MIT
/*
 * pprof output: the profile.proto message, encoded by hand and gzip-compressed with zlib.
 *
 * Samples are encoded as they are built, straight into the output buffer; the tables they
 * refer to (strings, functions, locations, mappings) are deduplicated in hash maps on the
 * way and appended after them, which protobuf allows since fields may come in any order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "out_pprof.h"

/* Field numbers of profile.proto (github.com/google/pprof/proto/profile.proto). */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2 };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum { LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3 };
enum { MAPPING_ID = 1, MAPPING_FILENAME = 5, MAPPING_HAS_FUNCTIONS = 7 };
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4 };
enum { LINE_FUNCTION_ID = 1 };
enum { FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4 };

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

#define KERNEL_MODULE "[kernel]"
#define CONCUR_MODULE "[concur]"	/* the pseudo module of the category root frames */
#define UNKNOWN "[unknown]"
#define GZ_CHUNK (64 * 1024)

/* A growable byte buffer; an allocation failure is remembered and reported at the end. */
struct pbuf {
	uint8_t *d;
	size_t len, cap;
	bool oom;
};

static bool pb_reserve(struct pbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *d;

	if (b->oom)
		return false;
	if (b->len + n <= b->cap)
		return true;
	while (cap < b->len + n)
		cap *= 2;
	d = realloc(b->d, cap);
	if (!d) {
		b->oom = true;
		return false;
	}
	b->d = d;
	b->cap = cap;
	return true;
}

static void pb_raw(struct pbuf *b, const void *s, size_t n)
{
	if (n && pb_reserve(b, n)) {
		memcpy(b->d + b->len, s, n);
		b->len += n;
	}
}

static void pb_varint(struct pbuf *b, uint64_t v)
{
	if (!pb_reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->d[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->d[b->len++] = (uint8_t)v;
}

static void pb_key(struct pbuf *b, unsigned int field, unsigned int wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

/* proto3 leaves zero scalars out: readers take an absent field as 0. */
static void pb_uint(struct pbuf *b, unsigned int field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, WIRE_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pbuf *b, unsigned int field, const void *s, size_t n)
{
	pb_key(b, field, WIRE_LEN);
	pb_varint(b, n);
	pb_raw(b, s, n);
}

/* Appends sub (a nested message or a packed array) as a field of b and empties sub. */
static void pb_sub(struct pbuf *b, unsigned int field, struct pbuf *sub)
{
	pb_bytes(b, field, sub->d, sub->len);
	b->oom |= sub->oom;
	sub->len = 0;
	sub->oom = false;
}

/* An open-addressing hash map from up to three integers to a nonzero id. */
struct slot {
	uint64_t a, b, c;
	uint32_t id;	/* 0: empty */
};

struct idmap {
	struct slot *s;
	size_t mask, n;
};

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static struct slot *probe(struct slot *s, size_t mask, uint64_t a, uint64_t b, uint64_t c)
{
	size_t i = mix64(a ^ mix64(b ^ mix64(c))) & mask;

	while (s[i].id && (s[i].a != a || s[i].b != b || s[i].c != c))
		i = (i + 1) & mask;
	return &s[i];
}

static int idmap_grow(struct idmap *m)
{
	size_t cap = m->s ? (m->mask + 1) * 2 : 1024, i;
	struct slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; m->s && i <= m->mask; i++)
		if (m->s[i].id)
			*probe(s, cap - 1, m->s[i].a, m->s[i].b, m->s[i].c) = m->s[i];
	free(m->s);
	m->s = s;
	m->mask = cap - 1;
	return 0;
}

/*
 * The slot of (a, b, c); a new one has id 0 and the caller must give it an id. Kept at most
 * half full so probes stay short. NULL when out of memory.
 */
static struct slot *idmap_slot(struct idmap *m, uint64_t a, uint64_t b, uint64_t c)
{
	struct slot *s;

	if ((!m->s || (m->n + 1) * 2 > m->mask + 1) && idmap_grow(m))
		return NULL;
	s = probe(m->s, m->mask, a, b, c);
	if (!s->id) {
		s->a = a;
		s->b = b;
		s->c = c;
		m->n++;
	}
	return s;
}

/* The id of (a, b, c), 0 when absent; never inserts. */
static uint32_t idmap_find(const struct idmap *m, uint64_t a, uint64_t b, uint64_t c)
{
	return m->s ? probe(m->s, m->mask, a, b, c)->id : 0;
}

/* string_table: entry i is id i; the bytes stay where they are (the profile, literals). */
struct str {
	const char *s;
	size_t len;
	uint64_t hash;
};

struct strings {
	struct str *v;
	size_t n, cap;
	uint32_t *slots;	/* index + 1 into v, 0: empty */
	size_t mask;
};

struct func {
	uint32_t name, file;	/* string ids */
	uint32_t mapping;
};

struct loc {
	uint32_t func, mapping;
	uint64_t addr;
};

struct locs {
	uint32_t *v;
	size_t cap;
};

struct pprof {
	const struct profile *p;
	struct strings str;
	/* (name, module, address) pointers: one probe per frame as the profile interns names */
	struct idmap locs_by_frame;
	struct idmap locs_by_key;	/* (function id, address): by content */
	struct idmap funcs_by_str;	/* (name, file) string ids */
	struct idmap maps_by_file;	/* (file string id) */
	struct idmap comms;		/* (pid << 32 | tid, 0) threads, (pid, 1) processes */
	struct func *funcs;
	size_t nfuncs, capfuncs;
	struct loc *locs;
	size_t nlocs, caplocs;
	uint32_t *maps;			/* file string id per mapping */
	size_t nmaps, capmaps;
	uint32_t cat_loc[CAT_MAX];
	const struct stack *prev;	/* the last stack written, its locations in cur */
	struct locs cur, spare;
	uint32_t s_category, s_pid, s_tid, s_thread, s_process;
	struct pbuf out, msg, sub;
};

/* Makes room for element n. */
static int grow_array(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap : 256;
	void *nv;

	if (n < *cap)
		return 0;
	while (ncap <= n)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

static uint32_t *str_probe(const struct strings *t, const char *s, size_t len, uint64_t hash)
{
	size_t i = mix64(hash) & t->mask;
	const struct str *e;

	for (; t->slots[i]; i = (i + 1) & t->mask) {
		e = &t->v[t->slots[i] - 1];
		if (e->hash == hash && e->len == len && !memcmp(e->s, s, len))
			break;
	}
	return &t->slots[i];
}

static int str_rehash(struct strings *t)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : 1024, i;
	struct strings nt = *t;

	nt.slots = calloc(cap, sizeof(*nt.slots));
	if (!nt.slots)
		return -ENOMEM;
	nt.mask = cap - 1;
	for (i = 0; i < t->n; i++)
		*str_probe(&nt, t->v[i].s, t->v[i].len, t->v[i].hash) = i + 1;
	free(t->slots);
	*t = nt;
	return 0;
}

/* The string id of s[0..len); it must outlive the writer. -1 when out of memory. */
static int64_t strn_id(struct strings *t, const char *s, size_t len)
{
	uint64_t hash = hash_bytes(s, len);
	uint32_t *slot;

	if ((!t->slots || (t->n + 1) * 2 > t->mask + 1) && str_rehash(t))
		return -1;
	slot = str_probe(t, s, len, hash);
	if (*slot)
		return *slot - 1;
	if (grow_array((void **)&t->v, &t->cap, t->n, sizeof(*t->v)))
		return -1;
	t->v[t->n] = (struct str){ .s = s, .len = len, .hash = hash };
	*slot = ++t->n;
	return t->n - 1;
}

static int64_t str_id(struct pprof *w, const char *s)
{
	return strn_id(&w->str, s, strlen(s));
}

static uint32_t mapping_id(struct pprof *w, uint32_t file)
{
	struct slot *s = idmap_slot(&w->maps_by_file, file, 0, 0);

	if (!s || s->id)
		return s ? s->id : 0;
	if (grow_array((void **)&w->maps, &w->capmaps, w->nmaps, sizeof(*w->maps)))
		return 0;
	w->maps[w->nmaps++] = file;
	return s->id = w->nmaps;
}

/* One function per (name, file). */
static uint32_t function_id(struct pprof *w, const char *name, const char *module)
{
	int64_t n = str_id(w, name), m = str_id(w, module);
	struct slot *s = n < 0 || m < 0 ? NULL : idmap_slot(&w->funcs_by_str, n, m, 0);

	if (!s || s->id)
		return s ? s->id : 0;
	if (grow_array((void **)&w->funcs, &w->capfuncs, w->nfuncs, sizeof(*w->funcs)))
		return 0;
	w->funcs[w->nfuncs] = (struct func){ .name = n, .file = m, .mapping = mapping_id(w, m) };
	if (!w->funcs[w->nfuncs].mapping)
		return 0;
	return s->id = ++w->nfuncs;
}

/* Locations are one per (function, address): `-granularity=addresses` keeps its meaning. */
static uint32_t location_id(struct pprof *w, uint32_t func, uint64_t addr)
{
	struct slot *s = func ? idmap_slot(&w->locs_by_key, func, addr, 0) : NULL;

	if (!s || s->id)
		return s ? s->id : 0;
	if (grow_array((void **)&w->locs, &w->caplocs, w->nlocs, sizeof(*w->locs)))
		return 0;
	w->locs[w->nlocs] = (struct loc){ func, w->funcs[func - 1].mapping, addr };
	return s->id = ++w->nlocs;
}

/*
 * The hot path, once per frame: equal names are equal pointers in the profile, so one probe
 * by pointers finds a known location without hashing the bytes; the content maps behind it
 * still merge equal names at different addresses.
 */
static uint32_t frame_loc(struct pprof *w, const struct frame *f)
{
	const char *name = f->name && *f->name ? f->name : UNKNOWN;
	const char *module = f->kernel ? KERNEL_MODULE : f->module && *f->module ? f->module : UNKNOWN;
	struct slot *s = idmap_slot(&w->locs_by_frame, (uintptr_t)name, (uintptr_t)module, f->ip);

	if (!s || s->id)
		return s ? s->id : 0;
	return s->id = location_id(w, function_id(w, name, module), f->ip);
}

static const char *cat_name(uint32_t cat)
{
	return cat < CAT_MAX ? cat_names[cat] : UNKNOWN;
}

/* The root frame named after the category, as in the folded output "cat;main;...". */
static uint32_t cat_loc(struct pprof *w, uint32_t cat)
{
	if (cat >= CAT_MAX)
		return location_id(w, function_id(w, UNKNOWN, CONCUR_MODULE), 0);
	if (!w->cat_loc[cat])
		w->cat_loc[cat] = location_id(w, function_id(w, cat_names[cat], CONCUR_MODULE), 0);
	return w->cat_loc[cat];
}

/* comm is a fixed array from the kernel: not always NUL-terminated. */
static int add_comm(struct pprof *w, uint64_t key, uint64_t kind, const char *comm)
{
	size_t len = strnlen(comm, CONCUR_COMM_LEN);
	struct slot *s;
	int64_t id;

	if (!len)
		return 0;
	s = idmap_slot(&w->comms, key, kind, 0);
	if (!s)
		return -ENOMEM;
	if (s->id)
		return 0;	/* a reused tid: the first thread's name stands */
	id = strn_id(&w->str, comm, len);
	if (id < 0)
		return -ENOMEM;
	s->id = id;
	return 0;
}

static int index_comms(struct pprof *w)
{
	const struct profile *p = w->p;
	const struct thread *a;
	size_t i;

	for (i = 0; i < p->nthreads; i++) {
		a = &p->threads[i];
		if (add_comm(w, (uint64_t)a->pid << 32 | a->tid, 0, a->comm))
			return -ENOMEM;
	}
	for (i = 0; i < p->nprocs; i++)
		if (add_comm(w, p->procs[i].pid, 1, p->procs[i].comm))
			return -ENOMEM;
	return 0;
}

static uint32_t comm_id(const struct pprof *w, uint64_t key, uint64_t kind)
{
	return idmap_find(&w->comms, key, kind, 0);
}

static void label(struct pprof *w, uint32_t key, bool num, uint64_t v)
{
	if (!num && !v)
		return;		/* an empty string: no label rather than a label without value */
	pb_uint(&w->sub, LABEL_KEY, key);
	/* A number is written even when 0: a label with neither str nor num is dropped. */
	pb_key(&w->sub, num ? LABEL_NUM : LABEL_STR, WIRE_VARINT);
	pb_varint(&w->sub, v);
	pb_sub(&w->msg, SAMPLE_LABEL, &w->sub);
}

static int write_labels(struct pprof *w, const struct stack *st)
{
	int64_t cat = str_id(w, cat_name(st->cat));

	if (cat < 0)
		return -ENOMEM;
	label(w, w->s_category, false, cat);
	label(w, w->s_pid, true, st->pid);
	label(w, w->s_tid, true, st->tid);
	label(w, w->s_thread, false, comm_id(w, (uint64_t)st->pid << 32 | st->tid, 0));
	label(w, w->s_process, false, comm_id(w, st->pid, 1));
	return 0;
}

static bool same_frame(const struct frame *a, const struct frame *b)
{
	return a->name == b->name && a->module == b->module && a->ip == b->ip &&
	       a->kernel == b->kernel;
}

/*
 * The location of every frame, root first, into w->cur. Stacks of a thread share their
 * roots (main, start_thread...): the prefix equal to the previous stack's is not looked up.
 */
static int stack_locs(struct pprof *w, const struct stack *st)
{
	const struct stack *prev = w->prev;
	struct locs cur = w->spare;
	uint32_t i = 0;

	if (grow_array((void **)&cur.v, &cur.cap, st->nframes, sizeof(*cur.v)))
		return -ENOMEM;
	for (; prev && i < st->nframes && i < prev->nframes; i++) {
		if (!same_frame(&st->frames[i], &prev->frames[i]))
			break;
		cur.v[i] = w->cur.v[i];
	}
	w->spare = w->cur;
	w->cur = cur;
	w->prev = st;
	for (; i < st->nframes; i++)
		if (!(cur.v[i] = frame_loc(w, &st->frames[i])))
			return -ENOMEM;
	return 0;
}

static int write_sample(struct pprof *w, const struct stack *st)
{
	uint32_t i, loc;

	if (stack_locs(w, st))
		return -ENOMEM;
	/* pprof lists the leaf first; the profile's frames run from the root. */
	for (i = st->nframes; i-- > 0;)
		pb_varint(&w->sub, w->cur.v[i]);
	loc = cat_loc(w, st->cat);
	if (!loc)
		return -ENOMEM;
	pb_varint(&w->sub, loc);
	pb_sub(&w->msg, SAMPLE_LOCATION_ID, &w->sub);
	pb_varint(&w->sub, st->count);
	pb_varint(&w->sub, st->ns);
	pb_sub(&w->msg, SAMPLE_VALUE, &w->sub);
	if (write_labels(w, st))
		return -ENOMEM;
	pb_sub(&w->out, PROFILE_SAMPLE, &w->msg);
	return 0;
}

static void write_value_type(struct pprof *w, unsigned int field, const char *type,
			     const char *unit)
{
	int64_t t = str_id(w, type), u = str_id(w, unit);

	if (t < 0 || u < 0) {
		w->out.oom = true;
		return;
	}
	pb_uint(&w->sub, VALUE_TYPE_TYPE, t);
	pb_uint(&w->sub, VALUE_TYPE_UNIT, u);
	pb_sub(&w->out, field, &w->sub);
}

static void write_tables(struct pprof *w)
{
	size_t i;

	for (i = 0; i < w->nmaps; i++) {
		pb_uint(&w->msg, MAPPING_ID, i + 1);
		pb_uint(&w->msg, MAPPING_FILENAME, w->maps[i]);
		/* Names are resolved already: keeps pprof from looking for the binaries. */
		pb_uint(&w->msg, MAPPING_HAS_FUNCTIONS, 1);
		pb_sub(&w->out, PROFILE_MAPPING, &w->msg);
	}
	for (i = 0; i < w->nlocs; i++) {
		pb_uint(&w->msg, LOCATION_ID, i + 1);
		pb_uint(&w->msg, LOCATION_MAPPING_ID, w->locs[i].mapping);
		pb_uint(&w->msg, LOCATION_ADDRESS, w->locs[i].addr);
		pb_uint(&w->sub, LINE_FUNCTION_ID, w->locs[i].func);
		pb_sub(&w->msg, LOCATION_LINE, &w->sub);
		pb_sub(&w->out, PROFILE_LOCATION, &w->msg);
	}
	for (i = 0; i < w->nfuncs; i++) {
		pb_uint(&w->msg, FUNCTION_ID, i + 1);
		pb_uint(&w->msg, FUNCTION_NAME, w->funcs[i].name);
		pb_uint(&w->msg, FUNCTION_SYSTEM_NAME, w->funcs[i].name);
		pb_uint(&w->msg, FUNCTION_FILENAME, w->funcs[i].file);
		pb_sub(&w->out, PROFILE_FUNCTION, &w->msg);
	}
}

static int write_header(struct pprof *w)
{
	const struct profile *p = w->p;
	int64_t time, comment;

	write_value_type(w, PROFILE_SAMPLE_TYPE, "samples", "count");
	write_value_type(w, PROFILE_SAMPLE_TYPE, "time", "nanoseconds");
	write_value_type(w, PROFILE_PERIOD_TYPE, "cpu", "nanoseconds");
	if (p->sample_hz)
		pb_uint(&w->out, PROFILE_PERIOD, 1000000000ull / p->sample_hz);
	pb_uint(&w->out, PROFILE_DURATION_NANOS, p->window_ns);
	time = str_id(w, "time");
	comment = str_id(w, "concur " CONCUR_VERSION);
	if (time < 0 || comment < 0)
		return -ENOMEM;
	pb_uint(&w->out, PROFILE_DEFAULT_SAMPLE_TYPE, time);
	pb_key(&w->out, PROFILE_COMMENT, WIRE_VARINT);
	pb_varint(&w->out, comment);
	return 0;
}

static int init_strings(struct pprof *w)
{
	static const char *const keys[] = { "", "category", "pid", "tid", "thread", "process" };
	int64_t ids[6];
	int i;

	/* string_table[0] must be "": interned first. */
	for (i = 0; i < 6; i++)
		if ((ids[i] = str_id(w, keys[i])) < 0)
			return -ENOMEM;
	w->s_category = ids[1];
	w->s_pid = ids[2];
	w->s_tid = ids[3];
	w->s_thread = ids[4];
	w->s_process = ids[5];
	return 0;
}

static int build(struct pprof *w)
{
	size_t i;
	int err;

	err = init_strings(w);
	if (!err)
		err = index_comms(w);
	for (i = 0; !err && i < w->p->nstacks; i++)
		err = write_sample(w, &w->p->stacks[i]);
	if (!err)
		err = write_header(w);
	if (err)
		return err;
	write_tables(w);
	for (i = 0; i < w->str.n; i++)
		pb_bytes(&w->out, PROFILE_STRING_TABLE, w->str.v[i].s, w->str.v[i].len);
	return w->out.oom || w->msg.oom || w->sub.oom ? -ENOMEM : 0;
}

static int deflate_to(z_stream *z, FILE *f, int flush)
{
	unsigned char chunk[GZ_CHUNK];
	size_t n;
	int ret;

	do {
		z->next_out = chunk;
		z->avail_out = sizeof(chunk);
		ret = deflate(z, flush);
		if (ret == Z_STREAM_ERROR)
			return -EIO;
		n = sizeof(chunk) - z->avail_out;
		if (n && fwrite(chunk, 1, n, f) != n)
			return -EIO;
	} while (z->avail_out == 0);
	return flush == Z_FINISH && ret != Z_STREAM_END ? -EIO : 0;
}

/* Writes buf as a gzip stream (windowBits 15 + 16: zlib's gzip wrapper). */
static int gzip_to(const uint8_t *buf, size_t len, FILE *f)
{
	z_stream z;
	size_t step;
	int err = 0;

	memset(&z, 0, sizeof(z));
	/* Fastest level: profiles are written at exit, when someone waits for them. */
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)buf;
	do {
		step = len > (1u << 30) ? (1u << 30) : len;	/* avail_in is 32 bits */
		z.avail_in = step;
		len -= step;
		err = deflate_to(&z, f, len ? Z_NO_FLUSH : Z_FINISH);
	} while (!err && len);
	deflateEnd(&z);
	return err;
}

static void release(struct pprof *w)
{
	free(w->str.v);
	free(w->str.slots);
	free(w->locs_by_frame.s);
	free(w->funcs_by_str.s);
	free(w->locs_by_key.s);
	free(w->maps_by_file.s);
	free(w->comms.s);
	free(w->funcs);
	free(w->locs);
	free(w->maps);
	free(w->cur.v);
	free(w->spare.v);
	free(w->out.d);
	free(w->msg.d);
	free(w->sub.d);
}

int write_pprof(const struct profile *p, const struct advice *a, FILE *f)
{
	struct pprof w;
	int err;

	(void)a;
	memset(&w, 0, sizeof(w));
	w.p = p;
	err = build(&w);
	if (!err)
		err = gzip_to(w.out.d, w.out.len, f);
	release(&w);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}
