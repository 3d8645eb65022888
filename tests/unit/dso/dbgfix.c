// SPDX-License-Identifier: MIT
/*
 * The subject of the symbolizer's debug-file tests (test_debugsyms.c): a shared object built
 * with a build-id and -fno-toplevel-reorder, so its functions lie in this order: one hidden
 * function before any exported one, the exported one, a hidden one right after it.
 */
__attribute__((noinline)) static int dbgfix_first_hidden(int x)
{
	return x * 7 + 3;
}

__attribute__((noinline)) int dbgfix_exported(int x)
{
	return dbgfix_first_hidden(x) + 1;
}

__attribute__((noinline)) static int dbgfix_after(int x)
{
	return dbgfix_exported(x) * 5;
}

/* 0: dbgfix_first_hidden, 1: dbgfix_exported, 2: dbgfix_after. */
void *dbgfix_addr(int which)
{
	int (*const fns[])(int) = { dbgfix_first_hidden, dbgfix_exported, dbgfix_after };

	return (void *)fns[which];
}
