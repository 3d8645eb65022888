/* SPDX-License-Identifier: MIT */
/*
 * Values by process and image generation: the symbolizer's memory maps, one per image a
 * process ran in the window (an exec starts a new generation, struct proc_info's gen). A stack
 * is named with the map of the image it was captured in; what describes the process as it is
 * now (its runtime, its globals) with the newest one.
 */
#ifndef CONCUR_MAPGENS_H
#define CONCUR_MAPGENS_H

#include <stdint.h>

struct mapgens;

/* free_value frees a value when it is replaced or the table freed (NULL: not owned). NULL when
 * out of memory. */
struct mapgens *mapgens__new(void (*free_value)(void *));
void mapgens__free(struct mapgens *t);
/* Keeps value as pid's in image gen, freeing the one it replaces; 0, or -ENOMEM (value not
 * kept, nor freed). */
int mapgens__put(struct mapgens *t, uint32_t pid, uint32_t gen, void *value);
/* pid's value in image gen; NULL when none was kept: another image's is never a stand-in. */
void *mapgens__get(const struct mapgens *t, uint32_t pid, uint32_t gen);
/* pid's value of its newest image kept, its generation in *gen (may be NULL); NULL when none. */
void *mapgens__latest(const struct mapgens *t, uint32_t pid, uint32_t *gen);

#endif
