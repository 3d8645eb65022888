// SPDX-License-Identifier: MIT
/*
 * pprof output: the Profile message of profile.proto (our subset: user/render/profile.proto),
 * built as protobuf-c structs, packed by protobuf-c and gzip-compressed with zlib.
 *
 * The tables samples refer to (strings, functions, locations, mappings) are deduplicated in
 * GLib hash tables as the samples are built. GLib aborts when memory runs out; only the packed
 * message, the one allocation as large as the output, is allowed to fail.
 */
#include <errno.h>
#include <string.h>
#include <glib.h>
#include <zlib.h>
#include "out_pprof.h"
#include "profile.pb-c.h"

#define KERNEL_MODULE "[kernel]"
#define CONCUR_MODULE "[concur]" /* the pseudo module of the category root frames */
#define UNKNOWN	      "[unknown]"
#define GZ_CHUNK      (64 * 1024)
#define NVALUES	      2 /* samples/count, time/nanoseconds */
#define NLABELS	      5 /* category, pid, tid, thread, process */

/* A function, with the mapping its locations take (pprof puts it on the location). */
struct func {
	Perftools__Profiles__Function msg;
	uint64_t mapping;
};

/* A location and its one line. */
struct loc {
	Perftools__Profiles__Location msg;
	Perftools__Profiles__Line line;
	Perftools__Profiles__Line *lines[1];
};

/* The labels of one (pid, tid, category): every stack of it shares them. */
struct labels {
	Perftools__Profiles__Label label[NLABELS];
	Perftools__Profiles__Label *ptrs[NLABELS];
	size_t n;
};

/* A sample and its arrays in one allocation. */
struct sample {
	Perftools__Profiles__Sample msg;
	int64_t value[NVALUES];
	uint64_t loc[]; /* the frames' locations, leaf first, then the category's */
};

struct pprof {
	const struct profile *p;
	GPtrArray *strings;	 /* string_table: the text stays where it is */
	GHashTable *str_ids;	 /* text -> id + 1 */
	GStringChunk *comm_text; /* NUL-terminated copies of the comm fields */
	/* (name, module, address) pointers: one probe per frame as the profile interns names */
	GHashTable *locs_by_frame;
	struct loc_seen *loc_cache; /* LOC_CACHE entries in front of locs_by_frame */
	GHashTable *locs_by_key;    /* (function id, address): by content */
	GHashTable *funcs_by_str;   /* (name, file) string ids */
	GHashTable *maps_by_file;   /* (file string id) */
	GHashTable *comms;	    /* (pid << 32 | tid, 0) threads, (pid, 1) processes */
	GHashTable *label_sets;	    /* (pid, tid, category) -> struct labels */
	GPtrArray *samples, *mappings, *locs, *funcs;
	uint64_t cat_loc[CAT_MAX];
	const struct stack *prev; /* the last stack written, its locations in prev_loc */
	const uint64_t *prev_loc;
	uint32_t s_category, s_pid, s_tid, s_thread, s_process;
	Perftools__Profiles__ValueType types[NVALUES], period_type;
	Perftools__Profiles__ValueType *type_ptrs[NVALUES];
	int64_t comment;
};

/* A frame's location as last found, by its hash: 3 million frames of 100 000 stacks probed
 * locs_by_frame (a call to hash, one to compare) for a few thousand locations, a tenth of
 * the writer's time; a direct-mapped cache in front answers most of them. */
#define LOC_CACHE 16384
struct loc_seen {
	const char *name, *module;
	uint64_t ip;
	uint64_t id; /* 0: empty */
};

/* A hash table key of up to three integers. */
struct key {
	uint64_t v[3];
};

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static guint key_hash(gconstpointer p)
{
	const struct key *k = p;

	return mix64(k->v[0] ^ mix64(k->v[1] ^ mix64(k->v[2])));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct key));
}

/* A table from keys to ids (values not owned) or to blocks freed with it (free_value). */
static GHashTable *key_table(GDestroyNotify free_value)
{
	return g_hash_table_new_full(key_hash, key_equal, g_free, free_value);
}

/* The value of (a, b, c); NULL (id 0) when absent. */
static void *key_find(GHashTable *t, uint64_t a, uint64_t b, uint64_t c)
{
	struct key k = { { a, b, c } };

	return g_hash_table_lookup(t, &k);
}

static void key_add(GHashTable *t, uint64_t a, uint64_t b, uint64_t c, void *v)
{
	struct key k = { { a, b, c } };

	g_hash_table_insert(t, g_memdup2(&k, sizeof(k)), v);
}

static uint64_t id_find(GHashTable *t, uint64_t a, uint64_t b, uint64_t c)
{
	return GPOINTER_TO_SIZE(key_find(t, a, b, c));
}

static uint64_t id_add(GHashTable *t, uint64_t a, uint64_t b, uint64_t c, uint64_t id)
{
	key_add(t, a, b, c, GSIZE_TO_POINTER(id));
	return id;
}

/* The string id of s, which must outlive the writer. */
static uint32_t str_id(struct pprof *w, const char *s)
{
	void *id = g_hash_table_lookup(w->str_ids, s);

	if (id)
		return GPOINTER_TO_UINT(id) - 1;
	g_ptr_array_add(w->strings, (char *)s);
	g_hash_table_insert(w->str_ids, (char *)s, GUINT_TO_POINTER(w->strings->len));
	return w->strings->len - 1;
}

static uint64_t mapping_id(struct pprof *w, uint32_t file)
{
	uint64_t id = id_find(w->maps_by_file, file, 0, 0);
	Perftools__Profiles__Mapping *m;

	if (id)
		return id;
	m = g_new(Perftools__Profiles__Mapping, 1);
	perftools__profiles__mapping__init(m);
	m->id = w->mappings->len + 1;
	m->filename = file;
	/* Names are resolved already: keeps pprof from looking for the binaries. */
	m->has_functions = true;
	g_ptr_array_add(w->mappings, m);
	return id_add(w->maps_by_file, file, 0, 0, m->id);
}

/*
 * One function per (name, file): a native one's file is its object (module), a Python one's
 * its source file (source non-NULL), its mapping the interpreter's object all the same.
 */
static uint64_t function_src_id(struct pprof *w, const char *name, const char *module,
				const char *source)
{
	uint32_t n = str_id(w, name), m = str_id(w, module);
	uint32_t file = source ? str_id(w, source) : m;
	uint64_t id = id_find(w->funcs_by_str, n, file, source ? m + 1ull : 0);
	struct func *f;

	if (id)
		return id;
	f = g_new(struct func, 1);
	perftools__profiles__function__init(&f->msg);
	f->msg.id = w->funcs->len + 1;
	f->msg.name = f->msg.system_name = n;
	f->msg.filename = file;
	f->mapping = mapping_id(w, m);
	g_ptr_array_add(w->funcs, &f->msg);
	return id_add(w->funcs_by_str, n, file, source ? m + 1ull : 0, f->msg.id);
}

static uint64_t function_id(struct pprof *w, const char *name, const char *module)
{
	return function_src_id(w, name, module, NULL);
}

/*
 * A Python frame's function name: its name without the " (file:line)" the other outputs show
 * (built by concur from the same file and line, so matched exactly); kept in comm_text.
 */
static const char *python_function(struct pprof *w, const struct frame *f)
{
	const char *base = strrchr(f->file, '/');
	char suffix[64];
	size_t n = strlen(f->name), k;

	base = base ? base + 1 : f->file;
	if (f->line)
		snprintf(suffix, sizeof(suffix), ":%u)", f->line);
	else
		snprintf(suffix, sizeof(suffix), ":?)");
	k = strlen(suffix) + strlen(base) + 2;
	if (n <= k || strcmp(f->name + n - strlen(suffix), suffix) ||
	    strncmp(f->name + n - k, " (", 2) || strncmp(f->name + n - k + 2, base, strlen(base)))
		return f->name;
	return g_string_chunk_insert_len(w->comm_text, f->name, (gssize)(n - k));
}

/* Locations are one per (function, address, line): `-granularity=addresses` keeps its
 * meaning; a Python frame's address is its code object's, one per line it was seen at. */
static uint64_t location_line_id(struct pprof *w, uint64_t func, uint64_t addr, uint32_t line)
{
	uint64_t id = id_find(w->locs_by_key, func, addr, line);
	struct loc *l;

	if (id)
		return id;
	l = g_new(struct loc, 1);
	perftools__profiles__location__init(&l->msg);
	perftools__profiles__line__init(&l->line);
	l->line.function_id = func;
	l->line.line = line;
	l->lines[0] = &l->line;
	l->msg.id = w->locs->len + 1;
	l->msg.mapping_id = ((struct func *)w->funcs->pdata[func - 1])->mapping;
	l->msg.address = addr;
	l->msg.n_line = 1;
	l->msg.line = l->lines;
	g_ptr_array_add(w->locs, &l->msg);
	return id_add(w->locs_by_key, func, addr, line, l->msg.id);
}

static uint64_t location_id(struct pprof *w, uint64_t func, uint64_t addr)
{
	return location_line_id(w, func, addr, 0);
}

static uint64_t frame_loc_slow(struct pprof *w, const struct frame *f, const char *name,
			       const char *module)
{
	uint64_t id = id_find(w->locs_by_frame, (uintptr_t)name, (uintptr_t)module, f->ip);

	if (id)
		return id;
	if (f->file && !f->kernel)
		id = location_line_id(w, function_src_id(w, python_function(w, f), module, f->file),
				      f->ip, f->line);
	else
		id = location_id(w, function_id(w, name, module), f->ip);
	return id_add(w->locs_by_frame, (uintptr_t)name, (uintptr_t)module, f->ip, id);
}

/*
 * The hot path, once per frame: equal names are equal pointers in the profile, so one probe
 * by pointers finds a known location without hashing the bytes; the content tables behind it
 * still merge equal names at different addresses.
 */
static uint64_t frame_loc(struct pprof *w, const struct frame *f)
{
	const char *name = f->name && *f->name ? f->name : UNKNOWN;
	const char *module = f->kernel		     ? KERNEL_MODULE :
			     f->module && *f->module ? f->module :
						       UNKNOWN;
	struct key k = { { (uintptr_t)name, (uintptr_t)module, f->ip } };
	struct loc_seen *seen = &w->loc_cache[key_hash(&k) % LOC_CACHE];
	uint64_t id;

	if (seen->id && seen->name == name && seen->module == module && seen->ip == f->ip)
		return seen->id;
	id = frame_loc_slow(w, f, name, module);
	*seen = (struct loc_seen){ .name = name, .module = module, .ip = f->ip, .id = id };
	return id;
}

static const char *cat_name(uint32_t cat)
{
	return cat < CAT_MAX ? cat_names[cat] : UNKNOWN;
}

/* The root frame named after the category, as in the folded output "cat;main;...". */
static uint64_t cat_loc(struct pprof *w, uint32_t cat)
{
	if (cat >= CAT_MAX)
		return location_id(w, function_id(w, UNKNOWN, CONCUR_MODULE), 0);
	if (!w->cat_loc[cat])
		w->cat_loc[cat] = location_id(w, function_id(w, cat_names[cat], CONCUR_MODULE), 0);
	return w->cat_loc[cat];
}

/* comm is a fixed array from the kernel: not always NUL-terminated. */
static void add_comm(struct pprof *w, uint64_t key, uint64_t kind, const char *comm)
{
	size_t len = strnlen(comm, CONCUR_COMM_LEN);
	const char *text;

	/* A reused tid: the first thread's name stands. */
	if (!len || id_find(w->comms, key, kind, 0))
		return;
	text = g_string_chunk_insert_len(w->comm_text, comm, len);
	id_add(w->comms, key, kind, 0, str_id(w, text));
}

static void index_comms(struct pprof *w)
{
	const struct profile *p = w->p;
	const struct thread *a;
	size_t i;

	for (i = 0; i < p->nthreads; i++) {
		a = &p->threads[i];
		add_comm(w, (uint64_t)a->pid << 32 | a->tid, 0, a->comm);
	}
	for (i = 0; i < p->nprocs; i++)
		add_comm(w, p->procs[i].pid, 1, p->procs[i].comm);
}

/* Appends the label key = v to ls; a string label of "" is left out, a number never is. */
static void add_label(struct labels *ls, uint32_t key, bool num, uint64_t v)
{
	Perftools__Profiles__Label *l = &ls->label[ls->n];

	if (!num && !v)
		return; /* an empty string: no label rather than a label without value */
	perftools__profiles__label__init(l);
	l->key = key;
	/* A oneof member goes on the wire even when 0: a label with neither is dropped. */
	l->value_case = num ? PERFTOOLS__PROFILES__LABEL__VALUE_NUM :
			      PERFTOOLS__PROFILES__LABEL__VALUE_STR;
	if (num)
		l->num = v;
	else
		l->str = v;
	ls->ptrs[ls->n++] = l;
}

/* The labels of st's thread and category, made once and shared by its samples. */
static void set_labels(struct pprof *w, const struct stack *st, Perftools__Profiles__Sample *s)
{
	struct labels *ls = key_find(w->label_sets, st->pid, st->tid, st->cat);

	if (!ls) {
		ls = g_new0(struct labels, 1);
		add_label(ls, w->s_category, false, str_id(w, cat_name(st->cat)));
		add_label(ls, w->s_pid, true, st->pid);
		add_label(ls, w->s_tid, true, st->tid);
		add_label(ls, w->s_thread, false,
			  id_find(w->comms, (uint64_t)st->pid << 32 | st->tid, 0, 0));
		add_label(ls, w->s_process, false, id_find(w->comms, st->pid, 1, 0));
		key_add(w->label_sets, st->pid, st->tid, st->cat, ls);
	}
	s->n_label = ls->n;
	s->label = ls->ptrs;
}

static bool same_frame(const struct frame *a, const struct frame *b)
{
	return a->name == b->name && a->module == b->module && a->ip == b->ip &&
	       a->kernel == b->kernel;
}

/*
 * The location of every frame into loc, leaf first. Stacks of a thread share their roots
 * (main, start_thread...): the prefix equal to the previous stack's is not looked up.
 */
static void stack_locs(struct pprof *w, const struct stack *st, uint64_t *loc)
{
	const struct stack *prev = w->prev;
	uint32_t n = st->nframes, i = 0;

	for (; prev && i < n && i < prev->nframes; i++) {
		if (!same_frame(&st->frames[i], &prev->frames[i]))
			break;
		loc[n - 1 - i] = w->prev_loc[prev->nframes - 1 - i];
	}
	for (; i < n; i++)
		loc[n - 1 - i] = frame_loc(w, &st->frames[i]);
	w->prev = st;
	w->prev_loc = loc;
}

static void add_sample(struct pprof *w, const struct stack *st)
{
	struct sample *s = g_malloc(sizeof(*s) + (st->nframes + 1) * sizeof(*s->loc));

	perftools__profiles__sample__init(&s->msg);
	stack_locs(w, st, s->loc);
	s->loc[st->nframes] = cat_loc(w, st->cat);
	s->msg.n_location_id = st->nframes + 1;
	s->msg.location_id = s->loc;
	s->value[0] = st->count;
	s->value[1] = st->ns;
	s->msg.n_value = NVALUES;
	s->msg.value = s->value;
	set_labels(w, st, &s->msg);
	g_ptr_array_add(w->samples, &s->msg);
}

static void value_type(struct pprof *w, Perftools__Profiles__ValueType *vt, const char *type,
		       const char *unit)
{
	perftools__profiles__value_type__init(vt);
	vt->type = str_id(w, type);
	vt->unit = str_id(w, unit);
}

/* The Profile message over the tables; it points into w. */
static void fill_profile(struct pprof *w, Perftools__Profiles__Profile *pb)
{
	const struct profile *p = w->p;
	int i;

	perftools__profiles__profile__init(pb);
	value_type(w, &w->types[0], "samples", "count");
	value_type(w, &w->types[1], "time", "nanoseconds");
	value_type(w, &w->period_type, "cpu", "nanoseconds");
	for (i = 0; i < NVALUES; i++)
		w->type_ptrs[i] = &w->types[i];
	pb->n_sample_type = NVALUES;
	pb->sample_type = w->type_ptrs;
	pb->period_type = &w->period_type;
	if (p->sample_hz)
		pb->period = 1000000000ull / p->sample_hz;
	pb->duration_nanos = p->window_ns;
	pb->default_sample_type = str_id(w, "time");
	w->comment = str_id(w, "concur " CONCUR_VERSION);
	pb->n_comment = 1;
	pb->comment = &w->comment;
	pb->n_sample = w->samples->len;
	pb->sample = (Perftools__Profiles__Sample **)w->samples->pdata;
	pb->n_mapping = w->mappings->len;
	pb->mapping = (Perftools__Profiles__Mapping **)w->mappings->pdata;
	pb->n_location = w->locs->len;
	pb->location = (Perftools__Profiles__Location **)w->locs->pdata;
	pb->n_function = w->funcs->len;
	pb->function = (Perftools__Profiles__Function **)w->funcs->pdata;
	/* Last: the header above interns strings too. */
	pb->n_string_table = w->strings->len;
	pb->string_table = (char **)w->strings->pdata;
}

static void init_strings(struct pprof *w)
{
	/* string_table[0] must be "": interned first. */
	str_id(w, "");
	w->s_category = str_id(w, "category");
	w->s_pid = str_id(w, "pid");
	w->s_tid = str_id(w, "tid");
	w->s_thread = str_id(w, "thread");
	w->s_process = str_id(w, "process");
}

static void build(struct pprof *w, Perftools__Profiles__Profile *pb)
{
	size_t i;

	init_strings(w);
	index_comms(w);
	for (i = 0; i < w->p->nstacks; i++)
		add_sample(w, &w->p->stacks[i]);
	fill_profile(w, pb);
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
		step = len > (1u << 30) ? (1u << 30) : len; /* avail_in is 32 bits */
		z.avail_in = step;
		len -= step;
		err = deflate_to(&z, f, len ? Z_NO_FLUSH : Z_FINISH);
	} while (!err && len);
	deflateEnd(&z);
	return err;
}

/* Packs pb and writes it gzipped to f. */
static int pack_to(const Perftools__Profiles__Profile *pb, FILE *f)
{
	size_t len = perftools__profiles__profile__get_packed_size(pb);
	uint8_t *buf = g_try_malloc(len);
	int err;

	if (!buf)
		return -ENOMEM; /* never 0 bytes: the sample types are always there */
	perftools__profiles__profile__pack(pb, buf);
	err = gzip_to(buf, len, f);
	g_free(buf);
	return err;
}

static void init(struct pprof *w, const struct profile *p)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	w->strings = g_ptr_array_new();
	w->str_ids = g_hash_table_new(g_str_hash, g_str_equal);
	w->comm_text = g_string_chunk_new(1024);
	w->locs_by_frame = key_table(NULL);
	w->loc_cache = g_new0(struct loc_seen, LOC_CACHE);
	w->locs_by_key = key_table(NULL);
	w->funcs_by_str = key_table(NULL);
	w->maps_by_file = key_table(NULL);
	w->comms = key_table(NULL);
	w->label_sets = key_table(g_free);
	/* Each element's message is the first member of its block: g_free frees the block. */
	w->samples = g_ptr_array_new_with_free_func(g_free);
	w->mappings = g_ptr_array_new_with_free_func(g_free);
	w->locs = g_ptr_array_new_with_free_func(g_free);
	w->funcs = g_ptr_array_new_with_free_func(g_free);
}

static void release(struct pprof *w)
{
	g_ptr_array_unref(w->strings);
	g_hash_table_destroy(w->str_ids);
	g_string_chunk_free(w->comm_text);
	g_hash_table_destroy(w->locs_by_frame);
	g_free(w->loc_cache);
	g_hash_table_destroy(w->locs_by_key);
	g_hash_table_destroy(w->funcs_by_str);
	g_hash_table_destroy(w->maps_by_file);
	g_hash_table_destroy(w->comms);
	g_hash_table_destroy(w->label_sets);
	g_ptr_array_unref(w->samples);
	g_ptr_array_unref(w->mappings);
	g_ptr_array_unref(w->locs);
	g_ptr_array_unref(w->funcs);
}

int write_pprof(const struct profile *p, const struct advice *a, FILE *f)
{
	Perftools__Profiles__Profile pb;
	struct pprof w;
	int err;

	(void)a;
	init(&w, p);
	build(&w, &pb);
	err = pack_to(&pb, f);
	release(&w);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}
