/* SPDX-License-Identifier: MIT */
/*
 * The CFI unwinder's tables in the kernel (include/unwind.h): each object a process maps
 * executable gets its table built once (unwind_table.c), cached by (device, inode, size,
 * mtime), its rows appended to the global row array and its rules to the global rule array;
 * the process's mapping index is written whole, replacing the last one. Bounded: objects,
 * rows and rules have limits; an object over them, or without usable CFI, is walked by frame
 * pointers (its mappings flagged UNWIND_MAP_FP) and counted.
 */
#ifndef CONCUR_UNWIND_LOADER_H
#define CONCUR_UNWIND_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "unwind.h"

struct unwind_loader;

/*
 * Where the loader writes: the global row and rule arrays (the kernel's, mapped into memory:
 * unwind_maps.c; plain memory in the unit tests) and each process's index. rules[0] is
 * zeroed by the loader (UNWIND_RULE_NONE). put_index writes pid's index, replacing any, or
 * with p NULL withdraws it: 0 or -errno.
 */
struct unwind_store {
	struct unwind_row *rows;
	struct unwind_rule_slot *rules;
	uint32_t max_rows, max_rules;
	int (*put_index)(void *ctx, uint32_t pid, const struct unwind_proc *p);
	void *ctx;
};

/* What the loader did, for the report. */
struct unwind_loader_stats {
	uint32_t objects;  /* distinct objects seen */
	uint32_t tables;   /* of them, with a table loaded */
	uint32_t no_cfi;   /* without usable CFI (or unreadable, or refused by the builder) */
	uint32_t full;	   /* left without a table: the row or rule array was full */
	uint32_t rows;	   /* rows in use in the kernel's array */
	uint32_t max_rows; /* its size */
	uint32_t rules;	   /* rules in use */
	uint32_t max_rules;
	uint32_t procs;	   /* mapping indexes written */
	uint32_t dropped;  /* executable mappings left out of an index (overlap, over the limit) */
	uint32_t unbuilt;  /* objects whose table was still being built when the worker stopped */
	uint32_t hurried;  /* times the background builder was raised to concur's priority */
	uint64_t build_ns; /* CPU time spent building tables (the builder's thread's clock) */
	uint64_t load_ns;  /* time spent copying them into the kernel's arrays (CLOCK_MONOTONIC) */
};

/*
 * Objects built in the caller's thread even with a background builder: a workload's own
 * binary, ld.so (0.7-1.2 ms for its 240 KiB here), the vDSO, most extension modules. Measured
 * on Debian's objects: libc.so.6 (1.9 MiB) 10-11 ms, ld.so (236 KiB) 0.7-1.2 ms, a test
 * program (22 KiB) 0.1-0.4 ms.
 */
#define UNWIND_INLINE_MAX (256u * 1024)

/* A loader writing into s (copied). NULL with errno on failure (EINVAL: s incomplete). */
struct unwind_loader *unwind_loader__new(const struct unwind_store *s);
void unwind_loader__free(struct unwind_loader *l);

/*
 * Tables built from now on on a background thread at the lowest priority (bg_worker.h), not
 * in the caller's: the build is concur's largest use of CPU while recording (11-15 ms for a
 * C program's 4 objects, 85-265 ms for a python3.11 process's 37 here), and it took the
 * workload's CPU on a machine with few. Objects of at most inline_max bytes (the file, or the
 * vDSO's image: the CFI cannot be larger) are still built in the caller's thread, at once:
 * UNWIND_INLINE_MAX is ~1 ms of building, less than a busy machine keeps the idle-priority
 * builder waiting for a CPU. The caller polls unwind_loader__fd() and calls
 * unwind_loader__serve(). 0, or -errno when the thread cannot be started (tables are then
 * built in the caller's thread, as before).
 */
int unwind_loader__background(struct unwind_loader *l, size_t inline_max);

/* With a background builder, an eventfd readable when built tables wait to be loaded; -1
 * without. */
int unwind_loader__fd(const struct unwind_loader *l);

/*
 * Loads the tables the background builder has finished into the store, then calls ready(pid)
 * for each process whose index waited for them and waits for no other (the caller syncs it
 * again: the map is read afresh). A builder that has finished nothing for a while (starved:
 * every CPU busy) is raised to the caller's priority. now: CLOCK_MONOTONIC ns. Returns when
 * to be called again at the latest (0: only when unwind_loader__fd() is readable). Loader's
 * thread.
 */
uint64_t unwind_loader__serve(struct unwind_loader *l, uint64_t now,
			      void (*ready)(uint32_t pid, void *ctx), void *ctx);

/*
 * Stops the background builder (its job in progress finishes, the others are dropped and
 * counted unbuilt: their objects keep frame pointers); tables are built in the caller's thread
 * from then on. Nothing without one.
 */
void unwind_loader__stop(struct unwind_loader *l);

/*
 * Reads pid's executable mappings (/proc/PID/maps, or a live thread's when the leader has
 * left), builds the tables of objects not seen before, and writes pid's index. 0, -ENOENT
 * when the process is gone, -EINPROGRESS when some of its objects' tables are being built
 * in the background (its index is left as it was, and unwind_loader__serve() names the
 * process when they are in), or the map update's -errno.
 */
int unwind_loader__sync(struct unwind_loader *l, uint32_t pid);

/*
 * Starts building the tables of the C library and the dynamic loader that concur itself maps
 * (libc.so.*, ld-linux*): nearly every target maps the same files, and objects are cached by
 * identity, so a new process's index does not wait for the largest table it needs (libc's,
 * 10-11 ms to build). The number of objects started; none when concur is linked otherwise.
 */
int unwind_loader__prefetch(struct unwind_loader *l);

/* Withdraws pid's index (its image changed while it was written): its stacks are walked by
 * frame pointers until the next sync. */
void unwind_loader__forget(struct unwind_loader *l, uint32_t pid);

/*
 * The table of the object open at fd (path names it), built and loaded on first sight, found
 * again by (device, inode, size, mtime) after: fills m's row range, stop-counter slot and
 * flags (UNWIND_MAP_FP when it has no table: no usable CFI, Go, the arrays were full, or it is
 * still being built in the background), not its address range nor bias. 0, or -errno when fd
 * cannot be stat'ed or memory runs out.
 */
int unwind_loader__object(struct unwind_loader *l, int fd, const char *path,
			  struct unwind_mapping *m);

/* The object name of a stop-counter slot (include/unwind.h), NULL for a slot not handed out
 * (slot 0: no object). */
const char *unwind_loader__slot_name(const struct unwind_loader *l, uint32_t slot);

struct profile;

/*
 * The walks' stop reasons from the kernel's per-CPU counters (stats_fd: unwind_stats) into
 * p->ustops, one record per object with any, most walks first; the loader's own figures into
 * p->utables. 0 or -ENOMEM.
 */
int unwind_loader__collect(const struct unwind_loader *l, int stats_fd, struct profile *p);

/* One line of what the loader did, at -v. */
void unwind_loader__log(const struct unwind_loader *l);

void unwind_loader__stats(const struct unwind_loader *l, struct unwind_loader_stats *out);

#endif
