// SPDX-License-Identifier: MIT
/*
 * One CFI row, as libdw computed it, into the few rule shapes the BPF unwinder knows
 * (include/unwind.h): the CFA from rsp or rbp plus an offset, GCC's PLT expression, or one
 * dereference; the return address at CFA-8, undefined (the outermost frame) or elsewhere;
 * rbp unchanged or saved at CFA+N. Anything else is INVALID (or approximate) and counted.
 */
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "unwind_rule.h"

/* DWARF register numbers on x86-64 (the psABI's figure 3.36). */
#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RA  16

/* A DWARF register number from a breg/bregx op; -1 if the op is neither. */
static int breg_of(const Dwarf_Op *op, int64_t *off)
{
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*off = (int64_t)op->number;
		return op->atom - DW_OP_breg0;
	}
	if (op->atom == DW_OP_bregx) {
		*off = (int64_t)op->number2;
		return op->number > 31 ? -1 : (int)op->number;
	}
	return -1;
}

static bool fits_s32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static bool is_lit(const Dwarf_Op *op, unsigned n)
{
	return op->atom == DW_OP_lit0 + n;
}

/* GCC's PLT CFA: breg7 8; breg16 0; lit15; and; lit11 (or 10); ge; lit3; shl; plus. The
 * threshold is where in each 16-byte PLT entry the push of the index has happened. */
static bool is_plt(const Dwarf_Op *o, size_t n, int32_t *threshold)
{
	int64_t a, c;

	if (n != 9 || breg_of(&o[0], &a) != DW_REG_RSP || a != 8 ||
	    breg_of(&o[1], &c) != DW_REG_RA || c != 0 || !is_lit(&o[2], 15) ||
	    o[3].atom != DW_OP_and || (!is_lit(&o[4], 10) && !is_lit(&o[4], 11)) ||
	    o[5].atom != DW_OP_ge || !is_lit(&o[6], 3) || o[7].atom != DW_OP_shl ||
	    o[8].atom != DW_OP_plus)
		return false;
	*threshold = o[4].atom - DW_OP_lit0;
	return true;
}

/* The CFA as a rule: rsp/rbp + off, the PLT expression, *(rsp/rbp + a) + b; else INVALID. */
static void classify_cfa(Dwarf_Frame *f, struct unwind_rule *r)
{
	Dwarf_Op *o;
	size_t n;
	int64_t a, plus = 0;
	int32_t threshold;
	int reg;

	if (dwarf_frame_cfa(f, &o, &n) || n == 0)
		return;
	if (is_plt(o, n, &threshold)) {
		r->cfa_kind = UNWIND_CFA_PLT;
		r->cfa_off = threshold;
		return;
	}
	reg = breg_of(&o[0], &a);
	if ((reg != DW_REG_RSP && reg != DW_REG_RBP) || !fits_s32(a))
		return;
	if (n == 1) {
		r->cfa_kind = reg == DW_REG_RSP ? UNWIND_CFA_RSP : UNWIND_CFA_RBP;
		r->cfa_off = (int32_t)a;
		return;
	}
	if (o[1].atom != DW_OP_deref || n > 3)
		return;
	if (n == 3) {
		if (o[2].atom != DW_OP_plus_uconst)
			return;
		plus = (int64_t)o[2].number;
		if (!fits_s32(plus))
			return;
	}
	r->cfa_kind = reg == DW_REG_RSP ? UNWIND_CFA_DEREF_RSP : UNWIND_CFA_DEREF_RBP;
	r->cfa_off = (int32_t)a;
	r->rbp_off = (int32_t)plus;
}

/* "Saved at CFA + off" as libdw says it: call_frame_cfa [; plus_uconst off], no stack_value. */
static bool at_cfa_plus(const Dwarf_Op *o, size_t n, int64_t *off)
{
	if (n < 1 || n > 2 || o[0].atom != DW_OP_call_frame_cfa)
		return false;
	*off = 0;
	if (n == 2) {
		if (o[1].atom != DW_OP_plus_uconst)
			return false;
		*off = (int64_t)o[1].number;
	}
	return true;
}

static uint8_t classify_ra(Dwarf_Frame *f)
{
	Dwarf_Op mem[3], *o;
	size_t n;
	int64_t off;

	if (dwarf_frame_register(f, DW_REG_RA, mem, &o, &n))
		return UNWIND_RA_INVALID;
	if (n == 0)
		return o == mem ? UNWIND_RA_STOP : UNWIND_RA_INVALID;
	if (at_cfa_plus(o, n, &off))
		return off == -8 ? UNWIND_RA_AT_CFA_MINUS_8 : UNWIND_RA_INVALID;
	/* DWARF register 5 is rdi (the x86-64 psABI's DWARF register number mapping). */
	if (n == 1 && ((o[0].atom == DW_OP_regx && o[0].number == 5) || o[0].atom == DW_OP_reg5))
		return UNWIND_RA_IN_RDI;
	if (n == 1 &&
	    (o[0].atom == DW_OP_regx || (o[0].atom >= DW_OP_reg0 && o[0].atom <= DW_OP_reg31)))
		return UNWIND_RA_IN_REGISTER;
	return UNWIND_RA_INVALID;
}

/* rbp: SAVED(off) or UNCHANGED; false when the CFI says something else (approximate). */
static bool classify_rbp(Dwarf_Frame *f, struct unwind_rule *r)
{
	Dwarf_Op mem[3], *o;
	size_t n;
	int64_t off;

	if (dwarf_frame_register(f, DW_REG_RBP, mem, &o, &n))
		return false;
	if (n == 0)
		return true;
	if (!at_cfa_plus(o, n, &off) || !fits_s32(off))
		return false;
	r->rbp_kind = UNWIND_RBP_SAVED;
	r->rbp_off = (int32_t)off;
	return true;
}

void unwind_rule_classify(Dwarf_Frame *f, bool signal, struct unwind_rule *r,
			  struct unwind_stats *st)
{
	bool exact = true;

	memset(r, 0, sizeof(*r));
	classify_cfa(f, r);
	r->ra_kind = classify_ra(f);
	if (r->cfa_kind == UNWIND_CFA_DEREF_RSP || r->cfa_kind == UNWIND_CFA_DEREF_RBP) {
		struct unwind_rule rbp = { 0 };

		exact = classify_rbp(f, &rbp) && rbp.rbp_kind == UNWIND_RBP_UNCHANGED;
	} else if (r->cfa_kind != UNWIND_CFA_INVALID) {
		exact = classify_rbp(f, r);
	}
	st->cfi_rows++;
	if (signal) {
		/* The unwinder reads the ucontext, not the return address. */
		r->flags |= UNWIND_RULE_SIGNAL;
		st->signal_rows++;
	} else if (r->cfa_kind == UNWIND_CFA_INVALID || r->ra_kind == UNWIND_RA_INVALID) {
		st->invalid_rows++;
	}
	if (!exact)
		st->approx_rows++;
	if (r->ra_kind == UNWIND_RA_STOP)
		st->stop_rows++;
	if (r->ra_kind == UNWIND_RA_IN_REGISTER || r->ra_kind == UNWIND_RA_IN_RDI)
		st->ra_reg_rows++;
}
