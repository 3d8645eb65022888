/* SPDX-License-Identifier: MIT */
/*
 * A CPython code object read from its process: qualified name, file, first line and location
 * table, and the name a frame of it gets. Every byte comes from the target: sizes are bounded,
 * the object's type is checked, strings are decoded to UTF-8 (their printing is the writers').
 */
#ifndef CONCUR_PY_CODE_H
#define CONCUR_PY_CODE_H

#include <stddef.h>
#include <stdint.h>
#include "py_offsets.h"

/* Reads len bytes of the target at addr into buf: 0, or a negative errno. */
typedef int (*py_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Longest names kept, in characters. */
#define PY_NAME_MAX 1024
#define PY_FILE_MAX 4096

struct py_code {
	uint32_t check; /* py_code_check() of its header, as the walker computes it */
	int firstline;
	char *qualname; /* UTF-8, g_free'd by py_code_clear() */
	char *filename;
	uint8_t *linetable;
	size_t ltlen;
};

/*
 * Reads the code object at addr. 0; -EINVAL when it is no code object (its type is not
 * code_type, &PyCode_Type) or a field is out of bounds or malformed; the reader's error when
 * memory could not be read.
 */
int py_code_read(const struct py_offsets *o, uint64_t code_type, py_read_fn rd, void *ctx,
		 uint64_t addr, struct py_code *out);
void py_code_clear(struct py_code *c);

/* "qualname (file.py:line)" for instruction instr (file: the path's last part; "?" for a line
 * the table does not give). g_free it. */
char *py_code_frame_name(const struct py_code *c, int32_t instr);

/* The source line of instruction instr; 0 when the table does not give one. */
int py_code_line(const struct py_code *c, int32_t instr);

#endif
