// SPDX-License-Identifier: MIT
#include <errno.h>
#include <unistd.h>
#include <glib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "thread_store.h"

/* Reading the iterator's file runs the program; it writes nothing to it. */
static int drain(int fd)
{
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n < 0 ? -errno : 0;
}

static struct bpf_link *attach_iter(struct bpf_program *prog, uint32_t pid)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = {};
	struct bpf_link *link;

	if (pid) {
		info.task.pid = pid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
		link = bpf_program__attach_iter(prog, &opts);
		/* Kernels before 6.1 iterate every task only: the program filters. */
		if (link || errno != EINVAL)
			return link;
	}
	return bpf_program__attach_iter(prog, NULL);
}

int thread_store_iterate(struct bpf_program *prog, uint32_t pid)
{
	struct bpf_link *link = attach_iter(prog, pid);
	int fd, err;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	err = fd < 0 ? -errno : drain(fd);
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	return err;
}

/* Keys first, deletions after: a hash walk must not step from a key it deleted. */
static int empty_map(int fd)
{
	GArray *keys = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	uint32_t key, *prev = NULL;
	size_t i;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		g_array_append_val(keys, key);
		prev = &g_array_index(keys, uint32_t, keys->len - 1);
	}
	for (i = 0; i < keys->len; i++)
		if (bpf_map_delete_elem(fd, &g_array_index(keys, uint32_t, i)) && errno != ENOENT) {
			err = -errno;
			break;
		}
	g_array_free(keys, TRUE);
	return err;
}

int thread_store_snapshot(struct bpf_program *snapshot, int threads_fd, __u64 *dropped)
{
	int err = empty_map(threads_fd);

	*dropped = 0;
	return err ? err : thread_store_iterate(snapshot, 0);
}
