/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_SYSCALLS_H
#define CONCUR_SYSCALLS_H

#include <stddef.h>

/*
 * The x86-64 syscall's name, a phrase for the CONCUR_* reasons that are no syscall ("fault" for
 * CONCUR_NO_SYSCALL, "stopped (job control)", "traced (ptrace stop)", "io_uring worker"...),
 * "syscall_N" when unknown.
 */
const char *syscall_name(int nr, char *buf, size_t size);

#endif
