/* SPDX-License-Identifier: MIT */
/*
 * Separate debug files: an object's pointers to its own (its build-id, its .gnu_debuglink)
 * and the lookup the GDB manual describes ("Separate Debug Files").
 */
#ifndef CONCUR_DEBUGINFO_H
#define CONCUR_DEBUGINFO_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GDB's floor (a shorter id names nothing) and a ceiling far above SHA-1's 20 bytes. */
#define BUILD_ID_MIN  2
#define BUILD_ID_MAX  64
#define DEBUGLINK_MAX 255 /* NAME_MAX: it is one file name */

/* What an object says about its debug file; each part empty when absent or refused. */
struct debug_ref {
	uint8_t build_id[BUILD_ID_MAX];
	size_t build_id_len;	      /* 0: none */
	char link[DEBUGLINK_MAX + 1]; /* .gnu_debuglink's file name; "": none */
	uint32_t link_crc;	      /* CRC-32 (zlib's) of the whole debug file */
};

/* Reads the build-id note and .gnu_debuglink of an ELF file; a malformed part stays empty. */
void debug_ref__read(Elf *elf, struct debug_ref *ref);
/* A debuglink name we agree to open: one plain file name ("libc.so.6.debug"), no "/" or "..". */
bool debuglink_name_ok(const char *name);
/* An object's directory we agree to search: absolute, no "." or ".." component. */
bool debug_objdir_ok(const char *dir);
/*
 * Opens ref's debug file, read-only: roots/.build-id/xx/yyyy.debug (its build-id must match),
 * then ref->link in objdir, objdir/.debug/ and roots/objdir/ (its CRC must match). roots is a
 * NULL-terminated list of absolute directories; objdir may be NULL. A file descriptor, or
 * -ENOENT when no candidate is there and matches.
 */
int debug_file__open(const struct debug_ref *ref, const char *const *roots, const char *objdir);

#endif
