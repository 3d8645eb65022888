/* SPDX-License-Identifier: MIT */
/*
 * Strings by pointer (interned names: equal names, equal pointers) -> small numbers, 0, 1, 2...
 * in the order first seen. For code that does something once per distinct name over millions
 * of frames: GHashTable's lookup cost more than the work it saved (an indirect hash call and
 * three arrays per probe); this is one multiply and, nearly always, one cache line.
 */
#ifndef CONCUR_NAME_IDS_H
#define CONCUR_NAME_IDS_H

#include <stddef.h>
#include <stdint.h>

struct name_ids;

/* NULL when out of memory. */
struct name_ids *name_ids__new(void);
void name_ids__free(struct name_ids *t);
/* s's number (s may be NULL: a number like any pointer's), a new one when unseen; -ENOMEM. */
int64_t name_ids__get(struct name_ids *t, const char *s);
/* How many distinct pointers were seen; the one numbered id (id < count). */
uint32_t name_ids__count(const struct name_ids *t);
const char *name_ids__name(const struct name_ids *t, uint32_t id);

#endif
