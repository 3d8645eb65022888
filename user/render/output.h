/* SPDX-License-Identifier: MIT */
/* Output files: format from the extension, written whole or not at all. */
#ifndef CONCUR_OUTPUT_H
#define CONCUR_OUTPUT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include "profile/profile.h"

enum out_format { OUT_JSON, OUT_FOLDED, OUT_PPROF, OUT_HTML, OUT_RECORDING };

/* "…, …": the extensions that name a format, for messages. */
const char *output_extensions(void);
/* The format a path's extension names, or -EINVAL. */
int output_format(const char *path);
/* Writes path through a temporary file renamed into place; a symlink at path is replaced,
 * never followed. */
int output_write(const struct profile *p, const char *path);

int write_json(const struct profile *p, FILE *f);
int write_folded(const struct profile *p, FILE *f);
int write_text(const struct profile *p, FILE *f, bool color);

#endif
