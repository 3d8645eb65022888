// SPDX-License-Identifier: MIT
#include "printable.h"

size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Length of the printable character at s, 0 when it is shown as '?'. C1 controls
 * (U+0080-U+009F, 0xc2 0x80-0x9f) count: terminals take U+009B for the escape CSI. */
static size_t printable_len(const unsigned char *s, size_t n)
{
	size_t len = utf8_len(s, n);

	if (s[0] < 0x20 || s[0] == 0x7f || (len == 2 && s[0] == 0xc2 && s[1] < 0xa0))
		return 0;
	return len;
}

/* Unlocked: the caller holds the lock, once per string (folded stacks write millions). */
static void put_char(FILE *f, const unsigned char *s, size_t len)
{
	if (len == 1)
		putc_unlocked(*s, f);
	else if (len)
		fwrite_unlocked(s, 1, len, f);
	else
		putc_unlocked('?', f);
}

size_t printable_fputs(FILE *f, const char *str, size_t n, size_t cols)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, done = 0, len;

	if (f)
		flockfile(f);
	while (i < n && s[i] && done < cols) {
		/* Printable ASCII, nearly every name, in one write: a character at a time was most
		 * of the folded writer's time. */
		for (len = 0;
		     i + len < n && done + len < cols && s[i + len] >= 0x20 && s[i + len] < 0x7f;
		     len++)
			;
		if (len) {
			if (f)
				fwrite_unlocked(s + i, 1, len, f);
			i += len;
			done += len;
			continue;
		}
		len = printable_len(s + i, n - i);
		if (f)
			put_char(f, s + i, len);
		i += len ? len : 1;
		done++;
	}
	if (f)
		funlockfile(f);
	return done;
}
