// SPDX-License-Identifier: MIT
/* When memory maps are read again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "collect/mapwatch.h"

#define MS 1000000ull

static int reads[8];
static int gone_pid;

static int fake_read(uint32_t pid, void *ctx)
{
	(void)ctx;
	reads[pid]++;
	return (int)pid == gone_pid ? -ENOENT : 0;
}

Test(mapwatch, reads_at_once_then_backs_off)
{
	struct mapwatch w = {};
	uint64_t next;

	memset(reads, 0, sizeof(reads));
	gone_pid = -1;
	mapwatch_add(&w, 1, 0);
	next = mapwatch_run(&w, 0, fake_read, NULL);
	cr_expect_eq(reads[1], 1);
	cr_expect_eq(next, 10 * MS);
	cr_expect_eq(mapwatch_run(&w, 5 * MS, fake_read, NULL), 10 * MS, "not due yet");
	cr_expect_eq(reads[1], 1);
	next = mapwatch_run(&w, 10 * MS, fake_read, NULL);
	cr_expect_eq(reads[1], 2);
	cr_expect_eq(next, 50 * MS);
	mapwatch_free(&w);
}

Test(mapwatch, exec_restarts_the_schedule_and_gone_process_is_dropped)
{
	struct mapwatch w = {};

	memset(reads, 0, sizeof(reads));
	gone_pid = 2;
	mapwatch_add(&w, 1, 0);
	mapwatch_add(&w, 2, 0);
	mapwatch_run(&w, 0, fake_read, NULL);
	cr_expect_eq(w.e->len, 1, "pid 2 is gone");
	mapwatch_run(&w, 10 * MS, fake_read, NULL);
	mapwatch_add(&w, 1, 20 * MS); /* exec'd: a new image */
	cr_expect_eq(w.e->len, 1);
	cr_expect_eq(mapwatch_run(&w, 20 * MS, fake_read, NULL), 30 * MS);
	cr_expect_eq(reads[1], 3);
	mapwatch_free(&w);
}
