/* SPDX-License-Identifier: MIT */
/*
 * A cursor over a recording's untrusted bytes, for its reader: every read is bounded by what
 * is left, the first error sticks (with its one-line message), and reads after it give zeros.
 */
#ifndef CONCUR_RECORDING_CURSOR_H
#define CONCUR_RECORDING_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* A cursor over untrusted bytes; the first error sticks, and reads after it give zeros. */
struct rd {
	const uint8_t *p;
	size_t left;
	const char *section; /* for messages */
	char *err;
	size_t errlen;
	int ret;
};

/* Records the first error (ret, and the message); returns it. */
int rd_fail(struct rd *r, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* -EBADMSG, "corrupt recording: SECTION: what". */
int rd_corrupt(struct rd *r, const char *what);
int rd_oom(struct rd *r);
/* n bytes, or NULL (past the end: an error). */
const uint8_t *rd_take(struct rd *r, size_t n);
uint64_t rd_le(struct rd *r, int bytes);
uint32_t rd_u32(struct rd *r);
int32_t rd_i32(struct rd *r);
uint64_t rd_u64(struct rd *r);
/* A u8 that must be 0 or 1. */
bool rd_flag(struct rd *r);
/* A count of records of at least min_size bytes each, at most max: all of them must fit in
 * what is left, so nothing is allocated for a count the file cannot hold. */
uint32_t rd_count(struct rd *r, size_t min_size, uint32_t max);
void rd_bytes(struct rd *r, void *dst, size_t n);
/* CONCUR_COMM_LEN bytes, NUL-terminated whatever they hold. */
void rd_comm(struct rd *r, char comm[CONCUR_COMM_LEN]);
/* A u32 category, checked against CAT_MAX. */
uint32_t rd_cat(struct rd *r);
void rd_cats(struct rd *r, uint64_t v[CAT_MAX]);

#endif
