// SPDX-License-Identifier: MIT
/*
 * Objects and their unwind tables: each object (a file by device, inode, size and mtime, or the
 * vDSO) built once, in the background or at once when small, its rows and deduplicated rules
 * loaded into the kernel's arrays. A process's index: unwind_procs.c; the counts: unwind_stops.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gelf.h>
#include <glib.h>
#include "log.h"
#include "unwind_loader_int.h"
#include "unwind_table.h"

/* Bound on what a hostile process can make us keep: its vDSO image. */
#define MAX_VDSO (1u << 20)
/*
 * How long the background builder may be starved before it is raised to concur's priority
 * (bg_worker__hurry()). At SCHED_IDLE it runs on a CPU nothing else wants, at once on a
 * machine with one free; when every CPU is busy it gets none (or crumbs: weight 3 against
 * 1024), and the stacks would stay on frame pointers for the whole window. Starved: neither a
 * table finished nor HURRY_MIN_SHARE of a CPU used over the last HURRY_NS. Judged on CPU time,
 * not on tables finished alone: python3.11's own table takes 50-80 ms to build, and a builder
 * busy on it at idle priority must not be raised to compete with the workload. 200 ms: a
 * raised builder takes a CPU from the workload at its start-up; at 50 ms, a Python client's
 * start-up under concur waited 38-45 ms on the run queue in 2 of 7 runs (advice_slow_server_io:
 * its async bound, set by that run, fell from ~6.8x to 4.5x), and none at 200 ms.
 */
#define HURRY_NS	(200 * 1000000ull)
#define HURRY_MIN_SHARE 10 /* percent of a CPU */

/*
 * One object's table to build: the file or image in, the table and segments out. Built on the
 * worker thread (run_build() touches nothing else), finished on the loader's (finish_build()).
 */
struct build_job {
	struct object *o; /* the loader's: the worker does not touch it */
	int fd;		  /* the object's file (the job's own descriptor), or -1 */
	void *bytes;	  /* or its image in memory (the vDSO), len bytes */
	size_t len;
	struct unwind_table *t; /* out: the table, NULL when err */
	struct unwind_seg segs[MAX_SEGS];
	size_t nsegs;
	bool go;	 /* built by Go: frame pointers, no table */
	int err;	 /* 0, -ENOEXEC (not ELF), or unwind_table__build()'s */
	uint64_t cpu_ns; /* the build's CPU time (the worker thread's clock) */
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static guint rule_hash_bytes(gconstpointer p)
{
	const unsigned char *b = p;
	guint h = 5381;
	size_t i;

	for (i = 0; i < sizeof(struct unwind_rule); i++)
		h = h * 33 + b[i];
	return h;
}

static gboolean rule_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct unwind_rule));
}

struct unwind_loader *unwind_loader__new(const struct unwind_store *s)
{
	struct unwind_loader *l;

	if (!s->rows || !s->rules || !s->max_rules || !s->put_index) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->s = *s;
	l->page = sysconf(_SC_PAGESIZE);
	l->rule_ids = g_hash_table_new_full(rule_hash_bytes, rule_equal, g_free, NULL);
	l->objs = g_ptr_array_new();
	l->waiting = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
	l->nslots = 1;
	/* Slot 0: walks of a process without an index (fp_fallback) and walks through code its
	 * index lacks (no_table): no object can be named in the kernel. */
	l->slots[0] = "[not in the index]";
	l->st.max_rows = s->max_rows;
	l->st.max_rules = s->max_rules;
	/* Rule 0, UNWIND_RULE_NONE: all zero, as the array already is. */
	memset(&l->s.rules[0], 0, sizeof(l->s.rules[0]));
	g_hash_table_insert(l->rule_ids, g_memdup2(&l->s.rules[0].r, sizeof(struct unwind_rule)),
			    GUINT_TO_POINTER(1));
	l->st.rules = 1;
	return l;
}

static void free_object(gpointer p)
{
	struct object *o = p;

	free(o->module);
	free(o);
}

void unwind_loader__free(struct unwind_loader *l)
{
	if (!l)
		return;
	unwind_loader__stop(l);
	g_hash_table_destroy(l->waiting);
	g_hash_table_destroy(l->rule_ids);
	g_ptr_array_set_free_func(l->objs, free_object);
	g_ptr_array_free(l->objs, TRUE);
	free(l);
}

/* The global index of rule r, added when new; -ENOSPC when the array is full. */
static int64_t global_rule(struct unwind_loader *l, const struct unwind_rule *r)
{
	gpointer v = g_hash_table_lookup(l->rule_ids, r);
	uint32_t i;

	if (v)
		return GPOINTER_TO_UINT(v) - 1;
	if (l->st.rules >= l->s.max_rules || l->st.rules > UINT16_MAX)
		return -ENOSPC;
	i = l->st.rules++;
	l->s.rules[i].r = *r;
	g_hash_table_insert(l->rule_ids, g_memdup2(r, sizeof(*r)), GUINT_TO_POINTER(i + 1));
	return i;
}

/*
 * Appends table t to the kernel's arrays, its rules renumbered into the global ones; sets
 * o's row range. -ENOSPC when either array is full (what was added of its rules stays: they
 * may serve the next object).
 */
static int load_table(struct unwind_loader *l, struct object *o, const struct unwind_table *t)
{
	uint16_t *ids;
	uint32_t i;
	int64_t g;

	if (t->nrows > l->s.max_rows - l->st.rows)
		return -ENOSPC;
	ids = calloc(t->nrules ? t->nrules : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < t->nrules; i++) {
		g = global_rule(l, &t->rules[i]);
		if (g < 0) {
			free(ids);
			return (int)g;
		}
		ids[i] = (uint16_t)g;
	}
	o->row_lo = l->st.rows;
	for (i = 0; i < t->nrows; i++) {
		struct unwind_row r = t->rows[i];

		r.rule = r.rule < t->nrules ? ids[r.rule] : UNWIND_RULE_NONE;
		l->s.rows[o->row_lo + i] = r;
	}
	l->st.rows += t->nrows;
	o->row_hi = l->st.rows;
	free(ids);
	return 0;
}

/* Go binaries keep frame pointers, and their .eh_frame does not cover Go code. */
static bool built_by_go(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) :
							    NULL;

		if (name && !strcmp(name, ".go.buildinfo"))
			return true;
	}
	return false;
}

static void read_segs(Elf *elf, struct build_job *j)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && j->nsegs < MAX_SEGS; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			j->segs[j->nsegs++] =
				(struct unwind_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
}

/* The worker's part: ELF in, table out; the job's file and image are released here. */
static void run_build(void *p)
{
	struct build_job *j = p;
	uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	Elf *elf = NULL;

	if (j->fd >= 0)
		elf = elf_begin(j->fd, ELF_C_READ_MMAP, NULL);
	else if (j->bytes)
		elf = elf_memory(j->bytes, j->len);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		j->err = -ENOEXEC;
	} else {
		read_segs(elf, j);
		j->go = built_by_go(elf);
		if (!j->go)
			j->err = unwind_table__build(elf, &j->t, NULL);
	}
	elf_end(elf);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->bytes);
	j->bytes = NULL;
	j->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

/* A job never finished (the worker stopped first), or finished with. */
static void drop_build(void *p)
{
	struct build_job *j = p;

	if (j->fd >= 0)
		close(j->fd);
	free(j->bytes);
	unwind_table__free(j->t);
	free(j);
}

/* The loader's part: the built table into the kernel's arrays, or the FP flag when none. */
static void finish_build(struct unwind_loader *l, struct build_job *j)
{
	struct object *o = j->o;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	int err = j->err;

	o->pending = false;
	o->flags = UNWIND_MAP_FP;
	memcpy(o->segs, j->segs, sizeof(o->segs));
	o->nsegs = j->nsegs;
	l->st.build_ns += j->cpu_ns;
	if (!j->go) {
		if (!err)
			err = load_table(l, o, j->t);
		if (!err) {
			o->flags = 0;
			l->st.tables++;
		} else if (err == -ENOSPC) {
			l->st.full++;
		} else {
			l->st.no_cfi++;
		}
	}
	l->st.load_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	pr_debug("unwind table of %s: %u rows, %u rules (%s), %.1f ms to build", o->module,
		 j->t ? j->t->nrows : 0, j->t ? j->t->nrules : 0,
		 j->go ? "Go: frame pointers" :
		 err   ? strerror(-err) :
			 "loaded",
		 j->cpu_ns / 1e6);
	drop_build(j);
}

/*
 * Builds o's table from fd (the job's own: closed when built) or bytes (freed when built):
 * on the worker when there is one (o pending until unwind_loader__serve() takes it), else now.
 */
static void start_build(struct unwind_loader *l, struct object *o, int fd, void *bytes, size_t len)
{
	struct build_job *j = calloc(1, sizeof(*j));

	o->flags = UNWIND_MAP_FP;
	if (!j) {
		if (fd >= 0)
			close(fd);
		free(bytes);
		l->st.no_cfi++;
		return;
	}
	*j = (struct build_job){ .o = o, .fd = fd, .bytes = bytes, .len = len };
	if (l->worker && (fd >= 0 ? (uint64_t)o->size : len) > l->inline_max) {
		o->pending = true;
		if (!bg_worker__pending(l->worker)) { /* it was idle, not slow */
			l->progress_ns = clock_ns(CLOCK_MONOTONIC);
			l->progress_cpu = bg_worker__cpu_ns(l->worker);
		}
		bg_worker__submit(l->worker, j);
		return;
	}
	run_build(j);
	finish_build(l, j);
}

static struct object *new_object(struct unwind_loader *l, const char *path)
{
	struct object *o = calloc(1, sizeof(*o));
	const char *slash = strrchr(path, '/');

	if (!o)
		return NULL;
	o->module = strdup(slash ? slash + 1 : path);
	if (!o->module) {
		free(o);
		return NULL;
	}
	if (l->nslots < UNWIND_MAX_OBJECTS) {
		o->slot = l->nslots++;
		l->slots[o->slot] = o->module;
	}
	g_ptr_array_add(l->objs, o);
	l->st.objects++;
	return o;
}

struct object *loader_file_object(struct unwind_loader *l, int fd, const char *path)
{
	struct stat sb;
	struct object *o;
	guint i;

	if (fstat(fd, &sb))
		return NULL;
	for (i = 0; i < l->objs->len; i++) {
		o = g_ptr_array_index(l->objs, i);
		if (!o->vdso && o->dev == sb.st_dev && o->ino == sb.st_ino &&
		    o->size == sb.st_size &&
		    o->mtime_ns == sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec)
			return o;
	}
	o = new_object(l, path);
	if (!o)
		return NULL;
	o->dev = sb.st_dev;
	o->ino = sb.st_ino;
	o->size = sb.st_size;
	o->mtime_ns = sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec;
	/* The build's own descriptor: the caller closes fd when this returns. */
	start_build(l, o, fcntl(fd, F_DUPFD_CLOEXEC, 0), NULL, 0);
	return o;
}

void loader_object_mapping(const struct object *o, struct unwind_mapping *m)
{
	m->obj = o->slot;
	m->flags = o->flags;
	m->row_lo = o->row_lo;
	m->row_hi = o->row_hi;
}

int unwind_loader__object(struct unwind_loader *l, int fd, const char *path,
			  struct unwind_mapping *m)
{
	struct object *o = loader_file_object(l, fd, path);

	if (!o)
		return errno ? -errno : -ENOMEM;
	loader_object_mapping(o, m);
	return 0;
}

/* The vDSO, read from the target's memory once: the same image in every process. */
struct object *loader_vdso_object(struct unwind_loader *l, uint32_t src, uint64_t start,
				  uint64_t end)
{
	char path[64];
	void *bytes = NULL;
	struct object *o;
	ssize_t n = -1;
	guint i;
	int fd;

	for (i = 0; i < l->objs->len; i++) {
		o = g_ptr_array_index(l->objs, i);
		if (o->vdso)
			return o;
	}
	o = new_object(l, "[vdso]");
	if (!o)
		return NULL;
	o->vdso = true;
	snprintf(path, sizeof(path), "/proc/%u/mem", src);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && end - start <= MAX_VDSO) {
		bytes = malloc(end - start);
		n = bytes ? pread(fd, bytes, end - start, (off_t)start) : -1;
	}
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)(end - start)) {
		free(bytes);
		bytes = NULL;
	}
	start_build(l, o, -1, bytes, bytes ? (size_t)n : 0);
	return o;
}

int unwind_loader__background(struct unwind_loader *l, size_t inline_max)
{
	l->inline_max = inline_max;
	if (l->worker)
		return 0;
	/* Before the worker's first libelf call: the version is process-wide state. */
	elf_version(EV_CURRENT);
	l->worker = bg_worker__new(run_build, drop_build);
	return l->worker ? 0 : -errno;
}

int unwind_loader__fd(const struct unwind_loader *l)
{
	return l->worker ? bg_worker__fd(l->worker) : -1;
}

uint64_t unwind_loader__serve(struct unwind_loader *l, uint64_t now,
			      void (*ready)(uint32_t pid, void *ctx), void *ctx)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	struct build_job *j;
	GHashTableIter it;
	gpointer key, val;
	size_t built = 0;
	uint64_t cpu;
	guint i;

	while (l->worker && (j = bg_worker__take(l->worker))) {
		finish_build(l, j);
		built++;
	}
	if (built) {
		l->progress_ns = now;
		l->progress_cpu = bg_worker__cpu_ns(l->worker);
	}
	g_hash_table_iter_init(&it, l->waiting);
	while (built && g_hash_table_iter_next(&it, &key, &val)) {
		GPtrArray *objs = val;

		for (i = 0; i < objs->len; i++)
			if (((struct object *)g_ptr_array_index(objs, i))->pending)
				break;
		if (i < objs->len)
			continue;
		g_array_append_val(pids, (uint32_t){ GPOINTER_TO_UINT(key) });
		g_hash_table_iter_remove(&it);
	}
	/* After the walk: ready() may sync, which changes `waiting`. */
	for (i = 0; i < pids->len; i++)
		ready(g_array_index(pids, uint32_t, i), ctx);
	g_array_free(pids, TRUE);
	if (!l->worker || !bg_worker__pending(l->worker))
		return 0;
	if (now - l->progress_ns < HURRY_NS)
		return l->progress_ns + HURRY_NS;
	cpu = bg_worker__cpu_ns(l->worker);
	if (cpu && cpu >= l->progress_cpu &&
	    (cpu - l->progress_cpu) * 100 >= (now - l->progress_ns) * HURRY_MIN_SHARE) {
		/* Running, on a long table: not starved. */
		l->progress_ns = now;
		l->progress_cpu = cpu;
		return now + HURRY_NS;
	}
	if (!bg_worker__hurried(l->worker)) {
		bg_worker__hurry(l->worker);
		l->st.hurried++;
		pr_debug(
			"unwind tables: no table built for %.0f ms, the builder raised to concur's "
			"priority",
			(now - l->progress_ns) / 1e6);
	}
	return 0; /* hurried: the next table wakes the loop */
}

void unwind_loader__stop(struct unwind_loader *l)
{
	struct object *o;
	guint i;

	if (!l->worker)
		return;
	l->prio = bg_worker__priority(l->worker);
	bg_worker__free(l->worker);
	l->worker = NULL;
	for (i = 0; i < l->objs->len; i++) {
		o = g_ptr_array_index(l->objs, i);
		if (o->pending) {
			o->pending = false;
			l->st.unbuilt++;
		}
	}
	g_hash_table_remove_all(l->waiting);
}

const char *unwind_loader__slot_name(const struct unwind_loader *l, uint32_t slot)
{
	return slot < l->nslots ? l->slots[slot] : NULL;
}

void unwind_loader__stats(const struct unwind_loader *l, struct unwind_loader_stats *out)
{
	*out = l->st;
}
