// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "procmaps.h"

int maps_line_parse(const char *line, struct maps_line *out)
{
	unsigned long long start, end, off;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &pos) < 4 ||
	    !pos)
		return -EINVAL;
	*out = (struct maps_line){ start, end, off, strchr(perms, 'x') != NULL, line + pos };
	return 0;
}
