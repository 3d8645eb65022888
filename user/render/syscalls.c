// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "concur.h"
#include "syscalls.h"

/* Generated at build time from the kernel headers' asm/unistd_64.h. */
static const char *const names[] = {
#include "syscall_names.h"
};

const char *syscall_name(int nr, char *buf, size_t size)
{
	if (nr == CONCUR_NO_SYSCALL)
		return "fault";
	if (nr >= 0 && (size_t)nr < sizeof(names) / sizeof(names[0]) && names[nr])
		return names[nr];
	snprintf(buf, size, "syscall_%d", nr);
	return buf;
}
