// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "py_collect.h"
#include "log.h"
#include "profile/procmaps.h"
#include "profile/py_code.h"
#include "profile/py_debug_offsets.h"
#include "profile/py_offsets.h"
#include "profile/symbolize.h"

#define UNRESOLVED "[python]"

/* A process's CPython: its layout, or why there is none. */
struct pyproc {
	const struct py_offsets *o; /* NULL: no frames for it; the table's, or &own */
	struct py_offsets own;	    /* the table's with the process's _Py_DebugOffsets (3.13) */
	uint64_t code_type;
	const char *module; /* "python3.11", the frames' module */
};

struct code_key {
	uint32_t pid;
	uint32_t check;
	uint64_t code;
};

/* A code object as read: its name per instruction is made on demand. */
struct code_val {
	struct py_code c;  /* qualname NULL: could not be read (gone, freed, reused) */
	GHashTable *names; /* instr → interned "qualname (file:line)" */
};

/* A frame list as announced by the walker, in one process. */
struct list_key {
	uint32_t pid;
	uint32_t pad;
	uint64_t pystack;
};

/* Its code objects as read when it was announced: NULL where none could be trusted. */
struct list_val {
	uint32_t n;
	struct code_val *v[];
};

struct pyframes {
	int procs_fd, stacks_fd;
	volatile uint32_t *procs_any; /* the BPF side's py_procs_any */
	GHashTable *procs;	      /* pid → struct pyproc */
	GHashTable *codes; /* struct code_key → struct code_val: the first object read there */
	GHashTable *lists; /* struct list_key → struct list_val */
	GPtrArray *moved;  /* struct code_val: objects found at a cached key later (reused) */
	GStringChunk *strs;
	struct pyframes_counts counts;
};

static guint key_hash(gconstpointer p)
{
	const struct code_key *k = p;

	return g_int64_hash(&k->code) ^ k->pid * 2654435761u ^ k->check;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct code_key));
}

static void free_code(gpointer p)
{
	struct code_val *v = p;

	py_code_clear(&v->c);
	g_hash_table_destroy(v->names);
	g_free(v);
}

static guint list_hash(gconstpointer p)
{
	const struct list_key *k = p;

	return g_int64_hash(&k->pystack) ^ k->pid * 2654435761u;
}

static gboolean list_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct list_key));
}

struct pyframes *pyframes__new(int procs_fd, int stacks_fd, volatile uint32_t *procs_any)
{
	struct pyframes *pf = g_new0(struct pyframes, 1);

	pf->procs_fd = procs_fd;
	pf->stacks_fd = stacks_fd;
	pf->procs_any = procs_any;
	pf->procs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	pf->codes = g_hash_table_new_full(key_hash, key_equal, g_free, free_code);
	pf->lists = g_hash_table_new_full(list_hash, list_equal, g_free, g_free);
	pf->moved = g_ptr_array_new_with_free_func(free_code);
	pf->strs = g_string_chunk_new(4096);
	return pf;
}

void pyframes__free(struct pyframes *pf)
{
	if (!pf)
		return;
	g_hash_table_destroy(pf->procs);
	g_hash_table_destroy(pf->lists);
	g_hash_table_destroy(pf->codes);
	g_ptr_array_free(pf->moved, TRUE);
	g_string_chunk_free(pf->strs);
	g_free(pf);
}

/* Reads the target's memory (a live thread's view when the leader has left). */
static int read_target(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint32_t pid = *(uint32_t *)ctx;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* "CPython 3.11" → the layout, with the interpreter's object name in the process. */
static int find_layout(struct symbolizer *sym, uint32_t pid, unsigned int *major,
		       unsigned int *minor)
{
	char rt[16];

	if (symbolizer__runtime(sym, pid, rt) || sscanf(rt, "CPython %u.%u", major, minor) != 2)
		return -ENOENT;
	return 0;
}

/* The symbols the walker needs, in whichever object holds the interpreter. */
static int find_symbols(struct symbolizer *sym, uint32_t pid, unsigned int major,
			unsigned int minor, uint64_t *runtime, uint64_t *runtime_size,
			uint64_t *code_type, uint64_t *version)
{
	char lib[64], exe[32];
	const char *objs[2] = { lib, exe };
	uint64_t size;
	int i;

	snprintf(lib, sizeof(lib), "libpython%u.%u.so.1.0", major, minor);
	snprintf(exe, sizeof(exe), "python%u.%u", major, minor);
	for (i = 0; i < 2; i++) {
		if (symbolizer__address_of(sym, pid, objs[i], "_PyRuntime", runtime, runtime_size))
			continue;
		if (symbolizer__address_of(sym, pid, objs[i], "PyCode_Type", code_type, &size) ||
		    symbolizer__address_of(sym, pid, objs[i], "Py_Version", version, &size))
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

/*
 * The layout of a process whose table entry is base: base itself, or base with the offsets its
 * _PyRuntime publishes (3.13's _Py_DebugOffsets) when they are there and pass every check.
 */
static const struct py_offsets *target_layout(struct pyproc *pp, const struct py_offsets *base,
					      uint32_t *src, uint64_t runtime,
					      uint64_t runtime_size, uint32_t version)
{
	uint8_t blob[PY_DEBUG_OFFSETS_SIZE];
	struct py_debug_offsets d;
	uint64_t head;
	int err;

	if (runtime_size < sizeof(blob) || read_target(src, runtime, blob, sizeof(blob)))
		return base;
	err = py_debug_offsets_parse(blob, sizeof(blob), version, runtime_size, &d);
	/* interpreters.head: the main interpreter while it is the only one (3.12+ embed it in
	 * _PyRuntime; a subinterpreter's lies outside and is refused by the apply). NULL before
	 * Py_Initialize made it (a process seen at its exec): where the table puts it. */
	if (!err)
		err = read_target(src, runtime + d.interpreters_head, &head, sizeof(head));
	if (!err && !head)
		head = runtime + base->gil_start - d.interp_gil;
	if (!err)
		err = head < runtime ? -ERANGE :
				       py_debug_offsets_apply(&d, head - runtime, base, &pp->own);
	if (err) {
		if (err != -ENOENT)
			pr_debug("CPython's _Py_DebugOffsets refused (%s): concur's table used",
				 strerror(-err));
		return base;
	}
	return &pp->own;
}

int pyframes__note_proc(struct pyframes *pf, struct symbolizer *sym, uint32_t pid)
{
	uint64_t runtime, runtime_size, code_type, version_addr;
	const struct py_offsets *base, *o = NULL;
	unsigned int major, minor;
	struct pyproc *pp;
	struct py_proc entry;
	uint32_t version, src;
	char exe[32];
	int err;

	if (g_hash_table_contains(pf->procs, GUINT_TO_POINTER(pid)))
		return 0;
	if (find_layout(sym, pid, &major, &minor))
		return -ENOENT;
	pp = g_new0(struct pyproc, 1);
	g_hash_table_insert(pf->procs, GUINT_TO_POINTER(pid), pp);
	base = py_offsets_find(major, minor);
	if (!base) {
		pr_warn("process %u runs CPython %u.%u: no frame layout known, native frames only "
			"(concur knows %s)",
			pid, major, minor, py_offsets_known());
		return -ENOTSUP;
	}
	err = find_symbols(sym, pid, major, minor, &runtime, &runtime_size, &code_type,
			   &version_addr);
	/* Py_Version (PY_VERSION_HEX): 0x030b02f0 for 3.11.2; a build that lies is refused. */
	src = pid;
	procmaps_source(pid, &src);
	if (!err)
		err = read_target(&src, version_addr, &version, sizeof(version));
	if (!err && (version >> 24 != major || ((version >> 16) & 0xff) != minor))
		err = -EINVAL;
	if (!err)
		o = target_layout(pp, base, &src, runtime, runtime_size, version);
	if (!err)
		err = py_offsets_fill(o, runtime, runtime_size, code_type, &entry);
	if (!err && bpf_map_update_elem(pf->procs_fd, &pid, &entry, BPF_ANY))
		err = -errno;
	if (err) {
		/* Seen before the loader mapped libpython (at its exec): read again with the
		 * process's next memory map. */
		pr_debug("no Python frames for process %u (yet): %s", pid, strerror(-err));
		g_hash_table_remove(pf->procs, GUINT_TO_POINTER(pid));
		return err;
	}
	pp->o = o;
	pp->code_type = code_type;
	*pf->procs_any = 1; /* after the entry: the probes look it up from now on */
	snprintf(exe, sizeof(exe), "python%u.%u", major, minor);
	pp->module = g_string_chunk_insert_const(pf->strs, exe);
	pr_debug("Python frames for process %u (CPython %u.%u, _PyRuntime at %#llx, offsets "
		 "from %s; the table's entry checked on %s)",
		 pid, major, minor, (unsigned long long)runtime,
		 o == base ? "concur's table" : "its _Py_DebugOffsets", base->checked);
	return 0;
}

/* The code object behind a frame, read now if it was not; NULL when it cannot be. */
static struct code_val *code_of(struct pyframes *pf, uint32_t pid, const struct py_frame *f)
{
	struct code_key k = { pid, f->check, f->code & ~PY_FRAME_ENTRY };
	struct pyproc *pp = g_hash_table_lookup(pf->procs, GUINT_TO_POINTER(pid));
	struct code_val *v = g_hash_table_lookup(pf->codes, &k);
	uint32_t src = pid;

	if (v)
		return v->c.qualname ? v : NULL;
	if (!pp || !pp->o)
		return NULL;
	procmaps_source(pid, &src);
	v = g_new0(struct code_val, 1);
	v->names = g_hash_table_new(NULL, NULL);
	/* Another object at the address since the walker saw it: not the frame's code. */
	if (py_code_read(pp->o, pp->code_type, read_target, &src, k.code, &v->c) ||
	    v->c.check != f->check)
		py_code_clear(&v->c);
	g_hash_table_insert(pf->codes, g_memdup2(&k, sizeof(k)), v);
	return v->c.qualname ? v : NULL;
}

static bool read_stack(struct pyframes *pf, uint64_t pystack, struct py_stack *st)
{
	if (pystack == CONCUR_NO_PYSTACK || bpf_map_lookup_elem(pf->stacks_fd, &pystack, st))
		return false;
	if (st->n > CONCUR_PY_MAX_FRAMES)
		st->n = CONCUR_PY_MAX_FRAMES;
	return true;
}

static bool same_code(const struct py_code *a, const struct py_code *b)
{
	return a->check == b->check && a->firstline == b->firstline &&
	       !g_strcmp0(a->qualname, b->qualname) && !g_strcmp0(a->filename, b->filename);
}

/*
 * The code object behind a frame of a list announced now, while the object should still be
 * there. The fingerprint the walker checks is four header fields and the name string's address:
 * functions made from the same template (exec, lambdas) share the fields, and a name string
 * freed and reused can share the address too, so a freed object's address taken by another one
 * may keep the key of the cache. The object is read again and compared in full with what the key
 * holds; a
 * different one is kept apart, for this list. NULL: nothing trustworthy.
 */
static struct code_val *code_now(struct pyframes *pf, uint32_t pid, const struct py_frame *f)
{
	struct code_key k = { pid, f->check, f->code & ~PY_FRAME_ENTRY };
	struct pyproc *pp = g_hash_table_lookup(pf->procs, GUINT_TO_POINTER(pid));
	struct code_val *v = g_hash_table_lookup(pf->codes, &k), *now;
	struct py_code c;
	uint32_t src = pid;

	if (!v)
		return code_of(pf, pid, f);
	if (!pp || !pp->o)
		return NULL;
	procmaps_source(pid, &src);
	if (py_code_read(pp->o, pp->code_type, read_target, &src, k.code, &c))
		return v->c.qualname ? v : NULL; /* gone: what was read while it lived */
	if (c.check != f->check) {
		py_code_clear(&c);
		return NULL; /* replaced by another object since the walker saw it */
	}
	if (v->c.qualname && same_code(&v->c, &c)) {
		py_code_clear(&c);
		return v;
	}
	now = g_new0(struct code_val, 1);
	now->c = c;
	now->names = g_hash_table_new(NULL, NULL);
	g_ptr_array_add(pf->moved, now);
	return now;
}

void pyframes__resolve(struct pyframes *pf, uint32_t pid, uint64_t pystack)
{
	static struct py_stack st;
	struct list_key k = { .pid = pid, .pystack = pystack };
	struct list_val *l;
	uint32_t i;

	if (!read_stack(pf, pystack, &st))
		return;
	l = g_malloc0(sizeof(*l) + st.n * sizeof(l->v[0]));
	l->n = st.n;
	for (i = 0; i < st.n; i++)
		l->v[i] = code_now(pf, pid, &st.f[i]);
	g_hash_table_replace(pf->lists, g_memdup2(&k, sizeof(k)), l);
}

static const char *frame_name(struct pyframes *pf, struct code_val *v, int32_t instr)
{
	gpointer key = GINT_TO_POINTER(instr);
	char *name = g_hash_table_lookup(v->names, key);

	if (!name) {
		char *s = py_code_frame_name(&v->c, instr);

		name = g_string_chunk_insert_const(pf->strs, s);
		g_free(s);
		g_hash_table_insert(v->names, key, name);
	}
	return name;
}

size_t pyframes__frames(struct pyframes *pf, uint32_t pid, uint64_t pystack,
			struct pyframe_name *out, bool *truncated)
{
	struct pyproc *pp = g_hash_table_lookup(pf->procs, GUINT_TO_POINTER(pid));
	struct list_key k = { .pid = pid, .pystack = pystack };
	static struct py_stack st;
	struct list_val *l;
	struct code_val *v;
	uint32_t i;

	*truncated = false;
	if (!pp || !pp->module || !read_stack(pf, pystack, &st))
		return 0;
	*truncated = st.flags & PY_STACK_TRUNCATED;
	/* As read when announced; a list never announced (its notice lost) is read now. */
	l = g_hash_table_lookup(pf->lists, &k);
	if (l && l->n != st.n)
		l = NULL;
	for (i = 0; i < st.n; i++) {
		v = l ? l->v[i] : code_of(pf, pid, &st.f[i]);
		out[i].code = st.f[i].code & ~PY_FRAME_ENTRY;
		out[i].entry = st.f[i].code & PY_FRAME_ENTRY;
		out[i].name = v ? frame_name(pf, v, st.f[i].instr) : UNRESOLVED;
		out[i].module = pp->module;
		out[i].file = v ? g_string_chunk_insert_const(pf->strs, v->c.filename) : NULL;
		out[i].line = v ? (uint32_t)py_code_line(&v->c, st.f[i].instr) : 0;
		pf->counts.unresolved += !v;
	}
	return st.n;
}

struct pyframes_counts *pyframes__counts(struct pyframes *pf)
{
	return &pf->counts;
}

void pyframes__collect(struct pyframes *pf, int py_stats_fd, uint64_t out[PYC_MAX])
{
	static const uint8_t from_bpf[PY_STAT_MAX] = {
		[PY_STAT_STACKS] = PYC_LISTS,	     [PY_STAT_FRAMES] = PYC_FRAMES,
		[PY_STAT_NO_TSTATE] = PYC_NO_TSTATE, [PY_STAT_FAULT] = PYC_FAULTS,
		[PY_STAT_NOT_CODE] = PYC_NOT_CODE,   [PY_STAT_TRUNCATED] = PYC_TRUNCATED,
		[PY_STAT_FULL] = PYC_FULL,	     [PY_STAT_EVENTS_LOST] = PYC_NOTICES_LOST,
		[PY_STAT_GIL_WAITS] = PYC_GIL_WAITS, [PY_STAT_GIL_HOLDERS] = PYC_GIL_HOLDERS,
	};
	int ncpus = libbpf_num_possible_cpus(), c;
	__u64 *vals;
	__u32 i;

	memset(out, 0, PYC_MAX * sizeof(*out));
	vals = ncpus > 0 ? calloc(ncpus, sizeof(*vals)) : NULL;
	for (i = 0; vals && i < PY_STAT_MAX; i++)
		if (!bpf_map_lookup_elem(py_stats_fd, &i, vals))
			for (c = 0; c < ncpus; c++)
				out[from_bpf[i]] += vals[c];
	free(vals);
	out[PYC_UNRESOLVED] = pf->counts.unresolved;
	out[PYC_SPLICED] = pf->counts.spliced;
	out[PYC_ROOTED] = pf->counts.rooted;
	out[PYC_MISMATCHED] = pf->counts.mismatched;
	if (!out[PYC_LISTS] && !out[PYC_NO_TSTATE])
		return;
	pr_info("Python: %llu frame lists captured (%.1f frames each), %llu truncated, %llu "
		"without a thread state, %llu ended by a read fault, %llu by a non-code f_code, "
		"%llu lost to a full map, %llu notices lost; %llu frames named [python] (code "
		"object gone), stacks merged: %llu spliced, %llu under native frames that stop "
		"short of the eval loop, %llu mismatched; %llu GIL waits, %llu with the holder read",
		(unsigned long long)out[PYC_LISTS],
		out[PYC_LISTS] ? (double)out[PYC_FRAMES] / out[PYC_LISTS] : 0.0,
		(unsigned long long)out[PYC_TRUNCATED], (unsigned long long)out[PYC_NO_TSTATE],
		(unsigned long long)out[PYC_FAULTS], (unsigned long long)out[PYC_NOT_CODE],
		(unsigned long long)out[PYC_FULL], (unsigned long long)out[PYC_NOTICES_LOST],
		(unsigned long long)out[PYC_UNRESOLVED], (unsigned long long)out[PYC_SPLICED],
		(unsigned long long)out[PYC_ROOTED], (unsigned long long)out[PYC_MISMATCHED],
		(unsigned long long)out[PYC_GIL_WAITS], (unsigned long long)out[PYC_GIL_HOLDERS]);
}
