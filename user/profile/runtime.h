/* SPDX-License-Identifier: MIT */
/* Which language runtime a process runs, from the files it maps: the advisor's hint. */
#ifndef CONCUR_RUNTIME_H
#define CONCUR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#define RUNTIME_LEN 16

/* Writes "CPython 3.11", "Node.js" or "JVM" for a mapped file's name and returns 1; returns 0,
 * out untouched, for any other file (Go: the symbolizer finds the section Go binaries carry,
 * see symbolizer__runtime). */
int runtime_of_module(const char *name, char out[RUNTIME_LEN]);
/* From /proc/PID/maps: a runtime, or "native"; -errno when the process is gone. */
int runtime_detect(uint32_t pid, char out[RUNTIME_LEN]);

#endif
