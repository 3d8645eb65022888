/* SPDX-License-Identifier: GPL-2.0 */
/* The per-architecture register accessors, picked by the target the Makefile passes. */
#ifndef CONCUR_ARCH_BPF_H
#define CONCUR_ARCH_BPF_H

#if defined(__TARGET_ARCH_x86)
#include "arch/x86.bpf.h"
#else
#error "bpf/arch/ has no header for this architecture: concur needs the syscall nr, return value" \
	"and first argument, the user instruction and stack pointers from struct pt_regs, and" \
	"ENOSYS (see bpf/arch/x86.bpf.h)"
#endif

#endif
