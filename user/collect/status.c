// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "profile/profile.h"
#include "status.h"

#define STATUS_WIDTH 79

void status_format(char *buf, size_t size, double elapsed_s, const struct collect_snapshot *snap)
{
	size_t len;
	int c, n;

	n = snprintf(buf, size, "concur: %.1fs  %zu proc  %zu thr  %llu ev ", elapsed_s,
		     snap->procs, snap->threads, (unsigned long long)snap->events);
	len = n < 0 ? 0 : (size_t)n;
	for (c = 0; c < CAT_MAX && len < size; c++) {
		double v = snap->total ? 100.0 * snap->ns[c] / snap->total : 0;

		if (v < 0.5)
			continue;
		n = snprintf(buf + len, size - len, " %s %.0f%%", cat_short_names[c], v);
		if (n < 0 || len + n >= size || len + n > STATUS_WIDTH)
			break;
		len += n;
	}
	buf[len < size ? len : size - 1] = '\0';
}

void status_update(struct status *st, double elapsed_s, const struct collect_snapshot *snap)
{
	char line[STATUS_WIDTH + 1];

	status_format(line, sizeof(line), elapsed_s, snap);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	st->shown = true;
}

void status_clear(struct status *st)
{
	if (st->shown)
		fputs("\r\033[K", stderr);
	st->shown = false;
}
