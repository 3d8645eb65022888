// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the recording reader (`make fuzz`), and for every writer on what it
 * accepts: a recording that loads must render, since `concur report` renders it.
 *
 * The first byte of an input picks what the rest is:
 *   even: a whole .concur file, as read from disk (header, zlib stream, checksums);
 *   odd:  a body only, wrapped here with valid compression and checksums, so that mutations
 *         reach the body's parser instead of stopping at a checksum mismatch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render/out_html.h"
#include "render/out_pprof.h"
#include "render/output.h"
#include "render/recording.h"

static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	return 0;
}

/* As main does: the advice once, then every writer. */
static void render_all(const struct profile *p)
{
	struct advice a;

	if (advise(p, &a))
		return;
	write_json(p, &a, sink);
	write_folded(p, &a, sink);
	write_text(p, &a, sink, false);
	write_text(p, &a, sink, true);
	write_html(p, &a, sink);
	write_pprof(p, &a, sink);
	write_recording(p, &a, sink);
	advice_free(&a);
}

/* The body wrapped as a file: what a writer would have made of it. */
static char *wrap(const uint8_t *body, size_t len, size_t *out_len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, out_len);

	if (!f)
		return NULL;
	if (recording_write_body(body, len, f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	char err[256], *file = NULL;
	size_t len = size - 1;
	const void *in = data + 1;
	int ret;

	if (!size)
		return 0;
	if (data[0] & 1) {
		file = wrap(data + 1, size - 1, &len);
		if (!file)
			return 0;
		in = file;
	}
	ret = recording_read_mem(in, len, &p, err, sizeof(err));
	/* A refusal must say why, on one line; an acceptance must give a profile. */
	if (ret < 0 && (!err[0] || strchr(err, '\n') || p))
		abort();
	if (!ret && !p)
		abort();
	if (!ret)
		render_all(p);
	profile__free(p);
	free(file);
	return 0;
}
