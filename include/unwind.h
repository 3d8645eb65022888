/* SPDX-License-Identifier: MIT */
/*
 * The native unwinder's tables, shared by the builder (user/collect/unwind_table.c), the loader
 * (user/collect/unwind_loader.c) and the BPF unwinder (bpf/unwind.bpf.h): per object, rows
 * sorted by ELF address, each naming a rule; rules are deduplicated. A row applies from its
 * address up to the next row's address; an END row marks a gap (no CFI there). Addresses are
 * ELF virtual addresses (before the load bias).
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
	UNWIND_RA_IN_REGISTER,	  /* in another register: not followed (the walk stops) */
	/* In rdi, CFA rsp + cfa_off: glibc's vfork pops its return address into rdi around the
	 * syscall (its CFI: "register r16 (rip) in r5 (rdi)"). Followed at the leaf only, where
	 * the thread's rdi is known (its saved user registers). */
	UNWIND_RA_IN_RDI,
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

/*
 * In the kernel: every loaded object's rows in one global array (unwind_rows), every distinct
 * rule once in another (unwind_rules; a loaded row's `rule` indexes it), and per process its
 * executable mappings (unwind_procs). Sizes of the global arrays when --unwind=cfi (8 MiB of
 * rows: libc 25 653 rows, python3.11 66 437, redis-server 38 573 on Debian 12).
 */
#ifndef UNWIND_GLOBAL_ROWS
#define UNWIND_GLOBAL_ROWS (1u << 20)
#endif
#ifndef UNWIND_GLOBAL_RULES
#define UNWIND_GLOBAL_RULES 16384u
#endif
/* Executable mappings per process (a power of two: the BPF search masks its index). */
#define UNWIND_MAX_MAPPINGS 256u
/* Processes with a mapping index at once. */
#ifndef UNWIND_MAX_PROCS
#define UNWIND_MAX_PROCS 4096u
#endif
/* Objects with their own stop counters; slot 0 is "no object" (unknown code, no index). */
#ifndef UNWIND_MAX_OBJECTS
#define UNWIND_MAX_OBJECTS 1024u
#endif
/* Frames per user stack: CONCUR_STACK_DEPTH, the kernel's walk's depth too. */
#define UNWIND_MAX_FRAMES 127u

/* Value of the kernel's rule array: a BPF array's elements are 8-byte aligned (its values
 * sit round_up(value_size, 8) apart, kernel/bpf/arraymap.c), and userspace writes them
 * through mmap at that stride. */
struct unwind_rule_slot {
	struct unwind_rule r;
	__u32 pad;
};

/* Mapping flags. */
#define UNWIND_MAP_FP 0x1 /* no table for this object: walk it by frame pointers */

/* One executable mapping of a process: [start, end) at run time, ELF address + bias. */
struct unwind_mapping {
	__u64 start, end;
	__u64 bias;
	__u32 row_lo, row_hi; /* the object's rows in unwind_rows: [row_lo, row_hi) */
	__u32 obj;	      /* its stop counters' slot (0: none) */
	__u32 flags;	      /* UNWIND_MAP_* */
};

/* Value of unwind_procs: a process's executable mappings, sorted by start, not overlapping. */
struct unwind_proc {
	__u32 n;
	__u32 pad;
	struct unwind_mapping m[UNWIND_MAX_MAPPINGS];
};

/*
 * How a CFI walk of a user stack ended, counted per object (the one holding the last frame
 * looked at; slot 0 when none does) in unwind_stats.
 */
#define UNWIND_STOPS(X)                                                                          \
	/* reached the outermost frame (return address undefined or 0) */                        \
	X(UNWIND_STOP_COMPLETE, "complete")                                                      \
	/* the process had no mapping index yet: the kernel's frame-pointer walk instead */      \
	X(UNWIND_STOP_FP_FALLBACK, "fp_fallback")                                                \
	/* a frame in no known mapping, or a frame-pointer step that failed where no table is */ \
	X(UNWIND_STOP_NO_TABLE, "no_table")                                                      \
	/* the user stack could not be read there (bpf_probe_read_user failed) */                \
	X(UNWIND_STOP_READ_FAULT, "unreadable")                                                  \
	/* UNWIND_MAX_FRAMES frames and more to go */                                            \
	X(UNWIND_STOP_DEPTH, "depth_limit")                                                      \
	/* a rule the unwinder cannot follow (not representable CFI) */                          \
	X(UNWIND_STOP_INVALID, "invalid_rule")                                                   \
	/* the stack pointer did not move up, or a return address outside user space */          \
	X(UNWIND_STOP_BAD_FRAME, "bad_frame")

/* clang-format off */
enum unwind_stop {
#define UNWIND_STOP_ENUM(id, key) id,
	UNWIND_STOPS(UNWIND_STOP_ENUM)
#undef UNWIND_STOP_ENUM
	UNWIND_STOP_MAX,
};
/* clang-format on */

/* Value of unwind_stats (per CPU), by object slot. */
struct unwind_obj_stats {
	__u64 stop[UNWIND_STOP_MAX]; /* walks that ended in this object, by reason */
	__u64 fp_frames;	     /* frames walked by frame pointers in it (no table) */
};

/*
 * A user stack the CFI unwinder walked, in ustacks (keyed by a 64-bit hash of its frames): the
 * weights' stack_key.ustack is UNWIND_USTACK_ID | id. Ids below CONCUR's stack-trace map size
 * are the kernel's stack ids, so the two never meet.
 */
#define UNWIND_USTACK_ID 0x40000000
struct unwind_ustack {
	__u32 id;
	__u32 n;
	__u64 pc[UNWIND_MAX_FRAMES]; /* leaf first; pc[0] is the interrupted instruction */
};
/*
 * Set in a ustack's pc when it is no return address but the instruction itself: the leaf,
 * the instruction a signal interrupted, and a signal trampoline's entry (the handler returns
 * to its first byte: glibc's __restore_rt). Symbolized at pc, not pc - 1, which would name
 * the function before it. User addresses never have this bit.
 */
#define UNWIND_PC_EXACT (1ull << 63)
/*
 * Set in a ustack's pc that lies in no mapping of the process's index (a library mapped since
 * the index was written: the process's first milliseconds, a dlopen just now): its caller was
 * found by a frame-pointer step through code without a table, and what follows is not to be
 * trusted. Userspace cuts the stack after this frame and marks it.
 */
#define UNWIND_PC_NO_TABLE (1ull << 62)

#endif
