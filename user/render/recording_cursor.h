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
#include <string.h>
#include <endian.h>
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
/* rd_take's error path, out of line (rare): records "ends early" unless an error came first;
 * NULL. */
const uint8_t *rd_take_failed(struct rd *r);

/* Inline: a recording of 100 000 stacks reads tens of millions of fields, and a call per field
 * (and a loop per byte) was a tenth of concur report's time. Same checks, same errors. */
/* n bytes, or NULL (past the end: an error). */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *b = r->p;

	if (r->ret || n > r->left)
		return rd_take_failed(r);
	r->p += n;
	r->left -= n;
	return b;
}

/* A little-endian integer of 1 to 8 bytes; 0 past the end. */
static inline uint64_t rd_le(struct rd *r, int bytes)
{
	const uint8_t *b = rd_take(r, bytes);
	uint64_t v = 0;

	if (b)
		memcpy(&v, b, bytes);
	return le64toh(v);
}

static inline uint32_t rd_u32(struct rd *r)
{
	return rd_le(r, 4);
}

static inline int32_t rd_i32(struct rd *r)
{
	return (int32_t)rd_le(r, 4);
}

static inline uint64_t rd_u64(struct rd *r)
{
	return rd_le(r, 8);
}

/* A u8 that must be 0 or 1. Inline: a frame has two. */
static inline bool rd_flag(struct rd *r)
{
	uint64_t v = rd_le(r, 1);

	if (v > 1)
		rd_corrupt(r, "a flag is neither 0 nor 1");
	return v;
}

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
