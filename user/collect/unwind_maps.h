/* SPDX-License-Identifier: MIT */
/*
 * The CFI unwinder's kernel maps (bpf/maps.bpf.h) as the loader's store (unwind_loader.h):
 * the row and rule arrays mapped into memory (BPF_F_MMAPABLE: a write is the kernel's), each
 * process's index written with a map update.
 */
#ifndef CONCUR_UNWIND_MAPS_H
#define CONCUR_UNWIND_MAPS_H

#include <stdbool.h>
#include "unwind_loader.h"

struct bpf_map;

/* The CFI unwinder's maps in the skeleton. */
struct unwind_maps {
	struct bpf_map *rows, *rules, *procs, *stats, *ustacks, *asks;
};

/* Before the skeleton loads: the maps at their sizes with cfi, one entry each without (they
 * then take no memory). 0 or libbpf's -errno. */
int unwind_maps_size(const struct unwind_maps *m, bool cfi);

/* After it loads: s over the maps (the arrays mapped). 0 or -errno (mmap's). */
int unwind_maps_store(const struct unwind_maps *m, struct unwind_store *s);

/* Unmaps what unwind_maps_store() mapped; s is then empty. */
void unwind_maps_release(struct unwind_store *s);

#endif
