// SPDX-License-Identifier: MIT
/* C++ names through the C++ runtime's own demangler (libstdc++'s __cxa_demangle). */
#include <stdlib.h>
#include <string.h>
#include "demangle.h"

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle(const char *sym)
{
	int status = 0;
	char *out;

	if (strncmp(sym, "_Z", 2))
		return NULL;
	out = __cxa_demangle(sym, NULL, NULL, &status);
	if (status) {
		free(out);
		return NULL;
	}
	return out;
}
