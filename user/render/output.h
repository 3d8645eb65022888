/* SPDX-License-Identifier: MIT */
/*
 * The render stage: one writer per format, and the output files.
 *
 * Owns: every output format (terminal text, JSON, HTML, folded stacks, pprof, recordings and
 * the recording reader), and writing a file whole or not at all.
 * May not touch: the kernel, /proc or anything of the collect stage. A writer is a function
 * of (finished profile, its advice, FILE *): it reads both, changes neither, and never
 * computes advice itself (main computes it once for every writer).
 */
#ifndef CONCUR_OUTPUT_H
#define CONCUR_OUTPUT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include "advise/advise.h"

enum out_format { OUT_JSON, OUT_FOLDED, OUT_PPROF, OUT_HTML, OUT_RECORDING };

/* "…, …": the extensions that name a format, for messages. */
const char *output_extensions(void);
/* The format a path's extension names, or -EINVAL. */
int output_format(const char *path);
/* Whether path can be written later: a known extension, an existing directory that takes new
 * files, and no directory at the name itself. 0 or -errno (-EINVAL: unknown extension). Checked
 * before anything is launched, so a long run is not lost to a typo; a failure at the end (disk
 * full) is still reported by output_write. */
int output_check(const char *path);
/* Writes path through a temporary file renamed into place; a symlink at path is replaced,
 * never followed. */
int output_write(const struct profile *p, const struct advice *a, const char *path);

/* The writers: 0 or a negative errno (-EIO for a stream error). */
typedef int (*writer_fn)(const struct profile *p, const struct advice *a, FILE *f);
int write_json(const struct profile *p, const struct advice *a, FILE *f);
int write_folded(const struct profile *p, const struct advice *a, FILE *f);
int write_text(const struct profile *p, const struct advice *a, FILE *f, bool color);

#endif
