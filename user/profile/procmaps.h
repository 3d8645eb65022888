/* SPDX-License-Identifier: MIT */
/* One line of /proc/PID/maps, parsed once for the symbolizer and runtime detection alike. */
#ifndef CONCUR_PROCMAPS_H
#define CONCUR_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>

/* "start-end perms offset dev inode path" (proc(5)); the line is the target's: untrusted. */
struct maps_line {
	uint64_t start, end; /* the mapped range */
	uint64_t offset;     /* of start into the file */
	bool exec;	     /* the permissions have 'x' */
	const char *path;    /* into the line: "" for anonymous memory, "[vdso]", "/usr/..." */
};

/* 0, or -EINVAL for a line not of that form. The path runs to the end of the line: strip
 * its newline first. */
int maps_line_parse(const char *line, struct maps_line *out);

/*
 * Calls fn(ml, ctx) for each executable mapping /proc/SRC/maps lists, in order (lines not of
 * maps_line_parse()'s form are skipped), until fn returns non-zero. That value, 0 when every
 * line was read, or -errno when the file cannot be opened. ml and its path last for the call.
 */
typedef int (*procmaps_fn)(const struct maps_line *ml, void *ctx);
int procmaps_each_exec(uint32_t src, procmaps_fn fn, void *ctx);

/*
 * The /proc entry whose maps show pid's address space: pid itself, or, once the thread-group
 * leader has left (pthread_exit: everything under /proc/PID/ that goes through its memory --
 * maps, map_files, mem -- reads empty while the process lives on in its other threads), the
 * first of its live threads (at most PROCMAPS_TASKS_TRIED) whose /proc/TID/ shows it (proc(5):
 * /proc/TID is the thread's own view). 0 and *src, or -ENOENT when none shows a map.
 */
#define PROCMAPS_TASKS_TRIED 64
int procmaps_source(uint32_t pid, uint32_t *src);

#endif
