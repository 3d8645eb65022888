/* SPDX-License-Identifier: MIT */
/* Interned strings: one copy of each, stable pointers, freed all at once. */
#ifndef CONCUR_STRTAB_H
#define CONCUR_STRTAB_H

struct strtab;

/* Never NULL: GLib aborts when memory runs out. */
struct strtab *strtab__new(void);
void strtab__free(struct strtab *t);
/* The one copy of s; never NULL. */
const char *strtab__intern(struct strtab *t, const char *s);

#endif
