// SPDX-License-Identifier: MIT
/* Maps by process and image generation: exact look-ups, the newest image, replacement. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "profile/mapgens.h"

static int freed;

static void count_free(void *v)
{
	freed++;
	free(v);
}

static int *val(int v)
{
	int *p = malloc(sizeof(*p));

	cr_assert_not_null(p);
	*p = v;
	return p;
}

static int at(const struct mapgens *t, uint32_t pid, uint32_t gen)
{
	const int *v = mapgens__get(t, pid, gen);

	return v ? *v : -1;
}

Test(mapgens, each_image_keeps_its_own_map)
{
	struct mapgens *t = mapgens__new(count_free);

	cr_assert_not_null(t);
	cr_assert_eq(mapgens__put(t, 100, 0, val(10)), 0);
	cr_assert_eq(mapgens__put(t, 100, 1, val(11)), 0);
	cr_assert_eq(mapgens__put(t, 100, 2, val(12)), 0);
	cr_expect_eq(at(t, 100, 0), 10);
	cr_expect_eq(at(t, 100, 1), 11);
	cr_expect_eq(at(t, 100, 2), 12);
	/* An image never read has no map: neither the one before nor the one after stands in. */
	cr_expect_eq(at(t, 100, 3), -1);
	cr_expect_eq(at(t, 101, 0), -1);
	mapgens__free(t);
}

Test(mapgens, a_reread_replaces_that_image_only)
{
	struct mapgens *t = mapgens__new(count_free);

	cr_assert_not_null(t);
	freed = 0;
	mapgens__put(t, 7, 0, val(1));
	mapgens__put(t, 7, 1, val(2));
	mapgens__put(t, 7, 0, val(3)); /* a late read of the first image (dlopen since) */
	cr_expect_eq(freed, 1);
	cr_expect_eq(at(t, 7, 0), 3);
	cr_expect_eq(at(t, 7, 1), 2);
	mapgens__free(t);
	cr_expect_eq(freed, 3);
}

Test(mapgens, newest_image_whatever_the_order_of_reads)
{
	struct mapgens *t = mapgens__new(count_free);
	uint32_t gen = 99;
	const int *v;

	cr_assert_not_null(t);
	cr_expect_null(mapgens__latest(t, 5, &gen));
	cr_expect_eq(gen, 99);
	mapgens__put(t, 5, 2, val(52));
	mapgens__put(t, 5, 0, val(50)); /* read late, of an older image */
	mapgens__put(t, 6, 0, val(60));
	v = mapgens__latest(t, 5, &gen);
	cr_assert_not_null(v);
	cr_expect_eq(*v, 52);
	cr_expect_eq(gen, 2);
	v = mapgens__latest(t, 6, NULL);
	cr_assert_not_null(v);
	cr_expect_eq(*v, 60);
	mapgens__free(t);
}

Test(mapgens, pids_and_generations_do_not_alias)
{
	struct mapgens *t = mapgens__new(count_free);

	cr_assert_not_null(t);
	/* (1, 0) and (0, 1), the largest values too: distinct keys. */
	mapgens__put(t, 1, 0, val(1));
	mapgens__put(t, 0, 1, val(2));
	mapgens__put(t, UINT32_MAX, UINT32_MAX, val(3));
	cr_expect_eq(at(t, 1, 0), 1);
	cr_expect_eq(at(t, 0, 1), 2);
	cr_expect_eq(at(t, UINT32_MAX, UINT32_MAX), 3);
	cr_expect_eq(at(t, UINT32_MAX, 0), -1);
	mapgens__free(t);
}
