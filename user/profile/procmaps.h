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

#endif
