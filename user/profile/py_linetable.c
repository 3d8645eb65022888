// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include "py_linetable.h"

/* The kinds of entry: the high nibble of its first byte's low 7 bits (locations.md). */
#define KIND_ONE_LINE0 10
#define KIND_NO_COLUMN 13
#define KIND_LONG      14
#define KIND_NONE      15

/* An unsigned varint: 6 bits a byte, low first, bit 6 says another follows. At most 5 bytes. */
static int read_varint(const uint8_t *t, size_t len, size_t *pos, uint32_t *out)
{
	uint32_t v = 0;
	int shift = 0;
	uint8_t b;

	do {
		if (*pos >= len || shift > 24)
			return -EINVAL;
		b = t[(*pos)++];
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return 0;
}

static int read_svarint(const uint8_t *t, size_t len, size_t *pos, int64_t *out)
{
	uint32_t u;
	int err = read_varint(t, len, pos, &u);

	if (err)
		return err;
	*out = u & 1 ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return 0;
}

/* Skips n varints (columns, end line): they must still be well formed. */
static int skip_varints(const uint8_t *t, size_t len, size_t *pos, int n)
{
	uint32_t u;
	int err = 0;

	while (!err && n--)
		err = read_varint(t, len, pos, &u);
	return err;
}

/* One entry at *pos: its length in code units and line delta; *none for "no location". */
static int read_entry(const uint8_t *t, size_t len, size_t *pos, uint32_t *units, int64_t *delta,
		      int *none)
{
	uint8_t b = t[(*pos)++];
	int kind = (b >> 3) & 15;

	if (!(b & 128))
		return -EINVAL;
	*units = (b & 7) + 1;
	*delta = 0;
	*none = kind == KIND_NONE;
	if (kind == KIND_LONG) {
		int err = read_svarint(t, len, pos, delta);

		return err ? err : skip_varints(t, len, pos, 3);
	}
	if (kind == KIND_NO_COLUMN)
		return read_svarint(t, len, pos, delta);
	if (kind >= KIND_ONE_LINE0 && kind < KIND_NO_COLUMN) {
		*delta = kind - KIND_ONE_LINE0;
		*pos += 2;
	} else if (kind < KIND_ONE_LINE0) {
		*pos += 1;
	}
	return *pos <= len ? 0 : -EINVAL;
}

int py_linetable_line(const uint8_t *table, size_t len, int first, int32_t instr, int *line)
{
	int64_t cur = first, delta;
	uint64_t addr = 0;
	size_t pos = 0;
	uint32_t units;
	int none, err;

	if (len > PY_LINETABLE_MAX || (!table && len))
		return -EINVAL;
	if (instr < 0) {
		*line = first;
		return 0;
	}
	while (pos < len) {
		err = read_entry(table, len, &pos, &units, &delta, &none);
		if (err)
			return err;
		cur += delta;
		if (cur < INT_MIN || cur > INT_MAX)
			return -EINVAL;
		addr += units;
		if ((uint64_t)instr < addr) {
			*line = none ? -1 : (int)cur;
			return 0;
		}
	}
	return -ENOENT;
}
