// SPDX-License-Identifier: MIT
/* A process's memory map into its unwind index: each executable mapping placed on its
 * object's table, written whole once every table it needs is in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "profile/procmaps.h"
#include "unwind_loader_int.h"

#define MAX_MAPS_IN 4096 /* executable mappings read per process */

static int open_mapped(uint32_t src, uint64_t start, uint64_t end)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", src, (unsigned long long)start,
		 (unsigned long long)end);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * One executable mapping into *m; false when it is left out (unreadable, no segment). An
 * object whose table is still being built is added to `pending`, and *m is not usable.
 */
static bool index_mapping(struct unwind_loader *l, uint32_t src, const struct maps_line *ml,
			  struct unwind_mapping *m, GPtrArray *pending)
{
	struct object *o = NULL;
	uint64_t bias = 0;
	int fd;

	*m = (struct unwind_mapping){ .start = ml->start, .end = ml->end };
	if (!strcmp(ml->path, "[vdso]")) {
		o = loader_vdso_object(l, src, ml->start, ml->end);
	} else if (ml->path[0] == '/') {
		fd = open_mapped(src, ml->start, ml->end);
		if (fd < 0)
			return false;
		o = loader_file_object(l, fd, ml->path);
		close(fd);
	} else {
		/* Anonymous code (a JIT's): frame pointers are all there is. */
		m->flags = UNWIND_MAP_FP;
		return true;
	}
	if (!o)
		return false;
	if (o->pending) {
		g_ptr_array_add(pending, o);
		return true;
	}
	loader_object_mapping(o, m);
	if (unwind_bias(o->segs, o->nsegs, ml->start, ml->offset, l->page, &bias))
		m->flags = UNWIND_MAP_FP; /* rows cannot be placed without a bias */
	m->bias = bias;
	return true;
}

struct mappings_read {
	struct unwind_loader *l;
	uint32_t src;
	GPtrArray *pending;
	GArray *maps; /* struct unwind_mapping */
};

/* procmaps_each_exec()'s visitor: 1 once MAX_MAPS_IN are kept. */
static int add_mapping(const struct maps_line *ml, void *ctx)
{
	struct mappings_read *r = ctx;
	struct unwind_mapping m;

	if (index_mapping(r->l, r->src, ml, &m, r->pending))
		g_array_append_val(r->maps, m);
	return r->maps->len >= MAX_MAPS_IN;
}

static GArray *read_mappings(struct unwind_loader *l, uint32_t src, GPtrArray *pending)
{
	struct mappings_read r = { l, src, pending,
				   g_array_new(FALSE, FALSE, sizeof(struct unwind_mapping)) };

	if (procmaps_each_exec(src, add_mapping, &r) < 0) {
		g_array_free(r.maps, TRUE);
		return NULL;
	}
	return r.maps;
}

int unwind_loader__sync(struct unwind_loader *l, uint32_t pid)
{
	GPtrArray *pending = g_ptr_array_new();
	struct unwind_proc *proc;
	GArray *maps = NULL;
	uint32_t src;
	int err = 0;

	if (!procmaps_source(pid, &src))
		maps = read_mappings(l, src, pending);
	if (!maps || !maps->len) {
		if (maps)
			g_array_free(maps, TRUE);
		g_ptr_array_unref(pending);
		g_hash_table_remove(l->waiting, GUINT_TO_POINTER(pid));
		return -ENOENT;
	}
	/* An index is written whole or not at all: until then the process keeps the one it has,
	 * or, without, its stacks take the kernel's frame-pointer walk (counted fp_fallback). */
	if (pending->len) {
		g_hash_table_replace(l->waiting, GUINT_TO_POINTER(pid), pending);
		g_array_free(maps, TRUE);
		return -EINPROGRESS;
	}
	g_ptr_array_unref(pending);
	g_hash_table_remove(l->waiting, GUINT_TO_POINTER(pid));
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

/* The objects every dynamically linked C program maps: glibc's, by their file names. */
static bool prefetched(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so.", 8) || !strncmp(base, "ld-linux", 8);
}

struct prefetch {
	struct unwind_loader *l;
	int started;
};

/* procmaps_each_exec()'s visitor over concur's own map. */
static int prefetch_mapping(const struct maps_line *ml, void *ctx)
{
	struct prefetch *p = ctx;
	int fd;

	if (ml->path[0] != '/' || !prefetched(ml->path))
		return 0;
	fd = open_mapped((uint32_t)getpid(), ml->start, ml->end);
	if (fd < 0)
		return 0;
	p->started += loader_file_object(p->l, fd, ml->path) != NULL;
	close(fd);
	return 0;
}

int unwind_loader__prefetch(struct unwind_loader *l)
{
	struct prefetch p = { l, 0 };

	procmaps_each_exec((uint32_t)getpid(), prefetch_mapping, &p);
	return p.started;
}
