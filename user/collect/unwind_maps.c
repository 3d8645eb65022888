// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "unwind_maps.h"

int unwind_maps_size(const struct unwind_maps *m, bool cfi)
{
	struct bpf_map *all[] = { m->rows, m->rules, m->procs, m->stats, m->ustacks, m->asks };
	size_t i;
	int err = 0;

	for (i = 0; !err && !cfi && i < sizeof(all) / sizeof(all[0]); i++)
		err = bpf_map__set_max_entries(all[i], 1);
	return err;
}

/* An array map's memory, mapped shared: writes are the kernel's array's. len: whole pages
 * (the kernel maps the array's elements at their 8-byte-aligned stride, kernel/bpf/arraymap.c). */
static void *map_array(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t array_len(uint32_t n, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);

	return ((size_t)n * size + page - 1) / page * page;
}

/* p NULL: pid's index is withdrawn (none there is no error). */
static int put_index(void *ctx, uint32_t pid, const struct unwind_proc *p)
{
	int fd = (int)(intptr_t)ctx;

	if (!p)
		return bpf_map_delete_elem(fd, &pid) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &pid, p, BPF_ANY) ? -errno : 0;
}

void unwind_maps_release(struct unwind_store *s)
{
	if (s->rows)
		munmap(s->rows, array_len(s->max_rows, sizeof(*s->rows)));
	if (s->rules)
		munmap(s->rules, array_len(s->max_rules, sizeof(*s->rules)));
	*s = (struct unwind_store){ 0 };
}

int unwind_maps_store(const struct unwind_maps *m, struct unwind_store *s)
{
	*s = (struct unwind_store){
		.max_rows = bpf_map__max_entries(m->rows),
		.max_rules = bpf_map__max_entries(m->rules),
		.put_index = put_index,
		.ctx = (void *)(intptr_t)bpf_map__fd(m->procs),
	};
	s->rows = map_array(bpf_map__fd(m->rows), array_len(s->max_rows, sizeof(*s->rows)));
	s->rules = map_array(bpf_map__fd(m->rules), array_len(s->max_rules, sizeof(*s->rules)));
	if (!s->rows || !s->rules) {
		int err = -errno;

		unwind_maps_release(s);
		return err;
	}
	return 0;
}
