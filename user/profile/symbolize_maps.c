// SPDX-License-Identifier: MIT
/*
 * The symbolizer's view of a process: its executable mappings, read from /proc/PID/maps (or a
 * live thread's, when the leader has exited), each with the ELF image behind it opened through
 * /proc/PID/map_files (the same thread's). The target's paths are only ever read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mapgens.h"
#include "procmaps.h"
#include "strtab.h"
#include "symbolize_internal.h"

/* Opens a mapped file as the target sees it; the path is the target's, only read. */
static int open_mapped(uint32_t pid, uint64_t start, uint64_t end, const char *path)
{
	char buf[4200];
	int fd;

	snprintf(buf, sizeof(buf), "/proc/%u/map_files/%llx-%llx", pid, (unsigned long long)start,
		 (unsigned long long)end);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || path[0] != '/')
		return fd;
	snprintf(buf, sizeof(buf), "/proc/%u/root%s", pid, path);
	return open(buf, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

static const char *module_name(struct symbolizer *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", slash ? slash + 1 : path);
	/* "libfoo.so (deleted)": the file is gone, the name is still the one to show. */
	if (strlen(buf) > 10 && !strcmp(buf + strlen(buf) - 10, " (deleted)"))
		buf[strlen(buf) - 10] = '\0';
	return strtab__intern(s->strs, buf);
}

/* The directory of a mapped file's path, where its debug file may be; NULL when unusable. */
static const char *module_dir(struct symbolizer *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	char buf[4096];

	if (!slash || (size_t)(slash - path) >= sizeof(buf))
		return NULL;
	memcpy(buf, path, slash - path);
	buf[slash - path] = '\0';
	if (!buf[0])
		return strtab__intern(s->strs, "/");
	return debug_objdir_ok(buf) ? strtab__intern(s->strs, buf) : NULL;
}

/*
 * The vDSO has no file: its ELF image is read from the target's memory. It is the same
 * for every process of this kernel, so it is read once.
 */
static struct elf_image *vdso_image(struct symbolizer *s, uint32_t pid, uint64_t start,
				    uint64_t end)
{
	char path[64];
	Elf *elf = NULL;
	ssize_t n;
	int fd;

	if (s->vdso || end - start > MAX_VDSO)
		return s->vdso;
	s->vdso = calloc(1, sizeof(*s->vdso));
	s->vdso_bytes = malloc(end - start);
	snprintf(path, sizeof(path), "/proc/%u/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!s->vdso || !s->vdso_bytes || fd < 0)
		goto out;
	n = pread(fd, s->vdso_bytes, end - start, start);
	if (n == (ssize_t)(end - start))
		elf = elf_memory(s->vdso_bytes, n);
	if (elf && elf_kind(elf) == ELF_K_ELF && !symbolize_read_segments(elf, s->vdso))
		symbolize_read_symbols(s, elf, &s->vdso->own, false);
	elf_end(elf);
out:
	if (fd >= 0)
		close(fd);
	return s->vdso;
}

/* One line of /proc/PID/maps → a mapping, if it is executable and file-backed. */
static int parse_maps_line(struct symbolizer *s, uint32_t pid, const struct maps_line *ml,
			   struct mapping *m)
{
	uint64_t start = ml->start, end = ml->end, off = ml->offset;
	const char *path = ml->path;
	char buf[300];
	int fd;

	if (!strcmp(path, "[vdso]")) {
		*m = (struct mapping){ start,	 end,	  0, vdso_image(s, pid, start, end),
				       "[vdso]", "[vdso]" };
		return 0;
	}
	if (path[0] != '/')
		return -EINVAL; /* anonymous (JIT) code: nothing to read symbols from */
	*m = (struct mapping){ start, end, off, NULL, module_name(s, path), NULL };
	snprintf(buf, sizeof(buf), "[%s]", m->module);
	m->bracketed = strtab__intern(s->strs, buf);
	fd = open_mapped(pid, start, end, path);
	if (fd >= 0) {
		m->img = symbolize_image_for(s, fd, m->module, module_dir(s, path));
		close(fd);
	}
	return 0;
}

struct maps_read {
	struct symbolizer *s;
	uint32_t src;
	GArray *maps; /* struct mapping */
};

/* procmaps_each_exec()'s visitor: 1 once MAX_MAPPINGS are kept. */
static int add_mapping(const struct maps_line *ml, void *ctx)
{
	struct maps_read *r = ctx;
	struct mapping m;

	if (!parse_maps_line(r->s, r->src, ml, &m))
		g_array_append_val(r->maps, m);
	return r->maps->len >= MAX_MAPPINGS;
}

/* The executable mappings /proc/SRC/maps lists (SRC: a pid, or a tid), NULL when none. */
static GArray *read_maps(struct symbolizer *s, uint32_t src)
{
	struct maps_read r = { s, src, g_array_new(FALSE, FALSE, sizeof(struct mapping)) };
	GArray *maps = r.maps;

	if (procmaps_each_exec(src, add_mapping, &r) < 0) {
		g_array_free(maps, TRUE);
		return NULL;
	}
	if (!maps->len) {
		g_array_free(maps, TRUE);
		return NULL;
	}
	return maps;
}

int symbolizer__snapshot(struct symbolizer *s, uint32_t pid, symbolizer_gen_fn gen_of, void *ctx)
{
	int before = gen_of ? gen_of(pid, ctx) : 0, after;
	struct proc_maps *pm;
	GArray *maps = NULL;
	uint32_t src;

	if (before < 0)
		return before;
	/* Through a live thread when the leader has left (procmaps_source). */
	if (!procmaps_source(pid, &src))
		maps = read_maps(s, src);
	if (!maps)
		return -ENOENT; /* an exited process reads as empty: keep the snapshot we have */
	after = gen_of ? gen_of(pid, ctx) : 0;
	pm = after == before ? calloc(1, sizeof(*pm)) : NULL;
	if (!pm) {
		g_array_free(maps, TRUE);
		return after == before ? -ENOMEM : -EAGAIN;
	}
	pm->maps = symbolize_take(maps, &pm->n);
	if (mapgens__put(s->maps, pid, (uint32_t)before, pm)) {
		g_free(pm->maps);
		free(pm);
		return -ENOMEM;
	}
	return 0;
}

int symbolizer__inherit(struct symbolizer *s, uint32_t pid, uint32_t ppid, uint32_t pgen)
{
	struct fork_origin *o = malloc(sizeof(*o));

	if (!o || mapgens__put(s->forks, pid, 0, o)) {
		free(o);
		return -ENOMEM;
	}
	*o = (struct fork_origin){ ppid, pgen };
	return 0;
}

/* Forks followed back to the image read: a few (a child forking before it execs) at most. */
#define MAX_FORK_HOPS 8

const struct proc_maps *symbolize_image_maps(const struct symbolizer *s, uint32_t pid, uint32_t gen)
{
	const struct proc_maps *pm = mapgens__get(s->maps, pid, gen);
	const struct fork_origin *o;
	int hops;

	for (hops = 0; !pm && gen == 0 && hops < MAX_FORK_HOPS; hops++) {
		o = mapgens__get(s->forks, pid, 0);
		if (!o || o->ppid == pid)
			break;
		pid = o->ppid;
		gen = o->pgen;
		pm = mapgens__get(s->maps, pid, gen);
	}
	return pm;
}
