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
	switch (nr) {
	case CONCUR_NO_SYSCALL:
		return "fault";
	case CONCUR_STOPPED:
		return "stopped (job control)";
	case CONCUR_TRACED:
		return "traced (ptrace stop)";
	case CONCUR_FAULT_IO:
		return "fault (I/O)";
	case CONCUR_IO_WORKER_IDLE:
		return "io_uring worker idle";
	case CONCUR_IO_WORKER_REQ:
		return "io_uring worker";
	}
	if (nr >= 0 && (size_t)nr < sizeof(names) / sizeof(names[0]) && names[nr])
		return names[nr];
	snprintf(buf, size, "syscall_%d", nr);
	return buf;
}
