// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
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

/* Whether /proc/ID/maps lists anything: its first byte is enough. */
static bool maps_shown(uint32_t id)
{
	char path[64];
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "/proc/%u/maps", id);
	f = fopen(path, "re");
	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	return c != EOF;
}

int procmaps_each_exec(uint32_t src, procmaps_fn fn, void *ctx)
{
	char path[64], *line = NULL;
	struct maps_line ml;
	size_t len = 0;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", src);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!maps_line_parse(line, &ml) && ml.exec)
			ret = fn(&ml, ctx);
	}
	free(line);
	fclose(f);
	return ret;
}

int procmaps_source(uint32_t pid, uint32_t *src)
{
	char path[64], *end;
	struct dirent *e;
	unsigned long tid;
	int tried = 0, err = -ENOENT;
	DIR *d;

	*src = pid;
	if (maps_shown(pid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while (err && tried < PROCMAPS_TASKS_TRIED && (e = readdir(d))) {
		tid = strtoul(e->d_name, &end, 10);
		if (*end || end == e->d_name || !tid || tid == pid || tid > UINT32_MAX)
			continue;
		tried++;
		if (maps_shown(tid)) {
			*src = tid;
			err = 0;
		}
	}
	closedir(d);
	return err;
}
