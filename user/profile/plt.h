/* SPDX-License-Identifier: MIT */
/*
 * PLT stubs: the small jumps a dynamically linked object calls other objects' functions
 * through. They have no symbols of their own; a frame in one is named after the function its
 * GOT slot is relocated to, "puts@plt", as objdump, perf and gdb name it.
 */
#ifndef CONCUR_PLT_H
#define CONCUR_PLT_H

#include <gelf.h>
#include <stdint.h>

/* Bounds on what a hostile ELF file can make us walk: stubs and relocations per object. */
#define PLT_MAX_STUBS  (1u << 20)
#define PLT_MAX_RELOCS (4u << 20)

/*
 * One stub: [addr, addr + size) in the object's ELF virtual addresses, jumping through the
 * GOT slot of the function `name` (a .dynsym name without version, valid during the call).
 */
typedef void (*plt_stub_fn)(void *ctx, uint64_t addr, uint64_t size, const char *name);

/*
 * Calls fn for each stub of elf's .plt, .plt.sec and .plt.got (x86-64 only) whose jump goes
 * through a GOT slot that a R_X86_64_JUMP_SLOT or R_X86_64_GLOB_DAT relocation against a
 * .dynsym symbol fills: the lazy-binding .plt, the IBT layout's .plt.sec (the lazy .plt stubs
 * there push an index and are not named), and .plt.got. Stubs are decoded, not counted: the
 * name comes from the slot each one jumps through (the System V x86-64 psABI, "Procedure
 * Linkage Table"), so an odd layout names nothing rather than the wrong function.
 * Returns the number of stubs named (0: none, e.g. built with -fno-plt or static), -ENOTSUP for
 * another machine or class. A malformed file names fewer stubs, never reads past a
 * section's data.
 */
int plt_stubs__read(Elf *elf, plt_stub_fn fn, void *ctx);

#endif
