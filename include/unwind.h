/* SPDX-License-Identifier: MIT */
/*
 * The native unwinder's tables, shared by the builder (user/collect/unwind_table.c) and, later,
 * the BPF unwinder: per object, rows sorted by ELF address, each naming a rule; rules are
 * deduplicated. A row applies from its address up to the next row's address; an END row marks a
 * gap (no CFI there). Addresses are ELF virtual addresses (before the load bias).
 */
#ifndef CONCUR_UNWIND_H
#define CONCUR_UNWIND_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Rows per object and rules per object (a rule index is 16 bits). */
#ifndef UNWIND_MAX_ROWS
#define UNWIND_MAX_ROWS (1u << 21)
#endif
#ifndef UNWIND_MAX_RULES
#define UNWIND_MAX_RULES 65536u
#endif
/* FDEs per object: more than any Debian binary (libcrypto: 10 911). */
#ifndef UNWIND_MAX_FDES
#define UNWIND_MAX_FDES (1u << 20)
#endif

/* How to find the CFA (the caller's rsp before its call instruction). */
enum unwind_cfa_kind {
	UNWIND_CFA_INVALID = 0, /* not representable: the walk stops (truncated) */
	UNWIND_CFA_RSP,		/* rsp + cfa_off */
	UNWIND_CFA_RBP,		/* rbp + cfa_off */
	/* GCC's PLT expression: rsp + 8 + ((pc & 15) >= cfa_off ? 8 : 0); cfa_off is 10 or 11. */
	UNWIND_CFA_PLT,
	/* *(rsp + cfa_off) + rbp_off, and *(rbp + cfa_off) + rbp_off: realigned stacks (OpenSSL,
	 * signal trampolines). rbp_off holds the addend here, so rbp is UNCHANGED on such rows. */
	UNWIND_CFA_DEREF_RSP,
	UNWIND_CFA_DEREF_RBP,
};

/* How to recover the caller's rbp. */
enum unwind_rbp_kind {
	UNWIND_RBP_UNCHANGED = 0, /* same value (or undefined, or not representable: approximate) */
	UNWIND_RBP_SAVED,	  /* saved at CFA + rbp_off */
};

/* Where the return address is. */
enum unwind_ra_kind {
	UNWIND_RA_INVALID = 0,	  /* not representable: the walk stops (truncated) */
	UNWIND_RA_AT_CFA_MINUS_8, /* the normal case, after a call */
	UNWIND_RA_STOP,		  /* undefined: the outermost frame (_start, thread entry) */
	UNWIND_RA_IN_REGISTER,	  /* in a register (glibc's vfork): valid at the leaf only */
};

/* Rule flags. */
#define UNWIND_RULE_SIGNAL 0x1 /* a signal trampoline: the caller's state is a ucontext */

/* Row flags. */
#define UNWIND_ROW_END 0x1 /* no CFI from here to the next row (rule 0, the invalid rule) */

/* Rule 0 of every table: no CFA, no return address. END rows name it. */
#define UNWIND_RULE_NONE 0

/* 12 bytes, no padding: rules are compared bytewise. */
struct unwind_rule {
	__u8 cfa_kind; /* enum unwind_cfa_kind */
	__u8 rbp_kind; /* enum unwind_rbp_kind */
	__u8 ra_kind;  /* enum unwind_ra_kind */
	__u8 flags;    /* UNWIND_RULE_* */
	__s32 cfa_off;
	__s32 rbp_off;
};

/* 8 bytes: from elf_vaddr to the next row, `rule` applies. */
struct unwind_row {
	__u32 elf_vaddr;
	__u16 rule;
	__u16 flags; /* UNWIND_ROW_* */
};

#endif
