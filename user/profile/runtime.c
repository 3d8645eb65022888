// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procmaps.h"
#include "runtime.h"

/* "python3.11", "libpython3.11.so.1.0" → "3.11"; 0 when name is not CPython's. */
static int python_version(const char *name, char *ver, size_t size)
{
	const char *p = !strncmp(name, "libpython", 9) ? name + 9 :
			!strncmp(name, "python", 6)    ? name + 6 :
							 NULL;
	unsigned int major, minor;

	if (!p || sscanf(p, "%u.%u", &major, &minor) != 2 || major < 2 || major > 9)
		return 0;
	snprintf(ver, size, "%u.%u", major, minor % 100);
	return 1;
}

int runtime_of_module(const char *name, char out[RUNTIME_LEN])
{
	char ver[8];

	if (python_version(name, ver, sizeof(ver)))
		snprintf(out, RUNTIME_LEN, "CPython %s", ver);
	else if (!strcmp(name, "node") || !strncmp(name, "libnode.so", 10))
		snprintf(out, RUNTIME_LEN, "Node.js");
	else if (!strcmp(name, "libjvm.so"))
		snprintf(out, RUNTIME_LEN, "JVM");
	else
		return 0;
	return 1;
}

int runtime_detect(uint32_t pid, char out[RUNTIME_LEN])
{
	char path[64], *line = NULL, *name;
	struct maps_line ml;
	size_t len = 0;
	int found = 0;
	uint32_t src;
	FILE *f;

	/* Through a live thread when the leader has left (procmaps_source); else as it reads. */
	procmaps_source(pid, &src);
	snprintf(path, sizeof(path), "/proc/%u/maps", src);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (maps_line_parse(line, &ml) || !ml.exec || ml.path[0] != '/')
			continue;
		name = strrchr(ml.path, '/');
		found = runtime_of_module(name + 1, out);
	}
	free(line);
	fclose(f);
	if (!found)
		snprintf(out, RUNTIME_LEN, "native");
	return 0;
}
