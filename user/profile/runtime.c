// SPDX-License-Identifier: MIT
#include <stdio.h>
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

/* procmaps_each_exec()'s visitor: 1 once a mapped file names the runtime (into out). */
static int runtime_of_mapping(const struct maps_line *ml, void *out)
{
	return ml->path[0] == '/' && runtime_of_module(strrchr(ml->path, '/') + 1, out);
}

int runtime_detect(uint32_t pid, char out[RUNTIME_LEN])
{
	uint32_t src;
	int found;

	/* Through a live thread when the leader has left (procmaps_source); else as it reads. */
	procmaps_source(pid, &src);
	found = procmaps_each_exec(src, runtime_of_mapping, out);
	if (found < 0)
		return found;
	if (!found)
		snprintf(out, RUNTIME_LEN, "native");
	return 0;
}
