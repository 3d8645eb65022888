/* SPDX-License-Identifier: MIT */
/* Recordings (.concur): a whole profile kept in a file, read back later to render any report. */
#ifndef CONCUR_RECORDING_H
#define CONCUR_RECORDING_H

#include <stddef.h>
#include <stdio.h>
#include "advise/advise.h"

/* Writes p as a recording (the advice is not kept: it is computed again from the profile);
 * 0 or a negative errno (-EINVAL for a frame without a name). */
int write_recording(const struct profile *p, const struct advice *a, FILE *f);

/* Wraps an already encoded body (header, compression, checksums): for tests and the fuzzer. */
int recording_write_body(const void *body, size_t len, FILE *f);

/*
 * Reads the recording at path into a new profile (*out, to free with profile__free). Returns
 * 0, or a negative errno with a one-line reason in err ("truncated recording", ...). The file
 * is not trusted: a damaged or crafted one is refused, never half-read.
 */
int recording_read(const char *path, struct profile **out, char *err, size_t errlen);
/* The same from len bytes at buf. */
int recording_read_mem(const void *buf, size_t len, struct profile **out, char *err, size_t errlen);

#endif
