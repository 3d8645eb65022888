// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "recording_cursor.h"

/* Records the first error; returns it. */
int rd_fail(struct rd *r, int ret, const char *fmt, ...)
{
	va_list ap;

	if (r->ret)
		return r->ret;
	r->ret = ret;
	if (r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int rd_corrupt(struct rd *r, const char *what)
{
	return rd_fail(r, -EBADMSG, "corrupt recording: %s: %s", r->section, what);
}

int rd_oom(struct rd *r)
{
	return rd_fail(r, -ENOMEM, "out of memory");
}

const uint8_t *rd_take_failed(struct rd *r)
{
	if (!r->ret)
		rd_corrupt(r, "ends early");
	return NULL;
}

/* A count of records of at least min_size bytes each: all of them must fit in what is left. */
uint32_t rd_count(struct rd *r, size_t min_size, uint32_t max)
{
	uint32_t n = rd_u32(r);

	if (r->ret)
		return 0;
	if (n > max) {
		rd_fail(r, -EBADMSG, "corrupt recording: %s: %u records, more than %u", r->section,
			n, max);
		return 0;
	}
	if ((uint64_t)n * min_size > r->left) {
		rd_fail(r, -EBADMSG, "corrupt recording: %s: %u records cannot fit in %zu bytes",
			r->section, n, r->left);
		return 0;
	}
	return n;
}

void rd_bytes(struct rd *r, void *dst, size_t n)
{
	const uint8_t *b = rd_take(r, n);

	if (b)
		memcpy(dst, b, n);
}

void rd_comm(struct rd *r, char comm[CONCUR_COMM_LEN])
{
	rd_bytes(r, comm, CONCUR_COMM_LEN);
	comm[CONCUR_COMM_LEN - 1] = '\0'; /* writers may read it as a C string */
}

uint32_t rd_cat(struct rd *r)
{
	uint32_t c = rd_u32(r);

	if (c >= CAT_MAX)
		rd_corrupt(r, "category out of range");
	return c < CAT_MAX ? c : 0;
}

void rd_cats(struct rd *r, uint64_t v[CAT_MAX])
{
	int c;

	for (c = 0; c < CAT_MAX; c++)
		v[c] = rd_u64(r);
}
