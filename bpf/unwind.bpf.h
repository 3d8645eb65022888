/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CFI unwinder: the current task's user stack walked with the tables userspace built from
 * each object's .eh_frame (include/unwind.h, user/collect/unwind_loader.c), one frame per
 * bpf_loop iteration. Per frame: the mapping holding pc (binary search of the process's
 * sorted mappings), the row covering it (binary search of the object's rows), its rule; the
 * caller's CFA from rsp, rbp, the PLT expression or one dereference; the return address at
 * CFA - 8 and rbp where the rule saved it. Objects without a table, and gaps in a table, take
 * a frame-pointer step. Every read is bpf_probe_read_user: the target's stack is untrusted,
 * and the walk must move up the stack at each frame or it stops.
 */
#ifndef CONCUR_UNWIND_BPF_H
#define CONCUR_UNWIND_BPF_H

#include "helpers.bpf.h"

#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#endif

/* Addresses below this, or at or above the end of user space (56 bits with 5-level paging),
 * are no code of the target's. */
#define UNWIND_MIN_PC	0x1000ull
#define UNWIND_USER_END (1ull << 56)
/* Search steps: enough for UNWIND_MAX_MAPPINGS mappings (2^8) and an object's rows (< 2^21). */
#define UNWIND_MAP_STEPS 9
#define UNWIND_ROW_STEPS 22
/* Where a signal handler's caller state is, from the stack pointer at __restore_rt: the
 * ucontext's uc_mcontext (after uc_flags, uc_link and uc_stack: 40 bytes), whose registers
 * r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip are in that order (the kernel's
 * struct sigcontext_64, arch/x86/include/uapi/asm/sigcontext.h): rbp, rsp and rip from the
 * 11th on. */
#define UNWIND_SIGCTX_RBP (40 + 8 * 10)
/* A process's map is asked for again at most this often (unwind_ask_maps()). */
#define UNWIND_ASK_GAP_NS (100 * 1000000ull)

struct unwind_ctx {
	struct unwind_walk *w;
	struct unwind_proc *p;
};

/* The mapping of p holding pc, NULL when none. */
static __always_inline struct unwind_mapping *unwind_find_mapping(struct unwind_proc *p, __u64 pc)
{
	__u32 lo = 0, hi = p->n, mid;
	struct unwind_mapping *m;
	int i;

	if (hi > UNWIND_MAX_MAPPINGS)
		hi = UNWIND_MAX_MAPPINGS;
	for (i = 0; i < UNWIND_MAP_STEPS && lo < hi; i++) {
		mid = (lo + hi) / 2;
		m = &p->m[mid & (UNWIND_MAX_MAPPINGS - 1)];
		if (pc < m->start)
			hi = mid;
		else if (pc >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The rule of the row covering ELF address addr in [lo, hi); NULL for none or a gap. */
static __always_inline struct unwind_rule *unwind_find_rule(__u32 lo, __u32 hi, __u64 addr)
{
	__u32 first = lo, mid, idx, rule;
	struct unwind_rule_slot *slot;
	struct unwind_row *row;
	int i;

	if (addr > 0xffffffffull)
		return NULL; /* rows hold 32-bit ELF addresses */
	/* lo becomes the first row after addr. */
	for (i = 0; i < UNWIND_ROW_STEPS && lo < hi; i++) {
		mid = lo + (hi - lo) / 2;
		row = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!row)
			return NULL;
		if (row->elf_vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first || lo < hi)
		return NULL; /* before the first row, or the search did not finish */
	idx = lo - 1;
	row = bpf_map_lookup_elem(&unwind_rows, &idx);
	if (!row || (row->flags & UNWIND_ROW_END))
		return NULL;
	rule = row->rule;
	slot = bpf_map_lookup_elem(&unwind_rules, &rule);
	return slot ? &slot->r : NULL;
}

static __always_inline void unwind_count_fp(__u32 obj)
{
	struct unwind_obj_stats *s = bpf_map_lookup_elem(&unwind_stats, &obj);

	if (s)
		s->fp_frames++;
}

/* How a walk that reached the outermost frame ended: complete, unless a step on the way went
 * through code without a table (frame pointers there: an end is no proof of a whole stack). */
static __always_inline __u32 unwind_end(const struct unwind_walk *w)
{
	return w->missed ? UNWIND_STOP_NO_TABLE : UNWIND_STOP_COMPLETE;
}

/* A frame-pointer step: [rbp] is the caller's rbp, [rbp + 8] the return address. 0 to go on,
 * 1 with w->stop set to end the walk. */
static __always_inline long unwind_fp_step(struct unwind_walk *w)
{
	__u64 fr[2];

	if (w->bp <= w->sp || (w->bp & 7)) {
		w->stop = UNWIND_STOP_NO_TABLE;
		return 1;
	}
	if (bpf_probe_read_user(fr, sizeof(fr), (void *)w->bp)) {
		w->stop = UNWIND_STOP_READ_FAULT;
		return 1;
	}
	unwind_count_fp(w->obj);
	w->sp = w->bp + 16;
	w->bp = fr[0];
	w->pc = fr[1];
	w->is_ra = 1;
	return 0;
}

/* A signal trampoline's frame: the interrupted state is in the ucontext at sp. */
static __always_inline long unwind_signal_step(struct unwind_walk *w)
{
	/* rbp, rbx, rdx, rax, rcx, rsp, rip */
	__u64 r[7];
	__u32 t = w->st.n - 1;

	if (bpf_probe_read_user(r, sizeof(r), (void *)(w->sp + UNWIND_SIGCTX_RBP))) {
		w->stop = UNWIND_STOP_READ_FAULT;
		return 1;
	}
	/* The trampoline was "returned" to at its first byte. */
	if (t < UNWIND_MAX_FRAMES)
		w->st.pc[t] |= UNWIND_PC_EXACT;
	w->bp = r[0];
	w->sp = r[5];
	w->pc = r[6];
	w->is_ra = 0; /* the interrupted instruction itself */
	return 0;
}

/* The CFA by rule r; 0 with w->stop set when it cannot be had. */
static __always_inline __u64 unwind_cfa(struct unwind_walk *w, const struct unwind_rule *r)
{
	__u64 base, v;

	switch (r->cfa_kind) {
	case UNWIND_CFA_RSP:
		return w->sp + (__s64)r->cfa_off;
	case UNWIND_CFA_RBP:
		return w->bp + (__s64)r->cfa_off;
	case UNWIND_CFA_PLT:
		return w->sp + 8 + ((w->pc & 15) >= (__u64)r->cfa_off ? 8 : 0);
	case UNWIND_CFA_DEREF_RSP:
	case UNWIND_CFA_DEREF_RBP:
		base = r->cfa_kind == UNWIND_CFA_DEREF_RSP ? w->sp : w->bp;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(base + (__s64)r->cfa_off))) {
			w->stop = UNWIND_STOP_READ_FAULT;
			return 0;
		}
		return v + (__s64)r->rbp_off;
	}
	w->stop = UNWIND_STOP_INVALID;
	return 0;
}

/*
 * The leaf's step when its return address is in rdi (glibc's vfork, blocked in or just past its
 * syscall): rdi as the thread entered the kernel, CFA rsp + cfa_off (the stack pointer as the
 * call left it, the return address popped). rbp unchanged. The next step checks the pc.
 */
static __always_inline long unwind_rdi_step(struct unwind_walk *w, const struct unwind_rule *r)
{
	__u64 cfa;

	if (r->cfa_kind != UNWIND_CFA_RSP) {
		w->stop = UNWIND_STOP_INVALID;
		return 1;
	}
	cfa = unwind_cfa(w, r);
	if (cfa < w->sp) {
		w->stop = UNWIND_STOP_BAD_FRAME;
		return 1;
	}
	w->sp = cfa;
	w->pc = w->rdi;
	w->is_ra = 1;
	return 0;
}

/* One step by a CFI rule. 0 to go on, 1 with w->stop set to end the walk. */
static __always_inline long unwind_rule_step(struct unwind_walk *w, const struct unwind_rule *r)
{
	__u64 cfa, fr[2];

	if (r->flags & UNWIND_RULE_SIGNAL)
		return unwind_signal_step(w);
	if (r->ra_kind == UNWIND_RA_STOP) {
		w->stop = unwind_end(w);
		return 1;
	}
	if (r->ra_kind == UNWIND_RA_IN_RDI && w->st.n == 1 && !w->is_ra)
		return unwind_rdi_step(w, r);
	if (r->ra_kind != UNWIND_RA_AT_CFA_MINUS_8) {
		w->stop = UNWIND_STOP_INVALID;
		return 1;
	}
	cfa = unwind_cfa(w, r);
	if (!cfa)
		return 1;
	if (cfa <= w->sp) {
		w->stop = UNWIND_STOP_BAD_FRAME;
		return 1;
	}
	if (r->rbp_kind == UNWIND_RBP_SAVED && r->rbp_off == -16) {
		/* The usual push %rbp right after the call: one read for both. */
		if (bpf_probe_read_user(fr, sizeof(fr), (void *)(cfa - 16)))
			goto fault;
		w->bp = fr[0];
	} else {
		if (bpf_probe_read_user(&fr[1], sizeof(fr[1]), (void *)(cfa - 8)))
			goto fault;
		if (r->rbp_kind == UNWIND_RBP_SAVED &&
		    bpf_probe_read_user(&w->bp, sizeof(w->bp), (void *)(cfa + (__s64)r->rbp_off)))
			goto fault;
	}
	w->sp = cfa;
	w->pc = fr[1];
	w->is_ra = 1;
	return 0;
fault:
	w->stop = UNWIND_STOP_READ_FAULT;
	return 1;
}

/* bpf_loop's body: records the frame at w->pc, then finds its caller. */
static long unwind_step(__u32 i, void *arg)
{
	struct unwind_ctx *c = arg;
	struct unwind_walk *w = c->w;
	struct unwind_mapping *m;
	struct unwind_rule *r;
	__u32 n = w->st.n;
	__u64 pc = w->pc;

	if (!pc) {
		/* The outermost frame returns nowhere: glibc's thread and process entries. */
		w->stop = unwind_end(w);
		return 1;
	}
	if (pc < UNWIND_MIN_PC || pc >= UNWIND_USER_END) {
		w->stop = UNWIND_STOP_BAD_FRAME;
		return 1;
	}
	if (n >= UNWIND_MAX_FRAMES)
		return 1; /* w->stop is still UNWIND_STOP_DEPTH */
	w->st.pc[n] = w->is_ra ? pc : pc | UNWIND_PC_EXACT;
	w->st.n = n + 1;
	w->hash = (w->hash ^ pc) * 0x9e3779b97f4a7c15ull;
	w->hash ^= w->hash >> 29;
	m = unwind_find_mapping(c->p, pc);
	if (!m) {
		/* Code the index does not hold yet (a library mapped or dlopen()ed after the map
		 * was read, JIT code): frame pointers, the fallback until the map is read again,
		 * which unwind_user_stack() asks for. */
		w->obj = 0;
		w->missed = 1;
		w->st.pc[n] |= UNWIND_PC_NO_TABLE;
		w->hash ^= UNWIND_PC_NO_TABLE; /* not the same stack as one walked whole */
		return unwind_fp_step(w);
	}
	w->obj = m->obj;
	if (m->flags & UNWIND_MAP_FP)
		return unwind_fp_step(w);
	r = unwind_find_rule(m->row_lo, m->row_hi, pc - m->bias - w->is_ra);
	if (!r)
		return unwind_fp_step(w); /* code the CFI does not cover */
	return unwind_rule_step(w, r);
}

/*
 * Asks userspace to read pid's map again now (a maps_event, as want_maps() sends): its index
 * lacks the code a walk met (a library dlopen()ed since, JIT code) or it has none yet. At
 * most once per UNWIND_ASK_GAP_NS per process, so a JIT, or a walk that reads garbage, does
 * not flood the ring buffer and the reader.
 */
static __noinline void unwind_ask_maps(__u32 pid)
{
	__u64 now = bpf_ktime_get_ns(), *last = bpf_map_lookup_elem(&unwind_asks, &pid);
	struct maps_event *e;

	if (last) {
		if (now - *last < UNWIND_ASK_GAP_NS)
			return;
		*last = now;
	} else if (bpf_map_update_elem(&unwind_asks, &pid, &now, BPF_ANY)) {
		return;
	}
	e = bpf_ringbuf_reserve(&maps_events, sizeof(*e), 0);
	if (!e) {
		stat_add(STAT_MAPS_LOST, 1);
		return;
	}
	e->pid = pid;
	bpf_ringbuf_submit(e, 0);
}

/*
 * Whether the stack cache may reuse the user stack just captured (ustack, a stack id): not a
 * frame-pointer stand-in taken before the process had an index, nor a walk that met code in no
 * mapping of its index (unwind_user_stack() asked for the map then): both are walked whole
 * once the map is read again.
 */
static __always_inline bool unwind_cacheable(__s32 ustack)
{
	struct unwind_walk *w;
	__u32 zero = 0;

	if (ustack < 0)
		return true;
	if (!(ustack & UNWIND_USTACK_ID))
		return false;
	w = bpf_map_lookup_elem(&unwind_scratch, &zero);
	return !w || !w->missed;
}

static __always_inline void unwind_count_stop(__u32 obj, __u32 stop)
{
	struct unwind_obj_stats *s = bpf_map_lookup_elem(&unwind_stats, &obj);

	if (s && stop < UNWIND_STOP_MAX)
		s->stop[stop]++;
}

/* The walked stack's id for stack_key.ustack: its frames interned in ustacks under their
 * hash; CONCUR_NO_STACK when there is no room. */
static __always_inline __s32 unwind_intern(struct unwind_walk *w)
{
	struct unwind_ustack *v;
	__u64 h = w->hash ^ w->st.n;
	__u64 id;
	long err;

	v = bpf_map_lookup_elem(&ustacks, &h);
	if (v)
		return UNWIND_USTACK_ID | v->id;
	/* 64 bits: clang's BPF v1 target uses the old value of 64-bit atomic adds only. */
	id = __sync_fetch_and_add(&ustack_next_id, 1);
	if (id >= ustacks_max || id >= UNWIND_USTACK_ID)
		return CONCUR_NO_STACK;
	w->st.id = id;
	err = bpf_map_update_elem(&ustacks, &h, &w->st, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* Another CPU interned the same stack meanwhile: its id. */
		v = bpf_map_lookup_elem(&ustacks, &h);
		return v ? (UNWIND_USTACK_ID | v->id) : CONCUR_NO_STACK;
	}
	return err ? CONCUR_NO_STACK : (__s32)(UNWIND_USTACK_ID | id);
}

/*
 * The current task's user stack by CFI, as a stack id (see unwind_intern()); the kernel's
 * frame-pointer walk (a `stacks` id) while its process has no mapping index yet.
 * -EFAULT (no user stack) for a kernel thread. Global (BPF_GLOBAL): verified once per program
 * with ctx as the program's context, not at each of on_switch's call sites.
 */
BPF_GLOBAL __s32 unwind_user_stack(void *ctx BPF_ARG_CTX)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 pid = task->tgid, zero = 0;
	struct unwind_ctx c;
	__s32 id;

	c.p = bpf_map_lookup_elem(&unwind_procs, &pid);
	if (!c.p) {
		unwind_count_stop(0, UNWIND_STOP_FP_FALLBACK);
		unwind_ask_maps(pid);
		return bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	}
	c.w = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!c.w || !regs || (task->flags & PF_KTHREAD))
		return -EFAULT;
	c.w->pc = regs->ip;
	c.w->sp = regs->sp;
	c.w->bp = regs->bp;
	c.w->rdi = regs->di;
	c.w->st.n = 0;
	c.w->hash = 0;
	c.w->obj = 0;
	c.w->is_ra = 0;
	c.w->missed = 0;
	c.w->stop = UNWIND_STOP_DEPTH;
	bpf_loop(UNWIND_MAX_FRAMES + 1, unwind_step, &c, 0);
	unwind_count_stop(c.w->obj, c.w->stop);
	stat_add(STAT_CFI_WALKS, 1);
	stat_add(STAT_CFI_FRAMES, c.w->st.n);
	if (c.w->missed)
		unwind_ask_maps(pid);
	if (!c.w->st.n)
		return -EFAULT;
	id = unwind_intern(c.w);
	return id == CONCUR_NO_STACK ? -ENOSPC : id;
}

#endif
