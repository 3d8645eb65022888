// SPDX-License-Identifier: MIT
/*
 * What libdw must not be asked to run. libdw keeps a frame's register rules in an array as
 * long as the largest register number the CIE and FDE programs name (elfutils libdw/cfi.c,
 * enough_registers(): up to INT32_MAX bytes, zeroed), so one crafted ULEB128 register operand
 * makes it allocate and touch 2 GiB per row asked (found by fuzzing). x86-64 CFI names at most
 * a few dozen registers (the psABI's DWARF numbers end below 130), so a section whose programs
 * name a register above CFI_MAX_REG is refused before libdw runs any of it.
 *
 * libdw parses the entries (dwarf_next_cfi); this file only walks each program's opcodes to
 * their register operands (DWARF 5 §6.4.2, the LSB's .eh_frame for the augmentations), and
 * stops where libdw would: at the first opcode it does not know.
 */
#include <dwarf.h>
#include <errno.h>
#include <string.h>
#include "cfi_guard.h"

int cfi_enc_size(uint8_t enc)
{
	if (enc == DW_EH_PE_omit)
		return 0;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
		return 8;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		return 2;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	default:
		return -1;
	}
}

/* A LEB128 value at *p (before end), *p moved past it; false when it runs past end. */
static bool leb128(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;
	uint8_t b;

	*v = 0;
	do {
		if (*p >= end)
			return false;
		b = *(*p)++;
		if (shift < 64)
			*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return true;
}

static bool skip(const uint8_t **p, const uint8_t *end, uint64_t n)
{
	if (n > (uint64_t)(end - *p))
		return false;
	*p += n;
	return true;
}

/* A register operand: false when it is out of bounds (or the bytes run out). */
static bool reg_ok(const uint8_t **p, const uint8_t *end)
{
	uint64_t reg;

	return leb128(p, end, &reg) && reg <= CFI_MAX_REG;
}

/* Operands after a register: 0 none, 1 one LEB128, 2 a block (LEB128 length, bytes). */
static bool rest_ok(const uint8_t **p, const uint8_t *end, int kind)
{
	uint64_t v;

	if (!kind)
		return true;
	if (!leb128(p, end, &v))
		return false;
	return kind == 1 || skip(p, end, v);
}

/* One extended opcode (the low six bits zero in the high two): false stops the walk. */
static bool op_ok(uint8_t op, const uint8_t **p, const uint8_t *end, int addr_size, bool *known)
{
	uint64_t v;

	switch (op) {
	case DW_CFA_nop:
	case DW_CFA_remember_state:
	case DW_CFA_restore_state:
		return true;
	case DW_CFA_set_loc:
		return addr_size > 0 && skip(p, end, addr_size);
	case DW_CFA_advance_loc1:
		return skip(p, end, 1);
	case DW_CFA_advance_loc2:
		return skip(p, end, 2);
	case DW_CFA_advance_loc4:
		return skip(p, end, 4);
	case DW_CFA_restore_extended:
	case DW_CFA_undefined:
	case DW_CFA_same_value:
	case DW_CFA_def_cfa_register:
		return reg_ok(p, end);
	case DW_CFA_register:
		return reg_ok(p, end) && reg_ok(p, end);
	case DW_CFA_offset_extended:
	case DW_CFA_offset_extended_sf:
	case DW_CFA_def_cfa:
	case DW_CFA_def_cfa_sf:
	case DW_CFA_val_offset:
	case DW_CFA_val_offset_sf:
	case DW_CFA_GNU_negative_offset_extended:
		return reg_ok(p, end) && rest_ok(p, end, 1);
	case DW_CFA_expression:
	case DW_CFA_val_expression:
		return reg_ok(p, end) && rest_ok(p, end, 2);
	case DW_CFA_def_cfa_offset:
	case DW_CFA_def_cfa_offset_sf:
	case DW_CFA_GNU_args_size:
		return leb128(p, end, &v);
	case DW_CFA_def_cfa_expression:
		return rest_ok(p, end, 2);
	default:
		*known = false; /* libdw stops here too: nothing after it is run */
		return true;
	}
}

/* 0 when every register the program [p, end) names is in bounds. */
static int program_ok(const uint8_t *p, const uint8_t *end, int addr_size)
{
	bool known = true;

	while (p < end && known) {
		uint8_t op = *p++;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
		case DW_CFA_restore: /* register in the low six bits: at most 63 */
			break;
		case DW_CFA_offset: {
			uint64_t off;

			if (!leb128(&p, end, &off))
				return -EINVAL;
			break;
		}
		default:
			if (!op_ok(op, &p, end, addr_size, &known))
				return -EINVAL;
		}
	}
	return 0;
}

/* Where an FDE's program starts, from its CIE's augmentation; NULL when it cannot be told. */
static const uint8_t *fde_program(const Dwarf_CIE *cie, const Dwarf_FDE *fde, bool eh,
				  int *addr_size)
{
	const uint8_t *p = fde->start, *q = cie->augmentation_data;
	const uint8_t *qend = q ? q + cie->augmentation_data_size : NULL;
	const char *aug = cie->augmentation;
	uint8_t enc = DW_EH_PE_absptr;
	uint64_t len;

	if (!eh) {
		*addr_size = 8;
		return skip(&p, fde->end, 16) ? p : NULL;
	}
	if (!aug || aug[0] != 'z')
		return aug && !aug[0] && skip(&p, fde->end, 16) ? p : NULL;
	for (aug++; *aug; aug++) {
		int n;

		if (*aug == 'S' || *aug == 'B')
			continue;
		if (!q || q >= qend || !strchr("RPL", *aug))
			return NULL;
		if (*aug == 'R')
			enc = *q;
		n = *aug == 'P' ? cfi_enc_size(*q) : 0;
		if (n < 0 || !skip(&q, qend, 1 + n))
			return NULL;
	}
	*addr_size = cfi_enc_size(enc);
	if (*addr_size <= 0 || !skip(&p, fde->end, 2 * *addr_size) || !leb128(&p, fde->end, &len) ||
	    !skip(&p, fde->end, len))
		return NULL;
	return p;
}

static int entry_ok(const unsigned char *ident, Elf_Data *d, bool eh, const Dwarf_CFI_Entry *e)
{
	Dwarf_CFI_Entry cie;
	Dwarf_Off next;
	const uint8_t *prog;
	int addr_size = 8;

	if (dwarf_cfi_cie_p(e))
		return e->cie.return_address_register <= CFI_MAX_REG ?
			       program_ok(e->cie.initial_instructions,
					  e->cie.initial_instructions_end, addr_size) :
			       -EINVAL;
	if (dwarf_next_cfi(ident, d, eh, e->fde.CIE_pointer, &next, &cie) || !dwarf_cfi_cie_p(&cie))
		return -EINVAL;
	prog = fde_program(&cie.cie, &e->fde, eh, &addr_size);
	return prog ? program_ok(prog, e->fde.end, addr_size) : -EINVAL;
}

int cfi_guard_section(Elf *elf, Elf_Data *d, bool eh_frame)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int ret, err;

	if (!ident || !d || !d->d_buf)
		return -EINVAL;
	while (off < d->d_size) {
		ret = dwarf_next_cfi(ident, d, eh_frame, off, &next, &e);
		if (ret > 0)
			break; /* the end (.eh_frame's zero terminator) */
		if (ret < 0 || next <= off)
			return -EINVAL;
		err = entry_ok(ident, d, eh_frame, &e);
		if (err)
			return err;
		off = next;
	}
	return 0;
}
