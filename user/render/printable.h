/* SPDX-License-Identifier: MIT */
/*
 * Strings from the target (comms, command lines, paths, symbol names) shown as text, the
 * one rule for every text writer: valid UTF-8 stays; control characters (C0, DEL and C1)
 * and bytes that are not UTF-8 become '?', one per byte, so that no name can move a
 * terminal's cursor, start an escape sequence or break a line-based format.
 */
#ifndef CONCUR_PRINTABLE_H
#define CONCUR_PRINTABLE_H

#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t utf8_len(const unsigned char *s, size_t n);

/*
 * Writes s (at most n bytes, up to its NUL) made printable, at most cols characters of it;
 * returns how many characters it wrote. With f NULL it only counts them.
 */
size_t printable_fputs(FILE *f, const char *s, size_t n, size_t cols);

/* How many characters printable_fputs() shows for s. */
static inline size_t printable_cols(const char *s, size_t n)
{
	return printable_fputs(NULL, s, n, SIZE_MAX);
}

#endif
