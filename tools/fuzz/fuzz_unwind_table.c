// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the unwind table builder (`make fuzz`): the input is a whole ELF file,
 * read from memory as the builder would read a mapped object. Whatever it accepts must be a
 * sorted table whose rows name existing rules, and every lookup must land on a row or nothing.
 * The same file goes to the symbolizer's PLT reader: stubs of 8 or 16 bytes with a name.
 */
#include <glib.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/unwind_table.h"
#include "profile/plt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	elf_version(EV_CURRENT);
	return 0;
}

static void check(const struct unwind_table *t, const struct unwind_stats *st)
{
	uint32_t i;

	if (t->nrows != st->rows || t->nrules != st->rules || !t->nrules)
		abort();
	for (i = 0; i < t->nrows; i++) {
		const struct unwind_row *r = &t->rows[i];

		if (r->rule >= t->nrules || (i && r[-1].elf_vaddr >= r->elf_vaddr))
			abort();
		if (unwind_table__find(t, r->elf_vaddr) != r)
			abort();
	}
}

static void check_stub(void *ctx, uint64_t addr, uint64_t size, const char *name)
{
	(void)ctx;
	(void)addr;
	if ((size != 8 && size != 16) || !name || !*name || strlen(name) > (1u << 20))
		abort();
}

/* The symbolizer's function starts: sorted, distinct, bounded. */
static void check_starts(Elf *elf)
{
	uint64_t *starts;
	size_t n, i;

	if (unwind_table__function_starts(elf, &starts, &n))
		return;
	if (n > UNWIND_MAX_FDES)
		abort();
	for (i = 1; i < n; i++)
		if (starts[i] <= starts[i - 1])
			abort();
	g_free(starts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* elf_memory may write to its image (it does not for reading, but takes no const). */
	char *copy = malloc(size ? size : 1);
	struct unwind_table *t = NULL;
	struct unwind_stats st;
	Elf *elf;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	elf = elf_memory(copy, size);
	if (elf && !unwind_table__build(elf, &t, &st))
		check(t, &st);
	if (elf && plt_stubs__read(elf, check_stub, NULL) > (int)PLT_MAX_STUBS)
		abort();
	if (elf)
		check_starts(elf);
	unwind_table__free(t);
	elf_end(elf);
	free(copy);
	return 0;
}
