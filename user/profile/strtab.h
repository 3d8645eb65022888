/* SPDX-License-Identifier: MIT */
/* Interned strings: one copy of each, stable pointers, freed all at once. */
#ifndef CONCUR_STRTAB_H
#define CONCUR_STRTAB_H

#include <stddef.h>

struct strtab;

struct strtab *strtab__new(void);
void strtab__free(struct strtab *t);
/* The one copy of s; NULL when out of memory. */
const char *strtab__intern(struct strtab *t, const char *s);
size_t strtab__count(const struct strtab *t);

#endif
