/* SPDX-License-Identifier: MIT */
/*
 * The unwind loader's state, shared by its files: unwind_loader.c (objects and their tables,
 * built in the background or at once), unwind_procs.c (a process's map into its index) and
 * unwind_stops.c (how the walks ended, by object). Internal to collect/.
 */
#ifndef CONCUR_UNWIND_LOADER_INT_H
#define CONCUR_UNWIND_LOADER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include "bg_worker.h"
#include "unwind_index.h"
#include "unwind_loader.h"

/* Bound on what a hostile object can make us keep: its PT_LOAD segments. */
#define MAX_SEGS 64

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
	bool pending;	/* its table is being built in the background */
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
	struct bg_worker *worker; /* NULL: tables are built in the caller's thread */
	enum bg_priority prio;	  /* the worker's, once it stopped (for the log) */
	uint64_t progress_ns;	  /* the worker's last sign of progress (CLOCK_MONOTONIC) */
	uint64_t progress_cpu;	  /* its CPU time then (bg_worker__cpu_ns()) */
	size_t inline_max;	  /* objects up to this size are built in the caller's thread */
	GHashTable *waiting;	  /* pid → GPtrArray of the pending objects its index waits for */
};

/* The object behind an open file (not kept), its table built on first sight; NULL on
 * failure. The vDSO's, read once from process src's memory at [start, end). */
struct object *loader_file_object(struct unwind_loader *l, int fd, const char *path);
struct object *loader_vdso_object(struct unwind_loader *l, uint32_t src, uint64_t start,
				  uint64_t end);
/* *m's fields from object o (not its range nor bias). */
void loader_object_mapping(const struct object *o, struct unwind_mapping *m);

#endif
