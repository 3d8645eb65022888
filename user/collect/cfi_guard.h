/* SPDX-License-Identifier: MIT */
/* CFI that libdw must not run: register numbers out of bounds (cfi_guard.c says why). */
#ifndef CONCUR_CFI_GUARD_H
#define CONCUR_CFI_GUARD_H

#include <elfutils/libdw.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>

/* The largest DWARF register number accepted; x86-64's end below 130 (the psABI, fig. 3.36). */
#define CFI_MAX_REG 255

/* Bytes of a DW_EH_PE_* value of fixed size; 0 for DW_EH_PE_omit, -1 otherwise (LEB128). */
int cfi_enc_size(uint8_t enc);

/*
 * 0 when every CIE and FDE program in d (the raw .eh_frame when eh_frame, else .debug_frame)
 * names registers up to CFI_MAX_REG only; -EINVAL for one that names more, or for entries
 * that cannot be walked (then libdw is not to be trusted with the section either).
 */
int cfi_guard_section(Elf *elf, Elf_Data *d, bool eh_frame);

#endif
