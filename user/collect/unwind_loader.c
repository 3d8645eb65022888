// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <glib.h>
#include "log.h"
#include "profile/profile.h"
#include "profile/procmaps.h"
#include "unwind_index.h"
#include "unwind_loader.h"
#include "unwind_table.h"

/* Bounds on what a hostile object or map can make us keep. */
#define MAX_SEGS    64
#define MAX_VDSO    (1u << 20)
#define MAX_MAPS_IN 4096 /* executable mappings read per process */

struct object {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	bool vdso;
	char *module;
	uint32_t slot; /* stop counters; 0: none */
	uint32_t row_lo, row_hi;
	uint32_t flags; /* UNWIND_MAP_* for every mapping of it */
	struct unwind_seg segs[MAX_SEGS];
	size_t nsegs;
};

struct unwind_loader {
	struct unwind_store s; /* where rows, rules and indexes go */
	GHashTable *rule_ids;  /* 12-byte rule → global index + 1 */
	GPtrArray *objs;       /* struct object * */
	const char *slots[UNWIND_MAX_OBJECTS];
	uint32_t nslots;
	struct unwind_loader_stats st;
	long page;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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
	l->nslots = 1; /* slot 0: no object */
	l->slots[0] = "[unknown]";
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

static void read_segs(Elf *elf, struct object *o)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && o->nsegs < MAX_SEGS; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			o->segs[o->nsegs++] =
				(struct unwind_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
}

/* The object's table into the kernel's arrays, or the FP flag when it has none. */
/*
 * The nice value tables are built at. The build is concur's largest use of CPU during the
 * window (measured here: 11-15 ms for a C program's 4 objects, 85-265 ms for the 37 of a
 * python3.11 process), and on a machine with few CPUs it took the workload's CPU. At nice 19
 * it yields to the workload (CFS weight 15 against 1024 at nice 0). A stack walked before its
 * table is in takes the frame-pointer walk and is counted (fp_fallback).
 */
#define BUILD_NICE 19

/*
 * The calling thread's nice value set to `nice`: its previous one, or INT_MIN if unchanged.
 * PRIO_PROCESS with a thread id applies to that thread alone (Linux, setpriority(2)). Only as
 * root: going back takes CAP_SYS_NICE, and a loop left at nice 19 would serve the memory-map
 * requests late under load.
 */
static int thread_nice(int nice)
{
	pid_t tid = gettid();
	int old;

	if (geteuid() != 0)
		return INT_MIN;
	errno = 0;
	old = getpriority(PRIO_PROCESS, tid);
	if ((old == -1 && errno) || old == nice || setpriority(PRIO_PROCESS, tid, nice))
		return INT_MIN;
	return old;
}

static void build_object(struct unwind_loader *l, struct object *o, Elf *elf)
{
	struct unwind_table *t = NULL;
	struct unwind_stats ts;
	uint64_t t0 = mono_ns();
	int err, nice;

	o->flags = UNWIND_MAP_FP;
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		l->st.no_cfi++;
		return;
	}
	read_segs(elf, o);
	if (built_by_go(elf))
		return;
	nice = thread_nice(BUILD_NICE);
	err = unwind_table__build(elf, &t, &ts);
	if (!err)
		err = load_table(l, o, t);
	/* Back to concur's own priority: lowering a nice value takes CAP_SYS_NICE (root has it).
	 * Without, the loop stays at BUILD_NICE, said at -vv. */
	if (nice != INT_MIN && setpriority(PRIO_PROCESS, gettid(), nice))
		pr_debug("unwind tables: cannot restore nice %d: %s", nice, strerror(errno));
	if (!err) {
		o->flags = 0;
		l->st.tables++;
	} else if (err == -ENOSPC) {
		l->st.full++;
	} else {
		l->st.no_cfi++;
	}
	l->st.build_ns += mono_ns() - t0;
	pr_debug("unwind table of %s: %u rows, %u rules (%s)", o->module, t ? t->nrows : 0,
		 t ? t->nrules : 0, err ? strerror(-err) : "loaded");
	unwind_table__free(t);
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

/* The object behind an open file, built on first sight. */
static struct object *file_object(struct unwind_loader *l, int fd, const char *path)
{
	struct stat sb;
	struct object *o;
	Elf *elf;
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
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	build_object(l, o, elf);
	elf_end(elf);
	return o;
}

/* *m's fields from object o (not its range nor bias). */
static void object_mapping(const struct object *o, struct unwind_mapping *m)
{
	m->obj = o->slot;
	m->flags = o->flags;
	m->row_lo = o->row_lo;
	m->row_hi = o->row_hi;
}

int unwind_loader__object(struct unwind_loader *l, int fd, const char *path,
			  struct unwind_mapping *m)
{
	struct object *o = file_object(l, fd, path);

	if (!o)
		return errno ? -errno : -ENOMEM;
	object_mapping(o, m);
	return 0;
}

/* The vDSO, read from the target's memory once: the same image in every process. */
static struct object *vdso_object(struct unwind_loader *l, uint32_t src, uint64_t start,
				  uint64_t end)
{
	char path[64];
	void *bytes = NULL;
	struct object *o;
	Elf *elf = NULL;
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
	if (n == (ssize_t)(end - start))
		elf = elf_memory(bytes, n);
	build_object(l, o, elf);
	elf_end(elf);
	free(bytes);
	return o;
}

static int open_mapped(uint32_t src, uint64_t start, uint64_t end)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", src, (unsigned long long)start,
		 (unsigned long long)end);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* One executable mapping into *m; false when it is left out (unreadable, no segment). */
static bool index_mapping(struct unwind_loader *l, uint32_t src, const struct maps_line *ml,
			  struct unwind_mapping *m)
{
	struct object *o = NULL;
	uint64_t bias = 0;
	int fd;

	*m = (struct unwind_mapping){ .start = ml->start, .end = ml->end };
	if (!strcmp(ml->path, "[vdso]")) {
		o = vdso_object(l, src, ml->start, ml->end);
	} else if (ml->path[0] == '/') {
		fd = open_mapped(src, ml->start, ml->end);
		if (fd < 0)
			return false;
		o = file_object(l, fd, ml->path);
		close(fd);
	} else {
		/* Anonymous code (a JIT's): frame pointers are all there is. */
		m->flags = UNWIND_MAP_FP;
		return true;
	}
	if (!o)
		return false;
	object_mapping(o, m);
	if (unwind_bias(o->segs, o->nsegs, ml->start, ml->offset, l->page, &bias))
		m->flags = UNWIND_MAP_FP; /* rows cannot be placed without a bias */
	m->bias = bias;
	return true;
}

static GArray *read_mappings(struct unwind_loader *l, uint32_t src)
{
	char path[64], *line = NULL;
	struct unwind_mapping m;
	struct maps_line ml;
	size_t len = 0;
	GArray *maps;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", src);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	maps = g_array_new(FALSE, FALSE, sizeof(m));
	while (getline(&line, &len, f) > 0 && maps->len < MAX_MAPS_IN) {
		line[strcspn(line, "\n")] = '\0';
		if (!maps_line_parse(line, &ml) && ml.exec && index_mapping(l, src, &ml, &m))
			g_array_append_val(maps, m);
	}
	free(line);
	fclose(f);
	return maps;
}

int unwind_loader__sync(struct unwind_loader *l, uint32_t pid)
{
	struct unwind_proc *proc;
	GArray *maps = NULL;
	uint32_t src;
	int err = 0;

	if (!procmaps_source(pid, &src))
		maps = read_mappings(l, src);
	if (!maps || !maps->len) {
		if (maps)
			g_array_free(maps, TRUE);
		return -ENOENT;
	}
	proc = malloc(sizeof(*proc));
	if (!proc) {
		g_array_free(maps, TRUE);
		return -ENOMEM;
	}
	l->st.dropped += unwind_index_build((struct unwind_mapping *)maps->data, maps->len, proc);
	err = l->s.put_index(l->s.ctx, pid, proc);
	if (!err)
		l->st.procs++;
	free(proc);
	g_array_free(maps, TRUE);
	return err;
}

void unwind_loader__forget(struct unwind_loader *l, uint32_t pid)
{
	l->s.put_index(l->s.ctx, pid, NULL);
}

const char *unwind_loader__slot_name(const struct unwind_loader *l, uint32_t slot)
{
	return slot < l->nslots ? l->slots[slot] : NULL;
}

void unwind_loader__stats(const struct unwind_loader *l, struct unwind_loader_stats *out)
{
	*out = l->st;
}

void unwind_loader__log(const struct unwind_loader *l)
{
	const struct unwind_loader_stats *st = &l->st;

	pr_info("unwind tables: %u objects (%u with a table, %u without CFI, %u over the limits), "
		"%u of %u rows, %u of %u rules, built in %.1f ms; %u indexes written, %u "
		"mappings left out",
		st->objects, st->tables, st->no_cfi, st->full, st->rows, st->max_rows, st->rules,
		st->max_rules, st->build_ns / 1e6, st->procs, st->dropped);
}

static uint64_t walks(const struct unwind_stops *s)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < UNWIND_STOP_MAX; k++)
		n += s->stop[k];
	return n;
}

static int cmp_stops(const void *a, const void *b)
{
	uint64_t x = walks(a), y = walks(b);

	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(((const struct unwind_stops *)a)->module,
		      ((const struct unwind_stops *)b)->module);
}

int unwind_loader__collect(const struct unwind_loader *l, int stats_fd, struct profile *p)
{
	int ncpus = libbpf_num_possible_cpus(), c, k;
	struct unwind_obj_stats *v;
	GArray *out;
	uint32_t slot;

	if (ncpus <= 0)
		return 0;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out = g_array_new(FALSE, TRUE, sizeof(struct unwind_stops));
	for (slot = 0; slot < l->nslots; slot++) {
		struct unwind_stops s = { 0 };

		if (bpf_map_lookup_elem(stats_fd, &slot, v))
			continue;
		for (c = 0; c < ncpus; c++) {
			for (k = 0; k < UNWIND_STOP_MAX; k++)
				s.stop[k] += v[c].stop[k];
			s.fp_frames += v[c].fp_frames;
		}
		if (!walks(&s) && !s.fp_frames)
			continue;
		s.module = profile__intern(p, l->slots[slot]);
		if (!s.module)
			break;
		g_array_append_val(out, s);
	}
	free(v);
	if (slot < l->nslots) {
		g_array_free(out, TRUE);
		return -ENOMEM;
	}
	qsort(out->data, out->len, sizeof(struct unwind_stops), cmp_stops);
	p->utables = (struct unwind_tables){ l->st.objects, l->st.tables,   l->st.no_cfi,
					     l->st.full,    l->st.rows,	    l->st.max_rows,
					     l->st.rules,   l->st.max_rules };
	g_free(p->ustops);
	p->nustops = out->len;
	p->ustops = (struct unwind_stops *)g_array_free(out, FALSE);
	return 0;
}
