/* SPDX-License-Identifier: MIT */
/* The recording format's constants and sizes, shared by its writer and its reader. */
#ifndef CONCUR_RECORDING_FORMAT_H
#define CONCUR_RECORDING_FORMAT_H

#include "recording.h"

#define REC_MAGIC     "CONCURREC"
#define REC_MAGIC_LEN 9
#define REC_FORMAT    11
#define REC_MAX_BODY  (1ull << 30)
/* Deflate cannot compress better than 1032:1: a bigger declared body is a lie. */
#define DEFLATE_MAX_RATIO 1032
/* The kernel gives at most CONCUR_STACK_DEPTH user and kernel frames; leave room to grow. */
#define REC_MAX_FRAMES 4096
#define REC_MAX_FILE   (REC_MAX_BODY + (REC_MAX_BODY >> 8) + 4096)

/* The smallest encoding of each record: a count of them must fit in the bytes left. */
#define SZ_STRING 4
#define SZ_ARG	  4
#define SZ_PROC	  (4 + 4 + 8 + 8 + 1 + CONCUR_COMM_LEN + 16 + 4 + 4 + 8 + 4 + 8 + 8)
#define SZ_OTHER  (4 + 8 + 8)
#define SZ_THREAD (4 + 4 + CONCUR_COMM_LEN + 8 + 8 + 1 + 2 * CAT_MAX * 8 + 8 + 8 + 8 + 3 * 8)
#define SZ_STACK  (3 * 4 + 2 * 8 + 4 + 1 + 4 + 1)
#define SZ_FRAME  (8 + 4 + 4 + 1 + 1)
#define SZ_UNWIND (4 + 4 * 8)
#define SZ_FUTEX  (2 * 4 + 3 * 8 + 1)
/* An unwind-stops record with n reasons. */
#define SZ_USTOPS(n) (4 + (size_t)(n)*8 + 8)

/* The uncompressed body into a new profile (recording_read.c); as recording_read_mem(), but
 * the profile is not finished yet: its caller calls profile__finish() once the body is freed
 * (the ranking's keys and the body need not be in memory together). */
int recording_parse_body(const uint8_t *body, size_t len, struct profile **out, char *err,
			 size_t errlen);

/*
 * A tripwire: a field added to a recorded struct must be added to the format too (with
 * REC_FORMAT bumped), or reports rendered from recordings would silently go without it.
 * Only the profile's own records are recorded; the probes' structs never are.
 */
#ifdef __x86_64__
#define RECORDED(type, size) \
	_Static_assert(sizeof(type) == (size), #type " changed: update the recording format")
RECORDED(struct proc, 200);
RECORDED(struct other_sys, 24);
RECORDED(struct profile, 520); /* stats[] is a counted array: new counters need no new format */
RECORDED(struct thread, 264);
RECORDED(struct stack, 64); /* frames_rank is derived (profile__finish), not recorded */
RECORDED(struct frame, 40);
RECORDED(struct unwind_warning, 40);
RECORDED(struct futex_wait, 56);
RECORDED(struct unwind_stops, 72);
RECORDED(struct unwind_tables, 32);
#endif

#endif
