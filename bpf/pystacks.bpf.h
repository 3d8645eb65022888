/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The current thread's CPython frames, walked when its stack is captured (a blocked thread's
 * Python frames exist only then). See include/pyframes.h for the path and the layout's source.
 * A global function, and the frame loop a bpf_loop callback: the switch probe stays small and
 * its verification short.
 */
#ifndef CONCUR_PYSTACKS_BPF_H
#define CONCUR_PYSTACKS_BPF_H

#include <bpf/bpf_core_read.h>
#include "helpers.bpf.h"

/* glibc's keys (PTHREAD_KEYS_MAX) and the first block's size (PTHREAD_KEY_2NDLEVEL_SIZE). */
#define PY_TSD_KEYS  1024
#define PY_TSD_BLOCK 32
/* struct pthread_key_data {uintptr_t seq; void *data;}: 16 bytes, data at 8. */
#define PY_TSD_ENTRY 16
#define PY_TSD_DATA  8

static __always_inline void py_stat(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&py_stats, &idx);

	if (v)
		*v += n;
}

struct py_walk {
	struct py_proc p;
	__u64 frame; /* the next frame to read; 0: the root was reached */
	__u64 hash;
	__u32 fail; /* enum py_stat of the failure that ended the walk, 0: none */
};

/* A field of `size` bytes read from the target; off is the layout's (bounded here again). */
static __always_inline __u64 py_u64(const __u8 *buf, __u32 size, __u32 off)
{
	if (off > size - 8)
		return 0;
	return *(const __u64 *)(buf + off);
}

static __always_inline __u32 py_u32(const __u8 *buf, __u32 size, __u32 off)
{
	if (off > size - 4)
		return 0;
	return *(const __u32 *)(buf + off);
}

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		return 0;
	return v;
}

/*
 * A shim frame (PY_PROC_SHIM: owner PY_OWNED_BY_CSTACK) ends the run of frames one C-level eval
 * call executes: the frame read before it, leafwards, is that run's entry (3.11's is_entry). The
 * shim itself is no Python function (3.12: the interpreter's trampoline code; 3.13: None) and
 * is left out; its mark goes into the hash, which must tell the entry bits apart.
 */
static __always_inline void py_shim(struct py_walk *w, struct py_scratch *s)
{
	__u32 n = s->st.n;

	if (n > 0 && n <= CONCUR_PY_MAX_FRAMES)
		s->st.f[n - 1].code |= PY_FRAME_ENTRY;
	w->hash = py_stack_hash_step(w->hash, PY_FRAME_ENTRY, -2, 0);
	w->frame = py_u64(s->frame, PY_FRAME_WINDOW, w->p.frame_previous);
}

/* One frame: its code object checked (ob_type is PyCode_Type) and fingerprinted (its check is
 * part of the hash). */
static long py_step(__u64 i, void *arg)
{
	struct py_walk *w = arg;
	struct py_scratch *s;
	__u64 code, instr_ptr, first;
	__u32 zero = 0, n, entry;
	__s64 instr;

	s = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!s || !w->frame)
		return 1;
	if (bpf_probe_read_user(s->frame, sizeof(s->frame), (const void *)w->frame)) {
		w->fail = PY_STAT_FAULT;
		return 1;
	}
	entry = w->p.frame_entry < PY_FRAME_WINDOW ? s->frame[w->p.frame_entry & 127] : 0;
	if (w->p.flags & PY_PROC_SHIM) {
		if (entry == PY_OWNED_BY_CSTACK) {
			py_shim(w, s);
			return 0;
		}
		entry = 0;
	}
	n = s->st.n;
	if (n >= CONCUR_PY_MAX_FRAMES)
		return 1;
	code = py_u64(s->frame, PY_FRAME_WINDOW, w->p.frame_code);
	instr_ptr = py_u64(s->frame, PY_FRAME_WINDOW, w->p.frame_instr);
	if (!code || (code & 7) ||
	    bpf_probe_read_user(s->code, sizeof(s->code), (const void *)code)) {
		w->fail = PY_STAT_FAULT;
		return 1;
	}
	if (py_u64(s->code, PY_CODE_WINDOW, w->p.code_type_off) != w->p.code_type) {
		w->fail = PY_STAT_NOT_CODE;
		return 1;
	}
	first = code + w->p.code_units;
	instr = instr_ptr >= first ? (__s64)((instr_ptr - first) / 2) : -1;
	if (instr > 0x3fffffff)
		instr = 0x3fffffff;
	s->st.f[n].code = code | (entry ? PY_FRAME_ENTRY : 0);
	s->st.f[n].instr = (__s32)instr;
	s->st.f[n].check = py_code_check(py_u32(s->code, PY_CODE_WINDOW, w->p.code_flags),
					 py_u32(s->code, PY_CODE_WINDOW, w->p.code_argcount),
					 py_u32(s->code, PY_CODE_WINDOW, w->p.code_kwonly),
					 py_u32(s->code, PY_CODE_WINDOW, w->p.code_firstline),
					 py_u64(s->code, PY_CODE_WINDOW, w->p.code_qualname));
	s->st.n = n + 1;
	w->hash = py_stack_hash_step(w->hash, s->st.f[n].code, s->st.f[n].instr, s->st.f[n].check);
	w->frame = py_u64(s->frame, PY_FRAME_WINDOW, w->p.frame_previous);
	return 0;
}

/* The thread's PyThreadState, from glibc's thread-specific data under CPython's key; 0: none. */
static __always_inline __u64 py_tstate(const struct py_proc *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase), slot, block;
	__u32 tss[2];

	if (bpf_probe_read_user(tss, sizeof(tss), (const void *)p->tss_addr) || !tss[0] ||
	    tss[1] >= PY_TSD_KEYS || !fsbase)
		return 0;
	if (tss[1] < PY_TSD_BLOCK) {
		slot = fsbase + p->tsd_first + PY_TSD_ENTRY * tss[1];
	} else {
		block = py_read_ptr(fsbase + p->tsd_second + 8 * (tss[1] / PY_TSD_BLOCK));
		if (!block)
			return 0;
		slot = block + PY_TSD_ENTRY * (tss[1] % PY_TSD_BLOCK);
	}
	return py_read_ptr(slot + PY_TSD_DATA);
}

/* Tells userspace of a frame list seen for the first time: its code objects are to be read now. */
static __always_inline void py_announce(__u32 pid, __u64 hash)
{
	struct py_event *e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);

	if (!e) {
		py_stat(PY_STAT_EVENTS_LOST, 1);
		return;
	}
	e->pid = pid;
	e->pad = 0;
	e->pystack = hash;
	bpf_ringbuf_submit(e, 0);
}

/*
 * The Python frames of the thread whose PyThreadState is tstate, interned in `pystacks`: their
 * key, or CONCUR_NO_PYSTACK for no frames or a full map.
 */
static __always_inline __u64 py_walk_intern(struct py_walk *w, struct py_scratch *s, __u32 pid,
					    __u64 tstate)
{
	__u64 cframe = tstate ? py_read_ptr(tstate + w->p.tstate_cframe) : 0, hash;
	long err;

	if (!tstate || (!cframe && !(w->p.flags & PY_PROC_NO_CFRAME))) {
		py_stat(PY_STAT_NO_TSTATE, 1);
		return CONCUR_NO_PYSTACK;
	}
	w->frame = w->p.flags & PY_PROC_NO_CFRAME ? cframe :
						    py_read_ptr(cframe + w->p.cframe_current);
	if (!w->frame)
		return CONCUR_NO_PYSTACK;
	w->hash = PY_STACK_HASH_SEED ^ py_hash_blind;
	w->fail = 0;
	s->st.n = 0;
	s->st.flags = 0;
	/* Room for a shim after each frame (PY_PROC_SHIM), and one more read to see the root. */
	bpf_loop(2 * CONCUR_PY_MAX_FRAMES + 1, py_step, w, 0);
	if (w->fail)
		py_stat(w->fail, 1);
	if (!s->st.n)
		return CONCUR_NO_PYSTACK;
	if (w->frame && !w->fail) {
		s->st.flags |= PY_STACK_TRUNCATED;
		py_stat(PY_STAT_TRUNCATED, 1);
	}
	hash = py_stack_hash_end(w->hash ^ s->st.flags);
	py_stat(PY_STAT_STACKS, 1);
	py_stat(PY_STAT_FRAMES, s->st.n);
	if (bpf_map_lookup_elem(&pystacks, &hash))
		return hash;
	err = bpf_map_update_elem(&pystacks, &hash, &s->st, BPF_NOEXIST);
	if (err == -E2BIG) {
		py_stat(PY_STAT_FULL, 1);
		return CONCUR_NO_PYSTACK;
	}
	if (!err)
		py_announce(pid, hash);
	return hash;
}

/*
 * A wait on futex word `futex` by thread tid: when the word is the GIL's ([gil_start, gil_end)),
 * PY_GIL_WAIT with the tid of the thread holding the GIL (its last_holder while locked, read
 * now: the holder may change during the wait, which lasts at most the switch interval, 5 ms,
 * before take_gil waits anew) and that thread's Python frames in *holder; else 0. The holder
 * runs meanwhile on another CPU: its frames are read as they are, each code object checked.
 */
static __always_inline __u32 py_gil_wait(struct py_walk *w, struct py_scratch *s, __u32 pid,
					 __u32 tid, __u64 futex, __u64 *holder)
{
	__u32 gil = PY_GIL_WAIT, locked = 0, htid;
	__u64 tstate;

	if (futex < w->p.gil_start || futex >= w->p.gil_end)
		return 0;
	py_stat(PY_STAT_GIL_WAITS, 1);
	if (futex >= w->p.gil_switch && futex < w->p.gil_switch_end)
		gil |= PY_GIL_SWITCH;
	bpf_probe_read_user(&locked, sizeof(locked), (const void *)w->p.gil_locked);
	tstate = locked ? py_read_ptr(w->p.gil_holder) : 0;
	htid = tstate ? (__u32)py_read_ptr(tstate + w->p.tstate_tid) : 0;
	if (!htid || htid == tid || htid > PY_GIL_TID)
		return gil;
	py_stat(PY_STAT_GIL_HOLDERS, 1);
	*holder = py_walk_intern(w, s, pid, tstate);
	return gil | htid;
}

/*
 * The process's entry in py_procs, NULL when it is not CPython: the check that comes before
 * anything else of a Python capture (most switches are of other processes; for them this
 * lookup is all the Python side costs, and a global's read while no process is CPython).
 */
static __always_inline const struct py_proc *py_proc_of(__u32 pid)
{
	if (!py_procs_any)
		return NULL;
	return bpf_map_lookup_elem(&py_procs, &pid);
}

/*
 * The current thread's Python frames, interned in `pystacks`: their key, or CONCUR_NO_PYSTACK
 * for a thread without a thread state or frames, or a full map. pp: its process's py_procs
 * entry (py_proc_of(), not NULL); pid_tgid: the current task's, as bpf_get_current_pid_tgid()
 * gives it (tgid << 32 | tid); futex: the futex word it blocks on (0: none), for *gil and
 * *holder (py_gil_wait; both left alone when it is not the GIL's). Global (BPF_GLOBAL):
 * verified once, not at each call site.
 */
BPF_GLOBAL __u64 capture_pystack(const struct py_proc *pp, __u64 pid_tgid, __u64 futex, __u32 *gil,
				 __u64 *holder)
{
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid, zero = 0;
	struct py_walk w = {};
	struct py_scratch *s;
	__u64 hash;

	if (!pp)
		return CONCUR_NO_PYSTACK;
	w.p = *pp;
	s = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!s)
		return CONCUR_NO_PYSTACK;
	hash = py_walk_intern(&w, s, pid, py_tstate(&w.p));
	if (futex && gil && holder)
		*gil = py_gil_wait(&w, s, pid, tid, futex, holder);
	return hash;
}

#endif
