/* SPDX-License-Identifier: MIT */
/*
 * CPython 3.11's location table (co_linetable; Objects/locations.md in CPython): which source
 * line an instruction belongs to. The table comes from the target: untrusted, bounded.
 */
#ifndef CONCUR_PY_LINETABLE_H
#define CONCUR_PY_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Tables longer than this are refused (CPython's own are a few bytes per instruction). */
#define PY_LINETABLE_MAX (1u << 20)

/*
 * The line of instruction `instr` (an index in code units, -1 before the first) of a code
 * object that starts at line `first`, from its table of len bytes. *line = -1 when the
 * instruction has no line (an artificial one). 0; -ENOENT when the table ends before instr;
 * -EINVAL when the table is malformed (an entry without its start bit, a number running past
 * the end or over 30 bits, a line outside int's range, a table over PY_LINETABLE_MAX).
 */
int py_linetable_line(const uint8_t *table, size_t len, int first, int32_t instr, int *line);

#endif
