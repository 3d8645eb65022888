/* SPDX-License-Identifier: MIT */
/*
 * CPython frames in stacks: what the BPF walker needs to know of a process (py_procs), what it
 * records per stack (pystacks), and the code-object check both sides compute. Plain C with
 * __u* types: the BPF programs and userspace include it alike.
 *
 * The walk (bpf/pystacks.bpf.h): the thread's PyThreadState from glibc's thread-specific data
 * (the key CPython keeps in _PyRuntime's autoTSSkey), then tstate->cframe->current_frame (3.11,
 * 3.12) or tstate->current_frame (3.13) and the _PyInterpreterFrame.previous chain. Offsets
 * and the two behaviour switches (PY_PROC_*) are per CPython version, as data
 * (user/profile/py_offsets.c), never code.
 */
#ifndef CONCUR_PYFRAMES_H
#define CONCUR_PYFRAMES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Python frames kept per stack, leaf side (deeper stacks are marked truncated). */
#define CONCUR_PY_MAX_FRAMES 96
#ifndef CONCUR_MAX_PY_PROCS
#define CONCUR_MAX_PY_PROCS 1024
#endif
/* Distinct Python frame lists kept. */
#ifndef CONCUR_MAX_PYSTACKS
#define CONCUR_MAX_PYSTACKS 16384
#endif
/* The stack key's pystack when the thread had no Python frames (or none were read). */
#define CONCUR_NO_PYSTACK 0

/* Bytes the walker reads at a frame and at a code object: every offset it uses lies below. */
#define PY_FRAME_WINDOW 72
#define PY_CODE_WINDOW	136

/*
 * Value of `py_procs`, keyed by pid: where a process keeps what the walker reads, and the
 * layout of its CPython version. Every offset is < PY_*_WINDOW - 8 (checked by userspace
 * when it writes the entry, and masked again by the walker).
 */
struct py_proc {
	__u64 tss_addr;	      /* the Py_tss_t {int initialized; u32 key} of autoTSSkey */
	__u64 code_type;      /* &PyCode_Type: a frame's f_code must have it as ob_type */
	__u32 version;	      /* 0x030b for 3.11 */
	__u16 tsd_first;      /* glibc: struct pthread.specific_1stblock, from the thread pointer */
	__u16 tsd_second;     /* glibc: struct pthread.specific[], the second level (key >= 32) */
	__u16 tstate_cframe;  /* PyThreadState.cframe; .current_frame with PY_PROC_NO_CFRAME */
	__u16 cframe_current; /* _PyCFrame.current_frame (unused with PY_PROC_NO_CFRAME) */
	__u16 frame_code;     /* _PyInterpreterFrame.f_code (3.13: f_executable) */
	__u16 frame_previous; /* _PyInterpreterFrame.previous */
	__u16 frame_instr;    /* _PyInterpreterFrame.prev_instr (3.13: instr_ptr) */
	__u16 frame_entry;    /* .is_entry (a bool); with PY_PROC_SHIM, .owner (a char) */
	__u16 code_type_off;  /* PyObject.ob_type */
	__u16 code_flags;     /* PyCodeObject.co_flags (the check's fields: int each) */
	__u16 code_argcount;
	__u16 code_kwonly;
	__u16 code_firstline;
	__u16 code_units;    /* offsetof(PyCodeObject, co_code_adaptive): instruction 0 */
	__u16 tstate_tid;    /* PyThreadState.native_thread_id (the Linux tid) */
	__u16 flags;	     /* PY_PROC_* */
	__u16 code_qualname; /* PyCodeObject.co_qualname (a pointer: part of the check) */
	__u16 pad;
	/* The GIL: a futex word in [gil_start, gil_end) is a GIL wait (3.11: all of _PyRuntime,
	 * whose mutexes and condition variables are the GIL's; 3.12+: the main interpreter's
	 * _gil inside _PyRuntime, which holds other locks too); one in [gil_switch,
	 * gil_switch_end) is drop_gil's wait for another thread to take it (FORCE_SWITCHING),
	 * the others take_gil's. gil_holder: the GIL's last_holder (a PyThreadState *),
	 * gil_locked its locked flag (an int). */
	__u64 gil_start, gil_end;
	__u64 gil_switch, gil_switch_end;
	__u64 gil_holder, gil_locked;
};

/* The thread state points at the newest frame itself, no _PyCFrame between (3.13). */
#define PY_PROC_NO_CFRAME 1u
/* The first frame of each C-level eval call is followed (rootwards) by a shim frame whose owner
 * is PY_OWNED_BY_CSTACK (3.12+, no is_entry field): the shim is skipped and the frame before it
 * marked PY_FRAME_ENTRY. */
#define PY_PROC_SHIM 2u
/* FRAME_OWNED_BY_CSTACK of Include/internal/pycore_frame.h (3.12, 3.13). */
#define PY_OWNED_BY_CSTACK 3

/*
 * A stack's GIL wait (struct stack_key.gil, thread_acct.gil): 0 for any other stack, else
 * PY_GIL_WAIT, PY_GIL_SWITCH for drop_gil's wait, and the tid of the thread that held the
 * GIL when the wait began (0: unknown, free, or the waiter itself) in PY_GIL_TID.
 */
#define PY_GIL_WAIT   (1u << 31)
#define PY_GIL_SWITCH (1u << 30)
#define PY_GIL_TID    ((1u << 30) - 1)

/* One Python frame, leaf first in struct py_stack. */
struct py_frame {
	__u64 code; /* PyCodeObject address; bit 0: the frame is_entry (code objects are aligned) */
	__s32 instr; /* index of the last instruction run, in code units; -1: not started */
	__u32 check; /* py_code_check() of the code object when the frame was read */
};

#define PY_FRAME_ENTRY 1ull

/* Value of `pystacks`, keyed by the list's hash. */
struct py_stack {
	__u32 n;
	__u32 flags; /* PY_STACK_* */
	struct py_frame f[CONCUR_PY_MAX_FRAMES];
};

/* Deeper than CONCUR_PY_MAX_FRAMES: the root side is missing. */
#define PY_STACK_TRUNCATED 1u

/* Ring buffer message: a Python frame list seen for the first time, to resolve while the
 * process lives. */
struct py_event {
	__u32 pid;
	__u32 pad;
	__u64 pystack;
};

/* The walker's own counters: index into the per-CPU `py_stats` array. */
enum py_stat {
	PY_STAT_STACKS,	     /* Python frame lists captured */
	PY_STAT_FRAMES,	     /* frames in them */
	PY_STAT_NO_TSTATE,   /* a thread of a Python process without a thread state (yet) */
	PY_STAT_FAULT,	     /* a read of the target failed: the list ends there */
	PY_STAT_NOT_CODE,    /* an f_code that is no code object: the list ends there */
	PY_STAT_TRUNCATED,   /* deeper than CONCUR_PY_MAX_FRAMES */
	PY_STAT_FULL,	     /* pystacks full: the stack goes without Python frames */
	PY_STAT_EVENTS_LOST, /* ring buffer full: resolved at the end, if the process lives */
	PY_STAT_GIL_WAITS,   /* waits on the GIL's futex words (switch-outs) */
	PY_STAT_GIL_HOLDERS, /* of them, with the holder's tid read */
	PY_STAT_MAX,
};

/*
 * A code object's fingerprint from four of its header fields and the address of its
 * co_qualname string, so that a code object freed and another allocated at its address is not
 * named after the first: functions made from one template (exec, lambdas) share the four fields,
 * their name strings are separate objects (which may be freed and reused in turn: the check
 * makes a mix-up rare, not impossible). Never 0.
 */
static inline __u32 py_code_check(__u32 flags, __u32 argcount, __u32 kwonly, __u32 firstline,
				  __u64 qualname)
{
	__u64 h = 0x9e3779b97f4a7c15ull;

	h = (h ^ flags) * 0xff51afd7ed558ccdull;
	h = (h ^ argcount) * 0xc4ceb9fe1a85ec53ull;
	h = (h ^ kwonly) * 0xff51afd7ed558ccdull;
	h = (h ^ firstline) * 0xc4ceb9fe1a85ec53ull;
	h = (h ^ qualname) * 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (__u32)h | 1;
}

/*
 * The frame list's hash, one frame at a time from the leaf: its code object's address (with the
 * entry bit), instruction index and check (py_code_check(), 0 for a shim's mark), so that two
 * lists that differ only in which code object lived at an address are two entries. Never
 * CONCUR_NO_PYSTACK at the end (py_stack_hash_end).
 */
static inline __u64 py_stack_hash_step(__u64 h, __u64 code, __s32 instr, __u32 check)
{
	h = (h ^ code) * 0x100000001b3ull;
	h = (h ^ ((__u64)check << 32 | (__u32)instr)) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

#define PY_STACK_HASH_SEED 0xcbf29ce484222325ull

static inline __u64 py_stack_hash_end(__u64 h)
{
	return h == CONCUR_NO_PYSTACK ? 1 : h;
}

#endif /* CONCUR_PYFRAMES_H */
